"""The Permutation encoding: STOP-marker semantics, repairs, block validation, DEAP operators."""
from __future__ import annotations

import copy
import json
import pickle
import random

import pytest
from deap import tools
from hypothesis import given, settings
from hypothesis import strategies as st

from evokit.encodings.permutation import (DEFAULT_BLOCKS, Block, Permutation, PermutationGenome,
                                          check_genome)
from evokit.errors import ConfigError, GenotypeError
from evokit.individual import attach_fitness
from evokit.netspec import Conv1D, Conv2D, Dense, Pool
from evokit.deap_toolbox import genotype_toolbox

IMAGE, SEQUENCE, TABULAR = (8, 8, 1), (40, 1), (30,)
POOL = (Block("conv", 4, 3), Block("conv", 8, 5, "tanh"), Block("maxpool", 2), Block("avgpool", 3),
        Block("dense", 16), Block("dropout", 0.25))
CONV4, CONV8, MAXPOOL, AVGPOOL, DENSE, DROPOUT = range(6)
STOP = 6


@pytest.fixture
def enc() -> Permutation:
    return Permutation(blocks=POOL)


def layers(spec) -> str:
    return spec.describe()


# -- the STOP marker --------------------------------------------------------------------------------

def test_random_genotypes_are_permutations_with_a_stop_marker(enc):
    rng = random.Random(0)
    cuts = set()
    for _ in range(300):
        g = enc.random(rng)
        assert isinstance(g, PermutationGenome) and sorted(g) == list(range(STOP + 1))
        cuts.add(g.index(STOP))
    assert cuts == set(range(STOP + 1))   # every prefix length, empty to full, occurs


def test_blocks_before_the_stop_marker_are_used_in_order(enc):
    g = PermutationGenome([MAXPOOL, CONV8, STOP, CONV4, DENSE, AVGPOOL, DROPOUT])
    assert enc.used(g) == [POOL[MAXPOOL], POOL[CONV8]]
    assert layers(enc.decode(g, IMAGE, 10)) == "maxpool(2) > conv2d(8, 5x5, tanh) > flatten() > dense(10, softmax)"
    swapped = PermutationGenome([CONV8, MAXPOOL, STOP, CONV4, DENSE, AVGPOOL, DROPOUT])
    assert layers(enc.decode(swapped, IMAGE, 10)).startswith("conv2d(8, 5x5, tanh) > maxpool(2)")
    assert enc.decode(g, IMAGE, 10).hash != enc.decode(swapped, IMAGE, 10).hash


def test_what_follows_the_stop_marker_does_not_matter(enc):
    a = PermutationGenome([CONV4, STOP, CONV8, MAXPOOL, AVGPOOL, DENSE, DROPOUT])
    b = PermutationGenome([CONV4, STOP, DROPOUT, DENSE, AVGPOOL, MAXPOOL, CONV8])
    assert a != b
    assert enc.decode(a, IMAGE, 10).hash == enc.decode(b, IMAGE, 10).hash
    assert enc.distance(a, b) == 0.0


def test_moving_the_stop_marker_cuts_the_network(enc):
    order = [CONV4, MAXPOOL, DENSE, DROPOUT, CONV8, AVGPOOL]
    for cut in range(len(order) + 1):
        g = PermutationGenome(order[:cut] + [STOP] + order[cut:])
        assert enc.used(g) == [POOL[i] for i in order[:cut]]


def test_empty_prefix_decodes_to_just_the_head(enc):
    g = enc.compose([])
    assert g[0] == STOP
    assert layers(enc.decode(g, IMAGE, 10)) == "flatten() > dense(10, softmax)"
    assert layers(enc.decode(g, TABULAR, 2)) == "dense(2, softmax)"
    assert enc.describe(g) == "-"


def test_compose(enc):
    assert enc.compose([DENSE, CONV4]) == [DENSE, CONV4, STOP, CONV8, MAXPOOL, AVGPOOL, DROPOUT]
    with pytest.raises(ConfigError, match="order"):
        enc.compose([CONV4, CONV4])
    with pytest.raises(ConfigError, match="order"):
        enc.compose([STOP])


# -- repairs ----------------------------------------------------------------------------------------

def test_conv_and_pool_after_dense_are_skipped(enc):
    g = enc.compose([CONV4, DENSE, CONV8, MAXPOOL, DROPOUT])
    assert layers(enc.decode(g, IMAGE, 10)) == ("conv2d(4, 3x3, relu) > flatten() > dense(16, relu) > "
                                                "dropout(rate=0.25) > dense(10, softmax)")


def test_conv_and_pool_on_tabular_inputs_are_skipped(enc):
    g = enc.compose([CONV4, MAXPOOL, CONV8, AVGPOOL, DENSE, DROPOUT])
    assert layers(enc.decode(g, TABULAR, 2)) == "dense(16, relu) > dropout(rate=0.25) > dense(2, softmax)"


def test_pooling_that_does_not_fit_is_dropped():
    enc = Permutation(blocks=[("maxpool", 3), ("avgpool", 3), ("maxpool", 2), ("conv", 4)])
    spec = enc.decode(enc.compose([0, 1, 2, 3]), IMAGE, 10)    # 8 -> 2, then 3 doesn't fit, then 2 -> 1
    assert [spec.shapes[i] for i, n in enumerate(spec.nodes) if isinstance(n.layer, Pool)] == [(2, 2, 1), (1, 1, 1)]
    assert spec.validate().output_shape == (10,)


def test_dense_on_a_spatial_input_gets_a_flatten(enc):
    spec = enc.decode(enc.compose([CONV4, DENSE]), IMAGE, 10)
    assert layers(spec) == "conv2d(4, 3x3, relu) > flatten() > dense(16, relu) > dense(10, softmax)"
    assert spec.params == (9 * 4 + 4) + (256 * 16 + 16) + (16 * 10 + 10)


def test_sequences_get_conv1d(enc):
    spec = enc.decode(enc.compose([CONV4, MAXPOOL, CONV8]), SEQUENCE, 3)
    assert [type(n.layer) for n in spec.nodes[:3]] == [Conv1D, Pool, Conv1D]
    assert spec.shapes[2] == (20, 8)


@pytest.mark.parametrize("shape", [IMAGE, SEQUENCE, TABULAR, (1, 1, 1), (2, 1)])
def test_every_genotype_decodes(shape):
    enc = Permutation()
    rng = random.Random(1)
    for _ in range(100):
        spec = enc.decode(enc.random(rng), shape, 4).validate()
        assert spec.output_shape == (4,) and spec.nodes[-1].layer == Dense(4, activation="softmax")
        if len(shape) == 1:
            assert not any(isinstance(n.layer, (Conv1D, Conv2D, Pool)) for n in spec.nodes)


def test_regression_head_is_linear(enc):
    spec = enc.decode(enc.random(random.Random(2)), IMAGE, 2, task="regression")
    assert spec.nodes[-1].layer == Dense(2, activation="linear")


# -- blocks and constructor validation ------------------------------------------------------------

def test_blocks_from_sequences_and_dicts():
    enc = Permutation(blocks=[("conv", 8, 5, "elu"), ["dense", 32], {"kind": "dropout", "size": 0.5}])
    assert enc.blocks == (Block("conv", 8, 5, "elu"), Block("dense", 32), Block("dropout", 0.5))
    assert Permutation(blocks=json.loads(json.dumps(enc.blocks_json()))).blocks == enc.blocks
    assert Permutation(**enc.get_params()).get_params() == enc.get_params()
    assert Permutation().blocks == DEFAULT_BLOCKS and Permutation().stop == len(DEFAULT_BLOCKS)
    assert repr(Block("conv", 8, 5, "elu")) == "Block('conv', 8, kernel_size=5, activation='elu')"


@pytest.mark.parametrize("blocks, match", [
    ([("conv", 8), ("pool", 2)], r"blocks\[1\]=.*kind='pool'"),
    ([("dense", 0)], r"blocks\[0\]=.*size=0"),
    ([("dense", 8), ("dropout", 1.0)], r"blocks\[1\]=.*size=1.0"),
    ([("conv", 8, 0)], r"blocks\[0\]=.*kernel_size=0"),
    ([("conv", 8, 3, "nope")], r"blocks\[0\]=.*activation='nope'"),
    ([("conv",)], r"blocks\[0\]="),
    ([{"kind": "dense", "units": 8}], r"blocks\[0\]="),
    ([42], r"blocks\[0\]=42"),
    ([], r"\bblocks=\[\]"),
    ("conv", r"\bblocks='conv'"),
])
def test_block_errors_name_the_block(blocks, match):
    with pytest.raises(ConfigError, match=match):
        Permutation(blocks=blocks)


@pytest.mark.parametrize("kwargs, field", [
    ({"crossover": "cycle"}, "crossover"),
    ({"indpb": -0.1}, "indpb"),
    ({"indpb": "0.1"}, "indpb"),
])
def test_constructor_errors_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=rf"\b{field}="):
        Permutation(**kwargs)


@pytest.mark.parametrize("bad", [
    [0, 1, 2, 3, 4, 5],                 # STOP missing
    [0, 1, 2, 3, 4, 5, 6, 7],           # one too many
    [0, 0, 2, 3, 4, 5, 6],              # duplicate
    [0, 1, 2, 3, 4, 5, 6.0],            # not an int
    [True, 0, 2, 3, 4, 5, 6],           # bool is not an index
    "0123456",
    None,
])
def test_validator_names_the_genotype(enc, bad):
    with pytest.raises(GenotypeError, match=r"\bgenotype=.*permutation of range\(7\)"):
        enc.decode(bad, IMAGE, 2)
    with pytest.raises(GenotypeError, match="genotype"):
        check_genome(bad, len(POOL))


def test_from_json_validates_and_round_trips(enc):
    g = enc.random(random.Random(3))
    again = enc.from_json(json.loads(json.dumps(enc.to_json(g))))
    assert again == g and isinstance(again, PermutationGenome)
    with pytest.raises(GenotypeError, match="genotype"):
        enc.from_json([0, 1])


# -- variation, distance, identity ----------------------------------------------------------------

@pytest.mark.parametrize("crossover, mate", [("pmx", tools.cxPartialyMatched), ("ordered", tools.cxOrdered)])
def test_register_uses_deaps_operators(crossover, mate):
    tb = genotype_toolbox(Permutation(crossover=crossover, indpb=0.3), (1.0,))
    assert tb.mate.func is mate and tb.mutate.func is tools.mutShuffleIndexes
    assert tb.mutate.keywords == {"indpb": 0.3}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), crossover=st.sampled_from(("pmx", "ordered")), n=st.integers(1, 9))
def test_deap_operators_keep_genotypes_valid(seed, crossover, n):
    enc = Permutation(blocks=DEFAULT_BLOCKS[:n], crossover=crossover, indpb=0.5)
    tb = genotype_toolbox(enc, (1.0,))
    random.seed(seed)
    a, b = tb.individual(), tb.individual()
    a, b = tb.mate(a, b)
    (m,) = tb.mutate(a)
    for child in (m, b):
        assert isinstance(child, PermutationGenome) and hasattr(child, "fitness")
        check_genome(child, n)
        enc.decode(child, IMAGE, 10).validate()


def test_operators_move_the_stop_marker():
    enc = Permutation()
    tb = genotype_toolbox(enc, (1.0,))
    random.seed(4)
    cuts = set()
    for _ in range(50):
        a, b = tb.mate(tb.individual(), tb.individual())
        cuts.add(tb.mutate(a)[0].index(enc.stop))
    assert len(cuts) > 5


def test_distance_counts_differing_used_positions(enc):
    a = enc.compose([CONV4, MAXPOOL, DENSE])
    assert enc.distance(a, a) == 0.0
    assert enc.distance(a, enc.compose([CONV4, AVGPOOL, DENSE])) == 1.0
    assert enc.distance(a, enc.compose([CONV4, MAXPOOL])) == enc.distance(enc.compose([CONV4, MAXPOOL]), a) == 1.0
    assert enc.distance(a, enc.compose([])) == 3.0
    assert enc.distance(a, enc.compose([DENSE, MAXPOOL, CONV4])) == 2.0


def test_equal_blocks_of_the_pool_are_interchangeable():
    enc = Permutation(blocks=[("dense", 8), ("dense", 8), ("conv", 4)])
    a, b = enc.compose([0, 2]), enc.compose([1, 2])
    assert a != b and enc.distance(a, b) == 0.0
    assert enc.decode(a, IMAGE, 3).hash == enc.decode(b, IMAGE, 3).hash


def test_random_uses_only_the_rng_passed(enc):
    random.seed(0)
    a = enc.random(random.Random(7))
    random.seed(99)
    assert enc.random(random.Random(7)) == a


def test_fitness_is_not_part_of_equality_and_survives_pickle(enc):
    a = attach_fitness(enc.random(random.Random(5)), (1.0,))
    a.fitness.values = (0.75,)
    b = copy.deepcopy(a)
    b.fitness.values = (0.25,)
    assert a == b
    back = pickle.loads(pickle.dumps(a))
    assert back == a and type(back) is PermutationGenome and back.fitness.values == (0.75,)
    assert pickle.loads(pickle.dumps(enc)).blocks == enc.blocks


def test_describe(enc):
    g = enc.compose([CONV8, MAXPOOL, AVGPOOL, DENSE, DROPOUT, CONV4])
    assert enc.describe(g) == "C8k5tanh > maxpool2 > avgpool3 > D16 > drop0.25 > C4k3"
