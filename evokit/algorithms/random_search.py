"""Random search: fresh random genotypes every generation, the baseline every NAS comparison
needs (Li & Talwalkar 2019 found it hard to beat in several search spaces)."""
from __future__ import annotations

from deap import base

from evokit.algorithms.base import Algorithm, Evaluate, SearchState, check_population
from evokit.errors import check_int


class RandomSearch(Algorithm):
    """Sample ``batch`` random genotypes of the encoding (``toolbox.population``), evaluate
    them in one call, repeat. Nothing is learned from earlier batches.

    ``state.population`` is the batch just evaluated; the search's hall of fame (or Pareto
    front) keeps the best seen, so any number of objectives works. A genotype that decodes to a
    network already trained is a cache hit, not a new training.

    Args:
        batch: genotypes per generation (the initial population is one batch too).
        generations: default number of generations after the first batch (a search's budget
            may stop it earlier).
    """

    def __init__(self, batch: int = 12, generations: int = 10):
        self.batch = check_population("batch", batch, minimum=1)
        self.generations = check_int("generations", generations, minimum=0)

    def configure(self, toolbox: base.Toolbox, n_objectives: int) -> None:
        """Nothing to register: random search neither selects nor varies."""

    def initialize(self, toolbox: base.Toolbox, evaluate: Evaluate) -> SearchState:
        population = toolbox.population(n=self.batch)
        evaluate(population)
        return SearchState(population)

    def step(self, state: SearchState, toolbox: base.Toolbox, evaluate: Evaluate) -> SearchState:
        population = toolbox.population(n=self.batch)
        evaluate(population)
        return SearchState(population, state.generation + 1, state.extra)
