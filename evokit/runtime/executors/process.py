"""Evaluators: where candidates are trained (this process, or a pool of worker processes).

An evaluator is started once with the job every candidate shares (the data and the training
settings: sent to each worker once, not with every candidate), then trains lists of
``(NetSpec, seed)`` tasks and returns their Evaluations in order. A failure of one candidate,
including a worker process that dies, comes back as that candidate's failed Evaluation.
"""
from __future__ import annotations

import dataclasses

import collections
import concurrent.futures as cf
import itertools
import logging
import multiprocessing
import os
import queue as queue_module
import signal
import sys
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from evokit.errors import ConfigError, check_float, check_int
from evokit.evaluation import Evaluation, TrainingConfig, failure
from evokit.fitness.probes import Probe
from evokit.netspec import NetSpec

log = logging.getLogger("evokit.runtime")


@dataclass(frozen=True)
class Task:
    """One candidate to train: its network, its seed, and optionally the weights it starts from
    (``fit=False``: scored with those weights as they are, without training) and a number of
    epochs other than the search's (a rung of successive halving: the workers keep their job)."""

    spec: NetSpec
    seed: int
    weights: list[Any] | None = None
    fit: bool = True
    epochs: int | None = None

    def run(self, data: Any, config: TrainingConfig, keep_weights: bool, probes: Sequence[Any]) -> Evaluation:
        """Train this candidate under the job's settings, wherever the evaluator runs it."""
        from evokit.runtime.training.trainer import train  # imports TensorFlow: only where training happens

        if self.epochs is not None and self.epochs != config.epochs:
            config = dataclasses.replace(config, epochs=self.epochs)
        return train(self.spec, data, config, self.seed, keep_weights, probes, weights=self.weights, fit=self.fit)

    def cost(self, default_epochs: int) -> int:
        """A rough size of this task's work, to send the largest first: forward FLOPs per sample
        times epochs (a task that only scores counts one)."""
        epochs = (self.epochs or default_epochs) if self.fit else 1
        return self.spec.flops * max(1, epochs)


def largest_first(tasks: Sequence[Task], default_epochs: int) -> collections.deque[int]:
    """Task indices in the order a pool should start them: the largest first, so that a batch
    does not end on a big network while the other workers idle (ties keep their order)."""
    return collections.deque(sorted(range(len(tasks)), key=lambda i: -tasks[i].cost(default_epochs)))


OnResult = Callable[[int, Evaluation], None]


class Evaluator(ABC):
    """Trains candidates. Use as a context manager, or call ``start`` and ``close``."""

    def start(self, data: Any, config: TrainingConfig, keep_weights: bool = True,
              probes: Sequence[Probe] = ()) -> "Evaluator":
        """Set the job every candidate shares: data, training settings, weights kept, probes."""
        self.data, self.config, self.keep_weights, self.probes = data, config, keep_weights, tuple(probes)
        return self

    @abstractmethod
    def train(self, tasks: Sequence[Task], on_result: OnResult | None = None) -> list[Evaluation]:
        """Train every task; the result list is in the order of ``tasks``. ``on_result(i,
        evaluation)`` is called as each one finishes (so it can be saved at once)."""

    def close(self) -> None:
        """Release workers; the evaluator may be started again."""

    def __enter__(self) -> "Evaluator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class SerialEvaluator(Evaluator):
    """Trains candidates one after another in this process."""

    def train(self, tasks: Sequence[Task], on_result: OnResult | None = None) -> list[Evaluation]:
        results = []
        for i, task in enumerate(tasks):
            results.append(task.run(self.data, self.config, self.keep_weights, self.probes))
            if on_result is not None:
                on_result(i, results[-1])
        return results

    def __repr__(self) -> str:
        return "SerialEvaluator()"


_WORKER_JOB: dict[str, Any] = {}


ORPHAN_CHECK_SECONDS = 1.0
"""How often a worker process looks whether the process that started it is still there."""


def _exit_when_orphaned(parent: int) -> None:
    """End this worker once its parent is gone. A pool's worker waits on a queue whose writing
    end it holds itself, so a parent killed outright (``kill -9``, a Dask worker ended by its
    nanny) would leave it waiting, and holding its memory, for good."""
    while True:
        time.sleep(ORPHAN_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(0)


def _init_worker(data: Any, config: TrainingConfig, keep_weights: bool, probes: tuple, threads: int,
                 started: Any = None, parent: int | None = None) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the main process decides what it means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        threading.Thread(target=_exit_when_orphaned, args=(parent,), name="evokit-orphan-check", daemon=True).start()
    from evokit.runtime.executors.map import configure_threads

    configure_threads(threads)
    _WORKER_JOB.update(data=data, config=config, keep_weights=keep_weights, probes=probes, started=started)


def _train_in_worker(token: int, task: Task) -> Evaluation:
    job = _WORKER_JOB
    if job["started"] is not None:
        job["started"].put(token)  # the parent's timeout clock for this candidate starts now
    return task.run(job["data"], job["config"], job["keep_weights"], job["probes"])


def _allow_children() -> None:
    """Let this process start workers even if it is a daemonic one (a Dask worker is, by default).

    multiprocessing refuses children to daemonic processes because a daemon is ended without
    notice and its children would be orphaned; evokit's workers end themselves when their parent
    is gone (``_exit_when_orphaned``), which is what the rule protects.
    """
    config = getattr(multiprocessing.current_process(), "_config", None)  # where the flag lives (no public setter)
    if isinstance(config, dict) and config.get("daemon"):
        config["daemon"] = False


class ProcessEvaluator(Evaluator):
    """Trains candidates in ``workers`` spawned processes, one TensorFlow thread each.

    A process that builds Keras models still grows a little per new model (~1.2 MB per DeepGA
    network measured here, since the trainer stopped TensorFlow's gradient registry from keeping
    every traced step; a reused trace-once graph adds almost nothing), and only a new process
    gives it back. So workers are replaced, as a bound: all of them, between candidates, once one
    that has trained before reports a resident memory over ``memory_limit_gb`` (None: no
    limit; a fresh worker already over it is warned about, not replaced), and each after
    ``max_tasks_per_child`` candidates in any case. A replacement costs a start-up (~4 s of
    importing TensorFlow here). With growth this small the count is what usually triggers it;
    the memory limit catches networks that grow a worker faster.

    A candidate still running ``timeout`` seconds after its worker started it (a worker's own
    start-up is not counted) fails with reason ``"timeout"``: its worker is killed, and
    candidates lost with it are run again. If a worker dies on its own, the
    candidates it may have been running are run again one at a time: the one that kills its
    worker alone fails with reason ``"worker_died"``; the run goes on either way.
    """

    def __init__(self, workers: int = 2, max_tasks_per_child: int = 100, threads_per_worker: int = 1,
                 timeout: float | None = None, memory_limit_gb: float | None = 1.5):
        self.workers = check_int("workers", workers, minimum=1)
        self.max_tasks_per_child = check_int("max_tasks_per_child", max_tasks_per_child, minimum=1)
        self.memory_limit_gb = None if memory_limit_gb is None else check_float(
            "memory_limit_gb", memory_limit_gb, minimum=0.0, exclusive_minimum=True)
        self.threads_per_worker = check_int("threads_per_worker", threads_per_worker, minimum=1)
        self.timeout = None if timeout is None else check_float("timeout", timeout, minimum=0.0,
                                                                  exclusive_minimum=True)
        self._pool: cf.ProcessPoolExecutor | None = None
        self._started: Any = None
        self._tokens = itertools.count()
        self._trained_by: collections.Counter = collections.Counter()  # worker pid -> candidates it trained
        self._warned = False

    def _ensure_pool(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._started = context.Queue() if self.timeout is not None else None
            _allow_children()
            self._pool = cf.ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_init_worker,
                initargs=(self.data, self.config, self.keep_weights, self.probes, self.threads_per_worker,
                          self._started, os.getpid()),
                max_tasks_per_child=self.max_tasks_per_child)
        return self._pool

    def _start_times(self, tokens: dict[int, float | None]) -> None:
        """Record when workers reported starting their candidates."""
        while self._started is not None:
            try:
                token = self._started.get_nowait()
            except queue_module.Empty:
                return
            if token in tokens:
                tokens[token] = time.monotonic()

    def train(self, tasks: Sequence[Task], on_result: OnResult | None = None) -> list[Evaluation]:
        results: list[Evaluation | None] = [None] * len(tasks)
        queue = largest_first(tasks, self.config.epochs)
        suspects: set[int] = set()
        in_flight: dict[cf.Future, tuple[int, int]] = {}
        started: dict[int, float | None] = {}
        replace = False  # a worker is over the memory limit: replace the pool once it is idle

        def finish(i: int, evaluation: Evaluation) -> None:
            nonlocal replace
            results[i] = evaluation
            memory, pid = evaluation.extra.get("memory_gb"), evaluation.extra.get("pid")
            if pid is not None:
                self._trained_by[pid] += 1
            if self.memory_limit_gb is not None and memory is not None and memory > self.memory_limit_gb:
                if self._trained_by[pid] > 1:  # a fresh worker over the limit gains nothing by replacement
                    replace = True
                elif not self._warned:
                    self._warned = True
                    log.warning("a fresh worker process already uses %.2f GB, over memory_limit_gb=%g: it is "
                                "replaced after its second candidate; raise the limit", memory,
                                self.memory_limit_gb)
            if on_result is not None:
                on_result(i, evaluation)

        while queue or in_flight:
            if replace and not in_flight:
                log.debug("replacing the worker processes: one reached the %g GB memory limit", self.memory_limit_gb)
                self.close()
                replace = False
            while queue and len(in_flight) < self.workers and not replace:
                alone = queue[0] in suspects or any(j in suspects for j, _ in in_flight.values())
                if alone and in_flight:
                    break  # a suspect runs alone, so that a crash names it
                i = queue.popleft()
                token = next(self._tokens)
                started[token] = None
                in_flight[self._ensure_pool().submit(_train_in_worker, token, tasks[i])] = (i, token)
            done, _ = cf.wait(in_flight, timeout=self._wait_time(in_flight, started), return_when=cf.FIRST_COMPLETED)
            self._start_times(started)
            lost: list[int] = []
            for future in done:
                i, _ = in_flight.pop(future)
                try:
                    finish(i, future.result())
                except cf.process.BrokenProcessPool:
                    lost.append(i)
                except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result fails that candidate
                    finish(i, failure(tasks[i].spec, "exception", f"{type(exc).__name__}: {exc}"))
            now = time.monotonic()
            overdue = [f for f, (_, token) in in_flight.items() if self.timeout is not None
                       and started[token] is not None and now - started[token] > self.timeout]
            for future in overdue:
                i, token = in_flight.pop(future)
                finish(i, failure(tasks[i].spec, "timeout", f"still running after {self.timeout:g} s",
                                  now - started[token]))
            if overdue or lost:
                lost += [i for i, _ in in_flight.values()]
                in_flight.clear()
                self._kill()
                if overdue:
                    queue.extendleft(reversed(lost))  # innocent: lost with the worker we killed
                elif len(lost) == 1:  # it was the only candidate running: it killed its worker
                    finish(lost[0], failure(tasks[lost[0]].spec, "worker_died",
                                            "the worker process died while training this candidate"))
                else:
                    suspects.update(lost)
                    queue.extendleft(reversed(lost))
        return results  # type: ignore[return-value]

    def _wait_time(self, in_flight: dict[cf.Future, tuple[int, int]], started: dict[int, float | None]) -> float | None:
        if self.timeout is None or not in_flight:
            return None
        times = [started[token] for _, token in in_flight.values()]
        if any(t is None for t in times):
            return 0.25  # some candidate has not started yet: look again soon
        return max(0.05, min(times) + self.timeout - time.monotonic())  # type: ignore[type-var]

    def _kill(self) -> None:
        """Stop the pool now, killing its workers (a hung or crashed pool can't be shut down politely)."""
        if self._pool is not None:
            for process in list(getattr(self._pool, "_processes", {}).values()):  # no public API for this
                process.kill()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __repr__(self) -> str:
        return (f"ProcessEvaluator(workers={self.workers}, max_tasks_per_child={self.max_tasks_per_child}, "
                f"timeout={self.timeout}, memory_limit_gb={self.memory_limit_gb})")


def make_evaluator(workers: Any) -> Evaluator:
    """An evaluator from a ``workers`` argument (``Search(workers=...)``, ``evokit.resume``):

    * an Evaluator: used as is;
    * None or 1: train in this process (SerialEvaluator); N >= 2: N worker processes
      (ProcessEvaluator);
    * ``"dask"``: a DaskEvaluator on a LocalCluster of its own (2 worker processes);
    * a scheduler address such as ``"tcp://host:8786"``: a DaskEvaluator connected to it;
    * a ``distributed.Client``: a DaskEvaluator using it (left open at the end);
    * any other callable: a DEAP-style ``map`` (builtin ``map``, ``Pool.map``,
      ``scoop.futures.map``, ...) run by a MapEvaluator.
    """
    if isinstance(workers, Evaluator):
        return workers
    if workers is None:
        return SerialEvaluator()
    allowed = ("expected 1 (this process), N >= 2 (worker processes), an Evaluator, 'dask', a Dask scheduler "
               "address ('tcp://host:8786'), a distributed.Client or a map function")
    if isinstance(workers, str):
        if workers != "dask" and "://" not in workers:
            raise ConfigError(f"workers={workers!r} is invalid: {allowed}")
        from evokit.runtime.executors.dask import DaskEvaluator

        return DaskEvaluator() if workers == "dask" else DaskEvaluator(address=workers)
    distributed = sys.modules.get("distributed")  # a Client exists only if its module is imported
    if distributed is not None and isinstance(workers, distributed.Client):
        from evokit.runtime.executors.dask import DaskEvaluator

        return DaskEvaluator(client=workers)
    if callable(workers) and not (isinstance(workers, type) and issubclass(workers, Evaluator)):
        from evokit.runtime.executors.map import MapEvaluator

        return MapEvaluator(workers)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ConfigError(f"workers={workers!r} is invalid: {allowed}")
    return SerialEvaluator() if workers == 1 else ProcessEvaluator(workers)
