"""A user objective: validation accuracy up, network depth down, searched with NSGA-II.

``depth`` is a plain function of an :class:`evokit.Evaluation` (what one candidate's single
training produced: its NetSpec, metrics, times). ``ek.fitness.Objective(depth, weight=-1.0)``
makes it an objective; the sign of the weight says minimise. It reads only the NetSpec, so it
says ``needs_training=False`` (the accuracy objective trains every candidate anyway). With two
objectives a Search uses NSGA-II and keeps a Pareto front, which is printed. About 1-2 minutes
on 2 CPU cores. (With ``workers=N`` the function must live at module level, as here, so worker
processes can import it.)
"""
from __future__ import annotations

from typing import Any

import evokit as ek

WEIGHTED = ("conv1d", "conv2d", "dense", "neuron_graph")
"""Layers with weights that count towards depth (pooling, dropout, merges and activations don't)."""


def depth(evaluation: ek.Evaluation) -> float:
    """Number of weight layers on the longest path from the input to the output of the network
    (skip connections don't shorten it: the longest path is what a forward pass waits for)."""
    spec = evaluation.spec
    longest: list[int] = []
    for node in spec.nodes:
        before = max((longest[j] for j in node.inputs if j >= 0), default=0)
        longest.append(before + (node.layer.kind in WEIGHTED))
    return float(longest[-1])


def main(population: int = 8, generations: int = 4, epochs: int = 2, seed: int = 0, data: Any = None,
         progress: bool = True) -> ek.Result:
    """Search DeepGA networks for accuracy and shallowness; print and return the Pareto front."""
    data = data if data is not None else ek.datasets.load("digits", seed=seed)
    search = ek.Search(encoding=ek.encodings.DeepGA(max_conv_blocks=3, max_dense=2),
                       objectives=[ek.fitness.ValidationAccuracy(epochs=epochs),
                                   ek.fitness.Objective(depth, weight=-1.0, needs_training=False)],
                       data=data, algorithm=ek.algorithms.NSGA2(population=population, generations=generations),
                       seed=seed, progress=progress)
    result = search.run()
    print(f"\nPareto front on {data.name} (validation accuracy up, depth down), "
          f"{result.stats['trained']} networks trained:")
    print(f"{'val_acc':>8} {'depth':>5} {'params':>9}  network")
    for c in sorted(result.pareto_front, key=lambda c: (c.values["depth"], -c.values["val_accuracy"])):
        print(f"{c.values['val_accuracy']:>8.3f} {c.values['depth']:>5.0f} {c.params:>9,}  {c.description}")
    if "test_accuracy" in result.test_scores:
        print(f"\nmost accurate member: test accuracy {result.test_scores['test_accuracy']:.3f}")
    return result


if __name__ == "__main__":
    main()
