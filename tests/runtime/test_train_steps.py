"""The lean training step (evokit.runtime.training.steps) against Keras's own train_on_batch, the
trainer's phase timings, and how ProcessEvaluator starts its workers."""
import multiprocessing
import sys

import keras
import numpy as np
import pytest

import evokit as ek
from evokit.builder import build
from evokit.runtime.executors import process
from evokit.runtime.training import steps
from evokit.runtime.training.compiling import compile_model
from evokit.runtime.training.trainer import train
from evokit.tasks import get as get_task


def _spec(data, dropout=0.0):
    g = ek.netspec.Graph(data.input_shape)
    x = g.add(ek.netspec.Conv2D(4, 3), g.input)
    x = g.add(ek.netspec.Flatten(), x)
    x = g.add(ek.netspec.Dense(8, "relu"), x)
    if dropout:
        x = g.add(ek.netspec.Dropout(dropout), x)
    return g.finish(g.add(ek.netspec.Dense(data.n_outputs, "softmax"), x))


def _twins(data, optimizer):
    config = ek.TrainingConfig(epochs=1, optimizer=optimizer, learning_rate=0.01)
    models = [build(_spec(data), seed=4) for _ in range(2)]
    for model in models:
        compile_model(model, config, get_task(data.task))
    return models


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_a_lean_step_trains_exactly_like_train_on_batch(small_digits, optimizer):
    ours, theirs = _twins(small_digits, optimizer)
    step = steps.train_step(ours)
    assert steps.train_step(ours) is step  # made once per model
    weights = np.ones(16, "float32")
    weights[12:] = 0.0  # a padded last batch
    for i in range(4):
        x, y = small_digits.x_train[16 * i:16 * (i + 1)], small_digits.y_train[16 * i:16 * (i + 1)]
        mine = float(step(x, y, weights))
        keras_loss = float(theirs.train_on_batch(x, y, sample_weight=weights, return_dict=True)["loss"])
        assert mine == pytest.approx(keras_loss, rel=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert int(ours.optimizer.iterations) == int(theirs.optimizer.iterations) == 4
    assert steps.fused_adam(ours.optimizer, ours.trainable_variables) == (optimizer == "adam")


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_step_makes_the_optimizer_slots_itself_when_they_were_not_built(small_digits, optimizer):
    """A candidate's own model is compiled without its optimizer's slots: the fused Adam makes
    plain TensorFlow variables of its own (the Keras optimizer stays unbuilt), any other
    optimizer is built; either way the training is train_on_batch's."""
    config = ek.TrainingConfig(epochs=1, optimizer=optimizer, learning_rate=0.01)
    ours, theirs = build(_spec(small_digits), seed=4), build(_spec(small_digits), seed=4)
    compile_model(ours, config, get_task(small_digits.task), build_optimizer=False)
    compile_model(theirs, config, get_task(small_digits.task))
    assert not ours.optimizer.built
    step = steps.train_step(ours)
    assert ours.optimizer.built == (optimizer != "adam")
    weights = np.ones(16, "float32")
    for i in range(3):
        x, y = small_digits.x_train[16 * i:16 * (i + 1)], small_digits.y_train[16 * i:16 * (i + 1)]
        mine = float(step(x, y, weights))
        assert mine == pytest.approx(float(theirs.train_on_batch(x, y, sample_weight=weights)), rel=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert int(ours.optimizer.iterations) == int(theirs.optimizer.iterations) == 3


def test_a_learning_rate_assigned_between_steps_reaches_the_traced_step(small_digits):
    ours, theirs = _twins(small_digits, "adam")
    step = steps.train_step(ours)
    x, y, w = small_digits.x_train[:16], small_digits.y_train[:16], np.ones(16, "float32")
    step(x, y, w)
    theirs.train_on_batch(x, y, sample_weight=w)
    for model in (ours, theirs):
        model.optimizer.learning_rate = 0.0  # a schedule's last epoch: nothing moves
    before = [w.copy() for w in ours.get_weights()]
    step(x, y, w)
    assert all(np.array_equal(a, b) for a, b in zip(before, ours.get_weights()))


def test_every_candidate_says_where_its_time_went(small_digits):
    config = ek.TrainingConfig(epochs=2)
    evaluation = train(_spec(small_digits, dropout=0.25), small_digits, config, seed=1)
    phases = evaluation.extra["phases"]
    assert set(phases) == {"build", "compile", "setup", "trace", "steps", "loop", "validation"}
    assert all(v >= 0.0 for v in phases.values())
    assert phases["steps"] == evaluation.extra["step_time"]
    assert sum(phases.values()) <= evaluation.wall_time + 1e-6
    assert "phases" not in evaluation.summary()  # not a scalar: not a column of the run's records
    traced = train(_spec(small_digits), small_digits, ek.TrainingConfig(epochs=1, trace_once=True), seed=1)
    assert traced.extra["trace_once"] and {"build", "load", "trace", "steps"} <= set(traced.extra["phases"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server is used on Linux only")
def test_workers_are_forked_from_a_fork_server_unless_told_to_spawn(monkeypatch):
    assert process.worker_context().get_start_method() == "forkserver"
    monkeypatch.setenv(process.START_METHOD_ENV, "spawn")
    assert process.worker_context().get_start_method() == "spawn"
    monkeypatch.delenv(process.START_METHOD_ENV)
    monkeypatch.setenv("KERAS_BACKEND", "jax")  # the fork server imported TensorFlow's Keras: spawn
    assert process.worker_context().get_start_method() == "spawn"
    assert "forkserver" in multiprocessing.get_all_start_methods()
    assert keras.config.backend() == "tensorflow"
