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
from operator import attrgetter, index, itemgetter
from typing import Any

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
    if not _one_to_one(genes, col, len(numbers), total):
        return compatibility_matrix(rows, columns, c1, c2, c3)  # numbers and (src, dst) pairs are not one to one
    return distance_table(np.repeat(np.arange(len(genomes)), counts), col, weight, counts, len(numbers), len(rows),
                          c1, c2, c3)


def _one_to_one(genes: list[dict[tuple[int, int], Any]], col: np.ndarray, n_numbers: int, total: int) -> bool:
    """Whether the genes' innovation numbers (``col``: each gene's number, as its index among the
    ``n_numbers`` distinct ones) and their ``(src, dst)`` pairs are one to one: every gene of a
    number has the pair of one chosen gene of that number, and the chosen genes' pairs differ
    (in NumPy: the Python sets of pairs this replaces were a fifth of a table's cost)."""
    keys = list(chain.from_iterable(genes))  # each gene's (src, dst), in the order of ``col``
    try:  # through operator.index: NumPy alone reads '3', '03' and 3.5 as 3, so two pairs could look one
        src = np.fromiter(map(index, map(_FIRST, keys)), dtype=np.int64, count=total)
        dst = np.fromiter(map(index, map(_SECOND, keys)), dtype=np.int64, count=total)
    except (OverflowError, TypeError, ValueError):  # ids that are not int64 integers: let the caller align by pair
        return False
    first = np.empty(n_numbers, dtype=np.intp)
    first[col] = np.arange(total)  # one gene of each number (which one does not matter)
    same = (src == src[first[col]]) & (dst == dst[first[col]])
    return bool(same.all()) and len(set(zip(src[first].tolist(), dst[first].tolist()))) == n_numbers


_INNOVATION, _WEIGHT = attrgetter("innovation"), attrgetter("weight")
_FIRST, _SECOND = itemgetter(0), itemgetter(1)


__all__ = ["compatibility_table"]
