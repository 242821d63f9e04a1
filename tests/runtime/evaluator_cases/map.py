import contextlib
import multiprocessing

from evokit.runtime.executors import MapEvaluator


@contextlib.contextmanager
def builtin_map():
    yield MapEvaluator(map)


@contextlib.contextmanager
def spawn_pool_map():
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # one process: one TensorFlow import to pay
        yield MapEvaluator(pool.map, threads_per_worker=1)


# name -> (context manager yielding the evaluator, the fault kinds it survives, whether it pickles);
# a Pool's map does not pickle, and waits forever for a worker that died
CASES = {"map-builtin": (builtin_map, ("nan", "crash", "build"), True),
         "map-spawn-pool": (spawn_pool_map, ("nan", "crash", "build"), False)}
