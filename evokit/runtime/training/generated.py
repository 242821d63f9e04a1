"""Images a generator draws, and how they score against a split of real ones.

Every generator of a search draws from the same latent vectors (fixed seeds), so scores and
sample grids compare candidates, not luck. Generators end in ``tanh``: their images are in
[-1, 1] and are mapped back to the data's own range (:func:`data_range`, the training split's
minimum and maximum) before the feature extractor sees them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from evokit import tasks
from evokit.fitness import features

SCORING_LATENT_SEED = 20_240_601
"""Seed of the latent vectors every generator is scored with."""
GRID_LATENT_SEED = 7
"""Seed of the latent vectors of the sample grids."""
SAMPLES_KEY = "samples"
"""The key of ``Evaluation.extra`` a trained pair's grid images (:func:`grid_samples`) are kept under."""
_REAL_FEATURES: dict[tuple[str, str, int], np.ndarray] = {}


def data_range(data: Any) -> tuple[float, float]:
    """The training split's smallest and largest value (the range real images are scaled from)."""
    low, high = float(np.min(data.x_train)), float(np.max(data.x_train))
    return low, (high if high > low else low + 1.0)


def to_unit(data: Any, x: np.ndarray) -> np.ndarray:
    """Real images scaled to [-1, 1], the range a generator's ``tanh`` draws in."""
    low, high = data_range(data)
    return (2.0 * (np.asarray(x, np.float32) - low) / (high - low) - 1.0).astype(np.float32)


def from_unit(data: Any, x: np.ndarray) -> np.ndarray:
    """Generated images in [-1, 1] mapped back to the data's range."""
    low, high = data_range(data)
    return ((np.asarray(x, np.float32) + 1.0) / 2.0 * (high - low) + low).astype(np.float32)


def latent(n: int, size: int, seed: int) -> np.ndarray:
    """``n`` standard normal latent vectors of length ``size``."""
    return np.random.default_rng(seed).standard_normal((n, size)).astype(np.float32)


def generate(generator: Any, n: int, seed: int, batch_size: int = 512) -> np.ndarray:
    """``n`` images of ``generator`` (in [-1, 1]) from latent vectors of ``seed``."""
    z = latent(n, int(generator.input_shape[-1]), seed)
    return np.concatenate([np.asarray(generator(z[i:i + batch_size], training=False))
                           for i in range(0, n, batch_size)])


def grid_samples(generator: Any) -> np.ndarray:
    """The images of a candidate's sample grid, as uint8 (36 for small images, 16 for larger)."""
    shape = tuple(generator.output_shape[1:])
    n = 36 if shape[0] * shape[1] <= 1024 else 16
    return np.clip(np.round((generate(generator, n, GRID_LATENT_SEED) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def real_features(data: Any, split: str, extractor: Any) -> np.ndarray:
    """Features of the real images of ``split`` (``"val"``, ``"test"``), kept per process."""
    k = (features.key(extractor), data.fingerprint, split)
    if k not in _REAL_FEATURES:
        _REAL_FEATURES[k] = np.asarray(extractor(getattr(data, f"x_{split}")), np.float64)
    return _REAL_FEATURES[k]


def score(generator: Any, data: Any, split: str = "val", prefix: str | None = None
          ) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """The task's scores of ``generator``'s images against the real images of ``split``
    (``val_frechet``, ...), with as many images as the split holds; and the features of the real
    and of the generated images."""
    extractor = features.for_data(data)
    real = real_features(data, split, extractor)
    fake = from_unit(data, generate(generator, len(real), SCORING_LATENT_SEED))
    fake_features = np.asarray(extractor(fake), np.float64)
    scored = tasks.get(data.task).score(real, fake_features, f"{split}_" if prefix is None else prefix)
    return scored, real, fake_features
