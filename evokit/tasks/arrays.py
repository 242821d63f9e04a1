"""Array checks shared by the tasks' target validation and the datasets' feature validation."""
from __future__ import annotations

import numpy as np

from evokit.errors import DataError, invalid_data


def finite_float32(field: str, array: np.ndarray) -> np.ndarray:
    """``array`` as float32, refusing text, complex and non-finite values (DataError naming ``field``)."""
    if array.dtype.kind not in "biufO":
        raise invalid_data(field, f"array of dtype {array.dtype}", "expected real numbers")
    try:
        out = array.astype(np.float32)
    except (TypeError, ValueError, OverflowError):
        raise invalid_data(field, f"array of dtype {array.dtype}", "expected real numbers") from None
    bad = ~np.isfinite(out)
    if bad.any():
        raise _not_finite(field, array.shape, out, bad)
    return out


def check_finite(field: str, array: np.ndarray) -> None:
    """Raise DataError naming ``field`` if the float ``array`` holds NaN or infinite values.

    Cheap enough for every Dataset made: one float64 sum (NaN and inf carry through it; NumPy
    casts in small buffers, so nothing the size of ``array`` is allocated); the exact counts are
    taken only when that sum is not finite. Integer and bool arrays pass (always finite)."""
    if array.dtype.kind != "f" or not array.size:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.sum(array, dtype=np.float64)
    if np.isfinite(total):
        return
    bad = ~np.isfinite(array)  # the sum can overflow for huge finite float64 values: count for sure
    if bad.any():
        raise _not_finite(field, array.shape, array, bad)


def _not_finite(field: str, shape: tuple, values: np.ndarray, bad: np.ndarray) -> DataError:
    """The message for float ``values`` (of an array of ``shape``) where ``bad`` marks non-finite ones."""
    n_nan = int(np.isnan(values).sum())
    n_inf = int(bad.sum()) - n_nan
    return invalid_data(field, f"array of shape {shape} with {n_nan} NaN and {n_inf} infinite values",
                        "expected finite numbers only (|value| < 3.4e38 for float32)")
