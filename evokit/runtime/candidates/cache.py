"""The fitness cache: identical networks, trained the same way on the same data, train once.

Keyed by the NetSpec's canonical hash plus the training settings, the data's fingerprint, the
run seed (which fixes each network's own seed) and the probes, so a hit returns exactly what
training would. With a ``path`` the cache is also kept in SQLite and written as each evaluation
arrives: a killed run that resumes never trains those networks again.

A file that cannot be read (not SQLite, malformed, a damaged entry) is set aside as
``cache.sqlite.corrupt-<n>`` with a warning and the cache starts empty: it is only a cache.

The SQLite file holds pickled evaluations (without weights): load caches only from your own
runs, never from an untrusted source, as unpickling can run code.
"""
from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path
from typing import Iterable

from evokit import unpickle
from evokit.evaluation import Evaluation
from evokit.runtime.candidates.store import SQLiteFile


class FitnessCache:
    """A map from cache key to Evaluation with hit/miss counters, optionally persisted in SQLite."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self._entries: dict[str, Evaluation] = {}
        self.hits = 0
        self.misses = 0
        self._file = SQLiteFile(path, ["evaluations (key TEXT PRIMARY KEY, evaluation BLOB)"])
        try:
            for key, blob in self._file.rows("SELECT key, evaluation FROM evaluations"):
                self._entries[key] = unpickle.loads(blob)
        except Exception as exc:  # noqa: BLE001 - not a database, malformed, a damaged pickle: it is only a cache
            self._entries.clear()
            moved = self._file.set_aside()
            self._file.connect()  # a new, empty file in its place
            warnings.warn(f"{path} cannot be read ({type(exc).__name__}: {exc}); it is only a cache: set aside as "
                          f"{moved.name if moved else '-'} and started afresh (its networks are trained again)",
                          stacklevel=2)

    @property
    def path(self) -> Path | None:
        """The SQLite file the cache is kept in (None: in memory only)."""
        return self._file.path

    @staticmethod
    def key(spec_hash: str, context: str) -> str:
        """The key of a network under a training context (settings, data, seed, probes)."""
        return f"{spec_hash}|{context}"

    def get(self, key: str) -> Evaluation | None:
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def peek(self, key: str) -> Evaluation | None:
        """The entry for ``key`` without counting a hit or a miss."""
        return self._entries.get(key)

    def put(self, key: str, evaluation: Evaluation) -> None:
        self._entries[key] = evaluation
        if self.path is not None:
            blob = pickle.dumps(evaluation.without_weights(), protocol=pickle.HIGHEST_PROTOCOL)
            self._file.write(("INSERT OR REPLACE INTO evaluations VALUES (?, ?)", (key, blob)))

    def drop_weights(self, keep: Iterable[str] = ()) -> None:
        """Forget trained weights except for the entries (cache keys) in ``keep``, to bound memory."""
        keep = set(keep)
        for key, evaluation in self._entries.items():
            if (evaluation.weights is not None or evaluation.companion_weights is not None) and key not in keep:
                self._entries[key] = evaluation.without_weights()

    def close(self) -> None:
        self._file.close()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries
