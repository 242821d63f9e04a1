"""Search algorithms: thin loops over a DEAP toolbox."""
from evokit.algorithms.base import Algorithm, SearchState
from evokit.algorithms.ga import GA
from evokit.algorithms.loop import Evolution, evolve
from evokit.algorithms.nsga2 import NSGA2, NSGA3
from evokit.algorithms.pso import PSO

__all__ = ["Algorithm", "SearchState", "GA", "NSGA2", "NSGA3", "PSO", "Evolution", "evolve"]
