"""Segmentation: a class per pixel. Images in, masks out, scored by Dice and IoU.

Targets are masks: ``(n, height, width)`` class maps, or ``(n, height, width, 1)`` binary masks
(a channel axis of one is dropped). Like classification's labels, mask values of any whole type
are encoded as ``int32`` codes ``0..K-1`` in sorted order (``Dataset.classes`` keeps the
originals: a 0/255 mask becomes 0/1). Splits are random (nothing to stratify whole images by).

Choices, and why:

* **Head**: two classes (binary masks) get one sigmoid unit per pixel, more get a softmax over
  the K classes per pixel; either is a 1x1 convolution at the input's resolution
  (``per_pixel``: ``add_head`` asks for it).
* **Loss**: cross-entropy plus the soft Dice loss, the usual pair for medical segmentation (the
  cross-entropy gives smooth early gradients, the Dice term keeps small foreground regions from
  being swamped by the background). Both are per image: the soft Dice of each class
  (foreground only for binary masks), averaged over the classes, with smoothing so that an
  absent class that is not predicted scores 1. Per image, not per batch, so that sample weights
  (the trainer's zero-weighted padding) weigh whole losses. ``score``'s ``loss`` is the same
  formula averaged over the split's images.
* **Metrics**: Dice and IoU (Jaccard) of the hard prediction (argmax, or probability > 0.5),
  each per class over the whole split then averaged over the classes (foreground only for
  binary masks, as NASGP-Net reports it), plus pixel accuracy. The headline is Dice.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from evokit.errors import invalid_data
from evokit.tasks.base import Head, Metric, Task
from evokit.tasks.overlap import overlap_scores, predicted_classes, soft_loss


class Segmentation(Task):
    """Semantic segmentation: a per-pixel sigmoid (two classes) or softmax head, cross-entropy +
    soft Dice loss, scored by Dice, IoU and pixel accuracy; the headline is Dice."""

    name = "segmentation"
    class_codes = True
    per_pixel = True

    def head(self, n_outputs: int) -> Head:
        return Head("sigmoid", 1) if n_outputs == 1 else Head("softmax", n_outputs)

    def loss(self) -> Any:
        from evokit.tasks.segmentation_loss import DiceCrossEntropy

        return DiceCrossEntropy()

    def score(self, y_true: np.ndarray, y_pred: np.ndarray, prefix: str = "val_") -> dict[str, float]:
        """``loss`` (cross-entropy + soft Dice loss), ``dice``, ``iou`` and ``pixel_accuracy``."""
        y_true = np.asarray(y_true).astype(np.int64, copy=False)
        y_pred = np.asarray(y_pred, dtype=np.float32)
        scores = overlap_scores(y_true, predicted_classes(y_pred), y_pred.shape[-1])
        return {f"{prefix}loss": float(soft_loss(y_true, y_pred)),
                **{f"{prefix}{name}": value for name, value in scores.items()}}

    @property
    def headline(self) -> Metric:
        return Metric("dice", higher_is_better=True, label="Dice")

    def n_outputs(self, y: np.ndarray, classes: tuple) -> int:
        k = len(classes) if classes else int(np.max(y)) + 1
        return 1 if k <= 2 else k

    def check_encoded(self, field: str, y: np.ndarray, classes: tuple) -> None:
        """Masks of shape ``(n, height, width)`` holding whole class codes ``0..len(classes)-1``
        (only ``min``/``max`` pass over ``y``)."""
        if y.ndim != 3:
            raise invalid_data(field, f"array of shape {y.shape}", "expected masks of shape (n, height, width)")
        if y.dtype.kind not in "iub":
            raise invalid_data(field, f"array of dtype {y.dtype}", "expected integer class codes 0..K-1 "
                               "(evokit.datasets.from_arrays encodes masks of any whole values)")
        if not y.size:
            return
        low, high = int(y.min()), int(y.max())
        if low < 0 or (classes and high >= len(classes)):
            allowed = f"0..{len(classes) - 1} (classes {list(classes)[:10]})" if classes else ">= 0"
            raise invalid_data(field, f"masks with class codes from {low} to {high}",
                               f"expected class codes {allowed}: a mask holds a class the data does not declare")

    def check_inputs(self, field: str, sample_shape: tuple[int, ...], y: np.ndarray, samples: str = "X") -> None:
        """Masks fit images: samples of shape ``(height, width, channels)`` (DataError naming
        ``samples`` otherwise) with a mask of ``(height, width)`` each (naming ``field``)."""
        if len(sample_shape) != 3:
            raise invalid_data(samples, f"samples of shape {sample_shape}", "expected images (height, width, channels) "
                               "for segmentation; add a channel axis to grayscale images: X[..., None]")
        if tuple(y.shape[1:3]) != tuple(sample_shape[:2]):
            raise invalid_data(field, f"masks of shape {tuple(y.shape[1:])}",
                               f"expected one mask of the images' size {tuple(sample_shape[:2])} per image")

    def targets(self, y: np.ndarray, y_test: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray | None, tuple]:
        """Masks -> int32 codes ``0..K-1`` (the sorted distinct values of ``y``), with the values."""
        y = _masks("y", y)
        values = np.unique(y)
        if len(values) < 2:
            raise invalid_data("y", f"masks with {len(values)} distinct value(s) {values.tolist()}",
                               "segmentation needs at least 2 classes (e.g. background and foreground)")
        codes = np.searchsorted(values, y).astype(np.int32)
        test_codes = None
        if y_test is not None:
            y_test = _masks("y_test", y_test)
            if y_test.shape[1:] != y.shape[1:]:
                raise invalid_data("y_test", f"masks of shape {y_test.shape[1:]}",
                                   f"expected masks of shape {y.shape[1:]} like y")
            unknown = np.setdiff1d(np.unique(y_test), values)
            if len(unknown):
                raise invalid_data("y_test", f"masks with values {unknown.tolist()[:10]} not in y",
                                   f"expected mask values among y's classes {values.tolist()[:20]}")
            test_codes = np.searchsorted(values, y_test).astype(np.int32)
        classes = tuple(v.item() if hasattr(v, "item") else v for v in values)
        return codes, test_codes, classes


def _masks(field: str, y: np.ndarray) -> np.ndarray:
    """``y`` as ``(n, height, width)`` whole numbers (a trailing channel axis of one dropped)."""
    if y.ndim == 4 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.ndim != 3:
        raise invalid_data(field, f"array of shape {y.shape}", "expected masks of shape (n, height, width) "
                           "or (n, height, width, 1)")
    if y.dtype.kind == "b":
        return y.astype(np.int32)
    if y.dtype.kind not in "iuf":
        raise invalid_data(field, f"array of dtype {y.dtype}", "expected masks of whole numbers (class codes)")
    if y.dtype.kind == "f" and not (np.isfinite(y).all() and (y == np.round(y)).all()):
        raise invalid_data(field, "masks with fractions or non-finite values", "expected whole class values "
                           "(threshold soft masks first, e.g. y > 0.5)")
    return y
