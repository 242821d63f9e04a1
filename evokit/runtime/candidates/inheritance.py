"""Weight inheritance: a child network starts from the trained weights of an earlier network for
the layers it kept unchanged, and from its own seeded initial weights for the rest.

A layer is *kept* when it has the same configuration and reads the same, kept, inputs as a layer
of the donor, all the way back to the network input (the Merkle key ``NetSpec.node_keys``): for
a chain that is the longest identical prefix; for a graph, every node whose whole upstream
subgraph is unchanged. A layer after a changed one is not kept even if its configuration is the same, as
what it reads has changed (and its weight shapes often have too).

:class:`WeightPool` keeps the trained weights of the last ``capacity`` networks a search
evaluated (in memory; the fitness cache drops weights) and picks, for a child, the donor with
the most kept layers that hold weights. With a ``path`` (a search with a run directory) it also
writes them to SQLite, so that a resumed run finds the same donors as an uninterrupted one:
entries are ordered by when the uninterrupted run added them, and only those the search had
evaluated at its checkpoint (its ``seen`` keys) are brought back. Like the fitness cache, the
file holds pickles: open only your own runs.
"""
from __future__ import annotations

import os
import pickle
import random
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection

import numpy as np

from evokit.errors import check_int
from evokit.netspec import NetSpec
from evokit.netspec.weights import weight_arrays
from evokit.runtime.candidates.store import SQLiteFile

KEEP_BATCHES = 8
"""Batches after which the file forgets networks dropped from the pool (see ``WeightPool.prune``)."""


def kept_layers(child: NetSpec, donor: NetSpec) -> dict[int, int]:
    """Child node -> donor node for every layer the child kept from the donor (see the module
    docstring). Interchangeable donor nodes (equal keys) are paired in node order."""
    free: dict[str, list[int]] = {}
    for j, key in enumerate(donor.node_keys):
        free.setdefault(key, []).append(j)
    mapping: dict[int, int] = {}
    for i, key in enumerate(child.node_keys):
        if free.get(key):
            mapping[i] = free[key].pop(0)
    return mapping


def initial_weights(spec: NetSpec, seed: int) -> list[np.ndarray]:
    """The seeded initial weights the trainer builds ``spec`` with (``build(spec, seed)``), in
    ``get_weights`` order. Builds a Keras model; Python's and NumPy's generators are untouched."""
    from evokit.builder import build
    from evokit.runtime.training.trainer import forget_models

    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        weights = [np.array(w) for w in build(spec, seed=seed).get_weights()]
        forget_models()
        return weights
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def inherit(child: NetSpec, seed: int, donor: NetSpec, donor_weights: list[Any],
            mapping: dict[int, int] | None = None) -> tuple[list[np.ndarray], int]:
    """The child's starting weights: the donor's trained arrays for its kept layers (``mapping``,
    default :func:`kept_layers`), its own seeded initial arrays elsewhere; and how many arrays
    were inherited."""
    mapping = kept_layers(child, donor) if mapping is None else mapping
    by_node = {(a.node, a.name): w for a, w in zip(weight_arrays(donor), donor_weights)}
    start = initial_weights(child, seed)
    inherited = 0
    for k, array in enumerate(weight_arrays(child)):
        source = by_node.get((mapping.get(array.node, -2), array.name))
        if source is not None and tuple(np.shape(source)) == array.shape:
            start[k] = np.array(source, copy=True)
            inherited += 1
    return start, inherited


@dataclass
class Donor:
    """One network of the pool: its cache key, NetSpec, trained weights and position in the run."""

    key: str
    spec: NetSpec
    weights: list[Any]
    order: int


class WeightPool:
    """The trained weights of the last ``capacity`` networks evaluated, to inherit from.

    Args:
        capacity: how many networks are kept (the oldest is dropped first).
        path: an SQLite file to keep them in too (for resume); None keeps them in memory only.
    """

    def __init__(self, capacity: int = 16, path: str | os.PathLike | None = None):
        self.capacity = check_int("capacity", capacity, minimum=1)
        self._file = SQLiteFile(path, ["donors (key TEXT PRIMARY KEY, ord INTEGER, blob BLOB)",
                                       "resolved (base TEXT PRIMARY KEY, key TEXT)"])
        self.entries: OrderedDict[str, Donor] = OrderedDict()
        self._oldest: deque[int] = deque(maxlen=KEEP_BATCHES)

    # -- donors ---------------------------------------------------------------------------------

    def donor(self, child: NetSpec) -> tuple[Donor, dict[int, int]] | None:
        """The kept network sharing the most kept layers with weights with ``child`` (ties: more
        inherited parameters, then the most recent), with its layer mapping; None if none shares
        a layer that has weights."""
        arrays = weight_arrays(child)
        weighted = {a.node for a in arrays}
        best: tuple[tuple[int, int, int], Donor, dict[int, int]] | None = None
        for entry in self.entries.values():
            mapping = {c: d for c, d in kept_layers(child, entry.spec).items() if c in weighted}
            if not mapping:
                continue
            score = (len(mapping), sum(a.size for a in arrays if a.node in mapping), entry.order)
            if best is None or score > best[0]:
                best = (score, entry, mapping)
        return None if best is None else (best[1], best[2])

    def add(self, key: str, spec: NetSpec, weights: list[Any], order: int) -> None:
        """Keep the trained ``weights`` of the network ``spec`` evaluated under ``key``; ``order``
        is its position in the run (the network with the lowest is dropped first)."""
        self.entries[key] = Donor(key, spec, [np.asarray(w) for w in weights], order)
        while len(self.entries) > self.capacity:
            del self.entries[min(self.entries.values(), key=lambda e: e.order).key]
        self.store(key, spec, weights, order)

    def store(self, key: str, spec: NetSpec, weights: list[Any], order: int) -> None:
        """Write trained weights to the file only (a result that may become a donor, kept so that
        a run killed before its checkpoint finds them again)."""
        if self.path is not None:
            blob = pickle.dumps((spec.to_dict(), [np.asarray(w) for w in weights]), protocol=pickle.HIGHEST_PROTOCOL)
            self._file.write(("INSERT OR REPLACE INTO donors VALUES (?, ?, ?)", (key, order, blob)))

    def prune(self) -> None:
        """Call after each batch: delete from the file the weights older than every network kept
        ``KEEP_BATCHES`` batches ago. Not sooner: a run killed before its checkpoint resumes from
        an earlier pool, whose networks must still be in the file."""
        if not self.entries:
            return
        self._oldest.append(min(e.order for e in self.entries.values()))
        if len(self._oldest) == self._oldest.maxlen:
            self._file.write(("DELETE FROM donors WHERE ord < ?", (self._oldest[0],)))

    def stored(self, key: str) -> tuple[NetSpec, list[Any]] | None:
        """The network and weights written to the file under ``key`` (e.g. by a run that was
        killed before its checkpoint), or None."""
        rows = self._file.rows("SELECT blob FROM donors WHERE key = ?", (key,))
        if not rows:
            return None
        spec, weights = pickle.loads(rows[0][0])
        return NetSpec.from_dict(spec), weights

    # -- which evaluation a network got ----------------------------------------------------------

    def remember(self, base: str, key: str) -> None:
        """Write down that the network with plain key ``base`` was evaluated under ``key``."""
        self._file.write(("INSERT OR REPLACE INTO resolved VALUES (?, ?)", (base, key)))

    def reload(self, seen: Collection[str]) -> dict[str, str]:
        """Rebuild the pool from the file, keeping only networks in ``seen`` (those evaluated
        before the checkpoint the run resumes from); returns the plain key -> evaluation key map
        of those networks."""
        self.entries.clear()
        rows = [r for r in self._file.rows("SELECT key, ord, blob FROM donors ORDER BY ord") if r[0] in seen]
        for key, order, blob in rows[-self.capacity:]:
            spec, weights = pickle.loads(blob)
            self.entries[key] = Donor(key, NetSpec.from_dict(spec), weights, order)
        return {base: key for base, key in self._file.rows("SELECT base, key FROM resolved") if key in seen}

    @property
    def path(self) -> Path | None:
        """The SQLite file the pool is kept in (None: in memory only)."""
        return self._file.path

    def clear_file(self) -> None:
        """Forget what the file holds (a run starting from an empty cache)."""
        self._file.write(("DELETE FROM donors", ()), ("DELETE FROM resolved", ()))

    def close(self) -> None:
        self._file.close()

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"WeightPool(capacity={self.capacity})"
