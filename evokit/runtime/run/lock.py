"""One run at a time in a run directory: an exclusive OS file lock on ``evokit.lock``.

The lock is ``flock`` on the file, held for the life of a run. The kernel releases it when the
process ends, however it ends, so a run killed with ``kill -9`` never leaves a stale lock
behind. The holder writes its pid into the file, so that a second run that finds the directory
locked can say who holds it. The file stays after the run: it also marks the directory as an
evokit run (see ``RunDirectory.is_run``).

Choices, and why: ``flock`` rather than a pid file checked for liveness (pids are reused, and a
pid file outlives a killed run); rather than ``fcntl.lockf``/POSIX record locks, which are
released when *any* descriptor of the file is closed by the process and are not exclusive
within one process (a second ``Search`` on the same directory in a notebook must be refused
too). Where ``fcntl`` does not exist (Windows) runs are not locked.
"""
from __future__ import annotations

import os
from pathlib import Path

from evokit.errors import ConfigError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock
    fcntl = None  # type: ignore[assignment]

LOCK = "evokit.lock"


class RunLock:
    """The exclusive lock of run directory ``path``: :meth:`acquire` or ConfigError, :meth:`release`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def file(self) -> Path:
        return self.path / LOCK

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock and write this process's pid into it; ConfigError naming the directory
        and the holder's pid if another run (in this or another process) holds it."""
        if self._fd is not None:
            return
        fd = os.open(self.file, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise ConfigError(f"run_dir={str(self.path)!r} is invalid: another evokit run (pid {holder}) is "
                                  "using it; wait for it to end or stop it, then resume") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Let the next run in (the file stays: it marks the directory as a run)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        os.close(fd)  # closing the descriptor releases the flock
