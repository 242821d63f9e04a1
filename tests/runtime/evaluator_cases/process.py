import contextlib

from evokit.runtime.executors import ProcessEvaluator

TIMEOUT = 10.0  # long enough for a tiny network's first training on two busy cores


@contextlib.contextmanager
def process_pool():
    evaluator = ProcessEvaluator(workers=2, timeout=TIMEOUT)
    try:
        yield evaluator
    finally:
        evaluator.close()


# name -> (context manager yielding the evaluator, the fault kinds it survives, whether it pickles)
CASES = {"process": (process_pool, ("nan", "crash", "build", "die", "hang"), True)}
