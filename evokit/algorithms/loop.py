"""``evolve``: drive any evokit Algorithm on a plain DEAP toolbox with a per-individual fitness.

``evokit.Search`` is the full loop for neural networks (run directory, cache, checkpoints). This
is the bare one, for problems whose fitness is a cheap function of the genotype (XOR with a NEAT
genome's numpy forward pass, DEAP's ZDT1 or sphere benchmarks, a user's own toy problem): the
same algorithms, the same budgets, no training machinery.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from deap import base

from evokit.algorithms.base import Algorithm, Evaluate, SearchState
from evokit.algorithms.budget import Budget


@dataclass
class Evolution:
    """What ``evolve`` returns: the final state, the best individual seen, and the run's figures."""

    state: SearchState
    best: Any
    evaluations: int
    generations: int
    seconds: float
    stopped_by: str | None
    history: list[dict[str, float]] = field(default_factory=list)


def evolve(algorithm: Algorithm, toolbox: base.Toolbox, evaluate: Callable[[Any], tuple[float, ...]],
           budget: Budget | None = None, seed: int | None = None, on_generation: Callable[[SearchState], None] | None = None
           ) -> Evolution:
    """Run ``algorithm`` on ``toolbox`` until ``budget`` (an ``evokit.Budget``; default: the
    algorithm's ``generations``) is spent, scoring each new individual with ``evaluate(ind)``,
    which returns its fitness values.

    ``toolbox`` needs what the algorithm needs (``population``, ``mate``, ``mutate``, ...).
    With ``seed``, Python's and NumPy's global generators (which DEAP draws from) are seeded.
    """
    budget = budget or Budget(generations=algorithm.generations)
    if seed is not None:
        random.seed(seed)
        np.random.seed(seed)
    weights: tuple[float, ...] | None = None
    count = 0
    best: Any = None

    def evaluate_batch(individuals: list[Any]) -> None:
        nonlocal count, best, weights
        invalid = [ind for ind in individuals if not ind.fitness.valid]
        for ind, values in zip(invalid, toolbox.map(evaluate, invalid)):  # a DEAP Toolbox always has map
            ind.fitness.values = values
            weights = ind.fitness.weights
            if best is None or ind.fitness.wvalues[0] > best.fitness.wvalues[0]:  # wvalues: values times weights
                best = toolbox.clone(ind)
        count += len(invalid)

    algorithm.configure(toolbox, len(getattr(toolbox, "weights", ())) or 1)
    start = time.perf_counter()
    state = algorithm.initialize(toolbox, evaluate_batch)
    history = [_row(state, start)]
    if on_generation is not None:
        on_generation(state)

    def spent() -> tuple[int, float, float | None, float]:
        return (count, time.perf_counter() - start, None if best is None else best.fitness.values[0],
                1.0 if weights is None else weights[0])

    def finished(new: SearchState) -> None:
        history.append(_row(new, start))
        if on_generation is not None:
            on_generation(new)

    state, reason = drive(algorithm, toolbox, evaluate_batch, state, budget, spent, finished)
    return Evolution(state, best, count, state.generation, time.perf_counter() - start, reason, history)


def drive(algorithm: Algorithm, toolbox: base.Toolbox, evaluate: Evaluate, state: SearchState, budget: Budget,
          spent: Callable[[], tuple[int, float, float | None, float]], finished: Callable[[SearchState], None],
          interrupted: Callable[[], bool] = lambda: False,
          requested: Callable[[], str | None] = lambda: None) -> tuple[SearchState, str]:
    """Step ``algorithm`` from ``state`` until ``budget`` is spent: the one budget loop of every
    search (``evokit.Search``, ``evolve``). ``spent()`` says what has been used (evaluations,
    seconds, the best first-objective value or None, and that objective's weight);
    ``finished(state)`` is called after each generation; ``interrupted()`` is asked before each
    step (a Ctrl-C); ``requested()`` too, returning the reason a callback asked to stop, or None.
    Everything is checked between generations, never during one. Returns the last state and why
    the loop stopped (a ``Budget.stop_reason`` (which wins), ``requested()``'s reason, or
    ``"interrupted"``)."""
    while (reason := budget.stop_reason(state.generation, *spent())) is None:
        if (asked := requested()) is not None:
            return state, asked
        if interrupted():
            return state, "interrupted"
        state = algorithm.step(state, toolbox, evaluate)
        finished(state)
    return state, reason


def _row(state: SearchState, start: float) -> dict[str, float]:
    fitnesses = [ind.fitness for ind in state.population]
    values = [value for value in (f.wvalues[0] / f.weights[0] for f in fitnesses if f.wvalues) if math.isfinite(value)]
    return {"gen": state.generation, "max": max(values, default=math.nan), "min": min(values, default=math.nan),
            "avg": float(np.mean(values)) if values else math.nan, "elapsed_s": time.perf_counter() - start}
