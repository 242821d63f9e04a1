"""NetSpec and Graph: construction, validation errors, canonical hash, serialisation, display."""
from __future__ import annotations

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from evokit.errors import ArchitectureError
from evokit.netspec import (INPUT, Activation, Add, BatchNorm, Concat, Conv2D, Dense, Dropout, Flatten, GlobalPool,
                            Graph, NetSpec, Node, Pool)


def small_cnn(input_shape=(8, 8, 1), filters=8) -> NetSpec:
    g = Graph(input_shape)
    x = g.add(Conv2D(filters, 3), g.input)
    x = g.add(Pool("max", 2), x)
    x = g.add(Flatten(), x)
    return g.finish(g.add(Dense(10, "softmax"), x))


def branchy() -> NetSpec:
    """input -> conv a, conv b (different) -> concat -> bn -> add with conv a -> gap -> dense."""
    g = Graph((8, 8, 3))
    a = g.add(Conv2D(4, 3), g.input)
    b = g.add(Conv2D(4, 1, activation="tanh"), g.input)
    c = g.add(Concat(), a, b)
    c = g.add(BatchNorm(), c)
    c = g.add(Conv2D(4, 1), c)
    s = g.add(Add(), c, a)
    s = g.add(GlobalPool("avg"), s)
    s = g.add(Dropout(0.2), s)
    return g.finish(g.add(Dense(3, "softmax"), s))


# -- Graph ----------------------------------------------------------------------------------------

def test_graph_infers_shapes_as_it_goes():
    g = Graph((8, 8, 1))
    assert g.shape(g.input) == (8, 8, 1)
    x = g.add(Conv2D(6, 3, padding="valid"), g.input)
    assert g.shape(x) == (6, 6, 6)
    x = g.add(Pool("max", 2), x)
    assert g.shape(x) == (3, 3, 6)


def test_graph_finish_drops_dead_branches():
    g = Graph((8, 8, 1))
    x = g.add(Conv2D(4, 3), g.input)
    dead = g.add(Conv2D(16, 5), g.input)
    g.add(Pool("max", 2), dead)
    y = g.add(GlobalPool(), x)
    out = g.add(Dense(2, "softmax"), y)
    spec = g.finish(out)
    assert [n.layer.kind for n in spec.nodes] == ["conv2d", "global_pool", "dense"]
    assert [n.inputs for n in spec.nodes] == [(INPUT,), (0,), (1,)]
    assert spec.params == 3 * 3 * 1 * 4 + 4 + 4 * 2 + 2


def test_graph_finish_defaults_to_last_node_and_accepts_an_earlier_output():
    g = Graph((10,))
    a = g.add(Dense(5), g.input)
    g.add(Dense(3), a)
    assert g.finish().output_shape == (3,)
    early = g.finish(a)
    assert len(early) == 1 and early.output_shape == (5,)


def test_graph_finish_without_layers_fails():
    g = Graph((10,))
    with pytest.raises(ArchitectureError, match="output"):
        g.finish()
    g.add(Dense(2), g.input)
    with pytest.raises(ArchitectureError, match="output"):
        g.finish(g.input)


def test_graph_add_rejects_a_non_layer():
    g = Graph((10,))
    with pytest.raises(ArchitectureError, match="layer="):
        g.add("dense", g.input)  # type: ignore[arg-type]


def test_graph_add_shape_error_names_node_kind_and_shape():
    g = Graph((8, 8, 1))
    x = g.add(Conv2D(4, 3), g.input)
    with pytest.raises(ArchitectureError, match=r"node 1.*dense.*\(8, 8, 4\)"):
        g.add(Dense(3), x)


# -- NetSpec validation ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(), (0,), (8, 0, 1), (1, 2, 3, 4), "abc", (2.5,), (True,), 8, None])
def test_invalid_input_shape(shape):
    with pytest.raises(ArchitectureError, match="input_shape"):
        NetSpec(shape, [Node(Dense(1), (INPUT,))])
    with pytest.raises(ArchitectureError, match="input_shape"):
        Graph(shape)


def test_input_shape_list_is_normalised_to_tuple():
    spec = NetSpec([4, 4, 2], [Node(Flatten(), (INPUT,))])
    assert spec.input_shape == (4, 4, 2) and spec.output_shape == (32,)


def test_netspec_needs_nodes():
    with pytest.raises(ArchitectureError, match="nodes"):
        NetSpec((10,), [])


def test_netspec_error_names_node_with_forward_reference():
    nodes = [Node(Dense(4), (INPUT,)), Node(Dense(4), (0,)), Node(Dense(4), (3,)), Node(Dense(2), (2,))]
    with pytest.raises(ArchitectureError, match=r"node 2 \(dense\).*inputs=\(3,\)"):
        NetSpec((10,), nodes)


def test_netspec_error_names_node_with_self_reference():
    with pytest.raises(ArchitectureError, match="node 1"):
        NetSpec((10,), [Node(Dense(4), (INPUT,)), Node(Dense(4), (1,))])


def test_netspec_error_names_node_that_is_not_a_layer():
    with pytest.raises(ArchitectureError, match="node 1"):
        NetSpec((10,), [Node(Dense(4), (INPUT,)), Node("dense", (0,))])  # type: ignore[arg-type]


def test_shape_error_names_node_index_kind_and_shape():
    nodes = [Node(Conv2D(4, 3), (INPUT,)), Node(Pool("max", 2), (0,)), Node(Dense(3), (1,))]
    spec = NetSpec((8, 8, 1), nodes)  # constructing is cheap; validate() checks shapes
    with pytest.raises(ArchitectureError, match=r"node 2.*dense.*\(4, 4, 4\)"):
        spec.validate()


def test_arity_error_names_node():
    spec = NetSpec((10,), [Node(Dense(4), (INPUT,)), Node(Dense(4), (0,)), Node(Concat(), (1,))])
    with pytest.raises(ArchitectureError, match=r"node 2.*concat.*1 input"):
        spec.validate()


def test_validate_returns_self_and_shapes_are_per_node():
    spec = small_cnn()
    assert spec.validate() is spec
    assert spec.shapes == ((8, 8, 8), (4, 4, 8), (128,), (10,))
    assert spec.input_shapes(0) == [(8, 8, 1)]
    assert spec.input_shapes(3) == [(128,)]
    assert spec.output_shape == (10,) and len(spec) == 4


# -- params and FLOPs -----------------------------------------------------------------------------

@pytest.mark.parametrize("make", [small_cnn, branchy])
def test_params_and_flops_are_sums_of_layers(make):
    spec = make()
    params = flops = 0
    for i, node in enumerate(spec.nodes):
        params += node.layer.params(spec.input_shapes(i))
        flops += node.layer.flops(spec.input_shapes(i), spec.shapes[i])
    assert spec.params == params and spec.flops == flops
    assert spec.params > 0 and spec.flops > spec.params


def test_small_cnn_params_by_hand():
    # conv 3*3*1*8+8 = 80; dense 128*10+10 = 1290
    assert small_cnn().params == 80 + 1290


# -- canonical hash -------------------------------------------------------------------------------

def _merge_net(merge, swap: bool) -> NetSpec:
    g = Graph((8, 8, 3))
    a = g.add(Conv2D(4, 3), g.input)
    b = g.add(Conv2D(4, 5, activation="elu"), g.input)
    m = g.add(merge(), *((b, a) if swap else (a, b)))
    m = g.add(GlobalPool(), m)
    return g.finish(g.add(Dense(2, "softmax"), m))


@pytest.mark.parametrize("merge", [Add, Concat])
def test_hash_ignores_order_of_merge_inputs(merge):
    one, two = _merge_net(merge, False), _merge_net(merge, True)
    assert one.nodes[2].inputs != two.nodes[2].inputs
    assert one.hash == two.hash
    assert one == two and hash(one) == hash(two)


def test_hash_ignores_order_of_three_merge_inputs():
    def net(order):
        g = Graph((10,))
        hs = [g.add(Dense(u), g.input) for u in (3, 4, 5)]
        c = g.add(Concat(), *(hs[k] for k in order))
        return g.finish(g.add(Dense(1, "linear"), c))
    hashes = {net(o).hash for o in [(0, 1, 2), (2, 1, 0), (1, 2, 0), (1, 0, 2)]}
    assert len(hashes) == 1


def test_hash_ignores_dead_branches():
    base = [Node(Conv2D(4, 3), (INPUT,)), Node(GlobalPool(), (0,)), Node(Dense(2, "softmax"), (1,))]
    with_dead = [Node(Conv2D(4, 3), (INPUT,)),
                 Node(Conv2D(16, 5), (INPUT,)),          # dead
                 Node(Pool("max", 2), (1,)),              # dead
                 Node(GlobalPool(), (0,)),
                 Node(Dense(7), (3,)),                    # dead
                 Node(Dense(2, "softmax"), (3,))]
    a, b = NetSpec((8, 8, 1), base), NetSpec((8, 8, 1), with_dead)
    assert len(b) == 6 and b.params != a.params  # the raw spec still counts its dead nodes
    assert a.hash == b.hash
    assert len(b.canonical()) == 3 and b.canonical().params == a.params


def test_hash_ignores_topological_order():
    # conv A -> pool, conv B; concat(pool(A), B) -> gap -> dense, in two node orders
    a_conv, b_conv = Conv2D(4, 3), Conv2D(6, 1, activation="tanh")
    order1 = [Node(a_conv, (INPUT,)), Node(b_conv, (INPUT,)), Node(Pool("max", 2, strides=1), (0,)),
              Node(Pool("avg", 2, strides=1), (1,)), Node(Concat(), (2, 3)), Node(GlobalPool(), (4,)),
              Node(Dense(3, "softmax"), (5,))]
    order2 = [Node(b_conv, (INPUT,)), Node(Pool("avg", 2, strides=1), (0,)), Node(a_conv, (INPUT,)),
              Node(Pool("max", 2, strides=1), (2,)), Node(Concat(), (1, 3)), Node(GlobalPool(), (4,)),
              Node(Dense(3, "softmax"), (5,))]
    s1, s2 = NetSpec((8, 8, 1), order1).validate(), NetSpec((8, 8, 1), order2).validate()
    assert s1.hash == s2.hash
    assert s1.canonical().to_dict() == s2.canonical().to_dict()


def test_hash_differs_for_different_layer_config():
    assert small_cnn(filters=8).hash != small_cnn(filters=16).hash
    g = Graph((8, 8, 1))
    x = g.add(Conv2D(8, 3, activation="tanh"), g.input)
    x = g.add(Pool("max", 2), x)
    x = g.add(Flatten(), x)
    assert g.finish(g.add(Dense(10, "softmax"), x)).hash != small_cnn().hash


def test_hash_differs_for_different_input_shape():
    assert small_cnn((8, 8, 1)).hash != small_cnn((10, 10, 1)).hash
    assert small_cnn((8, 8, 1)).hash != small_cnn((8, 8, 3)).hash


def test_hash_differs_for_non_commutative_input_order():
    # a Dense reading a different node is a different network
    def net(source):
        g = Graph((10,))
        a = g.add(Dense(4), g.input)
        b = g.add(Dense(4), a)
        c = g.add(Concat(), a, b)
        return g.finish(g.add(Dense(2), c if source == "c" else b))
    assert net("c").hash != net("b").hash


def test_shared_node_differs_from_duplicated_nodes():
    shared = NetSpec((8, 8, 1), [Node(Conv2D(4, 3), (INPUT,)), Node(Add(), (0, 0)), Node(GlobalPool(), (1,))])
    duplicated = NetSpec((8, 8, 1), [Node(Conv2D(4, 3), (INPUT,)), Node(Conv2D(4, 3), (INPUT,)),
                                     Node(Add(), (0, 1)), Node(GlobalPool(), (2,))])
    assert shared.output_shape == duplicated.output_shape
    assert shared.hash != duplicated.hash
    assert shared != duplicated
    assert duplicated.params == 2 * shared.params


def test_hash_is_a_stable_string():
    spec = branchy()
    assert isinstance(spec.hash, str) and len(spec.hash) == 20
    assert spec.hash == branchy().hash
    assert spec.hash == NetSpec.from_dict(json.loads(json.dumps(spec.to_dict()))).hash


def test_canonical_is_a_valid_equivalent_spec():
    spec = branchy()
    canon = spec.canonical()
    assert canon.validate().output_shape == spec.output_shape
    assert canon.params == spec.params and canon.flops == spec.flops
    assert canon.hash == spec.hash
    assert canon.canonical().to_dict() == canon.to_dict()


# -- serialisation and display --------------------------------------------------------------------

@pytest.mark.parametrize("make", [small_cnn, branchy])
def test_to_dict_from_dict_round_trip(make):
    spec = make()
    data = json.loads(json.dumps(spec.to_dict()))
    again = NetSpec.from_dict(data)
    assert again.hash == spec.hash
    assert again.params == spec.params and again.flops == spec.flops
    assert again.shapes == spec.shapes
    assert [n.layer for n in again.nodes] == [n.layer for n in spec.nodes]
    assert [n.inputs for n in again.nodes] == [n.inputs for n in spec.nodes]


def test_to_dict_round_trip_keeps_tuple_configs():
    g = Graph((12, 12, 2))
    x = g.add(Conv2D(4, (3, 5), strides=(1, 2), padding="valid"), g.input)
    x = g.add(Pool("avg", (2, 3), strides=(2, 1)), x)
    spec = g.finish(g.add(Flatten(), x))
    again = NetSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again.nodes[0].layer == spec.nodes[0].layer and again.nodes[1].layer == spec.nodes[1].layer
    assert again.shapes == spec.shapes


def test_summary_and_describe_mention_every_layer():
    spec = branchy()
    summary, line = spec.summary(), spec.describe()
    for node in spec.nodes:
        assert node.layer.describe() in summary
        assert node.layer.describe() in line
    assert f"{spec.params:,}" in summary and f"{spec.flops:,}" in summary
    assert str(spec.input_shape) in summary
    assert line.count(" > ") == len(spec) - 1
    assert len(summary.splitlines()) == len(spec) + 2
    assert "params=" in repr(spec)


def test_rows():
    rows = small_cnn().rows()
    assert [r["index"] for r in rows] == [0, 1, 2, 3]
    assert rows[0]["inputs"] == ["input"] and rows[1]["inputs"] == [0]
    assert rows[0]["params"] == 80 and rows[3]["params"] == 1290
    assert rows[2]["output_shape"] == (128,)


def test_activation_layer_in_a_spec():
    g = Graph((10,))
    x = g.add(Dense(4, "linear"), g.input)
    spec = g.finish(g.add(Activation("tanh"), x))
    assert spec.flops == 2 * 10 * 4 + 4 * 2 + 4


# -- canonical hash on random DAGs ----------------------------------------------------------------

LAYER_CHOICES = [Dense(u, a) for u in (2, 3, 4, 5) for a in ("relu", "tanh")] + [Activation("elu")]


def _random_dag(data) -> list[Node]:
    n = data.draw(st.integers(1, 9), label="n")
    nodes: list[Node] = []
    for i in range(n):
        sources = st.integers(INPUT, i - 1)
        if i >= 1 and data.draw(st.booleans(), label=f"merge{i}"):
            ins = data.draw(st.lists(sources, min_size=2, max_size=3), label=f"ins{i}")
            nodes.append(Node(Concat(), tuple(ins)))
        else:
            layer = data.draw(st.sampled_from(LAYER_CHOICES), label=f"layer{i}")
            nodes.append(Node(layer, (data.draw(sources, label=f"src{i}"),)))
    return nodes


def _reorder(nodes: list[Node], data) -> list[Node]:
    """The same DAG in another random topological order, with commutative inputs shuffled."""
    remaining, order = set(range(len(nodes))), []
    while remaining:
        ready = sorted(i for i in remaining if all(j == INPUT or j in order for j in nodes[i].inputs))
        # keep the output last so it stays the output
        choices = [i for i in ready if i != len(nodes) - 1] or ready
        pick = data.draw(st.sampled_from(choices), label="pick")
        order.append(pick)
        remaining.remove(pick)
    new = {old: k for k, old in enumerate(order)} | {INPUT: INPUT}
    out = []
    for old in order:
        node = nodes[old]
        ins = [new[j] for j in node.inputs]
        if node.layer.commutative:
            ins = data.draw(st.permutations(ins), label="perm")
        out.append(Node(node.layer, tuple(ins)))
    return out


def _signatures(nodes: list[Node]) -> list[str]:
    """A structural description of every node (merge inputs unordered), computed independently."""
    sigs: list[str] = []
    for node in nodes:
        ins = ["input" if j == INPUT else sigs[j] for j in node.inputs]
        if node.layer.commutative:
            ins.sort()
        sigs.append(f"{node.layer!r}({', '.join(ins)})")
    return sigs


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_hash_is_invariant_under_topological_reordering(data):
    nodes = _random_dag(data)
    # distinct nodes that compute the same thing are covered by the explicit test below
    sigs = _signatures(nodes)
    assume(len(set(sigs)) == len(sigs))
    spec = NetSpec((5,), nodes).validate()
    other = NetSpec((5,), _reorder(nodes, data)).validate()
    assert other.output_shape == spec.output_shape
    assert other.hash == spec.hash
    assert other.canonical().params == spec.canonical().params
    assert NetSpec.from_dict(json.loads(json.dumps(other.to_dict()))).hash == spec.hash


A = Dense(3)
IDENTICAL_NODE_CASES = {
    # merge(A1, A1, A2) vs merge(A2, A2, A1): the same network with A1 and A2 renamed
    "add-shared-twice": ([Node(A, (INPUT,)), Node(A, (INPUT,)), Node(Add(), (0, 0, 1))],
                         [Node(A, (INPUT,)), Node(A, (INPUT,)), Node(Add(), (1, 1, 0))]),
    "concat-shared-twice": ([Node(A, (INPUT,)), Node(A, (INPUT,)), Node(Concat(), (0, 0, 1))],
                            [Node(A, (INPUT,)), Node(A, (INPUT,)), Node(Concat(), (1, 1, 0))]),
    # concat(A1, concat(A1, A2)) vs concat(A2, concat(A2, A1))
    "concat-nested": ([Node(A, (INPUT,)), Node(A, (INPUT,)), Node(Concat(), (0, 1)), Node(Concat(), (0, 2))],
                      [Node(A, (INPUT,)), Node(A, (INPUT,)), Node(Concat(), (1, 0)), Node(Concat(), (1, 2))]),
}


@pytest.mark.parametrize("case", sorted(IDENTICAL_NODE_CASES))
def test_hash_of_merges_over_identical_nodes_ignores_their_order(case):
    # Distinct nodes with equal Merkle keys tie when a merge's inputs are sorted; the tie is broken
    # by the original node index, so renaming A1 <-> A2 changes the canonical form and the hash.
    one, two = (NetSpec((5,), nodes).validate() for nodes in IDENTICAL_NODE_CASES[case])
    assert one.params == two.params and one.output_shape == two.output_shape
    assert one.hash == two.hash


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_hash_changes_when_the_output_layer_changes(data):
    nodes = _random_dag(data)
    a = NetSpec((5,), nodes + [Node(Dense(2), (len(nodes) - 1,))])
    b = NetSpec((5,), nodes + [Node(Dense(2, "tanh"), (len(nodes) - 1,))])
    assert a.hash != b.hash


# -- Graph handles ----------------------------------------------------------------------------------

@pytest.mark.parametrize("handle", [-2, 3, 17])
def test_graph_add_rejects_unknown_handles(handle):
    # Handles are INPUT or an existing node. A negative handle used to index the node list from
    # the end (silently wiring the layer to the wrong node) and a too-large one gave an IndexError.
    g = Graph((10,))
    a = g.add(Dense(4), g.input)
    b = g.add(Dense(5), a)
    g.add(Dense(6), b)
    with pytest.raises(ArchitectureError) as info:
        g.add(Dense(3), handle)
    assert str(handle) in str(info.value)
