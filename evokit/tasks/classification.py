"""Classification: one label per sample, a softmax over the classes, sparse cross-entropy.

Labels of any sortable type are encoded as ``int64`` codes ``0..K-1`` in sorted order
(``Dataset.classes[i]`` is the original label of code ``i``); splits are stratified, so every
split needs samples of every class.
"""
from __future__ import annotations

import numpy as np

from evokit.errors import invalid_data
from evokit.tasks.base import Head, Metric, Task

EPSILON = 1e-7
"""Predicted probabilities are clipped to ``[EPSILON, 1]`` before the log (Keras's own epsilon),
so a confidently wrong prediction scores a large finite loss, not infinity."""


class Classification(Task):
    """Single-label classification: softmax head, ``sparse_categorical_crossentropy`` loss,
    scored by accuracy and cross-entropy; the headline is accuracy (higher is better)."""

    name = "classification"
    stratified = True
    class_codes = True
    losses = ("sparse_categorical_crossentropy",)

    def head(self, n_outputs: int) -> Head:
        return Head("softmax", n_outputs)

    def loss(self) -> str:
        return "sparse_categorical_crossentropy"

    def score(self, y_true: np.ndarray, y_pred: np.ndarray, prefix: str = "val_") -> dict[str, float]:
        """Accuracy (argmax against the label) and mean cross-entropy of the labels' probabilities."""
        p = np.clip(y_pred[np.arange(len(y_true)), y_true.astype(int)], EPSILON, 1.0)
        return {f"{prefix}accuracy": float(np.mean(np.argmax(y_pred, axis=1) == y_true)),
                f"{prefix}loss": float(-np.mean(np.log(p)))}

    @property
    def headline(self) -> Metric:
        return Metric("accuracy", higher_is_better=True, short="acc", percent=True)

    def n_outputs(self, y: np.ndarray, classes: tuple) -> int:
        return len(classes)

    def check_encoded(self, field: str, y: np.ndarray, classes: tuple) -> None:
        """1-D class codes: whole numbers in ``0..len(classes)-1`` (``>= 0`` while classes are not
        known). Only ``min``/``max`` pass over ``y``, except for float codes (checked whole)."""
        if y.ndim != 1:
            raise invalid_data(field, f"array of shape {y.shape}", "expected 1-D class codes")
        if y.dtype.kind not in "biuf":
            raise invalid_data(field, f"array of dtype {y.dtype}", "expected class codes 0..K-1 (integers); "
                               "evokit.datasets.from_arrays encodes labels of any type")
        if not len(y):
            return
        low, high = y.min(), y.max()
        allowed = f"0..{len(classes) - 1}" if classes else ">= 0"
        if not low >= 0 or not np.isfinite(high) or (classes and not high < len(classes)):
            raise invalid_data(field, f"class codes from {low} to {high}", f"expected class codes {allowed} "
                               "(evokit.datasets.from_arrays encodes labels of any type)")
        if y.dtype.kind == "f" and (y != np.floor(y)).any():
            raise invalid_data(field, "class codes with fractions", f"expected whole class codes {allowed}")

    def targets(self, y: np.ndarray, y_test: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray | None, tuple]:
        """Labels -> int64 codes 0..K-1 (sorted unique values), with the original values; every
        class needs enough samples for a stratified train/validation(/test) split."""
        codes, test_codes, classes = _encode_labels(y, y_test)
        needed = 2 if y_test is not None else 3
        counts = np.bincount(codes, minlength=len(classes))
        if counts.min() < needed:
            k = int(counts.argmin())
            raise invalid_data("y", f"labels where class {classes[k]!r} has {int(counts[k])} sample(s)",
                               f"a stratified train/validation{'' if y_test is not None else '/test'} "
                               f"split needs at least {needed} samples of every class")
        return codes, test_codes, classes


def _encode_labels(y: np.ndarray, y_test: np.ndarray | None) -> tuple:
    """Labels -> int64 codes 0..K-1 (sorted unique values), with the original values."""
    if y.ndim != 1:
        raise invalid_data("y", f"array of shape {y.shape}", "expected 1-D class labels for classification "
                           "(use y.argmax(1) for one-hot labels, y.ravel() for a column)")
    n_missing = sum(1 for v in y.tolist() if v is None or (isinstance(v, float) and v != v)
                    or (isinstance(v, str) and not v.strip()))
    if n_missing:
        raise invalid_data("y", f"labels with {n_missing} NaN/None/empty values", "expected a label per sample")
    try:
        values = np.unique(y)
    except TypeError:
        raise invalid_data("y", "labels of mixed types", "expected labels that sort (all numbers or all "
                           "strings)") from None
    if len(values) < 2:
        raise invalid_data("y", f"labels with {len(values)} distinct value(s) {values.tolist()}",
                           "classification needs at least 2 classes")
    codes = np.searchsorted(values, y).astype(np.int64)
    test_codes = None
    if y_test is not None:
        if y_test.ndim != 1:
            raise invalid_data("y_test", f"array of shape {y_test.shape}", "expected 1-D class labels")
        try:
            test_codes = np.clip(np.searchsorted(values, y_test), 0, len(values) - 1)
            unknown = sorted(set(y_test[values[test_codes] != y_test].tolist()), key=repr)
        except TypeError:
            unknown = ["(labels of another type than y)"]
        if unknown:
            raise invalid_data("y_test", f"labels {unknown[:10]} not in y", f"expected labels among the "
                               f"training classes {values.tolist()[:20]}")
        test_codes = test_codes.astype(np.int64)
    return codes, test_codes, tuple(values.tolist())
