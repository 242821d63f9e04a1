"""A tiny synthetic segmentation dataset for the U-Net tests: bright (and dark) squares on noise."""
import numpy as np

import evokit as ek


def blob_arrays(n=40, side=16, channels=1, classes=2, seed=0):
    """``n`` images ``(side, side, channels)`` and masks ``(side, side)``: class ``c >= 1`` is a 4x4
    square whose pixels are ``+1`` (class 1) or ``-1`` (class 2) in every channel, on noise."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, side, side), "int64")
    for m in masks:
        for c in range(1, classes):
            r, col = rng.integers(0, side - 4, size=2)
            m[r:r + 4, col:col + 4] = c
    level = np.select([masks == 1, masks == 2], [1.0, -1.0], 0.0)
    x = level[..., None] + rng.normal(0, 0.3, size=(n, side, side, channels))
    return x.astype("float32"), masks


def blob_data(n=40, side=16, channels=1, classes=2, seed=0):
    """:func:`blob_arrays` as a segmentation Dataset (``from_arrays`` infers the task from the masks)."""
    x, masks = blob_arrays(n, side, channels, classes, seed)
    return ek.datasets.from_arrays(x, masks, seed=seed)
