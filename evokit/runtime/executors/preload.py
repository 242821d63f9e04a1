"""What the fork server of :class:`~evokit.runtime.executors.process.ProcessEvaluator` imports once,
so that every worker process forked from it starts with TensorFlow, Keras and evokit's training
modules already imported, instead of importing them itself (~3-10 s of CPU per worker on the
development machine's 2 shared cores, the larger part of a short search's start-up).

Importing is all it does. TensorFlow starts its runtime (thread pools, devices, the eager
context) at its first op or device query, and a process forked after that would inherit a
runtime whose threads are gone; so this module runs no op and does not list devices: each
worker sets its thread counts and finds its devices itself after the fork
(:func:`evokit.runtime.training.workers.configure_threads`). With a backend other than
TensorFlow (``KERAS_BACKEND``), it imports nothing: those workers import their backend themselves.

Keras imports a few packages at its own import only because they are installed, none of which
training a candidate uses; the server imports Keras with them held back
(:mod:`evokit.runtime.executors.held_back`): a fifth to a third of its start-up here.
"""
from __future__ import annotations

import os

from evokit.runtime.executors.held_back import held_back


def _preload() -> None:
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    from evokit.logs import import_tensorflow

    with held_back():
        import_tensorflow(find_devices=False)  # its start-up lines held back, as in any worker
        import keras  # noqa: F401 - imported for the workers forked from this process

        import evokit.builder  # noqa: F401 - and what a worker's first candidate would import
        import evokit.layers  # noqa: F401
        import evokit.runtime.executors.process  # noqa: F401
        import evokit.runtime.training.trainer  # noqa: F401


completed = False
"""Whether this process's preload ran to its end (a server whose preload failed still forks: its
workers import what they need themselves, slowly)."""
try:
    _preload()
    completed = True
except Exception:  # noqa: BLE001
    pass
