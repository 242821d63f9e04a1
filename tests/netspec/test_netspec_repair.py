"""Repair rules: oversized pools are dropped, merges reconcile shapes, repair() fixes whole specs."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evokit.encodings import DeepGA
from evokit.errors import ArchitectureError
from evokit.netspec import (INPUT, Add, Concat, Conv1D, Conv2D, Dense, Flatten, GlobalPool, Graph, NetSpec, Node, Pool,
                            add_pool, merge, reduce_to, repair)


def kinds(spec: NetSpec) -> list[str]:
    return [n.layer.kind for n in spec.nodes]


# -- add_pool -------------------------------------------------------------------------------------

def test_add_pool_adds_a_pool_that_fits():
    g = Graph((8, 8, 1))
    y = add_pool(g, Pool("max", 2), g.input)
    assert y != g.input and g.shape(y) == (4, 4, 1)


def test_add_pool_drops_a_pool_that_does_not_fit():
    g = Graph((8, 8, 1))
    x = g.add(Pool("max", 3), g.input)           # (2, 2, 1)
    assert add_pool(g, Pool("max", 3), x) == x   # would give 0: dropped
    assert add_pool(g, Pool("avg", 2), x) != x   # exactly fits: (1, 1, 1)


def test_add_pool_on_sequence_and_uneven_sides():
    g = Graph((3, 1))
    assert add_pool(g, Pool("max", 4), g.input) == g.input
    g = Graph((9, 2, 4))
    assert add_pool(g, Pool("max", 3), g.input) == g.input   # the width 2 is too small


# -- reduce_to ------------------------------------------------------------------------------------

@settings(max_examples=100, deadline=None)
@given(st.data())
def test_reduce_to_gives_exact_sides_2d(data):
    h = data.draw(st.integers(1, 64))
    w = data.draw(st.integers(1, 64))
    th = data.draw(st.integers(1, h))
    tw = data.draw(st.integers(1, w))
    pool = data.draw(st.sampled_from(["max", "avg"]))
    g = Graph((h, w, 3))
    y = reduce_to(g, g.input, (th, tw), pool)
    assert g.shape(y) == (th, tw, 3)
    spec = g.finish(y) if y != g.input else None
    if spec is not None:
        assert spec.validate().output_shape == (th, tw, 3)
        assert len(spec) == 1 and spec.nodes[0].layer.pool == pool   # one pooling layer
    else:
        assert (h, w) == (th, tw)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_reduce_to_gives_exact_sides_1d(data):
    side = data.draw(st.integers(1, 64))
    target = data.draw(st.integers(1, side))
    g = Graph((side, 2))
    y = reduce_to(g, g.input, (target,))
    assert g.shape(y) == (target, 2)
    assert (y == g.input) == (side == target)


def test_reduce_to_same_sides_adds_nothing():
    g = Graph((5, 5, 2))
    assert reduce_to(g, g.input, (5, 5)) == g.input


# -- merge ----------------------------------------------------------------------------------------

def test_merge_single_input_passes_through():
    g = Graph((4, 4, 2))
    x = g.add(Conv2D(3), g.input)
    assert merge(g, Concat(), [x]) == x
    twice = merge(g, Concat(), [x, x])       # the same input twice is a valid concat: kept as asked
    assert twice != x and g.shape(twice) == (4, 4, 6)


def test_merge_concat_same_sizes_adds_only_the_concat():
    g = Graph((8, 8, 1))
    a, b = g.add(Conv2D(3), g.input), g.add(Conv2D(5), g.input)
    m = merge(g, Concat(), [a, b])
    assert g.shape(m) == (8, 8, 8)
    assert kinds(g.finish(m)) == ["conv2d", "conv2d", "concat"]


def test_merge_concat_pools_down_to_the_smallest():
    g = Graph((12, 12, 1))
    a = g.add(Conv2D(3), g.input)                        # 12x12x3
    b = g.add(Pool("max", 2), g.add(Conv2D(5), g.input))  # 6x6x5
    c = g.add(Pool("max", 3), g.add(Conv2D(2), g.input))  # 4x4x2
    m = merge(g, Concat(), [a, b, c])
    assert g.shape(m) == (4, 4, 10)
    spec = g.finish(m).validate()
    assert kinds(spec).count("pool") == 4   # two from the graph, two added to reconcile a and b
    concat = spec.nodes[-1]
    assert [spec.shapes[j] for j in concat.inputs] == [(4, 4, 3), (4, 4, 5), (4, 4, 2)]


def test_merge_concat_non_square_picks_smallest_per_axis():
    g = Graph((8, 8, 1))
    a = g.add(Pool("max", (1, 2)), g.input)   # 8x4
    b = g.add(Pool("max", (2, 1)), g.input)   # 4x8
    m = merge(g, Concat(), [a, b])
    assert g.shape(m) == (4, 4, 2)


def test_merge_concat_sequences():
    g = Graph((40, 1))
    a = g.add(Conv1D(3, 3), g.input)
    b = g.add(Pool("max", 3), g.add(Conv1D(4, 3), g.input))   # (13, 4)
    m = merge(g, Concat(), [a, b])
    assert g.shape(m) == (13, 7)


def test_merge_add_projects_narrower_inputs_with_1x1_convs():
    g = Graph((8, 8, 1))
    a = g.add(Conv2D(4), g.input)
    b = g.add(Conv2D(16), g.input)
    m = merge(g, Add(), [a, b])
    assert g.shape(m) == (8, 8, 16)
    spec = g.finish(m).validate()
    proj = [n.layer for n in spec.nodes if isinstance(n.layer, Conv2D) and n.layer.kernel == (1, 1)]
    assert len(proj) == 1
    assert proj[0].filters == 16 and proj[0].activation == "linear"
    assert spec.nodes[-1].layer.kind == "add"


def test_merge_add_different_sizes_and_widths():
    g = Graph((9, 9, 2))
    a = g.add(Conv2D(4), g.input)                         # 9x9x4
    b = g.add(Pool("avg", 2), g.add(Conv2D(8), g.input))  # 4x4x8
    m = merge(g, Add(), [a, b])
    assert g.shape(m) == (4, 4, 8)
    g.finish(m).validate()


def test_merge_add_on_sequences_and_flat_inputs_projects():
    g = Graph((20, 2))
    a, b = g.add(Conv1D(3), g.input), g.add(Conv1D(6), g.input)
    m = merge(g, Add(), [a, b])
    assert g.shape(m) == (20, 6)
    assert any(isinstance(n.layer, Conv1D) and n.layer.kernel == (1,) for n in g.finish(m).nodes)

    g = Graph((10,))
    a, b = g.add(Dense(3), g.input), g.add(Dense(7), g.input)
    m = merge(g, Add(), [a, b])
    assert g.shape(m) == (7,)
    assert kinds(g.finish(m)) == ["dense", "dense", "dense", "add"]


def test_merge_add_keeps_same_node_twice():
    g = Graph((4, 4, 2))
    x = g.add(Conv2D(3), g.input)
    m = merge(g, Add(), [x, x])
    assert g.finish(m).nodes[-1].inputs == (0, 0)


def test_merge_of_flat_and_spatial_flattens():
    g = Graph((4, 4, 2))
    flat = g.add(Dense(10), g.add(Flatten(), g.input))
    spatial = g.add(Conv2D(3), g.input)                    # 4x4x3 -> 48
    m = merge(g, Concat(), [flat, spatial])
    assert g.shape(m) == (58,)
    spec = g.finish(m).validate()
    assert kinds(spec).count("flatten") == 2


def test_merge_of_flat_and_spatial_add_flattens_then_projects():
    g = Graph((4, 4, 2))
    flat = g.add(Dense(10), g.add(GlobalPool(), g.input))
    spatial = g.add(Conv2D(3), g.input)   # 48 features after flatten
    m = merge(g, Add(), [flat, spatial])
    assert g.shape(m) == (48,)
    g.finish(m).validate()


# -- repair(spec) ---------------------------------------------------------------------------------

def broken_spec() -> NetSpec:
    nodes = [Node(Conv2D(8, 3), (INPUT,)),        # 0: 8x8x8
             Node(Pool("max", 2), (0,)),           # 1: 4x4x8
             Node(Pool("max", 5), (1,)),           # 2: oversized for 4x4
             Node(Conv2D(4, 3), (INPUT,)),         # 3: 8x8x4
             Node(Concat(), (2, 3)),               # 4: 4x4 vs 8x8
             Node(Conv2D(6, 1), (4,)),             # 5
             Node(Add(), (5, 1)),                  # 6: 6 vs 8 channels
             Node(Dense(10, "softmax"), (6,))]     # 7: dense on a spatial input
    return NetSpec((8, 8, 1), nodes)


def test_broken_spec_is_really_broken():
    with pytest.raises(ArchitectureError, match="node 2"):
        broken_spec().validate()


def test_repair_returns_a_valid_spec():
    fixed = repair(broken_spec())
    fixed.validate()
    assert fixed.output_shape == (10,)
    assert fixed.nodes[-1].layer == Dense(10, "softmax")
    assert all(not (isinstance(n.layer, Pool) and n.layer.size == 5) for n in fixed.nodes)
    ks = kinds(fixed)
    assert "concat" in ks and "add" in ks and "flatten" in ks
    concat = next(i for i, n in enumerate(fixed.nodes) if n.layer.kind == "concat")
    assert fixed.shapes[concat] == (4, 4, 12)
    add = next(i for i, n in enumerate(fixed.nodes) if n.layer.kind == "add")
    assert fixed.shapes[add] == (4, 4, 8)


def test_repair_leaves_a_valid_spec_unchanged():
    g = Graph((8, 8, 1))
    a = g.add(Conv2D(4), g.input)
    b = g.add(Conv2D(4, 5), g.input)
    c = g.add(Concat(), a, b)
    p = g.add(Pool("max", 2), c)
    spec = g.finish(g.add(Dense(3), g.add(Flatten(), p)))
    assert repair(spec).hash == spec.hash
    assert repair(spec).to_dict() == spec.to_dict()


def test_repair_raises_for_what_it_cannot_fix():
    spec = NetSpec((10,), [Node(Conv2D(4), (INPUT,))])
    with pytest.raises(ArchitectureError, match="conv2d"):
        repair(spec)


def test_repair_keeps_a_valid_concat_of_the_same_node_twice():
    # concat(x, x) is a valid layer (twice the channels); repair() must not change valid networks,
    # but merge() drops the duplicate input, so the Dense after it loses half of its inputs.
    spec = NetSpec((10,), [Node(Dense(4), (INPUT,)), Node(Concat(), (0, 0)), Node(Dense(2), (1,))]).validate()
    fixed = repair(spec)
    assert fixed.shapes == spec.shapes
    assert fixed.params == spec.params
    assert fixed.hash == spec.hash


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_repair_is_the_identity_on_decoded_deepga_specs(seed):
    enc = DeepGA(max_conv_blocks=5, skip_probability=0.5, pool_sizes=(2, 3, 4))
    spec = enc.decode(enc.random(random.Random(seed)), (8, 8, 1), 4)
    assert repair(spec).to_dict() == spec.to_dict()
