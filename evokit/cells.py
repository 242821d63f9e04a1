"""``cells``: a generated segmentation set, made offline in well under a second (like ``mnist1d``).

Each image is a grey microscope-like field with 1 to 6 overlapping "cells" (ellipses) and an
EXACT binary mask of them (1 = cell, 0 = background), drawn from ``numpy.random.default_rng(seed)``
alone: the same ``(n, size, seed)`` give the same arrays, and no global generator is touched.
3,000 images take about 0.45 s at 32 px and 2 s at 64 px (one CPU core); cells cover about a
fifth of the pixels (2 % to 53 % of an image).

Built so that a threshold does not solve it while a small U-Net does. Measured on
``load("cells")``'s 600 test images (``tests/test_cells.py``): the best global threshold (chosen
on the training split) reaches a Dice of 0.61, even a threshold chosen per image with its mask
in hand 0.65, a 17k-parameter U-Net trained on 1,000 images for 6 epochs 0.93. Why:

* **Uneven illumination**: a random linear gain across the field (up to 0.2x to 1.8x from
  corner to corner) and an additive offset ramp, so "bright" depends on where a pixel is.
* **Cells of varying contrast**: from faint (0.25) to bright (1.0) above the background, with a
  brighter rim, a darker nucleus and a fine multiplicative texture.
* **Debris**: small bright Gaussian spots (0.5 to 1.3, brighter than faint cells), not in the
  mask: told apart by size and shape, not by brightness.
* **Textured background**: smooth blotches, then a blur (the optics) and Gaussian noise (the
  camera).

The mask is the union of the ellipses, computed from their equations before any blur or noise
(the true extent of the objects, as an annotator would draw it), so it is exact; every image
holds at least one cell. The module's constants set the difficulty; change them only to
experiment (``load("cells")`` is defined by their values).
"""
from __future__ import annotations

import threading

import numpy as np
from scipy import ndimage

from evokit.errors import check_int

__all__ = ["make_cells", "dataset_arrays", "N_IMAGES", "SIZE"]

N_IMAGES = 3000
"""``load("cells")``: how many images are generated (before the splits)."""
SIZE = 32
"""``load("cells")``: the images' height and width in pixels."""
SEED = 0
"""``load("cells")``: the generator's seed (the splits have their own ``seed``)."""

MAX_CELLS = 6
"""Cells per image: 1 to this many, overlapping freely."""
MAX_DEBRIS = 5
"""Bright spots of debris per image: 0 to this many."""
CELL_RADIUS = (0.11, 0.22)
"""A cell's long semi-axis, as a fraction of the image's size (its short one is 0.6 to 1 of it)."""
DEBRIS_SIGMA = (0.5, 1.0)
"""A debris spot's Gaussian width in pixels at 32 px (scaled with the size)."""
BLUR = 0.5
"""The optics' Gaussian blur in pixels at 32 px (scaled with the size)."""
CONTRAST = (0.25, 1.0)
"""A cell's brightness above the background (its rim; its middle is 0.6 of it, its nucleus less)."""
DEBRIS_PEAK = (0.5, 1.3)
"""A debris spot's peak brightness above the background."""
TEXTURE = 0.4
"""How strongly a fine multiplicative texture (std about 0.35 before this factor) varies the cells."""
GAIN = 0.8
"""The illumination gain's largest change: 1 - GAIN to 1 + GAIN from corner to corner."""
OFFSET = 0.8
"""The additive illumination ramp's largest value: -OFFSET to +OFFSET from corner to corner."""
NOISE = (0.03, 0.07)
"""The camera noise's standard deviation, drawn per image."""

_CHUNK_ELEMENTS = 4_000_000
"""Images are drawn in chunks of about this many cell-pixels (bounds the memory, not the result)."""
_CACHE: dict[str, tuple[np.ndarray, np.ndarray]] = {}
_LOCK = threading.Lock()


def make_cells(n: int = N_IMAGES, size: int = SIZE, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``n`` images of ``size`` x ``size`` pixels and their masks.

    Returns ``(images, masks)``: images float32 of shape ``(n, size, size, 1)`` (raw intensities,
    about -1.5 to 3, not scaled), masks uint8 of shape ``(n, size, size)`` holding 0
    (background) and 1 (cell). ``size`` is 16 to 256 (the set is designed for 32 to 64).
    Raises ConfigError for an ``n``, ``size`` or ``seed`` out of range.
    """
    n = check_int("n", n, minimum=1)
    size = check_int("size", size, minimum=16, maximum=256)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK_ELEMENTS // (MAX_CELLS * size * size))
    parts = [_chunk(rng, min(chunk, n - start), size) for start in range(0, n, chunk)]
    images = np.concatenate([p[0] for p in parts])[..., None]
    masks = np.concatenate([p[1] for p in parts])
    return images, masks


def dataset_arrays() -> tuple[np.ndarray, np.ndarray]:
    """``load("cells")``'s images and masks (:data:`N_IMAGES` of :data:`SIZE` px, seed
    :data:`SEED`), generated once per process and kept read-only."""
    with _LOCK:
        if "default" not in _CACHE:
            images, masks = make_cells(N_IMAGES, SIZE, SEED)
            images.setflags(write=False)
            masks.setflags(write=False)
            _CACHE["default"] = (images, masks)
        return _CACHE["default"]


def _chunk(rng: np.random.Generator, n: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (float32, ``(n, size, size)``) and their masks (uint8)."""
    scale = size / 32.0
    grid = np.arange(size, dtype=np.float32) + 0.5
    cells, masks = _cells(rng, n, size, grid)
    debris = _debris(rng, n, size, grid, scale)
    background = _background(rng, n, size, scale)
    gain, offset = _illumination(rng, n, size, grid)
    image = offset + gain * (background + np.maximum(cells, debris))
    image = ndimage.gaussian_filter(image, sigma=(0, BLUR * scale, BLUR * scale), mode="nearest")
    noise = rng.uniform(*NOISE, size=(n, 1, 1)).astype(np.float32)
    image += noise * rng.standard_normal(image.shape, dtype=np.float32)
    return image.astype(np.float32), masks


def _cells(rng: np.random.Generator, n: int, size: int, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cells' intensity above the background (rim, nucleus, texture) and their exact union
    (the mask), from 1 to :data:`MAX_CELLS` random ellipses per image."""
    k = MAX_CELLS
    present = np.arange(k) < rng.integers(1, k + 1, size=(n, 1))
    centre = rng.uniform(0.1, 0.9, size=(2, n, k, 1, 1)).astype(np.float32) * size
    a = rng.uniform(*CELL_RADIUS, size=(n, k, 1, 1)).astype(np.float32) * size
    b = a * rng.uniform(0.6, 1.0, size=(n, k, 1, 1)).astype(np.float32)
    angle = rng.uniform(0.0, np.pi, size=(n, k, 1, 1)).astype(np.float32)
    contrast = rng.uniform(*CONTRAST, size=(n, k, 1, 1)).astype(np.float32)
    dy, dx = grid[:, None] - centre[0], grid[None, :] - centre[1]
    cos, sin = np.cos(angle), np.sin(angle)
    r2 = ((dx * cos + dy * sin) / a) ** 2 + ((dy * cos - dx * sin) / b) ** 2
    inside = (r2 <= 1.0) & present[..., None, None]
    nucleus = np.clip(1.0 - r2 / 0.2, 0.0, 1.0)
    profile = contrast * (0.6 + 0.4 * r2 - 0.35 * nucleus)
    intensity = np.where(inside, profile, 0.0).max(axis=1)
    texture = ndimage.gaussian_filter(rng.standard_normal((n, size, size), dtype=np.float32),
                                      sigma=(0, 0.8, 0.8))
    intensity *= 1.0 + TEXTURE * texture
    return intensity.astype(np.float32), inside.any(axis=1).astype(np.uint8)


def _debris(rng: np.random.Generator, n: int, size: int, grid: np.ndarray, scale: float) -> np.ndarray:
    """Small bright Gaussian spots (0 to :data:`MAX_DEBRIS` per image), as bright as the
    brightest cells and brighter than the faint ones; never part of the mask."""
    m = MAX_DEBRIS
    present = np.arange(m) < rng.integers(0, m + 1, size=(n, 1))
    centre = rng.uniform(0.0, 1.0, size=(2, n, m, 1, 1)).astype(np.float32) * size
    sigma = rng.uniform(*DEBRIS_SIGMA, size=(n, m, 1, 1)).astype(np.float32) * scale
    peak = rng.uniform(*DEBRIS_PEAK, size=(n, m, 1, 1)).astype(np.float32) * present[..., None, None]
    d2 = (grid[:, None] - centre[0]) ** 2 + (grid[None, :] - centre[1]) ** 2
    return (peak * np.exp(-d2 / (2.0 * sigma**2))).max(axis=1)


def _background(rng: np.random.Generator, n: int, size: int, scale: float) -> np.ndarray:
    """Smooth blotches around a random level: the texture of the slide."""
    level = rng.uniform(0.1, 0.4, size=(n, 1, 1)).astype(np.float32)
    blotches = ndimage.gaussian_filter(rng.standard_normal((n, size, size), dtype=np.float32),
                                       sigma=(0, 2.5 * scale, 2.5 * scale), mode="wrap")
    amplitude = rng.uniform(0.1, 0.25, size=(n, 1, 1)).astype(np.float32)
    return level + amplitude * blotches / (blotches.std(axis=(1, 2), keepdims=True) + 1e-6)


def _illumination(rng: np.random.Generator, n: int, size: int, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A linear gain (``1 - GAIN`` to ``1 + GAIN`` from corner to corner at most) and an additive
    offset ramp (``-OFFSET`` to ``+OFFSET``), each along its own random direction."""
    centred = grid / size - 0.5

    def ramp(strength: np.ndarray) -> np.ndarray:  # -strength .. +strength corner to corner
        angle = rng.uniform(0.0, 2 * np.pi, size=(n, 1, 1)).astype(np.float32)
        t = np.cos(angle) * centred[None, None, :] + np.sin(angle) * centred[None, :, None]
        return strength * np.sqrt(2.0, dtype=np.float32) * t

    gain = 1.0 + ramp(rng.uniform(0.0, GAIN, size=(n, 1, 1)).astype(np.float32))
    offset = ramp(rng.uniform(0.0, OFFSET, size=(n, 1, 1)).astype(np.float32))
    return gain.astype(np.float32), offset.astype(np.float32)
