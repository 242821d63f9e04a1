"""A small search that tests run in subprocesses, kill, and resume: ``python _resumable_run.py DIR``.

Every finished training (after its result is in the cache) appends the network's hash to
DIR/trainings.log, so a test can count networks trained more than once across resumes.
"""
import sys
from pathlib import Path

import evokit as ek
from evokit.runtime.executors import SerialEvaluator


class LoggingEvaluator(SerialEvaluator):
    def __init__(self, log):
        self.log = log

    def train(self, tasks, on_result=None):
        def saved(i, evaluation):
            if on_result is not None:
                on_result(i, evaluation)
            with open(self.log, "a") as f:
                f.write(tasks[i].spec.hash + "\n")

        return super().train(tasks, saved)


def make_search(run_dir, generations=5):
    data = ek.datasets.load("digits", seed=0).subset(n_train=200, n_val=100, seed=0)
    encoding = ek.encodings.DeepGA(max_conv_blocks=2, max_dense=1, filters=(4, 8), units=(8, 16))
    return ek.Search(encoding=encoding, objectives=ek.fitness.ValidationAccuracy(epochs=1), data=data,
                     algorithm=ek.algorithms.GA(population=4, generations=generations), seed=7,
                     workers=LoggingEvaluator(Path(run_dir) / "trainings.log"), run_dir=run_dir, progress=False)


if __name__ == "__main__":
    import _resumable_run  # the saved search then names its evaluator by this module, so `evokit resume` reads it

    _resumable_run.make_search(sys.argv[1]).run(resume=True)
