import multiprocessing
import pickle
import random
import sys
from pathlib import Path

import pytest
from deap import algorithms, tools

import evokit as ek
from evokit.individual import attach_fitness, fitness_class

sys.path.insert(0, str(Path(__file__).parent))
import _spawn_worker  # noqa: E402


def test_toolbox_has_the_deap_aliases(small_digits, tiny_encoding):
    tb = ek.toolbox(encoding=tiny_encoding, objectives=ek.fitness.ValidationAccuracy(epochs=1), data=small_digits,
                    seed=0)
    for alias in ("individual", "population", "mate", "mutate", "select", "evaluate", "map"):
        assert hasattr(tb, alias), alias
    pop = tb.population(n=3)
    assert len(pop) == 3 and all(not ind.fitness.valid for ind in pop)
    assert pop[0].fitness.weights == (1.0,)


def test_deap_easimple_runs_on_the_toolbox(small_digits, tiny_encoding):
    tb = ek.toolbox(encoding=tiny_encoding, objectives=[ek.fitness.ValidationAccuracy(epochs=1)], data=small_digits,
                    seed=0)
    hof = tools.HallOfFame(2)
    pop, log = algorithms.eaSimple(tb.population(n=4), tb, cxpb=0.6, mutpb=0.3, ngen=2, halloffame=hof,
                                   verbose=False)
    assert len(pop) == 4 and all(ind.fitness.valid for ind in pop)
    assert len(log) == 3 and hof[0].fitness.values[0] > 0.1
    assert tb.candidates.evaluations <= sum(r["nevals"] for r in log)  # cache: at most one training per network


def test_toolbox_seed_makes_populations_repeatable(small_digits, tiny_encoding):
    def first_population():
        return ek.toolbox(encoding=tiny_encoding, objectives=ek.fitness.ParameterCount(), data=small_digits,
                          seed=5).population(n=5)

    assert first_population() == first_population()


def test_fitness_classes_pickle_by_weights():
    ind = attach_fitness(ek.encodings.DeepGA().random(random.Random(0)), (1.0, -1.0))
    ind.fitness.values = (0.5, 1000.0)
    back = pickle.loads(pickle.dumps(ind))
    assert back == ind and back.fitness.values == (0.5, 1000.0) and back.fitness.weights == (1.0, -1.0)
    assert type(back.fitness) is fitness_class((1.0, -1.0))
    with pytest.raises(ek.errors.ConfigError, match="weights"):
        fitness_class((0.0,))


def test_individuals_pickle_into_a_spawned_process(tiny_encoding):
    ind = attach_fitness(tiny_encoding.random(random.Random(1)), (1.0, -1.0))
    ind.fitness.values = (0.7, 123.0)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        back = pool.map(_spawn_worker.roundtrip, [ind])[0]
    assert back == ind and back.fitness.values == (0.7, 123.0)


def test_toolbox_evaluate_runs_in_a_spawned_worker(small_digits, tiny_encoding):
    tb = ek.toolbox(encoding=tiny_encoding, objectives=[ek.fitness.ValidationAccuracy(epochs=1),
                                                        ek.fitness.ParameterCount()], data=small_digits, seed=0)
    ind = tb.individual()
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        remote = pool.map(_spawn_worker.evaluate_in_child, [(tb, ind)])[0]
    assert remote.fitness.values == tb.evaluate(ind)  # same network, same seed: same result in any process


def test_toolbox_rejects_a_non_encoding(small_digits):
    with pytest.raises(ek.errors.ConfigError, match="encoding"):
        ek.toolbox(encoding="deepga", objectives=ek.fitness.ParameterCount(), data=small_digits)


def test_fitness_extra_attributes_survive_pickling():
    fitness = fitness_class((1.0, -1.0))()
    fitness.values = (0.5, 10.0)
    fitness.crowding_dist = 0.25  # set by DEAP's selNSGA2, read by selTournamentDCD
    back = pickle.loads(pickle.dumps(fitness))
    assert back.values == (0.5, 10.0) and back.crowding_dist == 0.25
