"""The fitness cache: identical networks, trained the same way on the same data, train once.

Keyed by the NetSpec's canonical hash plus the training settings, the data's fingerprint and the
run seed (which fixes each network's own seed), so a hit returns exactly what training would.
"""
from __future__ import annotations

from typing import Iterable

from evokit.evaluation import Evaluation


class FitnessCache:
    """An in-memory map from cache key to Evaluation, with hit/miss counters."""

    def __init__(self) -> None:
        self._entries: dict[str, Evaluation] = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(spec_hash: str, context: str) -> str:
        """The key of a network under a training context (settings, data, seed)."""
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

    def drop_weights(self, keep: Iterable[str] = ()) -> None:
        """Forget trained weights except for the networks (spec hashes) in ``keep``, to bound memory."""
        keep = set(keep)
        for key, evaluation in self._entries.items():
            if evaluation.weights is not None and evaluation.spec_hash not in keep:
                self._entries[key] = evaluation.without_weights()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries
