"""Evaluators: where candidates are trained (this process, or a pool of worker processes).

An evaluator is started once with the job every candidate shares (the data and the training
settings: sent to each worker once, not with every candidate), then trains lists of
``(NetSpec, seed)`` tasks and returns their Evaluations in order. A failure of one candidate,
including a worker process that dies, comes back as that candidate's failed Evaluation.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from abc import ABC, abstractmethod
from typing import Any, Sequence

from evokit.errors import check_int
from evokit.evaluation import Evaluation, TrainingConfig, failure
from evokit.fitness.probes import Probe
from evokit.netspec import NetSpec

Task = tuple[NetSpec, int]


class Evaluator(ABC):
    """Trains candidates. Use as a context manager, or call ``start`` and ``close``."""

    def start(self, data: Any, config: TrainingConfig, keep_weights: bool = True,
              probes: Sequence[Probe] = ()) -> "Evaluator":
        """Set the job every candidate shares: data, training settings, weights kept, probes."""
        self.data, self.config, self.keep_weights, self.probes = data, config, keep_weights, tuple(probes)
        return self

    @abstractmethod
    def train(self, tasks: Sequence[Task]) -> list[Evaluation]:
        """Train every task; the result list is in the order of ``tasks``."""

    def close(self) -> None:
        """Release workers; the evaluator may be started again."""

    def __enter__(self) -> "Evaluator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class SerialEvaluator(Evaluator):
    """Trains candidates one after another in this process."""

    def train(self, tasks: Sequence[Task]) -> list[Evaluation]:
        from evokit.runtime.trainer import train

        return [train(spec, self.data, self.config, seed, self.keep_weights, self.probes) for spec, seed in tasks]

    def __repr__(self) -> str:
        return "SerialEvaluator()"


_WORKER_JOB: dict[str, Any] = {}


def _init_worker(data: Any, config: TrainingConfig, keep_weights: bool, probes: tuple, threads: int) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    _WORKER_JOB.update(data=data, config=config, keep_weights=keep_weights, probes=probes)


def _train_in_worker(task: Task) -> Evaluation:
    from evokit.runtime.trainer import train

    spec, seed = task
    job = _WORKER_JOB
    return train(spec, job["data"], job["config"], seed, job["keep_weights"], job["probes"])


class ProcessEvaluator(Evaluator):
    """Trains candidates in ``workers`` spawned processes, one TensorFlow thread each.

    Workers are replaced after ``max_tasks_per_child`` candidates: a process that builds Keras
    models grows by several MB per model for good, and only a new process gives it back.
    """

    def __init__(self, workers: int = 2, max_tasks_per_child: int = 20, threads_per_worker: int = 1):
        self.workers = check_int("workers", workers, minimum=1)
        self.max_tasks_per_child = check_int("max_tasks_per_child", max_tasks_per_child, minimum=1)
        self.threads_per_worker = check_int("threads_per_worker", threads_per_worker, minimum=1)
        self._pool: cf.ProcessPoolExecutor | None = None

    def _ensure_pool(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker, initargs=(self.data, self.config, self.keep_weights, self.probes,
                                                    self.threads_per_worker),
                max_tasks_per_child=self.max_tasks_per_child)
        return self._pool

    def train(self, tasks: Sequence[Task]) -> list[Evaluation]:
        results: list[Evaluation | None] = [None] * len(tasks)
        futures = {self._ensure_pool().submit(_train_in_worker, task): i for i, task in enumerate(tasks)}
        broken = False
        for future in cf.as_completed(futures):
            i = futures[future]
            try:
                results[i] = future.result()
            except cf.process.BrokenProcessPool as exc:
                broken = True
                results[i] = failure(tasks[i][0], "worker_died", f"the worker process died: {exc}")
            except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result fails that candidate
                results[i] = failure(tasks[i][0], "exception", f"{type(exc).__name__}: {exc}")
        if broken:
            self.close()
        return results  # type: ignore[return-value]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __repr__(self) -> str:
        return f"ProcessEvaluator(workers={self.workers}, max_tasks_per_child={self.max_tasks_per_child})"


def make_evaluator(workers: int | Evaluator | None) -> Evaluator:
    """An evaluator from a ``workers`` argument: an Evaluator as is, 1 -> serial, N -> N processes."""
    if isinstance(workers, Evaluator):
        return workers
    workers = 1 if workers is None else check_int("workers", workers, minimum=1)
    return SerialEvaluator() if workers == 1 else ProcessEvaluator(workers)
