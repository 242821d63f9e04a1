"""Array checks shared by the tasks' target validation and the datasets' feature validation."""
from __future__ import annotations

import numpy as np

from evokit.errors import invalid_data


def finite_float32(field: str, array: np.ndarray) -> np.ndarray:
    """``array`` as float32, refusing text, complex and non-finite values (DataError naming ``field``)."""
    if array.dtype.kind not in "biufO":
        raise invalid_data(field, f"array of dtype {array.dtype}", "expected real numbers")
    try:
        out = array.astype(np.float32)
    except (TypeError, ValueError):
        raise invalid_data(field, f"array of dtype {array.dtype}", "expected real numbers") from None
    bad = ~np.isfinite(out)
    if bad.any():
        n_nan = int(np.isnan(out).sum())
        n_inf = int(bad.sum()) - n_nan
        raise invalid_data(field, f"array of shape {array.shape} with {n_nan} NaN and {n_inf} infinite "
                           "values", "expected finite numbers only (|value| < 3.4e38 for float32)")
    return out
