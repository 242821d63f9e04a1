"""The U-Nets' layer specs (SeparableConv2D, Conv2DTranspose, Upsample): shapes and parameters as
Keras builds them, hand-computed FLOPs, validation naming the field, config round trips and the
canonical hash; and how weights, the NumPy forward pass and the traced trainer treat them."""
import json

import keras
import numpy as np
import pytest

import evokit as ek
from evokit.errors import ArchitectureError, ConfigError
from evokit.netspec import (Concat, Conv2D, Conv2DTranspose, Dense, GlobalPool, Graph, Pool, SeparableConv2D,
                            Upsample, inference, layer_from_config)
from evokit.netspec.weights import weight_arrays, weight_shapes
from evokit.runtime.candidates.inheritance import inherit
from evokit.runtime.training import traced


def one_layer(layer, shape):
    """The NetSpec of ``layer`` alone on inputs of ``shape``."""
    g = Graph(shape)
    return g.finish(g.add(layer, g.input))


CASES = [
    (SeparableConv2D(5, 3), (6, 6, 3), (6, 6, 5)),
    (SeparableConv2D(4, (3, 5), strides=2, padding="valid", activation="elu", use_bias=False), (9, 11, 2), (4, 4, 4)),
    (SeparableConv2D(2, 5, strides=2), (7, 7, 1), (4, 4, 2)),               # ceil(7 / 2)
    (Conv2DTranspose(4), (3, 5, 2), (6, 10, 4)),                            # default: 2x2, stride 2, 'same'
    (Conv2DTranspose(3, 3, strides=2, padding="valid"), (4, 4, 2), (9, 9, 3)),  # (4 - 1) * 2 + 3
    (Conv2DTranspose(3, 1, strides=2, padding="valid"), (4, 4, 2), (8, 8, 3)),  # (4 - 1) * 2 + max(1, 2)
    (Conv2DTranspose(2, (3, 2), strides=(1, 3), use_bias=False), (5, 4, 3), (5, 12, 2)),
    (Upsample(), (3, 4, 2), (6, 8, 2)),
    (Upsample((2, 3), interpolation="bilinear"), (3, 4, 2), (6, 12, 2)),
]


@pytest.mark.parametrize("layer, shape, out", CASES, ids=lambda v: getattr(v, "kind", None))
def test_shapes_and_params_are_what_keras_builds(layer, shape, out):
    spec = one_layer(layer, shape)
    model = ek.build(spec)
    assert spec.output_shape == out == tuple(model.output_shape[1:])
    assert spec.params == model.count_params()
    assert weight_shapes(spec) == [w.shape for w in model.get_weights()]
    keras.backend.clear_session(free_memory=False)


def test_flops_by_hand():
    # depthwise: 3x3 taps x 3 channels x 36 pixels, 2 each; pointwise: 180 outputs of 3 MACs, + bias, + relu
    sep = SeparableConv2D(5, 3)
    assert sep.flops([(6, 6, 3)], (6, 6, 5)) == 2 * 9 * 3 * 36 + 180 * (2 * 3 + 1 + 1)
    # every one of the 3x3x2 input values spreads over 2x2 taps of 4 filters; + bias, + relu per output
    up = Conv2DTranspose(4)
    assert up.flops([(3, 3, 2)], (6, 6, 4)) == 2 * 18 * 4 * 4 + 144 * 2
    assert Upsample().flops([(3, 3, 2)], (6, 6, 2)) == 72            # one per output element placed
    assert Upsample(interpolation="bilinear").flops([(3, 3, 2)], (6, 6, 2)) == 4 * 72  # four neighbours weighed
    assert Conv2DTranspose(4).params([(3, 3, 2)]) == 2 * 2 * 2 * 4 + 4
    assert SeparableConv2D(5, 3, use_bias=False).params([(6, 6, 3)]) == 9 * 3 + 3 * 5


@pytest.mark.parametrize("layer", [c[0] for c in CASES], ids=lambda v: v.kind)
def test_config_round_trips_through_json(layer):
    config = json.loads(json.dumps(layer.config()))
    again = layer_from_config(layer.kind, config)
    assert again == layer and type(again) is type(layer) and again.describe() == layer.describe()


def test_describe_names_each_kind_once():
    assert SeparableConv2D(8, 3).describe() == "separable_conv2d(8, 3x3, relu)"
    assert Conv2DTranspose(4, activation="linear").describe() == "conv2d_transpose(4, 2x2, stride 2x2, linear)"
    assert Upsample((2, 3), "bilinear").describe() == "upsample(2x3, bilinear)"


@pytest.mark.parametrize("make, field", [
    (lambda: SeparableConv2D(0), "filters"), (lambda: SeparableConv2D(4, (3, 3, 3)), "kernel_size"),
    (lambda: SeparableConv2D(4, 3, padding="full"), "padding"), (lambda: SeparableConv2D(4, activation="nope"),
                                                                  "activation"),
    (lambda: Conv2DTranspose(4, strides=0), "strides"), (lambda: Conv2DTranspose(4, kernel_size=1.5), "kernel_size"),
    (lambda: Conv2DTranspose(-1), "filters"),
    (lambda: Upsample(0), "size"), (lambda: Upsample((2, 2, 2)), "size"), (lambda: Upsample("2"), "size"),
    (lambda: Upsample(2, interpolation="cubic"), "interpolation")])
def test_invalid_arguments_name_the_field(make, field):
    with pytest.raises(ConfigError, match=rf"^{field}="):
        make()


@pytest.mark.parametrize("layer", [SeparableConv2D(4), Conv2DTranspose(4), Upsample()], ids=lambda v: v.kind)
def test_inputs_that_are_not_images_are_architecture_errors_naming_the_kind(layer):
    with pytest.raises(ArchitectureError, match=rf"{layer.kind} cannot take input shape \(8, 3\)"):
        layer.output_shape([(8, 3)])


@pytest.mark.parametrize("a, b, same", [
    (Upsample(2), Upsample((2, 2)), True), (Upsample(2), Upsample((2, 3)), False),
    (Upsample(2), Upsample(2, "bilinear"), False),
    (Conv2DTranspose(4, 2, 2), Conv2DTranspose(4, (2, 2), (2, 2)), True),
    (Conv2DTranspose(4, 2, 2), Conv2D(4, 2, 2), False),
    (SeparableConv2D(4, 3), SeparableConv2D(4, (3, 3), strides=(1, 1)), True),
    (SeparableConv2D(4, 3), Conv2D(4, 3), False)], ids=lambda v: getattr(v, "kind", str(v)))
def test_canonical_hash_equal_for_equivalent_spellings_only(a, b, same):
    assert (one_layer(a, (8, 8, 2)).hash == one_layer(b, (8, 8, 2)).hash) is same


def _unet():
    """A small U-Net with each new layer: separable conv, pool, up-convolution, upsampling, skip."""
    g = Graph((8, 8, 2))
    skip = g.add(SeparableConv2D(4, 3), g.input)
    deep = g.add(Conv2D(8, 3), g.add(Pool("max", 2), skip))
    up = g.add(Upsample(2), g.add(Conv2DTranspose(6), g.add(Pool("max", 2), deep)))  # 4x4 -> 2x2 -> 4x4 -> 8x8
    return g.finish(g.add(Conv2D(1, 1, activation="sigmoid"), g.add(Concat(), skip, up)))


def test_weight_arrays_follow_keras_and_inheritance_takes_them():
    spec = _unet()
    model = ek.build(spec, seed=3)
    assert weight_shapes(spec) == [w.shape for w in model.get_weights()]
    names = [a.name for a in weight_arrays(spec) if type(spec.nodes[a.node].layer) is SeparableConv2D]
    assert names == ["depthwise_kernel", "pointwise_kernel", "bias"]
    trained = [np.full(w.shape, k, "float32") for k, w in enumerate(model.get_weights())]
    start, inherited = inherit(spec, seed=0, donor=spec, donor_weights=trained)  # the same network: all of them
    assert inherited == len(trained) and all(np.array_equal(a, b) for a, b in zip(start, trained))
    keras.backend.clear_session(free_memory=False)


def test_no_numpy_forward_pass_for_them_so_keras_scores_them():
    assert not inference.supports(_unet())
    for layer, shape, _ in CASES:
        assert not inference.supports(one_layer(layer, shape))
    assert inference.supports(one_layer(Conv2D(4, 3), (6, 6, 3)))  # the plain convolution they are not
    spec = one_layer(SeparableConv2D(2), (4, 4, 1))
    with pytest.raises(ArchitectureError, match="separable_conv2d.*no NumPy forward pass"):
        inference.predict(spec, [np.zeros(s) for s in weight_shapes(spec)], np.zeros((1, 4, 4, 1)))


@pytest.mark.parametrize("layer", [SeparableConv2D(4, 3), Conv2DTranspose(4, 3, strides=1)], ids=lambda v: v.kind)
def test_a_chain_with_them_is_not_trained_in_a_padded_graph(layer):
    def chain(conv):
        g = Graph((8, 8, 1))
        x = g.add(GlobalPool("avg"), g.add(conv, g.input))
        return g.finish(g.add(Dense(3, activation="softmax"), x))
    assert traced.maskable(chain(Conv2D(4, 3)))  # the same chain with a plain convolution is
    assert not traced.maskable(chain(layer))
