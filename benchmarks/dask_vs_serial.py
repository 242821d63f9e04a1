"""Throughput of the Dask evaluator vs training serially (and the process pool, for reference).

The same list of distinct DeepGA networks on digits (2 epochs each) is trained three times in
one run: in this process (SerialEvaluator), on a ``LocalCluster`` of 2 worker processes with one
thread each (DaskEvaluator, each worker training in its trainer process), and by 2 spawned
processes (ProcessEvaluator). ``--worker-threads`` adds a second LocalCluster whose workers train
in their own task thread (``trainer_processes=False``); its idle scheduler and nannies then share
this process with the serial run, so compare the two Dask rows with each other. Each evaluator first
trains two other networks to warm up (start its workers, import TensorFlow there), which is
timed separately; the figure compared is networks trained per minute after that. The list is
trained in rounds, every evaluator in turn on each round's networks (the order rotating), so
that the machine's slow spells fall on all of them alike. Fitnesses
must agree exactly across evaluators (same seeds). Run: ``python benchmarks/dask_vs_serial.py
[--networks 80] [--epochs 2] [--rounds 8] [--worker-threads]``; compare ratios within one run
(shared machines are noisy).
"""
from __future__ import annotations

import argparse
import os
import random
import time

import evokit as ek
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.executors import DaskEvaluator, ProcessEvaluator, SerialEvaluator


def distinct_genotypes(encoding: ek.encodings.Encoding, data: ek.datasets.Dataset, n: int, seed: int) -> list:
    """``n`` random genotypes that decode to ``n`` different networks."""
    random.seed(seed)
    probe = CandidateEvaluator(encoding, ek.fitness.ParameterCount(), data)
    genotypes, hashes = [], set()
    while len(genotypes) < n:
        genotype = encoding.random()
        spec_hash = probe.decode(genotype).hash
        if spec_hash not in hashes:
            hashes.add(spec_hash)
            genotypes.append(genotype)
    return genotypes


class Timed:
    """One evaluator behind its own fitness cache, warmed up, timed over the rounds it runs."""

    def __init__(self, name: str, evaluator: ek.runtime.Evaluator, encoding: ek.encodings.Encoding,
                 data: ek.datasets.Dataset, epochs: int, warmup: list):
        self.name = name
        self.candidates = CandidateEvaluator(encoding, ek.fitness.ValidationAccuracy(epochs=epochs), data, seed=0,
                                             evaluator=evaluator)
        start = time.perf_counter()
        self.candidates.evaluate_all(warmup)
        self.warmup = time.perf_counter() - start
        self.seconds, self.trained, self.failed, self.values = 0.0, 0, 0, []
        self.walls: list[float] = []  # each candidate's own time where it trained
        self.steps: list[float] = []  # ... of which in training steps

    def run(self, genotypes: list) -> None:
        start = time.perf_counter()
        outcomes = self.candidates.evaluate_all(genotypes)
        self.seconds += time.perf_counter() - start
        failed = sum(o.evaluation.failed for o in outcomes)
        self.failed += failed
        self.trained += len(outcomes) - failed
        self.values += [o.values for o in outcomes]
        self.walls += [o.evaluation.wall_time for o in outcomes]
        self.steps += [o.evaluation.extra.get("step_time", 0.0) for o in outcomes]

    @property
    def per_min(self) -> float:
        return 60 * self.trained / self.seconds


def main(networks: int = 80, epochs: int = 2, workers: int = 2, rounds: int = 8,
         worker_threads: bool = False) -> list[Timed]:
    load = os.getloadavg()[0]
    data = ek.datasets.load("digits", seed=0)
    encoding = ek.encodings.DeepGA()
    every = distinct_genotypes(encoding, data, networks + 2, seed=0)
    warmup, genotypes = every[:2], every[2:]
    rows = [Timed("serial (this process)", SerialEvaluator(), encoding, data, epochs, warmup),
            Timed(f"Dask LocalCluster ({workers} workers x 1 thread)",
                  DaskEvaluator(n_workers=workers, threads_per_worker=1), encoding, data, epochs, warmup),
            Timed(f"ProcessEvaluator({workers})", ProcessEvaluator(workers), encoding, data, epochs, warmup)]
    if worker_threads:
        rows.insert(2, Timed("Dask, training in the worker thread", DaskEvaluator(
            n_workers=workers, threads_per_worker=1, trainer_processes=False), encoding, data, epochs, warmup))
    try:
        # Interleaved: each round trains the same networks with every evaluator, in a rotating
        # order, so that a slow spell on a shared machine hits them all alike.
        size = -(-len(genotypes) // rounds)
        for r, first in enumerate(range(0, len(genotypes), size)):
            chunk = genotypes[first:first + size]
            for row in rows[r % len(rows):] + rows[:r % len(rows)]:
                row.run(chunk)
    finally:
        for row in rows:
            row.candidates.close()
    serial = rows[0]
    print(f"\n{networks} distinct DeepGA networks on digits, {epochs} epochs each, in {rounds} interleaved rounds; "
          f"{os.cpu_count()} CPUs; load average at the start: {load:.1f}\n")
    print(f"| {'evaluator':<40} | warm-up | trained | seconds | networks/min | vs serial | s/network | steps |")
    print(f"|{'-' * 42}|--------:|--------:|--------:|-------------:|----------:|----------:|------:|")
    for r in rows:
        print(f"| {r.name:<40} | {r.warmup:>6.1f}s | {r.trained:>7} | {r.seconds:>7.1f} | "
              f"{r.per_min:>12.1f} | {r.per_min / serial.per_min:>8.2f}x | {sum(r.walls) / len(r.walls):>9.3f} | "
              f"{sum(r.steps) / len(r.steps):>5.3f} |")
    print("\ns/network: a candidate's own wall time where it trained (build, training, validation), mean; "
          "steps: of which in training steps.")
    same = all(r.values == serial.values for r in rows)
    print(f"\nDask / serial: {rows[1].per_min / serial.per_min:.2f}x (target >= 1.8x); fitnesses identical "
          f"across evaluators: {'yes' if same else 'NO'}")
    return rows


if __name__ == "__main__":  # required: the Dask and process workers are spawned processes
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--networks", type=int, default=80)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--worker-threads", action="store_true",
                        help="also a LocalCluster whose workers train in their task thread")
    args = parser.parse_args()
    main(args.networks, args.epochs, args.workers, args.rounds, args.worker_threads)
