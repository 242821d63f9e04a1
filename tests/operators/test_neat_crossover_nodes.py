"""Crossover of parents of unequal fitness takes its nodes from the fitter parent's in one pass
(``_inherit_nodes``): the same nodes, copied from the same parents with the same random draws,
as the general rule (``_child_nodes``: both parents' inputs and outputs and every connection's
nodes)."""
import random
from itertools import chain

import evokit as ek
from evokit.deap_toolbox import genotype_toolbox
from evokit.operators.neat import _child_nodes, _inherit, _inherit_nodes, mutNEAT
from evokit.operators.neat_genome import gene_state


def _genes(nodes):
    return [(k, type(n), gene_state(n)) for k, n in nodes.items()]


def _used(connections):
    """The ids of both nodes of every connection (what ``_child`` passes ``_inherit_nodes``)."""
    return set(chain.from_iterable(connections))


def _parents(seed):
    tb = genotype_toolbox(ek.encodings.NEAT(n_inputs=3, n_outputs=2), (1.0,))
    rng = random.Random(seed)
    a, b = tb.population(n=2)
    for genome, steps in ((a, 8), (b, 5)):
        for _ in range(steps):
            mutNEAT(genome, add_node_rate=0.6, add_connection_rate=0.5, rng=rng)
    return a, b


def test_the_fitter_parents_nodes_are_the_general_rules():
    for seed in range(8):
        a, b = _parents(seed)
        for own_first in (True, False):
            own, other = (a, b) if own_first else (b, a)
            connections = _inherit(own.connections, other.connections, own_first, 0.75, random.Random(seed).random)
            fast, slow = random.Random(seed), random.Random(seed)
            got = _inherit_nodes(own.nodes, other.nodes, _used(connections), own_first, fast.random)
            expected = _child_nodes(a.nodes, b.nodes, connections, slow.random)
            assert _genes(got) == _genes(expected)
            assert fast.random() == slow.random()  # the same number of draws
            assert all(got[k] is not n for k, n in {**a.nodes, **b.nodes}.items() if k in got)  # copies


def test_unconnected_hidden_nodes_of_the_fitter_parent_are_left_out():
    a, b = _parents(3)
    hidden = [k for k, n in a.nodes.items() if n.kind == "hidden"]
    assert hidden
    connections = {k: c for k, c in a.connections.items() if hidden[0] not in k}
    got = _inherit_nodes(a.nodes, b.nodes, _used(connections), True, random.Random(0).random)
    assert hidden[0] not in got
    assert got.keys() == _child_nodes(a.nodes, b.nodes, connections, random.Random(0).random).keys()
