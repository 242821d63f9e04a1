"""One call of ``Evaluator.train`` on its way through an executor: its results kept in the
order of the jobs, each reported once, and the crash-isolation rule of the evaluators whose
workers can die (the process pool and Dask), written once here for both.

Crash isolation: a worker process that dies takes the candidates it was running with it.

* Lost alone, a candidate killed its worker: it fails with reason ``"worker_died"``.
* Lost together, any of them may have done it: they become *suspects* and go back to the front
  of the queue, and a suspect runs alone (nothing starts beside it, and it starts beside
  nothing), so that a second death names the culprit and the others train as usual.
* Lost with a worker the evaluator ended itself (a timeout, a worker replaced for memory),
  they are innocent: back to the front of the queue.
"""
from __future__ import annotations

import collections
import time
from typing import Any, Callable, Iterable, Sequence

from evokit.evaluation import Evaluation, exception_failure, failure
from evokit.runtime.executors.base import Job, OnResult

START_POLL_SECONDS = 0.25
"""With a timeout to watch, how often to look whether candidates sent out have started."""

StartTime = Callable[[int], "float | None"]
"""A token -> when its candidate started training (``time.monotonic()``; None: not yet)."""


class Batch:
    """The jobs of one ``train`` call, what is left to start, what is running, and the results.

    Args:
        jobs: the jobs, in the order their results are returned.
        on_result: called once per job as it finishes.
        order: the job indices in the order to start them (default: as given; pools pass
            :func:`~evokit.runtime.executors.base.largest_first`).
    """

    def __init__(self, jobs: Sequence[Job], on_result: OnResult | None = None,
                 order: Iterable[int] | None = None):
        self.jobs = jobs
        self.queue: collections.deque[int] = collections.deque(range(len(jobs)) if order is None else order)
        self.running: dict[Any, tuple[int, int]] = {}  # a future -> (job index, token)
        self.suspects: set[int] = set()
        self._results: list[Evaluation | None] = [None] * len(jobs)
        self._on_result = on_result

    def finish(self, i: int, evaluation: Evaluation) -> None:
        """Job ``i`` is done: keep its result and report it (once)."""
        assert self._results[i] is None, f"job {i} finished twice"
        self._results[i] = evaluation
        if self._on_result is not None:
            self._on_result(i, evaluation)

    def fail(self, i: int, reason: str, message: str, wall_time: float = 0.0) -> None:
        """Job ``i`` failed with ``reason`` (one of ``FAILURE_REASONS``)."""
        self.finish(i, failure(self.jobs[i].spec, reason, message, wall_time))

    def fault(self, i: int, exc: BaseException, prefix: str = "") -> None:
        """Job ``i`` failed with ``exc`` raised outside its training (by the evaluator, a map, a
        future, the result's way back): not the network's failure, so reason ``"evaluator_error"``
        (``"out_of_memory"`` for an out-of-memory error), which is never cached."""
        self.finish(i, exception_failure(self.jobs[i].spec, exc, "evaluator_error", prefix=prefix))

    def unfinished(self) -> list[int]:
        return [i for i, result in enumerate(self._results) if result is None]

    def evaluations(self) -> list[Evaluation]:
        """The results, in the order of the jobs (every job must be finished)."""
        assert not self.unfinished(), f"jobs {self.unfinished()} have no result"
        return self._results  # type: ignore[return-value]

    def next_job(self) -> int | None:
        """The next job to start beside those running; None when none is left, or when a suspect
        must run alone."""
        if not self.queue:
            return None
        running = [i for i, _ in self.running.values()]
        if running and (self.queue[0] in self.suspects or any(i in self.suspects for i in running)):
            return None
        return self.queue.popleft()

    def start(self, future: Any, i: int, token: int) -> None:
        """Job ``i`` was sent out as ``future``, under ``token``."""
        self.running[future] = (i, token)

    def drop_running(self) -> list[int]:
        """Forget every running future (their worker is gone); returns their job indices."""
        lost = [i for i, _ in self.running.values()]
        self.running.clear()
        return lost

    def run_again(self, indices: Sequence[int]) -> None:
        """Innocent jobs lost with a worker: first in the queue again, in their order."""
        self.queue.extendleft(reversed(indices))

    def died(self, indices: Sequence[int], worker: str) -> None:
        """Jobs lost with ``worker`` (words: "the worker process"), which died on its own: a lone
        one killed it and fails; several are run again, each alone."""
        if len(indices) == 1:
            self.fail(indices[0], "worker_died", f"{worker} died while training this candidate")
        else:
            self.suspects.update(indices)
            self.run_again(indices)

    def overdue(self, started: StartTime, timeout: float | None) -> list[tuple[Any, float]]:
        """Running futures whose candidate has trained for more than ``timeout`` seconds, with
        how long it has."""
        if timeout is None:
            return []
        now = time.monotonic()
        since = [(future, started(token)) for future, (_, token) in self.running.items()]
        return [(future, now - start) for future, start in since if start is not None and now - start > timeout]

    def time_out(self, future: Any, timeout: float, elapsed: float) -> None:
        """Fail the overdue job of ``future`` (the caller stops its worker)."""
        i, _ = self.running.pop(future)
        self.fail(i, "timeout", f"still running after {timeout:g} s", elapsed)

    def timeout_wait(self, started: StartTime, timeout: float | None) -> float | None:
        """How long to wait for results before looking for overdue candidates (None: nothing to watch)."""
        if timeout is None or not self.running:
            return None
        now = time.monotonic()
        starts = [started(token) for _, token in self.running.values()]
        waits = [max(0.05, start + timeout - now) for start in starts if start is not None]
        if len(waits) < len(starts):
            waits.append(START_POLL_SECONDS)  # a candidate has not started yet: look again soon
        return min(waits)
