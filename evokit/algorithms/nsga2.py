"""NSGA-II (Deb et al. 2002) with DEAP's ``selNSGA2``: the multi-objective default."""
from __future__ import annotations

from deap import algorithms, base, tools

from evokit.algorithms.base import Algorithm, Evaluate, SearchState
from evokit.errors import ConfigError, check_float, check_int


class NSGA2(Algorithm):
    """NSGA-II: binary tournaments on (rank, crowding distance) choose parents, ``varAnd`` varies
    them, and non-dominated sorting with crowding distance picks the survivors of parents +
    offspring.

    Args:
        population: population size (parents and offspring each).
        generations: default number of generations.
        cxpb, mutpb: probability that a pair is mated / an individual mutated.
    """

    def __init__(self, population: int = 16, generations: int = 8, cxpb: float = 0.7, mutpb: float = 0.5):
        self.population = check_int("population", population, minimum=2)
        self.generations = check_int("generations", generations, minimum=0)
        self.cxpb = check_float("cxpb", cxpb, minimum=0.0, maximum=1.0)
        self.mutpb = check_float("mutpb", mutpb, minimum=0.0, maximum=1.0)

    def check_objectives(self, n_objectives: int) -> None:
        if n_objectives < 2:
            raise ConfigError(f"objectives has {n_objectives} objective: NSGA2 needs 2 or more (for one "
                              "objective use GA)")

    def configure(self, toolbox: base.Toolbox, n_objectives: int) -> None:
        toolbox.register("select", tools.selTournament, tournsize=2)
        toolbox.register("survive", tools.selNSGA2)

    def initialize(self, toolbox: base.Toolbox, evaluate: Evaluate) -> SearchState:
        population = toolbox.population(n=self.population)
        evaluate(population)
        return SearchState(toolbox.survive(population, len(population)))

    def step(self, state: SearchState, toolbox: base.Toolbox, evaluate: Evaluate) -> SearchState:
        population = state.population
        n = len(population)
        parents = tools.selTournamentDCD(population, n) if n % 4 == 0 else toolbox.select(population, n)
        offspring = algorithms.varAnd(parents, toolbox, self.cxpb, self.mutpb)
        evaluate(offspring)
        return SearchState(toolbox.survive(population + offspring, self.population), state.generation + 1,
                           state.extra)
