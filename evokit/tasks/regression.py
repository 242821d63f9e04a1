"""Regression: one or more real targets per sample, linear outputs, mean squared error.

Targets are ``float32`` of shape ``(n,)`` or ``(n, outputs)``; splits are random (nothing to
stratify by).

Choices, and why:

* Scores are computed as scikit-learn computes them with ``multioutput="uniform_average"``
  (each output scored alone, then averaged), so numbers in evokit's reports equal those of a
  scikit-learn model scored on the same split. MSE and MAE are the plain means over every sample
  and output (the same thing); RMSE is the mean of the outputs' RMSEs (so it is ``sqrt(mse)``
  for one output only); R² is the mean of the outputs' R², where an output whose true values are
  constant scores 1.0 when predicted exactly and 0.0 otherwise (scikit-learn's
  ``force_finite``), so nothing divides by zero.
* The headline is R²: unit-free, comparable across datasets, higher is better like accuracy.
  ``loss`` stays MSE whatever loss the model was trained with (``TrainingConfig(loss=...)``:
  ``mse``, ``mae`` or ``huber``), so early stopping and ``ValidationLoss`` compare like with like.
"""
from __future__ import annotations

import numpy as np

from evokit.errors import invalid_data
from evokit.tasks.arrays import check_finite, finite_float32
from evokit.tasks.base import Head, Metric, Task


class Regression(Task):
    """Regression: linear head, ``mse`` loss by default (``mae`` and ``huber`` may be chosen),
    scored by MSE (``loss`` and ``mse``), MAE, RMSE and R²; the headline is R² (higher is better)."""

    name = "regression"
    losses = ("mse", "mae", "huber")

    def head(self, n_outputs: int) -> Head:
        return Head("linear", n_outputs)

    def loss(self) -> str:
        return "mse"

    def score(self, y_true: np.ndarray, y_pred: np.ndarray, prefix: str = "val_") -> dict[str, float]:
        """``loss`` (MSE), ``mse``, ``mae``, ``rmse`` and ``r2`` of ``y_pred`` (reshaped to the
        targets' shape), each averaged over the outputs as scikit-learn's ``uniform_average``."""
        y_true = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
        error = np.asarray(y_pred, dtype=np.float64).reshape(y_true.shape) - y_true
        squared = np.mean(error ** 2, axis=0)  # per output
        mse = float(np.mean(squared))
        return {f"{prefix}loss": mse, f"{prefix}mse": mse, f"{prefix}mae": float(np.mean(np.abs(error))),
                f"{prefix}rmse": float(np.mean(np.sqrt(squared))), f"{prefix}r2": r2(y_true, squared)}

    @property
    def headline(self) -> Metric:
        return Metric("r2", higher_is_better=True, label="R²")

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


def r2(y_true: np.ndarray, squared: np.ndarray) -> float:
    """The coefficient of determination of ``(n, outputs)`` targets whose per-output mean squared
    errors are ``squared``, averaged over the outputs; a constant output scores 1.0 if predicted
    exactly, else 0.0 (scikit-learn's ``r2_score`` with ``force_finite=True``)."""
    spread = np.mean((y_true - y_true.mean(axis=0)) ** 2, axis=0)  # per output, as squared is
    constant = spread == 0
    scores = np.where(constant, np.where(squared == 0, 1.0, 0.0), 1.0 - squared / np.where(constant, 1.0, spread))
    return float(np.mean(scores))


def _check_targets(field: str, y: np.ndarray) -> np.ndarray:
    if y.ndim not in (1, 2):
        raise invalid_data(field, f"array of shape {y.shape}", "expected regression targets of shape "
                           "(n,) or (n, outputs)")
    return finite_float32(field, y)
