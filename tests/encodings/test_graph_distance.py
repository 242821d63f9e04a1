"""The NEAT encoding's distance table (``evokit.encodings.graph_distance``): bitwise the values of
``compatibility_matrix``, on evolved genomes of mixed sizes, and the same values where innovation
numbers do not identify the genes (then it aligns genes by ``(src, dst)``, as the matrix does)."""
from __future__ import annotations

import random

import numpy as np
import pytest

from evokit.encodings.graph import NEAT
from evokit.encodings.graph_distance import compatibility_table
from evokit.operators.neat import cxNEAT, mutNEAT
from evokit.operators.neat_genome import SMALL_GENOME, ConnectionGene, compatibility_distance, compatibility_matrix


def _genomes(seed: int, n: int = 30):
    rng = random.Random(seed)
    enc = NEAT(n_inputs=5, n_outputs=3)  # 15 genes to start: evolved ones cross SMALL_GENOME
    genomes = [enc.random(rng) for _ in range(n)]
    for genome in genomes:
        for _ in range(rng.randrange(25)):
            mutNEAT(genome, add_node_rate=0.4, add_connection_rate=0.5, rng=rng)
    for k in range(0, 8, 2):
        genomes += cxNEAT(enc.from_json(enc.to_json(genomes[k])), enc.from_json(enc.to_json(genomes[k + 1])),
                          rng=rng)
    return genomes


@pytest.mark.parametrize("seed", range(3))
def test_the_table_is_bitwise_the_matrix(seed):
    genomes = _genomes(seed)
    genomes[3].connections.clear()  # a genome without genes is compared too
    assert max(len(g.connections) for g in genomes) >= SMALL_GENOME
    for rows, columns in ((genomes, genomes[::4]), (genomes[:7], genomes), (genomes, genomes)):
        table = compatibility_table(rows, columns, 1.0, 2.0, 0.4)
        assert table.tobytes() == compatibility_matrix(rows, columns, 1.0, 2.0, 0.4).tobytes()
    np.testing.assert_allclose(compatibility_table(genomes[:4], genomes[4:6]),
                               [[compatibility_distance(a, b) for b in genomes[4:6]] for a in genomes[:4]],
                               rtol=1e-12, atol=1e-12)


def test_genes_whose_numbers_are_not_the_trackers_are_aligned_by_pair():
    genomes = _genomes(4, 10)
    for genome in genomes[:5]:  # numbers shared by different pairs, and one pair with two numbers
        for gene in genome.connections.values():
            gene.innovation = 7
    genomes[6].connections[next(iter(genomes[6].connections))].innovation += 1
    for rows, columns in ((genomes, genomes[::3]), (genomes[5:], genomes), (genomes[6:], genomes[5:])):
        assert compatibility_table(rows, columns).tobytes() == compatibility_matrix(rows, columns).tobytes()


def test_a_pair_with_two_numbers_and_a_number_with_two_pairs_that_cancel_out_are_aligned_by_pair():
    genomes = _genomes(6, 4)[:2]
    a, b = genomes
    first, second = [k for k in a.connections if k not in b.connections][:2]
    a.connections[first].innovation = a.connections[second].innovation = 0  # one number, two pairs
    shared = next(k for k in b.connections if k in a.connections)
    b.connections[shared].innovation += 1  # one pair, two numbers: as many numbers as pairs in all
    numbers = {g.innovation for g in [*a.connections.values(), *b.connections.values()]}
    assert len(numbers) == len({*a.connections, *b.connections})  # what the count alone would accept
    table = compatibility_table(genomes, genomes)
    assert table.tobytes() == compatibility_matrix(genomes, genomes).tobytes()
    assert (np.diag(table) == 0).all()


def test_speciation_asks_for_large_tables_in_blocks_of_rows(monkeypatch):
    from evokit.algorithms import neat as neat_algorithm

    genomes = _genomes(7, 10)
    asked = []

    def distances(rows, columns):
        asked.append(len(rows) * len(columns) * max(len(g.connections) for g in [*rows, *columns]))
        return compatibility_table(rows, columns)

    whole = compatibility_table(genomes, genomes)
    genes = max(len(g.connections) for g in genomes)
    monkeypatch.setattr(neat_algorithm, "TABLE_ENTRIES", 3 * len(genomes) * genes)  # three rows a call
    blocked = neat_algorithm._table_in_blocks(distances, genomes, genomes)
    assert blocked.tobytes() == whole.tobytes() and len(asked) == -(-len(genomes) // 3)
    assert max(asked) <= neat_algorithm.TABLE_ENTRIES
    monkeypatch.setattr(neat_algorithm, "TABLE_ENTRIES", 1)  # never fewer than one row a call
    assert neat_algorithm._table_in_blocks(distances, genomes[:2], genomes).shape == (2, len(genomes))


def test_empty_sides_and_genomes_without_genes():
    genomes = _genomes(5, 10)[:4]
    assert compatibility_table([], genomes).shape == (0, 4)
    assert compatibility_table(genomes, []).shape == (4, 0)
    bare = [NEAT(n_inputs=2, n_outputs=1).random(random.Random(0)) for _ in range(3)]
    for genome in bare:
        genome.connections.clear()
    assert np.array_equal(compatibility_table(bare, bare[:2]), np.zeros((3, 2)))


def _relabel(genome, name):
    """``genome`` with every node id ``i`` of its connections renamed ``name(i)``."""
    genes = [type(g)(name(g.src), name(g.dst), g.weight, g.enabled, g.innovation) for g in genome.connections.values()]
    genome.connections = {g.key: g for g in genes}
    return genome


@pytest.mark.parametrize("first, second", [(str, lambda i: f"0{i}"), (lambda i: f"n{i}", str),
                                           (lambda i: i + 0.5, int), (float, int)])
def test_node_ids_that_are_not_ints_are_aligned_by_pair(first, second):
    """NumPy would read '3' and '03' (or 3.5 and 3) as one id, so two different pairs with one
    number would pass for one gene, and 'n3' not at all. Ids that are not integers (strings,
    floats) are aligned by pair instead, as ``compatibility_matrix`` aligns them."""
    genomes = _genomes(5, 8)
    for k, genome in enumerate(genomes):
        _relabel(genome, first if k % 2 else second)
    for rows, columns in ((genomes, genomes), (genomes[:5], genomes[5:]), (genomes[5:], genomes[:5])):
        table = compatibility_table(rows, columns)
        assert table.tobytes() == compatibility_matrix(rows, columns).tobytes()
    twins = [_relabel(_genomes(5, 8)[1], name) for name in (first, second)]  # one genome, two namings
    expected = compatibility_matrix(twins[:1], twins[1:])
    assert compatibility_table(twins[:1], twins[1:]).tobytes() == expected.tobytes()
    assert (expected[0, 0] > 0) == (first(3) != second(3))  # '3' is not '03': no gene matches


def test_pairs_under_one_number_sort_the_same_whatever_else_is_in_the_batch():
    """Pairs under one innovation number are ordered by the pair, str ids after numbers: a batch
    with str ids sorts (str and int never compare), and a genome with str ids added to a batch
    does not reorder the int pairs of the others (a repr order would put (2, 10) before (2, 9))."""
    def genome(*pairs):
        g = NEAT(n_inputs=2, n_outputs=1).random(random.Random(0))
        g.connections = {(s, d): ConnectionGene(s, d, 0.5, True, 7) for s, d in pairs}
        return g

    a, b, named = genome((2, 9)), genome((2, 10), (2, 11)), genome(("n2", "n9"), (2, 12))
    alone = compatibility_matrix([a], [b], 1.0, 2.0)
    assert compatibility_matrix([a, named], [b], 1.0, 2.0)[:1].tobytes() == alone.tobytes()
    table = compatibility_matrix([a, b, named], [a, b, named])
    assert (np.diag(table) == 0).all() and np.allclose(table, table.T) and (table[~np.eye(3, dtype=bool)] > 0).all()
