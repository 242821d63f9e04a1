"""NEAT's compatibility distances of many genomes to many, with one pass over each genome's genes.

``compatibility_matrix`` (``evokit.operators.neat_genome``) aligns genes by ``(src, dst)`` through
a Python dict of every gene of every genome and a list of ``(genome, column, weight)`` triples;
on XOR that gathering was most of a speciation. Here each genome's genes are read once into
flat arrays (innovation numbers and weights) and aligned by innovation number
with NumPy. The innovation number is a function of ``(src, dst)`` (its level and a 40-bit hash),
so two genes with one number almost surely connect the same pair; that is checked (numbers and
pairs are one to one), and where they are not (two pairs share a number, or a pair has two) the
table falls back to ``compatibility_matrix``, which never confuses them.

The values are bitwise ``compatibility_matrix``'s: the same sums, in the same order.
"""
from __future__ import annotations

from itertools import chain
from operator import attrgetter

import numpy as np

from evokit.operators.neat_genome import NEATGenome, compatibility_matrix, distance_table


def compatibility_table(rows: list[NEATGenome], columns: list[NEATGenome], c1: float = 1.0, c2: float = 1.0,
                        c3: float = 0.4) -> np.ndarray:
    """:func:`~evokit.operators.neat_genome.compatibility_distance` of every genome in ``rows`` to
    every genome in ``columns``, as a ``(len(rows), len(columns))`` array (what
    ``compatibility_matrix`` gives, faster)."""
    genomes = [*rows, *columns]
    genes = [g.connections for g in genomes]
    counts = np.fromiter(map(len, genes), dtype=np.intp, count=len(genomes))
    total = int(counts.sum())
    if total == 0:
        return np.zeros((len(rows), len(columns)))
    values = list(chain.from_iterable(c.values() for c in genes))
    try:
        innovation = np.fromiter(map(_INNOVATION, values), dtype=np.int64, count=total)
    except OverflowError:  # not the tracker's numbers
        return compatibility_matrix(rows, columns, c1, c2, c3)
    weight = np.fromiter(map(_WEIGHT, values), dtype=np.float64, count=total)
    numbers, col = np.unique(innovation, return_inverse=True)
    keys = list(chain.from_iterable(genes))  # each gene's (src, dst), in the order of ``values``
    if not len(numbers) == len(set(keys)) == len(set(zip(innovation.tolist(), keys))):
        return compatibility_matrix(rows, columns, c1, c2, c3)  # numbers and (src, dst) pairs are not one to one
    return distance_table(np.repeat(np.arange(len(genomes)), counts), col, weight, counts, len(numbers), len(rows),
                          c1, c2, c3)


_INNOVATION, _WEIGHT = attrgetter("innovation"), attrgetter("weight")


__all__ = ["compatibility_table"]
