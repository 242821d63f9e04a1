"""Overlap scores of masks in NumPy: Dice, IoU and pixel accuracy of a hard prediction, and the
soft loss the segmentation task trains with (cross-entropy + soft Dice), as its Keras loss
(:mod:`evokit.tasks.segmentation_loss`) computes it."""
from __future__ import annotations

import numpy as np

from evokit.tasks.classification import EPSILON

SMOOTH = 1.0
"""Added to the numerator and the denominator of the soft Dice loss (the usual smoothing): an
absent class that is not predicted scores 1, and gradients stay finite."""


def predicted_classes(y_pred: np.ndarray) -> np.ndarray:
    """The hard prediction of per-pixel outputs: probability > 0.5 (one sigmoid unit) or argmax."""
    if y_pred.shape[-1] == 1:
        return (y_pred[..., 0] > 0.5).astype(np.int64)
    return np.argmax(y_pred, axis=-1)


def _scored_classes(n_outputs: int) -> range:
    """The classes Dice and IoU average over: the foreground of binary masks, else every class."""
    return range(1, 2) if n_outputs == 1 else range(n_outputs)


def overlap_scores(y_true: np.ndarray, y_hat: np.ndarray, n_outputs: int) -> dict[str, float]:
    """Dice, IoU and pixel accuracy of hard class maps ``y_hat`` against ``y_true``: per class
    over all pixels, averaged over :func:`_scored_classes`; a class absent from both scores 1."""
    dice, iou = [], []
    for c in _scored_classes(n_outputs):
        truth, guess = y_true == c, y_hat == c
        both = int(np.count_nonzero(truth & guess))
        total = int(np.count_nonzero(truth)) + int(np.count_nonzero(guess))
        dice.append(1.0 if total == 0 else 2.0 * both / total)
        iou.append(1.0 if total == 0 else both / (total - both))
    return {"dice": float(np.mean(dice)), "iou": float(np.mean(iou)),
            "pixel_accuracy": float(np.mean(y_true == y_hat))}


def soft_loss(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Cross-entropy + soft Dice loss in NumPy, as ``DiceCrossEntropy`` computes it: per image the
    mean pixel cross-entropy plus ``1 -`` its soft Dice (averaged over the scored classes),
    then averaged over the images. Probabilities are clipped in float32 as Keras clips them;
    sums run in float64, one class at a time (no one-hot copy of the split)."""
    p = np.clip(np.asarray(y_pred, dtype=np.float32), np.float32(EPSILON), np.float32(1.0 - EPSILON))
    n = len(p)
    if p.shape[-1] == 1:
        q, foreground = p[..., 0], y_true == 1
        ce = -np.where(foreground, np.log(q), np.log(np.float32(1.0) - q))
        dice = _soft_dice(q, foreground, n)
    else:
        ce = -np.log(np.take_along_axis(p, y_true[..., None].astype(np.int64), axis=-1)[..., 0])
        dice = np.mean([_soft_dice(p[..., c], y_true == c, n) for c in range(p.shape[-1])], axis=0)
    per_image = ce.reshape(n, -1).mean(axis=1, dtype=np.float64) + 1.0 - dice
    return float(np.mean(per_image))


def _soft_dice(probability: np.ndarray, truth: np.ndarray, n: int) -> np.ndarray:
    """Each image's soft Dice of one class: ``(2 sum(p * t) + SMOOTH) / (sum(p) + sum(t) + SMOOTH)``."""
    p, t = probability.reshape(n, -1), truth.reshape(n, -1)
    overlap = np.where(t, p, np.float32(0)).sum(axis=1, dtype=np.float64)
    return (2 * overlap + SMOOTH) / (p.sum(axis=1, dtype=np.float64) + t.sum(axis=1) + SMOOTH)
