"""Packages held back from an import: the fork server of
:class:`~evokit.runtime.executors.process.ProcessEvaluator` imports Keras without the packages
Keras imports only because they are installed (:mod:`evokit.runtime.executors.preload`).

Importing this module changes nothing; :func:`held_back` does, for the time of its block.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Iterator

HELD_BACK = ("sklearn", "pandas", "matplotlib")
"""Packages Keras imports when installed, for its scikit-learn wrappers, pandas-aware slicing of
inputs and image plots: 1.5-2.5 s of the fork server's 5-7 s import on the development machine
(scikit-learn pulls in SciPy). While the server imports Keras they count as not installed, so
Keras in every worker forked from it goes without them (a DataFrame still trains: Keras reads it
as an array); a worker's own code that imports one (a user's fitness that reads a DataFrame)
still gets it. Candidates' data reach workers as NumPy arrays. Where the server imported one
already (Python's fork server first imports the user's ``__main__``: a script that imports pandas
at its top), that one is not held back."""


@contextlib.contextmanager
def held_back(names: tuple[str, ...] = HELD_BACK) -> Iterator[None]:
    """Make ``import name`` fail with ImportError inside the block for each of ``names`` not yet
    imported (Python's own ``sys.modules[name] = None``), and importable again after it. It
    changes ``sys.modules`` for the whole process: the fork server is one thread while it imports."""
    held = [name for name in names if name not in sys.modules]
    for name in held:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in held:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
