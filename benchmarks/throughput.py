"""Evaluations per minute: evokit vs a naive DEAP + Keras loop, on the same DeepGA genotypes.

The genotypes come from a seeded GA (eaSimple-style: tournament selection, DeepGA's own
crossover and mutation; only offspring that variation changed are evaluated). evokit runs the GA
and its evaluated genotypes are recorded, generation by generation; the naive loop (and, with
``--factors``, evokit in other configurations) then evaluates exactly that list, on digits with
2 epochs of Adam.

* naive: what users write: per candidate build the Keras model, compile, ``fit``,
  ``model.evaluate``, serially, TensorFlow's default threads (the network is built from the same
  decoded NetSpec, so both sides train identical architectures).
* evokit: ``CandidateEvaluator`` (fitness cache: an identical network is trained once) on a
  2-process ``ProcessEvaluator`` with the library's default training (what a new user gets).
  ``--factors`` also measures evokit serially, and with ``TrainingConfig(trace_once=True)``.

Run: ``python benchmarks/throughput.py [--population 16 --generations 8 --factors]``. The
evokit figures include starting the worker processes: each evokit row's clock starts before its
first batch, and the first batch starts the workers (the fork server's TensorFlow import
included). The naive loop's clock likewise includes importing Keras, as a user's script does
(this process has not imported it before); each ratio is also printed against the naive loop
without its import.
At ``--population 10 --generations 5`` this is the issue's short search (the GA evaluates the 10
initial genotypes and then only offspring that variation changed: 35 genotypes, not 45).
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import random
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import evokit as ek  # noqa: E402
from evokit.runtime.candidates.evaluator import CandidateEvaluator  # noqa: E402
from evokit.runtime.executors import ProcessEvaluator, SerialEvaluator  # noqa: E402

EPOCHS = 2


def encoding() -> Any:
    return ek.encodings.DeepGA(max_conv_blocks=3, max_dense=2)


def run_ga(candidates: CandidateEvaluator, population: int, generations: int, seed: int = 0
           ) -> tuple[list[list[Any]], float]:
    """A seeded eaSimple-style GA (tournament of 3, crossover 0.5, mutation 0.3) scored by
    ``candidates``: the genotypes it evaluated, generation by generation, and the seconds spent
    evaluating them. Only offspring that crossover or mutation changed are evaluated."""
    from deap import base

    random.seed(seed)
    enc = encoding()
    toolbox = base.Toolbox()
    enc.register(toolbox)
    pop = [enc.random() for _ in range(population)]
    seconds = 0.0

    def evaluate(batch: list[Any]) -> list[float]:
        nonlocal seconds
        start = time.perf_counter()
        values = [o.values[0] for o in candidates.evaluate_all(batch)]
        seconds += time.perf_counter() - start
        return values

    values = evaluate(pop)
    batches = [copy.deepcopy(pop)]
    for _ in range(generations):
        chosen = [max(random.sample(range(population), 3), key=lambda j: values[j]) for _ in range(population)]
        offspring = [copy.deepcopy(pop[j]) for j in chosen]
        new_values: list[float | None] = [values[j] for j in chosen]
        for i in range(1, population, 2):
            if random.random() < 0.5:
                toolbox.mate(offspring[i - 1], offspring[i])
                new_values[i - 1] = new_values[i] = None
        for i in range(population):
            if random.random() < 0.3:
                toolbox.mutate(offspring[i])
                new_values[i] = None
        changed = [i for i in range(population) if new_values[i] is None]
        batch = [copy.deepcopy(offspring[i]) for i in changed]
        for i, v in zip(changed, evaluate(batch)):
            new_values[i] = v
        batches.append(batch)
        pop, values = offspring, new_values  # type: ignore[assignment]
    return batches, seconds


def make_candidates(data: Any, workers: int, trace_once: bool) -> CandidateEvaluator:
    objective = ek.fitness.ValidationAccuracy(epochs=EPOCHS)
    objective.training = dataclasses.replace(objective.training, trace_once=trace_once)
    evaluator = ProcessEvaluator(workers=workers) if workers > 1 else SerialEvaluator()  # library defaults
    return CandidateEvaluator(encoding(), [objective], data, seed=0, evaluator=evaluator)


def naive(batches: list[list[Any]], data: Any) -> tuple[float, list[float], float]:
    """A user's loop: build, compile, fit, evaluate per candidate, serially. Returns its seconds
    (importing Keras included, as evokit's figures include its workers' TensorFlow import), the
    scores, and the seconds importing Keras took (0 if this process had imported it already)."""
    start = time.perf_counter()
    import keras

    imported = time.perf_counter() - start
    from evokit.builder import build

    enc = encoding()
    scores = []
    for batch in batches:
        for genome in batch:
            spec = enc.decode(genome, data.input_shape, data.n_outputs, data.task)
            model = build(spec, seed=0)
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])
            model.fit(data.x_train, data.y_train, epochs=EPOCHS, batch_size=32, verbose=0)
            scores.append(model.evaluate(data.x_val, data.y_val, verbose=0)[1])
    return time.perf_counter() - start, scores, imported


def evokit_replay(batches: list[list[Any]], data: Any, workers: int, trace_once: bool) -> tuple[float, dict[str, Any]]:
    """Evaluate the recorded batches with evokit, generation by generation."""
    candidates = make_candidates(data, workers, trace_once)
    start = time.perf_counter()
    outcomes = [o for batch in batches for o in candidates.evaluate_all(batch)]
    elapsed = time.perf_counter() - start
    candidates.close()
    return elapsed, summary(candidates, outcomes)


def summary(candidates: CandidateEvaluator, outcomes: list[Any]) -> dict[str, Any]:
    evaluations = [o.evaluation for o in outcomes if not o.cached]
    return {"trained": candidates.trainings, "cached": sum(o.cached for o in outcomes),
            "traced": sum(bool(e.extra.get("trace_once")) for e in evaluations),
            "reused": sum(bool(e.extra.get("graph_reused")) for e in evaluations),
            "accuracy": sum(o.values[0] for o in outcomes) / len(outcomes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--population", type=int, default=16)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--factors", action="store_true", help="also measure each factor alone")
    args = parser.parse_args()
    data = ek.datasets.load("digits", seed=0)
    print(f"GA population {args.population}, {args.generations} generations, digits, {EPOCHS} epochs, "
          f"{os.cpu_count()} cores")
    # 1. evokit runs the GA (2 workers + cache, default training); the genotypes it evaluated are recorded
    candidates = make_candidates(data, 2, False)
    batches, seconds = run_ga(candidates, args.population, args.generations)
    candidates.close()
    n = sum(len(b) for b in batches)
    rows = [("evokit 2 workers + cache", seconds, None)]
    print(f"evokit's GA: trained {candidates.trainings}, cache hits {candidates.cache.hits}", flush=True)
    # 2. the naive loop evaluates exactly those genotypes
    naive_seconds, scores, imported = naive(batches, data)
    naive_rate = 60 * n / naive_seconds
    print(f"{n} genotypes evaluated", flush=True)
    print(f"{'naive DEAP+Keras loop':<38} {naive_seconds:7.1f} s  {naive_rate:6.1f} eval/min  mean acc "
          f"{sum(scores) / n:.3f} (importing Keras: {imported:.1f} s of it)")
    if args.factors:
        for name, workers, trace_once in (("evokit serial + cache", 1, False),
                                          ("evokit serial + cache + trace-once", 1, True),
                                          ("evokit 2 workers + cache + trace-once", 2, True)):
            elapsed, info = evokit_replay(batches, data, workers, trace_once)
            rows.append((name, elapsed, info))
    for name, elapsed, info in rows:
        rate = 60 * n / elapsed
        extra = "" if info is None else (f"  mean acc {info['accuracy']:.3f} (trained {info['trained']}, cache hits "
                                         f"{info['cached']}, in a traced graph {info['traced']}, of them in a reused graph "
                                         f"{info['reused']})")
        without = (naive_seconds - imported) / elapsed
        print(f"{name:<38} {elapsed:7.1f} s  {rate:6.1f} eval/min  ratio {rate / naive_rate:.2f}x "
              f"({without:.2f}x against the naive loop without its import){extra}")


if __name__ == "__main__":
    main()
