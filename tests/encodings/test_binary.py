"""The Binary (Genetic-CNN) encoding: bit layout, Gray fields, stage DAGs, repairs, validation."""
from __future__ import annotations

import copy
import itertools
import json
import pickle
import random

import pytest
from deap import tools
from hypothesis import given, settings
from hypothesis import strategies as st

from evokit.encodings.binary import (Binary, BinaryGenome, check_genome, edge_index, field_width, gray_decode,
                                     gray_encode)
from evokit.errors import ConfigError, GenotypeError
from evokit.individual import attach_fitness
from evokit.netspec import Concat, Conv1D, Conv2D, Dense, Flatten, Pool
from evokit.deap_toolbox import genotype_toolbox

IMAGE, SEQUENCE, TABULAR = (8, 8, 1), (40, 1), (30,)


@pytest.fixture
def enc() -> Binary:
    return Binary()


def kinds(spec) -> list[str]:
    return [n.layer.kind for n in spec.nodes]


# -- Gray coding ------------------------------------------------------------------------------------

def test_field_width_is_ceil_log2():
    assert [field_width(n) for n in range(1, 10)] == [0, 1, 2, 2, 3, 3, 3, 3, 4]


@pytest.mark.parametrize("n", range(1, 10))
def test_gray_fields_reach_every_index_and_neighbours_are_one_flip_apart(n):
    width = field_width(n)
    reached = {gray_decode(bits) % n for bits in itertools.product((0, 1), repeat=width)}
    assert reached == set(range(n))
    for i in range(n):
        assert gray_decode(gray_encode(i, width)) == i
    for i in range(n - 1):
        a, b = gray_encode(i, width), gray_encode(i + 1, width)
        assert sum(x != y for x, y in zip(a, b)) == 1


def test_gray_code_values():
    assert [gray_encode(i, 3) for i in range(4)] == [[0, 0, 0], [0, 0, 1], [0, 1, 1], [0, 1, 0]]
    assert gray_decode([1, 1, 0]) == 4


def test_every_choice_is_reachable_through_the_genes():
    enc = Binary(stages=1, nodes_per_stage=1, filters=(2, 4, 6), kernel_sizes=(1, 3, 5, 7),
                 activations=("relu", "tanh", "elu"), dense_layers=1, units=(3, 5, 7))
    seen = {"filters": set(), "kernel": set(), "activation": set(), "units": set()}
    for bits in itertools.product((0, 1), repeat=enc.length):
        stages, dense = enc.genes(list(bits))
        if stages[0].nodes[0] is not None:
            f, k, a = stages[0].nodes[0]
            seen["filters"].add(f), seen["kernel"].add(k), seen["activation"].add(a)
        if dense[0] is not None:
            seen["units"].add(dense[0])
    assert seen == {"filters": {2, 4, 6}, "kernel": {1, 3, 5, 7}, "activation": {"relu", "tanh", "elu"},
                    "units": {3, 5, 7}}


# -- layout -----------------------------------------------------------------------------------------

def test_length_of_the_default_layout(enc):
    # node: on + 2 (filters) + 1 (kernel) + 2 (activation) = 6 bits; stage: 3 * 6 + 3 edges = 21
    assert (enc.node_bits, enc.stage_bits, enc.dense_bits) == (6, 21, 3)
    assert enc.length == 2 * 21 + 2 * 3 == len(enc.random(random.Random(0)))


def test_edge_index_is_genetic_cnn_order():
    k = 5
    assert sorted(edge_index(i, j) for j in range(k) for i in range(j)) == list(range(k * (k - 1) // 2))
    assert [edge_index(0, 1), edge_index(0, 2), edge_index(1, 2), edge_index(0, 3)] == [0, 1, 2, 3]


def test_compose_and_genes_round_trip(enc):
    stages = [([(16, 3, "relu"), None, (8, 5, "tanh")], {(0, 2)}), ([None, (64, 5, "selu"), None], set())]
    g = enc.compose(stages, [None, 32])
    parsed, dense = enc.genes(g)
    assert [s.nodes for s in parsed] == [((16, 3, "relu"), None, (8, 5, "tanh")), (None, (64, 5, "selu"), None)]
    assert parsed[0].edges == {(0, 2)} and parsed[1].edges == set()
    assert dense == [None, 32]


def test_compose_rejects_values_outside_the_choices(enc):
    with pytest.raises(ConfigError, match=r"stages\[0\]\[1\]\.filters=12"):
        enc.compose([([(8, 3, "relu"), (12, 3, "relu")], ())])
    with pytest.raises(ConfigError, match=r"dense\[0\]=5"):
        enc.compose([], [5])
    with pytest.raises(ConfigError, match="edge"):
        enc.compose([([(8, 3, "relu")], {(1, 0)})])


# -- decoding ---------------------------------------------------------------------------------------

def test_all_off_decodes_to_pooling_and_head(enc):
    off = BinaryGenome([0] * enc.length)
    assert kinds(enc.decode(off, IMAGE, 10)) == ["pool", "pool", "flatten", "dense"]
    assert enc.decode(off, SEQUENCE, 3).shapes[1] == (10, 1)
    assert kinds(enc.decode(off, TABULAR, 2)) == ["dense"]


def test_exact_architecture(enc):
    g = enc.compose([([(16, 3, "relu"), (8, 5, "elu"), None], {(0, 1)})], [64, None])
    spec = enc.decode(g, IMAGE, 10)
    assert spec.describe() == ("conv2d(16, 3x3, relu) > conv2d(8, 5x5, elu) > maxpool(2) > maxpool(2) > "
                               "flatten() > dense(64, relu) > dense(10, softmax)")
    assert spec.params == (9 * 16 + 16) + (25 * 16 * 8 + 8) + (2 * 2 * 8 * 64 + 64) + (64 * 10 + 10)


def three_nodes(edges) -> BinaryGenome:
    return Binary(stages=1, dense_layers=0).compose(
        [([(8, 3, "relu"), (16, 3, "relu"), (32, 3, "relu")], edges)])


@pytest.mark.parametrize("edges, concat_channels, n_convs_on_input", [
    (set(), [8 + 16 + 32], 3),                        # three isolated nodes: all leaves
    ({(0, 1), (0, 2)}, [16 + 32], 1),                 # 0 feeds 1 and 2: two leaves
    ({(0, 1), (1, 2)}, [], 1),                        # a chain: one leaf, no concat
    ({(0, 2), (1, 2)}, [8 + 16], 2),                  # 2 reads 0 and 1 concatenated
    ({(0, 1), (0, 2), (1, 2)}, [8 + 16], 1),          # 2 reads 0 and 1; 0 also feeds 1
])
def test_connection_bits_shape_the_stage_dag(edges, concat_channels, n_convs_on_input):
    enc = Binary(stages=1, dense_layers=0)
    spec = enc.decode(three_nodes(edges), IMAGE, 4)
    concats = [spec.shapes[i][-1] for i, n in enumerate(spec.nodes) if isinstance(n.layer, Concat)]
    assert concats == concat_channels
    assert sum(isinstance(n.layer, Conv2D) and n.inputs == (-1,) for n in spec.nodes) == n_convs_on_input
    assert sum(isinstance(n.layer, Conv2D) for n in spec.nodes) == 3


def test_connection_bits_change_the_network():
    enc = Binary(stages=1, dense_layers=0)
    specs = {frozenset(e): enc.decode(three_nodes(e), IMAGE, 4).hash
             for e in [set(), {(0, 1)}, {(0, 2)}, {(1, 2)}, {(0, 1), (1, 2)}, {(0, 1), (0, 2), (1, 2)}]}
    assert len(set(specs.values())) == len(specs)


def test_connections_of_inactive_nodes_are_ignored():
    enc = Binary(stages=1, dense_layers=0)
    on = enc.compose([([(8, 3, "relu"), None, (32, 3, "relu")], {(0, 1), (1, 2)})])
    # node 1 is off: 0 and 2 are unconnected, both read the input and are concatenated
    spec = enc.decode(on, IMAGE, 4)
    assert [spec.shapes[i][-1] for i, n in enumerate(spec.nodes) if isinstance(n.layer, Concat)] == [40]


def test_sequences_get_conv1d_and_tabular_skips_the_stages(enc):
    rng = random.Random(2)
    for _ in range(50):
        g = enc.random(rng)
        seq = {type(n.layer) for n in enc.decode(g, SEQUENCE, 3).nodes}
        assert Conv2D not in seq
        tab = enc.decode(g, TABULAR, 3)
        assert not {type(n.layer) for n in tab.nodes} & {Conv1D, Conv2D, Pool, Concat, Flatten}
        assert [n.layer.units for n in tab.nodes[:-1]] == [u for u in enc.genes(g)[1] if u is not None]


def test_pooling_that_does_not_fit_is_dropped():
    enc = Binary(stages=4, dense_layers=0)
    spec = enc.decode([0] * enc.length, (4, 4, 1), 2)      # 4 -> 2 -> 1, then nothing to pool
    assert kinds(spec) == ["pool", "pool", "flatten", "dense"]
    assert enc.decode([0] * enc.length, (1, 1), 2).validate().output_shape == (2,)


def test_regression_head_is_linear(enc):
    spec = enc.decode(enc.random(random.Random(1)), IMAGE, 3, task="regression")
    assert spec.nodes[-1].layer == Dense(3, activation="linear")


# -- validation -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field", [
    ({"stages": -1}, "stages"),
    ({"nodes_per_stage": 0}, "nodes_per_stage"),
    ({"filters": ()}, "filters"),
    ({"filters": (8, True)}, "filters"),
    ({"kernel_sizes": (0,)}, "kernel_sizes"),
    ({"activations": ("relu", "nope")}, "activations"),
    ({"dense_layers": 1.5}, "dense_layers"),
    ({"units": [16, -1]}, "units"),
    ({"dense_activation": "foo"}, "dense_activation"),
    ({"crossover": "one_point"}, "crossover"),
    ({"indpb": 0}, "indpb"),
    ({"indpb": 1.5}, "indpb"),
    ({"stages": 0, "dense_layers": 0}, "stages"),
])
def test_constructor_errors_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=rf"\b{field}="):
        Binary(**kwargs)


@pytest.mark.parametrize("bad, match", [
    (lambda g: g[:-1], r"\blength=47"),
    (lambda g: g + [0], r"\blength=49"),
    (lambda g: g[:3] + [2] + g[4:], r"genotype\[3\]=2"),
    (lambda g: g[:5] + [0.5] + g[6:], r"genotype\[5\]=0.5"),
    (lambda g: "01" * 24, r"genotype=str"),
    (lambda g: None, r"genotype=NoneType"),
])
def test_validator_names_the_gene(enc, bad, match):
    g = list(enc.random(random.Random(0)))
    with pytest.raises(GenotypeError, match=match):
        enc.decode(bad(g), IMAGE, 2)
    with pytest.raises(GenotypeError, match=match):
        check_genome(bad(g), enc.length)


def test_from_json_validates_and_round_trips(enc):
    g = enc.random(random.Random(3))
    again = enc.from_json(json.loads(json.dumps(enc.to_json(g))))
    assert again == g and isinstance(again, BinaryGenome)
    with pytest.raises(GenotypeError, match="length"):
        enc.from_json([0, 1])


# -- variation, distance, identity ----------------------------------------------------------------

@pytest.mark.parametrize("crossover, mate", [("two_point", tools.cxTwoPoint), ("uniform", tools.cxUniform)])
def test_register_uses_deaps_operators(crossover, mate):
    enc = Binary(crossover=crossover)
    tb = genotype_toolbox(enc, (1.0,))
    assert tb.mate.func is mate and tb.mutate.func is tools.mutFlipBit
    assert tb.mutate.keywords == {"indpb": 1 / enc.length}
    assert genotype_toolbox(Binary(indpb=0.25), (1.0,)).mutate.keywords == {"indpb": 0.25}


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), crossover=st.sampled_from(("two_point", "uniform")),
       stages=st.integers(0, 2), dense=st.integers(1, 2))
def test_deap_operators_keep_genotypes_valid(seed, crossover, stages, dense):
    enc = Binary(stages=stages, nodes_per_stage=3, dense_layers=dense, crossover=crossover, indpb=0.2)
    tb = genotype_toolbox(enc, (1.0,))
    random.seed(seed)
    a, b = tb.individual(), tb.individual()
    a, b = tb.mate(a, b)
    (m,) = tb.mutate(a)
    for child in (m, b):
        assert isinstance(child, BinaryGenome) and hasattr(child, "fitness")
        check_genome(child, enc.length)
        assert all(type(bit) is int for bit in child)
        enc.decode(child, IMAGE, 10).validate()


def test_mutation_flips_bits_at_the_rate(enc):
    random.seed(0)
    g = BinaryGenome([0] * enc.length)
    (m,) = tools.mutFlipBit(g, indpb=1.0)
    assert m == [1] * enc.length


def test_distance_is_hamming(enc):
    a = enc.random(random.Random(4))
    b = BinaryGenome(a)
    b[0], b[7] = 1 - b[0], 1 - b[7]
    assert enc.distance(a, a) == 0.0 and enc.distance(a, b) == enc.distance(b, a) == 2.0


def test_random_uses_only_the_rng_passed(enc):
    random.seed(0)
    a = enc.random(random.Random(7))
    random.seed(99)
    assert enc.random(random.Random(7)) == a
    assert len({tuple(enc.random(random.Random(s))) for s in range(20)}) == 20


def test_fitness_is_not_part_of_equality_and_survives_pickle(enc):
    a = attach_fitness(enc.random(random.Random(5)), (1.0,))
    a.fitness.values = (0.75,)
    b = copy.deepcopy(a)
    b.fitness.values = (0.25,)
    assert a == b
    back = pickle.loads(pickle.dumps(a))
    assert back == a and type(back) is BinaryGenome and back.fitness.values == (0.75,)


def test_describe(enc):
    g = enc.compose([([(16, 3, "relu"), None, (8, 5, "elu")], {(0, 2), (0, 1)}), ([], ())], [64, None])
    assert enc.describe(g) == "S1[1:C16k3relu 3:C8k5elu 1>3] S2[-] D[64]"
    assert enc.describe([0] * enc.length) == "S1[-] S2[-] D[-]"
