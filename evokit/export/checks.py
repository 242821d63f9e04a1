"""What an exported model is checked for: agreement with the Keras model, and its latency.

Choices, and why:

* Agreement is elementwise, as ``numpy.allclose``: every output of the exported model is within
  ``ATOL + RTOL * |keras output|`` of the Keras model's on the same inputs. All formats are
  float32 without quantisation, so they differ from Keras only by the order of float
  operations (about 1e-7 on the built-in datasets); 1e-4 leaves room for deeper networks and
  larger regression targets while still catching a wrong layer or weight. Outside it, the
  export is an error, not a warning.
* Argmax agreement (the share of samples, or pixels, whose top class is the same) is reported
  where the outputs are class scores (several per sample, for a task with class codes); it is
  information, the tolerance decides.
* Latency is the median wall time over ``runs`` calls after ``warmup`` calls, at batch 1 (per
  sample) and at a larger batch (per batch), on this machine with the runtime's default
  threads: a comparison between formats and networks on one machine, not a device benchmark.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from evokit.export.formats import ExportError

__all__ = ["ATOL", "RTOL", "agreement", "latency"]

ATOL = 1e-4
"""Absolute tolerance between the exported model's outputs and the Keras model's."""
RTOL = 1e-4
"""Relative tolerance (of the Keras model's output) added to :data:`ATOL`."""


def agreement(reference: np.ndarray, exported: np.ndarray, class_scores: bool) -> dict[str, Any]:
    """How closely ``exported`` outputs follow the Keras ``reference`` outputs: ``max_abs_diff``,
    ``argmax_agreement`` (None unless ``class_scores``), ``n_samples``, the tolerances and
    ``ok``."""
    reference = np.asarray(reference, np.float32)
    exported = np.asarray(exported, np.float32).reshape(reference.shape)
    diff = np.abs(exported - reference)
    argmax = None
    if class_scores and reference.shape[-1] > 1:
        argmax = float(np.mean(np.argmax(exported, -1) == np.argmax(reference, -1)))
    finite = bool(np.all(np.isfinite(exported)))
    return {"max_abs_diff": float(diff.max()) if diff.size else 0.0, "argmax_agreement": argmax,
            "n_samples": int(len(reference)), "atol": ATOL, "rtol": RTOL,
            "ok": finite and bool(np.all(diff <= ATOL + RTOL * np.abs(reference)))}


def check_agreement(name: str, result: dict[str, Any]) -> None:
    """ExportError naming the artifact and the largest difference unless ``result`` is ``ok``."""
    if not result["ok"]:
        raise ExportError(f"{name} disagrees with the Keras model: max |difference| = {result['max_abs_diff']:.3g} "
                          f"over {result['n_samples']} samples, beyond atol={ATOL:g} + rtol={RTOL:g}*|output|")


def latency(run: Callable[[np.ndarray], Any], x: np.ndarray, batch: int = 32, runs: int = 30,
            warmup: int = 3) -> dict[str, Any]:
    """Median milliseconds of ``run`` on one sample (``batch_1_ms``) and on ``batch`` samples
    (``batch_ms``, per batch), over ``runs`` timed calls each after ``warmup`` untimed ones.
    Samples are the first of ``x``, repeated when ``x`` holds fewer than ``batch``."""
    one = x[:1]
    many = np.resize(x, (batch,) + x.shape[1:]).astype(x.dtype, copy=False)
    return {"batch_1_ms": _median_ms(run, one, runs, warmup), "batch": batch,
            "batch_ms": _median_ms(run, many, runs, warmup), "runs": runs, "warmup": warmup}


def _median_ms(run: Callable[[np.ndarray], Any], x: np.ndarray, runs: int, warmup: int) -> float:
    for _ in range(warmup):
        run(x)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run(x)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000.0)
