"""SerialEvaluator: candidates trained one after another in this process."""
from __future__ import annotations

from typing import Sequence

from evokit.evaluation import Evaluation
from evokit.runtime.executors.base import Evaluator, Job, OnResult
from evokit.runtime.executors.batch import Batch


class SerialEvaluator(Evaluator):
    """Trains candidates one after another in this process (debugging, tiny searches, notebooks).

    It has no timeout and no process to lose: a candidate that hangs hangs the search, and one
    that ends its process ends the search.
    """

    def train(self, jobs: Sequence[Job], on_result: OnResult | None = None) -> list[Evaluation]:
        batch = Batch(jobs, on_result)
        for i, job in enumerate(jobs):
            batch.finish(i, job.run(self.job))
        return batch.evaluations()

    def __repr__(self) -> str:
        return "SerialEvaluator()"
