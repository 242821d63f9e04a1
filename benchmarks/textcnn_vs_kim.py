"""Kim's TextCNN vs evokit's TextCNN search (backprop) and DeepNEWT (no gradient), side by side.

On the embedded ``languages`` set, per seed, in one run:

* **Kim's TextCNN** (Kim 2014: windows 3/4/5 with 100 filters each, global max pooling, dropout
  0.5, softmax; the 300-d word vectors scaled to this 2,000-word vocabulary as 64-d trainable
  embeddings), trained by evokit's trainer: Adam 1e-3, batch 32, up to 30 epochs with early
  stopping (patience 3) on the validation loss.
* **(a) backprop search**: NSGA-II on validation accuracy and parameter count over
  ``TextCNN()``, each candidate trained 3 epochs, ``--seconds`` of search with 2 worker
  processes; the front member with the best validation accuracy among those with at most 10%
  of Kim's parameters is retrained exactly as Kim's network and tested.
* **(b) DeepNEWT**: a GA over ``TextCNN(mode="weights")`` (architecture and weights evolved
  together by blend crossover and Gaussian mutation, no gradient step), ``--seconds`` of search
  in one process; its best genotype is tested as it is. Candidates/s is counted.
* **(c) Lamarckian DeepNEWT**: the same GA with ``lamarckian=True``: each candidate is trained one
  epoch by backpropagation from its carried weights, which are written back into the genotype.

Run: ``python benchmarks/textcnn_vs_kim.py [--seeds 0 1 2] [--seconds 180] [--quick]``;
``--sweep-sigma 0.1 0.02 0.005 [--sweep-indpb 0.05 1.0] --seconds 60`` runs DeepNEWT alone for each
mutation setting instead.
"""
from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

import evokit as ek
from evokit.netspec import Concat, Conv1D, Dense, Dropout, Embedding, GlobalPool, Graph
from evokit.runtime.training.trainer import candidate_seed, score_test_split, train

FINAL = ek.TrainingConfig(epochs=30, early_stopping=3)


def kim(length: int, vocab: int, n_classes: int, dim: int = 64, filters: int = 100) -> ek.NetSpec:
    """Kim's TextCNN: windows 3, 4 and 5 of ``filters`` each, max over time, dropout 0.5, softmax."""
    g = Graph((length,))
    x = g.add(Embedding(vocab, dim), g.input)
    pooled = [g.add(GlobalPool("max"), g.add(Conv1D(filters, min(w, length), padding="valid"), x)) for w in (3, 4, 5)]
    x = g.add(Dropout(0.5), g.add(Concat(), *pooled))
    return g.finish(g.add(Dense(n_classes, activation="softmax"), x))


def retrain(spec: ek.NetSpec, data: Any, seed: int) -> tuple[float, float]:
    """Test accuracy and wall time of ``spec`` trained with FINAL."""
    start = time.perf_counter()
    evaluation = train(spec, data, FINAL, seed=candidate_seed(seed, spec.hash))
    return score_test_split(evaluation.model(), data)["test_accuracy"], time.perf_counter() - start


def backprop_search(data: Any, seed: int, seconds: float, cap: int) -> dict[str, Any]:
    search = ek.Search(encoding=ek.encodings.TextCNN(),
                       objectives=[ek.fitness.ValidationAccuracy(epochs=3), ek.fitness.ParameterCount()],
                       algorithm=ek.algorithms.NSGA2(population=16, generations=1000), data=data, seed=seed,
                       workers=2, budget=ek.Budget(seconds=seconds), progress=False)
    start = time.perf_counter()
    result = search.run()
    elapsed = time.perf_counter() - start
    small = [c for c in result.pareto_front if c.params <= cap] or result.pareto_front
    chosen = max(small, key=lambda c: c.values["val_accuracy"])
    accuracy, _ = retrain(chosen.spec, data, seed)
    return {"test": accuracy, "params": chosen.params, "time": elapsed, "evaluated": result.stats["evaluated"],
            "network": chosen.description}


def deepnewt_search(data: Any, seed: int, seconds: float, lamarckian: bool = False, sigma: float = 0.1,
                    indpb: float | None = None, evolve_embedding: bool = True) -> dict[str, Any]:
    encoding = ek.encodings.TextCNN(mode="weights", embedding_dims=(4, 8), widths=(2, 3), filters=(4, 8), sigma=sigma,
                                    indpb=indpb, lamarckian=lamarckian, trainable_embedding=evolve_embedding)
    search = ek.Search(encoding=encoding, objectives=ek.fitness.ValidationAccuracy(epochs=1),
                       algorithm=ek.algorithms.GA(population=40, generations=100_000), data=data, seed=seed,
                       budget=ek.Budget(seconds=seconds), progress=False)
    start = time.perf_counter()
    result = search.run()
    elapsed = time.perf_counter() - start
    return {"test": result.test_scores["test_accuracy"], "params": result.best.params, "time": elapsed,
            "val": result.best.values["val_accuracy"],
            "evaluated": result.stats["evaluated"], "rate": result.stats["evaluated"] / elapsed,
            "generations": result.stats["generations"], "network": result.best.description}


def one_seed(seed: int, seconds: float) -> dict[str, Any]:
    data = ek.datasets.load("languages", seed=seed)
    spec = kim(data.input_shape[0], data.vocab_size, data.n_outputs)
    kim_acc, kim_time = retrain(spec, data, seed)
    row = {"seed": seed, "kim": {"test": kim_acc, "params": spec.params, "time": kim_time}}
    row["backprop"] = backprop_search(data, seed, seconds, cap=spec.params // 10)
    row["deepnewt"] = deepnewt_search(data, seed, seconds)
    row["lamarckian"] = deepnewt_search(data, seed, seconds, lamarckian=True)
    return row


def report(rows: list[dict[str, Any]]) -> None:
    print(f"\n{'seed':>4} {'network':<22} {'test acc':>8} {'params':>9} {'vs Kim':>8} {'time':>7}  notes")
    for row in rows:
        kim_params = row["kim"]["params"]
        for name, label in (("kim", "Kim's TextCNN"), ("backprop", "(a) backprop search"), ("deepnewt", "(b) DeepNEWT"),
                            ("lamarckian", "(c) Lamarckian")):
            r = row[name]
            notes = r.get("network", "")
            if name in ("deepnewt", "lamarckian"):
                notes = f"{r['evaluated']} candidates, {r['rate']:.0f}/s, {r['generations']} gens; {notes}"
            elif name == "backprop":
                notes = f"{r['evaluated']} candidates; {notes}"
            print(f"{row['seed']:>4} {label:<22} {r['test']:>8.3f} {r['params']:>9,} {r['params'] / kim_params:>8.3f} "
                  f"{r['time']:>6.0f}s  {notes}")
    for name in ("kim", "backprop", "deepnewt", "lamarckian"):
        acc = np.array([row[name]["test"] for row in rows])
        print(f"mean {name:<10} test accuracy {acc.mean():.3f} ± {acc.std():.3f}")
    gap = np.array([row["backprop"]["test"] - row["kim"]["test"] for row in rows])
    print(f"(a) - Kim: {gap.mean():+.3f} ± {gap.std():.3f} accuracy points x100 = {100 * gap.mean():+.1f}")


def sweep(seed: int, seconds: float, sigmas: list[float], indpbs: list[float]) -> None:
    """DeepNEWT alone, one search per (embedding evolved or fixed, sigma, indpb): how the genes
    evolved and the mutation's scale decide how far gradient-free evolution gets in the same time."""
    data = ek.datasets.load("languages", seed=seed)
    print(f"{'embedding':>9} {'sigma':>6} {'indpb':>6} {'val acc':>8} {'test acc':>8} {'candidates':>10} {'per s':>6}")
    for evolve in (True, False):
        for sigma in sigmas:
            for indpb in indpbs:
                r = deepnewt_search(data, seed, seconds, sigma=sigma, indpb=indpb, evolve_embedding=evolve)
                print(f"{'evolved' if evolve else 'fixed':>9} {sigma:>6} {indpb:>6} {r['val']:>8.3f} {r['test']:>8.3f} "
                      f"{r['evaluated']:>10} {r['rate']:>6.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--seconds", type=float, default=180.0, help="wall-clock budget of each search")
    parser.add_argument("--quick", action="store_true", help="one seed, 20 s searches (a smoke run)")
    parser.add_argument("--sweep-sigma", type=float, nargs="+", default=None,
                        help="instead: DeepNEWT alone on the first seed, one search per sigma (and --sweep-indpb)")
    parser.add_argument("--sweep-indpb", type=float, nargs="+", default=[0.05])
    args = parser.parse_args()
    if args.sweep_sigma:
        sweep(args.seeds[0], args.seconds, args.sweep_sigma, args.sweep_indpb)
        return
    seeds, seconds = ([args.seeds[0]], 20.0) if args.quick else (args.seeds, args.seconds)
    rows = []
    for seed in seeds:
        rows.append(one_seed(seed, seconds))
        report(rows)


if __name__ == "__main__":
    main()
