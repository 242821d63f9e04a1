"""GP: generational GP on Tree genotypes with height and size limits and parsimony pressure."""
import math
import operator
import random

import numpy as np
import pytest
from deap import base, creator, gp, tools

import evokit as ek
from evokit.algorithms import evolve
from evokit.algorithms.gp import GP, SizeLimited
from evokit.runtime.run.directory import read_candidates
from evokit.deap_toolbox import genotype_toolbox, new_individual


def small_tree(**kw):
    return ek.encodings.Tree(**{"max_depth": 3, "filters": (4, 8), "kernel_sizes": (3,), "units": (8,), **kw})


def test_gp_needs_a_tree_encoding(small_digits, tiny_encoding):
    with pytest.raises(ek.errors.ConfigError, match=r"encoding=DeepGA.*needs evokit.encodings.Tree"):  # when made
        ek.Search(encoding=tiny_encoding, objectives=ek.fitness.ParameterCount(), data=small_digits,
                  algorithm=GP(population=2), progress=False)


@pytest.mark.parametrize("kwargs, field", [
    ({"replacement": "comma"}, "replacement"), ({"max_size": 0}, "max_size"), ({"parsimony": 2.5}, "parsimony"),
    ({"parsimony": 0.5}, "parsimony"), ({"fitness_first": "yes"}, "fitness_first"), ({"population": 1}, "population"),
    ({"cxpb": 1.5}, "cxpb")])
def test_bad_arguments_name_the_argument(kwargs, field):
    with pytest.raises(ek.errors.ConfigError, match=rf"^{field}="):
        GP(**kwargs)


def test_a_plain_toolbox_needs_mate_and_mutate():
    tb = base.Toolbox()
    tb.register("mutate", gp.mutNodeReplacement)
    with pytest.raises(ek.errors.ConfigError, match=r"toolbox is invalid: GP needs 'mate'"):
        GP().configure(tb, 1)


def test_repr_shows_every_argument():
    assert repr(GP(max_size=30, parsimony=1.4)) == (
        "GP(population=12, generations=10, offspring=None, cxpb=0.5, mutpb=0.8, tournament_size=2, "
        "replacement='plus', max_size=30, parsimony=1.4, fitness_first=True)")


def _children_sizes(toolbox, encoding, seed, rounds=300):
    """Sizes of the children of ``mate`` and ``mutate`` over many rounds, with parents kept under 16 nodes."""
    rng = random.Random(seed)
    random.seed(seed)
    sizes = []
    for _ in range(rounds):
        a, b = (encoding.random(rng) for _ in range(2))
        while len(a) > 15 or len(b) > 15:
            a, b = (encoding.random(rng) for _ in range(2))
        children = toolbox.mate(a, b)
        assert len(children) == 2 and children[0] is not children[1]  # no aliased slots
        sizes += [len(c) for c in children]
        mutant, = toolbox.mutate(children[1])  # a mutant over the limit is replaced: only the returned one counts
        sizes.append(len(mutant))
        for c in (children[0], mutant):
            encoding.check(c)
    return sizes


def test_size_limit_bounds_every_child_and_configuring_again_replaces_it():
    encoding = small_tree(max_depth=4, max_height=8)
    tb = genotype_toolbox(encoding, (1.0,))
    GP(max_size=15).configure(tb, 1)
    assert isinstance(tb.mate.func, SizeLimited) and tb.mate.func.max_size == 15
    assert max(_children_sizes(tb, encoding, 0)) <= 15
    GP(max_size=None).configure(tb, 1)  # lifts the limit instead of stacking another one
    assert max(_children_sizes(tb, encoding, 0)) > 15  # so the limit above did hold children back
    GP(max_size=15).configure(tb, 1)
    GP(max_size=15).configure(tb, 1)
    assert not isinstance(tb.mate.func.func, SizeLimited)
    assert max(_children_sizes(tb, encoding, 0)) <= 15


@pytest.mark.parametrize("fitness_first", [True, False])
def test_parsimony_selects_smaller_trees_among_equally_fit_ones(fitness_first):
    encoding = small_tree(max_depth=4)
    random.seed(1)
    population = [new_individual(encoding, (1.0,)) for _ in range(30)]
    for ind in population:
        ind.fitness.values = (1.0,)
    assert len({len(ind) for ind in population}) > 3

    def mean_selected_size(algorithm):
        tb = genotype_toolbox(encoding, (1.0,))
        algorithm.configure(tb, 1)
        random.seed(2)
        return np.mean([len(ind) for ind in tb.select(population, 2000)])

    plain = mean_selected_size(GP(tournament_size=2))
    pressured = mean_selected_size(GP(tournament_size=2, parsimony=2.0, fitness_first=fitness_first))
    assert abs(plain - np.mean([len(i) for i in population])) < 1.0  # equal fitness: no preference
    assert pressured < plain - 1.0


def test_parsimony_still_selects_by_fitness_first():
    encoding = small_tree()
    random.seed(0)
    population = [new_individual(encoding, (1.0,)) for _ in range(20)]
    for i, ind in enumerate(population):
        ind.fitness.values = (float(i),)
    tb = genotype_toolbox(encoding, (1.0,))
    GP(tournament_size=5, parsimony=1.4).configure(tb, 1)
    random.seed(3)
    chosen = tb.select(population, 500)
    assert np.mean([ind.fitness.values[0] for ind in chosen]) > 12  # random choice would average 9.5


@pytest.mark.parametrize("replacement", ["plus", "simple"])
def test_step_replacement(replacement, small_digits):
    encoding = small_tree()
    candidates = ek.runtime.CandidateEvaluator(encoding, ek.fitness.ParameterCount(), small_digits)
    tb = genotype_toolbox(encoding, candidates.weights)
    algorithm = GP(population=6, replacement=replacement, cxpb=1.0, mutpb=1.0)
    algorithm.configure(tb, 1)

    def evaluate(individuals):
        invalid = [ind for ind in individuals if not ind.fitness.valid]
        for outcome in candidates.evaluate_all(invalid):
            outcome.genotype.fitness.values = outcome.values

    random.seed(4)
    state = algorithm.initialize(tb, evaluate)
    for _ in range(4):
        new = algorithm.step(state, tb, evaluate)
        assert len(new.population) == 6 and new.generation == state.generation + 1
        assert all(ind.fitness.valid for ind in new.population)
        old_ids = {id(ind) for ind in state.population}
        if replacement == "simple":  # eaSimple: the offspring (all varied here) replace the population
            assert not old_ids & {id(ind) for ind in new.population}
        else:  # (mu + lambda): the best never gets worse (params are minimised)
            assert min(i.fitness.values[0] for i in new.population) <= min(i.fitness.values[0] for i in state.population)
        state = new


@pytest.fixture
def regression_toolbox():
    """DEAP's own symbolic-regression setup, no evokit encoding: x**2 + x from + - * and x."""
    pset = gp.PrimitiveSet("MAIN", 1)
    for fn in (operator.add, operator.sub, operator.mul):
        pset.addPrimitive(fn, 2)
    pset.renameArguments(ARG0="x")
    if not hasattr(creator, "GPTestFitnessMin"):
        creator.create("GPTestFitnessMin", base.Fitness, weights=(-1.0,))
        creator.create("GPTestTree", gp.PrimitiveTree, fitness=creator.GPTestFitnessMin)
    tb = base.Toolbox()
    tb.register("expr", gp.genHalfAndHalf, pset=pset, min_=1, max_=2)
    tb.register("individual", tools.initIterate, creator.GPTestTree, tb.expr)
    tb.register("population", tools.initRepeat, list, tb.individual)
    tb.register("mate", gp.cxOnePoint)
    tb.register("mutate", gp.mutUniform, expr=tb.expr, pset=pset)
    xs = np.linspace(-1, 1, 21)

    def mse(ind):
        f = gp.compile(ind, pset)
        return (float(np.mean([(f(x) - (x * x + x)) ** 2 for x in xs])),)
    return tb, mse


def test_gp_solves_symbolic_regression_on_a_plain_deap_toolbox(regression_toolbox):
    tb, mse = regression_toolbox
    run = evolve(GP(population=60, generations=12, max_size=25, parsimony=1.4), tb, mse, seed=0)
    assert run.best.fitness.values[0] < 1e-12 < run.history[0]["min"]
    assert max(len(ind) for ind in run.state.population) <= 25
    assert run.stopped_by == "generations" and math.isfinite(run.history[-1]["avg"])


def test_gp_trains_real_networks_on_small_digits(small_digits, tmp_path):
    encoding = small_tree()
    result = ek.Search(encoding=encoding, objectives=ek.fitness.ValidationAccuracy(epochs=1), data=small_digits,
                       algorithm=GP(population=3, generations=1), seed=0, run_dir=tmp_path, progress=False).run()
    assert [r["gen"] for r in result.history] == [0, 1] and result.stats["failures"] == {}
    assert result.stats["trained"] >= 3
    records = read_candidates(tmp_path)
    assert all(encoding.to_json(encoding.from_json(r["genotype"])) == r["genotype"] for r in records)
    assert result.best.values["val_accuracy"] == max(r["fitness"]["val_accuracy"] for r in records) > 0.1
    assert result.final_model.count_params() == result.best.params
    assert 0.0 <= result.test_scores["test_accuracy"] <= 1.0
