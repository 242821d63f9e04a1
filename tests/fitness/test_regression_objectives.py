"""The regression objectives (ValidationMAE, ValidationRMSE, ValidationR2) and the checks every
training objective makes when a search meets its data: the loss and the metric fit the task."""
import math

import numpy as np
import pytest

import evokit as ek
from evokit.errors import ConfigError
from evokit.evaluation import Evaluation, failure
from evokit.fitness.combine import training_config


@pytest.fixture(scope="module")
def regression_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4))
    return ek.datasets.from_arrays(x, x @ np.array([1.0, -2.0, 0.5, 0.0]), task="regression", name="linear")


@pytest.fixture
def spec():
    g = ek.netspec.Graph((4,))
    return g.finish(g.add(ek.netspec.Dense(1, "linear"), g.input))


@pytest.mark.parametrize("cls, metric, weight, worst", [
    (ek.fitness.ValidationMAE, "val_mae", -1.0, math.inf),
    (ek.fitness.ValidationRMSE, "val_rmse", -1.0, math.inf),
    (ek.fitness.ValidationR2, "val_r2", 1.0, -math.inf)])
def test_each_reads_its_metric_with_its_direction(cls, metric, weight, worst, spec):
    objective = cls(epochs=2, loss="huber")
    assert objective.name == metric and objective.weight == weight and objective.needs_training
    assert objective(Evaluation(spec, metrics={metric: 0.25, "val_loss": 9.0})) == 0.25
    assert objective(failure(spec, "nan_loss", "boom")) == worst
    assert objective.training == ek.TrainingConfig(epochs=2, loss="huber")
    with pytest.raises(ConfigError, match=rf"^{cls.__name__} needs regression data: the evaluation has no {metric}"):
        objective(Evaluation(spec, metrics={"val_accuracy": 0.5, "val_loss": 1.0}))


def test_training_settings_are_shared_like_validation_accuracys():
    assert training_config([ek.fitness.ValidationR2(epochs=4, loss="mae"), ek.fitness.ParameterCount()]) == \
        ek.TrainingConfig(epochs=4, loss="mae")
    with pytest.raises(ConfigError, match="training settings"):
        training_config([ek.fitness.ValidationR2(loss="mae"), ek.fitness.ValidationMAE(loss="huber")])
    with pytest.raises(ConfigError, match=r"^loss='l1' is invalid"):
        ek.fitness.ValidationR2(loss="l1")


def test_setup_refuses_a_metric_the_data_does_not_score(regression_data, small_digits):
    with pytest.raises(ConfigError, match=r"^ValidationR2 needs regression data: it reads val_r2, which a "
                                          r"classification task does not score \(it scores loss, val_accuracy, "
                                          r"val_loss\); for classification use ValidationAccuracy"):
        ek.fitness.ValidationR2().setup(small_digits, ek.TrainingConfig())
    with pytest.raises(ConfigError, match=r"^ValidationAccuracy needs classification data: .*for regression use "
                                          r"ValidationR2"):
        ek.fitness.ValidationAccuracy().setup(regression_data, ek.TrainingConfig())
    for objective in (ek.fitness.ValidationR2(), ek.fitness.ValidationMAE(), ek.fitness.ValidationRMSE(),
                      ek.fitness.ValidationLoss()):
        objective.setup(regression_data, objective.training)  # accepted
    ek.fitness.ValidationLoss().setup(small_digits, ek.TrainingConfig())


def test_setup_refuses_a_loss_the_datas_task_does_not_offer(small_digits, regression_data):
    accuracy = ek.fitness.ValidationAccuracy(loss="huber")
    with pytest.raises(ConfigError, match=r"^loss='huber' is invalid: expected one of "
                                          r"'sparse_categorical_crossentropy' for a classification task"):
        accuracy.setup(small_digits, accuracy.training)
    ek.fitness.ValidationR2(loss="huber").setup(regression_data, ek.TrainingConfig(loss="huber"))


def test_a_search_refuses_a_mismatched_objective_before_training(small_digits, tiny_encoding, counting_evaluator):
    search = ek.Search(encoding=tiny_encoding, objectives=ek.fitness.ValidationR2(epochs=1), data=small_digits,
                       algorithm=ek.algorithms.GA(population=2, generations=0), workers=counting_evaluator,
                       progress=False)
    with pytest.raises(ConfigError, match="ValidationR2 needs regression data"):
        search.run()
    assert counting_evaluator.trained == []
