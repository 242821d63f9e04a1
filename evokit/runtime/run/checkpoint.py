"""Checkpoints and interrupts: nothing a run has done is lost.

A checkpoint is written after every generation, atomically (a temporary file, flushed to disk,
then renamed over the old one), so a run killed at any moment leaves the previous complete
checkpoint. The one it replaces is kept as ``checkpoint.pkl.prev``: when the newest cannot be
read (a damaged disk, a file cut short by hand), the run resumes from the one before, one
generation earlier, and the networks trained since come from the fitness cache. When neither can
be read, :func:`load_checkpoint` raises a ConfigError naming the file. It is a pickle: load
checkpoints only from your own runs, never from an untrusted source, as unpickling can run code.

Ctrl-C during a search asks it to stop after the current generation (checkpoint, results and
report are written); a second Ctrl-C stops at once, the last checkpoint still in place.
"""
from __future__ import annotations

import pickle
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

from evokit import unpickle
from evokit.errors import ConfigError
from evokit.runtime.run.files import write_atomically

CHECKPOINT = "checkpoint.pkl"
PREVIOUS = "checkpoint.pkl.prev"
SEARCH = "search.pkl"
VERSION = 1


def save_checkpoint(run_dir: Path, payload: dict[str, Any]) -> None:
    """Write the checkpoint atomically, keeping the one it replaces as ``checkpoint.pkl.prev``."""
    path = Path(run_dir) / CHECKPOINT
    write_atomically(path, pickle.dumps({"version": VERSION, **payload}, protocol=pickle.HIGHEST_PROTOCOL),
                     previous=path.with_name(PREVIOUS))


def load_checkpoint(run_dir: Path) -> dict[str, Any] | None:
    """The run's last readable checkpoint (the newest, else the one before, with a warning), or
    None if it has none yet; ConfigError naming the file if it has one and none can be read."""
    run_dir = Path(run_dir)
    newest, previous = run_dir / CHECKPOINT, run_dir / PREVIOUS
    if not newest.exists() and not previous.exists():
        return None
    problems = []
    for path in (newest, previous):
        if not path.exists():
            continue
        try:
            payload = unpickle.loads(path.read_bytes())
        except Exception as exc:  # noqa: BLE001 - a damaged pickle raises anything (EOFError, UnpicklingError, ...)
            problems.append(f"{path} cannot be read ({type(exc).__name__}: {exc})")
            continue
        if not isinstance(payload, dict):
            problems.append(f"{path} cannot be read (it holds a {type(payload).__name__}, not a checkpoint)")
            continue
        if payload.get("version") != VERSION:
            raise ConfigError(f"run_dir={str(run_dir)!r} is invalid: its checkpoint has version "
                              f"{payload.get('version')!r}, this evokit reads version {VERSION}")
        if problems:
            warnings.warn(f"{problems[0]}; resuming from {path.name}, the checkpoint before it (the networks "
                          "trained since come from the fitness cache)", stacklevel=2)
        return payload
    raise ConfigError(f"run_dir={str(run_dir)!r} is invalid: {'; '.join(problems)}; the run cannot be resumed: "
                      "start it again (overwrite=True, evokit run --overwrite) or restore the file from a backup")


class Interrupts:
    """While active (in the main thread), the first SIGINT sets ``requested`` and the search stops
    after the current generation; the second raises KeyboardInterrupt at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            signal.signal(signal.SIGINT, self._previous or signal.default_int_handler)
            raise KeyboardInterrupt
        self.requested = True
        print("\nevokit: stopping after this generation (Ctrl-C again to stop now)", file=sys.stderr, flush=True)

    def __enter__(self) -> "Interrupts":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
