"""NEAT's batched forward pass of a population (``forward_population``) against ``forward`` per
genome, its schedules (cached by structure, cycles refused), and the whole-array compatibility
distance (``compatibility_matrix``) against the pairwise one, on random evolved genomes of mixed
structures."""
from __future__ import annotations

import random

import numpy as np
import pytest

from evokit.encodings import graph_population, graph_program
from evokit.encodings.graph import NEAT, forward, forward_population
from evokit.errors import GenotypeError
from evokit.netspec.neurons import NODE_ACTIVATIONS
from evokit.operators.neat import cxNEAT, mutNEAT
from evokit.operators.neat_genome import (
    SMALL_GENOME,
    TRACKER,
    ConnectionGene,
    NodeGene,
    compatibility_distance,
    compatibility_matrix,
)


def _population(enc: NEAT, rng: random.Random, n: int, max_steps: int = 12):
    """Genomes of many structures: evolved apart, some crossed, one disabled gene or so each."""
    genomes = []
    for _ in range(n):
        genome = enc.random(rng)
        for _ in range(rng.randrange(max_steps)):
            mutNEAT(genome, add_node_rate=0.4, add_connection_rate=0.5, weight_mutation_rate=0.9,
                    hidden_activation=rng.choice(NODE_ACTIVATIONS), rng=rng)
        genomes.append(genome)
    for k in range(0, n // 2, 2):
        a, b = cxNEAT(*[NEAT().from_json(enc.to_json(g)) for g in genomes[k:k + 2]], rng=rng)
        genomes += [a, b]
    return genomes


@pytest.mark.parametrize("seed", range(3))
def test_a_population_forward_equals_each_genomes_forward(seed):
    rng = random.Random(seed)
    enc = NEAT(n_inputs=3, n_outputs=2, output_activation=rng.choice(NODE_ACTIVATIONS))
    genomes = _population(enc, rng, 30)
    x = np.random.default_rng(seed).normal(size=(9, 3)) * 2
    out = forward_population(genomes, x)
    assert out.shape == (len(genomes), 9, 2)
    assert len({len(g.nodes) for g in genomes}) >= 4  # mixed structures, several steps deep
    for genome, row in zip(genomes, out):
        np.testing.assert_allclose(row, forward(genome, x), rtol=1e-12, atol=1e-12)
    probs = forward_population(genomes, x, task="classification")
    np.testing.assert_allclose(probs.sum(axis=2), 1.0)
    np.testing.assert_allclose(probs[4], forward(genomes[4], x, task="classification"), rtol=1e-12)


def test_fewer_or_more_features_than_inputs_and_no_genomes():
    rng = random.Random(3)
    genomes = _population(NEAT(n_inputs=4, n_outputs=1), rng, 12)
    for features in (2, 6):
        x = np.random.default_rng(features).normal(size=(5, features))
        out = forward_population(genomes, x)
        for genome, row in zip(genomes, out):
            np.testing.assert_allclose(row, forward(genome, x), rtol=1e-12, atol=1e-12)
    assert forward_population([], np.zeros((5, 4))).shape == (0, 5, 0)
    with pytest.raises(GenotypeError, match="output neurons"):
        forward_population([genomes[0], NEAT(n_inputs=4, n_outputs=2).random(rng)], np.zeros((5, 4)))


@pytest.mark.parametrize("seed", range(3))
def test_the_distance_matrix_equals_the_pairwise_distance(seed):
    rng = random.Random(seed)
    enc = NEAT(n_inputs=5, n_outputs=3)  # 15 genes to start: evolved ones cross SMALL_GENOME
    genomes = _population(enc, rng, 24, max_steps=25)
    genomes[5].connections.clear()  # a genome without genes is compared too
    sizes = [len(g.connections) for g in genomes]
    assert min(sizes) == 0 and max(sizes) >= SMALL_GENOME and any(not c.enabled for g in genomes
                                                                 for c in g.connections.values())
    rows, columns = genomes, genomes[::3]
    table = compatibility_matrix(rows, columns, 1.0, 2.0, 0.4)
    expected = [[compatibility_distance(a, b, 1.0, 2.0, 0.4) for b in columns] for a in rows]
    assert table.shape == (len(rows), len(columns))
    np.testing.assert_allclose(table, expected, rtol=1e-12, atol=1e-12)
    assert np.all(np.diag(compatibility_matrix(columns, columns)) == 0)
    assert compatibility_matrix([], columns).shape == (0, len(columns))
    assert compatibility_matrix(rows, []).shape == (len(rows), 0)


def test_neurons_without_inputs_and_phases_without_connections():
    rng = random.Random(11)
    enc = NEAT(n_inputs=2, n_outputs=2, output_activation="sigmoid")
    genomes = _population(enc, rng, 12)
    for genome in genomes[:4]:  # every connection disabled: each neuron computes its activation(bias)
        for gene in genome.connections.values():
            gene.enabled = False
        for node in genome.nodes.values():
            node.bias = rng.gauss(0.0, 1.0) if node.kind != "input" else 0.0
    x = np.random.default_rng(11).normal(size=(6, 2))
    for group in (genomes[:4], genomes):
        for genome, row in zip(group, forward_population(group, x)):
            np.testing.assert_allclose(row, forward(genome, x), rtol=1e-12, atol=1e-12)


def test_schedules_are_shared_by_structure_and_cycles_are_refused():
    rng = random.Random(12)
    enc = NEAT(n_inputs=2, n_outputs=1)
    a, b = enc.random(rng), enc.random(rng)  # one structure, other weights
    graph_program.clear_cache()
    assert graph_population.schedule(a, 2) is graph_population.schedule(b, 2)
    assert not np.array_equal(forward_population([a], np.eye(2)), forward_population([b], np.eye(2)))
    hidden = TRACKER.node_id(0, 2)
    looped = NEAT().from_json(enc.to_json(a))
    looped.nodes[hidden] = NodeGene(hidden, "hidden", "tanh")
    for src, dst in ((2, hidden), (hidden, 2)):
        looped.connections[(src, dst)] = ConnectionGene(src, dst, 1.0, True, TRACKER.innovation(src, dst))
    with pytest.raises(GenotypeError, match="cycle"):
        forward_population([a, looped], np.eye(2))
