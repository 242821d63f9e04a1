"""Swap encodings: the same data, fitness and GA, with each of evokit's encodings.

Prints one table: encoding, best validation accuracy, parameters of the best network, networks
trained, wall time. Every encoding decodes to a NetSpec and trains as a real Keras model; only
the genotype and its operators change. About 3-4 minutes on 2 CPU cores with the defaults.
"""
from __future__ import annotations

import sys
import time

import evokit as ek


def encodings() -> dict[str, ek.encodings.Encoding]:
    E = ek.encodings
    return {"DeepGA": E.DeepGA(), "Binary": E.Binary(), "Real": E.Real(), "Permutation": E.Permutation(),
            "Grouping": E.Grouping(), "Tree": E.Tree(), "Graph (NEAT)": E.NEAT(finetune=True)}


def main(population: int = 8, generations: int = 4, epochs: int = 3, only: list[str] | None = None) -> list[dict]:
    data = ek.datasets.load("digits", seed=0)
    rows = []
    for name, encoding in encodings().items():
        if only and name not in only:
            continue
        start = time.perf_counter()
        result = ek.Search(encoding=encoding, objectives=ek.fitness.ValidationAccuracy(epochs=epochs), data=data,
                           algorithm=ek.algorithms.GA(population=population, generations=generations), seed=0,
                           progress=False).run()
        rows.append({"encoding": name, "val_accuracy": result.best.values["val_accuracy"],
                     "params": result.best.params, "trained": result.stats["trained"],
                     "failures": sum(result.stats["failures"].values()), "seconds": time.perf_counter() - start,
                     "best": result.best.description})
        print(f"{name}: done in {rows[-1]['seconds']:.0f} s", file=sys.stderr, flush=True)
    print(f"\ndigits, GA population {population}, {generations} generations, {epochs} epochs per candidate, seed 0\n")
    print(f"| {'encoding':<13} | best val acc | {'params':>8} | trained | failed | wall time |")
    print(f"|{'-' * 15}|-------------:|---------:|--------:|-------:|----------:|")
    for r in rows:
        print(f"| {r['encoding']:<13} | {r['val_accuracy']:>12.3f} | {r['params']:>8,} | {r['trained']:>7} | "
              f"{r['failures']:>6} | {r['seconds']:>8.0f}s |")
    return rows


if __name__ == "__main__":
    main()
