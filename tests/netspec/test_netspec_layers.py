"""Layer specs: shapes, parameters and FLOPs on hand-computed examples, and constructor validation."""
from __future__ import annotations

import json

import pytest

from evokit.errors import ArchitectureError, ConfigError, EvokitError
from evokit.netspec import (Activation, Add, BatchNorm, Concat, Conv1D, Conv2D, Conv2DTranspose, Dense, Dropout,
                            Embedding, Flatten, Reshape, SeparableConv2D, Upsample,
                            GlobalPool, Graph, Pool, layer_from_config)
from evokit.netspec.layers import LAYER_TYPES


# -- Dense ----------------------------------------------------------------------------------------

def test_dense_shape_params_flops():
    d = Dense(10)
    assert d.output_shape([(20,)]) == (10,)
    assert d.params([(20,)]) == 20 * 10 + 10
    # 2 per MAC, plus one per output for the bias and one for the activation
    assert d.flops([(20,)], (10,)) == 2 * 20 * 10 + 10 + 10


def test_dense_without_bias():
    d = Dense(10, activation="linear", use_bias=False)
    assert d.params([(20,)]) == 200
    assert d.flops([(20,)], (10,)) == 400 + 10


def test_dense_on_spatial_input_names_kind_and_shape():
    with pytest.raises(ArchitectureError, match=r"dense.*\(8, 8, 1\)"):
        Dense(4).output_shape([(8, 8, 1)])


# -- convolutions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("layer, shape, out", [
    (Conv2D(8, 3), (28, 28, 1), (28, 28, 8)),
    (Conv2D(8, 3, strides=2), (28, 28, 1), (14, 14, 8)),
    (Conv2D(8, 3, strides=2), (7, 7, 1), (4, 4, 8)),                       # ceil(7 / 2)
    (Conv2D(8, 3, strides=2, padding="valid"), (28, 28, 1), (13, 13, 8)),  # (28 - 3) // 2 + 1
    (Conv2D(4, (3, 5), strides=(1, 2), padding="valid"), (10, 12, 2), (8, 4, 4)),
    (Conv2D(4, 5), (2, 2, 3), (2, 2, 4)),                                  # same padding: kernel may exceed side
    (Conv1D(6, 5), (40, 3), (40, 6)),
    (Conv1D(6, 5, strides=2), (40, 3), (20, 6)),
    (Conv1D(6, 5, strides=2, padding="valid"), (40, 3), (18, 6)),
    (Conv1D(6, 5, strides=3, padding="same"), (40, 3), (14, 6)),
])
def test_conv_output_shape(layer, shape, out):
    assert layer.output_shape([shape]) == out


def test_conv2d_params_and_flops():
    c = Conv2D(8, 3)
    assert c.params([(28, 28, 1)]) == 3 * 3 * 1 * 8 + 8
    # per output element: 2 * 9 MACs + bias + activation
    assert c.flops([(28, 28, 1)], (28, 28, 8)) == 28 * 28 * 8 * (2 * 9 + 2)
    c = Conv2D(4, (3, 5), strides=(1, 2), padding="valid", use_bias=False)
    assert c.params([(10, 12, 2)]) == 3 * 5 * 2 * 4
    assert c.flops([(10, 12, 2)], (8, 4, 4)) == 8 * 4 * 4 * (2 * 30 + 1)


def test_conv1d_params_and_flops():
    c = Conv1D(6, 5, strides=2, padding="valid")
    assert c.params([(40, 3)]) == 5 * 3 * 6 + 6
    assert c.flops([(40, 3)], (18, 6)) == 18 * 6 * (2 * 15 + 2)


def test_conv_kernel_and_stride_broadcast():
    assert Conv2D(8, 3, strides=2).kernel == (3, 3)
    assert Conv2D(8, 3, strides=2).stride == (2, 2)
    assert Conv1D(8, 3).kernel == (3,)


def test_valid_conv_larger_than_input_names_kind_and_shape():
    with pytest.raises(ArchitectureError, match=r"conv2d.*\(4, 4, 1\)"):
        Conv2D(4, 5, padding="valid").output_shape([(4, 4, 1)])
    with pytest.raises(ArchitectureError, match=r"conv1d.*\(3, 2\)"):
        Conv1D(4, 5, padding="valid").output_shape([(3, 2)])


def test_conv_on_wrong_rank_names_kind_and_shape():
    with pytest.raises(ArchitectureError, match=r"conv2d.*\(40, 3\)"):
        Conv2D(4).output_shape([(40, 3)])
    with pytest.raises(ArchitectureError, match=r"conv1d.*\(8, 8, 1\)"):
        Conv1D(4).output_shape([(8, 8, 1)])


def test_conv1d_rejects_a_two_dimensional_kernel():
    # A 1-D convolution has one kernel side. Accepting (3, 5) makes params() count 15 taps per
    # channel (Keras refuses the layer), so the spec must reject it, naming kernel_size.
    with pytest.raises(EvokitError, match="kernel_size"):
        Conv1D(4, kernel_size=(3, 5)).output_shape([(40, 1)])


# -- pooling --------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer, shape, out", [
    (Pool("max", 2), (28, 28, 8), (14, 14, 8)),
    (Pool("max", 2), (7, 7, 3), (3, 3, 3)),
    (Pool("avg", 3, strides=1), (5, 5, 2), (3, 3, 2)),
    (Pool("max", 2, strides=3), (7, 7, 1), (2, 2, 1)),      # (7 - 2) // 3 + 1
    (Pool("avg", (2, 3), strides=(1, 2)), (6, 9, 4), (5, 4, 4)),
    (Pool("max", 4), (40, 3), (10, 3)),
    (Pool("avg", 3, strides=2), (40, 3), (19, 3)),
])
def test_pool_output_shape(layer, shape, out):
    assert layer.output_shape([shape]) == out
    assert layer.params([shape]) == 0
    assert layer.fits(shape)


def test_pool_flops_count_window_per_output():
    assert Pool("max", 2).flops([(28, 28, 8)], (14, 14, 8)) == 14 * 14 * 8 * 4
    assert Pool("avg", 3, strides=1).flops([(5, 5, 2)], (3, 3, 2)) == 3 * 3 * 2 * 9
    assert Pool("max", 4).flops([(40, 3)], (10, 3)) == 10 * 3 * 4


def test_pool_that_does_not_fit():
    p = Pool("max", 3)
    assert not p.fits((2, 2, 1))
    assert not p.fits((3, 2, 1))
    assert p.fits((3, 3, 1))
    assert not p.fits((10,))
    with pytest.raises(ArchitectureError, match=r"pool.*\(2, 2, 1\)"):
        p.output_shape([(2, 2, 1)])
    with pytest.raises(ArchitectureError, match=r"pool.*\(10,\)"):
        p.output_shape([(10,)])


def test_pool_with_two_sides_on_a_sequence_is_rejected():
    # A 2-D window on a 1-D input: the spec silently uses the first side (and counts flops with
    # both), while Keras refuses pool_size=(2, 3) for a 1-D pooling. It must fail naming size.
    with pytest.raises(ArchitectureError, match="size"):
        Pool("max", (2, 3)).output_shape([(40, 1)])


def test_global_pool():
    for kind in ("max", "avg"):
        gp = GlobalPool(kind)
        assert gp.output_shape([(7, 7, 5)]) == (5,)
        assert gp.output_shape([(40, 3)]) == (3,)
        assert gp.params([(7, 7, 5)]) == 0
        assert gp.flops([(7, 7, 5)], (5,)) == 7 * 7 * 5
    with pytest.raises(ArchitectureError, match=r"global_pool.*\(10,\)"):
        GlobalPool().output_shape([(10,)])


# -- shape-preserving and reshaping layers --------------------------------------------------------

def test_flatten():
    assert Flatten().output_shape([(7, 7, 5)]) == (245,)
    assert Flatten().output_shape([(40, 3)]) == (120,)
    assert Flatten().output_shape([(12,)]) == (12,)
    assert Flatten().params([(7, 7, 5)]) == 0


@pytest.mark.parametrize("shape, channels", [((5, 5, 6), 6), ((40, 3), 3), ((10,), 10)])
def test_batch_norm_has_four_params_per_channel(shape, channels):
    bn = BatchNorm()
    assert bn.output_shape([shape]) == shape
    assert bn.params([shape]) == 4 * channels
    size = 1
    for s in shape:
        size *= s
    assert bn.flops([shape], shape) == 2 * size


def test_dropout_and_activation_keep_shape():
    assert Dropout(0.3).output_shape([(5, 5, 6)]) == (5, 5, 6)
    assert Dropout(0.3).params([(10,)]) == 0
    assert Activation("tanh").output_shape([(40, 3)]) == (40, 3)
    assert Activation("tanh").flops([(40, 3)], (40, 3)) == 120


# -- merges ---------------------------------------------------------------------------------------

def test_add():
    a = Add()
    assert a.output_shape([(4, 4, 3)] * 3) == (4, 4, 3)
    assert a.flops([(4, 4, 3)] * 3, (4, 4, 3)) == 48 * 2
    assert a.params([(4, 4, 3)] * 2) == 0
    with pytest.raises(ArchitectureError, match=r"add.*\(4, 4, 3\).*\(4, 4, 5\)"):
        a.output_shape([(4, 4, 3), (4, 4, 5)])


def test_concat():
    c = Concat()
    assert c.output_shape([(4, 4, 3), (4, 4, 5)]) == (4, 4, 8)
    assert c.output_shape([(12,), (3,), (1,)]) == (16,)
    assert c.output_shape([(40, 2), (40, 7)]) == (40, 9)
    assert c.params([(4, 4, 3), (4, 4, 5)]) == 0
    with pytest.raises(ArchitectureError, match=r"concat.*\(4, 4, 3\).*\(2, 2, 5\)"):
        c.output_shape([(4, 4, 3), (2, 2, 5)])
    with pytest.raises(ArchitectureError, match="concat"):
        c.output_shape([(4, 4, 3), (16, 3)])


def test_merges_are_commutative_and_others_not():
    assert Add.commutative and Concat.commutative
    assert not Conv2D.commutative and not Dense.commutative
    assert Add.arity == (2, None) and Concat.arity == (2, None)
    assert Dense.arity == (1, 1)


def test_arity_is_checked_when_added_to_a_graph():
    g = Graph((4, 4, 3))
    with pytest.raises(ArchitectureError, match=r"node 0.*add.*1 input"):
        g.add(Add(), g.input)
    with pytest.raises(ArchitectureError, match=r"node 0.*dense.*2 input"):
        g.add(Dense(3), g.input, g.input)


# -- constructor validation -----------------------------------------------------------------------

BAD_CONSTRUCTORS = [
    pytest.param(lambda: Dense(0), "units", id='Dense(0)'),
    pytest.param(lambda: Dense(-3), "units", id='Dense(-3)'),
    pytest.param(lambda: Dense(2.5), "units", id='Dense(2.5)'),
    pytest.param(lambda: Dense(True), "units", id='Dense(True)'),
    pytest.param(lambda: Dense(4, activation="sigmoidal"), "activation", id='Dense(4, activation="sigmoidal")'),
    pytest.param(lambda: Conv2D(0), "filters", id='Conv2D(0)'),
    pytest.param(lambda: Conv2D(8, padding="full"), "padding", id='Conv2D(8, padding="full")'),
    pytest.param(lambda: Conv2D(8, kernel_size=0), "kernel_size", id='Conv2D(8, kernel_size=0)'),
    pytest.param(lambda: Conv2D(8, kernel_size=(1, 2, 3)), "kernel_size", id='Conv2D(8, kernel_size=(1, 2, 3))'),
    pytest.param(lambda: Conv2D(8, strides=0), "strides", id='Conv2D(8, strides=0)'),
    pytest.param(lambda: Conv1D(8, activation="bogus"), "activation", id='Conv1D(8, activation="bogus")'),
    pytest.param(lambda: Pool("median"), "pool", id='Pool("median")'),
    pytest.param(lambda: Pool("max", 0), "size", id='Pool("max", 0)'),
    pytest.param(lambda: Pool("max", 2, strides=0), "strides", id='Pool("max", 2, strides=0)'),
    pytest.param(lambda: GlobalPool("sum"), "pool", id='GlobalPool("sum")'),
    pytest.param(lambda: Dropout(1.0), "rate", id='Dropout(1.0)'),
    pytest.param(lambda: Dropout(1.5), "rate", id='Dropout(1.5)'),
    pytest.param(lambda: Dropout(-0.1), "rate", id='Dropout(-0.1)'),
    pytest.param(lambda: Dropout("0.5"), "rate", id='Dropout("0.5")'),
    pytest.param(lambda: Activation("nope"), "activation", id='Activation("nope")'),
]


@pytest.mark.parametrize("make, field", BAD_CONSTRUCTORS)
def test_constructor_errors_name_the_argument(make, field):
    with pytest.raises(ValueError, match=rf"\b{field}=") as info:
        make()
    assert isinstance(info.value, EvokitError)


@pytest.mark.parametrize("make, field", BAD_CONSTRUCTORS)
def test_constructor_errors_are_config_errors(make, field):
    # evokit.errors: ConfigError is "a constructor argument ... out of range"; ArchitectureError is
    # for shapes. Dropout(-0.1) is a ConfigError, so Dropout(1.0) must be one too.
    with pytest.raises(ConfigError):
        make()


def test_bad_activation_message_lists_the_choices():
    with pytest.raises(ConfigError, match="relu"):
        Dense(4, activation="sigmoidal")


def test_layer_specs_are_frozen():
    d = Dense(4)
    with pytest.raises(Exception):
        d.units = 5  # type: ignore[misc]


# -- config round trip ----------------------------------------------------------------------------

EXAMPLES = {
    "dense": Dense(12, activation="tanh", use_bias=False),
    "conv2d": Conv2D(6, (3, 5), strides=(2, 1), padding="valid", activation="elu", use_bias=False),
    "conv1d": Conv1D(5, 7, strides=2, padding="same", activation="gelu"),
    "pool": Pool("avg", (2, 3), strides=(1, 2)),
    "global_pool": GlobalPool("max"),
    "flatten": Flatten(),
    "dropout": Dropout(0.25),
    "batch_norm": BatchNorm(),
    "activation": Activation("sigmoid"),
    "add": Add(),
    "concat": Concat(),
    "embedding": Embedding(50, 4, trainable=False),
    "separable_conv2d": SeparableConv2D(6, (3, 5), strides=2, activation="elu"),
    "conv2d_transpose": Conv2DTranspose(4, 3, strides=(2, 1), padding="valid", use_bias=False),
    "upsample": Upsample((2, 3), interpolation="bilinear"),
    "reshape": Reshape((2, 3, 4)),
}


def test_embedding_maps_token_ids_to_vectors_and_counts_its_table():
    layer = Embedding(1000, 16)
    assert layer.output_shape([(12,)]) == (12, 16)
    assert layer.params([(12,)]) == 16_000 and layer.flops([(12,)], (12, 16)) == 0
    with pytest.raises(ArchitectureError, match="token ids"):
        layer.output_shape([(12, 3)])
    with pytest.raises(ConfigError, match="vocab_size"):
        Embedding(1, 4)
    with pytest.raises(ConfigError, match="trainable"):
        Embedding(10, 4, trainable="no")
    assert "fixed" in Embedding(10, 4, trainable=False).describe()


def test_examples_cover_every_layer_type():
    assert set(EXAMPLES) >= {k for k, cls in LAYER_TYPES.items() if cls.__module__ == "evokit.netspec.layers"}


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_layer_from_config_round_trip(kind):
    layer = EXAMPLES[kind]
    assert layer.kind == kind and LAYER_TYPES[kind] is type(layer)
    assert layer_from_config(kind, layer.config()) == layer
    # through JSON, where tuples become lists
    config = json.loads(json.dumps(layer.config()))
    again = layer_from_config(kind, config)
    assert again == layer and type(again) is type(layer)
    assert again.describe() == layer.describe()


def test_layer_from_config_unknown_kind():
    with pytest.raises(ArchitectureError, match="kind='lstm'"):
        layer_from_config("lstm", {})


def test_describe():
    assert Dense(16, "relu").describe() == "dense(16, relu)"
    assert Conv2D(16, 3).describe() == "conv2d(16, 3x3, relu)"
    assert "stride 2x2" in Conv2D(16, 3, strides=2).describe()
    assert Pool("max", 2).describe() == "maxpool(2)"
    assert "avgpool" in Pool("avg", (2, 3)).describe()
