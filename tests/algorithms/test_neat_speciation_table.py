"""NEAT's speciation with the encoding's distance table (``toolbox.distances``) makes the same
species as the pairwise distance, founders and all, and the NEAT encoding registers it."""
import random

import numpy as np

import evokit as ek
from evokit.algorithms.neat import speciate
from evokit.deap_toolbox import genotype_toolbox
from evokit.operators.neat import mutNEAT


def _genomes(n, seed):
    enc = ek.encodings.NEAT(n_inputs=3, n_outputs=2, weight_init_std=2.0)
    rng = random.Random(seed)
    genomes = [enc.random(rng) for _ in range(n)]
    for g in genomes:
        for _ in range(rng.randrange(6)):
            mutNEAT(g, add_node_rate=0.5, add_connection_rate=0.5, rng=rng)
    return enc, genomes


def test_the_table_and_the_pairwise_distance_make_the_same_species():
    enc, genomes = _genomes(60, 0)
    reps = [(4, genomes[50]), (9, genomes[55])]
    for threshold in (0.5, 1.5, 3.0, 50.0):
        pairwise = speciate(genomes[:50], reps, enc.distance, threshold, 12)
        table = speciate(genomes[:50], reps, enc.distance, threshold, 12, enc.distances)
        assert table == pairwise
    species, next_id = speciate(genomes[:50], reps, enc.distance, 1.5, 12, enc.distances)
    assert next_id > 13 and any(sid in (4, 9) for sid, _ in species)  # old species kept, new ones founded
    assert speciate([], reps, enc.distance, 1.0, 3, enc.distances) == ([], 3)
    assert speciate(genomes[:5], [], enc.distance, 1e-9, 0, enc.distances)[1] == 5


def test_the_neat_encoding_registers_its_distance_table():
    enc, genomes = _genomes(8, 1)
    tb = genotype_toolbox(enc, (1.0,))
    table = tb.distances(genomes, genomes[:3])
    assert table.shape == (8, 3)
    np.testing.assert_allclose(table, [[enc.distance(a, b) for b in genomes[:3]] for a in genomes], atol=1e-12)


def test_the_table_is_asked_at_most_twice_per_speciation():
    enc, genomes = _genomes(60, 2)
    calls = []

    def counted(rows, columns):
        calls.append((len(rows), len(columns)))
        return enc.distances(rows, columns)

    for reps in ([], [(4, genomes[50]), (9, genomes[55])]):
        calls.clear()
        species, _ = speciate(genomes[:50], reps, enc.distance, 1.0, 12, counted)
        assert len(species) > 3 and len(calls) <= 2  # several new species, founded from one table
        assert (species, _) == speciate(genomes[:50], reps, enc.distance, 1.0, 12)
