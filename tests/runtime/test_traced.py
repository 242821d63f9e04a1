"""Trace once, train many: masked candidates in a shared graph are the networks their NetSpec says.

Tolerance: trained by the same batch loop (same batch order), the padded graph's sums differ
from the standalone model's only in float reduction order (zeros added); measured here the
trained weights agreed within 6e-8 and the validation accuracies exactly, on TensorFlow and JAX.
The tests allow 1e-4 on weights and 0.011 (one validation sample of 100) on accuracies. The
standalone path is evokit's own (``train`` with ``trace_once=False``: one model per candidate,
the same batch loop).
"""
import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import evokit as ek
from evokit.builder import build
from evokit.netspec import Add, Conv2D, Dense, Dropout, Flatten, Graph, Pool
from evokit.runtime.training import traced
from evokit.runtime.training.trainer import train

WEIGHT_TOL = 1e-4
ACCURACY_TOL = 0.011


def _spec(data, f1, k1, f2, k2, units, act="relu", dropout=0.0, pool="max", pool_size=2):
    g = Graph(data.input_shape)
    x = g.add(Conv2D(f1, k1, activation=act), g.input)
    x = g.add(Pool(pool, pool_size), x)
    x = g.add(Conv2D(f2, k2, activation=act), x)
    x = g.add(Flatten(), x)
    x = g.add(Dense(units, activation=act), x)
    if dropout:
        x = g.add(Dropout(dropout), x)
    return g.finish(g.add(Dense(data.n_outputs, "softmax"), x))


def _family(data):
    """Six networks of one signature: widths within bucket 8 / 16, kernels 2 or 3, gated
    activations, max or average pooling (no dropout: its draws depend on the padded shape)."""
    return [_spec(data, 4, 3, 8, 3, 16), _spec(data, 5, 2, 7, 3, 12, "tanh"), _spec(data, 8, 3, 6, 2, 9, "elu"),
            _spec(data, 3, 3, 5, 3, 10, pool="avg"), _spec(data, 6, 2, 8, 2, 16, "tanh", pool="avg"),
            _spec(data, 7, 3, 4, 3, 14, "elu")]


CONFIG = ek.TrainingConfig(epochs=1)
TRACED = ek.TrainingConfig(epochs=1, trace_once=True)


def _max_diff(a, b):
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def test_masked_training_matches_standalone_on_the_same_seeds(small_digits):
    traced.clear_graphs()
    specs = _family(small_digits)
    signatures = {traced.plan(s).signature for s in specs}
    assert len(signatures) == 1
    traces = set()
    for i, spec in enumerate(specs):
        seed = 100 + i
        masked = train(spec, small_digits, TRACED, seed=seed)
        assert masked.status == "ok" and masked.extra["trace_once"] is True
        alone = train(spec, small_digits, CONFIG, seed=seed)  # one model of its own, same batch loop
        weights, history, accuracy = alone.weights, alone.history, alone.metrics["val_accuracy"]
        assert "trace_once" not in alone.extra
        # parameter counts: the NetSpec's, the standalone model's, and the returned weights' agree
        assert masked.params == spec.params == build(spec).count_params()
        assert sum(w.size for w in masked.weights) == spec.params
        assert [w.shape for w in masked.weights] == [w.shape for w in weights]
        assert _max_diff(weights, masked.weights) < WEIGHT_TOL
        assert abs(accuracy - masked.metrics["val_accuracy"]) <= ACCURACY_TOL
        assert masked.history["loss"] == pytest.approx(history["loss"], abs=1e-4)
        assert masked.model().count_params() == spec.params  # the weights rebuild the exact network
        traces.add(masked.extra["traces"])
        assert masked.extra["graph_reused"] == (i > 0)
    # no retracing between candidates of the same signature: the first candidate traced the train
    # step once (the last, smaller batch is padded to full size), later ones reused it
    assert traces == {1}
    assert traced.cached_graphs() == 1


def test_trace_once_learns_as_well_as_the_standalone_path(small_digits):
    """Trained longer, with early stopping: both paths learn, and agree candidate by candidate."""
    config = ek.TrainingConfig(epochs=3, learning_rate=0.01, early_stopping=2)
    fast = dataclasses.replace(config, trace_once=True)
    alone = [train(s, small_digits, config, seed=i).metrics["val_accuracy"] for i, s in enumerate(_family(small_digits))]
    masked = [train(s, small_digits, fast, seed=i).metrics["val_accuracy"] for i, s in enumerate(_family(small_digits))]
    assert min(masked) > 0.25  # ten classes: well above chance
    assert max(abs(a - m) for a, m in zip(alone, masked)) <= ACCURACY_TOL


def test_initial_weights_equal_the_standalone_build(small_digits):
    for spec in _family(small_digits)[:3]:
        p = traced.plan(spec)
        graph = traced.graph_for(p, CONFIG, small_digits.task)
        graph.load(p, seed=42)
        expected = build(spec, seed=42).get_weights()
        got = graph.true_weights(p)
        assert len(got) == len(expected)
        assert all(np.array_equal(a, b) for a, b in zip(got, expected))


def test_masked_parameters_stay_zero_and_optimizer_state_is_reset(small_digits):
    traced.clear_graphs()
    b, a = _family(small_digits)[:2]  # a: 5/7 channels, 12 units, kernel 2 in 3: narrower everywhere
    first = train(a, small_digits, TRACED, seed=5)
    train(b, small_digits, TRACED, seed=6)
    again = train(a, small_digits, TRACED, seed=5)  # after another candidate: same result as the first
    assert _max_diff(first.weights, again.weights) == 0.0
    assert first.metrics == again.metrics
    graph = next(iter(traced._GRAPHS.values()))
    masked_layers = [layer for layer in graph.layers if isinstance(layer, traced._Masked)]
    assert masked_layers
    for layer in masked_layers:
        kernel, mask = np.asarray(layer.kernel), np.asarray(layer.kernel_mask)
        assert 0 < mask.sum() < mask.size  # candidate a is narrower than its graph
        assert np.all(kernel[mask == 0] == 0.0)  # no gradient ever reached the masked entries
        assert np.any(kernel[mask == 1] != 0.0)
        bias, bias_mask = np.asarray(layer.bias), np.asarray(layer.bias_mask)
        assert np.all(bias[bias_mask == 0] == 0.0)


def test_non_maskable_networks_fall_back_and_do_not_disturb_cached_graphs(small_digits):
    traced.clear_graphs()
    g = Graph(small_digits.input_shape)
    x = g.add(Conv2D(4, 3), g.input)
    y = g.add(Conv2D(4, 3), x)
    x = g.add(Add(), x, y)  # a skip connection: not a chain
    skip = g.finish(g.add(Dense(small_digits.n_outputs, "softmax"), g.add(Flatten(), x)))
    assert not traced.maskable(skip)
    g = Graph(small_digits.input_shape)
    x = g.add(Dense(12, activation="softmax"), g.add(Flatten(), g.input))  # mixes channels: not maskable
    assert not traced.maskable(g.finish(g.add(Dense(small_digits.n_outputs, "softmax"), x)))
    family = _family(small_digits)
    assert traced.maskable(family[0])
    first = train(family[0], small_digits, TRACED, seed=1)
    fallback = train(skip, small_digits, TRACED, seed=1)
    assert fallback.status == "ok" and "trace_once" not in fallback.extra
    assert fallback.params == skip.params == sum(w.size for w in fallback.weights)
    standalone = train(skip, small_digits, CONFIG, seed=1)
    assert fallback.metrics == standalone.metrics
    later = train(family[1], small_digits, TRACED, seed=2)  # the cached graph survives clear_session
    assert first.extra["traces"] == later.extra["traces"]


def test_signatures_separate_structures_and_bucket_widths(small_digits):
    a = traced.plan(_spec(small_digits, 4, 3, 8, 3, 16))
    wider = traced.plan(_spec(small_digits, 4, 3, 9, 3, 16))  # 9 channels: bucket 16
    kernel5 = traced.plan(_spec(small_digits, 4, 5, 8, 3, 16))  # kernel bucket 5
    pooled = traced.plan(_spec(small_digits, 4, 3, 8, 3, 16, pool_size=3))  # other spatial sizes
    assert len({a.signature, wider.signature, kernel5.signature, pooled.signature}) == 4
    # variables, not structure: max or average pooling, a dropout or none after a hidden dense layer
    same = [traced.plan(_spec(small_digits, 4, 3, 8, 3, 16, pool="avg")),
            traced.plan(_spec(small_digits, 4, 3, 8, 3, 16, dropout=0.2)),
            traced.plan(_spec(small_digits, 5, 2, 7, 3, 9, act="tanh"))]
    assert {p.signature for p in same} == {a.signature}
    assert [traced.width_bucket(w) for w in (1, 8, 9, 16, 17, 64)] == [8, 8, 16, 16, 32, 64]
    assert [traced.kernel_bucket(k) for k in (1, 2, 3, 4, 5)] == [1, 3, 3, 5, 5]


def _weighted(p):
    return [(s.kernel_pad, s.out_pad) for s in p.steps if s.out_pad]


def test_cheap_layers_are_widened_within_the_budget_and_expensive_ones_keep_their_buckets(small_digits):
    samples = len(small_digits.x_train)  # 240 samples x 1 epoch
    spec = _spec(small_digits, 4, 3, 8, 3, 16)
    own, widened = traced.plan(spec), traced.plan(spec, samples=samples)
    assert widened.flops > own.flops
    assert (widened.flops - own.flops) * samples <= traced.TRACE_COST_FLOPS
    assert traced.plan(spec, samples=samples).signature == widened.signature  # the spec alone decides
    # the hidden dense layer reads a flattened 4x4 map: cheap, so it goes to the ceiling
    assert _weighted(widened)[-2][1] == traced.WIDTH_CEILING
    # networks that differ only in widened layers now share one graph; with no samples they don't
    wider = _spec(small_digits, 4, 3, 8, 3, 40)  # 40 units: bucket 64, not 16
    assert traced.plan(wider).signature != own.signature
    assert traced.plan(wider, samples=samples).signature == widened.signature
    # many more samples: the budget allows less padding, down to none
    assert traced.plan(spec, samples=10**9).signature == own.signature
    # a 64-to-64-channel convolution on a 4x4 map: widening it would cost more than it may
    big = traced.plan(_spec(small_digits, 64, 3, 64, 3, 16), samples=samples * 50)
    assert _weighted(big)[1] == ((3, 3), 64)


def test_a_widened_candidate_trains_exactly_like_its_standalone_network(small_digits):
    traced.clear_graphs()
    spec = _spec(small_digits, 5, 2, 7, 3, 12, "tanh")
    assert traced.plan(spec, samples=len(small_digits.x_train)).flops > traced.plan(spec).flops
    masked = train(spec, small_digits, TRACED, seed=9)
    alone = train(spec, small_digits, CONFIG, seed=9)
    assert masked.extra["trace_once"] and masked.params == alone.params == spec.params
    assert _max_diff(alone.weights, masked.weights) < WEIGHT_TOL
    assert abs(alone.metrics["val_accuracy"] - masked.metrics["val_accuracy"]) <= ACCURACY_TOL


def test_dropout_candidates_train_reproducibly_and_share_the_graph(small_digits):
    traced.clear_graphs()
    spec = _spec(small_digits, 4, 3, 8, 3, 16, dropout=0.5)
    plain = _spec(small_digits, 4, 3, 8, 3, 16)
    a = train(spec, small_digits, TRACED, seed=3)
    without = train(plain, small_digits, TRACED, seed=3)
    b = train(spec, small_digits, TRACED, seed=3)
    assert a.status == "ok" and a.metrics == b.metrics and a.extra["traces"] == b.extra["traces"]
    assert sum(w.size for w in a.weights) == spec.params
    assert without.metrics != a.metrics  # the dropout slot is off for the plain network...
    weights = train(plain, small_digits, CONFIG, seed=3).weights
    assert _max_diff(weights, without.weights) < WEIGHT_TOL  # ...exactly


def test_trace_once_is_validated_and_in_the_cache_key_only_when_on():
    assert "trace_once" not in ek.TrainingConfig().key()
    assert "trace_once=True" in ek.TrainingConfig(trace_once=True).key()
    with pytest.raises(ek.errors.ConfigError, match="trace_once"):
        ek.TrainingConfig(trace_once="yes")


_JAX_SCRIPT = """
import json, numpy as np, evokit as ek
from evokit.runtime.training.trainer import train
sys_path = __import__("sys").path.insert(0, {tests!r})
from runtime.test_traced import _family
data = ek.datasets.load("digits", seed=0).subset(n_train=240, n_val=100, seed=0)
out = []
config = ek.TrainingConfig(epochs=1, trace_once=True)
for i, spec in enumerate(_family(data)[:3]):
    a = train(spec, data, ek.TrainingConfig(epochs=1), seed=10 + i)
    weights, accuracy = a.weights, a.metrics["val_accuracy"]
    b = train(spec, data, config, seed=10 + i)
    out.append([accuracy, b.metrics["val_accuracy"],
                max(float(np.max(np.abs(x - y))) for x, y in zip(weights, b.weights)), b.extra["traces"]])
print("RESULT" + json.dumps(out))
"""


@pytest.mark.slow
def test_jax_backend_matches_standalone_too(tmp_path):
    pytest.importorskip("jax")
    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=os.pathsep.join([os.getcwd(), tests]))
    run = subprocess.run([sys.executable, "-c", _JAX_SCRIPT.format(tests=tests)], env=env, capture_output=True,
                         text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = json.loads(run.stdout.split("RESULT")[-1])
    traces = {row[3] for row in rows}
    assert len(traces) == 1  # full and partial batch traced once, never again for later candidates
    for alone, masked, diff, _ in rows:
        assert abs(alone - masked) <= ACCURACY_TOL and diff < WEIGHT_TOL


def test_nan_loss_fails_that_candidate_only_and_the_graph_recovers(small_digits):
    traced.clear_graphs()
    spec = _family(small_digits)[0]
    poisoned = [np.full_like(w, np.nan) for w in build(spec, seed=0).get_weights()]
    assert train(spec, small_digits, TRACED, seed=0, weights=poisoned).reason == "nan_loss"
    again = train(spec, small_digits, TRACED, seed=0)  # the same graph, reloaded
    assert again.status == "ok" and np.isfinite(again.metrics["loss"]) and again.extra["graph_reused"]
    alone = train(spec, small_digits, CONFIG, seed=0)
    assert _max_diff(alone.weights, again.weights) < WEIGHT_TOL
    assert again.history["loss"] == pytest.approx(alone.history["loss"])


def test_graphs_are_cached_per_task_given_by_name_or_object(small_digits):
    traced.clear_graphs()
    p = traced.plan(_family(small_digits)[0])
    graph = traced.graph_for(p, CONFIG, small_digits.task)
    assert traced.graph_for(p, CONFIG, ek.tasks.Classification()) is graph
    assert graph.model.loss == ek.tasks.get(small_digits.task).loss()
    assert traced.cached_graphs() == 1
