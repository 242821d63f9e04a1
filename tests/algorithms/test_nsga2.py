"""NSGA-II and NSGA-III on DEAP's benchmarks through ``evolve``, and selection with failed (+-inf) members."""
import copy
import math
import random

import numpy as np
import pytest
from deap import base, benchmarks, creator, tools
from deap.tools.emo import assignCrowdingDist
from deap.benchmarks.tools import hypervolume as deap_hypervolume

from evokit import Budget
from evokit.algorithms import evolve
from evokit.algorithms.nsga2 import NSGA2, NSGA3, assignCrowdingDistFinite, selNSGA2Finite, selNSGA3Finite
from evokit.errors import ConfigError
from evokit.pareto import hypervolume

HV_THRESHOLD = 116.0  # DEAP's tests/test_algorithms.py (the optimum is 120.777)


def _classes(n_objectives):
    fitness, individual = f"NsgaFitnessMin{n_objectives}", f"NsgaIndividual{n_objectives}"
    if not hasattr(creator, fitness):
        creator.create(fitness, base.Fitness, weights=(-1.0,) * n_objectives)
        creator.create(individual, list, fitness=getattr(creator, fitness))
    return getattr(creator, individual)


def _real_toolbox(n_objectives, ndim, mate_eta=20.0):
    """DEAP's test_nsga2 toolbox: reals in [0, 1], SBX and polynomial mutation (eta 20, indpb 1/NDIM)."""
    tb = base.Toolbox()
    tb.register("attr_float", random.uniform, 0.0, 1.0)
    tb.register("individual", tools.initRepeat, _classes(n_objectives), tb.attr_float, ndim)
    tb.register("population", tools.initRepeat, list, tb.individual)
    tb.register("mate", tools.cxSimulatedBinaryBounded, low=0.0, up=1.0, eta=mate_eta)
    tb.register("mutate", tools.mutPolynomialBounded, low=0.0, up=1.0, eta=20.0, indpb=1.0 / ndim)
    return tb


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_nsga2_on_zdt1_reaches_deaps_hypervolume(seed):
    # DEAP's test_nsga2: 5 dims, population 16, NGEN=100 (99 generations after the initial one),
    # each pair mated with probability 0.9 and both children mutated: cxpb=0.9, mutpb=1.0.
    run = evolve(NSGA2(population=16, generations=99, cxpb=0.9, mutpb=1.0), _real_toolbox(2, 5), benchmarks.zdt1,
                 seed=seed)
    population = run.state.population
    assert run.generations == 99 and len(population) == 16 and run.evaluations == 16 * 100
    hv = deap_hypervolume(population, [11.0, 11.0])
    assert hv > HV_THRESHOLD
    assert hypervolume([ind.fitness.values for ind in population], (-1.0, -1.0), (11.0, 11.0)) == pytest.approx(hv)
    assert all(0.0 <= x <= 1.0 for ind in population for x in ind)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nsga3_on_zdt1_reaches_deaps_hypervolume(seed):
    # DEAP's test_nsga3: reference points uniform_reference_points(2, p=12), cxpb = mutpb = 1.
    algorithm = NSGA3(population=16, generations=99, cxpb=1.0, mutpb=1.0, divisions=12)
    run = evolve(algorithm, _real_toolbox(2, 5), benchmarks.zdt1, seed=seed)
    assert deap_hypervolume(run.state.population, [11.0, 11.0]) > HV_THRESHOLD
    assert np.array_equal(run.state.extra["ref_points"], tools.uniform_reference_points(2, 12))


def _dtlz2(ind):
    return benchmarks.dtlz2(ind, 3)


def test_nsga3_converges_on_dtlz2_with_three_objectives_and_spreads_better_than_nsga2():
    tb = _real_toolbox(3, 7, mate_eta=30.0)
    for seed in (0, 1):
        nsga3 = evolve(NSGA3(population=16, generations=100, cxpb=1.0, mutpb=1.0), tb, _dtlz2, seed=seed).state
        nsga2 = evolve(NSGA2(population=16, generations=100, cxpb=0.9, mutpb=1.0), tb, _dtlz2, seed=seed).state
        values = np.array([ind.fitness.values for ind in nsga3.population])
        assert np.mean(np.abs(np.linalg.norm(values, axis=1) - 1.0)) < 0.02  # DTLZ2's front: the unit sphere
        assert len(nsga3.extra["ref_points"]) == 15  # p=4: the most points (C(p+2, 2)) that fit 16 members
        hv3 = hypervolume(values, (-1.0,) * 3, (1.1,) * 3)
        hv2 = hypervolume([ind.fitness.values for ind in nsga2.population], (-1.0,) * 3, (1.1,) * 3)
        assert hv3 > hv2 + 0.02  # niching on reference points spreads 3 objectives better than crowding


def test_nsga3_with_memory_is_reproducible_and_keeps_its_memory_in_the_state():
    tb = _real_toolbox(3, 7, mate_eta=30.0)
    a = evolve(NSGA3(population=16, generations=30, cxpb=1.0, mutpb=1.0, memory=True), tb, _dtlz2, seed=5).state
    b = evolve(NSGA3(population=16, generations=30, cxpb=1.0, mutpb=1.0, memory=True), tb, _dtlz2, seed=5).state
    assert [list(i) for i in a.population] == [list(i) for i in b.population]
    memory = a.extra["nsga3_memory"]
    assert memory.best_point.shape == (3,) and memory.extreme_points.shape == (3, 3)
    assert np.all(memory.best_point <= np.min([ind.fitness.values for ind in a.population], axis=0))


def _mixed_population():
    """Finite members, members that failed training (-inf accuracy, finite params; one with the
    fewest params is non-dominated) and members that did not decode (-inf, +inf)."""
    if not hasattr(creator, "NsgaAccParams"):
        creator.create("NsgaAccParams", base.Fitness, weights=(1.0, -1.0))
        creator.create("NsgaMixed", list, fitness=creator.NsgaAccParams)
    values = [(0.9, 500.0), (0.8, 300.0), (0.7, 200.0), (0.85, 450.0), (0.6, 250.0), (0.5, 600.0),
              (-math.inf, 50.0), (-math.inf, 80.0), (-math.inf, 100.0), (-math.inf, math.inf), (-math.inf, math.inf)]
    population = []
    for i, v in enumerate(values):
        ind = creator.NsgaMixed([i])
        ind.fitness.values = v
        population.append(ind)
    return population


def test_deaps_crowding_distance_turns_infinite_values_into_nan():
    # the hazard selNSGA2Finite removes: inf - inf in DEAP's crowding distance
    population = _mixed_population()
    assignCrowdingDist(population)
    assert any(math.isnan(ind.fitness.crowding_dist) for ind in population)


def test_selection_with_infinite_members_is_deterministic_finite_first_and_nan_free():
    for k in (4, 6, 8, 11):
        runs = []
        for _ in range(2):
            population = _mixed_population()
            random.Random(k).shuffle(population)
            chosen = selNSGA2Finite(population, k)
            assert len(chosen) == k == len({id(c) for c in chosen})
            assert all(not math.isnan(ind.fitness.crowding_dist) for ind in chosen)
            finite = [all(math.isfinite(v) for v in ind.fitness.values) for ind in chosen]
            assert finite == sorted(finite, reverse=True)  # every finite member before any failed one
            assert sum(finite) == min(k, 6)
            runs.append([ind[0] for ind in chosen])
            tools.selTournamentDCD(chosen, len(chosen) - len(chosen) % 4)  # reads crowding_dist: must not fail
        assert runs[0] == runs[1]
    assert [ind[0] for ind in selNSGA2Finite(_mixed_population(), 8)][6:] == [6, 7]  # fewest params of the failed


def test_crowding_distance_without_nan_equals_deaps_on_finite_values():
    tb = _real_toolbox(2, 5)
    random.seed(3)
    population = tb.population(n=20)
    for ind in population:
        ind.fitness.values = benchmarks.zdt1(ind)
    twin = copy.deepcopy(population)
    assignCrowdingDist(population)
    assignCrowdingDistFinite(twin)
    assert [i.fitness.crowding_dist for i in population] == [i.fitness.crowding_dist for i in twin]
    assert [list(i) for i in tools.selNSGA2(population, 10)] == [list(i) for i in selNSGA2Finite(twin, 10)]


def test_nsga3_selection_puts_failed_members_last():
    population = _mixed_population()
    refs = tools.uniform_reference_points(2, 4)
    np.random.seed(0)
    chosen, memory = selNSGA3Finite(population, 8, refs)
    assert memory is None and len(chosen) == 8
    assert [ind[0] for ind in chosen[:6]] == list(range(6)) and [ind[0] for ind in chosen[6:]] == [6, 7]
    chosen, memory = selNSGA3Finite(population, 4, refs, memory=True)
    assert len(chosen) == 4 and all(ind[0] < 6 for ind in chosen) and memory.best_point.shape == (2,)


def test_nsga2_and_nsga3_survive_a_fitness_that_fails_for_many_members():
    def failing_zdt1(ind):
        return (math.inf, math.inf) if ind[0] > 0.7 else benchmarks.zdt1(ind)

    for algorithm in (NSGA2(population=12, generations=15, cxpb=0.9, mutpb=1.0),
                      NSGA3(population=12, generations=15, cxpb=1.0, mutpb=1.0)):
        a = evolve(algorithm, _real_toolbox(2, 5), failing_zdt1, seed=1).state.population
        b = evolve(algorithm, _real_toolbox(2, 5), failing_zdt1, seed=1).state.population
        assert [list(i) for i in a] == [list(i) for i in b]
        assert all(math.isfinite(v) for ind in a for v in ind.fitness.values)  # failures were selected out
        assert all(not math.isnan(getattr(ind.fitness, "crowding_dist", 0.0)) for ind in a)


@pytest.mark.parametrize("algorithm", [NSGA2(population=16, generations=1000), NSGA3(population=16, generations=1000)],
                         ids=["NSGA2", "NSGA3"])
@pytest.mark.parametrize("budget,reason", [(Budget(evaluations=100), "evaluations"), (Budget(target=0.05), "target"),
                                           (Budget(seconds=0.2), "seconds"), (Budget(generations=7), "generations")])
def test_every_budget_stops_both_algorithms(algorithm, budget, reason):
    run = evolve(algorithm, _real_toolbox(2, 5), benchmarks.zdt1, budget=budget, seed=0)
    assert run.stopped_by == reason
    if reason == "evaluations":
        assert 100 <= run.evaluations < 100 + 16
    if reason == "target":  # zdt1's first objective is x[0], minimised
        assert run.best.fitness.values[0] <= 0.05
    if reason == "generations":
        assert run.generations == 7 and 16 * 4 < run.evaluations <= 16 * 8  # unvaried offspring are not re-scored


def test_bad_configuration_is_refused_with_the_argument_named():
    with pytest.raises(ConfigError, match="divisions"):
        NSGA3(divisions=0)
    with pytest.raises(ConfigError, match="memory"):
        NSGA3(memory="yes")
    with pytest.raises(ConfigError, match="reference_point"):
        NSGA2(reference_point=(1.0, math.inf))
    with pytest.raises(ConfigError, match="reference_point"):
        NSGA2(reference_point="11,11")
    with pytest.raises(ConfigError, match="3 values but the search has 2"):
        NSGA3(reference_point=(1, 2, 3)).check_objectives(2)
    for algorithm in (NSGA2(), NSGA3()):
        with pytest.raises(ConfigError, match="2 or more"):
            algorithm.check_objectives(1)
    assert NSGA2(reference_point=[0, 1e6]).reference_point == (0.0, 1e6)
    assert "divisions=None" in repr(NSGA3()) and "reference_point=None" in repr(NSGA2())
