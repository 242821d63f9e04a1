import math

import numpy as np
import pytest

import evokit as ek
from evokit.fitness.combine import training_config
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.run.front import read_front_csv


def test_constraint_screening_trains_no_violating_candidate(small_digits, tiny_encoding, counting_evaluator):
    evaluator = counting_evaluator
    limit = 3_000
    search = ek.Search(encoding=tiny_encoding, objectives=ek.fitness.ValidationAccuracy(epochs=1), data=small_digits,
                       algorithm=ek.algorithms.GA(population=6, generations=2), workers=evaluator,
                       constraints=[ek.fitness.MaxParams(limit)], progress=False)
    result = search.run()
    assert evaluator.trained and all(spec.params <= limit for spec in evaluator.trained)
    infeasible = result.stats["failures"].get("infeasible", 0)
    assert infeasible > 0  # the tiny encoding easily exceeds 3,000 parameters
    assert result.stats["trained"] == len(evaluator.trained)


def test_flops_and_predicted_co2_constraints(small_digits, tiny_encoding):
    genome = tiny_encoding.random(__import__("random").Random(0))
    ce = CandidateEvaluator(tiny_encoding, ek.fitness.ParameterCount(), small_digits,
                            constraints=[ek.fitness.MaxFLOPs(1), ek.fitness.MaxPredictedCO2(1e-12)])
    out = ce.evaluate_all([genome])[0]
    assert out.evaluation.reason == "infeasible"
    assert "FLOPs > limit" in out.evaluation.message and "kg CO2-eq > limit" in out.evaluation.message
    with pytest.raises(ek.errors.ConfigError, match=r"constraints\[0\]"):
        CandidateEvaluator(tiny_encoding, ek.fitness.ParameterCount(), small_digits, constraints=[100])


def small_and_accurate(evaluation):
    """A plain user function: accuracy minus a size penalty."""
    return evaluation.metrics["val_accuracy"] - evaluation.params / 1e6


def test_user_function_objective_in_a_ga(small_digits, tiny_encoding):
    result = ek.Search(encoding=tiny_encoding, objectives=small_and_accurate, data=small_digits,
                       algorithm=ek.algorithms.GA(population=4, generations=1),
                       progress=False).run()
    best = result.best
    assert best.values["small_and_accurate"] == pytest.approx(
        best.evaluation.metrics["val_accuracy"] - best.params / 1e6)


def test_user_function_objective_in_nsga2(small_digits, tiny_encoding):
    latency_proxy = ek.fitness.Objective(lambda e: e.flops / 1e3, name="kflops", weight=-1.0, needs_training=False)
    result = ek.Search(encoding=tiny_encoding, objectives=[ek.fitness.ValidationAccuracy(epochs=1), latency_proxy],
                       data=small_digits, algorithm=ek.algorithms.NSGA2(population=4, generations=1),
                       progress=False).run()
    assert result.pareto_front
    for c in result.pareto_front:
        assert c.values["kflops"] == pytest.approx(c.spec.flops / 1e3)


def mean_abs_weight(model, data):
    return float(np.mean([np.abs(w).mean() for w in model.get_weights()]))


def test_model_objective_and_latency_run_where_the_model_is(small_digits, tiny_encoding):
    objectives = [ek.fitness.ValidationAccuracy(epochs=1), ek.fitness.Latency(batch_size=16, repeats=3),
                  ek.fitness.ModelObjective(mean_abs_weight, weight=-1.0)]
    ce = CandidateEvaluator(tiny_encoding, objectives, small_digits)
    out = ce.evaluate_all([tiny_encoding.random(__import__("random").Random(1))])[0]
    acc, latency, weight = out.values
    assert 0 <= acc <= 1 and 0 < latency < 1000 and weight > 0
    assert out.evaluation.metrics["latency_ms"] == latency


def test_probes_are_part_of_the_cache_key(small_digits, tiny_encoding):
    plain = CandidateEvaluator(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits)
    timed = CandidateEvaluator(tiny_encoding, [ek.fitness.ValidationAccuracy(epochs=1), ek.fitness.Latency()],
                               small_digits)
    assert plain._context != timed._context


def test_weighted_sum_normalises_and_propagates_training(small_digits):
    acc = ek.fitness.ValidationAccuracy(epochs=2)
    ws = ek.fitness.WeightedSum([(acc, 1.0), (ek.fitness.ParameterCount(), -0.5)], scales={"params": 1000})
    assert training_config([ws]).epochs == 2 and ws.needs_training
    g = ek.netspec.Graph((4,))
    spec = g.finish(g.add(ek.netspec.Dense(2, "softmax"), g.input))  # 10 parameters
    assert ws(ek.Evaluation(spec, metrics={"val_accuracy": 0.9})) == pytest.approx(0.9 - 0.5 * 10 / 1000)
    assert ws(ek.evaluation.failure(spec, "nan_loss", "x")) == pytest.approx(-0.005)
    with pytest.raises(ek.errors.ConfigError, match="scales"):
        ek.fitness.WeightedSum([(acc, 1.0)], scales={"latency_ms": 10})
    with pytest.raises(ek.errors.ConfigError, match=r"terms\[0\]"):
        ek.fitness.WeightedSum([(acc,)])


def test_search_reports_its_cost(small_digits, tiny_encoding, tmp_path):
    result = ek.Search(encoding=tiny_encoding, objectives=ek.fitness.ValidationAccuracy(epochs=1), data=small_digits,
                       algorithm=ek.algorithms.GA(population=3, generations=1), run_dir=tmp_path / "r",
                       progress=False).run()
    cost = result.stats["search_cost"]
    assert cost["energy_kwh_estimated"] > 0 and cost["co2_kg_estimated"] > 0 and cost["train_seconds"] > 0
    assert "search_cost" in (tmp_path / "r" / "summary.json").read_text()


def _half(evaluation):
    """About half the networks, the same ones in every run: those whose hash starts with 0-7."""
    return int(evaluation.spec_hash[0], 16) < 8


def latency_that_raises(evaluation):
    """A user objective with a bug: it divides by zero on about half the networks."""
    return 1 / 0 if _half(evaluation) else evaluation.params / 1000


def latency_that_is_nan(evaluation):
    """A user objective that gives NaN on about half the networks."""
    return math.nan if _half(evaluation) else evaluation.params / 1000


@pytest.mark.parametrize("fn, problem", [(latency_that_raises, "ZeroDivisionError: division by zero"),
                                         (latency_that_is_nan, "returned NaN")])
def test_a_user_objective_that_fails_fails_its_candidate_and_the_search_goes_on(small_digits, tiny_encoding, tmp_path,
                                                                                fn, problem):
    latency = ek.fitness.Objective(fn, name="latency", weight=-1.0)
    result = ek.Search(encoding=tiny_encoding, objectives=[ek.fitness.ValidationAccuracy(epochs=1), latency],
                       data=small_digits, algorithm=ek.algorithms.NSGA2(population=4, generations=1),
                       run_dir=tmp_path, progress=False).run()
    records = ek.runtime.read_candidates(tmp_path)
    failed = [r for r in records if r["reason"] == "objective_error"]
    assert failed and len(failed) < len(records)  # some candidates failed, the others were scored
    for r in failed:
        assert r["status"] == "failed" and r["message"] == f"objectives[1] 'latency': {problem}"
        assert r["fitness"] == {"val_accuracy": 0.0, "latency": None}  # every objective's failure value (inf)
        assert r["val_accuracy"] is not None  # the training itself went well: its metrics are kept
    assert result.stats["failures"]["objective_error"] == sum(not r["cached"] for r in failed)
    assert result.pareto_front  # only finite members: a failed candidate has latency +inf
    assert all(math.isfinite(v) for c in result.pareto_front for v in c.values.values())
    rows = read_front_csv(tmp_path / "pareto.csv")
    assert len(rows) == len(result.pareto_front)
    assert all(math.isfinite(row[name]) for row in rows for name in ("val_accuracy", "latency"))


def never_finite(evaluation):
    return math.inf


def test_a_front_with_no_finite_member_is_empty(small_digits, tiny_encoding, tmp_path):
    never = ek.fitness.Objective(never_finite, weight=-1.0, needs_training=False)
    result = ek.Search(encoding=tiny_encoding, objectives=[ek.fitness.ParameterCount(), never], data=small_digits,
                       algorithm=ek.algorithms.NSGA2(population=4, generations=0), run_dir=tmp_path,
                       progress=False).run()
    assert result.hall_of_fame and result.pareto_front == []
    assert not (tmp_path / "pareto.csv").exists()
