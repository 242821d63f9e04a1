"""``evolve``: any algorithm on a plain DEAP toolbox, with budgets."""
import random

import pytest
from deap import base, creator, tools

from evokit import Budget
from evokit.algorithms import GA, evolve


@pytest.fixture
def onemax():
    if not hasattr(creator, "LoopFitnessMax"):
        creator.create("LoopFitnessMax", base.Fitness, weights=(1.0,))
        creator.create("LoopIndividual", list, fitness=creator.LoopFitnessMax)
    tb = base.Toolbox()
    tb.register("bit", random.randint, 0, 1)
    tb.register("individual", tools.initRepeat, creator.LoopIndividual, tb.bit, 40)
    tb.register("population", tools.initRepeat, list, tb.individual)
    tb.register("mate", tools.cxTwoPoint)
    tb.register("mutate", tools.mutFlipBit, indpb=0.05)
    return tb


def test_evolve_improves_onemax_and_counts(onemax):
    run = evolve(GA(population=30, generations=15), onemax, lambda ind: (sum(ind),), seed=1)
    assert run.generations == 15 and run.stopped_by == "generations"
    assert run.history[-1]["max"] > run.history[0]["max"]
    assert run.best.fitness.values[0] == max(r["max"] for r in run.history)
    assert 30 <= run.evaluations <= 30 + 15 * 30


def test_evolve_is_reproducible(onemax):
    a = evolve(GA(population=10, generations=3), onemax, lambda ind: (sum(ind),), seed=3)
    b = evolve(GA(population=10, generations=3), onemax, lambda ind: (sum(ind),), seed=3)
    assert [list(i) for i in a.state.population] == [list(i) for i in b.state.population]


@pytest.mark.parametrize("budget,reason", [(Budget(evaluations=50), "evaluations"), (Budget(target=30), "target"),
                                           (Budget(seconds=0.05, generations=10_000), "seconds")])
def test_evolve_respects_budgets(onemax, budget, reason):
    run = evolve(GA(population=20), onemax, lambda ind: (sum(ind),), budget=budget, seed=0)
    assert run.stopped_by == reason
    if reason == "evaluations":
        assert run.evaluations >= 50 and run.evaluations - 50 < 20
    if reason == "target":
        assert run.best.fitness.values[0] >= 30
