"""Tests of the loaders a user needs for their own segmentation data: arrays with masks, an NPZ
file with masks, and a folder of images with a parallel folder of masks
(:mod:`evokit.imagefiles`, :func:`evokit.datasets.from_image_folders`, a config's
``kind = "mask_folder"``). The folders are written here with Pillow: tiny PNG/BMP/TIFF files."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from evokit import config, datasets
from evokit.datafiles import read_data_file
from evokit.errors import ConfigError, DataError
from evokit.imagefiles import MAX_CLASSES, read_image_folders


def _save(path, array, mode=None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array) if mode is None else Image.fromarray(array).convert(mode)
    image.save(path)


def _pairs(root, n=10, shape=(12, 16), mask_suffix=".png"):
    """``n`` random grey images and 0/255 masks (a rectangle that moves with i) under ``root``."""
    rng = np.random.default_rng(0)
    images, masks = [], []
    for i in range(n):
        image = rng.integers(0, 256, shape, dtype=np.uint8)
        mask = np.zeros(shape, np.uint8)
        mask[i % 4:i % 4 + 5, 2:9] = 255
        _save(root / "images" / f"s{i:02d}.png", image)
        _save(root / "masks" / f"s{i:02d}{mask_suffix}", mask)
        images.append(image)
        masks.append(mask)
    return np.stack(images), np.stack(masks)


def _read(root, **kwargs):
    return read_image_folders(root / "images", root / "masks", **kwargs)


# --- reading ---------------------------------------------------------------------------------

def test_images_and_masks_round_trip_by_name(tmp_path):
    images, masks = _pairs(tmp_path, mask_suffix=".bmp")  # masks pair by stem, whatever their suffix
    x, y = _read(tmp_path)
    assert x.shape == (10, 12, 16, 1) and x.dtype == np.float32 and y.shape == (10, 12, 16)
    np.testing.assert_array_equal(x[..., 0], images)
    np.testing.assert_array_equal(y, masks)
    data = datasets.from_image_folders(tmp_path / "images", tmp_path / "masks", seed=3)
    assert data.task == "segmentation" and data.name == "images" and data.classes == (0, 255)
    assert data.n_classes == 2 and data.input_shape == (12, 16, 1)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (6, 2, 2)
    assert set(np.unique(data.y_train)) == {0, 1}
    raw = datasets.from_image_folders(tmp_path / "images", tmp_path / "masks", seed=3, scale=False, name="mine")
    assert raw.name == "mine" and raw.x_train.max() > 200  # unscaled: pixel values as stored


def test_rgb_images_grey_masks_in_rgb_and_palette_masks(tmp_path):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (3, 6, 7, 3), dtype=np.uint8)
    classes = rng.integers(0, 3, (3, 6, 7), dtype=np.uint8)
    for i in range(3):
        _save(tmp_path / "images" / f"{i}.png", rgb[i])
    _save(tmp_path / "masks" / "0.png", classes[0], mode="P")  # palette: the index is the class
    _save(tmp_path / "masks" / "1.tif", np.repeat(classes[1][..., None] * 100, 3, axis=-1))  # grey stored as RGB
    _save(tmp_path / "masks" / "2.bmp", classes[2])
    x, y = _read(tmp_path, grayscale=False)
    assert x.shape == (3, 6, 7, 3)
    np.testing.assert_array_equal(x, rgb)
    np.testing.assert_array_equal(y, np.stack([classes[0], classes[1] * 100, classes[2]]))
    grey, _ = _read(tmp_path)
    assert grey.shape == (3, 6, 7, 1)
    expected = np.asarray(Image.fromarray(rgb[0]).convert("L"), dtype=np.float32)
    np.testing.assert_array_equal(grey[0, ..., 0], expected)


def test_sixteen_bit_images_keep_their_values_and_one_bit_masks_read_zero_one(tmp_path):
    deep = np.arange(48, dtype=np.uint16).reshape(6, 8) * 1000
    _save(tmp_path / "images" / "a.png", deep)  # mode I;16
    _save(tmp_path / "images" / "b.png", np.zeros((6, 8, 4), np.uint8))  # RGBA: alpha dropped
    ones = np.zeros((6, 8), np.uint8)
    ones[1:4] = 255
    _save(tmp_path / "masks" / "a.png", ones, mode="1")
    _save(tmp_path / "masks" / "b.png", ones // 255 * 2)
    x, y = _read(tmp_path)
    np.testing.assert_array_equal(x[0, ..., 0], deep)
    assert x[1].max() == 0
    np.testing.assert_array_equal(y, np.stack([ones // 255, ones // 255 * 2]))


def test_a_colour_mask_is_refused_naming_its_file(tmp_path):
    _save(tmp_path / "images" / "a.png", np.zeros((4, 4), np.uint8))
    colours = np.zeros((4, 4, 3), np.uint8)
    colours[:2] = (255, 0, 0)
    _save(tmp_path / "masks" / "a.png", colours)
    with pytest.raises(DataError, match=r"^masks='.*a\.png' is invalid: a colour \(RGB\) mask; expected a grayscale "
                                        r"or palette image"):
        _read(tmp_path)


def test_resizing_is_bilinear_for_images_and_nearest_for_masks(tmp_path):
    image = np.full((16, 16), 80, np.uint8)
    image[:, 8:] = 160
    mask = np.zeros((16, 16), np.uint8)
    mask[:8, :8], mask[8:, 8:] = 1, 7  # three classes in 2x2-aligned blocks
    _save(tmp_path / "images" / "a.png", image)
    _save(tmp_path / "masks" / "a.png", mask)
    x, y = _read(tmp_path, size=(8, 8))
    assert x.shape == (1, 8, 8, 1) and y.shape == (1, 8, 8)
    np.testing.assert_array_equal(y[0], mask[::2, ::2])  # no invented in-between class
    assert x[0, :, 0, 0].tolist() == [80.0] * 8 and x[0, :, -1, 0].tolist() == [160.0] * 8
    assert 80 < x[0, 0, 4, 0] < 160  # blended across the edge
    up, y_up = _read(tmp_path, size=24)  # one int: a square
    assert up.shape == (1, 24, 24, 1) and set(np.unique(y_up)) == {0, 1, 7}
    wide, _ = _read(tmp_path, size=[10, 20])  # a list, as a TOML config gives it
    assert wide.shape == (1, 10, 20, 1)
    with pytest.raises(ConfigError, match=r"^size=\(0, 8\) is invalid: expected \(height, width\) or one integer"):
        _read(tmp_path, size=(0, 8))
    with pytest.raises(ConfigError, match=r"^grayscale='yes' is invalid"):
        _read(tmp_path, grayscale="yes")


def test_sizes_must_match_without_size_and_masks_must_fit_their_image(tmp_path):
    _pairs(tmp_path, n=3)
    _save(tmp_path / "images" / "s03.png", np.zeros((20, 20), np.uint8))
    _save(tmp_path / "masks" / "s03.png", np.eye(20, dtype=np.uint8))
    with pytest.raises(DataError, match=r"^images='.*s03\.png' is invalid: an image of 20x20, the first one is "
                                        r"12x16; expected images of one size, or pass size="):
        _read(tmp_path)
    x, y = _read(tmp_path, size=(12, 16))
    assert x.shape == (4, 12, 16, 1) and set(np.unique(y)) == {0, 1, 255}
    _save(tmp_path / "masks" / "s03.png", np.eye(10, dtype=np.uint8))
    with pytest.raises(DataError, match=r"^masks='.*s03\.png' is invalid: a mask of 10x10 for image '.*s03\.png' of "
                                        r"20x20; expected each mask to have its image's size"):
        _read(tmp_path, size=(12, 16))


# --- errors: folders, pairing, files ---------------------------------------------------------

def test_missing_empty_and_unpaired_folders_are_named(tmp_path):
    with pytest.raises(ConfigError, match=r"^images='.*nowhere' is invalid: no such folder"):
        read_image_folders(tmp_path / "nowhere", tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.txt").write_text("not an image")
    with pytest.raises(DataError, match=r"^masks='.*empty' is invalid: no image files in it; expected files ending "
                                        r"in \.png"):
        _pairs(tmp_path, n=2) and read_image_folders(tmp_path / "images", tmp_path / "empty")
    for i in range(2, 9):
        _save(tmp_path / "images" / f"s{i:02d}.png", np.zeros((12, 16), np.uint8))
    with pytest.raises(DataError, match=r"^masks='.*masks' is invalid: no mask for 7 image\(s\): s02\.png, s03\.png, "
                                        r"s04\.png, s05\.png, s06\.png, \.\.\.; expected a mask file of the same name"):
        _read(tmp_path)
    for i in range(2, 9):
        (tmp_path / "images" / f"s{i:02d}.png").unlink()
    _save(tmp_path / "masks" / "extra.png", np.zeros((12, 16), np.uint8))
    with pytest.raises(DataError, match=r"^images='.*images' is invalid: no image for 1 mask\(s\): extra\.png; "
                                        r"expected an image file of the same name"):
        _read(tmp_path)


def test_other_files_are_ignored_and_two_files_of_one_name_refused(tmp_path):
    _pairs(tmp_path, n=3)
    (tmp_path / "images" / "notes.txt").write_text("ignored")
    (tmp_path / "images" / ".hidden.png").write_bytes(b"ignored too")
    (tmp_path / "images" / "sub").mkdir()
    assert _read(tmp_path)[0].shape == (3, 12, 16, 1)
    _save(tmp_path / "images" / "s01.JPG", np.zeros((12, 16), np.uint8))
    with pytest.raises(DataError, match=r"^images='.*images' is invalid: two files named 's01' \(s01\.JPG, s01\.png\)"):
        _read(tmp_path)


@pytest.mark.parametrize("content", [b"not an image at all", "truncated"])
def test_a_corrupt_file_is_named_by_its_path(tmp_path, content):
    _pairs(tmp_path, n=3)
    broken = tmp_path / "masks" / "s01.png"
    if content == "truncated":
        content = broken.read_bytes()[:40]
    broken.write_bytes(content)
    with pytest.raises(DataError, match=r"^masks='.*masks/s01\.png' is invalid: not a readable image \(.*\); "
                                        r"expected a PNG, JPEG, BMP or TIFF file"):
        _read(tmp_path)


def test_lossy_and_anti_aliased_masks_and_huge_images_are_refused(tmp_path, monkeypatch):
    _save(tmp_path / "images" / "a.png", np.zeros((20, 20), np.uint8))
    _save(tmp_path / "masks" / "a.jpg", np.zeros((20, 20), np.uint8))
    with pytest.raises(DataError, match=r"^masks='.*masks' is invalid: JPEG masks \(a\.jpg\); expected lossless"):
        _read(tmp_path)
    (tmp_path / "masks" / "a.jpg").unlink()
    _save(tmp_path / "masks" / "a.png", np.arange(400).reshape(20, 20).astype(np.uint8) % 100)  # grey edges: 100 values
    with pytest.raises(DataError, match=r"the masks hold 100 distinct values; expected class values \(at most 64\)"):
        _read(tmp_path)
    import evokit.imagefiles as imagefiles

    monkeypatch.setattr(imagefiles, "MAX_PIXELS", 399)  # refused before its pixels are decoded
    with pytest.raises(DataError, match=r"^images='.*a\.png' is invalid: an image of 20x20; expected at most 399 pixels"):
        _read(tmp_path)


def test_masks_with_too_many_values_or_one_class_are_refused(tmp_path):
    _save(tmp_path / "images" / "a.png", np.zeros((20, 20), np.uint8))
    _save(tmp_path / "masks" / "a.tif", np.arange(400, dtype=np.uint16).reshape(20, 20))  # 16-bit: 400 values
    with pytest.raises(DataError, match=rf"^masks='.*masks' is invalid: the masks hold 400 distinct values; expected "
                                        rf"class values \(at most {MAX_CLASSES}\)"):
        _read(tmp_path)
    for i in range(5):
        _save(tmp_path / "images" / f"{i}.png", np.zeros((20, 20), np.uint8))
        _save(tmp_path / "masks" / f"{i}.png", np.zeros((20, 20), np.uint8))
    (tmp_path / "masks" / "a.tif").unlink()
    (tmp_path / "images" / "a.png").unlink()
    with pytest.raises(DataError, match=r"^masks=<masks with 1 distinct value\(s\) \[0\]> is invalid: segmentation "
                                        r"needs at least 2 classes"):
        datasets.from_image_folders(tmp_path / "images", tmp_path / "masks")


# --- a config's [data] table -----------------------------------------------------------------

def test_a_config_reads_a_mask_folder_relative_to_its_file(tmp_path):
    _pairs(tmp_path / "set", n=10)
    toml = tmp_path / "set" / "search.toml"
    toml.write_text('[data]\nkind = "mask_folder"\npath = "images"\nmasks = "masks/"\nsize = [6, 8]\n'
                    'test_size = 0.3\n')
    data = config.build_data(config.read(toml)["data"], base_dir=toml.parent)
    assert data.task == "segmentation" and data.name == "images" and data.input_shape == (6, 8, 1)
    assert len(data.y_test) == 3 and data.classes == (0, 255)
    same = read_data_file("data", {"path": "images", "masks": "masks"}, toml.parent, {"seed": 0})  # kind implied
    assert same.input_shape == (12, 16, 1)


@pytest.mark.parametrize("keys, error, message", [
    ({"masks": "nope"}, ConfigError, r"^data\.masks='nope' is invalid: no such folder"),
    ({"kind": "mask_folder"}, ConfigError, r"^data\.masks: missing; kind = \"mask_folder\" needs the folder of masks"),
    ({"masks": "masks", "target": "y"}, ConfigError, r"^data\.target: does not apply to kind = \"mask_folder\""),
    ({"masks": "masks", "size": [0, 1]}, ConfigError, r"^data\.size=\[0, 1\] is invalid"),
    ({"masks": "masks", "grayscale": 1}, ConfigError, r"^data\.grayscale=1 is invalid"),
    ({"kind": "table", "masks": "masks"}, ConfigError, r"^data\.masks: applies to images with masks only"),
])
def test_bad_mask_folder_keys_are_named(tmp_path, keys, error, message):
    _pairs(tmp_path, n=4)
    with pytest.raises(error, match=message):
        read_data_file("data", {"path": "images", **keys}, tmp_path, {"seed": 0})


def test_config_errors_name_the_key_and_show_the_path_as_given(tmp_path):
    _pairs(tmp_path, n=4)
    (tmp_path / "masks" / "s02.png").unlink()
    with pytest.raises(DataError, match=r"^data\.masks='masks' is invalid: no mask for 1 image\(s\): s02\.png"):
        read_data_file("data", {"path": "images", "masks": "masks"}, tmp_path, {"seed": 0})
    (tmp_path / "images" / "s02.png").unlink()
    with pytest.raises(DataError, match=r"^data\.test_size=0\.9 is invalid: 3 samples split into 3 \(test\) \+ 0"):
        config.build_data({"path": "images", "masks": "masks", "test_size": 0.9}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"^data\.bogus: unknown key; allowed: .*masks, size, grayscale"):
        config.build_data({"path": "images", "masks": "masks", "bogus": 1}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"^data\.masks: applies to a data file \(data\.path\) only"):
        config.build_data({"name": "digits", "masks": "masks"})
    (tmp_path / "images" / "s01.png").write_bytes(b"broken")
    with pytest.raises(DataError, match=r"^data\.path='.*images/s01\.png' is invalid: not a readable image"):
        read_data_file("data", {"path": "images", "masks": "masks"}, tmp_path, {"seed": 0})


# --- arrays and NPZ files with masks ---------------------------------------------------------

def _mask_arrays(n=20, shape=(8, 8)):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(n, *shape, 1)).astype(np.float32)
    y = (rng.random((n, *shape)) > 0.7).astype(np.uint8) * 255
    return x, y


def test_from_arrays_infers_segmentation_from_masks():
    x, y = _mask_arrays()
    data = datasets.from_arrays(x, y)
    assert data.task == "segmentation" and data.classes == (0, 255) and data.n_outputs == 1
    assert data.y_train.dtype == np.int32 and set(np.unique(data.y_train)) == {0, 1}
    assert datasets.from_arrays(x, y[..., None]).fingerprint == data.fingerprint  # (n, H, W, 1) masks too
    with pytest.raises(DataError, match=r"^y=<masks of shape \(4, 4\)> is invalid: expected one mask of the "
                                        r"images' size \(8, 8\)"):
        datasets.from_arrays(x, y[:, :4, :4])


def test_an_npz_file_with_masks_is_a_segmentation_dataset(tmp_path):
    x, y = _mask_arrays(30)
    np.savez(tmp_path / "cells.npz", X=x[:24], y=y[:24, ..., None], X_test=x[24:], y_test=y[24:])
    data = read_data_file("data", {"path": "cells.npz"}, tmp_path, {"seed": 0})
    assert data.task == "segmentation" and data.name == "cells" and data.classes == (0, 255)
    assert len(data.y_test) == 6 and data.y_test.shape == (6, 8, 8)
    np.testing.assert_array_equal(data.y_test, y[24:] // 255)
    np.savez(tmp_path / "flat.npz", X=x[..., 0], y=y)  # images without a channel axis
    with pytest.raises(DataError, match=r"^X=<samples of shape \(8, 8\)> is invalid: expected images \(height, "
                                        r"width, channels\)"):
        read_data_file("data", {"path": "flat.npz"}, tmp_path, {"seed": 0})
