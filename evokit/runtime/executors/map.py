"""MapEvaluator: train candidates with any DEAP-style ``map`` (builtin ``map``, a process pool's
``map``, ``scoop.futures.map``, Dask's ``client.map``, ``concurrent.futures.Executor.map``).

DEAP users parallelise by registering a ``map`` in their toolbox; this evaluator accepts that
same function, so a search runs wherever the user's ``map`` runs. It needs nothing from the map
but ``map_fn(function, list_of_jobs)`` returning the results in order (or futures of them, whose
``.result()`` is taken). The price of that generality: the map must be able to send the
function and the jobs to wherever it runs them, so both must pickle (they do: a module-level
function bound to the evaluator's :class:`~evokit.runtime.executors.base.JobSettings` with
``functools.partial``, and plain :class:`~evokit.runtime.executors.base.Job` objects), and the
data travel with every call instead of once per worker. A plain map has no per-candidate timeout
and cannot survive a worker that dies (``multiprocessing.Pool.map`` then waits forever); use
:class:`~evokit.runtime.executors.process.ProcessEvaluator` or
:class:`~evokit.runtime.executors.dask.DaskEvaluator` where that matters. An exception inside one
training still fails that candidate alone (the job catches it); an exception raised by the
map itself (a lost connection, a broken pool) fails the candidates it had not yet returned with
reason ``"evaluator_error"``, which is not cached: the run goes on, and those networks are trained
again when they come back.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Iterator, Sequence

from evokit.errors import ConfigError, check_int
from evokit.evaluation import Evaluation, exception_failure, failure
from evokit.runtime.executors.base import Evaluator, Job, JobSettings, OnResult
from evokit.runtime.executors.batch import Batch


def _train_mapped(settings: JobSettings, job: Job) -> Evaluation:
    """Train one job where the map runs it (module level, so that it pickles by reference)."""
    return job.run(settings)


class MapEvaluator(Evaluator):
    """Trains candidates with a DEAP-style ``map_fn(function, jobs)``.

    Args:
        map_fn: any function with the signature of builtin ``map`` that returns the results in
            the order of the jobs (e.g. ``multiprocessing.get_context("spawn").Pool(2).map``,
            ``scoop.futures.map``, ``client.map`` of a ``distributed.Client``). It must pickle
            the function and the jobs to run them elsewhere (both are picklable).
        threads_per_worker: TensorFlow threads each process running the map's work uses (set
            once per process before its first training); None leaves TensorFlow's default. Use
            1 with a pool of one process per core. Leave it None with builtin ``map``, which
            runs in this process.

    The data go with every call of the function (a map has no way to send them once); there is
    no timeout, and a worker that dies is handled (or not) by the map. A map that raises, a
    future that raises and an item that is not an Evaluation fail their candidates with reason
    ``"evaluator_error"`` (not the network's failure: never cached). The evaluator pickles
    only if ``map_fn`` does (builtin ``map`` does, a ``Pool``'s ``map`` does not).
    """

    def __init__(self, map_fn: Callable[..., Any], threads_per_worker: int | None = None):
        if not callable(map_fn) or (isinstance(map_fn, type) and issubclass(map_fn, Evaluator)):
            raise ConfigError(f"map_fn={map_fn!r} is invalid: expected a map function such as builtin map, "
                              "multiprocessing Pool.map, scoop.futures.map or distributed Client.map")
        self.map_fn = map_fn
        self.threads_per_worker = (None if threads_per_worker is None
                                   else check_int("threads_per_worker", threads_per_worker, minimum=1))

    def train(self, jobs: Sequence[Job], on_result: OnResult | None = None) -> list[Evaluation]:
        batch = Batch(jobs, on_result)
        returned = self._mapped(self.job, jobs)
        error: Exception | None = None
        for i, job in enumerate(jobs):
            try:
                item = next(returned)
            except StopIteration:
                break
            except Exception as exc:  # noqa: BLE001 - the map itself failed: its remaining candidates fail
                error = exc
                break
            batch.finish(i, _evaluation(item, job))
        for i in batch.unfinished():
            if error is None:
                batch.fail(i, "evaluator_error", "the map returned fewer results than candidates")
            else:
                batch.fault(i, error, "the map failed: ")
        return batch.evaluations()

    def _mapped(self, settings: JobSettings, jobs: Sequence[Job]) -> Iterator[Any]:
        """What the map returns, one item at a time (calling the map on the first ``next``, so
        that a map that computes everything at once raises there too)."""
        yield from self.map_fn(functools.partial(_train_mapped, settings), list(jobs))

    def __repr__(self) -> str:
        return f"MapEvaluator(map_fn={self.map_fn!r}, threads_per_worker={self.threads_per_worker})"


def _evaluation(item: Any, job: Job) -> Evaluation:
    """The Evaluation the map returned for ``job``: the item itself, or the result of a future
    (``client.map`` and ``Executor.submit`` give futures); anything else fails the candidate with
    reason ``"evaluator_error"`` (the job itself never raises: a future that does failed outside
    the training)."""
    if not isinstance(item, Evaluation) and callable(getattr(item, "result", None)):
        try:
            item = item.result()
        except Exception as exc:  # noqa: BLE001 - one future failed: that candidate fails
            return exception_failure(job.spec, exc, "evaluator_error")
    if not isinstance(item, Evaluation):
        return failure(job.spec, "evaluator_error", f"the map returned {type(item).__name__}, not an Evaluation")
    return item
