"""NEAT's compiled forward pass (``evokit.encodings.graph_program``) against the reference one
(``layout`` + ``NeuronGraph.forward`` on every call): BITWISE equal outputs on random evolved
genomes, after in-place mutation (the cache is keyed by structure, so it can never go stale),
for every activation, fewer or more features than inputs, and classification; and the faster
compatibility distance against its textbook definition."""
from __future__ import annotations

import random

import numpy as np
import pytest

from evokit.encodings import graph_program
from evokit.encodings.graph import NEAT, forward, reference_forward
from evokit.netspec.neurons import NODE_ACTIVATIONS
from evokit.operators.neat import cxNEAT, mutAddConnection, mutAddNode, mutNEAT
from evokit.operators.neat_genome import compatibility


def _evolve(enc: NEAT, rng: random.Random, steps: int):
    genome = enc.random(rng)
    for _ in range(steps):
        mutNEAT(genome, add_node_rate=0.4, add_connection_rate=0.5, weight_mutation_rate=0.9,
                hidden_activation=rng.choice(NODE_ACTIVATIONS), rng=rng)
    return genome


def _same_bits(genome, x, task=None) -> bool:
    ours, ref = forward(genome, x, task), reference_forward(genome, x, task)
    return ours.shape == ref.shape and ours.dtype == ref.dtype and ours.tobytes() == ref.tobytes()


@pytest.mark.parametrize("seed", range(6))
def test_compiled_forward_is_bitwise_the_reference_even_after_in_place_mutation(seed):
    rng = random.Random(seed)
    enc = NEAT(n_inputs=3, n_outputs=2, output_activation=rng.choice(NODE_ACTIVATIONS))
    x = np.random.default_rng(seed).normal(size=(16, 3)) * 3
    genome = _evolve(enc, rng, rng.randrange(0, 10))
    structures = set()
    for _ in range(25):
        assert _same_bits(genome, x)
        structures.add(graph_program.structure_key(genome, 3))
        # in place, as DEAP's operators do: structure, weights, or an enabled bit
        choice = rng.random()
        if choice < 0.3:
            mutAddNode(genome, activation=rng.choice(NODE_ACTIVATIONS), rng=rng)
        elif choice < 0.6:
            mutAddConnection(genome, rng=rng)
        elif choice < 0.8:
            gene = rng.choice(list(genome.connections.values()))
            gene.weight += 0.25
        else:
            gene = rng.choice(list(genome.connections.values()))
            gene.enabled = not gene.enabled
        assert _same_bits(genome, x)
    assert len(structures) >= 5  # the structure did change under the cache, again and again


def test_compiled_forward_matches_after_crossover_and_for_other_feature_counts_and_classification():
    rng = random.Random(7)
    enc = NEAT(n_inputs=4, n_outputs=3)
    a, b = _evolve(enc, rng, 8), _evolve(enc, rng, 8)
    a, b = cxNEAT(a, b, rng=rng)
    data = np.random.default_rng(7).normal(size=(5, 2, 3))  # 6 features: 2 more than the inputs
    for genome in (a, b):
        assert _same_bits(genome, data)
        assert _same_bits(genome, data[:, 0, :2])  # 2 features: inputs 2 and 3 read nothing
        assert _same_bits(genome, data, "classification")
        np.testing.assert_allclose(forward(genome, data, "classification").sum(axis=1), 1.0)


def test_the_cache_is_shared_by_structure_and_bounded(monkeypatch):
    rng = random.Random(3)
    enc = NEAT(n_inputs=2, n_outputs=1)
    x = np.array([[0.0, 1.0], [1.0, 0.5]])
    graph_program.clear_cache()
    a, b = enc.random(rng), enc.random(rng)  # same structure, other weights
    forward(a, x)
    assert len(graph_program._CACHE) == 1
    forward(b, x)
    assert len(graph_program._CACHE) == 1 and not np.array_equal(forward(a, x), forward(b, x))
    monkeypatch.setattr(graph_program, "CACHE_SIZE", 2)
    forward(a, np.ones((2, 3)))  # another feature count: another program
    forward(a, np.ones((2, 4)))  # the cache is full: emptied, then this one kept
    assert len(graph_program._CACHE) == 1 and _same_bits(a, np.ones((2, 4)))
    monkeypatch.setattr(graph_program, "CACHE_BYTES", 1)  # a program larger than the cache: not kept
    graph_program.clear_cache()
    assert _same_bits(a, x) and not graph_program._CACHE


def _textbook_compatibility(a, b):
    """The compatibility as it was written before it was optimised (same float sum order)."""
    ca, cb = a.connections, b.connections
    top_a = max((g.innovation for g in ca.values()), default=-1)
    top_b = max((g.innovation for g in cb.values()), default=-1)
    excess = disjoint = 0
    for key in ca.keys() ^ cb.keys():
        gene, other_top = (ca[key], top_b) if key in ca else (cb[key], top_a)
        if gene.innovation > other_top:
            excess += 1
        else:
            disjoint += 1
    matching = ca.keys() & cb.keys()
    weight = sum(abs(ca[k].weight - cb[k].weight) for k in matching) / len(matching) if matching else 0.0
    return excess, disjoint, weight


def test_compatibility_equals_its_textbook_definition_bitwise():
    rng = random.Random(11)
    enc = NEAT(n_inputs=3, n_outputs=2)
    genomes = [_evolve(enc, rng, rng.randrange(0, 15)) for _ in range(20)]
    pairs = [(a, b) for a in genomes for b in genomes]
    found = [compatibility(a, b) for a, b in pairs]
    assert found == [_textbook_compatibility(a, b) for a, b in pairs]
    assert any(e for e, _, _ in found) and any(d for _, d, _ in found)
