"""MapEvaluator: train candidates with any DEAP-style ``map`` (builtin ``map``, a process pool's
``map``, ``scoop.futures.map``, Dask's ``client.map``, ``concurrent.futures.Executor.map``).

DEAP users parallelise by registering a ``map`` in their toolbox; this evaluator accepts that
same function, so a search runs wherever the user's ``map`` runs. It needs nothing from the map
but ``map_fn(function, list_of_tasks)`` returning the results in order (or futures of them, whose
``.result()`` is taken). The price of that generality: the map must be able to send the
function and the tasks to wherever it runs them, so both must pickle (they do: a module-level
function bound to the job with ``functools.partial``, and plain :class:`Task` objects), and the
data travel with every call instead of once per worker. A plain map has no per-candidate timeout
and cannot survive a worker that dies (``multiprocessing.Pool.map`` then waits forever); use
:class:`~evokit.runtime.executors.process.ProcessEvaluator` or
:class:`~evokit.runtime.executors.dask.DaskEvaluator` where that matters. An exception inside one
training still fails that candidate alone (the trainer catches it); an exception raised by the
map itself fails the candidates it had not yet returned, and the run goes on.
"""
from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from evokit.errors import ConfigError, check_int
from evokit.evaluation import Evaluation, TrainingConfig, failure
from evokit.runtime.executors.process import Evaluator, OnResult, Task

_THREADS_LOCK = threading.Lock()
_THREADS_SET: list[int] = []  # the TensorFlow thread count this process was given (at most once)


def configure_threads(threads: int | None) -> None:
    """Give this process's TensorFlow ``threads`` intra- and inter-op threads, once per process.

    Worker processes call this before their first training: one thread per worker process is
    what makes N workers on N cores ~N times faster than one process. TensorFlow fixes its
    thread pools when it first runs an op; if that already happened here, its setting stays.
    """
    if threads is None or _THREADS_SET:
        return
    with _THREADS_LOCK:
        if _THREADS_SET:
            return
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already initialised in this process: keep its pools
            pass
        _THREADS_SET.append(threads)


@dataclass(frozen=True)
class _Job:
    """What every candidate of one evaluator shares (pickled to the workers)."""

    data: Any
    config: TrainingConfig
    keep_weights: bool
    probes: tuple
    threads: int | None


def _train_mapped(job: _Job, task: Task) -> Evaluation:
    """Train one task where the map runs it (module level, so that it pickles by reference)."""
    configure_threads(job.threads)
    return task.run(job.data, job.config, job.keep_weights, job.probes)


class MapEvaluator(Evaluator):
    """Trains candidates with a DEAP-style ``map_fn(function, tasks)``.

    Args:
        map_fn: any function with the signature of builtin ``map`` that returns the results in
            the order of the tasks (e.g. ``multiprocessing.get_context("spawn").Pool(2).map``,
            ``scoop.futures.map``, ``client.map`` of a ``distributed.Client``). It must pickle
            the function and the tasks to run them elsewhere (both are picklable).
        threads_per_worker: TensorFlow threads each process running the map's work uses (set
            once per process before its first training); None leaves TensorFlow's default. Use
            1 with a pool of one process per core. Leave it None with builtin ``map``, which
            runs in this process.

    The data go with every call of the function (a map has no way to send them once); there is
    no timeout, and a worker that dies is handled (or not) by the map. A map that raises fails
    the candidates it had not returned yet, with reason ``"exception"``.
    """

    def __init__(self, map_fn: Callable[..., Any], threads_per_worker: int | None = None):
        if not callable(map_fn) or (isinstance(map_fn, type) and issubclass(map_fn, Evaluator)):
            raise ConfigError(f"map_fn={map_fn!r} is invalid: expected a map function such as builtin map, "
                              "multiprocessing Pool.map, scoop.futures.map or distributed Client.map")
        self.map_fn = map_fn
        self.threads_per_worker = (None if threads_per_worker is None
                                   else check_int("threads_per_worker", threads_per_worker, minimum=1))

    def train(self, tasks: Sequence[Task], on_result: OnResult | None = None) -> list[Evaluation]:
        job = _Job(self.data, self.config, self.keep_weights, self.probes, self.threads_per_worker)
        results: list[Evaluation] = []
        try:
            for item in self.map_fn(functools.partial(_train_mapped, job), list(tasks)):
                if len(results) == len(tasks):
                    break
                task = tasks[len(results)]
                try:
                    evaluation = _resolve(item)
                except Exception as exc:  # noqa: BLE001 - one future failed: that candidate fails
                    evaluation = failure(task.spec, "exception", f"{type(exc).__name__}: {exc}")
                if not isinstance(evaluation, Evaluation):
                    evaluation = failure(task.spec, "exception", f"the map returned {type(evaluation).__name__}, "
                                                                 "not an Evaluation")
                results.append(evaluation)
                if on_result is not None:
                    on_result(len(results) - 1, evaluation)
            reason = "the map returned fewer results than candidates"
        except Exception as exc:  # noqa: BLE001 - the map itself failed: its remaining candidates fail
            reason = f"the map failed: {type(exc).__name__}: {exc}"
        for i in range(len(results), len(tasks)):
            results.append(failure(tasks[i].spec, "exception", reason))
            if on_result is not None:
                on_result(i, results[-1])
        return results

    def __repr__(self) -> str:
        return f"MapEvaluator(map_fn={self.map_fn!r}, threads_per_worker={self.threads_per_worker})"


def _resolve(item: Any) -> Any:
    """A result, or the result of a future (``client.map`` and ``Executor.submit`` give futures)."""
    if not isinstance(item, Evaluation) and callable(getattr(item, "result", None)):
        return item.result()
    return item
