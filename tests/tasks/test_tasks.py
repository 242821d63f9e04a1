"""The conformance suite every task passes (one parametrised module, like the encodings').

Cases come from ``tests/tasks/cases/*.py``: each file defines ``CASES = {name: case}`` (targets
as a user gives them and as the task encodes them, predictions with hand-computed scores and a
scikit-learn reference). Adding a task means one module in ``evokit/tasks/``, its registration
line, and one case file here; a registered task without a case fails this suite.
"""
import pickle
from pathlib import Path

import keras
import numpy as np
import pytest

import evokit as ek
from evokit import tasks
from evokit.encodings.base import add_head
from evokit.errors import ArchitectureError, ConfigError, DataError
from evokit.netspec import Conv1D, Conv2D, Dense, Graph, Pool
from evokit.tasks import registry

from _cases import load_cases  # noqa: E402 (tests/ is on the path: conftest.py lives there)

CASES = load_cases(Path(__file__).parent / "cases")

NAMES = sorted(CASES)


def test_every_registered_task_has_a_case():
    assert set(tasks.names()) <= set(CASES)


@pytest.mark.parametrize("name", NAMES)
def test_registry_resolves_the_name_and_passes_a_task_through(name):
    task = tasks.get(name)
    assert isinstance(task, tasks.Task) and task.name == name
    assert task == CASES[name]["factory"]()
    assert tasks.get(task) is task
    assert type(task).__module__ == f"evokit.tasks.{name}"  # one module per task, named for it


def test_regression_lives_in_its_own_module():
    from evokit.tasks import regression

    assert type(tasks.get("regression")).__module__ == "evokit.tasks.regression"
    assert tasks.get("regression") == regression.Regression()


@pytest.mark.parametrize("name", NAMES)
def test_repr_eq_hash_follow_the_configuration(name):
    task = tasks.get(name)
    again = eval(repr(task), {type(task).__name__: type(task)})
    assert again == task and hash(again) == hash(task) and repr(again) == repr(task)
    assert pickle.loads(pickle.dumps(task)) == task
    others = [tasks.get(other) for other in NAMES if other != name]
    assert all(task != other and other != task for other in others)
    assert {task: 1}[CASES[name]["factory"]()] == 1  # usable as a cache key


@pytest.mark.parametrize("name", NAMES)
def test_head_is_the_last_layer_add_head_builds(name):
    task, case = tasks.get(name), CASES[name]
    head = task.head(case["n_outputs"])
    assert head == (case["head_activation"], case["n_outputs"])
    keras.activations.get(head.activation)  # an activation Keras knows
    if task.per_pixel:  # a 1x1 convolution on a feature map of the input's size, at every position
        g = Graph((4, 5, 1))
        spec = add_head(g, g.add(Conv2D(2, 3), g.input), case["n_outputs"], name)
        last = spec.nodes[-1].layer
        assert (last.activation, last.filters, last.kernel) == (*head, (1, 1))
        assert spec.output_shape == (4, 5, case["n_outputs"]) and ek.build(spec).output_shape[1:] == spec.output_shape
        g = Graph((4, 5, 1))
        with pytest.raises(ArchitectureError, match="input's size"):
            add_head(g, g.add(Pool("max", 2), g.input), case["n_outputs"], task)
        return
    g = Graph((4, 3))
    spec = add_head(g, g.add(Conv1D(2, 2), g.input), case["n_outputs"], name)  # flattened, then the head
    last = spec.nodes[-1].layer
    assert (last.activation, last.units) == head and spec.output_shape == (case["n_outputs"],)
    g = Graph((4,))
    assert add_head(g, g.input, case["n_outputs"], task).nodes[-1].layer == last  # a Task works as its name


@pytest.mark.parametrize("name", NAMES)
def test_score_matches_hand_computed_values_and_scikit_learn(name):
    task, case = tasks.get(name), CASES[name]
    for prefix in ("val_", "test_"):
        scores = task.score(case["y_true"], case["y_pred"], prefix)
        assert set(scores) == {prefix + k for k in case["expected"]}
        assert all(type(v) is float for v in scores.values())
        for metric, reference in case["reference"](case["y_true"], case["y_pred"]).items():
            assert scores[prefix + metric] == pytest.approx(case["expected"][metric], rel=1e-6)
            assert scores[prefix + metric] == pytest.approx(reference, rel=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_score_holds_the_loss_keras_computes_and_the_headline(name):
    task, case = tasks.get(name), CASES[name]
    scores = task.score(case["y_true"], case["y_pred"], "val_")
    if task.generative:  # features of real and generated images: the loss is the distance a search minimises
        assert scores["val_loss"] == scores[task.headline.key("val_")]
    else:
        keras_loss = keras.losses.get(task.loss())(case["y_true"], case["y_pred"])
        assert scores["val_loss"] == pytest.approx(float(np.mean(np.asarray(keras_loss))), rel=1e-5)
    headline = task.headline
    assert (headline.name, headline.higher_is_better) == case["headline"]
    assert headline.key("val_") in scores and headline.key("test_") == f"test_{headline.name}"


@pytest.mark.parametrize("name", NAMES)
def test_the_losses_a_task_offers_are_keras_losses_and_others_are_refused(name):
    task = tasks.get(name)
    assert task.training_loss(None) == task.loss()
    for loss in task.losses:
        assert task.training_loss(loss) == loss and callable(keras.losses.get(loss))
    with pytest.raises(ConfigError, match=r"^loss='no_such_loss' is invalid: "):
        task.training_loss("no_such_loss")


@pytest.mark.parametrize("name", NAMES)
def test_loss_trains_a_keras_model_with_the_head(name):
    task, case = tasks.get(name), CASES[name]
    y, _, classes = task.targets(case["raw"])
    head = task.head(task.n_outputs(y, classes))
    shape = case.get("sample_shape", (3,)) if task.per_pixel else (3,)
    layer = (keras.layers.Conv2D(head.units, 1, activation=head.activation) if task.per_pixel
             else keras.layers.Dense(head.units, activation=head.activation))
    model = keras.Sequential([keras.Input(shape), layer])
    model.compile(optimizer="sgd", loss=task.loss())
    x = np.random.default_rng(0).normal(size=(len(y), *shape)).astype("float32")
    loss = model.train_on_batch(x, y, return_dict=True)["loss"]
    assert np.isfinite(float(loss))
    assert set(task.score(y, np.asarray(model(x)), "val_")) >= {"val_loss", task.headline.key()}


@pytest.mark.parametrize("name", NAMES)
def test_targets_are_validated_encoded_and_size_the_head(name):
    task, case = tasks.get(name), CASES[name]
    y, y_test, classes = task.targets(case["raw"])
    assert y_test is None and classes == case["classes"]
    assert np.array_equal(y, case["encoded"]) and y.dtype == case["encoded"].dtype
    assert task.n_outputs(y, classes) == case["n_outputs"]
    assert task.stratified is case["stratified"]
    y, y_test, _ = task.targets(case["raw"], case["raw"][:3])
    assert np.array_equal(y_test, case["encoded"][:3])
    for bad, field in case["bad"]:
        with pytest.raises(DataError, match=f"^{field}="):
            task.targets(bad)


@pytest.mark.parametrize("name", NAMES)
def test_a_dataset_of_the_task_asks_it(name):
    case = CASES[name]
    raw = np.concatenate([case["raw"]] * 4)
    x = np.random.default_rng(1).normal(size=(len(raw), *case.get("sample_shape", (3,))))
    data = ek.datasets.from_arrays(x, raw, task=name)
    assert data.task == name and data.classes == case["classes"]
    assert data.n_outputs == case["n_outputs"]
    assert data.n_classes == (len(case["classes"]) if tasks.get(name).class_codes else None)
    if case.get("inferred", True):
        assert ek.datasets.from_arrays(x, raw).task == name  # inferred from the targets' shape


def test_unknown_names_and_other_values_are_refused():
    with pytest.raises(ConfigError, match=r"task='clustering' is invalid: expected one of 'classification', "
                                          r"'regression', 'segmentation'"):
        tasks.get("clustering")
    with pytest.raises(ConfigError, match="task=3"):
        tasks.get(3)
    with pytest.raises(ConfigError, match="subclass"):
        tasks.register(dict)


def test_infer_reads_the_targets_dtype():
    assert tasks.infer(np.array([0.5, 1.0])) == "regression"
    assert tasks.infer(np.array([1, 0])) == tasks.infer(np.array(["a", "b"])) == "classification"


class _Binary(tasks.Classification):
    """A task a user adds: two classes, one sigmoid unit, binary cross-entropy."""

    name = "binary"

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold

    def head(self, n_outputs):
        return tasks.Head("sigmoid", 1)

    def loss(self):
        return keras.losses.BinaryCrossentropy()

    def score(self, y_true, y_pred, prefix="val_"):
        p = np.clip(y_pred.reshape(-1), 1e-7, 1 - 1e-7)
        return {f"{prefix}accuracy": float(np.mean((p > self.threshold) == y_true)),
                f"{prefix}loss": float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))}

    def n_outputs(self, y, classes):
        return 1


def test_a_new_task_is_one_class_and_a_registration(monkeypatch, small_digits):
    """Registered, a task is used by the datasets, the heads and the trainer with no other edit."""
    monkeypatch.setattr(registry, "_TASKS", dict(registry._TASKS))
    tasks.register(_Binary)
    assert "binary" in tasks.names() and tasks.get("binary") == _Binary()
    assert _Binary(threshold=0.3) != _Binary() and repr(_Binary(threshold=0.3)) == "_Binary(threshold=0.3)"
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4))
    data = ek.datasets.from_arrays(x, (x[:, 0] > 0).astype(int), task="binary")
    assert data.n_outputs == 1 and data.n_classes == 2
    g = Graph(data.input_shape)
    spec = add_head(g, g.add(Dense(8), g.input), data.n_outputs, data.task)
    assert spec.nodes[-1].layer.activation == "sigmoid"
    from evokit.runtime.training.trainer import train

    for trace_once in (False, True):
        ev = train(spec, data, ek.TrainingConfig(epochs=3, learning_rate=0.05, trace_once=trace_once), seed=0)
        assert ev.status == "ok" and set(ev.metrics) >= {"val_accuracy", "val_loss", "loss"}
        assert ev.metrics["val_accuracy"] > 0.6
