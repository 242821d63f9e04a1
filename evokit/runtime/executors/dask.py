"""DaskEvaluator: train candidates on a Dask cluster, on one machine or many.

The path for searches that outgrow one machine: the same search runs on a ``LocalCluster``
(the default), on a cluster whose scheduler address you give, or through a
``distributed.Client`` you already have. Candidates go out as Dask tasks and their Evaluations
come back as they complete; the failure rules are those of the process pool (one failed
candidate never ends the run; the crash-isolation rule is :mod:`evokit.runtime.executors.batch`).

Needs ``pip install 'evokit[dask]'``; scripts that start a LocalCluster need an
``if __name__ == "__main__":`` guard (its workers are spawned processes).
"""
from __future__ import annotations

import collections
import os
import queue as queue_module
import sys
import time
import uuid
import warnings
from typing import Any, Sequence

from evokit.errors import ConfigError, check_float, check_int
from evokit.evaluation import Evaluation
from evokit.runtime.executors.base import Evaluator, Job, OnResult, largest_first
from evokit.runtime.executors.batch import Batch
from evokit.runtime.executors.dask_worker import exit_process, job_plugin_class, train_on_worker

SETTLE_SECONDS = 0.3
"""How long to gather the candidates lost with one worker before judging them (the scheduler
reports them all at once; this only absorbs message delays)."""

MAX_CANCELLATIONS = 3
"""A candidate the cluster itself cancels (e.g. a restarted scheduler) is sent again this often."""

LOOPBACK = "127.0.0.1"

LOCAL_CLUSTER_DEFAULTS = {"host": LOOPBACK, "dashboard_address": f"{LOOPBACK}:0"}
"""Where a LocalCluster started by a DaskEvaluator listens (``cluster_kwargs`` overrides them):
loopback only. Dask's ``dashboard_address=":0"`` binds every interface (0.0.0.0), whatever
``host`` says, and the dashboard has no authentication."""


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("DaskEvaluator needs dask.distributed: pip install 'evokit[dask]'") from exc
    return distributed


class DaskEvaluator(Evaluator):
    """Trains candidates as tasks on a Dask cluster.

    Args:
        client: a ``distributed.Client`` to use; it is left open by ``close``.
        address: a scheduler address (``"tcp://host:8786"``) to connect to; the client made for
            it is closed by ``close``, the cluster is left running.
        n_workers: with neither client nor address, the worker processes of the
            ``LocalCluster(processes=True)`` this evaluator starts (and closes in ``close``).
        threads_per_worker: TensorFlow threads of each process that trains, set once per
            process before its first candidate. A worker trains one candidate at a time (Keras's
            seed and session belong to the process), so a started LocalCluster has one Dask
            thread per worker; on a cluster of your own, run one worker process per
            ``threads_per_worker`` cores for full use.
        timeout: seconds a candidate may train (counted from when it starts training); after
            that it fails with reason ``"timeout"`` and the process training it is ended: the
            worker's trainer process (the worker carries on), or, with
            ``trainer_processes=False``, the worker process itself (a running thread cannot be
            stopped), which then needs a nanny (the default for ``dask worker`` and
            LocalCluster) to be replaced.
        max_tasks_per_worker: the process that trains is replaced after this many candidates,
            because a process that builds Keras models grows a little per model for good (~1.2
            MB measured here): the trainer process, or with ``trainer_processes=False`` the
            worker (restarted by its nanny); None: never. Applies to a cluster of your own too.
        memory_limit_gb: a trainer process that has trained before and reports a resident memory
            over this many GB is replaced between candidates (None: no limit). Dask's own memory
            limits watch the worker process only, not its trainer process. Ignored with
            ``trainer_processes=False``.
        trainer_processes: each worker trains in a process of its own that it starts (one
            ProcessEvaluator process per worker), not in its own task thread. Training then runs
            in a main thread of its own, away from the worker's event loop: 0-6% (median 4%)
            more networks per minute side by side on 2 cores, for ~70 MB more per worker. A
            timeout, a crash or a recycle ends only that process; the worker, its connection
            and its copy of the data stay. False trains in the worker's thread, for workers
            that may not start processes.
        cluster_kwargs: more keyword arguments for the ``LocalCluster`` (e.g. ``memory_limit``).
            The LocalCluster started here listens on loopback only (``LOCAL_CLUSTER_DEFAULTS``):
            its scheduler and workers on 127.0.0.1, and its dashboard, which has no
            authentication (worker pages, call stacks, the cluster's identity), on 127.0.0.1 at a
            free port (``connect().dashboard_link``). To reach the dashboard from other machines,
            say so here, on a network you trust: ``{"dashboard_address": "0.0.0.0:8787"}``
            (``"host"`` does the same for the scheduler and workers).

    The job every candidate shares (data, training settings, probes) reaches each worker once,
    as a worker plugin. A candidate that kills the process it trains in fails with reason
    ``"worker_died"``, alone; when a whole worker dies, a LocalCluster started here fails its
    candidate at the first death (Dask's ``allowed-failures`` set to 0), a cluster of your own
    retries it on other workers first, as its ``allowed-failures`` setting says (default 3), and
    when several candidates were lost with one worker, each is run again alone, so that only the
    one that kills its worker fails (as in ProcessEvaluator). Exceptions and NaN losses fail
    their candidate alone; a task that raises or a result that cannot be unpickled here is a
    fault outside the training (reason ``"evaluator_error"``, not cached), as is a candidate the
    cluster cancelled more than ``MAX_CANCELLATIONS`` times; the run goes on in every case. The
    workers of a LocalCluster started here, and every trainer process, ignore Ctrl-C (the search
    decides what it means). With
    ``trainer_processes=False`` and without ``max_tasks_per_worker``, a growing worker would
    reach Dask's memory limits, where it pauses (80%) or is killed (95%).

    The trained networks are identical to the serial evaluator's for the same seed: each
    candidate is built and trained under its own seed, with seeded initializers.
    """

    def __init__(self, client: Any = None, address: str | None = None, n_workers: int = 2,
                 threads_per_worker: int = 1, timeout: float | None = None,
                 max_tasks_per_worker: int | None = 100, memory_limit_gb: float | None = 1.5,
                 trainer_processes: bool = True, cluster_kwargs: dict[str, Any] | None = None):
        distributed = _distributed()
        if client is not None and not isinstance(client, distributed.Client):
            raise ConfigError(f"client={client!r} is invalid: expected a distributed.Client or None")
        if address is not None and (not isinstance(address, str) or "://" not in address):
            raise ConfigError(f"address={address!r} is invalid: expected a scheduler address such as "
                              "'tcp://host:8786', or None")
        if client is not None and address is not None:
            raise ConfigError(f"address={address!r} is invalid together with a client: give one of them")
        if cluster_kwargs is not None and not isinstance(cluster_kwargs, dict):
            raise ConfigError(f"cluster_kwargs={cluster_kwargs!r} is invalid: expected a dict of LocalCluster "
                              "keyword arguments, or None")
        self.client = client
        self.address = address
        self.n_workers = check_int("n_workers", n_workers, minimum=1)
        self.threads_per_worker = check_int("threads_per_worker", threads_per_worker, minimum=1)
        self.timeout = None if timeout is None else check_float("timeout", timeout, minimum=0.0,
                                                                  exclusive_minimum=True)
        self.max_tasks_per_worker = (None if max_tasks_per_worker is None
                                     else check_int("max_tasks_per_worker", max_tasks_per_worker, minimum=1))
        self.memory_limit_gb = None if memory_limit_gb is None else check_float(
            "memory_limit_gb", memory_limit_gb, minimum=0.0, exclusive_minimum=True)
        if not isinstance(trainer_processes, bool):
            raise ConfigError(f"trainer_processes={trainer_processes!r} is invalid: expected true or false")
        self.trainer_processes = trainer_processes
        self.cluster_kwargs = cluster_kwargs
        self._reset()

    def _reset(self) -> None:
        self._client: Any = None
        self._cluster: Any = None
        self._plugin: str | None = None
        self._topic: str | None = None
        self._started: dict[int, tuple[float, str, int]] = {}  # token -> (when, worker address, pid)
        self._killed: set[str] = set()  # workers ended on purpose: candidates lost with them are innocent
        self._trained_on: collections.Counter = collections.Counter()  # worker address -> candidates started
        self._next_token = 0

    def connect(self) -> Any:
        """The ``distributed.Client`` candidates go through, connecting or starting the cluster
        on first use (``connect().dashboard_link`` is the cluster's dashboard)."""
        if self._client is not None:
            return self._client
        distributed = _distributed()
        if self.client is not None:
            client = self.client
        elif self.address is not None:
            client = distributed.Client(self.address, set_as_default=False)
        else:
            import dask

            # no statistical profiler: sampling the worker's stack every 10 ms while it traces
            # Python-heavy Keras code takes the GIL from the candidate it profiles; the event-loop
            # health tick and the dashboard's system monitor wake every process less often
            with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                                  "distributed.worker.profile.enabled": False,
                                  "distributed.admin.tick.interval": "1s",
                                  "distributed.admin.system-monitor.interval": "5s"}):
                self._cluster = distributed.LocalCluster(n_workers=self.n_workers, threads_per_worker=1,
                                                         processes=True, **self._cluster_options())
            client = distributed.Client(self._cluster, set_as_default=False)
        self._client = client
        self._topic = f"evokit-started-{uuid.uuid4().hex[:12]}"
        client.subscribe_topic(self._topic, self._on_started)
        return client

    def _cluster_options(self) -> dict[str, Any]:
        """The LocalCluster's keyword arguments besides its workers: loopback addresses, then
        ``cluster_kwargs`` (which may expose them; an ``interface`` of theirs replaces ``host``)."""
        given = self.cluster_kwargs or {}
        defaults = {k: v for k, v in LOCAL_CLUSTER_DEFAULTS.items() if not (k == "host" and "interface" in given)}
        return {**defaults, **given}

    def _on_started(self, event: tuple[float, dict[str, Any]]) -> None:
        """A worker began a candidate (called in the client's event-loop thread)."""
        msg = event[1]
        self._started[msg["token"]] = (time.monotonic(), msg["worker"], msg["pid"])

    def _settings_changed(self) -> None:
        self._drop_job()  # the workers' plugin holds the old settings

    def _drop_job(self) -> None:
        if self._plugin is not None and self._client is not None:
            try:
                self._client.unregister_worker_plugin(self._plugin)
            except Exception:  # noqa: BLE001 - a gone cluster has nothing left to free
                pass
        self._plugin = None

    def train(self, jobs: Sequence[Job], on_result: OnResult | None = None) -> list[Evaluation]:
        client = self.connect()
        self._install_job(client)
        batch = _DaskBatch(jobs, on_result, largest_first(jobs, self.job.config.epochs))
        try:
            while batch.queue or batch.running or batch.lost:
                self._submit(client, batch)
                for future in batch.finished(self._wait_time(batch)):
                    self._collect(batch, future)
                self._judge_losses(batch)
                self._stop_overdue(client, batch)
                self._recycle(client, batch)
        except BaseException:
            if batch.running:
                client.cancel(list(batch.running))  # interrupted: leave nothing running for this batch
            raise
        return batch.evaluations()

    def _install_job(self, client: Any) -> None:
        """Install the settings of ``start`` on every worker (once per start), as a worker plugin."""
        if self._plugin is None:
            name = f"evokit-job-{uuid.uuid4().hex[:12]}"
            client.register_plugin(job_plugin_class()(self.job, self._cluster is not None, self._trainer_settings()),
                                   name=name)
            self._plugin = name

    def _trainer_settings(self) -> dict[str, Any] | None:
        """How each worker's trainer process is run (None: train in the worker's thread)."""
        if not self.trainer_processes:
            return None
        return {"timeout": self.timeout, "memory_limit_gb": self.memory_limit_gb,
                "max_tasks_per_child": self.max_tasks_per_worker or sys.maxsize}

    def _submit(self, client: Any, batch: "_DaskBatch") -> None:
        """Send candidates while a worker is free, and one more per worker while the batch has
        more left than workers, so that a worker starts its next candidate without waiting for a
        round trip through this client (timeouts count from a candidate's start on its worker;
        suspects run alone). The last candidates of a batch wait here for a free worker, not
        behind another's."""
        if not batch.queue:
            return
        workers = max(1, len(client.nthreads()))
        while len(batch.running) < workers or (len(batch.queue) > workers and len(batch.running) < 2 * workers):
            i = batch.next_job()
            if i is None:
                return
            token = self._next_token
            self._next_token += 1
            topic = None if self.trainer_processes else self._topic  # the trainer keeps its own clock
            future = client.submit(train_on_worker, self._plugin, token, batch.jobs[i], topic,
                                   key=f"evokit-train-{self._topic[-12:]}-{token}")  # type: ignore[index]
            batch.start(future, i, token)
            future.add_done_callback(batch.done.put)

    def _collect(self, batch: "_DaskBatch", future: Any) -> None:
        """Finish the job of a finished ``future``: its result, its failure, a loss with its
        worker (judged later) or, cancelled by the cluster (e.g. a restarted scheduler), sent again."""
        from distributed.scheduler import KilledWorker

        if future not in batch.running:
            return  # cancelled here after its timeout
        i, token = batch.running.pop(future)
        start = self._started.pop(token, None)
        if start is not None:
            self._trained_on[start[1]] += 1
        if future.status == "finished":
            try:
                evaluation = future.result()
            except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be unpickled here
                batch.fault(i, exc)
            else:
                batch.finish(i, evaluation)
        elif future.status == "error":
            exc = future.exception()
            if isinstance(exc, KilledWorker):
                address = getattr(exc.last_worker, "address", str(exc.last_worker))
                batch.lost.setdefault(address, (time.monotonic(), []))[1].append(i)
            else:  # the task raised: train_on_worker never does for the network's own errors
                batch.fault(i, exc)
        else:
            batch.cancellations[i] += 1
            if batch.cancellations[i] > MAX_CANCELLATIONS:
                batch.fail(i, "evaluator_error", f"the cluster cancelled this candidate {batch.cancellations[i]} times")
            else:
                batch.run_again([i])

    def _start_time(self, token: int) -> float | None:
        start = self._started.get(token)
        return None if start is None else start[0]

    def _wait_time(self, batch: "_DaskBatch") -> float | None:
        now = time.monotonic()
        waits = [max(0.0, seen + SETTLE_SECONDS - now) for seen, _ in batch.lost.values()]
        if not self.trainer_processes:  # a trainer process keeps its own timeout clock
            wait = batch.timeout_wait(self._start_time, self.timeout)
            waits += [] if wait is None else [wait]
        return min(waits) if waits else None

    def _judge_losses(self, batch: "_DaskBatch") -> None:
        """Candidates lost with a worker, once the scheduler has reported them all: innocent if
        the worker was ended here, else judged by the crash-isolation rule."""
        now = time.monotonic()
        for address, (seen, indices) in list(batch.lost.items()):
            if now - seen < SETTLE_SECONDS:
                continue
            del batch.lost[address]
            if address in self._killed:
                batch.run_again(indices)
            else:
                batch.died(indices, f"the Dask worker {address}")

    def _stop_overdue(self, client: Any, batch: "_DaskBatch") -> None:
        """Fail candidates training in a worker's thread past the timeout, and end their workers."""
        if self.trainer_processes:
            return
        for future, elapsed in batch.overdue(self._start_time, self.timeout):
            _, address, pid = self._started.pop(batch.running[future][1])
            client.cancel([future])  # before the worker goes, so that the scheduler does not run it again
            self._end_worker(client, address, pid)
            batch.time_out(future, self.timeout, elapsed)  # type: ignore[arg-type]

    def _recycle(self, client: Any, batch: Batch) -> None:
        """Restart the idle workers that trained ``max_tasks_per_worker`` candidates in their own
        thread (memory; trainer processes are replaced by their worker)."""
        if self.max_tasks_per_worker is None or self.trainer_processes:
            return
        busy = {start[1] for _, token in batch.running.values() if (start := self._started.get(token)) is not None}
        for address in [a for a, n in self._trained_on.items() if n >= self.max_tasks_per_worker and a not in busy]:
            del self._trained_on[address]
            self._killed.add(address)
            try:
                client.restart_workers([address], raise_for_error=False)
            except Exception:  # noqa: BLE001 - e.g. a worker without a nanny: it keeps running
                pass

    def _end_worker(self, client: Any, address: str, pid: int) -> None:
        if pid == os.getpid():
            warnings.warn(f"a candidate timed out on a Dask worker thread inside this process ({address}); it "
                          "keeps running there. Use worker processes (LocalCluster(processes=True)) for timeouts",
                          RuntimeWarning, stacklevel=4)
            return
        self._killed.add(address)
        try:
            client.run(exit_process, workers=[address], wait=False)
        except Exception:  # noqa: BLE001 - already gone
            pass

    def close(self) -> None:
        """Release this evaluator's job on the workers; close the client and the LocalCluster it
        started (a client you gave stays open)."""
        client = self._client
        if client is not None:
            try:
                client.unsubscribe_topic(self._topic)
            except Exception:  # noqa: BLE001 - a closed client has no subscriptions left
                pass
            if self._cluster is None:
                self._drop_job()
            if client is not self.client:
                client.close()
            if self._cluster is not None:
                self._cluster.close()
        self._reset()

    def __getstate__(self) -> dict[str, Any]:
        """Configuration only: a live client or cluster does not pickle (a search saved for resume
        comes back with a cluster of its own, or connects to ``address`` again)."""
        return {**super().__getstate__(), "client": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # pickled before these settings existed: their defaults
        super().__setstate__({"memory_limit_gb": 1.5, "trainer_processes": True, **state})

    def __repr__(self) -> str:
        where = (f"client={self.client!r}" if self.client is not None else f"address={self.address!r}"
                 if self.address is not None else f"n_workers={self.n_workers}")
        return (f"DaskEvaluator({where}, threads_per_worker={self.threads_per_worker}, timeout={self.timeout}, "
                f"max_tasks_per_worker={self.max_tasks_per_worker}, memory_limit_gb={self.memory_limit_gb}, "
                f"trainer_processes={self.trainer_processes})")


class _DaskBatch(Batch):
    """A batch on a Dask cluster: its futures report here as they finish (``done``), and
    candidates lost with a worker wait in ``lost`` until the scheduler has reported them all."""

    def __init__(self, jobs: Sequence[Job], on_result: OnResult | None, order: Any):
        super().__init__(jobs, on_result, order)
        self.done: queue_module.Queue = queue_module.Queue()
        self.lost: dict[str, tuple[float, list[int]]] = {}  # dead worker -> (when we learnt it, its jobs)
        self.cancellations: collections.Counter = collections.Counter()

    def finished(self, timeout: float | None) -> list[Any]:
        """The futures finished so far, waiting up to ``timeout`` seconds (None: for good) for one."""
        try:
            finished = [self.done.get(timeout=timeout)]
        except queue_module.Empty:
            return []
        while True:
            try:
                finished.append(self.done.get_nowait())
            except queue_module.Empty:
                return finished
