"""NSGA-II (Deb et al. 2002) and NSGA-III (Deb & Jain 2014) with DEAP's ``selNSGA2`` / ``selNSGA3``.

NSGA-II is the multi-objective default; NSGA-III replaces crowding distance by niching around
reference points spread on the unit simplex, which keeps a population spread out when there are
3 or more objectives (accuracy, parameters, CO2 ...).

Failed candidates have +-inf objective values. DEAP's crowding distance turns those into NaN
(``inf - inf``), and NaN makes the survivor sort order arbitrary; DEAP's NSGA-III normalisation
breaks on them as well. So survivors are chosen *finite first* (Deb's feasibility rule: a
candidate whose values are all finite is preferred to any that failed), each group with DEAP's
own sorting, and the crowding distance used (``assignCrowdingDistFinite``) never yields NaN. On
populations whose values are all finite the selection is exactly DEAP's.
"""
from __future__ import annotations

import math
from itertools import chain
from operator import attrgetter
from typing import Any, Sequence

import numpy as np
from deap import algorithms, base, tools

from evokit.algorithms.base import Algorithm, Evaluate, SearchState, check_population
from evokit.errors import ConfigError, check_float, check_int
from evokit.pareto import check_reference_point


def _is_finite(individual: Any) -> bool:
    return all(math.isfinite(v) for v in individual.fitness.values)


def assignCrowdingDistFinite(individuals: Sequence[Any]) -> None:
    """DEAP's ``assignCrowdingDist`` that never yields NaN: on each objective only the members
    with a finite value are ranked (its two extremes get ``inf``, the others the normalised gap
    between their neighbours); a member with a non-finite value gets nothing on that objective.
    Equal to DEAP's on finite values. Sets ``ind.fitness.crowding_dist``."""
    if len(individuals) == 0:
        return
    distances = [0.0] * len(individuals)
    crowd = [(ind.fitness.values, i) for i, ind in enumerate(individuals)]
    nobj = len(individuals[0].fitness.values)
    for k in range(nobj):
        crowd.sort(key=lambda element: element[0][k])  # successive stable sorts, as DEAP does
        ranked = [c for c in crowd if math.isfinite(c[0][k])]
        if not ranked:
            continue
        distances[ranked[0][1]] = math.inf
        distances[ranked[-1][1]] = math.inf
        if ranked[-1][0][k] == ranked[0][0][k]:
            continue
        norm = nobj * float(ranked[-1][0][k] - ranked[0][0][k])
        for prev, cur, nxt in zip(ranked[:-2], ranked[1:-1], ranked[2:]):
            distances[cur[1]] += (nxt[0][k] - prev[0][k]) / norm
    for i, dist in enumerate(distances):
        individuals[i].fitness.crowding_dist = dist


def _nsga2(individuals: list[Any], k: int, nd: str) -> list[Any]:
    """DEAP's ``selNSGA2`` with the NaN-free crowding distance."""
    if k <= 0 or not individuals:
        return []
    sort = tools.sortNondominated if nd == "standard" else tools.sortLogNondominated
    fronts = sort(individuals, k)
    for front in fronts:
        assignCrowdingDistFinite(front)
    chosen = list(chain(*fronts[:-1]))
    rest = k - len(chosen)
    if rest > 0:
        chosen.extend(sorted(fronts[-1], key=attrgetter("fitness.crowding_dist"), reverse=True)[:rest])
    return chosen


def selNSGA2Finite(individuals: Sequence[Any], k: int, nd: str = "standard") -> list[Any]:
    """NSGA-II survivor selection, finite first: DEAP's ``selNSGA2`` on the members whose values
    are all finite; if fewer than ``k``, the rest are chosen the same way among those with a
    non-finite value. Every chosen member has a (never NaN) ``fitness.crowding_dist``, which
    ``tools.selTournamentDCD`` reads."""
    good = [ind for ind in individuals if _is_finite(ind)]
    bad = [ind for ind in individuals if not _is_finite(ind)]
    chosen = _nsga2(good, min(k, len(good)), nd)
    return chosen + _nsga2(bad, k - len(chosen), nd)


def selNSGA3Finite(individuals: Sequence[Any], k: int, ref_points: np.ndarray,
                   memory: Any = None) -> tuple[list[Any], Any]:
    """NSGA-III survivor selection, finite first: DEAP's ``selNSGA3`` (niching on ``ref_points``)
    among the members whose values are all finite; if fewer than ``k`` of them, all of them and
    then the best of the others by ``selNSGA2Finite``.

    With ``memory`` (DEAP's ``NSGA3Memory`` of a previous call, or ``True`` for the first call)
    the ideal, worst and extreme points are remembered across generations, as in DEAP's
    ``selNSGA3WithMemory``; returns ``(chosen, memory)`` (memory None when not used).
    Niching draws from ``numpy.random``.
    """
    good = [ind for ind in individuals if _is_finite(ind)]
    bad = [ind for ind in individuals if not _is_finite(ind)]
    if len(good) <= k:
        return good + selNSGA2Finite(bad, k - len(good)), memory
    if memory is None:
        return tools.selNSGA3(good, k, ref_points), None
    kw: dict[str, Any] = {}
    if memory is not True:
        kw = {"best_point": memory.best_point.reshape(1, -1), "worst_point": memory.worst_point.reshape(1, -1),
              "extreme_points": memory.extreme_points}
    chosen, memory = tools.selNSGA3(good, k, ref_points, return_memory=True, **kw)
    return chosen, memory


def _check_objectives(name: str, n_objectives: int, reference_point: tuple[float, ...] | None) -> None:
    if n_objectives < 2:
        raise ConfigError(f"objectives has {n_objectives} objective: {name} needs 2 or more (for one "
                          "objective use GA)")
    check_reference_point(reference_point, n_objectives)


class NSGA2(Algorithm):
    """NSGA-II: binary tournaments on (rank, crowding distance) choose parents (DEAP's
    ``selTournamentDCD``; plain binary tournaments when the population is not a multiple of 4),
    ``varAnd`` varies them, and non-dominated sorting with crowding distance picks the survivors
    of parents + offspring (``selNSGA2Finite``: DEAP's ``selNSGA2``, finite values first).

    With ``cxpb=0.9, mutpb=1.0`` a generation is exactly DEAP's own NSGA-II loop (its
    ``test_nsga2``): each pair is mated with probability 0.9, then both children are mutated.

    Args:
        population: population size (parents and offspring each).
        generations: default number of generations.
        cxpb, mutpb: probability that a pair is mated / an individual mutated.
        reference_point: the hypervolume reference point a search logs against, in the
            objectives' units, one value per objective (default: fixed from the initial
            population; see ``evokit.pareto``).
    """

    def __init__(self, population: int = 16, generations: int = 8, cxpb: float = 0.7, mutpb: float = 0.5,
                 reference_point: Sequence[float] | None = None):
        self.population = check_population("population", population)
        self.generations = check_int("generations", generations, minimum=0)
        self.cxpb = check_float("cxpb", cxpb, minimum=0.0, maximum=1.0)
        self.mutpb = check_float("mutpb", mutpb, minimum=0.0, maximum=1.0)
        self.reference_point = check_reference_point(reference_point)

    def check_objectives(self, n_objectives: int) -> None:
        _check_objectives("NSGA2", n_objectives, self.reference_point)

    def configure(self, toolbox: base.Toolbox, n_objectives: int) -> None:
        toolbox.register("select", tools.selTournament, tournsize=2)
        toolbox.register("survive", selNSGA2Finite)

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


def _divisions(n_objectives: int, population: int) -> int:
    """The most divisions p whose reference points, C(p + M - 1, M - 1), fit in the population."""
    p = 1
    while math.comb(p + 1 + n_objectives - 1, n_objectives - 1) <= population:
        p += 1
    return p


class NSGA3(Algorithm):
    """NSGA-III: random parents, ``varAnd`` variation, and survivors of parents + offspring
    chosen by non-dominated sorting then niching around reference points (DEAP's ``selNSGA3``
    with ``tools.uniform_reference_points(n_objectives, divisions)``; finite values first).

    Meant for 3 or more objectives (works with 2). The reference points are made once, in
    ``initialize``, and kept in the search state (``state.extra["ref_points"]``, with the
    selection memory when ``memory=True``), so a resumed run continues exactly; niching draws
    from ``numpy.random``, which searches seed and checkpoint.

    Args:
        population: population size (parents and offspring each); about the number of
            reference points is a good choice (``C(divisions + M - 1, M - 1)`` for M objectives).
        generations: default number of generations.
        cxpb, mutpb: probability that a pair is mated / an individual mutated.
        divisions: DEAP's ``p``, divisions of each objective axis for the reference points
            (default: the most whose points fit in the population, at least 1).
        memory: remember the ideal, worst and extreme points across generations (DEAP's
            ``selNSGA3WithMemory``, as in Deb & Jain) instead of taking them from each
            generation alone (DEAP's ``selNSGA3``).
        reference_point: the hypervolume reference point a search logs against (see NSGA2).
    """

    def __init__(self, population: int = 16, generations: int = 8, cxpb: float = 0.7, mutpb: float = 0.5,
                 divisions: int | None = None, memory: bool = False,
                 reference_point: Sequence[float] | None = None):
        self.population = check_population("population", population)
        self.generations = check_int("generations", generations, minimum=0)
        self.cxpb = check_float("cxpb", cxpb, minimum=0.0, maximum=1.0)
        self.mutpb = check_float("mutpb", mutpb, minimum=0.0, maximum=1.0)
        self.divisions = divisions if divisions is None else check_int("divisions", divisions, minimum=1)
        if not isinstance(memory, bool):
            raise ConfigError(f"memory={memory!r} is invalid: expected True or False")
        self.memory = memory
        self.reference_point = check_reference_point(reference_point)

    def check_objectives(self, n_objectives: int) -> None:
        _check_objectives("NSGA3", n_objectives, self.reference_point)

    def configure(self, toolbox: base.Toolbox, n_objectives: int) -> None:
        toolbox.register("select", tools.selRandom)

    def reference_points(self, n_objectives: int) -> np.ndarray:
        """The niching reference points for ``n_objectives`` objectives."""
        divisions = self.divisions or _divisions(n_objectives, self.population)
        return tools.uniform_reference_points(n_objectives, divisions)

    def initialize(self, toolbox: base.Toolbox, evaluate: Evaluate) -> SearchState:
        population = toolbox.population(n=self.population)
        n_objectives = len(population[0].fitness.weights)
        self.check_objectives(n_objectives)
        evaluate(population)
        extra: dict[str, Any] = {"ref_points": self.reference_points(n_objectives)}
        chosen, extra["nsga3_memory"] = selNSGA3Finite(population, len(population), extra["ref_points"],
                                                       True if self.memory else None)
        return SearchState(chosen, 0, extra)

    def step(self, state: SearchState, toolbox: base.Toolbox, evaluate: Evaluate) -> SearchState:
        population = state.population
        offspring = algorithms.varAnd(toolbox.select(population, len(population)), toolbox, self.cxpb, self.mutpb)
        evaluate(offspring)
        extra = dict(state.extra)
        memory = extra.get("nsga3_memory") or (True if self.memory else None)
        chosen, extra["nsga3_memory"] = selNSGA3Finite(population + offspring, self.population, extra["ref_points"],
                                                       memory)
        return SearchState(chosen, state.generation + 1, extra)


__all__ = ["NSGA2", "NSGA3", "selNSGA2Finite", "selNSGA3Finite", "assignCrowdingDistFinite"]
