"""Regression: one or more real targets per sample, linear outputs, mean squared error.

Targets are ``float32`` of shape ``(n,)`` or ``(n, outputs)``; splits are random (nothing to
stratify by).
"""
from __future__ import annotations

import numpy as np

from evokit.errors import invalid_data
from evokit.tasks.arrays import check_finite, finite_float32
from evokit.tasks.base import Head, Metric, Task


class Regression(Task):
    """Regression: linear head, ``mse`` loss, scored by mean squared error (``loss``), which is
    also the headline (lower is better)."""

    name = "regression"

    def head(self, n_outputs: int) -> Head:
        return Head("linear", n_outputs)

    def loss(self) -> str:
        return "mse"

    def score(self, y_true: np.ndarray, y_pred: np.ndarray, prefix: str = "val_") -> dict[str, float]:
        """Mean squared error over every sample and output (``y_pred`` reshaped to the targets')."""
        y_true = y_true.reshape(len(y_true), -1)
        return {f"{prefix}loss": float(np.mean((y_pred.reshape(y_true.shape) - y_true) ** 2))}

    @property
    def headline(self) -> Metric:
        return Metric("loss", higher_is_better=False)

    def n_outputs(self, y: np.ndarray, classes: tuple) -> int:
        return 1 if y.ndim == 1 else int(y.shape[1])

    def check_encoded(self, field: str, y: np.ndarray, classes: tuple) -> None:
        """Finite real targets of shape ``(n,)`` or ``(n, outputs)`` (one sum over ``y``, no copy)."""
        if y.ndim not in (1, 2) or y.dtype.kind not in "biuf":
            raise invalid_data(field, f"array of shape {y.shape} and dtype {y.dtype}",
                               "expected real regression targets of shape (n,) or (n, outputs)")
        check_finite(field, y)

    def targets(self, y: np.ndarray, y_test: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray | None, tuple]:
        """Finite float32 targets of shape ``(n,)`` or ``(n, outputs)``, ``y_test`` shaped like ``y``."""
        y = _check_targets("y", y)
        if y_test is not None:
            y_test = _check_targets("y_test", y_test)
            if y_test.shape[1:] != y.shape[1:]:
                raise invalid_data("y_test", f"array of shape {y_test.shape}",
                                   f"expected targets of shape {y.shape[1:]} like y")
        return y, y_test, ()


def _check_targets(field: str, y: np.ndarray) -> np.ndarray:
    if y.ndim not in (1, 2):
        raise invalid_data(field, f"array of shape {y.shape}", "expected regression targets of shape "
                           "(n,) or (n, outputs)")
    return finite_float32(field, y)
