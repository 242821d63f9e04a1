"""A segmentation run end to end through the command line: ``evokit run`` a config (NPZ masks, a
tiny test-only U-Net encoding beside it) prints Dice, writes ``masks.npz`` with the final
model's validation predictions, ``evokit report`` draws them over the images and says Dice, not
accuracy, and ``evokit export`` gives a model that loads and predicts masks. One real run, shared."""
import contextlib
import dataclasses
import io
import json
import re
import shutil

import numpy as np
import pytest

import evokit as ek
from evokit import tasks, unpickle
from evokit.cli import main
from evokit.report.figure import png_bytes
from evokit.report.html import render
from evokit.report.masks import masks_figure
from evokit.runtime.run.directory import read_run
from evokit.runtime.run.masks import MASKS, SHOWN, collect, read_masks, write_masks
from evokit.tasks.overlap import predicted_classes

SIZE = 16

ENCODING = '''
import random

from evokit.encodings.base import Encoding, add_head
from evokit.netspec import Concat, Conv2D, Graph, Pool, Upsample


class Filters(list):
    """[filters]."""


class TinyUNet(Encoding):
    """conv -> pool -> conv -> upsample, joined to the first conv -> per-pixel head."""

    name = "tiny_unet"
    spatial_output = True

    def __init__(self):
        pass

    def random(self, rng=None):
        return Filters([(rng or random).choice([2, 4, 6])])

    def decode(self, genotype, input_shape, n_outputs, task="classification"):
        g = Graph(input_shape)
        skip = g.add(Conv2D(genotype[0], 3), g.input)
        deep = g.add(Upsample(2), g.add(Conv2D(genotype[0], 3), g.add(Pool("max", 2), skip)))
        return add_head(g, g.add(Concat(), skip, deep), n_outputs, task)

    def register(self, toolbox):
        toolbox.register("mate", lambda a, b: (a, b))
        toolbox.register("mutate", lambda a: (a,))

    def distance(self, a, b):
        return float(a != b)

    def from_json(self, data):
        return Filters(data)
'''

CONFIG = """
seed = 0
[data]
path = "blobs.npz"
[encoding]
type = "segreport_tiny_unet:TinyUNet"
[[objectives]]
type = "evokit.fitness.segmentation:ValidationDice"
epochs = 1
[algorithm]
type = "ga"
population = 3
generations = 1
"""


def blobs(n=40, size=SIZE, seed=0):
    """Noisy images with one bright disc each, and the disc's mask."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    x = rng.normal(0.0, 0.3, (n, size, size, 1)).astype(np.float32)
    masks = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        cy, cx, r = rng.uniform(4, size - 4, 2).tolist() + [rng.uniform(2, 4)]
        masks[i] = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        x[i, ..., 0] += masks[i]
    return x, masks


@pytest.fixture(scope="module")
def seg_run(tmp_path_factory):
    """``evokit run`` of a segmentation config: the run directory and what the command printed."""
    root = tmp_path_factory.mktemp("segreport")
    x, masks = blobs()
    np.savez(root / "blobs.npz", X=x, y=masks)
    (root / "segreport_tiny_unet.py").write_text(ENCODING)
    (root / "seg.toml").write_text(CONFIG)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", str(root / "seg.toml"), "--run-dir", str(root / "run"), "--final-epochs", "2", "-q"])
    assert code == 0, out.getvalue()
    return root / "run", out.getvalue()


def _data(run_dir):
    """The run's Dataset, as its saved search holds it."""
    return unpickle.loads((run_dir / "search.pkl").read_bytes()).data


def test_the_run_prints_dice_and_the_test_scores_not_accuracy(seg_run):
    run_dir, out = seg_run
    scores = json.loads((run_dir / "summary.json").read_text())["test_scores"]
    assert {"test_dice", "test_iou", "test_pixel_accuracy", "test_loss"} <= set(scores)
    assert "best candidates (validation Dice after the search's short training):" in out and "val_Dice" in out
    assert f"test Dice: {scores['test_dice']:.3f} (best model, " in out
    assert f"iou {scores['test_iou']:.4g}" in out and "pixel accuracy" in out
    assert "test accuracy" not in out and "val_acc" not in out


def test_the_masks_file_holds_validation_images_and_the_final_models_predictions(seg_run):
    import keras

    run_dir, _ = seg_run
    masks = read_masks(run_dir)
    data = _data(run_dir)
    k = min(SHOWN, len(data.y_val))
    assert masks.images.shape == (k, SIZE, SIZE, 1) and masks.images.dtype == np.uint8
    assert masks.truth.shape == masks.predicted.shape == masks.confidence.shape == (k, SIZE, SIZE)
    assert masks.metric == "dice" and masks.classes == ["0", "1"] and len(masks.scores) == k
    assert (run_dir / MASKS).stat().st_size < 100_000
    assert all(masks.truth.reshape(k, -1).max(axis=1) > 0)  # images with a disc come first
    model = keras.models.load_model(run_dir / "best.keras")
    shown = [np.flatnonzero((data.y_val == t).all(axis=(1, 2)))[0] for t in masks.truth]
    outputs = np.asarray(model(data.x_val[shown], training=False))
    np.testing.assert_array_equal(masks.predicted, predicted_classes(outputs))
    task = tasks.get("segmentation")
    expected = [task.score(data.y_val[[i]], outputs[[j]], prefix="")["dice"] for j, i in enumerate(shown)]
    np.testing.assert_allclose(masks.scores, expected)
    assert ((masks.confidence >= 0.5 - 1e-3) & (masks.confidence <= 1.0)).all()


def test_the_report_draws_the_masks_and_says_dice_not_accuracy(seg_run):
    run_dir, _ = seg_run
    assert main(["report", str(run_dir), "-q"]) == 0
    html = (run_dir / "report.html").read_text()
    assert "<h2>Validation masks: true and predicted</h2>" in html
    assert re.search(r'alt="validation images with true and predicted masks" src="data:image/png;base64,', html)
    assert "validation Dice (best network)" in html and "test Dice (best model)" in html
    assert "<h2>Pareto front: Dice vs parameters</h2>" in html and "</b>segmentation</span>" in html
    page = html.split("</style>")[1].split("<h2>Configuration</h2>")[0]
    assert "accuracy" not in page.replace("pixel accuracy", "") and "%" not in page


def test_a_run_without_masks_leaves_the_section_out_and_a_damaged_file_is_a_note(seg_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(seg_run[0], copy)
    (copy / MASKS).unlink()
    assert "Validation masks" not in render(read_run(copy))
    (copy / MASKS).write_bytes(b"cut short")
    html = render(read_run(copy))
    assert "<h2>Validation masks</h2>" in html and "masks.npz cannot be read" in html


def test_export_gives_a_model_that_loads_and_predicts_masks(seg_run, tmp_path, capsys):
    import keras

    run_dir, _ = seg_run
    assert main(["export", str(run_dir), "--out", str(tmp_path), "-q"]) == 0
    assert f"model: {tmp_path / 'best.keras'}" in capsys.readouterr().out
    model = keras.models.load_model(tmp_path / "best.keras")
    data = _data(run_dir)
    outputs = np.asarray(model(data.x_test, training=False))
    assert outputs.shape == (len(data.x_test), SIZE, SIZE, 1)
    assert predicted_classes(outputs).shape == data.y_test.shape


def test_masks_of_large_colour_images_with_three_classes_are_subsampled_and_drawn():
    rng = np.random.default_rng(1)
    y = np.zeros((10, 200, 140), np.uint8)
    y[:, 20:80, 20:80], y[:, 110:180, 60:120] = 5, 9  # classes 0, 5, 9 -> codes 0, 1, 2
    data = ek.datasets.from_arrays(rng.normal(size=(10, 200, 140, 3)).astype(np.float32), y, val_size=0.5)
    y_val = data.y_val.copy()
    y_val[0] = 0  # the first validation image all background: shown last
    data = dataclasses.replace(data, y_val=y_val)
    def model(x, training=False):  # every pixel: class code 1 at 0.5
        return np.broadcast_to(np.array([0.2, 0.5, 0.3], np.float32), (*x.shape[:3], 3))

    masks = collect(model, data)
    k = len(data.y_val)
    assert masks.images.shape == (k, 100, 70, 3) and masks.truth.shape == (k, 100, 70)  # every 2nd pixel
    assert masks.classes == ["0", "5", "9"] and (masks.predicted == 1).all()
    np.testing.assert_allclose(masks.confidence, 0.5)
    assert not masks.truth[-1].any() and masks.truth[0].any()
    assert png_bytes(masks_figure(masks), dpi=40).startswith(b"\x89PNG")


def test_no_masks_file_for_a_task_that_is_not_per_pixel(small_digits, tmp_path):
    assert write_masks(tmp_path / MASKS, lambda x, training=False: x, small_digits) is None
    assert not (tmp_path / MASKS).exists() and read_masks(tmp_path) is None
