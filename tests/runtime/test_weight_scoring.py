"""Candidates that carry their weights and are only scored go through NumPy, not Keras, and score
the same: ``trainer.SCORE_IN_NUMPY`` False forces the Keras path for the comparison."""
import math
import os
import random
import sys

import numpy as np
import pytest

import evokit as ek
from evokit.encodings.real import Real
from evokit.fitness.probes import Probe
from evokit.netspec import BatchNorm, Concat, Conv2D, Dense, Flatten, Graph, Pool, inference
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.training import trainer
from evokit.runtime.training.trainer import train

CONFIG = ek.TrainingConfig(epochs=1)


@pytest.fixture(scope="module")
def cancer():
    return ek.datasets.load("breast_cancer", seed=0)


def weights_encoding(data, network=None):
    encoding = Real(mode="weights", network=network)
    encoding.check_input(data.input_shape, data.n_outputs, data.task)
    return encoding


def keras_path(monkeypatch):
    monkeypatch.setattr(trainer, "SCORE_IN_NUMPY", False)


def conv_network():
    g = Graph((8, 8, 1))
    a = g.add(Pool("avg", 2), g.add(Conv2D(3, 3), g.input))
    b = g.add(Pool("max", 2), g.add(BatchNorm(), g.add(Conv2D(2, 4, strides=2, padding="valid"), g.input)))
    x = g.add(Concat(), g.add(Flatten(), a), g.add(Flatten(), b))
    return g.finish(g.add(Dense(10, activation="softmax"), g.add(Dense(12, activation="gelu"), x)))


def assert_same_evaluation(numpy_ev, keras_ev):
    assert (numpy_ev.status, numpy_ev.reason, numpy_ev.history, numpy_ev.train_time, numpy_ev.seed) == (
        keras_ev.status, keras_ev.reason, keras_ev.history, keras_ev.train_time, keras_ev.seed)
    assert numpy_ev.metrics.keys() == keras_ev.metrics.keys() and numpy_ev.extra.keys() == keras_ev.extra.keys()
    assert numpy_ev.metrics["val_accuracy"] == keras_ev.metrics["val_accuracy"]
    assert numpy_ev.metrics["val_loss"] == pytest.approx(keras_ev.metrics["val_loss"], rel=1e-5, abs=1e-6)
    assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(numpy_ev.weights, keras_ev.weights))


def test_numpy_scoring_gives_the_keras_evaluation(cancer, small_digits, monkeypatch):
    cases = []
    for data, encoding in ((cancer, weights_encoding(cancer)), (small_digits, weights_encoding(small_digits,
                                                                                                  conv_network()))):
        for seed in range(3):
            genome = encoding.random(random.Random(seed))
            spec = encoding.decode(genome, data.input_shape, data.n_outputs)
            cases.append((spec, data, encoding.weights(genome, spec)))
    numpy_evs = [train(spec, data, CONFIG, 7, weights=w, fit=False) for spec, data, w in cases]
    keras_path(monkeypatch)
    keras_evs = [train(spec, data, CONFIG, 7, weights=w, fit=False) for spec, data, w in cases]
    for numpy_ev, keras_ev in zip(numpy_evs, keras_evs):
        assert numpy_ev.status == "ok"
        assert_same_evaluation(numpy_ev, keras_ev)


def test_a_weights_search_finds_the_same_fitness_both_ways(cancer, monkeypatch):
    def run():
        encoding = weights_encoding(cancer)
        result = ek.Search(encoding=encoding, objectives=ek.fitness.ValidationAccuracy(epochs=1), data=cancer,
                           algorithm=ek.algorithms.GA(population=6, generations=2), seed=3, progress=False).run()
        genomes = [encoding.random(random.Random(s)) for s in range(4)]
        scored = CandidateEvaluator(encoding, ek.fitness.ValidationAccuracy(epochs=1), cancer).evaluate_all(genomes)
        return [c.values for c in result.hall_of_fame], [s.values for s in scored], result.stats["trained"]

    numpy_run = run()
    keras_path(monkeypatch)
    assert run() == numpy_run and numpy_run[2] >= 6


def test_non_finite_or_misfitting_weights_fail_the_candidate_as_with_keras(cancer, monkeypatch):
    encoding = weights_encoding(cancer)
    spec = encoding.network_
    good = encoding.weights(encoding.random(random.Random(0)), spec)
    nan = [w.copy() for w in good]
    nan[0][0, 0] = np.nan
    huge = [np.full_like(w, 3e38) for w in good]  # finite weights whose outputs overflow
    cases = [nan, huge, good[:-1], [good[0][:5], *good[1:]]]
    numpy_evs = [train(spec, cancer, CONFIG, 0, weights=w, fit=False) for w in cases]
    keras_path(monkeypatch)
    keras_evs = [train(spec, cancer, CONFIG, 0, weights=w, fit=False) for w in cases]
    assert [e.reason for e in numpy_evs] == [e.reason for e in keras_evs] == ["nan_loss", "nan_loss",
                                                                              "build_error", "build_error"]
    assert all(e.message.startswith("validation metrics not finite") for e in numpy_evs[:2])
    assert all(e.failed and e.weights is None for e in numpy_evs)


def test_scoring_weights_needs_no_keras(cancer, monkeypatch):
    monkeypatch.setitem(sys.modules, "keras", None)  # any import of Keras or TensorFlow now raises
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    encoding = weights_encoding(cancer)
    spec = encoding.network_
    weights = encoding.weights(encoding.random(random.Random(1)), spec)
    ev = train(spec, cancer, CONFIG, 0, keep_weights=False, weights=weights, fit=False)
    assert ev.status == "ok" and ev.weights is None and math.isfinite(ev.metrics["val_loss"])
    assert ev.extra["cores"] == (os.cpu_count() or 1) and ev.extra["pid"] == os.getpid()


class ModelProbe(Probe):
    """A probe that needs the Keras model."""

    def measure(self, model, data):
        return {"model_params": float(model.count_params())}


def test_probes_and_training_still_use_keras(cancer, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("scored in NumPy")

    monkeypatch.setattr(inference, "Forward", refuse)
    encoding = weights_encoding(cancer)
    spec = encoding.network_
    weights = encoding.weights(encoding.random(random.Random(2)), spec)
    probed = train(spec, cancer, CONFIG, 0, probes=(ModelProbe(),), weights=weights, fit=False)
    assert probed.status == "ok" and probed.metrics["model_params"] == spec.params
    trained = train(spec, cancer, CONFIG, 0, weights=weights, fit=True)
    assert trained.status == "ok" and trained.history["loss"]
