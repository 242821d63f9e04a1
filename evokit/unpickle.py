"""Reading evokit's own pickles (checkpoints, saved searches, cache entries) written by earlier
versions, whose classes may since have moved to another module.

A pickle names each class by module path. When a module moves, :data:`MOVED` maps its old path
to where its classes live now, so a run directory written before the move still resumes. Like
every pickle, these files can run code when loaded: load only your own runs.
"""
from __future__ import annotations

import importlib
import io
import pickle
from typing import Any

MOVED = {
    "evokit.runtime.evaluators": "evokit.runtime.executors",
    "evokit.runtime.map_evaluator": "evokit.runtime.executors",
    "evokit.runtime.dask": "evokit.runtime.executors",
    "evokit.runtime.candidates": "evokit.runtime.candidates.evaluator",
    "evokit.runtime.cache": "evokit.runtime.candidates.cache",
    "evokit.runtime.inheritance": "evokit.runtime.candidates.inheritance",
    "evokit.runtime.fidelity": "evokit.runtime.candidates.fidelity",
    "evokit.runtime.rundir": "evokit.runtime.run.directory",
    "evokit.runtime.runlog": "evokit.runtime.run.log",
    "evokit.runtime.checkpoint": "evokit.runtime.run.checkpoint",
    "evokit.runtime.trainer": "evokit.runtime.training.trainer",
    "evokit.runtime.training_loop": "evokit.runtime.training.loop",
    "evokit.runtime.traced": "evokit.runtime.training.traced",
    "evokit.runtime.allocator": "evokit.runtime.training.allocator",
    "evokit.runtime.pareto": "evokit.pareto",
}
"""Old module path -> the module (or package face) that holds its classes now (runtime split)."""


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        moved = MOVED.get(module)
        if moved is not None:
            found = getattr(importlib.import_module(moved), name, None)
            if found is not None:
                return found
        return super().find_class(module, name)


def loads(data: bytes) -> Any:
    """``pickle.loads`` that also finds classes under the module paths they had before a move."""
    return _Unpickler(io.BytesIO(data)).load()
