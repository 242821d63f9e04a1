"""RandomSearch: a fresh random batch every generation; the search keeps the best ever seen."""
import random

import pytest

import evokit as ek
from evokit.algorithms.random_search import RandomSearch
from evokit.runtime.run.directory import read_candidates
from evokit.deap_toolbox import genotype_toolbox


def tree():
    return ek.encodings.Tree(max_depth=3, filters=(4, 8), kernel_sizes=(3,), units=(8,))


def test_every_generation_is_a_fresh_evaluated_batch():
    tb = genotype_toolbox(tree(), (-1.0,))
    algorithm = RandomSearch(batch=5)
    algorithm.configure(tb, 1)
    calls = []

    def evaluate(individuals):
        calls.append(len(individuals))
        for ind in individuals:
            ind.fitness.values = (float(len(ind)),)

    random.seed(0)
    state = algorithm.initialize(tb, evaluate)
    kept = list(state.population)  # kept alive, so that ids are not reused
    seen = {id(i) for i in state.population}
    genotypes = [str(i) for i in state.population]
    for generation in range(1, 4):
        state = algorithm.step(state, tb, evaluate)
        assert state.generation == generation and len(state.population) == 5
        assert not seen & {id(i) for i in state.population}
        seen |= {id(i) for i in state.population}
        kept += state.population
        genotypes += [str(i) for i in state.population]
    assert calls == [5, 5, 5, 5]  # one evaluate call per generation
    assert len(set(genotypes)) > 5  # new genotypes, not copies of the first batch


@pytest.mark.parametrize("objectives", ["one", "two"])
def test_search_keeps_the_best_of_all_batches(objectives, small_digits, tmp_path):
    objs = ek.fitness.ParameterCount() if objectives == "one" else [ek.fitness.ParameterCount(), ek.fitness.FLOPs()]
    result = ek.Search(encoding=tree(), objectives=objs, data=small_digits, algorithm=RandomSearch(batch=4, generations=5),
                       seed=2, run_dir=tmp_path, progress=False).run()
    records = read_candidates(tmp_path)
    assert len(records) == 4 * 6 and [r["evaluated"] for r in result.history] == [4] * 6
    best = min(r["fitness"]["params"] for r in records)
    assert result.best.values["params"] == best
    if objectives == "two":
        front = {(c.values["params"], c.values["flops"]) for c in result.pareto_front}
        for r in records:
            p, f = r["fitness"]["params"], r["fitness"]["flops"]
            assert not any(p <= a and f <= b and (p, f) != (a, b) for a, b in front)


def test_real_training_scores_every_batch(small_digits):
    result = ek.Search(encoding=tree(), objectives=ek.fitness.ValidationAccuracy(epochs=1), data=small_digits,
                       algorithm=RandomSearch(batch=2, generations=1), seed=0, progress=False).run()
    assert result.stats["failures"] == {} and result.stats["evaluated"] == 4
    assert result.stats["trained"] + result.stats["cache_hits"] == 4
    assert 0.0 < result.best.values["val_accuracy"] <= 1.0


@pytest.mark.parametrize("kwargs, field", [({"batch": 0}, "batch"), ({"batch": 2.0}, "batch"),
                                           ({"generations": -1}, "generations")])
def test_bad_arguments_name_the_argument(kwargs, field):
    with pytest.raises(ek.errors.ConfigError, match=rf"^{field}="):
        RandomSearch(**kwargs)


def test_repr():
    assert repr(RandomSearch(batch=3, generations=2)) == "RandomSearch(batch=3, generations=2)"
