"""The NumPy forward pass (evokit.netspec.inference) against Keras's own, layer type by layer type.

Each network is built once with ``evokit.build``, given random weights, and called in inference
mode; ``predict`` with the same weights must agree to float32 rounding: within 1e-5 of the
output's scale (``max(1, max |output|)``). Many variants share one network (parallel branches
joined by a Concat) so that the file builds few Keras models.
"""
import random

import numpy as np
import pytest

import evokit as ek
from evokit.encodings.real import Real
from evokit.errors import ArchitectureError, ConfigError, DataError
from evokit.netspec import (ACTIVATIONS, Activation, Add, BatchNorm, Concat, Conv1D, Conv2D, Dense, Dropout,
                            INPUT, Embedding, Flatten, GlobalPool, Graph, NetSpec, Node, Pool, Select, inference)
from evokit.netspec.neurons import NeuronGraph
from evokit.netspec.weights import weight_arrays

TOLERANCE = 1e-5


def random_weights(spec, seed=0, scale=0.5):
    """Random arrays for ``spec`` (moving variances positive, as a trained network's are)."""
    rng = np.random.default_rng(seed)
    out = []
    for a in weight_arrays(spec):
        w = rng.normal(0.0, scale, a.shape).astype("float32")
        out.append(np.abs(w) + 0.1 if a.name == "moving_variance" else w)
    return out


def keras_outputs(spec, weights, x):
    model = ek.build(spec, seed=0)
    model.set_weights(weights)
    return np.asarray(model(x, training=False))


def assert_matches_keras(spec, x, seed=0, scale=0.5):
    weights = random_weights(spec, seed, scale)
    expected = keras_outputs(spec, weights, x)
    got = inference.predict(spec, weights, x)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE * max(1.0, float(np.abs(expected).max())))


def samples(shape, n=12, seed=1):
    return np.random.default_rng(seed).normal(0.0, 1.5, (n, *shape)).astype("float32")


def branches(shape, layers_per_branch):
    """One network: a branch per layer list from the input, each flattened, all concatenated."""
    g = Graph(shape)
    outs = []
    for layers in layers_per_branch:
        x = g.input
        for layer in layers:
            x = g.add(layer, x)
        outs.append(g.add(Flatten(), x) if len(g.shape(x)) > 1 else x)
    return g.finish(g.add(Concat(), *outs) if len(outs) > 1 else outs[0])


def test_every_activation_as_keras_defines_it():
    g = Graph((6,))
    z = g.add(Select((5, 0, 3, 1, 2, 4, 0)), g.input)
    z = g.add(Dense(9, activation="linear"), z)
    outs = [g.add(Activation(name), z) for name in ACTIVATIONS]
    outs += [g.add(Dense(4, activation=name, use_bias=name != "relu"), z) for name in ACTIVATIONS]
    spec = g.finish(g.add(Concat(), *outs))
    assert_matches_keras(spec, samples((6,), n=40), scale=1.5)  # wide inputs: both tails of every function


def test_conv2d_both_paddings_strides_even_and_odd_kernels():
    convs = [[Conv2D(3, kernel, strides=stride, padding=padding, activation="linear", use_bias=bias)]
             for padding in ("same", "valid") for kernel in (1, 2, 3, (4, 3), (2, 5))
             for stride, bias in ((1, True), (2, False), ((3, 2), True))]
    assert_matches_keras(branches((9, 8, 2), convs), samples((9, 8, 2)))


def test_conv1d_both_paddings_strides_even_and_odd_kernels():
    convs = [[Conv1D(3, kernel, strides=stride, padding=padding, activation="elu")]
             for padding in ("same", "valid") for kernel in (1, 2, 3, 4, 5) for stride in (1, 2, 3)]
    assert_matches_keras(branches((11, 3), convs), samples((11, 3)))


def test_pooling_global_pooling_batch_norm_dropout_and_add():
    windows = ((2, None), (3, 1), ((2, 3), 2))
    image = [[Pool(kind, size, strides)] for kind in ("max", "avg") for size, strides in windows]
    image += [[GlobalPool("max")], [GlobalPool("avg")], [BatchNorm(), Dropout(0.5)],
              [Conv2D(4, 3, activation="relu"), BatchNorm(), Pool("max", 2), Conv2D(2, 2, strides=2)]]
    assert_matches_keras(branches((7, 9, 2), image), samples((7, 9, 2)))
    sequence = [[Pool(kind, size, strides)] for kind in ("max", "avg") for size, strides in ((2, None), (3, 2))]
    sequence += [[GlobalPool("max")], [GlobalPool("avg")], [BatchNorm()]]
    assert_matches_keras(branches((10, 3), sequence), samples((10, 3)))
    g = Graph((6, 6, 2))  # a residual block: add of a conv branch and a batch-normalised one
    a = g.add(Conv2D(2, 3, activation="selu"), g.input)
    b = g.add(BatchNorm(), g.input)
    s = g.add(Add(), a, b, g.add(Activation("tanh"), b))
    assert_matches_keras(g.finish(g.add(Dense(3, activation="softmax"), g.add(Flatten(), g.add(Add(), s, a)))),
                         samples((6, 6, 2)))


def textcnn(vocab=50, length=20, dim=8, classes=3):
    """Kim's TextCNN: an embedding, parallel convolutions, global max pooling, concat, softmax."""
    g = Graph((length,))
    e = g.add(Embedding(vocab, dim), g.input)
    pooled = [g.add(GlobalPool("max"), g.add(Conv1D(4, k, activation="relu"), e)) for k in (3, 4, 5)]
    x = g.add(Dropout(0.5), g.add(Concat(), *pooled))
    return g.finish(g.add(Dense(classes, activation="softmax"), x))


def test_textcnn_on_token_ids():
    spec = textcnn()
    ids = np.random.default_rng(2).integers(0, 50, size=(30, 20))
    assert_matches_keras(spec, ids, scale=1.0)
    weights = random_weights(spec)
    np.testing.assert_array_equal(inference.predict(spec, weights, ids),
                                  inference.predict(spec, weights, ids.astype("float32")))
    with pytest.raises(DataError, match="token ids"):
        inference.predict(spec, weights, np.full((2, 20), 50))


def test_real_weights_mode_networks_and_random_architectures():
    encoding = Real(mode="weights")
    encoding.check_input((30,), 2, "classification")
    genome = encoding.random(random.Random(0))
    spec = encoding.decode(genome, (30,), 2)
    x = samples((30,), n=20)
    np.testing.assert_allclose(inference.predict(spec, encoding.weights(genome, spec), x),
                               keras_outputs(spec, encoding.weights(genome, spec), x), rtol=0, atol=TOLERANCE)
    architecture = Real(max_layers=5)
    rng = random.Random(3)
    for _ in range(3):
        spec = architecture.decode(architecture.random(rng), (8, 8, 1), 10)
        assert inference.supports(spec)
        assert_matches_keras(spec, samples((8, 8, 1)))


def test_batches_give_the_whole_batch_result(monkeypatch):
    spec = branches((8, 8, 2), [[Conv2D(4, 3), Pool("max", 2)], [BatchNorm(), GlobalPool("avg")]])
    weights, x = random_weights(spec), samples((8, 8, 2), n=23)
    whole = inference.predict(spec, weights, x)
    np.testing.assert_allclose(inference.predict(spec, weights, x, batch_size=5), whole, rtol=1e-6, atol=1e-6)
    monkeypatch.setattr(inference, "MAX_BATCH_BYTES", 1)  # one sample at a time
    np.testing.assert_allclose(inference.predict(spec, weights, x), whole, rtol=1e-6, atol=1e-6)
    assert inference.predict(spec, weights, x[:0]).shape == (0, *spec.output_shape)


def test_bad_weights_and_samples_are_named_and_non_finite_weights_are_not_errors():
    spec = textcnn()
    weights = random_weights(spec)
    with pytest.raises(ConfigError, match="expected 9 arrays"):
        inference.predict(spec, weights[:-1], np.zeros((1, 20)))
    with pytest.raises(ConfigError, match=r"weights\[0\] of shape \(50, 7\)"):
        inference.predict(spec, [weights[0][:, :7], *weights[1:]], np.zeros((1, 20)))
    with pytest.raises(DataError, match=r"x of shape \(3, 21\)"):
        inference.predict(spec, weights, np.zeros((3, 21)))
    with pytest.raises(ConfigError, match="batch_size"):
        inference.predict(spec, weights, np.zeros((3, 20)), batch_size=0)
    weights[-2][0, 0] = np.nan
    assert np.isnan(inference.predict(spec, weights, np.zeros((2, 20)))).all()


def test_supports_every_core_layer_but_not_a_neat_neuron_graph():
    assert inference.supports(textcnn())
    g = Graph((3,))
    neat = g.finish(g.add(NeuronGraph(3, 2, connections=((0, 3), (1, 4), (2, 4))), g.input))
    assert not inference.supports(neat)
    with pytest.raises(ArchitectureError, match="neuron_graph"):
        inference.predict(neat, random_weights(neat), np.zeros((1, 3)))
    dead_branch = NetSpec((3,), [Node(NeuronGraph(3, 2), (INPUT,)), Node(Dense(2), (INPUT,))])
    assert inference.supports(dead_branch)  # a Keras model holds only the output's ancestors
