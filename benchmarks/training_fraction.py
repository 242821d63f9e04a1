"""Fraction of evaluation wall time spent in training steps: standalone vs trace-once.

The DeepGA networks a seeded GA evaluated (see ``throughput.py``), each distinct network once in
the GA's order, are trained in this process, one after another, once with one model per candidate and once with ``trace_once=True``. The
trainer times every training step (a callback around each batch, stopped after the loss was
read) into ``Evaluation.extra["step_time"]``; the fraction is the sum of step times over the
sum of the candidates' wall times (build/load, fit, validation). Target: >= 70%. Each row is
followed by where the time went, per candidate (the trainer's ``Evaluation.extra["phases"]``:
build, compile (for a candidate's own model also making its train step and the optimizer's
slots), load into a traced graph, other set-up, trace, steps, the batch loop around the steps,
validation; then ``other`` and ``after``, the time outside the candidate's own clock).

``--family 16`` measures instead 16 random networks of one structure (widths 17-32 / 33-64,
kernels 2-3, relu/elu/tanh, max/avg pooling: one traced graph), the case trace-once is for.
Run: ``python benchmarks/training_fraction.py [--population 10 --generations 3] [--family 16]``
(``KERAS_BACKEND=jax`` to measure JAX).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import evokit as ek  # noqa: E402
from evokit.runtime.training.trainer import candidate_seed, train  # noqa: E402
from throughput import EPOCHS, encoding, make_candidates, run_ga  # noqa: E402


def family_member(data: ek.datasets.Dataset, rng: Any) -> ek.NetSpec:
    """A random network of one structure: conv-pool-conv-flatten-dense-softmax (one signature
    per width bucket; DeepGA's choices of widths, kernels, activations and pooling)."""
    from evokit.netspec import Conv2D, Dense, Flatten, Graph, Pool

    act = rng.choice(("relu", "elu", "tanh"))
    g = Graph(data.input_shape)
    x = g.add(Conv2D(rng.randint(17, 32), rng.choice((2, 3)), activation=act), g.input)
    x = g.add(Pool(rng.choice(("max", "avg")), 2), x)
    x = g.add(Conv2D(rng.randint(17, 32), rng.choice((2, 3)), activation=act), x)
    x = g.add(Dense(rng.randint(33, 64), activation=act), g.add(Flatten(), x))
    return g.finish(g.add(Dense(data.n_outputs, activation="softmax"), x))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--population", type=int, default=10)
    parser.add_argument("--generations", type=int, default=3)
    parser.add_argument("--family", type=int, default=0,
                        help="instead of a GA's networks: this many random networks of one structure "
                             "(conv-pool-conv-flatten-dense-head; widths, kernels, activations, pooling vary)")
    args = parser.parse_args()
    import random

    import keras

    from evokit.runtime.training import traced

    data = ek.datasets.load("digits", seed=0)
    enc = encoding()
    specs = {}
    if args.family:
        random.seed(0)
        while len(specs) < args.family:
            spec = family_member(data, random)
            specs[spec.hash] = spec
    else:
        candidates = make_candidates(data, 1, True)
        batches, _ = run_ga(candidates, args.population, args.generations)  # the GA's genotypes, in order
        for batch in batches:
            for genome in batch:
                spec = enc.decode(genome, data.input_shape, data.n_outputs, data.task).canonical()
                specs[spec.hash] = spec  # each distinct network once, as the cache would
    traced.clear_graphs()
    print(f"{len(specs)} distinct networks, digits, {EPOCHS} epochs, backend {keras.config.backend()}")
    for name, trace_once in (("standalone", False), ("trace-once", True)):
        config = ek.TrainingConfig(epochs=EPOCHS, trace_once=trace_once)
        start = time.perf_counter()
        evaluations = [train(spec, data, config, seed=candidate_seed(0, h), keep_weights=False)
                       for h, spec in specs.items()]
        elapsed = time.perf_counter() - start
        ok = [e for e in evaluations if not e.failed]
        steps = sum(e.extra.get("step_time", 0.0) for e in ok)
        wall = sum(e.wall_time for e in ok)
        traced = [e for e in ok if e.extra.get("trace_once")]
        t_steps = sum(e.extra["step_time"] for e in traced)
        t_wall = sum(e.wall_time for e in traced)
        part = f", in traced graphs alone {t_steps / t_wall:.0%} ({len(traced)} candidates)" if traced else ""
        print(f"{name:<11} {elapsed:6.1f} s for {len(ok)} candidates ({elapsed / len(ok):.2f} s each): "
              f"training steps {steps:.1f} s of {wall:.1f} s = {steps / wall:.0%}{part}; "
              f"of the loop's wall time {steps / elapsed:.0%}")
        print("            " + phase_breakdown(ok, elapsed))


PHASES = ("build", "compile", "load", "setup", "trace", "steps", "loop", "validation")
"""The trainer's phases (``Evaluation.extra["phases"]``, see ``evokit.runtime.training.loop.train_and_score``)."""


def phase_breakdown(evaluations: list[Any], elapsed: float) -> str:
    """Milliseconds per candidate in each phase, and their share of the loop's wall time: the
    trainer's phases, ``other`` (the rest of each candidate's clock) and ``after`` (outside it:
    handing back weights, reading memory, clearing Keras's session, the benchmark's loop)."""
    n = len(evaluations)
    totals = {name: sum(e.extra.get("phases", {}).get(name, 0.0) for e in evaluations) for name in PHASES}
    totals["other"] = sum(e.wall_time for e in evaluations) - sum(totals.values())
    totals["after"] = elapsed - sum(e.wall_time for e in evaluations)
    return "  ".join(f"{name} {1000 * t / n:.0f} ms ({t / elapsed:.0%})" for name, t in totals.items() if t > 0.0005 * n)


if __name__ == "__main__":
    main()
