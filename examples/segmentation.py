"""Segmentation (NASGP-Net style): evolve the cell of a U-Net with genetic programming on the
embedded ``cells`` images, NSGA-II trading validation Dice against parameter count.

A genotype is one GP tree, the cell every level of a depth-3 U-Net uses in its encoder and its
decoder: e.g. ``res(sep(inp, w50, k3), conv(inp, w100, k3))``. The data's task (segmentation: a
mask per image) gives the networks a per-pixel sigmoid head, the cross-entropy + soft Dice loss,
and Dice/IoU scores. The front's most accurate network is retrained and scored on the test
split, and printed beside the best global threshold (what a U-Net must beat). About 2 minutes
on 2 CPU cores with the defaults.
"""
from __future__ import annotations

import sys

import numpy as np

import evokit as ek


def main(run_dir: str | None = None, population: int = 8, generations: int = 3, epochs: int = 3,
         n_train: int = 600, seed: int = 0) -> ek.Result:
    """Search U-Net cells for ``cells`` and print the front and the best one's test scores; returns the Result."""
    data = ek.datasets.load("cells", seed=seed)
    search = ek.Search(encoding=ek.encodings.UNetTree(depth=3, base_filters=8),
                       objectives=[ek.fitness.ValidationDice(epochs=epochs), ek.fitness.ParameterCount()],
                       algorithm=ek.algorithms.NSGA2(population=population, generations=generations),
                       data=data.subset(n_train=n_train, n_val=min(300, len(data.y_val)), seed=seed), seed=seed,
                       final_training=ek.TrainingConfig(epochs=4 * epochs, early_stopping=3),
                       run_dir=run_dir, overwrite=run_dir is not None, progress=False)
    result = search.run()
    print(f"UNetTree + NSGA-II on cells: {result.stats['trained']} networks trained in "
          f"{result.stats['wall_time_s']:.0f} s")
    print("\nPareto front (validation Dice vs parameters; one line per distinct network):")
    shown = set()
    for c in sorted(result.pareto_front, key=lambda c: c.params):
        if c.spec.hash not in shown:  # cells like inp and res(inp, inp) decode to one network
            shown.add(c.spec.hash)
            print(f"  Dice {c.values['val_dice']:.3f}  {c.params:>7,} params  {c.description}")
    best = result.best
    print(f"\nbest network ({best.params:,} parameters): {best.description}")
    if result.test_scores:
        print(f"test Dice {result.test_scores['test_dice']:.3f}, IoU {result.test_scores['test_iou']:.3f}")
    print(f"best global threshold (chosen on the training images): test Dice {threshold_dice(data):.3f}")
    return result


def threshold_dice(data: ek.datasets.Dataset) -> float:
    """Test Dice of the brightness threshold that scores best on the training images."""
    task = ek.tasks.get("segmentation")
    thresholds = np.quantile(data.x_train, np.linspace(0.05, 0.95, 19))

    def dice(x: np.ndarray, y: np.ndarray, t: float) -> float:
        return task.score(y, (x > t).astype("float32"))["val_dice"]

    best = max(thresholds, key=lambda t: dice(data.x_train, data.y_train, t))
    return dice(data.x_test, data.y_test, best)


if __name__ == "__main__":
    main(*sys.argv[1:2])
