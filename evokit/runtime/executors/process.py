"""ProcessEvaluator: candidates trained in a pool of worker processes on this machine, forked from
a fork server that has imported TensorFlow once (spawned where there is none: :func:`worker_context`).

The settings every candidate shares reach each worker once, when it starts; each candidate then
goes out alone. A failure of one candidate, a worker process that dies included, comes back as
that candidate's failed Evaluation (the crash-isolation rule: :mod:`evokit.runtime.executors.batch`).
"""
from __future__ import annotations

import collections
import concurrent.futures as cf
import itertools
import logging
import multiprocessing
import os
import queue as queue_module
import sys
import time
from typing import Any, Sequence

from evokit.errors import check_float, check_int
from evokit.evaluation import Evaluation
from evokit.runtime.executors.base import Evaluator, Job, JobSettings, OnResult, largest_first
from evokit.runtime.executors.batch import Batch
from evokit.runtime.training.workers import allow_children, configure_threads, exit_when_orphaned, ignore_interrupts

log = logging.getLogger("evokit.runtime")

_WORKER: dict[str, Any] = {}  # in a worker process: its settings and the queue it reports starts on


def _init_worker(settings: JobSettings, started: Any = None, parent: int | None = None,
                 environment: dict[str, str] | None = None) -> None:
    ignore_interrupts()
    if environment is not None:  # forked from the fork server: the evaluator's environment, not the server's
        os.environ.clear()
        os.environ.update(environment)
        exit_when_orphaned(None)  # the evaluator's process (the fork server is this one's parent)
    elif parent is not None:
        exit_when_orphaned(parent)
    configure_threads(settings.threads)  # imports TensorFlow (unless preloaded): a worker's start-up
    _WORKER.update(settings=settings, started=started)


def _train_in_worker(token: int, job: Job) -> Evaluation:
    if _WORKER["started"] is not None:
        _WORKER["started"].put(token)  # the parent's timeout clock for this candidate starts now
    return job.run(_WORKER["settings"])


START_METHOD_ENV = "EVOKIT_START_METHOD"
"""Set to ``spawn`` to start ProcessEvaluator's workers as fresh interpreters that import everything
themselves, instead of forking them from a fork server (see :func:`worker_context`)."""

_SERVER_BACKEND: list[str] = []  # the KERAS_BACKEND this process's fork server was started with


def worker_context() -> Any:
    """The multiprocessing context workers start in: a fork server that has imported TensorFlow,
    Keras and the training modules once (:mod:`evokit.runtime.executors.preload`), where the
    platform has one (Linux); ``spawn`` elsewhere, with ``EVOKIT_START_METHOD=spawn``, or
    when ``KERAS_BACKEND`` changed since the fork server started (it imported the old backend).

    Each spawned worker imports TensorFlow itself: measured on the development machine (2 shared
    cores), that is most of a short search's start-up, and again for every replaced worker. A
    forked worker starts with it imported. The fork server is Python's, one per process and
    started at the first worker's start: its list of modules to import is set here, so code of
    the user's that uses ``forkserver`` too gets TensorFlow imported in its server as well. The
    server keeps the environment it started with; each worker is handed the evaluator's current
    one when it starts.
    """
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    usable = (sys.platform.startswith("linux") and "forkserver" in multiprocessing.get_all_start_methods()
              and os.environ.get(START_METHOD_ENV) != "spawn")
    if not usable or _SERVER_BACKEND[:1] not in ([], [backend]):
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    if not _SERVER_BACKEND:
        from multiprocessing import forkserver

        preload = list(getattr(getattr(forkserver, "_forkserver", None), "_preload_modules", ()))
        context.set_forkserver_preload([*preload, "evokit.runtime.executors.preload"])  # the user's kept
        _SERVER_BACKEND.append(backend)
    return context


class ProcessEvaluator(Evaluator):
    """Trains candidates in ``workers`` worker processes, one TensorFlow thread each, forked from
    a fork server that imported TensorFlow once (spawned where there is none: :func:`worker_context`).

    A process that builds Keras models still grows a little per new model (~1.2 MB per DeepGA
    network measured here, since the trainer stopped TensorFlow's gradient registry from keeping
    every traced step; a reused trace-once graph adds almost nothing), and only a new process
    gives it back. So workers are replaced, as a bound: all of them, between candidates, once one
    that has trained before reports a resident memory over ``memory_limit_gb`` (None: no
    limit; a fresh worker already over it is warned about, not replaced), and each after
    ``max_tasks_per_child`` candidates in any case. A replacement costs a start-up: a fork
    (a spawned worker imports TensorFlow again, ~4 s here). With growth this small the count is what usually triggers it;
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
        self._reset()

    def _reset(self) -> None:
        self._pool: cf.ProcessPoolExecutor | None = None
        self._started: Any = None  # the queue workers report candidates' starts on (with a timeout)
        self._started_at: dict[int, float] = {}  # token -> when its worker started it
        self._tokens = itertools.count()
        self._trained_by: collections.Counter = collections.Counter()  # worker pid -> candidates it trained
        self._replace = False  # a worker is over the memory limit: replace the pool once it is idle
        self._warned = False

    def _settings_changed(self) -> None:
        self.close()  # workers hold the settings they were started with

    def _ensure_pool(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            context = worker_context()
            forked = context.get_start_method() == "forkserver"
            self._started = context.Queue() if self.timeout is not None else None
            allow_children()
            self._pool = cf.ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_init_worker,
                initargs=(self.job, self._started, os.getpid(), dict(os.environ) if forked else None),
                max_tasks_per_child=self.max_tasks_per_child)
        return self._pool

    def train(self, jobs: Sequence[Job], on_result: OnResult | None = None) -> list[Evaluation]:
        batch = Batch(jobs, on_result, largest_first(jobs, self.job.config.epochs))
        while batch.queue or batch.running:
            if self._replace and not batch.running:
                log.debug("replacing the worker processes: one reached the %g GB memory limit", self.memory_limit_gb)
                self.close()
            self._submit(batch)
            done, _ = cf.wait(batch.running, timeout=batch.timeout_wait(self._started_at.get, self.timeout),
                              return_when=cf.FIRST_COMPLETED)
            self._read_starts(batch)
            lost = self._collect(batch, done)
            overdue = self._stop_overdue(batch)
            if overdue or lost:
                lost += batch.drop_running()
                self._kill()
                if overdue:
                    batch.run_again(lost)  # innocent: lost with the worker we killed
                else:
                    batch.died(lost, "the worker process")
        return batch.evaluations()

    def _submit(self, batch: Batch) -> None:
        """Send jobs while a worker is free (none while the pool waits to be replaced)."""
        while len(batch.running) < self.workers and not self._replace:
            i = batch.next_job()
            if i is None:
                return
            token = next(self._tokens)
            batch.start(self._ensure_pool().submit(_train_in_worker, token, batch.jobs[i]), i, token)

    def _read_starts(self, batch: Batch) -> None:
        """Record when workers reported starting the batch's running candidates."""
        running = {token for _, token in batch.running.values()}
        while self._started is not None:
            try:
                token = self._started.get_nowait()
            except queue_module.Empty:
                return
            if token in running:
                self._started_at[token] = time.monotonic()

    def _collect(self, batch: Batch, done: set[cf.Future]) -> list[int]:
        """Finish the jobs of the ``done`` futures; returns those lost with a broken pool."""
        lost: list[int] = []
        for future in done:
            i, token = batch.running.pop(future)
            self._started_at.pop(token, None)
            try:
                evaluation = future.result()
            except cf.process.BrokenProcessPool:
                lost.append(i)
            except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result: outside the training
                batch.fault(i, exc)
            else:
                self._watch_memory(evaluation)
                batch.finish(i, evaluation)
        return lost

    def _stop_overdue(self, batch: Batch) -> bool:
        """Fail the candidates running past the timeout; True if any (their workers must go)."""
        overdue = batch.overdue(self._started_at.get, self.timeout)
        for future, elapsed in overdue:
            batch.time_out(future, self.timeout, elapsed)  # type: ignore[arg-type]
        return bool(overdue)

    def _watch_memory(self, evaluation: Evaluation) -> None:
        """Count each worker's candidates; once one that has trained before is over the memory
        limit, have the pool replaced when it is next idle."""
        memory, pid = evaluation.extra.get("memory_gb"), evaluation.extra.get("pid")
        if pid is not None:
            self._trained_by[pid] += 1
        if self.memory_limit_gb is None or memory is None or memory <= self.memory_limit_gb:
            return
        if self._trained_by[pid] > 1:  # a fresh worker over the limit gains nothing by replacement
            self._replace = True
        elif not self._warned:
            self._warned = True
            log.warning("a fresh worker process already uses %.2f GB, over memory_limit_gb=%g: it is replaced "
                        "after its second candidate; raise the limit", memory, self.memory_limit_gb)

    def _kill(self) -> None:
        """Stop the pool now, killing its workers (a hung or crashed pool can't be shut down politely)."""
        if self._pool is not None:
            for process in list(getattr(self._pool, "_processes", {}).values()):  # no public API for this
                process.kill()
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._started_at.clear()
        self._replace = False

    def __repr__(self) -> str:
        return (f"ProcessEvaluator(workers={self.workers}, max_tasks_per_child={self.max_tasks_per_child}, "
                f"timeout={self.timeout}, memory_limit_gb={self.memory_limit_gb})")
