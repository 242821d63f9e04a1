"""Multi-fidelity on digits: the same GA search with and without successive halving and weight
inheritance, side by side in one run.

Four searches (DeepGA, GA population 8, 4 generations, 4 epochs per full training, same seed):
plain; ``fidelity=SuccessiveHalving(min_epochs=1, eta=3)`` (rungs 1, 3, 4 epochs);
``inherit_weights=True``; both. For each: trainings run, epochs trained, wall time, the best
validation accuracy found and the test accuracy of the best network as trained in the search;
then the ratios to the plain search. Run: ``python benchmarks/multi_fidelity.py [--seed 0]``.
"""
from __future__ import annotations

import argparse
import time
from typing import Any, Sequence

import evokit as ek
from evokit.runtime.executors import Job, SerialEvaluator
from evokit.runtime.candidates.fidelity import SuccessiveHalving


class CountingEvaluator(SerialEvaluator):
    """Trains in this process and counts trainings and the epochs they ran."""

    def __init__(self) -> None:
        self.trainings = 0
        self.epochs = 0

    def train(self, jobs: Sequence[Job], on_result: Any = None) -> list[ek.Evaluation]:
        results = super().train(jobs, on_result)
        self.trainings += len(results)
        self.epochs += sum(len(e.history.get("loss", ())) for e in results)
        return results


def run(data: Any, seed: int, population: int, generations: int, epochs: int, **options: Any) -> dict[str, Any]:
    evaluator = CountingEvaluator()
    search = ek.Search(ek.encodings.DeepGA(), ek.fitness.ValidationAccuracy(epochs=epochs), data,
                       algorithm=ek.algorithms.GA(population=population, generations=generations), seed=seed,
                       workers=evaluator, progress=False, **options)
    start = time.perf_counter()
    result = search.run()
    return {"trainings": evaluator.trainings, "epochs": evaluator.epochs, "time": time.perf_counter() - start,
            "val": result.best.values["val_accuracy"], "test": result.test_scores.get("test_accuracy", float("nan")),
            "best_epochs": result.best.evaluation.extra.get("epochs", epochs), "best": result.best.description}


def main(seed: int = 0, population: int = 8, generations: int = 4, epochs: int = 4) -> dict[str, dict[str, Any]]:
    data = ek.datasets.load("digits", seed=seed)
    halving = SuccessiveHalving(min_epochs=1, eta=3)
    variants = {"plain": {}, "halving": {"fidelity": halving}, "inherit": {"inherit_weights": True},
                "halving+inherit": {"fidelity": halving, "inherit_weights": True}}
    rows = {name: run(data, seed, population, generations, epochs, **options) for name, options in variants.items()}
    base = rows["plain"]
    print(f"{'variant':<16} {'trainings':>9} {'epochs':>6} {'time':>7} {'best val':>8} {'test':>6} {'best ep':>7}  "
          f"{'epochs/plain':>12} {'time/plain':>10}")
    for name, r in rows.items():
        print(f"{name:<16} {r['trainings']:>9} {r['epochs']:>6} {r['time']:>6.1f}s {r['val']:>8.3f} {r['test']:>6.3f} "
              f"{r['best_epochs']:>7}  {r['epochs'] / base['epochs']:>12.2f} {r['time'] / base['time']:>10.2f}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--generations", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    main(args.seed, args.population, args.generations, args.epochs)
