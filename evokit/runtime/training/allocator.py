"""Keep a training process's tensors on glibc's heap when its environment froze the allocator.

glibc serves blocks above its *mmap threshold* (128 KB at start) with a fresh ``mmap`` and
gives them back with ``munmap`` on free. Normally the threshold rises by itself to the size of
the blocks a program keeps freeing (up to 32 MB), so a training loop's activations and gradients
soon come from the heap. Setting any of glibc's malloc variables in the environment switches
that adaptation off, and Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` for every worker it
starts (its ``distributed.nanny.pre-spawn-environ``; it also leaks it into the process that runs
a ``LocalCluster``, and from there into every process spawned later). Then every step maps and
unmaps its larger tensors and page-faults them in again, and the heap is shrunk and regrown
around them: measured here, a DeepGA network's training steps took 0.22 s instead of 0.12 s
(digits, 2 epochs, one thread), which was most of why two Dask workers trained only ~1.3x as
fast as one process.
"""
from __future__ import annotations

import ctypes
import functools
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
"""``mallopt`` parameter numbers (glibc's malloc.h)."""

HEAP_BLOCK_LIMIT = 32 * 2**20
"""Blocks up to this size come from the heap: the ceiling of glibc's own adaptive threshold on
64-bit systems, i.e. where an unfrozen process ends up."""

TRIM_THRESHOLD = 2 * HEAP_BLOCK_LIMIT
"""Free memory at the top of the heap kept for reuse rather than returned to the system: twice
the mmap threshold, as glibc's adaptation sets it."""

FREEZING_VARIABLES = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")
"""Environment variables that switch glibc's adaptive mmap threshold off when a process starts
(``MALLOC_MMAP_THRESHOLD_`` does too, but that one is an explicit choice and is left alone), and
their ``GLIBC_TUNABLES`` forms (``glibc.malloc.trim_threshold`` ...)."""


def _environment_at_start() -> dict[str, str]:
    """The environment this process was started with (what glibc read), not today's ``os.environ``."""
    with open("/proc/self/environ", "rb") as environ:
        entries = environ.read().split(b"\0")
    pairs = (entry.decode(errors="replace").partition("=") for entry in entries if b"=" in entry)
    return {name: value for name, _, value in pairs}


@functools.cache
def keep_tensors_on_heap() -> bool:
    """Put glibc's mmap and trim thresholds where its own adaptation would (32 MB and 64 MB) if
    this process started with them frozen; once per process.

    Returns whether they were changed. Does nothing on systems without glibc and ``/proc``
    (macOS, Windows, musl), and nothing when ``MALLOC_MMAP_THRESHOLD_`` was set: set it to keep
    malloc settings of your own in the processes that train.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        environment = _environment_at_start()
    except OSError:
        return False
    tunables = environment.get("GLIBC_TUNABLES", "")
    if "MALLOC_MMAP_THRESHOLD_" in environment or "glibc.malloc.mmap_threshold" in tunables:
        return False
    if not (any(name in environment for name in FREEZING_VARIABLES)
            or any(f"glibc.malloc.{name}" in tunables for name in ("trim_threshold", "top_pad", "mmap_max"))):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, HEAP_BLOCK_LIMIT)) and bool(libc.mallopt(M_TRIM_THRESHOLD,
                                                                                           TRIM_THRESHOLD))
    except (OSError, AttributeError):  # not glibc
        return False
