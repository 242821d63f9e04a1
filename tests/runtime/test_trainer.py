import math

import keras
import numpy as np
import pytest

import evokit as ek
from evokit.runtime.training import trainer
from evokit.runtime.training.trainer import candidate_seed, train


def _spec(data):
    g = ek.netspec.Graph(data.input_shape)
    x = g.add(ek.netspec.Conv2D(4, 3), g.input)
    x = g.add(ek.netspec.Flatten(), x)
    return g.finish(g.add(ek.netspec.Dense(data.n_outputs, "softmax"), x))


def test_train_records_a_real_evaluation(small_digits):
    spec = _spec(small_digits)
    ev = train(spec, small_digits, ek.TrainingConfig(epochs=4, learning_rate=0.01), seed=3)
    assert ev.status == "ok"
    assert 0.0 <= ev.metrics["val_accuracy"] <= 1.0
    assert ev.metrics["val_accuracy"] > 0.3  # ten classes: well above chance (0.1)
    assert len(ev.history["loss"]) == 4 and ev.history["loss"][-1] < ev.history["loss"][0]
    assert ev.params == spec.params == ev.model().count_params()
    assert ev.wall_time >= ev.train_time > 0


def test_same_seed_same_result_and_different_seed_differs(small_digits):
    spec = _spec(small_digits)
    cfg = ek.TrainingConfig(epochs=1)
    a, b, c = (train(spec, small_digits, cfg, seed=s) for s in (5, 5, 6))
    assert a.metrics == b.metrics
    assert all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights))
    assert not all(np.array_equal(x, y) for x, y in zip(a.weights, c.weights))


def test_nan_loss_fails_only_that_candidate(small_digits):
    ev = train(_spec(small_digits), small_digits, ek.TrainingConfig(epochs=2, optimizer="sgd", learning_rate=1e30),
               seed=0)
    assert ev.failed and ev.reason == "nan_loss"


def test_candidate_seed_depends_on_run_seed_and_network():
    assert candidate_seed(0, "abc") == candidate_seed(0, "abc")
    assert candidate_seed(0, "abc") != candidate_seed(1, "abc")
    assert candidate_seed(0, "abc") != candidate_seed(0, "abd")
    assert 0 <= candidate_seed(7, "x") < 2**31


@pytest.mark.parametrize("kwargs, field", [({"epochs": 0}, "epochs"), ({"optimizer": "lbfgs"}, "optimizer"),
                                            ({"learning_rate": -1.0}, "learning_rate"),
                                            ({"batch_size": 2.5}, "batch_size"), ({"early_stopping": 0}, "early_stopping")])
def test_training_config_errors_name_the_field(kwargs, field):
    with pytest.raises(ek.errors.ConfigError, match=field):
        ek.TrainingConfig(**kwargs)


def test_early_stopping_uses_validation(small_digits):
    ev = train(_spec(small_digits), small_digits, ek.TrainingConfig(epochs=3, early_stopping=1), seed=0)
    assert "val_loss" in ev.history and math.isfinite(ev.metrics["val_loss"])


def test_training_leaves_the_global_random_streams_alone(small_digits):
    import random

    random.seed(11)
    np.random.seed(11)
    expected = (random.random(), np.random.rand())
    random.seed(11)
    np.random.seed(11)
    train(_spec(small_digits), small_digits, ek.TrainingConfig(epochs=1), seed=99)
    assert (random.random(), np.random.rand()) == expected


def test_given_weights_are_used_and_fit_false_skips_training(small_digits):
    spec = _spec(small_digits)
    trained = train(spec, small_digits, ek.TrainingConfig(epochs=2), seed=1)
    scored = train(spec, small_digits, ek.TrainingConfig(epochs=2), seed=2, weights=trained.weights, fit=False)
    assert scored.history == {} and scored.train_time == 0
    assert scored.metrics["val_accuracy"] == trained.metrics["val_accuracy"]  # same weights, same predictions
    assert all(np.array_equal(a, b) for a, b in zip(scored.weights, trained.weights))
    wrong = train(spec, small_digits, ek.TrainingConfig(epochs=1), seed=1, weights=trained.weights[:1])
    assert wrong.failed and wrong.reason == "build_error"


def _grappler_disabled() -> bool:
    import tensorflow as tf

    return bool(tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer", False))


@pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="Grappler is TensorFlow's")
def test_graph_optimizer_is_off_while_training_and_restored_after(monkeypatch):
    monkeypatch.delenv(trainer.GRAPH_OPTIMIZER_ENV, raising=False)
    before = _grappler_disabled()
    with trainer.lean_graphs():
        assert _grappler_disabled()
    assert _grappler_disabled() == before
    with pytest.raises(RuntimeError):
        with trainer.lean_graphs():
            raise RuntimeError("a failing candidate")
    assert _grappler_disabled() == before


@pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="Grappler is TensorFlow's")
def test_graph_optimizer_can_be_kept(monkeypatch):
    monkeypatch.setenv(trainer.GRAPH_OPTIMIZER_ENV, "1")
    before = _grappler_disabled()
    with trainer.lean_graphs():
        assert _grappler_disabled() == before


def test_resident_memory_is_this_process_now():
    before = trainer.resident_memory_gb()
    block = np.ones(64 * 1024**2, dtype=np.uint8)  # 64 MB, touched
    assert trainer.resident_memory_gb() - before > 0.05
    del block
    assert 0.0 < before < 64


def test_seed_candidate_seeds_like_keras_without_touching_tensorflows_global_seed():
    """The same draws as keras.utils.set_random_seed from Python, NumPy and keras.random; but
    TensorFlow's global seed (setting it clears TensorFlow's kernel cache) is left as it was."""
    import random

    import keras
    import numpy as np
    import tensorflow as tf
    from tensorflow.python.eager import context

    from evokit.runtime.training.seeds import seed_candidate

    def draws():
        return random.random(), float(np.random.rand()), np.asarray(keras.random.uniform((3,))).tolist()

    keras.utils.set_random_seed(7)
    expected = draws()
    tf.random.set_seed(123)
    seed_candidate(7)
    assert draws() == expected
    assert context.global_seed() == 123


def test_keras_forgets_its_models_once_every_session_clear_every_models():
    """clear_session also empties TensorFlow's kernel cache (slow to refill): once per N models."""
    import keras

    from evokit.runtime.training import trainer

    keras.backend.clear_session(free_memory=False)
    trainer._built_since_clear[0] = 0
    keras.layers.Dense(1)
    for _ in range(trainer.SESSION_CLEAR_EVERY - 1):
        trainer.forget_models()
    assert keras.layers.Dense(1).name == "dense_1"  # Keras's global state is still there
    trainer.forget_models()
    assert keras.layers.Dense(1).name == "dense"  # cleared


def test_a_trained_model_leaves_no_traced_graph_behind(small_digits, tiny_encoding):
    """Tracing Keras's TensorFlow train step registers a custom gradient (the optimizer's
    all_reduce) that held the whole traced graph for the life of the process (~8 MB a model)."""
    import gc

    from tensorflow.python.framework import func_graph

    from evokit.encodings.deepga import ConvBlock, DeepGAGenome, DenseBlock
    from evokit.evaluation import TrainingConfig
    from evokit.runtime.candidates.evaluator import CandidateEvaluator

    def train_steps_alive() -> int:
        gc.collect()
        return sum(isinstance(o, func_graph.FuncGraph) and "one_step_on_data" in o.name for o in gc.get_objects())

    decode = CandidateEvaluator(tiny_encoding, ek.fitness.ParameterCount(), small_digits).decode
    before = train_steps_alive()
    for filters in (4, 5, 6):
        spec = decode(DeepGAGenome([ConvBlock(filters, 3, "max", 2, "relu")], [DenseBlock(8, "relu", 0.0)], []))
        assert train(spec, small_digits, TrainingConfig(epochs=1), seed=filters).status == "ok"
    assert train_steps_alive() == before


def _regression_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(160, 5)).astype("float32")
    return ek.datasets.from_arrays(x, np.stack([x @ rng.normal(size=5), x[:, 0]], axis=1).astype("float32"))


@pytest.mark.parametrize("trace_once", [False, True])
def test_regression_trains_with_its_tasks_loss_and_is_scored_by_it(trace_once):
    """The task, not a branch in the trainer, gives the head, the loss and the metrics."""
    from evokit.runtime.training.forward import predict, score_test_split

    data = _regression_data()
    task = ek.tasks.get(data.task)
    g = ek.netspec.Graph(data.input_shape)
    spec = ek.encodings.add_head(g, g.add(ek.netspec.Dense(8, "tanh"), g.input), data.n_outputs, data.task)
    ev = train(spec, data, ek.TrainingConfig(epochs=3, learning_rate=0.01, trace_once=trace_once), seed=0)
    assert ev.status == "ok" and set(ev.metrics) == {"loss", "val_loss", "val_mse", "val_mae", "val_rmse", "val_r2"}
    assert ev.history["loss"][-1] < ev.history["loss"][0]
    model = ev.model()
    assert ev.metrics["val_loss"] == pytest.approx(task.score(data.y_val, predict(model, data.x_val))["val_loss"],
                                                   rel=1e-5)
    assert set(score_test_split(model, data)) == {"test_loss", "test_mse", "test_mae", "test_rmse", "test_r2"}


def test_one_forward_pass_helper_eager_or_traced_gives_the_same_outputs(small_digits):
    from evokit.runtime.training.forward import predict

    model = ek.build(_spec(small_digits), seed=0)
    eager = predict(model, small_digits.x_val, batch_size=32)
    assert eager.shape == (len(small_digits.x_val), small_digits.n_outputs)
    np.testing.assert_allclose(predict(model, small_digits.x_val, traced=True), eager, rtol=1e-6, atol=1e-7)


def test_the_room_face_keeps_its_public_names():
    """Importers outside the room use these from ``trainer`` (search, export, the candidates' room)."""
    from evokit.runtime.training import forward, seeds

    assert trainer.candidate_seed is seeds.candidate_seed
    assert trainer.score_test_split is forward.score_test_split
    assert callable(trainer.forget_models) and callable(trainer.train)
