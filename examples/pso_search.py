"""PSO over the real-vector encoding (psoCNN style) on digits.

Each particle is a vector in [0, 1]^n whose genes pick, slot by slot, a conv, pool or dense layer
(or none) and its settings; the swarm moves by DEAP's particle update (inertia, pulls towards each
particle's best and the swarm's best, speed limit, positions clipped to [0, 1]). Every position
is decoded and trained as a real Keras model; positions that decode to a network already trained
are free (cache hits). Prints the best network and its validation and test accuracy.
About 2-3 minutes on 2 CPU cores with the defaults.
"""
from __future__ import annotations

import sys
from typing import Any

import evokit as ek
from evokit.algorithms.pso import PSO


def main(run_dir: str | None = None, population: int = 8, generations: int = 5, epochs: int = 3,
         data: Any = None) -> ek.Result:
    data = data if data is not None else ek.datasets.load("digits", seed=0)
    search = ek.Search(encoding=ek.encodings.Real(max_layers=4, filters=(8, 16, 32), units=(32, 64)),
                       objectives=ek.fitness.ValidationAccuracy(epochs=epochs), data=data,
                       algorithm=PSO(population=population, generations=generations), seed=0, run_dir=run_dir,
                       overwrite=run_dir is not None)
    result = search.run()

    best = result.best
    print(f"\nPSO: {result.stats['generations']} generations of {population} particles, "
          f"{result.stats['trained']} networks trained, {result.stats['cache_hits']} cache hits, "
          f"{result.stats['wall_time_s']:.0f} s")
    print("validation accuracy of the swarm's best per generation:",
          " ".join(f"{row['val_accuracy_max']:.3f}" for row in result.history))
    print(f"\nbest network ({best.params:,} parameters): {best.description}")
    print(best.spec.summary())
    print(f"validation accuracy: {best.values['val_accuracy']:.3f}")
    if result.test_scores:
        print(f"test accuracy: {result.test_scores['test_accuracy']:.3f}")
    return result


if __name__ == "__main__":
    main(*sys.argv[1:2])
