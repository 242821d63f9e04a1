"""Checkpoints and interrupts: nothing a run has done is lost.

A checkpoint is written after every generation, atomically (a temporary file, flushed to disk,
then renamed over the old one), so a run killed at any moment leaves the previous complete
checkpoint. It is a pickle: load checkpoints only from your own runs, never from an untrusted
source, as unpickling can run code.

Ctrl-C during a search asks it to stop after the current generation (checkpoint, results and
report are written); a second Ctrl-C stops at once, the last checkpoint still in place.
"""
from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from evokit import unpickle

CHECKPOINT = "checkpoint.pkl"
SEARCH = "search.pkl"
VERSION = 1


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a reader (or a crash) sees the old or the new file, whole."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_checkpoint(run_dir: Path, payload: dict[str, Any]) -> None:
    write_atomically(run_dir / CHECKPOINT, pickle.dumps({"version": VERSION, **payload},
                                                        protocol=pickle.HIGHEST_PROTOCOL))


def load_checkpoint(run_dir: Path) -> dict[str, Any] | None:
    """The run's last checkpoint, or None if it has none yet."""
    path = run_dir / CHECKPOINT
    if not path.exists():
        return None
    payload = unpickle.loads(path.read_bytes())
    if payload.get("version") != VERSION:
        from evokit.errors import ConfigError

        raise ConfigError(f"run_dir={str(run_dir)!r} is invalid: its checkpoint has version "
                          f"{payload.get('version')!r}, this evokit reads version {VERSION}")
    return payload


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
