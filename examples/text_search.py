"""Text classification two ways on the embedded ``languages`` set (which language is a sentence in?).

1. **Backprop TextCNN search**: NSGA-II over Kim's TextCNN (embedding width, parallel convolution
   branches of several widths with global max pooling, an optional hidden layer), each candidate
   trained by backpropagation, on validation accuracy and parameter count.
2. **DeepNEWT**: the genotype carries the network's weights as well as its architecture, and a
   GA evolves both with DEAP's real-valued operators (blend crossover, Gaussian mutation): no
   gradient step at all. Candidates are scored with their own weights in NumPy, so thousands of
   them take seconds. ``lamarckian=True`` adds a few gradient steps per candidate and writes the
   trained weights back into the genotype, for comparison.

About 2-3 minutes on 2 CPU cores with the defaults; ``python examples/text_search.py newt`` runs
only the DeepNEWT part.
"""
from __future__ import annotations

import sys
from typing import Any

import evokit as ek


def backprop(data: Any, population: int = 8, generations: int = 4, epochs: int = 3) -> ek.Result:
    """NSGA-II over TextCNNs trained by backpropagation: accuracy vs parameters."""
    search = ek.Search(encoding=ek.encodings.TextCNN(embedding_dims=(8, 16), filters=(8, 16, 32)),
                       objectives=[ek.fitness.ValidationAccuracy(epochs=epochs), ek.fitness.ParameterCount()],
                       algorithm=ek.algorithms.NSGA2(population=population, generations=generations),
                       data=data, seed=0, final_training=epochs)
    result = search.run()
    print(f"\nbackprop search: {result.stats['trained']} networks trained in {result.stats['wall_time_s']:.0f} s")
    for c in result.pareto_front:
        print(f"  {c.values['val_accuracy']:.3f} val accuracy, {c.params:>7,} parameters  {c.description}")
    print(f"test accuracy of the best: {result.test_scores['test_accuracy']:.3f}")
    return result


def deepnewt(data: Any, population: int = 30, generations: int = 20, lamarckian: bool = False,
             epochs: int = 1) -> ek.Result:
    """A GA over TextCNN architectures and their weights together (DeepNEWT), no backprop unless
    ``lamarckian``."""
    encoding = ek.encodings.TextCNN(mode="weights", embedding_dims=(4, 8), widths=(2, 3), filters=(4, 8),
                                    lamarckian=lamarckian, sigma=0.1)
    search = ek.Search(encoding=encoding, objectives=ek.fitness.ValidationAccuracy(epochs=epochs),
                       algorithm=ek.algorithms.GA(population=population, generations=generations), data=data,
                       seed=0, workers=1)
    result = search.run()
    kind = "Lamarckian" if lamarckian else "gradient-free"
    rate = result.stats["evaluated"] / max(result.stats["wall_time_s"], 1e-9)
    print(f"\nDeepNEWT ({kind}): {result.stats['evaluated']} candidates in {result.stats['wall_time_s']:.0f} s "
          f"({rate:.0f}/s)")
    print("best validation accuracy per generation:",
          " ".join(f"{row['val_accuracy_max']:.2f}" for row in result.history))
    print(f"best: {result.best.description}, {result.best.params:,} parameters, "
          f"test accuracy {result.test_scores['test_accuracy']:.3f}")
    return result


def main(which: str = "both", data: Any = None, **budget: Any) -> dict[str, ek.Result]:
    data = data if data is not None else ek.datasets.load("languages", seed=0)
    print(data)
    results = {}
    if which in ("both", "backprop"):
        results["backprop"] = backprop(data, **budget.get("backprop", {}))
    if which in ("both", "newt"):
        results["deepnewt"] = deepnewt(data, **budget.get("deepnewt", {}))
    return results


if __name__ == "__main__":
    main(*sys.argv[1:2])
