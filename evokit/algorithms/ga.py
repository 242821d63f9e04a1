"""A generational GA over a DEAP toolbox: DeepGA's elitist (mu + lambda), (mu, lambda), or eaSimple."""
from __future__ import annotations

from deap import algorithms, base, tools

from evokit.algorithms.base import Algorithm, Evaluate, SearchState, check_population
from evokit.errors import ConfigError, check_choice, check_float, check_int

REPLACEMENTS = ("plus", "comma", "simple")


class GA(Algorithm):
    """Genetic algorithm with tournament selection of parents and DEAP's ``varAnd`` variation.

    Args:
        population: mu, the population size.
        generations: default number of generations (a search's budget may stop it earlier).
        offspring: lambda, offspring per generation (default: ``population``).
        cxpb, mutpb: probability that a pair is mated / an individual mutated.
        tournament_size: size of the parent tournaments.
        replacement: ``"plus"``: the best mu of parents + offspring survive (elitist, as in
            DeepGA); ``"comma"``: the best mu offspring; ``"simple"``: the offspring replace
            the population (DEAP's ``eaSimple``).
    """

    def __init__(self, population: int = 12, generations: int = 10, offspring: int | None = None,
                 cxpb: float = 0.5, mutpb: float = 0.5, tournament_size: int = 3, replacement: str = "plus"):
        self.population = check_population("population", population)
        self.generations = check_int("generations", generations, minimum=0)
        self.offspring = offspring if offspring is None else check_population("offspring", offspring, minimum=1)
        self.cxpb = check_float("cxpb", cxpb, minimum=0.0, maximum=1.0)
        self.mutpb = check_float("mutpb", mutpb, minimum=0.0, maximum=1.0)
        self.tournament_size = check_int("tournament_size", tournament_size, minimum=1)
        self.replacement = check_choice("replacement", replacement, REPLACEMENTS)
        if replacement == "comma" and (offspring or population) < population:
            raise ConfigError(f"offspring={offspring!r} is invalid: replacement='comma' needs offspring >= population")

    def configure(self, toolbox: base.Toolbox, n_objectives: int) -> None:
        toolbox.register("select", tools.selTournament, tournsize=self.tournament_size)
        toolbox.register("survive", tools.selBest)

    def step(self, state: SearchState, toolbox: base.Toolbox, evaluate: Evaluate) -> SearchState:
        population = state.population
        n = len(population) if self.replacement == "simple" else (self.offspring or self.population)
        offspring = algorithms.varAnd(toolbox.select(population, n), toolbox, self.cxpb, self.mutpb)
        evaluate(offspring)
        if self.replacement == "simple":
            survivors = offspring
        elif self.replacement == "comma":
            survivors = toolbox.survive(offspring, self.population)
        else:
            survivors = toolbox.survive(population + offspring, self.population)
        return SearchState(list(survivors), state.generation + 1, state.extra)
