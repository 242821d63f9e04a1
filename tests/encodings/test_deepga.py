"""The DeepGA encoding: sampling, decoding (with repair), skip bits, validation, distance, JSON."""
from __future__ import annotations

import copy
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evokit.encodings import ConvBlock, DeepGA, DeepGAGenome, DenseBlock
from evokit.encodings.deepga import check_genome, n_skip_bits, skip_index
from evokit.errors import ConfigError, GenotypeError
from evokit.netspec import Concat, Conv1D, Conv2D, Dense, Dropout, NetSpec, Pool

SHAPES = {"image": (8, 8, 1), "sequence": (40, 1), "tabular": (30,)}


@pytest.fixture
def enc():
    return DeepGA()


def genome(n_conv: int, skips=None, pool="none", dense=()) -> DeepGAGenome:
    conv = [ConvBlock(4 + i, 3, pool=pool, pool_size=2) for i in range(n_conv)]
    dense_blocks = [DenseBlock(u) for u in dense]
    bits = [0] * n_skip_bits(n_conv) if skips is None else list(skips)
    return DeepGAGenome(conv, dense_blocks, bits)


def assert_within_bounds(enc: DeepGA, g: DeepGAGenome) -> None:
    assert enc.min_conv_blocks <= len(g.conv) <= enc.max_conv_blocks
    assert enc.min_dense <= len(g.dense) <= enc.max_dense
    for b in g.conv:
        assert b.filters in enc.filters and b.kernel_size in enc.kernel_sizes
        assert b.pool in enc.pools and b.pool_size in enc.pool_sizes and b.activation in enc.activations
    for b in g.dense:
        assert b.units in enc.units and b.activation in enc.activations and b.dropout in enc.dropouts
    assert len(g.skips) == n_skip_bits(len(g.conv)) and set(g.skips) <= {0, 1}


# -- sampling -------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", [
    DeepGA(),
    DeepGA(min_conv_blocks=2, max_conv_blocks=6, min_dense=1, max_dense=3, skip_probability=1.0),
    DeepGA(min_conv_blocks=0, max_conv_blocks=1, max_dense=0, filters=(2,), pools=("none",)),
])
def test_random_genotypes_are_valid_and_within_bounds(encoding):
    rng = random.Random(0)
    for _ in range(200):
        g = encoding.random(rng)
        check_genome(g)
        assert_within_bounds(encoding, g)


def test_random_reaches_both_length_bounds():
    enc = DeepGA(min_conv_blocks=1, max_conv_blocks=4, min_dense=0, max_dense=2)
    rng = random.Random(1)
    lengths = {(len(g.conv), len(g.dense)) for g in (enc.random(rng) for _ in range(300))}
    assert {c for c, _ in lengths} == {1, 2, 3, 4}
    assert {d for _, d in lengths} == {0, 1, 2}


def test_skip_probability_extremes():
    rng = random.Random(2)
    assert all(set(g.skips) <= {1} for g in (DeepGA(skip_probability=1.0, max_conv_blocks=5).random(rng)
                                            for _ in range(50)))
    assert all(set(g.skips) <= {0} for g in (DeepGA(skip_probability=0.0, max_conv_blocks=5).random(rng)
                                            for _ in range(50)))


def test_same_seed_same_genotype_different_seed_different(enc):
    assert enc.random(random.Random(42)) == enc.random(random.Random(42))
    a = [enc.random(random.Random(s)) for s in range(20)]
    # 20 seeds: at most a couple of coincidences, never all the same
    assert len({json.dumps(enc.to_json(g), sort_keys=True) for g in a}) >= 18


def test_random_uses_only_the_rng_passed(enc):
    random.seed(0)
    a = enc.random(random.Random(7))
    random.seed(12345)
    b = enc.random(random.Random(7))
    assert a == b


# -- decoding -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_decode_gives_valid_spec_with_softmax_head(enc, kind):
    rng = random.Random(3)
    for _ in range(30):
        g = enc.random(rng)
        spec = enc.decode(g, SHAPES[kind], 5)
        assert isinstance(spec, NetSpec)
        spec.validate()
        assert spec.input_shape == SHAPES[kind]
        assert spec.output_shape == (5,)
        assert spec.nodes[-1].layer == Dense(5, activation="softmax")
        layer_types = {type(n.layer) for n in spec.nodes}
        if kind == "image":
            assert Conv2D in layer_types and Conv1D not in layer_types
        elif kind == "sequence":
            assert Conv1D in layer_types and Conv2D not in layer_types
        else:
            assert not layer_types & {Conv1D, Conv2D, Pool}
        hidden = [n.layer for n in spec.nodes[:-1] if isinstance(n.layer, Dense)]
        assert [d.units for d in hidden] == [b.units for b in g.dense]


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_decode_regression_head_is_linear(enc, kind):
    spec = enc.decode(enc.random(random.Random(4)), SHAPES[kind], 2, task="regression")
    assert spec.nodes[-1].layer == Dense(2, activation="linear")
    assert spec.output_shape == (2,)


def test_decode_rejects_bad_task_and_outputs(enc):
    g = enc.random(random.Random(5))
    with pytest.raises(ConfigError, match="task"):
        enc.decode(g, (8, 8, 1), 3, task="ranking")
    with pytest.raises(ConfigError, match="n_outputs"):
        enc.decode(g, (8, 8, 1), 0)


def test_decode_exact_architecture():
    g = DeepGAGenome([ConvBlock(4, 3, "max", 2, "relu"), ConvBlock(8, 5, "avg", 2, "tanh")],
                     [DenseBlock(16, "elu", 0.2)], [])
    spec = DeepGA().decode(g, (8, 8, 1), 10)
    assert spec.describe() == ("conv2d(4, 3x3, relu) > maxpool(2) > conv2d(8, 5x5, tanh) > avgpool(2) > "
                               "flatten() > dense(16, elu) > dropout(rate=0.2) > dense(10, softmax)")
    assert spec.shapes[3] == (2, 2, 8)
    assert spec.params == (9 * 4 + 4) + (25 * 4 * 8 + 8) + (32 * 16 + 16) + (16 * 10 + 10)


def test_dropout_only_when_positive():
    g = DeepGAGenome([ConvBlock(4, 3, "none")], [DenseBlock(8, dropout=0.0), DenseBlock(8, dropout=0.5)], [])
    spec = DeepGA().decode(g, (8, 8, 1), 2)
    assert [n.layer for n in spec.nodes if isinstance(n.layer, Dropout)] == [Dropout(0.5)]


def test_skip_bit_creates_a_concat():
    enc = DeepGA()
    on = enc.decode(genome(3, [1]), (8, 8, 1), 4)
    off = enc.decode(genome(3, [0]), (8, 8, 1), 4)
    concats = [i for i, n in enumerate(on.nodes) if isinstance(n.layer, Concat)]
    assert len(concats) == 1
    assert not any(isinstance(n.layer, Concat) for n in off.nodes)
    # block 2 reads block 1 (5 filters) concatenated with block 0 (4 filters)
    assert on.shapes[concats[0]] == (8, 8, 4 + 5)
    assert on.params > off.params


@pytest.mark.parametrize("pair", [(0, 2), (0, 3), (1, 3)])
def test_each_skip_bit_connects_its_pair(pair):
    j, i = pair
    bits = [0] * n_skip_bits(4)
    bits[skip_index(j, i)] = 1
    spec = DeepGA().decode(genome(4, bits), (8, 8, 1), 3)
    concats = [k for k, n in enumerate(spec.nodes) if isinstance(n.layer, Concat)]
    assert len(concats) == 1
    # block filters are 4, 5, 6, 7: the concat holds block i-1's and block j's
    assert spec.shapes[concats[0]][-1] == (4 + i - 1) + (4 + j)


def test_all_skip_bits_on_sequence_input():
    spec = DeepGA().decode(genome(5, [1] * n_skip_bits(5), pool="max"), (40, 1), 3)
    assert sum(isinstance(n.layer, Concat) for n in spec.nodes) == 3
    spec.validate()


def test_skips_with_pooling_reconcile_sizes():
    # block 0 keeps 8x8 (no room issue), later blocks pool: the skip from block 0 must be pooled down
    g = DeepGAGenome([ConvBlock(4, 3, "max", 2), ConvBlock(4, 3, "max", 2), ConvBlock(4, 3, "max", 2)], [], [1])
    spec = DeepGA().decode(g, (8, 8, 1), 2)
    concat = next(k for k, n in enumerate(spec.nodes) if isinstance(n.layer, Concat))
    assert spec.shapes[concat] == (2, 2, 8)


@pytest.mark.parametrize("shape", [(8, 8, 1), (1, 1, 1), (3, 5, 2), (5, 1), (2, 3)])
def test_decode_never_raises_with_aggressive_settings(shape):
    enc = DeepGA(max_conv_blocks=6, pool_sizes=(2, 3, 4), pools=("max", "avg"), kernel_sizes=(3, 5, 7),
                 skip_probability=0.5, max_dense=3)
    rng = random.Random(6)
    n = 500 if shape == (8, 8, 1) else 100
    for _ in range(n):
        g = enc.random(rng)
        spec = enc.decode(g, shape, 10)
        spec.validate()
        assert spec.output_shape == (10,)
        assert all(side >= 1 for s in spec.shapes for side in s)


def test_decode_rejects_foreign_genotypes(enc):
    with pytest.raises(GenotypeError, match="genotype"):
        enc.decode([1, 2, 3], (8, 8, 1), 2)


# -- insert_conv / remove_conv keep connections attached -------------------------------------------

def _pairs_by_identity(g: DeepGAGenome) -> dict[tuple[int, int], int]:
    return {(id(g.conv[j]), id(g.conv[i])): bit for (j, i), bit in g.skip_pairs().items()}


ROOMY = DeepGA(max_conv_blocks=7, skip_probability=0.5)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10**6), where=st.floats(0, 1, exclude_max=True))
def test_insert_conv_keeps_connections(seed, where):
    g = ROOMY.random(random.Random(seed))
    before = _pairs_by_identity(g)
    position = int(where * (len(g.conv) + 1))
    new = ConvBlock(99, 3)
    g.insert_conv(position, new)
    check_genome(g)
    assert g.conv[position] is new
    after = _pairs_by_identity(g)
    for key, bit in after.items():
        if id(new) in key:
            assert bit == 0
        else:
            assert bit == before.get(key, 0)   # old pair: same bit; once-adjacent pair: off
    # every old connection survives (inserting never makes a pair adjacent)
    assert set(before) <= set(after)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10**6), where=st.floats(0, 1, exclude_max=True))
def test_remove_conv_keeps_connections(seed, where):
    g = ROOMY.random(random.Random(seed))
    position = int(where * len(g.conv))
    removed = g.conv[position]
    before = _pairs_by_identity(g)
    g.remove_conv(position)
    check_genome(g)
    assert all(b is not removed for b in g.conv)
    after = _pairs_by_identity(g)
    for key, bit in after.items():
        assert bit == before[key]
    # the only pairs lost are those touching the removed block, or those that became adjacent
    for key in set(before) - set(after):
        if id(removed) not in key:
            ids = [id(b) for b in g.conv]
            assert ids.index(key[1]) - ids.index(key[0]) == 1


def test_insert_then_remove_restores_the_genome():
    g = genome(5, [1, 0, 1, 1, 0, 1])
    original = copy.deepcopy(g)
    g.insert_conv(2, ConvBlock(3, 3))
    g.remove_conv(2)
    assert g == original


def test_resize_skips():
    g = genome(4, [1, 1, 1])
    g.conv.pop()
    g.resize_skips()
    assert g.skips == [1]
    g.conv.extend([ConvBlock(2, 2), ConvBlock(2, 2)])
    g.resize_skips()
    assert g.skips == [1, 0, 0, 0, 0, 0]


# -- check_genome and constructor validation ---------------------------------------------------------

@pytest.mark.parametrize("mutate, field", [
    (lambda g: setattr(g, "skips", g.skips + [0]), "skips"),
    (lambda g: setattr(g, "skips", [2] * len(g.skips)), "skips"),
    (lambda g: setattr(g.conv[0], "filters", 0), "filters"),
    (lambda g: setattr(g.conv[0], "kernel_size", 2.0), "kernel_size"),
    (lambda g: setattr(g.conv[1], "pool_size", True), "pool_size"),
    (lambda g: setattr(g.conv[0], "pool", "median"), "pool"),
    (lambda g: setattr(g.conv[2], "activation", "foo"), "activation"),
    (lambda g: setattr(g.dense[0], "units", 0), "units"),
    (lambda g: setattr(g.dense[0], "activation", "bar"), "activation"),
    (lambda g: setattr(g.dense[0], "dropout", 1.0), "dropout"),
    (lambda g: g.conv.append(DenseBlock(4)), "conv"),
    (lambda g: g.dense.append(ConvBlock(4, 3)), "dense"),
])
def test_check_genome_names_the_field(mutate, field):
    g = genome(3, [0], dense=(8,))
    check_genome(g)
    mutate(g)
    with pytest.raises(GenotypeError, match=rf"\b{field}\b"):
        check_genome(g)


@pytest.mark.parametrize("thing", [None, [1, 2], {"conv": []}])
def test_check_genome_rejects_non_genomes(thing):
    with pytest.raises(GenotypeError, match="DeepGAGenome"):
        check_genome(thing)


@pytest.mark.parametrize("kwargs, field", [
    ({"max_conv_blocks": 0}, "max_conv_blocks"),
    ({"min_conv_blocks": -1}, "min_conv_blocks"),
    ({"min_conv_blocks": 4, "max_conv_blocks": 3}, "max_conv_blocks"),
    ({"min_dense": 3, "max_dense": 1}, "max_dense"),
    ({"min_dense": -1}, "min_dense"),
    ({"filters": ()}, "filters"),
    ({"filters": (8, 0)}, "filters"),
    ({"kernel_sizes": ("3",)}, "kernel_sizes"),
    ({"pools": ("median",)}, "pools"),
    ({"pool_sizes": (0,)}, "pool_sizes"),
    ({"activations": ("relu", "nope")}, "activations"),
    ({"units": []}, "units"),
    ({"dropouts": (1.0,)}, "dropouts"),
    ({"skip_probability": 1.5}, "skip_probability"),
    ({"skip_probability": "0.3"}, "skip_probability"),
])
def test_constructor_validation_names_the_argument(kwargs, field):
    with pytest.raises(ConfigError, match=rf"\b{field}="):
        DeepGA(**kwargs)


def test_get_params_and_repr():
    enc = DeepGA(max_conv_blocks=5, filters=(8, 16))
    params = enc.get_params()
    assert params["max_conv_blocks"] == 5 and params["filters"] == (8, 16)
    assert DeepGA(**params).get_params() == params
    assert "max_conv_blocks=5" in repr(enc)


# -- distance, equality, JSON, display ------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_distance_properties(s1, s2):
    enc = DeepGA(max_conv_blocks=5)
    a, b = enc.random(random.Random(s1)), enc.random(random.Random(s2))
    assert enc.distance(a, a) == 0.0
    assert enc.distance(a, copy.deepcopy(a)) == 0.0
    assert enc.distance(a, b) == enc.distance(b, a)
    assert (enc.distance(a, b) > 0) == (a != b)


def test_distance_values():
    enc = DeepGA()
    a = genome(3, [0], dense=(8,))
    b = copy.deepcopy(a)
    b.skips = [1]
    assert enc.distance(a, b) == 1.0
    c = copy.deepcopy(a)
    c.conv[0].filters = 64            # 1 of 5 fields (the stride counts only where it is not 1)
    assert enc.distance(a, c) == pytest.approx(0.2)
    c.conv[0].stride = 2              # 2 of 6 fields
    assert enc.distance(a, c) == pytest.approx(2 / 6)
    d = copy.deepcopy(a)
    d.dense.append(DenseBlock(4))     # one unmatched block
    assert enc.distance(a, d) == 1.0


def test_fitness_does_not_affect_equality():
    a = genome(3, [1], dense=(8,))
    b = copy.deepcopy(a)
    a.fitness, b.fitness = "one", "two"
    assert a == b
    b.skips = [0]
    assert a != b


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10**6))
def test_json_round_trip(seed):
    enc = DeepGA(max_conv_blocks=5)
    g = enc.random(random.Random(seed))
    data = json.loads(json.dumps(enc.to_json(g)))
    again = enc.from_json(data)
    assert again == g
    assert enc.decode(again, (8, 8, 1), 3).hash == enc.decode(g, (8, 8, 1), 3).hash


def test_from_json_validates():
    enc = DeepGA()
    data = enc.to_json(genome(3, [0]))
    data["skips"] = []
    with pytest.raises(GenotypeError, match="skips"):
        enc.from_json(data)


def test_describe():
    g = DeepGAGenome([ConvBlock(8, 3, "max", 2), ConvBlock(16, 5, "none")], [DenseBlock(32)], [])
    assert DeepGA().describe(g) == "[C8k3m2 C16k5] [D32] skips=-"


def test_skip_index_is_a_bijection():
    n = 7
    positions = sorted(skip_index(j, i) for i in range(2, n) for j in range(i - 1))
    assert positions == list(range(n_skip_bits(n)))


def test_booleans_are_not_accepted_as_integer_choices():
    with pytest.raises(ConfigError, match="filters"):
        DeepGA(filters=(True,))


def test_zero_conv_blocks_allowed_consistently_when_min_is_zero():
    enc = DeepGA(min_conv_blocks=0, max_conv_blocks=2)
    rng = random.Random(0)
    sizes = {len(enc.random(rng).conv) for _ in range(200)}
    assert sizes == {0, 1, 2}
    spec = enc.decode(DeepGAGenome([], [], []), (8, 8, 1), 10)  # an MLP on the flattened image
    assert [n.layer.kind for n in spec.nodes] == ["flatten", "dense"]


def test_skip_bit_count_is_the_number_of_non_adjacent_pairs():
    assert [n_skip_bits(n) for n in range(6)] == [0, 0, 0, 1, 3, 6]
