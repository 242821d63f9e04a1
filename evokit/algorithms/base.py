"""The Algorithm interface: a search as ``initialize`` + repeated ``step`` over a DEAP toolbox.

A search's whole state is explicit (``SearchState``): the loop that drives it can checkpoint
between steps, stop on any budget, and show progress, the same way for every algorithm.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable

from deap import base

from evokit.errors import check_int
from evokit.params import Configurable

MAX_POPULATION = 100_000
"""The most individuals an algorithm keeps or makes in one generation (``population``,
``offspring``, ``batch``): far above any search that trains its candidates, low enough that a
typo (``population = 10000000000``) is refused when the algorithm is made, not after it has
filled the memory."""

Evaluate = Callable[[list[Any]], None]
"""Evaluates the individuals whose fitness is invalid (in one batch) and sets their fitness."""


def check_population(field: str, value: Any, minimum: int = 2) -> int:
    """``value`` if it is an integer from ``minimum`` to :data:`MAX_POPULATION`, else ConfigError
    naming ``field``: the one rule for every population-like size of every algorithm."""
    return check_int(field, value, minimum=minimum, maximum=MAX_POPULATION)


@dataclass
class SearchState:
    """Everything an algorithm needs to go on: the population, the generation, and its own extras."""

    population: list[Any]
    generation: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Algorithm(Configurable, ABC):
    """A search strategy. Constructors take keywords only and store them (``repr`` shows them).

    Contract: ``configure(toolbox, n_objectives)`` registers what the algorithm needs (e.g.
    ``select``) on a toolbox that already has ``population``, ``mate`` and ``mutate``;
    ``initialize`` makes and evaluates the first population; ``step`` makes one generation.
    Both call ``evaluate`` once per generation with the individuals to score, and draw
    randomness only through the toolbox's operators and Python's ``random`` (seeded by the search).
    """

    generations: int = 10

    def check_objectives(self, n_objectives: int) -> None:
        """Raise ConfigError if this algorithm cannot use ``n_objectives`` objectives."""

    def check_encoding(self, encoding: Any) -> None:
        """Raise ConfigError if this algorithm cannot search ``encoding``'s genotypes (called when a
        ``Search`` is made, so a mismatch fails at once rather than when it runs)."""

    def configure(self, toolbox: base.Toolbox, n_objectives: int) -> None:
        """Register selection operators; default: tournament of 3."""
        from deap import tools

        toolbox.register("select", tools.selTournament, tournsize=3)

    def initialize(self, toolbox: base.Toolbox, evaluate: Evaluate) -> SearchState:
        """Make and evaluate the initial population (default: ``toolbox.population(n=self.population)``)."""
        population = toolbox.population(n=getattr(self, "population"))
        evaluate(population)
        return SearchState(population)

    @abstractmethod
    def step(self, state: SearchState, toolbox: base.Toolbox, evaluate: Evaluate) -> SearchState:
        """Make and evaluate the next generation."""
