"""Throughput of the Dask evaluator vs training serially (and the process pool, for reference).

The same list of distinct DeepGA networks on digits (2 epochs each) is trained three times in
one run: in this process (SerialEvaluator), on a ``LocalCluster`` of 2 worker processes with one
thread each (DaskEvaluator), and by 2 spawned processes (ProcessEvaluator). Each evaluator first
trains two other networks to warm up (start its workers, import TensorFlow there), which is
timed separately; the figure compared is networks trained per minute after that. Fitnesses
must agree exactly across evaluators (same seeds). Run: ``python benchmarks/dask_vs_serial.py
[--networks 40] [--epochs 2]``; compare ratios within one run (shared machines are noisy).
"""
from __future__ import annotations

import argparse
import os
import random
import time

import evokit as ek
from evokit.runtime.candidates import CandidateEvaluator
from evokit.runtime.dask import DaskEvaluator
from evokit.runtime.evaluators import ProcessEvaluator, SerialEvaluator


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


def measure(name: str, evaluator: ek.runtime.Evaluator, encoding: ek.encodings.Encoding, data: ek.datasets.Dataset,
            warmup: list, genotypes: list, epochs: int) -> dict:
    ce = CandidateEvaluator(encoding, ek.fitness.ValidationAccuracy(epochs=epochs), data, seed=0, evaluator=evaluator)
    try:
        start = time.perf_counter()
        ce.evaluate_all(warmup)
        warm = time.perf_counter() - start
        start = time.perf_counter()
        outcomes = ce.evaluate_all(genotypes)
        seconds = time.perf_counter() - start
    finally:
        ce.close()
    failed = sum(o.evaluation.failed for o in outcomes)
    return {"name": name, "warmup": warm, "seconds": seconds, "trained": len(outcomes) - failed, "failed": failed,
            "per_min": 60 * (len(outcomes) - failed) / seconds, "values": [o.values for o in outcomes]}


def main(networks: int = 40, epochs: int = 2, workers: int = 2) -> list[dict]:
    load = os.getloadavg()[0]
    data = ek.datasets.load("digits", seed=0)
    encoding = ek.encodings.DeepGA()
    every = distinct_genotypes(encoding, data, networks + 2, seed=0)
    warmup, genotypes = every[:2], every[2:]
    rows = [measure("serial (this process)", SerialEvaluator(), encoding, data, warmup, genotypes, epochs),
            measure(f"Dask LocalCluster ({workers} workers x 1 thread)",
                    DaskEvaluator(n_workers=workers, threads_per_worker=1), encoding, data, warmup, genotypes, epochs),
            measure(f"ProcessEvaluator({workers})", ProcessEvaluator(workers), encoding, data, warmup, genotypes,
                    epochs)]
    serial = rows[0]
    print(f"\n{networks} distinct DeepGA networks on digits, {epochs} epochs each; {os.cpu_count()} CPUs; "
          f"load average at the start: {load:.1f}\n")
    print(f"| {'evaluator':<40} | warm-up | trained | seconds | networks/min | vs serial |")
    print(f"|{'-' * 42}|--------:|--------:|--------:|-------------:|----------:|")
    for r in rows:
        print(f"| {r['name']:<40} | {r['warmup']:>6.1f}s | {r['trained']:>7} | {r['seconds']:>7.1f} | "
              f"{r['per_min']:>12.1f} | {r['per_min'] / serial['per_min']:>8.2f}x |")
    same = all(r["values"] == serial["values"] for r in rows)
    print(f"\nDask / serial: {rows[1]['per_min'] / serial['per_min']:.2f}x (target >= 1.8x); fitnesses identical "
          f"across evaluators: {'yes' if same else 'NO'}")
    return rows


if __name__ == "__main__":  # required: the Dask and process workers are spawned processes
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--networks", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    main(args.networks, args.epochs, args.workers)
