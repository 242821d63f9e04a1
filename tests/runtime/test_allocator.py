"""keep_tensors_on_heap: glibc's frozen mmap threshold is raised, and only when it was frozen.

Each case runs in a fresh interpreter, because glibc reads its malloc variables when a process
starts. Whether a 2 MB block was mapped on its own is read from glibc's ``mallinfo2``.
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator (Linux)")

ROOT = Path(__file__).parents[2]

PROBE = textwrap.dedent("""
    import ctypes, os, sys
    import numpy as np
    from evokit.runtime.training.allocator import keep_tensors_on_heap

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                     "fordblks", "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2

    def mapped_on_its_own() -> bool:
        for _ in range(3):  # let an unfrozen threshold adapt to the block size first
            np.ones(2**18).sum()
        before = libc.mallinfo2().hblkhd
        block = np.ones(2**18)  # 2 MB
        return libc.mallinfo2().hblkhd - before >= block.nbytes

    if len(sys.argv) > 1:
        os.environ[sys.argv[1]] = "65536"  # set after start: glibc never read it
    print(mapped_on_its_own(), keep_tensors_on_heap(), mapped_on_its_own())
""")


def _probe(env: dict[str, str], *args: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    clean["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", PROBE, *args], env={**clean, **env}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.parametrize("env", [{"MALLOC_TRIM_THRESHOLD_": "65536"},  # what Dask's nanny sets
                                 {"MALLOC_TOP_PAD_": "0"},
                                 {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=65536"}])
def test_a_frozen_threshold_is_raised_so_large_blocks_come_from_the_heap(env):
    assert _probe(env) == ["True", "True", "False"]


def test_an_unfrozen_process_is_left_alone():
    assert _probe({}) == ["False", "False", "False"]


def test_a_variable_set_after_start_is_not_mistaken_for_one_glibc_read():
    assert _probe({}, "MALLOC_TRIM_THRESHOLD_") == ["False", "False", "False"]


def test_an_explicit_mmap_threshold_is_the_users_choice():
    assert _probe({"MALLOC_TRIM_THRESHOLD_": "65536", "MALLOC_MMAP_THRESHOLD_": "131072"}) == ["True", "False", "True"]
