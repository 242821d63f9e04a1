"""The grouping encoding (Falkenauer): sampling, decoding, label invariance, distance, validation,
JSON; and the ``Select`` layer spec with its Keras layer."""
from __future__ import annotations

import copy
import json
import pickle
import random

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evokit.builder import build
from evokit.encodings.grouping import Grouping, GroupingGenome, check_genome
from evokit.errors import ArchitectureError, ConfigError, GenotypeError
from evokit.netspec import Concat, Conv1D, Conv2D, Dense, Flatten, Graph, NetSpec, Pool
from evokit.netspec.select import Select

SHAPES = {"image": (8, 8, 1), "sequence": (40, 1), "tabular": (30,)}
seeds = st.integers(0, 2**32 - 1)


@pytest.fixture
def enc():
    return Grouping(n_items=6, max_groups=4, units=(4, 8, 16), filters=(4, 8))


def relabel(genome, rng: random.Random) -> GroupingGenome:
    """The same partition under fresh, arbitrary labels (negative and large ones included)."""
    old = sorted(set(genome))
    new = rng.sample(range(-1000, 1000), len(old))
    mapping = dict(zip(old, new))
    return GroupingGenome(mapping[label] for label in genome)


def kinds(spec: NetSpec) -> list[str]:
    return [n.layer.kind for n in spec.nodes]


# -- sampling -------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", [Grouping(), Grouping(n_items=3, max_groups=5), Grouping(n_items=1, max_groups=1)])
def test_random_genotypes_are_canonical_partitions_within_bounds(encoding):
    rng = random.Random(0)
    counts = set()
    for _ in range(200):
        g = encoding.random(rng)
        check_genome(g, encoding.n_items, encoding.max_groups)
        assert isinstance(g, GroupingGenome) and len(g) == encoding.n_items
        assert list(g) == list(g.canonical())
        counts.add(len(set(g)))
    assert counts == set(range(1, min(encoding.max_groups, encoding.n_items) + 1))


def test_random_is_seeded_and_uses_only_its_rng():
    enc = Grouping()
    random.seed(1)
    a = enc.random(random.Random(7))
    random.seed(2)
    assert enc.random(random.Random(7)) == a


# -- label invariance and distance ----------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(s1=seeds, s2=seeds)
def test_relabelled_partitions_decode_identically_at_distance_zero(s1, s2):
    enc = Grouping(n_items=8, max_groups=5)
    a = enc.random(random.Random(s1))
    b = relabel(a, random.Random(s2))
    assert enc.distance(a, b) == enc.distance(b, a) == 0
    assert enc.describe(a) == enc.describe(b) and enc.to_json(a) == enc.to_json(b)
    for shape in SHAPES.values():
        assert enc.decode(a, shape, 3).hash == enc.decode(b, shape, 3).hash


def test_group_order_and_labels_do_not_matter(enc):
    a = GroupingGenome([0, 0, 1, 2, 1, 2])
    b = GroupingGenome([7, 7, -3, 5, -3, 5])    # same groups, other labels
    c = GroupingGenome([2, 2, 0, 1, 0, 1])      # same groups, numbered in another order
    for other in (b, c):
        assert enc.distance(a, other) == 0
        for shape in SHAPES.values():
            assert enc.decode(a, shape, 2).hash == enc.decode(other, shape, 2).hash


@settings(max_examples=40, deadline=None)
@given(s1=seeds, s2=seeds)
def test_different_partitions_decode_differently_at_positive_distance(s1, s2):
    enc = Grouping(n_items=8, max_groups=5)
    a, b = enc.random(random.Random(s1)), enc.random(random.Random(s2))
    same = a.canonical() == b.canonical()
    assert (enc.distance(a, b) == 0) == same
    # on tabular data with at least n_items features every item selects its own features
    assert (enc.decode(a, (16,), 2).hash == enc.decode(b, (16,), 2).hash) == same


def test_distance_counts_pairs_grouped_differently(enc):
    a = GroupingGenome([0, 0, 1, 1, 2, 2])
    b = GroupingGenome([0, 1, 1, 1, 2, 2])
    # pair (0,1) together -> apart; pairs (1,2) and (1,3) apart -> together
    assert enc.distance(a, b) == enc.distance(b, a) == 3.0
    one = GroupingGenome([0] * 6)
    singles = GroupingGenome(range(6))
    assert enc.distance(one, singles) == 15.0  # every one of the 6 * 5 / 2 pairs


# -- decoding: tabular branches -------------------------------------------------------------------

def test_tabular_groups_become_selected_dense_branches():
    enc = Grouping(n_items=4, max_groups=4, units=(8, 16, 32))
    g = GroupingGenome([1, 0, 1, 1])       # groups {0,2,3} and {1}
    spec = enc.decode(g, (12,), 3)
    selects = [n.layer for n in spec.nodes if isinstance(n.layer, Select)]
    assert sorted(s.indices for s in selects) == [(0, 2, 3, 4, 6, 7, 8, 10, 11), (1, 5, 9)]
    denses = {n.layer.units for n in spec.nodes[:-1] if isinstance(n.layer, Dense)}
    assert denses == {8, 32}                 # 3 of 12 features -> units[0]; 9 of 12 -> units[2]
    assert kinds(spec).count("concat") == 1 and spec.output_shape == (3,)
    assert spec.nodes[-1].layer == Dense(3, activation="softmax")


def test_items_that_cover_no_feature_are_ignored():
    enc = Grouping(n_items=10, max_groups=3, units=(8,))
    g = GroupingGenome([0, 0, 0, 1, 1, 1, 1, 2, 2, 2])   # group {7,8,9} covers none of 5 features
    spec = enc.decode(g, (5,), 2)
    assert sorted(n.layer.indices for n in spec.nodes if isinstance(n.layer, Select)) == [(0, 1, 2), (3, 4)]
    only_dead = enc.decode(GroupingGenome([0, 0, 0, 0, 0, 0, 0, 1, 1, 1]), (5,), 2)
    assert "select" not in kinds(only_dead) and "concat" not in kinds(only_dead)  # one branch: all features


def test_one_group_is_a_single_dense_branch():
    enc = Grouping(n_items=6, units=(8, 16))
    spec = enc.decode(GroupingGenome([0] * 6), (30,), 2, task="regression")
    assert kinds(spec) == ["dense", "dense"] and spec.nodes[0].layer.units == 16
    assert spec.nodes[-1].layer == Dense(2, activation="linear")


# -- decoding: conv stages ------------------------------------------------------------------------

def test_image_groups_become_stages_of_slots_in_item_order():
    enc = Grouping(n_items=5, max_groups=5, filters=(4, 8, 16), kernel_size=3)
    g = GroupingGenome([1, 0, 1, 0, 2])    # canonical stages: {0,2} {1,3} {4}
    spec = enc.decode(g, (16, 16, 1), 10)
    assert kinds(spec) == ["conv2d", "conv2d", "pool", "conv2d", "conv2d", "pool", "conv2d", "pool", "flatten",
                           "dense"]
    convs = [n.layer for n in spec.nodes if isinstance(n.layer, Conv2D)]
    assert [c.filters for c in convs] == [4, 16, 8, 4, 8]      # slots 0, 2, 1, 3, 4
    assert spec.shapes[7] == (2, 2, 8)


def test_pools_that_do_not_fit_are_dropped_and_sequences_use_conv1d():
    enc = Grouping(n_items=6, max_groups=6)
    singles = GroupingGenome(range(6))
    spec = enc.decode(singles, (8, 8, 1), 10)
    assert kinds(spec).count("conv2d") == 6 and kinds(spec).count("pool") == 3    # 8 -> 4 -> 2 -> 1
    seq = enc.decode(singles, (40, 1), 2)
    assert kinds(seq).count("conv1d") == 6 and kinds(seq).count("pool") == 5      # 40 -> 20 -> ... -> 1
    assert not any(isinstance(n.layer, Conv2D) for n in seq.nodes)
    no_pool = Grouping(n_items=6, max_groups=6, pool="none").decode(singles, (8, 8, 1), 10)
    assert "pool" not in kinds(no_pool)


@pytest.mark.parametrize("shape", [(40, 1), (12,), (6, 6, 3)])
def test_decoded_networks_have_keras_parity(shape):
    enc = Grouping(n_items=5, max_groups=3, units=(4, 8), filters=(2, 4))
    rng = random.Random(3)
    for _ in range(10):
        spec = enc.decode(enc.random(rng), shape, 3)
        model = build(spec)
        assert model.count_params() == spec.params and tuple(model.output_shape[1:]) == (3,)
        keras.backend.clear_session(free_memory=False)


# -- configuration and validation -----------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field", [
    ({"n_items": 0}, "n_items"), ({"n_items": 2.5}, "n_items"), ({"max_groups": 0}, "max_groups"),
    ({"max_groups": True}, "max_groups"), ({"units": ()}, "units"), ({"units": (8, 0)}, "units"),
    ({"filters": "8"}, "filters"), ({"filters": (4, 2.0)}, "filters"), ({"kernel_size": 0}, "kernel_size"),
    ({"pool": "min"}, "pool"), ({"pool_size": -1}, "pool_size"), ({"activation": "wiggle"}, "activation"),
])
def test_constructor_errors_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=rf"^{field}="):
        Grouping(**kwargs)


def test_constructor_stores_its_arguments():
    enc = Grouping(n_items=4, units=[8], filters=[2, 4])
    assert enc.get_params()["units"] == (8,) and enc.filters == (2, 4)
    assert repr(enc).startswith("Grouping(n_items=4, max_groups=4, units=(8,)")


@pytest.mark.parametrize("genotype, gene", [
    ("0011", r"genotype="), ({0: 1}, r"genotype="), ([0, 0, 1], r"genotype=.*6 labels"),
    ([0, 0, "a", 1, 1, 1], r"genotype\[2\]="), ([0, 1.0, 0, 0, 0, 0], r"genotype\[1\]="),
    ([0, 0, 0, True, 0, 0], r"genotype\[3\]="), ([0, 1, 2, 3, 4, 4], r"genotype=.*5 groups.*max_groups=4"),
])
def test_validator_names_the_gene(enc, genotype, gene):
    with pytest.raises(GenotypeError, match=gene):
        enc.decode(genotype, (30,), 2)


def test_plain_label_lists_decode_like_genomes(enc):
    assert enc.decode([3, 3, 1, 1, 0, 0], (30,), 2).hash == enc.decode(GroupingGenome([0, 0, 1, 1, 2, 2]),
                                                                        (30,), 2).hash


# -- genome, JSON, pickling -----------------------------------------------------------------------

def test_json_round_trip_is_canonical(enc):
    g = GroupingGenome([5, 5, 2, 9, 2, 9])
    data = json.loads(json.dumps(enc.to_json(g)))
    assert data == [0, 0, 1, 2, 1, 2]
    back = enc.from_json(data)
    assert isinstance(back, GroupingGenome) and enc.distance(back, g) == 0
    with pytest.raises(GenotypeError, match="genotype"):
        enc.from_json([0, 1])
    with pytest.raises(GenotypeError, match="genotype"):
        enc.from_json({"labels": [0] * 6})


def test_genome_fitness_is_not_part_of_equality_and_survives_pickle_and_copy():
    a, b = GroupingGenome([0, 1, 1]), GroupingGenome([0, 1, 1])
    a.fitness, b.fitness = "good", "bad"
    assert a == b and GroupingGenome([1, 0, 0]) != a and GroupingGenome([1, 0, 0]).canonical() == a
    for back in (pickle.loads(pickle.dumps(a)), copy.deepcopy(a)):
        assert back == a and isinstance(back, GroupingGenome) and back.fitness == "good"
    assert a.groups() == [[0], [1, 2]] and repr(a) == "GroupingGenome([0, 1, 1])"


def test_describe_lists_the_groups(enc):
    assert enc.describe(GroupingGenome([1, 1, 0, 2, 0, 2])) == "3 groups: {0,1} {2,4} {3,5}"
    assert enc.describe(GroupingGenome([4] * 6)) == "1 group: {0,1,2,3,4,5}"


# -- the Select layer spec ------------------------------------------------------------------------

def test_select_shape_params_and_config():
    layer = Select((4, 0, 2))
    assert layer.output_shape([(5,)]) == (3,)
    assert layer.params([(5,)]) == 0 and layer.flops([(5,)], (3,)) == 0
    assert Select([1, 2]) == Select((1, 2)) and Select([1, 2]).indices == (1, 2)
    assert layer.kind == "select" and layer.describe() == "select[4,0,2]"
    assert Select(tuple(range(10))).describe() == "select[0,1,2,3,4,5,... 10 in all]"


@pytest.mark.parametrize("indices, match", [
    ((), r"^indices=\(\) is invalid"), (5, r"^indices=5 is invalid"), ((1, -1), r"^indices\[1\]=-1"),
    ((0, 1.5), r"^indices\[1\]=1.5"), ((True,), r"^indices\[0\]=True"),
])
def test_select_constructor_errors_name_the_field(indices, match):
    with pytest.raises(ConfigError, match=match):
        Select(indices)


def test_select_shape_errors():
    with pytest.raises(ArchitectureError, match="select.*index 5.*below 5"):
        Select((0, 5)).output_shape([(5,)])
    with pytest.raises(ArchitectureError, match="select.*flat input"):
        Select((0,)).output_shape([(4, 4, 1)])
    g = Graph((3, 2))
    with pytest.raises(ArchitectureError, match="node 0"):
        g.add(Select((0,)), g.input)


def select_spec() -> NetSpec:
    g = Graph((7,))
    a = g.add(Select((6, 0, 3)), g.input)
    b = g.add(Select((1, 1, 2, 5)), g.input)
    h = g.add(Concat(), g.add(Dense(4), a), g.add(Dense(2), b), a)
    return g.finish(g.add(Dense(2, "softmax"), h))


def test_select_in_a_netspec_serialises_and_hashes():
    spec = select_spec()
    back = NetSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert back.hash == spec.hash and back.params == spec.params == (3 * 4 + 4) + (4 * 2 + 2) + (9 * 2 + 2)
    g = Graph((7,))
    other = g.finish(g.add(Dense(2, "softmax"), g.add(Select((0, 6, 3)), g.input)))
    g = Graph((7,))
    same = g.finish(g.add(Dense(2, "softmax"), g.add(Select((0, 6, 3)), g.input)))
    g = Graph((7,))
    reordered = g.finish(g.add(Dense(2, "softmax"), g.add(Select((6, 0, 3)), g.input)))
    assert other.hash == same.hash != reordered.hash


def test_select_builds_with_parity_and_gathers_features():
    spec = select_spec()
    model = build(spec, seed=2)
    assert model.count_params() == spec.params
    x = np.arange(14, dtype="float32").reshape(2, 7)
    picked = model.get_layer("n1_select")(x)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(picked), x[:, [1, 1, 2, 5]])
    assert model.get_layer("n1_select").count_params() == 0


def test_select_model_saves_to_keras_file_and_reloads(tmp_path):
    spec = select_spec()
    model = build(spec, seed=5)
    x = np.random.default_rng(0).normal(size=(4, 7)).astype("float32")
    expected = model.predict(x, verbose=0)
    path = tmp_path / "select.keras"
    model.save(path)
    keras.backend.clear_session(free_memory=False)
    import evokit.layers  # noqa: F401 - registers evokit's layers for loading

    reloaded = keras.models.load_model(path)
    assert reloaded.count_params() == spec.params
    assert reloaded.get_layer("n0_select").get_config()["indices"] == [6, 0, 3]
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6)


def test_keras_select_layer_validates():
    from evokit.layers.select import Select as KerasSelect

    with pytest.raises(ConfigError, match="indices"):
        KerasSelect([])
    with pytest.raises(ConfigError, match="indices"):
        KerasSelect([0, 9])(keras.Input(shape=(4,)))
    assert KerasSelect([3, 1]).compute_output_shape((None, 5)) == (None, 2)


def test_decoded_tabular_network_selects_the_group_features():
    enc = Grouping(n_items=3, max_groups=3, units=(2,))
    spec = enc.decode(GroupingGenome([0, 1, 0]), (6,), 2)
    assert {n.layer.indices for n in spec.nodes if isinstance(n.layer, Select)} == {(0, 2, 3, 5), (1, 4)}
    assert Flatten not in {type(n.layer) for n in spec.nodes} and Pool not in {type(n.layer) for n in spec.nodes}
    assert Conv1D not in {type(n.layer) for n in spec.nodes}
