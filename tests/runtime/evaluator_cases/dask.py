import contextlib

from evokit.runtime.executors import DaskEvaluator

TIMEOUT = 10.0  # long enough for a tiny network's first training on two busy cores


@contextlib.contextmanager
def local_cluster():
    """A LocalCluster of 2 worker processes, reached by address (so that a pickled copy of the
    evaluator reaches it too); allowed-failures 0, as in a cluster the evaluator starts itself.

    The workers train in their own thread: each new start (new settings, after close, a pickled
    copy) would otherwise start a trainer process per worker, seconds of importing TensorFlow
    each time. ``test_dask.py`` covers the default trainer processes (a ProcessEvaluator, a case
    of its own here)."""
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    evaluator = DaskEvaluator(address=cluster.scheduler_address, timeout=TIMEOUT, trainer_processes=False)
    try:
        yield evaluator
    finally:
        evaluator.close()
        cluster.close()


# name -> (context manager yielding the evaluator, the fault kinds it survives, whether it pickles)
CASES = {"dask": (local_cluster, ("nan", "crash", "build", "die", "hang"), True)}
