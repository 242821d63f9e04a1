"""Worker processes do not outlive the process that started them, however it ends."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from _processes import alive  # noqa: E402

_PARENT = """
import os, time
from evokit.evaluation import TrainingConfig
from evokit.runtime.executors import ProcessEvaluator

evaluator = ProcessEvaluator(1).start(None, TrainingConfig(epochs=1))
print(evaluator._ensure_pool().submit(os.getpid).result(), flush=True)
time.sleep(600)
"""


def test_a_worker_ends_itself_when_its_parent_is_killed():
    # a pool's worker waits on a queue whose writing end it holds itself: without its own check
    # it would wait for good once its parent is killed outright (kill -9, a nanny ending a Dask worker)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True, env=env)
    try:
        worker = int(parent.stdout.readline())
        # forked from the fork server the parent started (or, spawned, the parent's own child)
        assert alive(worker) and psutil.Process(worker).ppid() in {parent.pid} | {
            p.pid for p in psutil.Process(parent.pid).children()}
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(worker)
    finally:
        parent.kill()
