"""Memory: total resident memory of evokit's processes after 50 and after N evaluations.

Distinct random DeepGA networks on digits (2 epochs) are evaluated in batches by a
``CandidateEvaluator`` on a 2-process ``ProcessEvaluator``; after each batch the RSS of the main
process plus every live worker is summed. The growth from 50 to N evaluations is what a long
search adds (target: at most +200 MB); the peak is the bound the worker replacement keeps.
Workers are replaced once one passes ``--memory-limit`` GB, and every ``--max-tasks``
candidates in any case (the library's defaults: 1.5 GB, 100; a worker keeps ~1.2 MB per new
model for good, see ``docs/guide/runtime.md``).

Run: ``python benchmarks/memory.py [--n 200] [--standalone] [--memory-limit 1.5] [--max-tasks 100]``
(``--n 1000`` for the long measurement).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import random
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import psutil  # noqa: E402

import evokit as ek  # noqa: E402
from evokit.runtime.candidates.evaluator import CandidateEvaluator  # noqa: E402
from evokit.runtime.executors import ProcessEvaluator  # noqa: E402


def total_rss_mb() -> float:
    """RSS of this process and all its descendants, in MB."""
    me = psutil.Process()
    total = me.memory_info().rss
    for child in me.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200, help="evaluations in all (>= 50)")
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--standalone", action="store_true", help="one model per candidate (no trace-once)")
    parser.add_argument("--max-tasks", type=int, default=100, help="candidates per worker before it is replaced")
    parser.add_argument("--memory-limit", type=float, default=1.5, help="GB a worker may reach before replacement")
    args = parser.parse_args()
    data = ek.datasets.load("digits", seed=0)
    objective = ek.fitness.ValidationAccuracy(epochs=2)
    objective.training = dataclasses.replace(objective.training, trace_once=not args.standalone)
    enc = ek.encodings.DeepGA(max_conv_blocks=3, max_dense=2)
    evaluator = ProcessEvaluator(workers=2, max_tasks_per_child=args.max_tasks, memory_limit_gb=args.memory_limit)
    candidates = CandidateEvaluator(enc, [objective], data, seed=0, evaluator=evaluator, keep_weights=False)
    random.seed(0)
    mode = "standalone" if args.standalone else "trace-once"
    print(f"{mode}, 2 workers, replaced at {args.memory_limit:g} GB or every {args.max_tasks} candidates, "
          f"batches of {args.batch}")
    start = time.perf_counter()
    at_50 = None
    peak = 0.0
    while candidates.evaluations < args.n:
        candidates.evaluate_all([enc.random() for _ in range(args.batch)])
        rss = total_rss_mb()
        peak = max(peak, rss)
        if at_50 is None and candidates.evaluations >= 50:
            at_50 = rss
            print(f"after {candidates.evaluations:5d} evaluations: {rss:7.0f} MB total RSS")
    rss = total_rss_mb()
    print(f"after {candidates.evaluations:5d} evaluations: {rss:7.0f} MB total RSS "
          f"({time.perf_counter() - start:.0f} s)")
    print(f"growth from 50 to {candidates.evaluations}: {rss - (at_50 or rss):+.0f} MB (target <= +200 MB); "
          f"peak after any batch {peak:.0f} MB ({peak - (at_50 or peak):+.0f} MB)")
    candidates.close()


if __name__ == "__main__":
    main()
