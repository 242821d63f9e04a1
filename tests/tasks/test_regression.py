"""Regression beyond the conformance suite: its scores against scikit-learn on random targets
(one and several outputs, constant targets), and the loss choice (mse, mae, huber)."""
import keras
import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score, root_mean_squared_error

import evokit as ek
from evokit import tasks
from evokit.errors import ConfigError
from evokit.runtime.training.compiling import compile_model

SKLEARN = {"mse": mean_squared_error, "mae": mean_absolute_error, "rmse": root_mean_squared_error, "r2": r2_score}


@pytest.mark.parametrize("outputs", [None, 1, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_equal_scikit_learns_uniform_average(outputs, seed):
    rng = np.random.default_rng(seed)
    shape = (50,) if outputs is None else (50, outputs)
    y = rng.normal(size=shape) * rng.uniform(0.5, 5, size=shape[1:])
    pred = y + rng.normal(size=shape) * rng.uniform(0.1, 3, size=shape[1:])
    pred_as_model = pred.reshape(len(pred), -1).astype("float32")  # a linear head outputs (n, outputs)
    scores = tasks.Regression().score(y.astype("float32"), pred_as_model, "test_")
    assert set(scores) == {"test_loss", "test_mse", "test_mae", "test_rmse", "test_r2"}
    for name, reference in SKLEARN.items():
        assert scores[f"test_{name}"] == pytest.approx(reference(y, pred), rel=1e-5), name
    assert scores["test_loss"] == scores["test_mse"]
    assert scores["test_r2"] < 1.0


def test_r2_of_constant_targets_is_finite_like_scikit_learns():
    y = np.array([[2.0, 1.0], [2.0, 2.0], [2.0, 3.0]], "float32")  # the first output is constant
    task = tasks.Regression()
    exact = task.score(y, y.copy())
    assert exact["val_r2"] == 1.0 == r2_score(y, y)
    off = y + np.array([0.5, 0.0], "float32")  # the constant output missed, the other exact
    assert task.score(y, off)["val_r2"] == pytest.approx(r2_score(y, off)) == 0.5
    one = np.array([3.0], "float32")  # a single sample: no spread at all
    assert task.score(one, np.array([[3.0]], "float32"))["val_r2"] == 1.0


def test_the_headline_is_r2_maximised_and_named_for_people():
    headline = tasks.Regression().headline
    assert (headline.name, headline.higher_is_better, headline.title, headline.percent) == ("r2", True, "R²", False)
    accuracy = tasks.Classification().headline
    assert (accuracy.title, accuracy.abbreviation, accuracy.percent) == ("accuracy", "acc", True)


def test_training_loss_resolves_the_choice_and_names_loss_when_refused():
    regression, classification = tasks.Regression(), tasks.Classification()
    assert regression.losses == ("mse", "mae", "huber")
    assert regression.training_loss(None) == "mse" and regression.training_loss("huber") == "huber"
    assert classification.training_loss(None) == "sparse_categorical_crossentropy"
    with pytest.raises(ConfigError, match=r"^loss='huber' is invalid: expected one of "
                                          r"'sparse_categorical_crossentropy' for a classification task"):
        classification.training_loss("huber")
    with pytest.raises(ConfigError, match=r"^loss='sparse_categorical_crossentropy' is invalid: expected one of "
                                          r"'mse', 'mae', 'huber' for a regression task"):
        regression.training_loss("sparse_categorical_crossentropy")


def test_training_config_takes_a_loss_any_task_offers_and_keys_it_only_when_set():
    default = ek.TrainingConfig(epochs=2)
    assert default.loss is None and "loss" not in default.key()  # caches written before the option stay valid
    assert ek.TrainingConfig(epochs=2, loss="huber").key() == default.key() + ",loss=huber"
    for bad in ("hubr", 3, ""):
        with pytest.raises(ConfigError, match=rf"^loss={bad!r} is invalid: expected None \(the task's own loss\) "
                                              r"or one of 'huber', 'mae', 'mse'"):
            ek.TrainingConfig(loss=bad)


@pytest.mark.parametrize("loss", [None, "mse", "mae", "huber"])
def test_compile_model_compiles_with_the_chosen_loss(loss):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    compile_model(model, ek.TrainingConfig(loss=loss), tasks.Regression())
    assert model.loss == (loss or "mse")
    assert model.optimizer.built  # compiled and ready: slot variables made before the first step


def test_the_chosen_loss_is_what_the_model_minimises():
    """With errors of 10, MSE reports ~100, MAE ~10 and Huber (delta 1) ~9.5: the losses differ."""
    x = np.zeros((4, 3), "float32")  # zero inputs, zero bias: predictions are 0, errors are the targets
    y = np.full(4, 10.0, "float32")
    reported = {}
    for loss in ("mse", "mae", "huber"):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, bias_initializer="zeros")])
        compile_model(model, ek.TrainingConfig(loss=loss, learning_rate=1e-9), tasks.Regression())
        reported[loss] = float(model.train_on_batch(x, y, return_dict=True)["loss"])
    assert reported == pytest.approx({"mse": 100.0, "mae": 10.0, "huber": 9.5}, rel=1e-4)


def test_compile_model_refuses_a_loss_the_task_does_not_offer():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    with pytest.raises(ConfigError, match=r"^loss='mae' is invalid"):
        compile_model(model, ek.TrainingConfig(loss="mae"), tasks.Classification())


@pytest.mark.parametrize("trace_once", [False, True])
def test_a_candidate_trains_with_the_chosen_loss_and_is_scored_by_every_metric(trace_once):
    from evokit.runtime.training import traced
    from evokit.runtime.training.trainer import train

    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 4))
    data = ek.datasets.from_arrays(x, 3 * x[:, 0] - x[:, 1] + 5, task="regression")
    g = ek.netspec.Graph(data.input_shape)
    spec = ek.encodings.add_head(g, g.add(ek.netspec.Dense(8, "tanh"), g.input), data.n_outputs, data.task)
    traced.clear_graphs()
    runs = {loss: train(spec, data, ek.TrainingConfig(epochs=2, learning_rate=0.01, trace_once=trace_once,
                                                      loss=loss), seed=0) for loss in (None, "mae")}
    for ev in runs.values():
        assert ev.status == "ok"
        assert set(ev.metrics) == {"loss", "val_loss", "val_mse", "val_mae", "val_rmse", "val_r2"}
        assert ev.metrics["val_loss"] == ev.metrics["val_mse"]  # the task's own loss, whatever trained
    mse, mae = runs[None].history["loss"][0], runs["mae"].history["loss"][0]
    assert mse > 2 * mae  # targets around 5 with errors of several units: squared errors are far larger
    assert traced.cached_graphs() == (2 if trace_once else 0)  # one traced graph per loss, never shared
