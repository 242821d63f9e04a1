"""Scores of a generator's samples against real ones, in NumPy/SciPy: the Fréchet distance (FID's
formula), improved precision and recall (Kynkäänniemi et al. 2019), and density and coverage
(Naeem et al. 2020).

All of them see only features, arrays of shape (n, d) with one row per sample (a 1-D array is n
samples of one feature); which network extracts the features is decided elsewhere, so these
scores stay testable by hand and free of TensorFlow. The Fréchet distance compares the Gaussians
fitted to the two sets; it cannot tell a blurry generator from one that drops modes, which is why
the k-nearest-neighbour scores come with it: precision and density ask whether fakes look real,
recall and coverage whether the fakes span the real samples.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from evokit.errors import check_int, invalid, invalid_data

EPS = 1e-6
"""Added to the diagonal of both covariances when the square root of their product fails (a
singular product, or non-finite values), as pytorch-fid does."""

IMAGINARY_TOLERANCE = 1e-3
"""The largest imaginary part on the diagonal of ``sqrtm(sigma1 @ sigma2)`` dropped as rounding
noise (pytorch-fid's bound); a larger one means the moments are not covariances."""

CHUNK_ENTRIES = 4_000_000
"""At most this many pairwise distances (32 MB of float64) are held at once: larger sets are
compared one block of rows at a time."""


def _linalg() -> Any:
    """``scipy.linalg``, imported on first use: imported with evokit, it added ~10,000 objects
    (a quarter more) that every full garbage collection of every search had to scan. Once
    imported it is this module's ``linalg`` global, so a test's patch of ``frechet.linalg`` holds."""
    found = globals().get("linalg")
    if found is None:
        from scipy import linalg as found

        globals()["linalg"] = found
    return found


def __getattr__(name: str) -> Any:
    # ``frechet.linalg`` before first use: scipy.linalg, imported now
    if name == "linalg":
        return _linalg()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def gaussian_frechet(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """The Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2):
    ``||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 sqrtm(sigma1 @ sigma2))``, in float64. A negative
    result from rounding (or from the :data:`EPS` retry) is returned as 0.0; moments whose root
    is far from real, or whose distance is clearly negative, are not covariances: DataError."""
    mu1, mu2 = (np.atleast_1d(np.asarray(m, dtype=np.float64)) for m in (mu1, mu2))
    sigma1, sigma2 = (np.atleast_2d(np.asarray(s, dtype=np.float64)) for s in (sigma1, sigma2))
    if mu1.ndim != 1:
        raise invalid_data("mu1", f"array of shape {mu1.shape}", "expected a mean vector of shape (d,)")
    d = len(mu1)
    for field, value, shape in (("mu2", mu2, (d,)), ("sigma1", sigma1, (d, d)), ("sigma2", sigma2, (d, d))):
        if value.shape != shape:
            raise invalid_data(field, f"array of shape {value.shape}", f"expected shape {shape}, as mu1 has {d} features")
    covmean = _product_sqrtm(sigma1, sigma2)
    regularised = covmean is None
    if regularised:
        offset = EPS * np.eye(d)
        covmean = _product_sqrtm(sigma1 + offset, sigma2 + offset, strict=False)
    if np.iscomplexobj(covmean):
        imaginary = np.max(np.abs(np.diagonal(covmean).imag))
        if imaginary > IMAGINARY_TOLERANCE:
            raise invalid_data("sigma1, sigma2", f"moments whose product has a square root with an imaginary "
                               f"part of {imaginary:.3g}", "expected covariance matrices (symmetric, positive "
                               "semi-definite)")
        covmean = covmean.real
    diff = mu1 - mu2
    spread = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2))
    distance = spread - 2.0 * float(np.trace(covmean))
    if not regularised and distance < -EPS * max(1.0, abs(spread)):
        raise invalid_data("sigma1, sigma2", f"moments with a negative distance ({distance:.3g})",
                           "expected covariance matrices (symmetric, positive semi-definite)")
    return max(distance, 0.0)


def _product_sqrtm(sigma1: np.ndarray, sigma2: np.ndarray, strict: bool = True) -> np.ndarray | None:
    """``sqrtm(sigma1 @ sigma2)``; if ``strict``, None where SciPy finds the product singular or
    the root has non-finite values (the caller then regularises)."""
    linalg = _linalg()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        root = linalg.sqrtm(sigma1 @ sigma2)
    root = root[0] if isinstance(root, tuple) else root
    failed = not np.isfinite(root).all() or any(issubclass(w.category, linalg.LinAlgWarning) for w in caught)
    return None if strict and failed else root


def frechet_distance(real: Any, fake: Any) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets of shape (n, d): their
    means and covariances (ddof=1) in float64, through :func:`gaussian_frechet`."""
    real, fake = _feature_pair(real, fake)
    return gaussian_frechet(real.mean(axis=0), np.cov(real, rowvar=False, ddof=1),
                            fake.mean(axis=0), np.cov(fake, rowvar=False, ddof=1))


def precision_recall(real: Any, fake: Any, k: int = 5) -> tuple[float, float]:
    """Improved precision and recall: each sample's ball reaches its k-th nearest neighbour in
    its own set. Precision is the share of fakes inside at least one real ball, recall the share
    of real samples inside at least one fake ball (balls are closed)."""
    counts, _, recalled = _manifold(*_feature_pair(real, fake), k)
    return float(np.mean(counts > 0)), float(np.mean(recalled))


def density_coverage(real: Any, fake: Any, k: int = 5) -> tuple[float, float]:
    """Density and coverage, on the k-nearest-neighbour balls of the real samples only: density
    is ``sum over fakes of the real balls holding it / (k * n_fake)`` (1 on average when fakes
    follow the real distribution, above 1 where they crowd), coverage the share of real balls
    holding at least one fake."""
    counts, covered, _ = _manifold(*_feature_pair(real, fake), k)
    return float(np.sum(counts) / (k * len(counts))), float(np.mean(covered))


def scores(real: Any, fake: Any, prefix: str = "val_", k: int = 5) -> dict[str, float]:
    """All five scores as plain floats, keyed ``prefix`` + frechet, precision, recall, density and
    coverage (the nearest neighbours are searched once)."""
    real, fake = _feature_pair(real, fake)
    counts, covered, recalled = _manifold(real, fake, k)
    values = {"frechet": frechet_distance(real, fake), "precision": float(np.mean(counts > 0)),
              "recall": float(np.mean(recalled)), "density": float(np.sum(counts) / (k * len(counts))),
              "coverage": float(np.mean(covered))}
    return {prefix + name: value for name, value in values.items()}


def _features(field: str, features: Any) -> np.ndarray:
    """``features`` as a float64 array of shape (n, d) with n >= 2 and finite values, else a
    DataError naming ``field``."""
    try:
        array = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError):
        raise invalid_data(field, type(features).__name__, "expected an array of numbers") from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] == 0:
        raise invalid_data(field, f"array of shape {array.shape}", "expected features of shape (n, d), "
                           "one row per sample")
    if len(array) < 2:
        raise invalid_data(field, f"{len(array)} sample", "expected at least 2 samples")
    if not np.isfinite(array).all():
        raise invalid_data(field, "features with NaN or infinite values", "expected finite features")
    return array


def _feature_pair(real: Any, fake: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both feature sets checked by :func:`_features`, with as many features each."""
    real, fake = _features("real", real), _features("fake", fake)
    if fake.shape[1] != real.shape[1]:
        raise invalid_data("fake", f"{fake.shape[1]} features per sample",
                           f"expected as many as real has ({real.shape[1]})")
    return real, fake


def _squared_distances(a: np.ndarray, b: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Blocks of rows of the squared Euclidean distances from the rows of ``a`` to those of ``b``,
    each with its first row's index, at most :data:`CHUNK_ENTRIES` entries a block."""
    rows = max(1, CHUNK_ENTRIES // len(b))
    b_norms = np.einsum("ij,ij->i", b, b)
    for start in range(0, len(a), rows):
        block = a[start:start + rows]
        squared = np.einsum("ij,ij->i", block, block)[:, None] + b_norms[None, :] - 2.0 * (block @ b.T)
        yield start, np.maximum(squared, 0.0, out=squared)


def _squared_radii(features: np.ndarray, k: int) -> np.ndarray:
    """Each sample's squared distance to its k-th nearest neighbour in its own set (not itself)."""
    radii = np.empty(len(features))
    for start, squared in _squared_distances(features, features):
        rows = np.arange(len(squared))
        squared[rows, start + rows] = 0.0  # itself, exactly, so that it is the one left out
        radii[start:start + len(squared)] = np.partition(squared, k, axis=1)[:, k]
    return radii


def _manifold(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k-nearest-neighbour counts every score here is made of: per fake, how many real balls
    hold it; per real sample, whether its ball holds a fake, and whether it lies in a fake ball."""
    k = check_int("k", k, minimum=1)
    if k >= min(len(real), len(fake)):
        raise invalid("k", k, f"expected fewer neighbours than each set has samples (real has {len(real)}, "
                      f"fake has {len(fake)})")
    centre = real.mean(axis=0)  # distances don't change; rounding in the expansion shrinks
    real, fake = real - centre, fake - centre
    real_radii, fake_radii = _squared_radii(real, k), _squared_radii(fake, k)
    counts = np.zeros(len(fake), dtype=np.int64)
    covered = np.zeros(len(real), dtype=bool)
    recalled = np.zeros(len(real), dtype=bool)
    for start, squared in _squared_distances(real, fake):
        inside_real = squared <= real_radii[start:start + len(squared), None]
        counts += inside_real.sum(axis=0)
        covered[start:start + len(squared)] = inside_real.any(axis=1)
        recalled[start:start + len(squared)] = (squared <= fake_radii[None, :]).any(axis=1)
    return counts, covered, recalled
