"""Search on a Dask cluster: the same search as on one machine, with candidates trained by Dask workers.

With no address, a ``LocalCluster`` of worker processes starts here and closes at the end; give
the address of a running scheduler (``python examples/dask_cluster.py tcp://host:8786``, after
``dask scheduler`` and ``dask worker tcp://host:8786 --nworkers N --nthreads 1`` on the
machines) to use many machines. Every worker needs evokit installed. Prints the dashboard link
(its pages need ``pip install bokeh``) and the best network. About a minute on 2 CPU cores.
"""
from __future__ import annotations

import sys

import evokit as ek
from evokit.runtime.executors.dask import DaskEvaluator


def main(address: str | None = None, population: int = 6, generations: int = 3, epochs: int = 2,
         n_workers: int = 2) -> ek.Result:
    evaluator = DaskEvaluator(address=address, n_workers=n_workers, timeout=300)
    client = evaluator.connect()
    print(f"Dask cluster: {len(client.nthreads())} workers; dashboard: {client.dashboard_link}")
    search = ek.Search(encoding=ek.encodings.DeepGA(), objectives=ek.fitness.ValidationAccuracy(epochs=epochs),
                       data="digits", algorithm=ek.algorithms.GA(population=population, generations=generations),
                       seed=0, workers=evaluator, progress=False)
    result = search.run()  # closes the evaluator at the end (and the LocalCluster it started)
    best = result.best
    print(f"Networks trained: {result.stats['trained']}, failed: {sum(result.stats['failures'].values())}")
    print(f"Best network: {best.description}")
    print(f"  validation accuracy {best.values['val_accuracy']:.3f}, {best.params:,} parameters, "
          f"test accuracy {result.test_scores['test_accuracy']:.3f}")
    return result


if __name__ == "__main__":  # required: the LocalCluster's workers are spawned processes
    main(sys.argv[1] if len(sys.argv) > 1 else None)
