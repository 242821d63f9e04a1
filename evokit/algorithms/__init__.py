"""Search algorithms: thin loops over a DEAP toolbox."""
from evokit.algorithms.base import Algorithm, SearchState
from evokit.algorithms.budget import Budget
from evokit.algorithms.aging import AgingEvolution
from evokit.algorithms.ga import GA
from evokit.algorithms.gp import GP
from evokit.algorithms.loop import Evolution, evolve
from evokit.algorithms.neat import NEAT
from evokit.algorithms.nsga2 import NSGA2, NSGA3
from evokit.algorithms.pso import PSO
from evokit.algorithms.random_search import RandomSearch

__all__ = ["Algorithm", "SearchState", "Budget", "GA", "NSGA2", "NSGA3", "PSO", "NEAT", "GP", "AgingEvolution", "RandomSearch", "Evolution", "evolve"]
