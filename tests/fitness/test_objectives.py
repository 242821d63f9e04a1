import math

import pytest

import evokit as ek
from evokit.evaluation import Evaluation, failure
from evokit.fitness.combine import as_objectives, training_config, weights


@pytest.fixture
def spec():
    g = ek.netspec.Graph((10,))
    return g.finish(g.add(ek.netspec.Dense(3, "softmax"), g.input))  # 33 parameters


def test_validation_accuracy_reads_the_metric_and_fails_to_zero(spec):
    acc = ek.fitness.ValidationAccuracy(epochs=2)
    assert acc(Evaluation(spec, metrics={"val_accuracy": 0.8})) == 0.8
    assert acc(failure(spec, "nan_loss", "boom")) == 0.0
    assert acc.weight == 1.0 and acc.training.epochs == 2


def test_parameter_count_needs_no_training_and_survives_failures(spec):
    p = ek.fitness.ParameterCount()
    assert not p.needs_training and p.weight == -1.0
    assert p(Evaluation(spec, status="untrained")) == 33
    assert p(failure(spec, "nan_loss", "x")) == 33
    assert p(failure(None, "decode_error", "x")) == math.inf


def test_deepga_score_formula(spec):
    score = ek.fitness.DeepGAScore(w=0.25, max_params=100)
    ev = Evaluation(spec, metrics={"val_accuracy": 0.9})
    assert score(ev) == pytest.approx(0.75 * 0.9 + 0.25 * (100 - 33) / 100)
    big = ek.fitness.DeepGAScore(w=0.25, max_params=10)  # over Pmax: no size credit, never negative
    assert big(ev) == pytest.approx(0.75 * 0.9)


def test_user_objective_from_a_plain_function(spec):
    def double_params(evaluation):
        return 2 * evaluation.params

    obj = ek.fitness.Objective(double_params, weight=-1.0)
    assert obj.name == "double_params" and obj(Evaluation(spec)) == 66
    assert obj(failure(spec, "exception", "x")) == math.inf
    assert as_objectives(double_params)[0].name == "double_params"


def test_objective_nan_is_scored_as_failure(spec):
    obj = ek.fitness.Objective(lambda e: float("nan"), name="nan", weight=1.0)
    assert obj(Evaluation(spec)) == -math.inf


def test_weights_and_training_config():
    objs = as_objectives([ek.fitness.ValidationAccuracy(epochs=1), ek.fitness.ParameterCount()])
    assert weights(objs) == (1.0, -1.0)
    assert training_config(objs).epochs == 1
    assert training_config([ek.fitness.ParameterCount()]) is None
    with pytest.raises(ek.errors.ConfigError, match="training settings"):
        training_config([ek.fitness.ValidationAccuracy(epochs=1), ek.fitness.DeepGAScore(
            accuracy=ek.fitness.ValidationAccuracy(epochs=2))])


@pytest.mark.parametrize("bad, field", [([], "objectives"), ([1], r"objectives\[0\]"), (None, "objectives")])
def test_bad_objective_lists(bad, field):
    with pytest.raises(ek.errors.ConfigError, match=field):
        as_objectives(bad)


def test_bad_weights_and_duplicate_names():
    with pytest.raises(ek.errors.ConfigError, match="weight"):
        ek.fitness.Objective(lambda e: 1.0, weight=0)
    with pytest.raises(ek.errors.ConfigError, match="unique"):
        as_objectives([ek.fitness.ParameterCount(), ek.fitness.ParameterCount()])
    with pytest.raises(ek.errors.ConfigError, match="w="):
        ek.fitness.DeepGAScore(w=1.5)


def test_flops_objective_reads_the_netspec(spec):
    f = ek.fitness.FLOPs()
    assert f(Evaluation(spec, status="untrained")) == spec.flops > 0
    assert f(failure(spec, "nan_loss", "x")) == spec.flops
    assert f(failure(None, "decode_error", "x")) == math.inf
