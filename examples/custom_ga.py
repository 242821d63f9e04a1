"""Compose your own GA with DEAP: ``deap.algorithms.eaSimple`` on an ``evokit.toolbox``.

evokit hands over a ready DEAP toolbox for an encoding, objectives and data: ``individual``,
``population``, ``mate``, ``mutate``, ``select`` and ``evaluate`` (decode, train once, score;
identical networks are trained once). Everything else is plain DEAP: the loop (``eaSimple``),
a ``HallOfFame``, ``Statistics`` and the ``Logbook``. Prints the logbook, the best network's
layers and its accuracy on the held-out test split. About 1-2 minutes on 2 CPU cores.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from deap import algorithms, tools

import evokit as ek


def main(population: int = 10, generations: int = 5, epochs: int = 2, seed: int = 0,
         data: Any = None) -> dict[str, Any]:
    """Run eaSimple on Binary (Genetic-CNN style) genotypes; return the logbook, hall of fame and scores."""
    data = data if data is not None else ek.datasets.load("digits", seed=seed)
    encoding = ek.encodings.Binary(stages=2, nodes_per_stage=3, filters=(8, 16, 32), units=(16, 32, 64))
    tb = ek.toolbox(encoding=encoding, objectives=[ek.fitness.ValidationAccuracy(epochs=epochs)], data=data,
                    seed=seed)  # seeds Python's and NumPy's generators: DEAP draws from them

    hall_of_fame = tools.HallOfFame(3)
    stats = tools.Statistics(key=lambda ind: ind.fitness.values[0])
    for name, fn in (("avg", np.mean), ("std", np.std), ("min", np.min), ("max", np.max)):
        stats.register(name, fn)
    pop, logbook = algorithms.eaSimple(tb.population(n=population), tb, cxpb=0.6, mutpb=0.3, ngen=generations,
                                       stats=stats, halloffame=hall_of_fame, verbose=False)

    print(f"DEAP eaSimple on {data.name}: population {population}, {generations} generations, "
          f"{epochs} epochs per network, seed {seed}\n")
    print("logbook (validation accuracy):")
    print(logbook)
    best = hall_of_fame[0]
    evaluation = tb.candidates.cached(best)  # the training behind its fitness, with the trained weights
    model = evaluation.model()
    predictions = np.argmax(model.predict(data.x_test, verbose=0), axis=1)
    test_accuracy = float(np.mean(predictions == data.y_test))
    print(f"\nbest network: {encoding.describe(best)}")
    print(evaluation.spec.summary())
    print(f"validation accuracy {best.fitness.values[0]:.3f}, test accuracy {test_accuracy:.3f}; "
          f"{tb.candidates.evaluations} networks trained for {sum(r['nevals'] for r in logbook)} evaluations "
          f"(the rest were cache hits)")
    return {"population": pop, "logbook": logbook, "hall_of_fame": hall_of_fame,
            "val_accuracy": best.fitness.values[0], "test_accuracy": test_accuracy,
            "params": evaluation.spec.params, "trained": tb.candidates.evaluations}


if __name__ == "__main__":
    main()
