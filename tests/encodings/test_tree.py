"""The GP-tree encoding: hand-written trees decode as expected, repair, bloat limit, pickling in a
spawned process, seeding, validation, distance and JSON."""
from __future__ import annotations

import copy
import json
import multiprocessing
import pickle
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evokit.encodings.tree import Net, Tree, TreeGenome, gen_full, mutTree, primitive_set
from evokit.errors import ConfigError, GenotypeError
from evokit.individual import attach_fitness
from evokit.netspec import INPUT, Add, Concat, Conv1D, Dense, Flatten, Pool
from evokit.deap_toolbox import genotype_toolbox

SHAPES = {"image": (8, 8, 1), "sequence": (20, 2), "tabular": (30,)}


@pytest.fixture
def enc():
    return Tree()


def layers(spec, kind=None):
    return [n.layer for n in spec.nodes if kind is None or isinstance(n.layer, kind)]


# -- hand-written trees ----------------------------------------------------------------------------

def test_residual_add_with_projection(enc):
    spec = enc.decode(enc.from_string("res(conv(inp, f8, k3), inp)"), (8, 8, 1), 10)
    assert spec.describe() == ("conv2d(8, 3x3, relu) > conv2d(8, 1x1, linear) > add() > flatten() > "
                               "dense(10, softmax)")
    conv, projection, add = spec.nodes[:3]
    assert conv.inputs == (INPUT,) and projection.inputs == (INPUT,)   # both branches read the input
    assert sorted(add.inputs) == [0, 1]
    assert spec.shapes[2] == (8, 8, 8)
    assert spec.params == (9 * 8 + 8) + (8 + 8) + (512 * 10 + 10)


def test_concat_of_two_branches(enc):
    spec = enc.decode(enc.from_string("cat(conv(inp, f8, k3), conv(inp, f4, k5))"), (8, 8, 1), 3)
    [concat] = [i for i, n in enumerate(spec.nodes) if isinstance(n.layer, Concat)]
    assert spec.shapes[concat] == (8, 8, 12)
    assert all(spec.nodes[i].inputs == (INPUT,) for i in spec.nodes[concat].inputs)


def test_seq_pool_dense(enc):
    spec = enc.decode(enc.from_string("dense(pool(seq(conv(inp, f4, k3), conv(inp, f8, k5))), u16)"), (8, 8, 1), 10)
    assert spec.describe() == ("conv2d(4, 3x3, relu) > conv2d(8, 5x5, relu) > maxpool(2) > flatten() > "
                               "dense(16, relu) > dense(10, softmax)")
    assert spec.shapes[2] == (4, 4, 8)


def test_sequences_get_conv1d_and_flat_inputs_skip_convs(enc):
    tree = enc.from_string("pool(conv(inp, f8, k3))")
    assert layers(enc.decode(tree, (20, 2), 2), Conv1D) == [Conv1D(8, 3)]
    flat = enc.decode(tree, (30,), 2)
    assert flat.describe() == "dense(2, softmax)"    # no conv, the pooling doesn't fit a flat input


def test_conv_after_dense_is_skipped(enc):
    spec = enc.decode(enc.from_string("conv(dense(inp, u16), f8, k3)"), (8, 8, 1), 10)
    assert spec.describe() == "flatten() > dense(16, relu) > dense(10, softmax)"


def test_too_many_pools_are_dropped(enc):
    spec = enc.decode(enc.from_string("pool(pool(pool(pool(pool(inp)))))"), (8, 8, 1), 10)
    assert len(layers(spec, Pool)) == 3 and spec.shapes[2] == (1, 1, 1)


def test_residual_of_different_shapes_is_reconciled(enc):
    spec = enc.decode(enc.from_string("res(pool(conv(inp, f8, k3)), conv(inp, f16, k3))"), (8, 8, 1), 10)
    [add] = [i for i, n in enumerate(spec.nodes) if isinstance(n.layer, Add)]
    assert spec.shapes[add] == (4, 4, 16)
    assert all(spec.shapes[i] == (4, 4, 16) for i in spec.nodes[add].inputs)


def test_residual_of_flat_and_spatial_branches(enc):
    spec = enc.decode(enc.from_string("res(dense(inp, u16), conv(inp, f4, k3))"), (8, 8, 1), 10)
    [add] = [i for i, n in enumerate(spec.nodes) if isinstance(n.layer, Add)]
    assert spec.shapes[add] == (256,)
    assert Flatten() in layers(spec)


def test_merging_a_branch_with_itself_passes_through(enc):
    for text in ("res(inp, inp)", "cat(seq(inp, inp), inp)"):
        assert enc.decode(enc.from_string(text), (8, 8, 1), 10).describe() == "flatten() > dense(10, softmax)"


def test_regression_head(enc):
    spec = enc.decode(enc.from_string("dense(inp, u32)"), (30,), 2, task="regression")
    assert spec.nodes[-1].layer == Dense(2, activation="linear")


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), shape=st.sampled_from([(8, 8, 1), (1, 1, 1), (3, 5, 2), (5, 1), (2, 3), (4,)]))
def test_random_and_varied_trees_always_decode(seed, shape):
    enc = Tree(max_depth=5, max_height=10)
    tb = genotype_toolbox(enc, (1.0,))
    random.seed(seed)
    a, b = enc.random(random.Random(seed)), enc.random(random.Random(seed + 1))
    a, b = (attach_fitness(t, (1.0,)) for t in (a, b))
    a, b = tb.mate(a, b)
    (m,) = tb.mutate(copy.deepcopy(a))
    for tree in (a, b, m):
        spec = enc.decode(tree, shape, 3).validate()
        assert spec.output_shape == (3,) and all(side >= 1 for s in spec.shapes for side in s)


# -- variation and bloat -----------------------------------------------------------------------------

def test_bloat_limit_holds_over_many_rounds():
    enc = Tree(max_depth=4, max_height=6)
    tb = genotype_toolbox(enc, (1.0,))
    random.seed(0)
    pop = tb.population(n=20)
    for _ in range(40):
        random.shuffle(pop)
        for i in range(0, len(pop) - 1, 2):
            children = tb.mate(pop[i], pop[i + 1])
            assert isinstance(children, tuple) and children[0] is not children[1]
            pop[i], pop[i + 1] = children
        pop = [tb.mutate(ind)[0] for ind in pop]
        assert all(ind.height <= enc.max_height for ind in pop)
        assert len({id(ind) for ind in pop}) == len(pop)
        for ind in pop:
            enc.check(ind)
            assert hasattr(ind, "fitness")
    assert max(ind.height for ind in pop) > enc.max_depth   # variation did grow trees, up to the limit


def test_toolbox_with_tree_operators_pickles():
    enc = Tree(max_height=5)
    tb = pickle.loads(pickle.dumps(genotype_toolbox(enc, (1.0,))))
    random.seed(4)
    a, b = tb.mate(tb.individual(), tb.individual())
    (m,) = tb.mutate(a)
    for tree in (a, b, m):
        enc.check(tree)
        assert tree.height <= 5


def test_mutation_kinds():
    enc = Tree()
    pset = enc.pset
    expr = lambda pset, type_: gen_full(pset, 0, 2, type_)  # noqa: E731
    random.seed(3)
    shapes_kept = 0
    for _ in range(50):
        tree = enc.random(random.Random(random.randrange(10**6)))
        before = [node.arity for node in tree]
        (after,) = mutTree(copy.deepcopy(tree), expr, pset, node_replacement=1.0)
        enc.check(after)
        shapes_kept += [node.arity for node in after] == before
    assert shapes_kept == 50    # node replacement keeps the tree's shape
    changed = 0
    for _ in range(50):
        tree = enc.random(random.Random(random.randrange(10**6)))
        (after,) = mutTree(copy.deepcopy(tree), expr, pset, node_replacement=0.0)
        enc.check(after)
        changed += after != tree
    assert changed > 10


# -- seeding, pickling -----------------------------------------------------------------------------

def test_same_seed_same_tree_and_only_the_rng_is_used():
    random.seed(0)
    a = Tree().random(random.Random(42))
    state = random.getstate()
    random.seed(12345)
    b = Tree().random(random.Random(42))
    assert a == b and isinstance(a, TreeGenome)
    random.seed(0)
    Tree().random(random.Random(42))
    assert random.getstate() == state      # the global generator is not touched
    trees = {str(Tree().random(random.Random(s))) for s in range(30)}
    assert len(trees) >= 20


def _decode_in_child(payload):
    genotype = pickle.loads(payload)
    spec = Tree().decode(genotype, (8, 8, 1), 10)
    return pickle.dumps(genotype), spec.hash, genotype.fitness.values


def test_genotype_pickles_in_a_spawned_process():
    enc = Tree()
    tree = attach_fitness(enc.random(random.Random(7)), (1.0, -1.0))
    tree.fitness.values = (0.25, 12.0)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        back, spec_hash, values = pool.apply(_decode_in_child, (pickle.dumps(tree),))
    back = pickle.loads(back)
    assert back == tree and type(back) is TreeGenome
    assert values == back.fitness.values == (0.25, 12.0)
    assert spec_hash == enc.decode(tree, (8, 8, 1), 10).hash


def test_encoding_pickles_and_params_round_trip():
    enc = Tree(max_depth=3, filters=(8, 16))
    again = pickle.loads(pickle.dumps(enc))
    assert again.get_params() == enc.get_params() and again.pset is enc.pset
    assert Tree(**enc.get_params()).get_params() == enc.get_params()
    assert "filters=(8, 16)" in repr(enc)


def test_fitness_is_not_part_of_equality(enc):
    a = enc.from_string("conv(inp, f8, k3)")
    b = enc.from_string("conv(inp, f8, k3)")
    a.fitness, b.fitness = "one", "two"
    assert a == b and a != enc.from_string("conv(inp, f16, k3)")
    assert copy.deepcopy(a) == a and copy.deepcopy(a).fitness == "one"


# -- validation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field", [
    ({"min_depth": -1}, "min_depth"),
    ({"max_depth": 0}, "max_depth"),
    ({"min_depth": 3, "max_depth": 2}, "max_depth"),
    ({"max_depth": 4, "max_height": 3}, "max_height"),
    ({"max_height": 500}, "max_height"),
    ({"max_height": 4.0}, "max_height"),
    ({"filters": ()}, "filters"),
    ({"filters": (8, 0)}, "filters"),
    ({"filters": (8, 8)}, "filters"),
    ({"kernel_sizes": ("3",)}, "kernel_sizes"),
    ({"kernel_sizes": (True,)}, "kernel_sizes"),
    ({"units": 16}, "units"),
])
def test_constructor_validation_names_the_argument(kwargs, field):
    with pytest.raises(ConfigError, match=rf"\b{field}="):
        Tree(**kwargs)


def test_validator_rejects_foreign_and_malformed_trees(enc):
    m = enc.pset.mapping
    bad = [
        [1, 2, 3],
        "conv(inp, f8, k3)",
        TreeGenome([m["conv"], m["inp"], m["k3"], m["f8"]]),        # arguments of the wrong types
        TreeGenome([m["conv"], m["inp"], m["f8"]]),                 # incomplete
        TreeGenome([m["pool"], m["inp"], m["inp"]]),                # a node past the end
        TreeGenome([m["f8"]]),                                      # not a network
        Tree(filters=(64,)).from_string("conv(inp, f64, k3)"),      # another encoding's terminal
    ]
    for genotype in bad:
        with pytest.raises(GenotypeError, match="genotype"):
            enc.decode(genotype, (8, 8, 1), 2)


@pytest.mark.parametrize("text", ["conv(inp, f8)", "conv(inp, f7, k3)", "__import__('os')", "pool(inp) inp",
                                  "pool inp", "", "seq(inp, inp", 3])
def test_from_string_rejects_what_is_not_a_tree(enc, text):
    with pytest.raises(GenotypeError, match="genotype"):
        enc.from_string(text)


def test_primitive_sets_are_shared_and_typed():
    assert primitive_set((4, 8), (3,), (16,)) is Tree(filters=(4, 8), kernel_sizes=(3,), units=(16,)).pset
    pset = Tree().pset
    assert pset.ret is Net and {p.name for p in pset.primitives[Net]} == {"conv", "pool", "dense", "seq", "res",
                                                                          "cat"}


# -- distance, JSON, display ---------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_distance_properties(s1, s2):
    enc = Tree()
    a, b = enc.random(random.Random(s1)), enc.random(random.Random(s2))
    assert enc.distance(a, a) == 0.0 == enc.distance(a, copy.deepcopy(a))
    assert enc.distance(a, b) == enc.distance(b, a)
    assert (enc.distance(a, b) > 0) == (a != b)


def test_distance_values(enc):
    a = enc.from_string("seq(conv(inp, f8, k3), pool(inp))")
    b = enc.from_string("seq(conv(inp, f16, k3), pool(inp))")
    # f8 / f16, conv(...f8...) / conv(...f16...), and the roots differ: three subtrees each side
    assert enc.distance(a, b) == 6.0
    assert enc.distance(a, enc.from_string("cat(conv(inp, f8, k3), pool(inp))")) == 2.0


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10**6))
def test_json_round_trip(seed):
    enc = Tree(max_depth=5)
    tree = enc.random(random.Random(seed))
    again = enc.from_json(json.loads(json.dumps(enc.to_json(tree))))
    assert again == tree
    assert enc.decode(again, (8, 8, 1), 3).hash == enc.decode(tree, (8, 8, 1), 3).hash


def test_describe_and_repr(enc):
    tree = enc.from_string("res(conv(inp, f8, k3), inp)")
    assert enc.describe(tree) == "res(conv(inp, f8, k3), inp)"
    assert repr(tree) == "TreeGenome('res(conv(inp, f8, k3), inp)')"


_CROSSOVER_IN_A_FRESH_PROCESS = """
import random, sys
from evokit.encodings.tree import Tree, cxOnePointTyped
enc = Tree()
out = []
for seed in range(20):
    random.seed(seed)
    a, b = enc.random(random.Random(2 * seed)), enc.random(random.Random(2 * seed + 1))
    out.append(tuple(str(t) for t in cxOnePointTyped(a, b)))
print(repr(out))
"""


def test_crossover_is_the_same_in_every_process():
    """DEAP's cxOnePoint draws the subtree type from a set of classes (ordered by memory address),
    so the same seed gave other children in another process; cxOnePointTyped does not."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    outputs = set()
    for hash_seed in ("0", "1", None):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
        env["PYTHONPATH"] = str(Path(__file__).parents[2])
        if hash_seed is not None:
            env["PYTHONHASHSEED"] = hash_seed
            env["EVOKIT_PADDING"] = "x" * 5000 * int(hash_seed)  # shifts the process's memory layout
        proc = subprocess.run([sys.executable, "-c", _CROSSOVER_IN_A_FRESH_PROCESS], env=env, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        outputs.add(proc.stdout)
    assert len(outputs) == 1
