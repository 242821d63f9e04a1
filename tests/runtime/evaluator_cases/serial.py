import contextlib

from evokit.runtime.executors import SerialEvaluator


@contextlib.contextmanager
def serial():
    yield SerialEvaluator()


# name -> (context manager yielding the evaluator, the fault kinds it survives, whether it pickles)
CASES = {"serial": (serial, ("nan", "crash", "build"), True)}
