"""Aging (regularized) evolution, Real et al. 2019 ("Regularized Evolution for Image Classifier
Architecture Search"): a baseline every NAS comparison needs.

The population is a queue. A parent is the best of ``sample`` members drawn at random; its
mutated copy joins the queue at the young end and the oldest member leaves, however good it is.
Models therefore live a fixed time, so a network that scored well by luck cannot stay forever,
and the search keeps moving.
"""
from __future__ import annotations

import random
from typing import Any

from deap import base, tools

from evokit.algorithms.base import Algorithm, Evaluate, SearchState, check_population
from evokit.errors import ConfigError, check_int


def selParetoTournament(individuals: list[Any], k: int, tournsize: int) -> list[Any]:
    """Select ``k`` individuals, each by a tournament of ``tournsize`` members drawn at random
    (with replacement, as ``tools.selTournament``): the winner is drawn at random from the
    tournament's non-dominated members. With one objective those are the best (ties included),
    so this is ``selTournament`` for one objective and a Pareto tournament for several.
    """
    chosen = []
    for _ in range(k):
        aspirants = tools.selRandom(individuals, tournsize)
        front = tools.sortNondominated(aspirants, len(aspirants), first_front_only=True)[0]
        chosen.append(random.choice(front))
    return chosen


class AgingEvolution(Algorithm):
    """Regularized evolution: tournament parents, mutation only (no crossover, as in the paper),
    the oldest member removed for each child.

    ``state.population`` is the queue, oldest first. One ``step`` (one generation, one
    checkpoint) makes ``batch`` children, evaluates them in one call (so an evaluator with several
    workers trains them side by side), appends them and removes the ``batch`` oldest members.
    ``batch=1`` is the paper's sequential loop. The default, ``batch=population``, gives every
    member exactly the paper's lifetime (``population`` children are born after it, then it
    leaves) and makes a generation cost as many trainings as a GA's; parents of one batch come
    from the queue as it was before the batch, as they did for the paper's hundreds of
    asynchronous workers, whose in-flight children outnumbered the population.

    Args:
        population: P, the size of the queue (the paper: 100 for its large runs).
        sample: S, the tournament size (the paper: 25 with P = 100; default 3 keeps S/P about 1/4).
        generations: default number of steps (a search's budget may stop it earlier).
        batch: children per step, 1 to ``population`` (default: ``population``).

    Several objectives: the parent is drawn from the tournament's non-dominated members
    (``selParetoTournament``); with one objective this is the paper's rule.
    """

    def __init__(self, population: int = 12, sample: int = 3, generations: int = 10, batch: int | None = None):
        self.population = check_population("population", population)
        self.sample = check_int("sample", sample, minimum=1)
        if sample > population:
            raise ConfigError(f"sample={sample!r} is invalid: expected an integer <= population ({population})")
        self.generations = check_int("generations", generations, minimum=0)
        self.batch = batch if batch is None else check_int("batch", batch, minimum=1, maximum=population)

    @property
    def children_per_step(self) -> int:
        """Children made, evaluated and pushed per ``step``."""
        return self.population if self.batch is None else self.batch

    def configure(self, toolbox: base.Toolbox, n_objectives: int) -> None:
        """Register ``select``: the paper's tournament (best of ``sample``) for one objective, a
        Pareto tournament for several."""
        if n_objectives == 1:
            toolbox.register("select", tools.selTournament, tournsize=self.sample)
        else:
            toolbox.register("select", selParetoTournament, tournsize=self.sample)

    def step(self, state: SearchState, toolbox: base.Toolbox, evaluate: Evaluate) -> SearchState:
        queue = state.population
        children = []
        for parent in toolbox.select(queue, self.children_per_step):
            child, = toolbox.mutate(toolbox.clone(parent))
            del child.fitness.values
            children.append(child)
        evaluate(children)
        return SearchState(queue[len(children):] + children, state.generation + 1, state.extra)
