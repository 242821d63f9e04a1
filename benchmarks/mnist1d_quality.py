"""Small accurate networks on MNIST-1D: ``ek.presets.compact`` against the MNIST-1D paper's CNN.

MNIST-1D (Greydanus 2020) is the small benchmark where architecture matters: the paper reports
logistic regression 32%, MLP 68%, GRU 91% and a CNN 94% test accuracy; the CNN is three 1-D
convolutions of 25 channels, kernel 5, stride 2, and a linear head. Here:

* **search**: ``ek.presets.compact("mnist1d", seconds=...)`` (NSGA-II on validation accuracy
  and parameter count) for ``--minutes`` with ``--workers`` worker processes, per seed;
* **front retrained**: every Pareto-front member with at most ``--cap`` parameters (and the most
  accurate one) is retrained as ``ek.presets.COMPACT_FINAL`` says and tested; the network
  reported under a parameter budget is the one with the best *validation* accuracy after
  retraining (the test split chooses nothing);
* **paper's CNN**, built here (``paper_cnn``), trained in the same run by the same trainer with
  the same final training, tested on the same split.

``--ablation`` instead runs, per seed and for ``--minutes`` each, the search as a new user
would write it (the issue's: DeepGA with up to 4 conv blocks and 2 dense layers, NSGA-II,
population 24, up to 20 epochs at Adam 1e-3 with early stopping 3) and ``compact`` with one of
its choices taken away (its training at a constant 1e-3; no seeding; no strided/global-pool
genes) or one more added (successive halving from 5 epochs, eta 2; weight inheritance), each
front retrained and scored the same way.

Run: ``python benchmarks/mnist1d_quality.py [--seeds 0 1 2] [--minutes 15] [--workers 2]``
(``--ablation --minutes 5``). Needs ``pip install mnist1d``.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import evokit as ek  # noqa: E402
from evokit.netspec import Conv1D, Dense, Flatten, Graph  # noqa: E402
from evokit.runtime.candidates.fidelity import SuccessiveHalving  # noqa: E402
from evokit.runtime.training.trainer import candidate_seed, score_test_split, train  # noqa: E402

ISSUE_FINAL = ek.TrainingConfig(epochs=40, early_stopping=5)
"""The final training the issue's user had (``Search(final_training=40)``: Adam 1e-3, early stopping 5)."""
OWN_FINAL = {"issue's setup": ISSUE_FINAL}
"""Variants whose front is also retrained their own way (reported as ``front_own``)."""
CAPS = (2_600, 5_200)
"""Parameter budgets reported: the issue's figure for the paper's CNN (~5,200) and half of it. The
CNN as built here (``paper_cnn``, 'same' padding) has 7,710."""


def paper_cnn(input_shape: tuple[int, ...], n_classes: int) -> ek.NetSpec:
    """The MNIST-1D paper's CNN: three Conv1D(25, kernel 5, stride 2, relu) and a linear head."""
    g = Graph(input_shape)
    x = g.input
    for _ in range(3):
        x = g.add(Conv1D(25, 5, strides=2, activation="relu"), x)
    return g.finish(g.add(Dense(n_classes, activation="softmax"), g.add(Flatten(), x)))


def retrain(spec: ek.NetSpec, data: Any, seed: int, final: ek.TrainingConfig) -> dict[str, Any]:
    """``spec`` trained with ``final`` from scratch, and its validation and test accuracy."""
    begun = time.perf_counter()
    ev = train(spec, data, final, seed=candidate_seed(seed, spec.hash))
    if ev.failed:
        return {"params": spec.params, "failed": ev.reason}
    test = score_test_split(ev.model(), data)["test_accuracy"]
    return {"params": spec.params, "val_accuracy": round(ev.metrics["val_accuracy"], 4),
            "test_accuracy": round(test, 4), "seconds": round(time.perf_counter() - begun, 1)}


def variants() -> dict[str, Any]:
    """name -> function(data, seed, seconds, workers) -> Search, for the main run and the ablation."""
    issue_training = dict(epochs=20, early_stopping=3)

    def issue(data: Any, seed: int, seconds: float, workers: int) -> ek.Search:
        return ek.Search(ek.encodings.DeepGA(max_conv_blocks=4, max_dense=2),
                         [ek.fitness.ValidationAccuracy(**issue_training), ek.fitness.ParameterCount()], data,
                         algorithm=ek.algorithms.NSGA2(population=24, generations=10_000),
                         budget=ek.Budget(seconds=seconds), seed=seed, workers=workers, progress=False)

    def compact(**changes: Any) -> Any:
        def make(data: Any, seed: int, seconds: float, workers: int) -> ek.Search:
            extra = ("space", "fidelity", "inherit_weights")
            search = ek.presets.compact(data, seconds=seconds, seed=seed, workers=workers, progress=False,
                                        **{k: v for k, v in changes.items() if k not in extra})
            if "space" in changes:
                search.encoding = changes["space"]
            search.fidelity = changes.get("fidelity")
            search.inherit_weights = changes.get("inherit_weights", False)
            return search
        return make

    plain = ek.encodings.DeepGA(**{**ek.presets.compact_space().get_params(), "strides": (1,), "heads": ("flatten",)})
    return {"compact": compact(),
            "issue's setup": issue,
            "compact at 1e-3": compact(training=ek.TrainingConfig(epochs=20, early_stopping=5)),
            "compact, not seeded": compact(seeded=False),
            "compact, no stride/head genes": compact(space=plain, seeded=False),
            "compact + successive halving": compact(fidelity=SuccessiveHalving(min_epochs=5, eta=2)),
            "compact + weight inheritance": compact(inherit_weights=True)}


def run_one(name: str, data: Any, seed: int, minutes: float, workers: int, cap: int, top: int | None = None
            ) -> dict[str, Any]:
    """One search of variant ``name``, its front (up to ``cap`` parameters, and the most accurate)
    retrained and tested; with ``top``, only the ``top`` most accurate in the search under each
    parameter budget of ``CAPS`` and overall (a cheaper retraining, for the ablation)."""
    search = variants()[name](data, seed, minutes * 60, workers)
    search.final_training = None  # the front is retrained below, every member the same way
    begun = time.perf_counter()
    result = search.run()
    seconds = time.perf_counter() - begun
    front = sorted(result.pareto_front, key=lambda c: c.params)
    chosen = [c for c in front if c.params <= cap]
    if front and front[-1] not in chosen:
        chosen.append(max(front, key=lambda c: c.values["val_accuracy"]))
    if top is not None:
        ranked = sorted(front, key=lambda c: -c.values["val_accuracy"])
        chosen = list({c.spec.hash: c for limit in (*CAPS, float("inf"))
                       for c in [m for m in ranked if m.params <= limit][:top]}.values())
    begun = time.perf_counter()
    members = [{**retrain(c.spec, data, seed, ek.presets.COMPACT_FINAL), "network": c.description,
                "search_val_accuracy": round(c.values["val_accuracy"], 4)} for c in chosen]
    run = {"variant": name, "seed": seed, "search_seconds": round(seconds, 1), "trained": result.stats["trained"],
           "generations": result.stats["generations"], "retrain_seconds": round(time.perf_counter() - begun, 1),
           "front": members}
    if name in OWN_FINAL:
        run["front_own"] = [{**retrain(c.spec, data, seed, OWN_FINAL[name]), "network": c.description} for c in chosen]
    return run


def best_under(members: list[dict[str, Any]], cap: float) -> dict[str, Any] | None:
    """The member with at most ``cap`` parameters and the best validation accuracy after retraining."""
    ok = [m for m in members if "val_accuracy" in m and m["params"] <= cap]
    return max(ok, key=lambda m: (m["val_accuracy"], -m["params"])) if ok else None


def describe(run: dict[str, Any]) -> str:
    parts = [f"{run['variant']:<30} seed {run['seed']}: {run['trained']} trained in {run['search_seconds']:.0f} s "
             f"({run['generations']} generations), front retrained in {run['retrain_seconds']:.0f} s"]
    for cap in (*CAPS, float("inf")):
        m = best_under(run["front"], cap)
        label = "any size" if cap == float("inf") else f"<= {cap:,} params"
        parts.append(f"    {label:<18} " + ("none" if m is None else
                     f"test {m['test_accuracy']:.3f} (val {m['val_accuracy']:.3f}) {m['params']:>6,} params  "
                     f"{m['network']}"))
        own = best_under(run.get("front_own", []), cap)
        if own is not None:
            parts.append(f"    {'':<18} its own final training: test {own['test_accuracy']:.3f} "
                         f"(val {own['val_accuracy']:.3f}) {own['params']:>6,} params")
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--minutes", type=float, default=15.0, help="search budget per run (default 15)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cap", type=int, default=CAPS[-1], help="retrain front members up to this size")
    parser.add_argument("--ablation", action="store_true", help="compare the issue's setup and compact's choices")
    parser.add_argument("--variants", nargs="+", default=None, help="with --ablation: which (names as printed)")
    parser.add_argument("--top", type=int, default=None,
                        help="retrain only the N best (search validation) under each budget, not the whole front")
    parser.add_argument("--out", default=None, help="write every run's figures to this JSON file")
    args = parser.parse_args()
    names = (args.variants or list(variants())) if args.ablation else ["compact"]
    runs: list[dict[str, Any]] = []
    for seed in args.seeds:
        data = ek.datasets.load("mnist1d", seed=seed)
        cnn = paper_cnn(data.input_shape, data.n_outputs)
        baseline = retrain(cnn, data, seed, ek.presets.COMPACT_FINAL)
        print(f"paper's CNN, seed {seed}: test {baseline['test_accuracy']:.3f} (val {baseline['val_accuracy']:.3f}) "
              f"{baseline['params']:,} params, {baseline['seconds']:.0f} s", flush=True)
        for name in names:
            run = run_one(name, data, seed, args.minutes, args.workers, args.cap, args.top)
            run["paper_cnn"] = baseline
            runs.append(run)
            print(describe(run), flush=True)
            if args.out:
                with open(args.out, "w") as f:
                    json.dump(runs, f, indent=1)
    for name in names:
        mine = [r for r in runs if r["variant"] == name]
        for cap in CAPS:
            accs = [m["test_accuracy"] for r in mine if (m := best_under(r["front"], cap)) is not None]
            cnn = [r["paper_cnn"]["test_accuracy"] for r in mine]
            print(f"{name}: best network <= {cap:,} params, test accuracy per seed "
                  f"{', '.join(f'{a:.3f}' for a in accs)}; paper's CNN ({mine[0]['paper_cnn']['params']:,} params) "
                  f"{', '.join(f'{a:.3f}' for a in cnn)}")


if __name__ == "__main__":
    main()
