"""``masks.npz``: a few validation images of a per-pixel run (segmentation), their true masks and
what the run's final model predicts for them, written when the search ends.

The report reads only the run's files, so the predictions it draws over the images must be
written while the model is at hand: :func:`write_masks` does it (``Search`` calls it after
saving ``best.keras``), :func:`read_masks` reads the file back (None when the run has none: a
run of another task, an older or a killed one).

Choices, and why:

* **Which images**: the first :data:`SHOWN` of the validation split whose true mask holds more
  than the first class (background), topped up with the others: an all-background image shows
  little. Validation, not test: the test split stays held out, even from the eye.
* **Small**: each image is subsampled to at most :data:`MAX_SIDE` pixels a side (every s-th
  pixel, so masks stay class codes), kept display-ready as ``uint8`` (each image stretched to
  0..255; one channel, or three for colour images), and the file is compressed. Six 128x128
  colour images with masks and confidences stay under 600 KB before compression.
* **What the model says**: the predicted class map and its confidence, the probability of the
  predicted class (not every class's probability: K maps would grow with the classes), as
  ``float16``. The per-image score is the task's headline (Dice) of each image at full
  resolution, computed by the task's own ``score``.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evokit import tasks
from evokit.runtime.run.files import write_atomically

MASKS = "masks.npz"
"""The file's name in the run directory."""
SHOWN = 6
"""How many validation images the file holds (fewer when the validation split is smaller)."""
MAX_SIDE = 128
"""The largest height or width an image is kept at (larger ones are subsampled)."""


@dataclass
class Masks:
    """What ``masks.npz`` holds: ``images`` ``(k, h, w, c)`` uint8 (c is 1 or 3), ``truth`` and
    ``predicted`` ``(k, h, w)`` class codes, ``confidence`` ``(k, h, w)`` the predicted class's
    probability, ``scores`` ``(k,)`` each image's ``metric`` (the task's headline, e.g.
    ``dice``) at full resolution, ``classes`` the class labels (as text) the codes stand for."""

    images: np.ndarray
    truth: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray
    scores: np.ndarray
    metric: str
    classes: list[str]

    def __len__(self) -> int:
        return len(self.images)


def pick(masks: np.ndarray, n: int = SHOWN) -> np.ndarray:
    """Indices of ``n`` masks: the first with more than class 0 in them, then the others."""
    shown = np.asarray(masks).reshape(len(masks), -1).max(axis=1) > 0
    return np.concatenate([np.flatnonzero(shown), np.flatnonzero(~shown)])[:n]


def _display(images: np.ndarray) -> np.ndarray:
    """Images ``(k, h, w, c)`` as uint8, each stretched to 0..255 (channels other than 1 or 3:
    the first only)."""
    x = np.asarray(images, dtype=np.float64)
    if x.shape[-1] not in (1, 3):
        x = x[..., :1]
    low = x.min(axis=(1, 2, 3), keepdims=True)
    span = x.max(axis=(1, 2, 3), keepdims=True) - low
    return np.round(255 * (x - low) / np.where(span > 0, span, 1.0)).astype(np.uint8)


def confidence(outputs: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """The probability of the predicted class: ``p`` or ``1 - p`` of one sigmoid unit, else the
    largest softmax output."""
    if outputs.shape[-1] == 1:
        p = outputs[..., 0]
        return np.where(predicted == 1, p, 1.0 - p)
    return outputs.max(axis=-1)


def collect(model: Any, data: Any, n: int = SHOWN) -> Masks | None:
    """The :class:`Masks` of ``model`` on ``n`` validation images of ``data``; None unless its
    task is per pixel and it has validation images."""
    from evokit.runtime.training.forward import predict
    from evokit.tasks.overlap import predicted_classes

    task = tasks.get(data.task)
    if not task.per_pixel or not len(data.y_val):
        return None
    index = pick(data.y_val, n)
    x, truth = data.x_val[index], np.asarray(data.y_val[index])
    outputs = np.asarray(predict(model, x), dtype=np.float32)
    predicted = predicted_classes(outputs)
    name = task.headline.name
    scores = [task.score(truth[i:i + 1], outputs[i:i + 1], prefix="")[name] for i in range(len(index))]
    step = max(1, -(-max(truth.shape[1:3]) // MAX_SIDE))  # ceil: every step-th pixel
    cut = (slice(None), slice(None, None, step), slice(None, None, step))
    return Masks(images=_display(x[cut]), truth=truth[cut].astype(np.int16), predicted=predicted[cut].astype(np.int16),
                 confidence=confidence(outputs, predicted)[cut].astype(np.float16),
                 scores=np.asarray(scores, dtype=np.float64), metric=name,
                 classes=[str(c) for c in (data.classes or range(max(2, outputs.shape[-1])))])


def write_masks(path: str | Path, model: Any, data: Any, n: int = SHOWN) -> Path | None:
    """Write ``masks.npz`` (:func:`collect`) to ``path``; nothing (None) for a task that is not
    per pixel or data without validation images."""
    masks = collect(model, data, n)
    if masks is None:
        return None
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=masks.images, truth=masks.truth, predicted=masks.predicted,
                        confidence=masks.confidence, scores=masks.scores, metric=np.array(masks.metric),
                        classes=np.array(masks.classes))
    write_atomically(Path(path), buffer.getvalue())
    return Path(path)


def read_masks(run_dir: str | Path) -> Masks | None:
    """The :class:`Masks` of a run directory, None when it has no ``masks.npz``; ValueError
    naming the file when it cannot be read (cut short, or not written by evokit)."""
    path = Path(run_dir) / MASKS
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            masks = Masks(images=f["images"], truth=f["truth"], predicted=f["predicted"], confidence=f["confidence"],
                          scores=f["scores"], metric=str(f["metric"]), classes=[str(c) for c in f["classes"]])
    except Exception as exc:  # noqa: BLE001 - a damaged zip raises anything
        raise ValueError(f"{path} cannot be read ({type(exc).__name__}: {exc})") from None
    k = len(masks.images)
    if (masks.images.ndim != 4 or masks.truth.shape != masks.images.shape[:3]
            or masks.predicted.shape != masks.truth.shape or len(masks.scores) != k):
        raise ValueError(f"{path} cannot be read: its arrays do not fit together (images {masks.images.shape}, "
                         f"true masks {masks.truth.shape}, predicted {masks.predicted.shape})")
    return masks
