"""Durable writes of run files: what a write returns for is on disk, whatever happens next.

* :func:`write_atomically` replaces a file whole (temporary file, fsync, rename, fsync of the
  directory so that the rename itself survives a power cut), optionally keeping the file it
  replaces under another name.
* :func:`append_durably` appends text and fsyncs it, so that a checkpoint written afterwards
  never counts records that are not on disk.
* :func:`pause_for_tests` is a test hook: with ``EVOKIT_TEST_PAUSE_AT=<point>:<n>`` in the
  environment, the n-th write at ``<point>`` in this process (``append``: halfway through an
  append; ``checkpoint``: after the previous checkpoint was moved aside, before the new one is in
  place) announces itself in a file and sleeps, so that a test can kill the run at that moment.
  Without the variable it does nothing.
"""
from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

PAUSE_VARIABLE = "EVOKIT_TEST_PAUSE_AT"
_pauses: Counter[str] = Counter()


def fsync_directory(path: Path) -> None:
    """Flush a directory's entries (a rename, a new file) to disk; a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes, previous: Path | None = None) -> None:
    """Replace ``path`` with ``data`` so that a reader (or a crash) sees the old or the new file, whole.

    With ``previous``, the file being replaced is first renamed to ``previous`` (so there is
    always a whole file at ``path`` or at ``previous``).
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    if previous is not None and path.exists():
        os.replace(path, previous)
        pause_for_tests("checkpoint", path.parent)
    os.replace(tmp, path)
    fsync_directory(path.parent)


def append_durably(path: Path, text: str) -> None:
    """Append ``text`` to ``path`` and return only once it is on disk."""
    data = text.encode()
    with open(path, "ab") as f:
        half = len(data) // 2 if os.environ.get(PAUSE_VARIABLE) else len(data)
        f.write(data[:half])
        if half < len(data):
            f.flush()
            pause_for_tests("append", Path(path).parent)
            f.write(data[half:])
        f.flush()
        os.fsync(f.fileno())


def pause_for_tests(point: str, run_dir: Path) -> None:
    """Tests only: at the n-th ``point`` of this process named by ``EVOKIT_TEST_PAUSE_AT=point:n``,
    touch ``run_dir/paused-at-<point>`` and sleep (``EVOKIT_TEST_PAUSE_S`` seconds, default 60)."""
    wanted = os.environ.get(PAUSE_VARIABLE)
    if not wanted:
        return
    _pauses[point] += 1
    name, _, count = wanted.partition(":")
    if name == point and _pauses[point] == int(count or 1):
        (Path(run_dir) / f"paused-at-{point}").touch()
        time.sleep(float(os.environ.get("EVOKIT_TEST_PAUSE_S", "60")))
