"""AgingEvolution: a queue, tournament parents, mutation only, the oldest removed."""
import random

import numpy as np
import pytest
from deap import base, creator, tools

import evokit as ek
from evokit.algorithms import evolve
from evokit.algorithms.aging import AgingEvolution, selParetoTournament
from evokit.runtime.run.directory import read_candidates


@pytest.fixture
def onemax():
    """A plain DEAP toolbox, bit strings, and no ``mate``: aging evolution must not need one."""
    if not hasattr(creator, "AgingFitnessMax"):
        creator.create("AgingFitnessMax", base.Fitness, weights=(1.0,))
        creator.create("AgingIndividual", list, fitness=creator.AgingFitnessMax)
    tb = base.Toolbox()
    tb.register("bit", random.randint, 0, 1)
    tb.register("individual", tools.initRepeat, creator.AgingIndividual, tb.bit, 30)
    tb.register("population", tools.initRepeat, list, tb.individual)
    tb.register("mutate", tools.mutFlipBit, indpb=1 / 30)
    return tb


def _evaluate(individuals):
    for ind in individuals:
        if not ind.fitness.valid:
            ind.fitness.values = (float(sum(ind)),)


@pytest.mark.parametrize("batch", [1, 3, 6])
def test_step_pushes_batch_children_and_removes_the_oldest(onemax, batch):
    algorithm = AgingEvolution(population=6, sample=2, batch=batch)
    algorithm.configure(onemax, 1)
    random.seed(0)
    state = algorithm.initialize(onemax, _evaluate)
    # The oldest member is the best of all: it leaves anyway (no elitism, that is the point).
    best = state.population[0]
    best[:] = [1] * 30
    best.fitness.values = (30.0,)
    for generation in range(1, 4):
        new = algorithm.step(state, onemax, _evaluate)
        assert new.generation == generation and len(new.population) == 6
        assert [id(i) for i in new.population[:6 - batch]] == [id(i) for i in state.population[batch:]]
        children = new.population[6 - batch:]
        assert not {id(c) for c in children} & {id(i) for i in state.population}  # new objects
        assert all(c.fitness.valid for c in children)
        state = new
    assert all(ind is not best for ind in state.population)


def test_default_batch_is_the_population_and_children_are_mutants_of_sampled_parents(onemax):
    algorithm = AgingEvolution(population=5, sample=5)
    assert algorithm.batch is None and algorithm.children_per_step == 5
    algorithm.configure(onemax, 1)
    random.seed(1)
    state = algorithm.initialize(onemax, _evaluate)
    new = algorithm.step(state, onemax, _evaluate)
    parents = [list(p) for p in state.population]
    for child in new.population:  # one bit flipped per mutation on average: each child is near a parent
        assert min(sum(a != b for a, b in zip(child, p)) for p in parents) <= 6


def test_aging_evolution_optimises_onemax(onemax):
    run = evolve(AgingEvolution(population=20, sample=5, batch=5, generations=40), onemax, lambda ind: (sum(ind),),
                 seed=0)
    assert run.history[-1]["max"] >= run.history[0]["max"] + 5
    assert run.evaluations == 20 + 40 * 5


def test_sequential_batch_one_matches_the_paper_loop(onemax):
    """batch=1 is Real et al.'s Algorithm 1: one child per cycle, parent = best of S random members."""
    random.seed(7)
    algorithm = AgingEvolution(population=8, sample=3, batch=1)
    algorithm.configure(onemax, 1)
    state = algorithm.initialize(onemax, _evaluate)
    mirror = [onemax.clone(i) for i in state.population]
    snapshot = random.getstate()
    for _ in range(10):
        state = algorithm.step(state, onemax, _evaluate)
    random.setstate(snapshot)
    for _ in range(10):  # the paper's loop, written out
        sample = [random.choice(mirror) for _ in range(3)]
        parent = max(sample, key=lambda ind: ind.fitness)
        child = onemax.clone(parent)
        onemax.mutate(child)
        child.fitness.values = (float(sum(child)),)
        mirror = mirror[1:] + [child]
    assert [list(i) for i in state.population] == [list(i) for i in mirror]


def test_pareto_tournament_picks_only_non_dominated_members():
    if not hasattr(creator, "AgingFitness2"):
        creator.create("AgingFitness2", base.Fitness, weights=(1.0, -1.0))
        creator.create("AgingPoint", list, fitness=creator.AgingFitness2)
    values = [(5, 5), (3, 1), (1, 1), (2, 3), (4, 6), (0, 9)]  # (5,5) and (3,1) are the front; (1,1) loses to (3,1)
    population = []
    for v in values:
        ind = creator.AgingPoint(v)
        ind.fitness.values = v
        population.append(ind)
    random.seed(0)
    chosen = selParetoTournament(population, 300, tournsize=80)  # 80 draws of 6: all six in, but for ~1e-4
    assert {tuple(c) for c in chosen} == {(5, 5), (3, 1)}
    small = selParetoTournament(population, 300, tournsize=2)
    assert {tuple(c) for c in small} > {(5, 5), (3, 1)}  # smaller tournaments: weaker pressure
    assert sum(tuple(c) == (0, 9) for c in small) < 300 / 6  # dominated by all: wins only against itself


@pytest.mark.parametrize("kwargs, field", [({"sample": 7, "population": 6}, "sample"), ({"batch": 0}, "batch"),
                                           ({"batch": 13}, "batch"), ({"population": 1}, "population"),
                                           ({"sample": 0}, "sample"), ({"generations": -1}, "generations")])
def test_bad_arguments_name_the_argument(kwargs, field):
    with pytest.raises(ek.errors.ConfigError, match=rf"^{field}="):
        AgingEvolution(**kwargs)


def test_search_with_two_objectives_keeps_a_pareto_front(small_digits, tmp_path):
    tree = ek.encodings.Tree(max_depth=3, filters=(4, 8), kernel_sizes=(3,), units=(8,))
    result = ek.Search(encoding=tree, objectives=[ek.fitness.ParameterCount(), ek.fitness.FLOPs()], data=small_digits,
                       algorithm=AgingEvolution(population=6, sample=2, batch=2, generations=4), seed=1,
                       run_dir=tmp_path, progress=False).run()
    records = read_candidates(tmp_path)
    assert len(records) == 6 + 4 * 2
    points = np.array([[r["fitness"]["params"], r["fitness"]["flops"]] for r in records])
    front = {(c.values["params"], c.values["flops"]) for c in result.pareto_front}
    for p in points:  # nothing evaluated dominates the kept front
        assert not any((p[0] <= a and p[1] <= b) and (p[0], p[1]) != (a, b) for a, b in front)
