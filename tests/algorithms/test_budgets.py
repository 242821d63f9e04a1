"""Every search stops on every kind of budget, at the first limit reached, and says which; GP,
AgingEvolution and RandomSearch resume from a checkpoint exactly as an uninterrupted run ends.

Objectives are ``ParameterCount`` (and ``FLOPs``), read off the NetSpec: nothing is trained,
so a generation costs milliseconds. The evaluations budget counts trained networks, so its test
trains real (tiny) ones.
"""
import pytest

import evokit as ek
from evokit.algorithms.aging import AgingEvolution
from evokit.algorithms.gp import GP
from evokit.algorithms.random_search import RandomSearch
from evokit.runtime.run.checkpoint import load_checkpoint
from evokit.runtime.run.directory import read_candidates

ALGORITHMS = {
    "GA": lambda n: ek.algorithms.GA(population=n),
    "NSGA2": lambda n: ek.algorithms.NSGA2(population=n),
    "AgingEvolution": lambda n: AgingEvolution(population=n, sample=2 if n > 2 else 1),
    "RandomSearch": lambda n: RandomSearch(batch=n),
    "GP": lambda n: GP(population=n),
}
FAR = 10**6  # a limit never reached in these tests


def tree() -> ek.encodings.Tree:
    return ek.encodings.Tree(max_depth=3, filters=(4, 8), kernel_sizes=(3,), units=(8,))


def search(name, data, budget, population=4, objectives=None, **kw):
    if objectives is None:
        objectives = ek.fitness.ParameterCount()
    if name == "NSGA2" and not isinstance(objectives, list):
        objectives = [objectives, ek.fitness.FLOPs() if objectives.name == "params" else ek.fitness.ParameterCount()]
    return ek.Search(encoding=tree(), objectives=objectives, data=data, algorithm=ALGORITHMS[name](population),
                     budget=budget, seed=3, progress=False, **kw)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_generations_budget_stops_after_exactly_that_many(name, small_digits):
    result = search(name, small_digits, ek.Budget(generations=3)).run()
    assert result.stats["stopped_by"] == "generations"
    assert result.stats["generations"] == 3 and [r["gen"] for r in result.history] == [0, 1, 2, 3]


@pytest.mark.parametrize("name", ALGORITHMS)
def test_seconds_budget_stops_soon_after_the_time(name, small_digits):
    result = search(name, small_digits, ek.Budget(seconds=0.3, generations=FAR)).run()
    assert result.stats["stopped_by"] == "seconds"
    assert 0.3 <= result.stats["wall_time_s"] < 5.0  # a generation here takes milliseconds
    assert result.history[-2]["elapsed_s"] < 0.3  # it went on until the limit, and stopped at the first check after


@pytest.mark.parametrize("name", ALGORITHMS)
def test_target_budget_stops_when_the_first_objective_is_good_enough(name, small_digits):
    # 650 parameters: the network of the bare input tree ``inp`` (Flatten -> Dense(10)); minimised.
    result = search(name, small_digits, ek.Budget(target=650, generations=200)).run()
    assert result.stats["stopped_by"] == "target"
    assert result.best.values["params"] <= 650
    assert all(r["params_min"] > 650 for r in result.history[:-1])  # not reached before the last generation
    assert result.history[-1]["params_min"] <= 650


@pytest.mark.parametrize("name", ALGORITHMS)
def test_evaluations_budget_counts_trained_networks(name, small_digits):
    result = search(name, small_digits, ek.Budget(evaluations=3, generations=25), population=2,
                    objectives=ek.fitness.ValidationAccuracy(epochs=1)).run()
    assert result.stats["stopped_by"] == "evaluations"
    trained = [sum(r["trained"] for r in result.history[:i + 1]) for i in range(len(result.history))]
    assert trained[-1] == result.stats["trained"] >= 3 > trained[-2]  # stopped at the first generation past it
    assert result.stats["trained"] <= 2 + 2  # every algorithm here makes at most 2 new networks per generation


@pytest.mark.parametrize("name", ALGORITHMS)
def test_any_combination_stops_at_the_first_limit_reached(name, small_digits):
    never = dict(evaluations=FAR, seconds=3600.0, target=-1.0)  # target -1 parameters: unreachable
    result = search(name, small_digits, ek.Budget(generations=2, **never)).run()
    assert (result.stats["stopped_by"], result.stats["generations"]) == ("generations", 2)
    result = search(name, small_digits, ek.Budget(generations=FAR, evaluations=FAR, seconds=0.2, target=-1.0)).run()
    assert result.stats["stopped_by"] == "seconds"
    result = search(name, small_digits, ek.Budget(generations=200, evaluations=FAR, seconds=3600.0, target=650)).run()
    assert result.stats["stopped_by"] == "target"


def final_state(run_dir):
    """The final queue/population in order, the hall of fame, and every record evaluated."""
    payload = load_checkpoint(run_dir)
    population = [(str(ind), ind.fitness.values) for ind in payload["state"].population]
    hof = [(str(ind), ind.fitness.values) for ind in payload["hof"]]
    records = [(r["generation"], r["genotype"], r["fitness"]) for r in read_candidates(run_dir)]
    return payload["state"].generation, population, hof, records


RESUMABLE = {
    "GP": lambda: GP(population=4, parsimony=1.4, max_size=20),
    "GP-simple": lambda: GP(population=4, replacement="simple", mutpb=0.3),
    "AgingEvolution": lambda: AgingEvolution(population=5, sample=2, batch=2),
    "RandomSearch": lambda: RandomSearch(batch=4),
}


@pytest.mark.parametrize("name", RESUMABLE)
@pytest.mark.parametrize("objectives", ["one", "two"])
def test_resumed_run_ends_like_an_uninterrupted_one(name, objectives, small_digits, tmp_path):
    objs = ek.fitness.ParameterCount() if objectives == "one" else [ek.fitness.ParameterCount(), ek.fitness.FLOPs()]

    def make(run_dir, generations):
        return ek.Search(encoding=tree(), objectives=objs, data=small_digits, algorithm=RESUMABLE[name](),
                         budget=ek.Budget(generations=generations), seed=5, run_dir=run_dir, progress=False)

    make(tmp_path / "whole", 3).run()
    make(tmp_path / "resumed", 1).run()
    assert load_checkpoint(tmp_path / "resumed")["state"].generation == 1
    result = make(tmp_path / "resumed", 3).run(resume=True)
    assert result.stats["generations"] == 3 and result.stats["stopped_by"] == "generations"
    whole = final_state(tmp_path / "whole")
    assert final_state(tmp_path / "resumed") == whole
    assert whole[0] == 3 and len({genotype for _, genotype, _ in whole[3]}) > len(whole[1])  # it did search
