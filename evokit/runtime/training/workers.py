"""Worker-process hygiene: what a process that trains candidates for another process sets up
before its first candidate, whichever executor started it (a process pool's worker, a Dask
worker or its trainer process, a ``map``'s worker).

* TensorFlow threads (:func:`configure_threads`): one per worker process is what makes N
  workers on N cores ~N times faster than one process.
* GPU memory (:func:`grow_gpu_memory`, called with the threads): TensorFlow takes all of a GPU's
  memory in the first process that uses it; growing it as needed lets workers share one GPU.
* Ctrl-C (:func:`ignore_interrupts`): a terminal sends it to the whole process group; the main
  process decides what it means (finish the generation, checkpoint), the workers go on.
* Orphans (:func:`exit_when_orphaned`): a worker ends itself once the process that started it is
  gone.
* Children (:func:`allow_children`): a daemonic process (a Dask worker, by default) may start
  worker processes of its own.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from typing import Any

from evokit.logs import import_tensorflow

ORPHAN_CHECK_SECONDS = 1.0
"""How often a worker process looks whether the process that started it is still there."""

_THREADS_LOCK = threading.Lock()
_THREADS_SET: list[int] = []  # the TensorFlow thread count this process was given (at most once)


def configure_threads(threads: int | None) -> None:
    """Give this process's TensorFlow ``threads`` intra- and inter-op threads, once per process
    (None: leave TensorFlow's default). Called before a worker's first training: TensorFlow fixes
    its thread pools when it first runs an op; if that already happened here, its setting stays.
    """
    if threads is None or _THREADS_SET:
        return
    with _THREADS_LOCK:
        if _THREADS_SET:
            return
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        tf = import_tensorflow()  # its start-up lines and Python warnings quiet, as the command's (evokit.logs)

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already initialised in this process: keep its pools
            pass
        grow_gpu_memory(tf)
        _THREADS_SET.append(threads)


def grow_gpu_memory(tf: Any) -> None:
    """Let each GPU visible to this process (``CUDA_VISIBLE_DEVICES`` picks them) hand out its
    memory as the process needs it, not all at once, so that worker processes can share one GPU.
    Nothing happens without a GPU, or for a GPU TensorFlow has already initialised here."""
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except (RuntimeError, ValueError):  # already initialised: its memory policy is fixed
            pass


def ignore_interrupts() -> None:
    """Ignore Ctrl-C in this process (called in a worker's main thread; elsewhere it does nothing,
    as Python allows signal handlers only there)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def exit_when_orphaned(parent: int | None) -> None:
    """Watch, in a daemon thread, for the end of process ``parent`` and end this process then.

    A pool's worker waits on a queue whose writing end it holds itself, so a parent killed
    outright (``kill -9``, a Dask worker ended by its nanny) would leave it waiting, and holding
    its memory, for good.

    ``parent`` is this process's parent's id; None: the process that started this one through
    multiprocessing, watched through its sentinel (a worker forked from a fork server has the
    server as its parent, and the server lives as long as any of its workers does).
    """
    threading.Thread(target=_watch_parent, args=(parent,), name="evokit-orphan-check", daemon=True).start()


def _watch_parent(parent: int | None) -> None:
    starter = multiprocessing.parent_process() if parent is None else None
    if parent is None and starter is None:  # not started through multiprocessing: nothing to watch
        return
    while True:
        time.sleep(ORPHAN_CHECK_SECONDS)
        if (os.getppid() != parent) if starter is None else not starter.is_alive():
            os._exit(0)


def allow_children() -> None:
    """Let this process start workers even if it is a daemonic one (a Dask worker is, by default).

    multiprocessing refuses children to daemonic processes because a daemon is ended without
    notice and its children would be orphaned; evokit's workers end themselves when their parent
    is gone (:func:`exit_when_orphaned`), which is what the rule protects.
    """
    config = getattr(multiprocessing.current_process(), "_config", None)  # where the flag lives (no public setter)
    if isinstance(config, dict) and config.get("daemon"):
        config["daemon"] = False
