"""NetSpec -> Keras: parameter and shape parity, seeded weights, every layer type, .keras round trip."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import ClassVar

import keras
import numpy as np
import pytest

from evokit.builder import LAYER_BUILDERS, build
from evokit.encodings import DeepGA
from evokit.errors import ConfigError
from evokit.netspec import (INPUT, Activation, Add, BatchNorm, Concat, Conv1D, Conv2D, Dense, Dropout, Embedding,
                            Flatten, GlobalPool, Graph, LayerSpec, NetSpec, Node, Pool)


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    keras.backend.clear_session(free_memory=False)
    yield
    keras.backend.clear_session(free_memory=False)


def assert_parity(spec: NetSpec, model) -> None:
    """Parameter count, output shape and every node's output shape agree with Keras."""
    assert model.count_params() == spec.params
    assert tuple(model.output_shape[1:]) == spec.output_shape
    for i, node in enumerate(spec.nodes):
        layer = model.get_layer(f"n{i}_{node.layer.kind}")
        assert tuple(layer.output.shape[1:]) == spec.shapes[i], f"node {i} ({node.layer.describe()})"
        assert layer.count_params() == node.layer.params(spec.input_shapes(i)), f"node {i}"


# -- parity over random DeepGA genotypes ------------------------------------------------------------

@pytest.mark.parametrize("input_shape", [(8, 8, 1), (28, 28, 1), (32, 32, 3)])
def test_params_match_keras_for_100_random_deepga_genotypes(input_shape):
    enc = DeepGA()
    for seed in range(100):
        genotype = enc.random(random.Random(seed))
        spec = enc.decode(genotype, input_shape, 10)
        model = build(spec, seed=seed)
        assert model.count_params() == spec.params, f"seed {seed}: {enc.describe(genotype)}\n{spec.summary()}"
        assert tuple(model.output_shape[1:]) == spec.output_shape == (10,)
        keras.backend.clear_session(free_memory=False)


def test_sequence_and_tabular_deepga_genotypes_build():
    enc = DeepGA(max_conv_blocks=4, skip_probability=0.5)
    for seed in range(25):
        for shape in ((40, 1), (30,)):
            spec = enc.decode(enc.random(random.Random(seed)), shape, 3, task="regression")
            assert_parity(spec, build(spec, seed=seed))
            keras.backend.clear_session(free_memory=False)


# -- hand-built specs with every layer type ---------------------------------------------------------

def image_spec() -> NetSpec:
    g = Graph((16, 16, 3))
    a = g.add(Conv2D(8, 3), g.input)                                           # 16x16x8
    a = g.add(BatchNorm(), a)
    a = g.add(Activation("elu"), a)
    a = g.add(Pool("max", 2), a)                                               # 8x8x8
    b = g.add(Conv2D(8, 2, strides=2, padding="valid", use_bias=False), g.input)  # 8x8x8
    s = g.add(Add(), a, b)
    c = g.add(Pool("avg", 3, strides=2), g.input)                              # 7x7x3
    c = g.add(Conv2D(5, 2, padding="valid", activation="tanh"), c)             # 6x6x5
    p = g.add(Pool("max", 3, strides=1), s)                                    # 6x6x8
    m = g.add(Concat(), p, c)                                                  # 6x6x13
    m = g.add(Conv2D(4, (3, 5), strides=(1, 2), padding="valid"), m)           # 4x1x4
    gmax = g.add(GlobalPool("max"), m)
    gavg = g.add(GlobalPool("avg"), s)
    f = g.add(Flatten(), m)
    h = g.add(Concat(), gmax, gavg, f)                                         # 4 + 8 + 4
    h = g.add(Dense(16, "gelu"), h)
    h = g.add(Dropout(0.3), h)
    return g.finish(g.add(Dense(3, "softmax"), h))


def sequence_spec() -> NetSpec:
    g = Graph((40, 1))
    x = g.add(Conv1D(6, 5, strides=2, padding="valid"), g.input)   # 18x6
    x = g.add(Pool("avg", 3, strides=1), x)                         # 16x6
    y = g.add(Conv1D(6, 3, activation="swish"), x)                  # 16x6
    y = g.add(BatchNorm(), y)
    s = g.add(Add(), x, y)
    m = g.add(Pool("max", 2), s)                                    # 8x6
    z = g.add(Conv1D(3, 4, strides=3, use_bias=False), s)           # 6x3
    z = g.add(Pool("max", 2, strides=1), z)                         # 5x3
    ga = g.add(GlobalPool("avg"), m)
    gm = g.add(GlobalPool("max"), z)
    f = g.add(Flatten(), z)
    h = g.add(Concat(), ga, gm, f)
    return g.finish(g.add(Dense(4, "linear"), h))


def tabular_spec() -> NetSpec:
    g = Graph((30,))
    a = g.add(Dense(16), g.input)
    b = g.add(BatchNorm(), a)
    b = g.add(Activation("tanh"), b)
    b = g.add(Dropout(0.5), b)
    b = g.add(Dense(16, "selu", use_bias=False), b)
    s = g.add(Add(), a, b, a)
    c = g.add(Concat(), s, g.input)
    return g.finish(g.add(Dense(1, "linear"), c))


SPECS = {"image": image_spec, "sequence": sequence_spec, "tabular": tabular_spec}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hand_built_specs_have_parity(name):
    spec = SPECS[name]().validate()
    assert_parity(spec, build(spec))


def test_hand_built_specs_cover_every_layer_type():
    kinds = {n.layer.kind for make in SPECS.values() for n in make().nodes}
    assert kinds == {"dense", "conv2d", "conv1d", "pool", "global_pool", "flatten", "dropout", "batch_norm",
                     "activation", "add", "concat"}
    pools = {(n.layer.pool, len(spec.input_shapes(i)[0]))
             for spec in (image_spec(), sequence_spec()) for i, n in enumerate(spec.nodes)
             if n.layer.kind in ("pool", "global_pool")}
    assert pools == {("max", 3), ("avg", 3), ("max", 2), ("avg", 2)}


def test_layer_arguments_reach_keras():
    spec = image_spec()
    model = build(spec)
    conv = model.get_layer("n10_conv2d")
    assert conv.kernel_size == (3, 5) and conv.strides == (1, 2) and conv.padding == "valid"
    assert model.get_layer("n4_conv2d").use_bias is False
    assert model.get_layer("n16_dropout").rate == pytest.approx(0.3)
    pool = model.get_layer("n6_pool")
    assert tuple(pool.pool_size) == (3, 3) and tuple(pool.strides) == (2, 2)


def test_conv1d_on_a_sequence_by_hand():
    g = Graph((40, 1))
    spec = g.finish(g.add(Conv1D(4, 5), g.input))
    model = build(spec)
    assert model.count_params() == spec.params == 5 * 1 * 4 + 4
    assert model.output_shape == (None, 40, 4)


def test_embedding_builds_a_seeded_table_fixed_or_trainable():
    g = Graph((6,))
    spec = g.finish(g.add(Embedding(30, 4, trainable=False), g.input))
    model = build(spec, seed=1)
    assert model.count_params() == spec.params == 120 and not model.trainable_weights
    assert model.output_shape == (None, 6, 4)
    ids = np.array([[0, 1, 2, 29, 29, 5]], "int32")
    table = model.get_weights()[0]
    assert np.array_equal(np.asarray(model(ids)), table[ids]) and np.array_equal(build(spec, seed=1).get_weights()[0], table)


def test_build_runs_the_canonical_form_identically():
    spec = image_spec()
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 3)).astype("float32")
    model = build(spec.canonical(), seed=3)
    assert model.count_params() == spec.params
    assert model.predict(x, verbose=0).shape == (2, 3)


# -- seeded weights -------------------------------------------------------------------------------

def _weights(spec: NetSpec, seed: int) -> list[np.ndarray]:
    weights = [w.copy() for w in build(spec, seed=seed).get_weights()]
    keras.backend.clear_session(free_memory=False)
    return weights


def test_same_seed_same_initial_weights_different_seed_different():
    spec = image_spec()
    a, b, c = _weights(spec, 7), _weights(spec, 7), _weights(spec, 8)
    assert len(a) == len(b) == len(c) > 0
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    kernels = [i for i, w in enumerate(a) if w.ndim > 1]
    assert kernels and all(not np.array_equal(a[i], c[i]) for i in kernels)


def test_weights_do_not_depend_on_global_random_state():
    spec = tabular_spec()
    random.seed(1)
    np.random.seed(1)
    keras.utils.set_random_seed(1)
    a = _weights(spec, 0)
    random.seed(2)
    np.random.seed(2)
    keras.utils.set_random_seed(2)
    b = _weights(spec, 0)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_identical_layers_at_different_nodes_get_different_weights():
    spec = NetSpec((10,), [Node(Dense(4), (INPUT,)), Node(Dense(4), (INPUT,)), Node(Add(), (0, 1))])
    w = build(spec).get_weights()
    assert not np.array_equal(w[0], w[2])


# -- save and reload ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SPECS))
def test_saves_to_keras_file_and_reloads_with_identical_predictions(name, tmp_path):
    spec = SPECS[name]()
    model = build(spec, seed=11)
    x = np.random.default_rng(0).normal(size=(5, *spec.input_shape)).astype("float32")
    expected = model.predict(x, verbose=0)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    assert path.exists() and path.stat().st_size > 0
    keras.backend.clear_session(free_memory=False)
    reloaded = keras.models.load_model(path)
    assert reloaded.count_params() == spec.params
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6)


# -- errors and extension -------------------------------------------------------------------------

def test_build_validates_the_spec_first():
    spec = NetSpec((8, 8, 1), [Node(Dense(3), (INPUT,))])
    with pytest.raises(ValueError, match=r"node 0.*dense"):
        build(spec)


@dataclass(frozen=True)
class Scale(LayerSpec):
    factor: float = 2.0
    kind: ClassVar[str] = "scale"

    def output_shape(self, shapes):
        return shapes[0]


def test_unknown_layer_type_needs_a_builder(monkeypatch):
    g = Graph((6,))
    spec = g.finish(g.add(Dense(2), g.add(Scale(), g.input)))
    with pytest.raises(ConfigError, match="scale"):
        build(spec)
    monkeypatch.setitem(LAYER_BUILDERS, Scale,
                        lambda layer, rank, seed, name: keras.layers.Rescaling(layer.factor, name=name))
    model = build(spec)
    assert model.count_params() == spec.params == 14
    assert model.get_layer("n0_scale").scale == 2.0
