"""Tests of the generated segmentation set ``cells`` (:mod:`evokit.cells`, ``load("cells")``):
reproducible, exact masks, no global random state touched, and hard for a threshold but not
for a small U-Net."""
from __future__ import annotations

import random

import numpy as np
import pytest

from evokit import cells, tasks
from evokit.datasets import load, names
from evokit.errors import ConfigError


@pytest.fixture(scope="module")
def sample():
    return cells.make_cells(300, 32, seed=1)


def test_shapes_dtypes_and_binary_masks(sample):
    images, masks = sample
    assert images.shape == (300, 32, 32, 1) and images.dtype == np.float32 and np.isfinite(images).all()
    assert masks.shape == (300, 32, 32) and masks.dtype == np.uint8
    assert set(np.unique(masks)) == {0, 1}
    per_image = masks.mean(axis=(1, 2))
    assert per_image.min() > 0.0  # every image holds a cell
    assert 0.12 < masks.mean() < 0.35 and per_image.max() < 0.75
    assert images[masks == 1].mean() > images[masks == 0].mean() + 0.2  # cells are brighter, on average
    big_images, big_masks = cells.make_cells(20, 64, seed=1)
    assert big_images.shape == (20, 64, 64, 1) and 0.1 < big_masks.mean() < 0.4


def test_the_same_seed_gives_the_same_arrays_and_another_seed_others(sample):
    images, masks = cells.make_cells(300, 32, seed=1)
    np.testing.assert_array_equal(images, sample[0])
    np.testing.assert_array_equal(masks, sample[1])
    other_images, other_masks = cells.make_cells(300, 32, seed=2)
    assert not np.array_equal(other_masks, masks) and not np.allclose(other_images, images)


def test_masks_are_exact_shapes_not_thresholded_pixels(monkeypatch, sample):
    """The masks come from the ellipses' equations: the blur, the noise, the debris and the
    illumination change the images but never the masks."""
    monkeypatch.setattr(cells, "BLUR", 2.0)
    monkeypatch.setattr(cells, "NOISE", (0.5, 0.6))
    monkeypatch.setattr(cells, "DEBRIS_PEAK", (3.0, 4.0))
    monkeypatch.setattr(cells, "GAIN", 0.0)
    images, masks = cells.make_cells(300, 32, seed=1)
    np.testing.assert_array_equal(masks, sample[1])
    assert not np.allclose(images, sample[0])


def test_no_global_random_state_is_touched(monkeypatch):
    load("cells", seed=1)  # imports first: importing sklearn.model_selection draws from Python's generator
    monkeypatch.setattr(cells, "_CACHE", {})  # generate again below
    python_state, numpy_state = random.getstate(), np.random.get_state()
    cells.make_cells(50, 32, seed=4)
    load("cells", seed=1)
    assert random.getstate() == python_state
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and np.array_equal(after[1], numpy_state[1]) and after[2:] == numpy_state[2:]


def test_bad_arguments_are_named():
    with pytest.raises(ConfigError, match=r"^size=8 is invalid: expected an integer >= 16"):
        cells.make_cells(10, 8)
    with pytest.raises(ConfigError, match=r"^n=0 is invalid: expected an integer >= 1"):
        cells.make_cells(0)
    with pytest.raises(ConfigError, match=r"^seed=-1 is invalid"):
        cells.make_cells(10, seed=-1)


def test_load_cells_is_a_scaled_segmentation_dataset():
    assert "cells" in names()
    data = load("cells", seed=0)
    assert data.name == "cells" and data.task == "segmentation" and data.n_classes == 2
    assert data.classes == (0, 1) and data.n_outputs == 1 and data.input_shape == (32, 32, 1)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (1920, 480, 600)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int32
    assert abs(float(data.x_train.mean())) < 1e-3 and abs(float(data.x_train.std()) - 1.0) < 1e-3
    assert load("cells", seed=0).fingerprint == data.fingerprint  # cached arrays, same splits
    assert load("cells", seed=1).fingerprint != data.fingerprint
    raw = load("cells", scale=False, test_size=0.1)
    assert len(raw.y_test) == 300 and raw.x_train.std() != pytest.approx(1.0, abs=1e-2)
    images, masks = cells.dataset_arrays()
    assert images is cells.dataset_arrays()[0] and not images.flags.writeable and not masks.flags.writeable


# --- a threshold does not solve it; a small U-Net does -----------------------------------------

def _best_global_threshold(x: np.ndarray, y: np.ndarray) -> float:
    """The cut among 99 quantiles of the training images with the best Dice on them (optimistic:
    chosen with the training masks in hand)."""
    pixels, truth = x.ravel(), y.ravel() == 1
    cuts = np.quantile(pixels, np.linspace(0.01, 0.99, 99))
    dice = [2 * np.count_nonzero((pixels > c) & truth) / (np.count_nonzero(pixels > c) + truth.sum()) for c in cuts]
    return float(cuts[int(np.argmax(dice))])


def _best_threshold_per_image(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each image cut at the one of its 49 quantiles with the best Dice against its own mask: an
    oracle no real threshold method can beat (it peeks at the answer)."""
    pixels, truth = x.reshape(len(x), 1, -1), (y.reshape(len(y), 1, -1) == 1)
    cuts = np.quantile(pixels[:, 0], np.linspace(0.02, 0.98, 49), axis=1).T[..., None]
    guess = pixels > cuts
    dice = 2 * (guess & truth).sum(-1) / np.maximum(guess.sum(-1) + truth.sum(-1), 1)
    return guess[np.arange(len(x)), np.argmax(dice, axis=1)].reshape(y.shape)


def _unet(input_shape: tuple[int, ...], n_outputs: int, f: int = 8):
    """A two-level U-Net: conv blocks of f, 2f and 4f filters, transposed-conv upsampling and
    skip connections by concatenation, then the per-pixel head."""
    from evokit.encodings.base import add_head
    from evokit.netspec import Concat, Conv2D, Conv2DTranspose, Graph, Pool

    g = Graph(input_shape)
    c1 = g.add(Conv2D(f, 3), g.add(Conv2D(f, 3), g.input))
    c2 = g.add(Conv2D(2 * f, 3), g.add(Conv2D(2 * f, 3), g.add(Pool("max", 2), c1)))
    c3 = g.add(Conv2D(4 * f, 3), g.add(Pool("max", 2), c2))
    d2 = g.add(Conv2D(2 * f, 3), g.add(Concat(), g.add(Conv2DTranspose(2 * f), c3), c2))
    d1 = g.add(Conv2D(f, 3), g.add(Concat(), g.add(Conv2DTranspose(f), d2), c1))
    return add_head(g, d1, n_outputs, "segmentation")


def test_a_small_unet_beats_the_best_threshold_by_far():
    """On the same 600 test images: the best global threshold (chosen on the training split) and
    even a per-image oracle threshold stay near a Dice of 0.6; a 17k-parameter U-Net trained on
    1,000 images for 6 epochs gets about 0.92 (measured; the bars leave room for other CPUs)."""
    from evokit.evaluation import TrainingConfig
    from evokit.runtime.training.forward import predict
    from evokit.runtime.training.trainer import train

    data = load("cells", seed=0).subset(n_train=1000, n_val=100, seed=0)
    score = tasks.get("segmentation").score
    cut = _best_global_threshold(data.x_train[..., 0], data.y_train)
    threshold_dice = score(data.y_test, (data.x_test > cut).astype(np.float32), "")["dice"]
    oracle = _best_threshold_per_image(data.x_test[..., 0], data.y_test)
    oracle_dice = score(data.y_test, oracle[..., None].astype(np.float32), "")["dice"]

    spec = _unet(data.input_shape, data.n_outputs)
    evaluation = train(spec, data, TrainingConfig(epochs=6, batch_size=16, learning_rate=1e-2), seed=0)
    assert not evaluation.failed, evaluation.message
    unet_dice = score(data.y_test, predict(evaluation.model(), data.x_test), "")["dice"]
    print(f"test Dice: global threshold {threshold_dice:.3f}, per-image oracle threshold {oracle_dice:.3f}, "
          f"U-Net {unet_dice:.3f}")
    assert threshold_dice < 0.7 and oracle_dice < 0.75
    assert unet_dice > 0.85 and unet_dice > oracle_dice + 0.15
