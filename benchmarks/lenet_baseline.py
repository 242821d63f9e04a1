"""evokit's default search vs a hand-made LeNet-style CNN, trained the same way on the same split.

Both networks are trained by the same trainer with the same settings (Adam 1e-3, batch 32, up to
40 epochs with early stopping on the validation loss, patience 5) and tested on the same held-out
test split of digits. Run: ``python benchmarks/lenet_baseline.py [--seed 0]``.
"""
from __future__ import annotations

import argparse
import time

import evokit as ek
from evokit.netspec import Conv2D, Dense, Flatten, Graph, Pool
from evokit.runtime.training.trainer import candidate_seed, score_test_split, train


def lenet(input_shape: tuple[int, ...], n_classes: int) -> ek.NetSpec:
    """LeNet-5's layout (conv 6@5x5, pool, conv 16@5x5, pool, dense 120, dense 84), 'same' padding
    so that it fits 8x8 digits."""
    g = Graph(input_shape)
    x = g.add(Conv2D(6, 5, activation="relu"), g.input)
    x = g.add(Pool("max", 2), x)
    x = g.add(Conv2D(16, 5, activation="relu"), x)
    x = g.add(Pool("max", 2), x)
    x = g.add(Flatten(), x)
    x = g.add(Dense(120), x)
    x = g.add(Dense(84), x)
    return g.finish(g.add(Dense(n_classes, activation="softmax"), x))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = ek.datasets.load("digits", seed=args.seed)

    start = time.perf_counter()
    result = ek.presets.deepga(data, seed=args.seed, progress=False).run()
    search_time = time.perf_counter() - start

    spec = lenet(data.input_shape, data.n_outputs)
    final = ek.TrainingConfig(epochs=40, early_stopping=5)
    start = time.perf_counter()
    ev = train(spec, data, final, seed=candidate_seed(args.seed, spec.hash))
    lenet_time = time.perf_counter() - start
    lenet_acc = score_test_split(ev.model(), data)["test_accuracy"]

    evo_acc, evo_params = result.test_scores["test_accuracy"], result.best.params
    print(f"{'network':<22} {'test acc':>8} {'params':>8}  {'time':>7}")
    print(f"{'evokit default':<22} {evo_acc:>8.3f} {evo_params:>8,}  {search_time:>6.0f}s  {result.best.description}")
    print(f"{'LeNet-style (hand)':<22} {lenet_acc:>8.3f} {spec.params:>8,}  {lenet_time:>6.1f}s")
    print(f"evokit / LeNet: parameters {evo_params / spec.params:.3f} ({100 * (1 - evo_params / spec.params):.0f}% "
          f"smaller), accuracy difference {evo_acc - lenet_acc:+.3f}")


if __name__ == "__main__":
    main()
