"""Hypervolume, its reference point and front records; the Pareto outputs of multi-objective searches."""
import csv
import math
import random

import numpy as np
import pytest
from deap import base, creator, tools
from deap.benchmarks.tools import hypervolume as deap_hypervolume

import evokit as ek
from evokit.runtime.run.checkpoint import load_checkpoint
from evokit.pareto import (check_reference_point, default_reference_point, hypervolume, minimisation,
                           nondominated)
from evokit.runtime.run.front import front_records, read_front_csv, write_front_csv
from evokit.runtime.run.directory import read_candidates
from evokit.errors import ConfigError


class Layers(ek.fitness.SpecObjective):
    """A third cheap objective: the number of layers (no training)."""

    name = "layers"
    weight = -1.0

    def measure(self, spec):
        return len(spec)


def test_hypervolume_is_deaps_in_the_minimisation_space():
    if not hasattr(creator, "ParetoFitnessMin2"):
        creator.create("ParetoFitnessMin2", base.Fitness, weights=(-1.0, -1.0))
        creator.create("ParetoIndividual2", list, fitness=creator.ParetoFitnessMin2)
    rng = random.Random(0)
    front = []
    for _ in range(12):
        ind = creator.ParetoIndividual2([])
        ind.fitness.values = (rng.uniform(0, 10), rng.uniform(0, 10))
        front.append(ind)
    values = [ind.fitness.values for ind in front]
    assert hypervolume(values, (-1.0, -1.0), (11.0, 11.0)) == pytest.approx(deap_hypervolume(front, [11.0, 11.0]))
    # a maximised accuracy and a minimised parameter count: two boxes up to (accuracy 0.5, 1000 params)
    accuracy_params = [(0.9, 800.0), (0.7, 200.0)]
    expected = (0.9 - 0.5) * (1000 - 800) + (0.7 - 0.5) * (800 - 200)
    assert hypervolume(accuracy_params, (1.0, -1.0), (0.5, 1000.0)) == pytest.approx(expected)
    assert hypervolume(accuracy_params, (2.0, -0.5), (0.5, 1000.0)) == pytest.approx(expected)  # only signs count
    assert minimisation(accuracy_params, (1.0, -1.0)).tolist() == [[-0.9, 800.0], [-0.7, 200.0]]


def test_failed_members_and_members_beyond_the_reference_add_nothing():
    base_front = [(0.9, 800.0), (0.7, 200.0)]
    hv = hypervolume(base_front, (1.0, -1.0), (0.5, 1000.0))
    extra = [(-math.inf, 10.0), (0.95, math.inf), (math.nan, 5.0), (0.99, 5000.0), (0.4, 10.0)]
    assert hypervolume(base_front + extra, (1.0, -1.0), (0.5, 1000.0)) == pytest.approx(hv)
    assert hypervolume([], (1.0, -1.0), (0.5, 1000.0)) == 0.0
    assert hypervolume(extra, (1.0, -1.0), (0.5, 1000.0)) == 0.0


def test_default_reference_point_is_the_worst_finite_value_plus_ten_percent_of_the_range():
    values = [(0.9, 800.0), (0.7, 200.0), (0.5, 400.0), (-math.inf, 50.0), (0.99, math.inf)]
    reference = default_reference_point(values, (1.0, -1.0))
    assert reference == pytest.approx((0.5 - 0.1 * 0.4, 800.0 + 0.1 * 600.0))
    assert default_reference_point([(0.5, 100.0)], (1.0, -1.0)) == pytest.approx((0.45, 110.0))  # no range: 10%
    assert default_reference_point([(0.0, 0.0)], (1.0, -1.0)) == pytest.approx((-0.1, 0.1))  # no range, value 0: 0.1
    assert default_reference_point([(-math.inf, 3.0)], (1.0, -1.0)) is None
    assert nondominated(values, (1.0, -1.0)) == [0, 1]


def test_reference_point_validation_names_the_argument():
    assert check_reference_point([0, 1e6], 2) == (0.0, 1e6)
    assert check_reference_point(None, 3) is None
    for bad in ("0,1", 5, [1.0], [1.0, math.nan], [True, 1.0]):
        with pytest.raises(ConfigError, match="reference_point"):
            check_reference_point(bad)
    with pytest.raises(ConfigError, match="has 2 values but the search has 3"):
        check_reference_point((1, 2), 3)


def test_front_records_round_trip_through_csv(tmp_path):
    class Member:
        def __init__(self, values, params, description):
            self.values, self.params, self.description = values, params, description

    members = [Member({"val_accuracy": 0.91, "params": 1234.0}, 1234, "conv(8) -> dense(10)"),
               Member({"val_accuracy": 0.85, "params": 456.0}, 456, "dense(16), dense(10)")]
    records = front_records(members, ["val_accuracy", "params"])
    assert records[0] == {"val_accuracy": 0.91, "params": 1234, "description": "conv(8) -> dense(10)"}
    write_front_csv(tmp_path / "pareto.csv", records)
    assert read_front_csv(tmp_path / "pareto.csv") == records


def _cheap_search(encoding, run_dir, algorithm, objectives=None, seed=3, **kw):
    objectives = objectives or [ek.fitness.ParameterCount(), ek.fitness.FLOPs()]
    return ek.Search(encoding=encoding, objectives=objectives, data=kw.pop("data"), algorithm=algorithm, seed=seed,
                     run_dir=run_dir, progress=False, **kw)


def _hypervolumes(run_dir):
    return [float(r["hypervolume"]) for r in csv.DictReader((run_dir / "generations.csv").open())]


def test_cheap_two_objective_search_logs_hypervolume_against_the_generation_0_reference(
        small_digits, tiny_encoding, counting_evaluator, tmp_path):
    run = tmp_path / "run"
    result = _cheap_search(tiny_encoding, run, ek.algorithms.NSGA2(population=6, generations=3), data=small_digits,
                           workers=counting_evaluator).run()
    assert counting_evaluator.trained == []  # ParameterCount and FLOPs need no training
    assert all(r["status"] == "untrained" for r in read_candidates(run))
    generation_0 = [tuple(r["fitness"].values()) for r in read_candidates(run) if r["generation"] == 0]
    reference = default_reference_point(generation_0, (-1.0, -1.0))
    assert result.stats["hypervolume_reference"] == pytest.approx(reference)
    hvs = _hypervolumes(run)
    assert len(hvs) == 4 and hvs[0] > 0 and hvs == sorted(hvs)  # the kept front's hypervolume never shrinks
    front_values = [tuple(c.values.values()) for c in result.pareto_front]
    assert hvs[-1] == pytest.approx(hypervolume(front_values, (-1.0, -1.0), reference))
    assert result.stats["hypervolume"] == pytest.approx(hvs[-1])
    rows = list(csv.DictReader((run / "pareto.csv").open()))
    assert [float(r["params"]) for r in rows] == [c.values["params"] for c in result.pareto_front]
    assert set(rows[0]) == {"params", "flops", "description"}
    assert (run / "pareto.png").stat().st_size > 0
    assert nondominated(front_values, (-1.0, -1.0)) == list(range(len(front_values)))


def test_single_objective_runs_have_no_hypervolume_or_front_files(small_digits, tiny_encoding, tmp_path):
    _cheap_search(tiny_encoding, tmp_path, ek.algorithms.GA(population=4, generations=1), data=small_digits,
                  objectives=[ek.fitness.ParameterCount()]).run()
    assert "hypervolume" not in next(csv.DictReader((tmp_path / "generations.csv").open()))
    assert not (tmp_path / "pareto.csv").exists() and not (tmp_path / "pareto.png").exists()


@pytest.mark.parametrize("algorithm,objectives", [
    (lambda: ek.algorithms.NSGA2(population=8, generations=3), lambda: [ek.fitness.ParameterCount(),
                                                                          ek.fitness.FLOPs()]),
    (lambda: ek.algorithms.nsga2.NSGA3(population=8, generations=3, memory=True),
     lambda: [ek.fitness.ParameterCount(), ek.fitness.FLOPs(), Layers()]),
], ids=["NSGA2", "NSGA3"])
def test_resumed_multi_objective_run_equals_an_uninterrupted_one(small_digits, tiny_encoding, tmp_path, algorithm,
                                                                 objectives):
    def final(run_dir):
        payload = load_checkpoint(run_dir)
        population = [(repr(ind), ind.fitness.values) for ind in payload["state"].population]
        return population, sorted((repr(i), i.fitness.values) for i in payload["hof"]), _hypervolumes(run_dir)

    whole = tmp_path / "whole"
    _cheap_search(tiny_encoding, whole, algorithm(), objectives(), data=small_digits).run()
    part = tmp_path / "part"
    _cheap_search(tiny_encoding, part, algorithm(), objectives(), data=small_digits,
                  budget=ek.Budget(generations=1)).run()
    assert len(_hypervolumes(part)) == 2
    resumed = _cheap_search(tiny_encoding, part, algorithm(), objectives(), data=small_digits)
    resumed.run(resume=True)
    assert final(part) == final(whole)
    assert len(final(whole)[2]) == 4 and all(math.isfinite(v) for v in final(whole)[2])
    payload = load_checkpoint(part)
    assert payload["reference_point"] == load_checkpoint(whole)["reference_point"]
    if len(objectives()) == 3:
        assert np.array_equal(payload["state"].extra["ref_points"], tools.uniform_reference_points(3, 2))


def test_a_given_reference_point_is_used_and_kept(small_digits, tiny_encoding):
    from evokit.algorithms.base import SearchState
    from evokit.runtime.candidates.evaluator import CandidateEvaluator
    from evokit.runtime.run.log import RunLog
    from evokit.deap_toolbox import genotype_toolbox

    objectives = [ek.fitness.ParameterCount(), ek.fitness.FLOPs()]
    candidates = CandidateEvaluator(tiny_encoding, objectives, small_digits)
    log = RunLog(candidates, None, ["params", "flops"], tiny_encoding, None, False, reference_point=(1e5, 1e7))
    random.seed(0)
    population = genotype_toolbox(tiny_encoding, candidates.weights).population(n=5)
    log.evaluate(population)
    front = tools.ParetoFront()
    log.finish_generation(SearchState(population), front, 0.1)
    expected = hypervolume([ind.fitness.values for ind in front], (-1.0, -1.0), (1e5, 1e7))
    assert log.rows[-1]["hypervolume"] == pytest.approx(expected) and expected > 0
    assert log.reference_point == (1e5, 1e7)
    with pytest.raises(ConfigError, match="reference_point"):
        RunLog(candidates, None, ["params", "flops"], tiny_encoding, None, False, reference_point=(1.0, 2.0, 3.0))


def test_tiny_training_run_writes_the_pareto_front_and_hypervolume(small_digits, tiny_encoding, tmp_path):
    objectives = [ek.fitness.ValidationAccuracy(epochs=1), ek.fitness.ParameterCount()]
    result = _cheap_search(tiny_encoding, tmp_path, ek.algorithms.NSGA2(population=4, generations=1), objectives,
                           data=small_digits).run()
    rows = list(csv.DictReader((tmp_path / "pareto.csv").open()))
    assert len(rows) == len(result.pareto_front) >= 1
    assert list(rows[0]) == ["val_accuracy", "params", "description"]
    accuracies = [float(r["val_accuracy"]) for r in rows]
    assert accuracies == sorted(accuracies, reverse=True) and all(0.0 <= a <= 1.0 for a in accuracies)
    assert [int(r["params"]) for r in rows] == [c.params for c in result.pareto_front]
    assert (tmp_path / "pareto.png").stat().st_size > 0
    hvs = _hypervolumes(tmp_path)
    assert len(hvs) == 2 and 0 < hvs[0] <= hvs[1]
    assert result.best is result.pareto_front[0]
