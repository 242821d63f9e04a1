"""NEAT operators: DEAP's contract, add-node (function preserving), add-connection (never a cycle),
weight mutation, crossover aligned by innovation numbers, and use from a DEAP toolbox."""
from __future__ import annotations

import copy
import random

import numpy as np
import pytest
from deap import algorithms, base, tools
from hypothesis import given, settings
from hypothesis import strategies as st

from evokit.encodings.graph import NEAT, forward
from evokit.individual import attach_fitness
from evokit.operators.neat import (addable_connections, cxNEAT, fitter, mutAddConnection, mutAddNode, mutNEAT,
                                   mutWeights, register)
from evokit.operators.neat_genome import TRACKER, ConnectionGene, NEATGenome, check_genome, find_cycle_edge

seeds = st.integers(0, 2**32 - 1)
encodings = st.sampled_from([NEAT(n_inputs=1, n_outputs=1), NEAT(n_inputs=3, n_outputs=2),
                             NEAT(n_inputs=4, n_outputs=3, initial_connection="sparse"),
                             NEAT(n_inputs=2, n_outputs=1, initial_connection="sparse")])


def grow(enc: NEAT, seed: int, steps: int) -> NEATGenome:
    """A random genome after ``steps`` random structural mutations."""
    rng = random.Random(seed)
    g = enc.random(rng)
    for _ in range(steps):
        if rng.random() < 0.5:
            mutAddNode(g, TRACKER, rng.choice(["tanh", "relu", "linear"]), rng=rng)
        else:
            mutAddConnection(g, TRACKER, rng=rng)
    return g


def with_fitness(g: NEATGenome, value: float | None) -> NEATGenome:
    attach_fitness(g, (1.0,))
    if value is not None:
        g.fitness.values = (value,)
    return g


# -- add node -----------------------------------------------------------------------------------

def test_add_node_splits_a_connection_and_preserves_the_function():
    enc = NEAT(n_inputs=4, n_outputs=2)
    x = np.random.default_rng(0).normal(size=(32, 4))
    for seed in range(20):
        g = grow(enc, seed, 6)
        before = forward(g, x)
        enabled = {k for k, c in g.connections.items() if c.enabled}
        (same,) = mutAddNode(g, TRACKER, "linear", rng=random.Random(seed))
        assert same is g
        check_genome(g)
        split = [k for k in enabled if not g.connections[k].enabled]
        if not split:
            continue
        ((a, b),) = split
        h = TRACKER.node_id(a, b)
        assert g.nodes[h].kind == "hidden" and g.nodes[h].bias == 0.0
        assert g.connections[(a, h)].weight == 1.0 and g.connections[(h, b)].weight == g.connections[(a, b)].weight
        np.testing.assert_allclose(forward(g, x), before, rtol=1e-12, atol=1e-12)  # exact for linear


def test_add_node_is_deterministic_and_never_splits_into_an_existing_node():
    enc = NEAT(n_inputs=1, n_outputs=1)
    g = enc.random(random.Random(0))
    mutAddNode(g, TRACKER, "tanh", rng=random.Random(0))
    h = TRACKER.node_id(0, 1)
    assert set(g.nodes) == {0, 1, h}
    other = enc.random(random.Random(5))
    mutAddNode(other, TRACKER, "tanh", rng=random.Random(9))
    assert set(other.connections) == set(g.connections)  # same innovation, same numbers, any genome
    g.connections[(0, 1)].enabled = True  # re-enabled (as crossover may): its node exists already
    for k in [(0, h), (h, 1)]:
        g.connections[k].enabled = False
    snapshot = copy.deepcopy(g)
    mutAddNode(g, TRACKER, "tanh", rng=random.Random(1))
    assert g == snapshot  # nothing left to split


# -- add connection -----------------------------------------------------------------------------

@settings(max_examples=120, deadline=None)
@given(enc=encodings, seed=seeds, steps=st.integers(0, 25))
def test_add_connection_never_creates_cycles(enc, seed, steps):
    g = grow(enc, seed, steps)
    check_genome(g)
    assert find_cycle_edge(g.connections) is None
    candidates = addable_connections(g)
    before = set(g.connections)
    mutAddConnection(g, TRACKER, rng=random.Random(seed))
    check_genome(g)
    added = set(g.connections) - before
    assert len(added) == (1 if candidates else 0)
    for s, d in added:
        assert g.nodes[s].kind != "output" and g.nodes[d].kind != "input" and g.connections[(s, d)].enabled
        assert (s, d) in candidates


def test_add_connection_when_the_graph_is_complete_changes_nothing():
    g = NEAT(n_inputs=2, n_outputs=2).random(random.Random(0))
    snapshot = copy.deepcopy(g)
    assert addable_connections(g) == []
    assert mutAddConnection(g, TRACKER, rng=random.Random(0)) == (g,) and g == snapshot


# -- weights ------------------------------------------------------------------------------------

def test_weight_mutation_perturbs_or_replaces_and_leaves_inputs_alone():
    g = grow(NEAT(n_inputs=3, n_outputs=2), 0, 8)
    same = copy.deepcopy(g)
    mutWeights(same, perturb_std=0.0, replace_rate=0.0, rng=random.Random(0))
    assert same == g
    moved = copy.deepcopy(g)
    mutWeights(moved, perturb_std=0.1, replace_rate=0.0, rng=random.Random(0))
    deltas = [moved.connections[k].weight - g.connections[k].weight for k in g.connections]
    assert all(d != 0 for d in deltas) and max(map(abs, deltas)) < 1.0
    assert all(moved.nodes[i].bias == 0.0 for i in moved.ids("input"))
    assert all(moved.nodes[i].bias != 0.0 for i in moved.ids("output"))
    fresh = copy.deepcopy(g)
    mutWeights(fresh, perturb_std=0.0, replace_rate=1.0, init_std=1e-6, rng=random.Random(0))
    assert all(abs(c.weight) < 1e-4 for c in fresh.connections.values())


def test_mut_neat_applies_each_mutation_with_its_rate():
    g = NEAT(n_inputs=3, n_outputs=1).random(random.Random(0))
    same = copy.deepcopy(g)
    assert mutNEAT(same, TRACKER, 0.0, 0.0, 0.0, rng=random.Random(0)) == (same,) and same == g
    for i in range(5):
        mutNEAT(g, TRACKER, 1.0, 1.0, 1.0, hidden_activation="relu", rng=random.Random(i))
    check_genome(g)
    assert len(g.ids("hidden")) == 5 and all(g.nodes[h].activation == "relu" for h in g.ids("hidden"))


# -- crossover ----------------------------------------------------------------------------------

def test_crossover_aligns_by_innovation_and_takes_extra_genes_from_the_fitter_parent():
    enc = NEAT(n_inputs=3, n_outputs=2)
    for seed in range(30):
        rng = random.Random(seed)
        a, b = grow(enc, seed, 5), grow(enc, seed + 1000, 5)
        mutWeights(b, 0.5, 0.0, rng=rng)
        pa, pb = copy.deepcopy(a), copy.deepcopy(b)
        with_fitness(a, 2.0), with_fitness(b, 1.0)
        c1, c2 = cxNEAT(a, b, rng=rng)
        assert c1 is a and c2 is b and c1.fitness.values == (2.0,)
        for child in (c1, c2):
            check_genome(child)
            assert set(child.connections) == set(pa.connections)  # a is fitter: its structure
            for key, gene in child.connections.items():
                sources = [p.connections[key] for p in (pa, pb) if key in p.connections]
                assert gene.weight in [s.weight for s in sources] and gene.innovation == sources[0].innovation
                if all(s.enabled for s in sources):
                    assert gene.enabled


def test_crossover_with_equal_fitness_takes_the_genes_of_both():
    enc = NEAT(n_inputs=3, n_outputs=1)
    common = enc.random(random.Random(0))
    a, b = copy.deepcopy(common), copy.deepcopy(common)
    mutAddNode(a, TRACKER, "tanh", rng=random.Random(1))
    seed = 2
    while set(b.connections) in (set(common.connections), set(a.connections)):  # split another connection
        b = copy.deepcopy(common)
        mutAddNode(b, TRACKER, "relu", rng=random.Random(seed))
        seed += 1
    pa, pb = copy.deepcopy(a), copy.deepcopy(b)
    c1, c2 = cxNEAT(with_fitness(a, 1.0), with_fitness(b, 1.0), rng=random.Random(0))
    for child in (c1, c2):
        check_genome(child)
        assert set(child.connections) == set(pa.connections) | set(pb.connections)
        assert set(child.nodes) == set(pa.nodes) | set(pb.nodes)


def mutAddConnection_exact(g: NEATGenome, s: int, d: int) -> None:
    g.connections[(s, d)] = ConnectionGene(s, d, 0.7, True, TRACKER.innovation(s, d))


def test_crossover_drops_the_gene_that_would_close_a_cycle():
    enc = NEAT(n_inputs=2, n_outputs=1)
    g = enc.random(random.Random(0))
    mutAddNode(g, TRACKER, "tanh", rng=random.Random(0))
    mutAddNode(g, TRACKER, "tanh", rng=random.Random(1))
    h1, h2 = g.ids("hidden")
    a, b = copy.deepcopy(g), copy.deepcopy(g)
    mutAddConnection_exact(a, h1, h2)
    mutAddConnection_exact(b, h2, h1)
    check_genome(a), check_genome(b)
    c1, c2 = cxNEAT(with_fitness(a, 1.0), with_fitness(b, 1.0), rng=random.Random(0))
    assert (h1, h2) in c1.connections and (h2, h1) not in c1.connections
    assert (h2, h1) in c2.connections and (h1, h2) not in c2.connections
    check_genome(c1), check_genome(c2)


def test_disabled_genes_stay_disabled_three_times_in_four():
    enc = NEAT(n_inputs=2, n_outputs=1)
    a = enc.random(random.Random(0))
    a.connections[(0, 2)].enabled = False
    b = copy.deepcopy(a)
    b.connections[(0, 2)].enabled = True
    rng = random.Random(0)
    disabled = 0
    for _ in range(2000):
        c1, _ = cxNEAT(copy.deepcopy(a), copy.deepcopy(b), rng=rng)
        disabled += not c1.connections[(0, 2)].enabled
    assert abs(disabled / 2000 - 0.75) < 0.04


@settings(max_examples=80, deadline=None)
@given(enc=encodings, s1=seeds, s2=seeds, s3=seeds, f1=st.sampled_from([None, 0.0, 1.0]),
       f2=st.sampled_from([None, 0.0, 1.0]))
def test_crossover_children_are_valid_feed_forward_genomes(enc, s1, s2, s3, f1, f2):
    a, b = with_fitness(grow(enc, s1, 10), f1), with_fitness(grow(enc, s2, 10), f2)
    pa, pb = copy.deepcopy(a), copy.deepcopy(b)
    c1, c2 = cxNEAT(a, b, rng=random.Random(s3))
    best = fitter(pa, pb)
    for child in (c1, c2):
        check_genome(child)
        assert set(child.connections) <= set(pa.connections) | set(pb.connections)
        if best:
            assert set(child.connections) == set((pa, pb)[best - 1].connections)
    # determinism: same parents, same rng -> same children
    d1, d2 = cxNEAT(copy.deepcopy(pa), copy.deepcopy(pb), rng=random.Random(s3))
    assert (d1, d2) == (c1, c2)


def _reference_child(first, second, structure, disable_rate, rng):
    """cxNEAT's child as the NEAT paper states it, gene by gene (the implementation before it was
    tuned): the tuned one must give the same genes from the same draws."""
    from itertools import chain

    from evokit.operators.neat_genome import reachable
    c1, c2 = first.connections, second.connections
    by_innovation = lambda genes: [k for _, k in sorted((g.innovation, k) for k, g in genes.items())]  # noqa: E731
    order = by_innovation(c2) if structure == "second" else by_innovation(c1)
    if structure == "both":
        order += [k for k in by_innovation(c2) if k not in c1]
    safe = set(c2 if structure == "second" else c1)
    connections = {}
    for key in order:
        if key not in safe and key[0] in reachable(connections, key[1]):
            continue
        if key in c1 and key in c2:
            gene = copy.copy(c1[key] if rng.random() < 0.5 else c2[key])
            disabled = not (c1[key].enabled and c2[key].enabled)
        else:
            gene = copy.copy(c1[key] if key in c1 else c2[key])
            disabled = not gene.enabled
        if disabled:
            gene.enabled = rng.random() >= 0.75
        connections[key] = gene
    wanted = {i for i, n in first.nodes.items() if n.kind != "hidden"} | set(chain.from_iterable(connections))
    nodes = {}
    for i in sorted(wanted):
        both = i in first.nodes and i in second.nodes
        nodes[i] = copy.copy((first.nodes[i] if rng.random() < 0.5 else second.nodes[i]) if both
                             else first.nodes.get(i, second.nodes.get(i)))
    return nodes, connections


@settings(max_examples=60, deadline=None)
@given(enc=encodings, s1=seeds, s2=seeds, s3=seeds, f1=st.sampled_from([None, 0.0, 1.0]),
       f2=st.sampled_from([None, 0.0, 1.0]))
def test_crossover_makes_the_reference_children_from_the_same_draws(enc, s1, s2, s3, f1, f2):
    a, b = with_fitness(grow(enc, s1, 10), f1), with_fitness(grow(enc, s2, 10), f2)
    for gene in list(a.connections.values())[::3]:
        gene.enabled = False  # disabled genes draw for their enabled bit
    rng = random.Random(s3)
    structure = {0: ("both", "both"), 1: ("first", "second"), 2: ("second", "first")}[fitter(a, b)]
    expected = [_reference_child(a, b, structure[0], 0.75, rng), _reference_child(b, a, structure[1], 0.75, rng)]
    after = rng.random()
    rng = random.Random(s3)
    c1, c2 = cxNEAT(copy.deepcopy(a), copy.deepcopy(b), rng=rng)
    assert [(c1.nodes, c1.connections), (c2.nodes, c2.connections)] == expected
    assert list(c1.connections) == list(expected[0][1])  # gene order too (it fixes later draws)
    assert rng.random() == after


def test_crossover_copies_genes_of_gene_subclasses_as_their_own_class():
    class TaggedConnection(ConnectionGene):
        pass

    enc = NEAT(n_inputs=2, n_outputs=1)
    a = enc.random(random.Random(0))
    a.connections = {k: TaggedConnection(g.src, g.dst, g.weight, False, g.innovation) for k, g in a.connections.items()}
    b = enc.random(random.Random(1))
    genes = [*a.connections.values(), *b.connections.values()]
    c1, _ = cxNEAT(a, b, rng=random.Random(0))
    for gene in c1.connections.values():
        assert all(gene is not g for g in genes)  # copies, never the parents' genes
        assert any(type(gene) is type(g) and gene.weight == g.weight for g in genes)
    assert any(type(g) is TaggedConnection for g in c1.connections.values())


def test_fitter_uses_pareto_dominance():
    g = NEAT(n_inputs=1, n_outputs=1).random(random.Random(0))
    x, y = copy.deepcopy(g), copy.deepcopy(g)
    attach_fitness(x, (1.0, -1.0)), attach_fitness(y, (1.0, -1.0))
    x.fitness.values, y.fitness.values = (0.9, 10.0), (0.8, 20.0)
    assert fitter(x, y) == 1 and fitter(y, x) == 2
    y.fitness.values = (0.95, 20.0)
    assert fitter(x, y) == 0
    del y.fitness.values
    assert fitter(x, y) == 0


# -- DEAP toolbox -------------------------------------------------------------------------------

def test_register_and_a_deap_loop_on_xor():
    enc = NEAT(n_inputs=2, n_outputs=1, add_node_rate=0.2, add_connection_rate=0.3)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0], dtype=float)
    tb = base.Toolbox()
    register(tb, tracker=TRACKER, add_node_rate=0.2, add_connection_rate=0.3)
    tb.register("individual", lambda: with_fitness(enc.random(), None))
    tb.register("population", tools.initRepeat, list, tb.individual)
    tb.register("evaluate", lambda g: (-float(np.mean((forward(g, x)[:, 0] - y) ** 2)),))
    tb.register("select", tools.selTournament, tournsize=3)
    random.seed(0)
    pop = tb.population(n=30)
    pop, _ = algorithms.eaSimple(pop, tb, cxpb=0.5, mutpb=0.8, ngen=15, verbose=False)
    for ind in pop:
        check_genome(ind)
    assert any(ind.ids("hidden") for ind in pop)
    encoding_tb = base.Toolbox()
    enc.register(encoding_tb)
    assert encoding_tb.mutate.keywords["add_node_rate"] == 0.2 and encoding_tb.mate.func is cxNEAT
    with pytest.raises(TypeError, match="add_nod_rate"):
        register(base.Toolbox(), add_nod_rate=0.1)
