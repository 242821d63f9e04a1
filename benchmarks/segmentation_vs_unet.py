"""A hand-made U-Net vs the best network of an evokit NASGP-Net-style search, side by side.

On the embedded ``cells`` set, per seed, in one run:

* **U-Net** (Ronneberger et al. 2015 shrunk to 32x32 images: depth 3, 16 base filters, two
  3x3 convolutions per level, 2x2 max pooling, 2x2 up-convolutions, skip concatenations, a 1x1
  sigmoid head), trained by evokit's trainer with ``FINAL``: Adam 1e-3, batch 32, up to
  ``--epochs`` epochs with early stopping (patience 4) on the validation loss (cross-entropy +
  soft Dice).
* **evokit search**: NSGA-II on validation Dice and parameter count over ``UNetTree`` (a U-Net
  of depth 3 whose cell is one GP tree of convolutions, separable convolutions, residual adds
  and concatenations), each candidate trained ``--candidate-epochs`` epochs (Adam at
  ``--candidate-lr``: a short training must rank, not finish) on a subset of the training split
  (``--search-train`` images; validation on ``--search-val``), 2 worker
  processes for ``--seconds`` of wall time (2 x seconds CPU time: 600 s = the issue's 20
  CPU-minutes). The front member with the best validation Dice among those with at most 20% of
  the U-Net's parameters is retrained exactly as the U-Net and tested.

Both are scored on the same test split: Dice and IoU (foreground), parameters, FLOPs per image,
training wall time. Target (NASGP-Net's headline): test Dice within 0.012 of the U-Net's with at
least 80% fewer parameters. A threshold baseline (the best global threshold on the training
images) is printed too, so the numbers can be read.

Run: ``python benchmarks/segmentation_vs_unet.py [--seeds 0 1 2] [--seconds 600] [--quick]``.
"""
from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

import evokit as ek
from evokit import tasks
from evokit.encodings.base import add_head
from evokit.netspec import Concat, Conv2D, Conv2DTranspose, Graph, Pool
from evokit.runtime.training.trainer import candidate_seed, score_test_split, train

CAP = 0.2
"""The evolved network may have at most this share of the U-Net's parameters (80% fewer)."""


def unet(data: Any, depth: int = 3, base: int = 16) -> ek.NetSpec:
    """Ronneberger's U-Net at ``depth`` levels from ``base`` filters, with 'same' padding."""
    g = Graph(data.input_shape)

    def double_conv(x: int, filters: int) -> int:
        return g.add(Conv2D(filters, 3), g.add(Conv2D(filters, 3), x))

    x, skips = g.input, []
    for level in range(depth):
        x = double_conv(x, base * 2**level)
        skips.append(x)
        x = g.add(Pool("max", 2), x)
    x = double_conv(x, base * 2**depth)
    for level in reversed(range(depth)):
        up = g.add(Conv2DTranspose(base * 2**level), x)
        x = double_conv(g.add(Concat(), skips[level], up), base * 2**level)
    return add_head(g, x, data.n_outputs, data.task)


def retrain(spec: ek.NetSpec, data: Any, seed: int, final: ek.TrainingConfig) -> dict[str, Any]:
    """Test Dice/IoU, parameters, FLOPs and training wall time of ``spec`` trained with ``final``."""
    start = time.perf_counter()
    evaluation = train(spec, data, final, seed=candidate_seed(seed, spec.hash))
    seconds = time.perf_counter() - start
    if evaluation.failed:
        raise RuntimeError(f"{spec.summary()} failed: {evaluation.reason}: {evaluation.message}")
    scores = score_test_split(evaluation.model(), data)
    return {"dice": scores["test_dice"], "iou": scores["test_iou"], "params": spec.params, "flops": spec.flops,
            "time": seconds, "epochs": len(evaluation.history.get("loss", []))}


def threshold_baseline(data: Any) -> float:
    """Test Dice of the best global threshold on the (scaled) images, chosen on the training split."""
    task = tasks.get("segmentation")
    grid = np.quantile(data.x_train, np.linspace(0.02, 0.98, 49))

    def dice(x: np.ndarray, y: np.ndarray, t: float) -> float:
        return task.score(y, (x[..., :1] > t).astype("float32"))["val_dice"]

    best = max(grid, key=lambda t: dice(data.x_train[:500], data.y_train[:500], t))
    return dice(data.x_test, data.y_test, best)


def search(data: Any, seed: int, seconds: float, cap: int, args: argparse.Namespace) -> dict[str, Any]:
    """NSGA-II over UNetTree on a subset; the chosen front member (see the module docstring)."""
    small = data.subset(n_train=args.search_train, n_val=args.search_val, seed=seed)
    s = ek.Search(encoding=ek.encodings.UNetTree(depth=3, base_filters=16),
                  objectives=[ek.fitness.ValidationDice(epochs=args.candidate_epochs, batch_size=32,
                                                        learning_rate=args.candidate_lr),
                              ek.fitness.ParameterCount()],
                  algorithm=ek.algorithms.NSGA2(population=12, generations=1000), data=small, seed=seed,
                  workers=ek.runtime.ProcessEvaluator(2, memory_limit_gb=args.worker_memory_gb),
                  budget=ek.Budget(seconds=seconds), progress=False)
    start = time.perf_counter()
    result = s.run()
    elapsed = time.perf_counter() - start
    under = [c for c in result.pareto_front if c.params <= cap]
    chosen = max(under or result.pareto_front, key=lambda c: c.values["val_dice"])
    return {"chosen": chosen, "time": elapsed, "evaluated": result.stats["evaluated"],
            "generations": result.stats["generations"], "front": len(result.pareto_front), "capped": bool(under)}


def one_seed(seed: int, args: argparse.Namespace) -> dict[str, Any]:
    data = ek.datasets.load("cells", seed=seed)
    final = ek.TrainingConfig(epochs=args.epochs, batch_size=32, early_stopping=4)
    reference = unet(data)
    row: dict[str, Any] = {"seed": seed, "threshold": threshold_baseline(data)}
    row["unet"] = retrain(reference, data, seed, final)
    found = search(data, seed, args.seconds, int(CAP * reference.params), args)
    row["search"] = {**retrain(found["chosen"].spec, data, seed, final), "search_time": found["time"],
                     "evaluated": found["evaluated"], "generations": found["generations"],
                     "val_dice": found["chosen"].values["val_dice"], "capped": found["capped"],
                     "network": found["chosen"].description}
    return row


def report(rows: list[dict[str, Any]]) -> None:
    print(f"\n{'seed':>4} {'network':<16} {'test Dice':>9} {'IoU':>6} {'params':>9} {'vs U-Net':>8} "
          f"{'MFLOPs':>7} {'train':>6}  notes")
    for row in rows:
        ref = row["unet"]
        for name, label in (("unet", "U-Net"), ("search", "evokit search")):
            r = row[name]
            notes = (f"{r['evaluated']} candidates, {r['generations']} gens in {r['search_time']:.0f} s; "
                     f"val Dice {r['val_dice']:.3f}{'' if r['capped'] else ' (none under the cap)'}; "
                     f"{r['network']}") if name == "search" else f"threshold baseline {row['threshold']:.3f}"
            print(f"{row['seed']:>4} {label:<16} {r['dice']:>9.3f} {r['iou']:>6.3f} {r['params']:>9,} "
                  f"{r['params'] / ref['params']:>8.3f} {r['flops'] / 1e6:>7.1f} {r['time']:>5.0f}s  {notes}")
    gap = np.array([row["search"]["dice"] - row["unet"]["dice"] for row in rows])
    share = np.array([row["search"]["params"] / row["unet"]["params"] for row in rows])
    print(f"search - U-Net test Dice: {gap.mean():+.4f} ± {gap.std():.4f} (target >= -0.012); "
          f"parameters {share.mean():.3f} ± {share.std():.3f} of the U-Net's (target <= {CAP})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--seconds", type=float, default=600.0, help="wall-clock budget of each search (2 workers)")
    parser.add_argument("--epochs", type=int, default=30, help="most epochs of the final trainings")
    parser.add_argument("--candidate-epochs", type=int, default=4)
    parser.add_argument("--candidate-lr", type=float, default=0.005, help="Adam's learning rate for candidates")
    parser.add_argument("--search-train", type=int, default=800)
    parser.add_argument("--worker-memory-gb", type=float, default=1.5,
                        help="a worker over this is replaced (ProcessEvaluator's default 1.5 GB: U-Net workers reach it)")
    parser.add_argument("--search-val", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="one seed, a 60 s search, 5 epochs (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.seconds, args.epochs = args.seeds[:1], 60.0, 5
    rows = []
    for seed in args.seeds:
        rows.append(one_seed(seed, args))
        report(rows)


if __name__ == "__main__":
    main()
