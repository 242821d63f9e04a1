"""evokit's searches vs a hand-made LeNet-style CNN, trained the same way on the same split.

Two comparisons on digits, per seed:

* **default**: ``evokit run``'s search (``ek.presets.deepga``) against LeNet trained by the same
  trainer with its final training (Adam 1e-3, batch 32, up to 40 epochs, early stopping on the
  validation loss, patience 5).
* **compact** (``--compact``): ``ek.presets.compact`` for ``--seconds`` with ``--workers`` workers
  (10 CPU-minutes by default: 300 s x 2), its Pareto front's members of at most 10% of LeNet's
  parameters retrained as ``ek.presets.COMPACT_FINAL`` says, the one with the best validation
  accuracy tested; LeNet trained both ways (the default's training and ``COMPACT_FINAL``) and
  its better test accuracy kept, so the small network is measured against LeNet at its best.

Run: ``python benchmarks/lenet_baseline.py [--seeds 0 1 2] [--compact [--seconds 300]]``.
"""
from __future__ import annotations

import argparse
import os
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import evokit as ek  # noqa: E402
from evokit.netspec import Conv2D, Dense, Flatten, Graph, Pool  # noqa: E402
from evokit.runtime.training.trainer import candidate_seed, score_test_split, train  # noqa: E402

LENET_TRAINING = ek.TrainingConfig(epochs=40, early_stopping=5)
SHARE = 0.10
"""The compact network's budget: this fraction of LeNet's parameters."""


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


def trained(spec: ek.NetSpec, data: Any, config: ek.TrainingConfig, seed: int) -> dict[str, Any]:
    """``spec`` trained with ``config``: validation and test accuracy, seconds."""
    begun = time.perf_counter()
    ev = train(spec, data, config, seed=candidate_seed(seed, spec.hash))
    return {"params": spec.params, "val": ev.metrics.get("val_accuracy", 0.0),
            "test": 0.0 if ev.failed else score_test_split(ev.model(), data)["test_accuracy"],
            "seconds": time.perf_counter() - begun}


def default_comparison(data: Any, seed: int) -> None:
    start = time.perf_counter()
    result = ek.presets.deepga(data, seed=seed, progress=False).run()
    search_time = time.perf_counter() - start
    spec = lenet(data.input_shape, data.n_outputs)
    base = trained(spec, data, LENET_TRAINING, seed)
    evo_acc, evo_params = result.test_scores["test_accuracy"], result.best.params
    print(f"seed {seed}: evokit default {evo_acc:.3f} test, {evo_params:,} params, {search_time:.0f} s "
          f"({result.best.description}); LeNet-style {base['test']:.3f}, {spec.params:,} params, "
          f"{base['seconds']:.1f} s; evokit/LeNet parameters {evo_params / spec.params:.3f} "
          f"({100 * (1 - evo_params / spec.params):.0f}% fewer), accuracy {evo_acc - base['test']:+.3f}", flush=True)


def compact_comparison(data: Any, seed: int, seconds: float, workers: int) -> None:
    spec = lenet(data.input_shape, data.n_outputs)
    cap = int(SHARE * spec.params)
    start = time.perf_counter()
    result = ek.presets.compact(data, seconds=seconds, seed=seed, workers=workers, final_training=None,
                                progress=False).run()
    search_time = time.perf_counter() - start
    small = [c for c in result.pareto_front if c.params <= cap]
    scored = [(trained(c.spec, data, ek.presets.COMPACT_FINAL, seed), c.description) for c in small]
    lenets = {name: trained(spec, data, config, seed)
              for name, config in (("default", LENET_TRAINING), ("compact", ek.presets.COMPACT_FINAL))}
    best_lenet = max(lenets.values(), key=lambda r: r["test"])
    line = (f"seed {seed}: compact search {search_time:.0f} s x {workers} workers, {result.stats['trained']} "
            f"trained; LeNet-style {spec.params:,} params test {lenets['default']['test']:.3f} (its training) / "
            f"{lenets['compact']['test']:.3f} (COMPACT_FINAL)")
    if not scored:
        print(line + f"; no front member under {cap:,} parameters", flush=True)
        return
    pick, network = max(scored, key=lambda s: (s[0]["val"], -s[0]["params"]))
    print(line + f"; best under {cap:,} params by validation: test {pick['test']:.3f} (val {pick['val']:.3f}), "
          f"{pick['params']:,} params = {pick['params'] / spec.params:.1%} of LeNet, {network}; "
          f"accuracy vs LeNet's best {pick['test'] - best_lenet['test']:+.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--compact", action="store_true", help="compare ek.presets.compact's small networks")
    parser.add_argument("--seconds", type=float, default=300.0, help="--compact: search seconds (default 300)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    for seed in args.seeds:
        data = ek.datasets.load("digits", seed=seed)
        if args.compact:
            compact_comparison(data, seed, args.seconds, args.workers)
        else:
            default_comparison(data, seed)


if __name__ == "__main__":
    main()
