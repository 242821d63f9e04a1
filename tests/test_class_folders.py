"""Tests of image classification data from a folder with one sub-folder per class
(:mod:`evokit.classfolders`, :func:`evokit.datasets.from_image_folder`, a config's
``kind = "image_folder"`` and ``evokit run --data FOLDER``). The folders are written here with
Pillow: real PNG files, a truncated one and a text file named ``.png``."""
from __future__ import annotations

import io
import logging

import numpy as np
import pytest
from PIL import Image

from evokit import config, datasets
from evokit.classfolders import SHOWN, read_class_folder, scan_class_folder
from evokit.cli import main
from evokit.diskarray import DiskArray
from evokit.errors import ConfigError, DataError

CLASSES = ("cat", "dog", "owl")
PER_CLASS = 12  # 3 x 12 images: 22 for training, more than half a batch of 32


def _write(root, *, grey=False, shape=(64, 64), per_class=PER_CLASS, seed=0):
    """``per_class`` random images per class under ``root/<class>/``; class k is brighter at
    row band k (something to learn). Returns the pixels of ``root/cat/00.png``."""
    rng = np.random.default_rng(seed)
    first = None
    for k, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 128, (*shape, 3), dtype=np.uint8)
            pixels[k * shape[0] // 3:(k + 1) * shape[0] // 3] += 120
            image = Image.fromarray(pixels)
            (image.convert("L") if grey else image).save(root / name / f"{i:02d}.png")
            if first is None:
                first = np.asarray(image.convert("L") if grey else image)
    return first


def _truncated_png(path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), 7, np.uint8)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue()[:len(buffer.getvalue()) // 2])


@pytest.fixture
def colour(tmp_path):
    root = tmp_path / "pets"
    first = _write(root)
    return root, first


@pytest.fixture
def broken(tmp_path):
    """A colour folder with a truncated PNG (``cat/zz-truncated.png``) and a text file named
    ``dog/notes.png``."""
    root = tmp_path / "broken"
    _write(root)
    _truncated_png(root / "cat" / "zz-truncated.png")
    (root / "dog" / "notes.png").write_text("not an image")
    return root


# --- reading ---------------------------------------------------------------------------------

def test_classes_are_the_sorted_sub_folders_and_other_files_are_ignored(colour):
    root, first = colour
    (root / "README.txt").write_text("about these pets")
    Image.fromarray(first).save(root / "stray.png")  # directly in the root: no class
    (root / ".thumbnails" / "x").mkdir(parents=True)
    Image.fromarray(first).save(root / ".thumbnails" / "x" / "a.png")  # hidden folder: ignored
    (root / "owl" / "night").mkdir()
    Image.fromarray(first).save(root / "owl" / "night" / "deep.png")  # nested in a class: read
    Image.fromarray(first).save(root / "owl" / ".hidden.png")
    x, labels, classes = read_class_folder(root)
    assert classes == CLASSES
    assert x.shape == (3 * PER_CLASS + 1, 64, 64, 3) and x.dtype == np.float32
    assert np.bincount(labels).tolist() == [PER_CLASS, PER_CLASS, PER_CLASS + 1]
    np.testing.assert_array_equal(x[0], first)  # values as stored, unscaled


def test_grayscale_is_decided_from_the_files_unless_given(tmp_path, colour):
    grey_root = tmp_path / "grey"
    grey_first = _write(grey_root, grey=True)
    x, _, _ = read_class_folder(grey_root)
    assert x.shape[-1] == 1
    np.testing.assert_array_equal(x[0, ..., 0], grey_first)
    x, _, _ = read_class_folder(grey_root, grayscale=False)
    assert x.shape[-1] == 3 and (x[0, ..., 0] == x[0, ..., 2]).all()
    root, first = colour
    assert read_class_folder(root)[0].shape[-1] == 3
    assert read_class_folder(root, grayscale=True)[0].shape[-1] == 1
    Image.fromarray(first).save(grey_root / "dog" / "colour.png")  # one colour image among grey ones
    assert scan_class_folder(grey_root).grayscale is False


def test_size_resizes_every_image_and_without_it_a_differing_size_is_named(colour):
    root, first = colour
    Image.fromarray(first[:40, :50]).save(root / "dog" / "small.png")
    with pytest.raises(DataError, match=r"^path='.*dog/small\.png' is invalid: an image of 40x50, the first one "
                                        r"\('.*cat/00\.png'\) is 64x64; .*pass size="):
        read_class_folder(root)
    assert read_class_folder(root, size=32)[0].shape[1:] == (32, 32, 3)
    x, _, _ = read_class_folder(root, size=(16, 24), grayscale=True)
    assert x.shape[1:] == (16, 24, 1) and 0 <= x.min() and x.max() <= 255


def test_every_unreadable_file_is_named_with_its_reason(broken):
    with pytest.raises(DataError) as error:
        read_class_folder(broken)
    message = str(error.value)
    assert message.startswith(f"path={str(broken)!r} is invalid: 2 unreadable image file(s): ")
    assert "dog/notes.png' (not an image Pillow can read)" in message
    assert "cat/zz-truncated.png' (not a readable image (OSError: image file is truncated" in message
    assert 'on_error="skip"' in message
    for i in range(SHOWN + 2):
        (broken / "owl" / f"bad{i}.png").write_bytes(b"\x89PNG nonsense")
    with pytest.raises(DataError, match=rf"{SHOWN + 4} unreadable image file\(s\): .* and 4 more; expected"):
        read_class_folder(broken)


def test_skip_leaves_unreadable_files_out_with_a_warning_naming_each(broken, caplog):
    with caplog.at_level(logging.WARNING, logger="evokit.datasets"):
        x, labels, _ = read_class_folder(broken, on_error="skip")
    assert len(x) == len(labels) == 3 * PER_CLASS
    warned = [r.getMessage() for r in caplog.records if r.name == "evokit.datasets"]
    assert len(warned) == 2
    assert any("cat/zz-truncated.png" in w for w in warned) and any("dog/notes.png" in w for w in warned)


def test_a_bad_layout_or_option_is_refused_naming_it(tmp_path, colour):
    root, _ = colour
    with pytest.raises(ConfigError, match=r"^path='.*nothere' is invalid: no such folder"):
        read_class_folder(tmp_path / "nothere")
    with pytest.raises(ConfigError, match=r"on_error='ignore' is invalid: expected one of 'raise', 'skip'"):
        read_class_folder(root, on_error="ignore")
    with pytest.raises(ConfigError, match=r"^grayscale='yes' is invalid"):
        read_class_folder(root, grayscale="yes")
    with pytest.raises(ConfigError, match=r"^size=0 is invalid"):
        read_class_folder(root, size=0)
    (root / "emu").mkdir()
    (root / "emu" / "notes.txt").write_text("no images yet")
    with pytest.raises(DataError, match=r"^path='.*pets' is invalid: class folder 'emu' holds no image files"):
        read_class_folder(root)
    one = tmp_path / "one"
    _write(one, per_class=2)
    for name in CLASSES[1:]:
        for file in (one / name).iterdir():
            file.unlink()
        (one / name).rmdir()
    with pytest.raises(DataError, match=r"^path='.*one' is invalid: 1 class folder\(s\) \['cat'\]; expected .* at least 2"):
        read_class_folder(one)
    unreadable = tmp_path / "unreadable"
    for name in CLASSES[:2]:
        (unreadable / name).mkdir(parents=True)
        (unreadable / name / "a.png").write_text("not an image")
    with pytest.raises(DataError, match=r"^path='.*unreadable' is invalid: no readable image in it"):
        read_class_folder(unreadable, on_error="skip")


# --- the Dataset -----------------------------------------------------------------------------

def test_from_image_folder_makes_stratified_scaled_splits_named_by_the_folders(colour):
    root, _ = colour
    data = datasets.from_image_folder(root, size=32, seed=1)
    assert data.task == "classification" and data.name == "pets" and data.classes == CLASSES
    assert data.input_shape == (32, 32, 3)
    counts = [np.bincount(getattr(data, f"y_{s}"), minlength=3) for s in ("train", "val", "test")]
    assert [c.sum() for c in counts] == [22, 6, 8]
    assert all((c == c[0]).all() or c.max() - c.min() <= 1 for c in counts)  # stratified
    assert abs(float(data.x_train.mean())) < 1e-3 and abs(float(data.x_train.std()) - 1) < 1e-3
    again = datasets.from_image_folder(root, size=32, seed=1, name="mine")
    assert again.name == "mine" and again.fingerprint == data.fingerprint


def test_skipping_that_leaves_a_class_too_small_gives_the_split_error_naming_path(tmp_path):
    root = tmp_path / "few"
    _write(root, per_class=3)
    for i in range(2):
        _truncated_png(root / "owl" / f"{i:02d}.png")  # owl keeps 1 readable image
    with pytest.raises(DataError, match=r"^path=<labels where class 'owl' has 1 sample\(s\)> is invalid: a stratified"):
        datasets.from_image_folder(root, on_error="skip")


def test_stream_writes_uint8_files_and_reads_what_memory_holds(colour, tmp_path, broken):
    root, _ = colour
    in_memory = datasets.from_image_folder(root, seed=2)
    streamed = datasets.from_image_folder(root, seed=2, stream=tmp_path / "disk")
    assert streamed.streaming and isinstance(streamed.x_train, DiskArray)
    assert streamed.x_train.stored_dtype == np.uint8 and (tmp_path / "disk" / "x_val.npy").is_file()
    assert streamed.classes == in_memory.classes
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(streamed, f"y_{split}"), getattr(in_memory, f"y_{split}"))
        np.testing.assert_allclose(np.asarray(getattr(streamed, f"x_{split}")), getattr(in_memory, f"x_{split}"),
                                   atol=1e-5)
    with pytest.raises(DataError, match="2 unreadable image file"):
        datasets.from_image_folder(broken, stream=tmp_path / "failed")
    assert not list((tmp_path / "failed").glob("*.npy"))  # nothing half-written is left
    skipped = datasets.from_image_folder(broken, stream=tmp_path / "skipped", on_error="skip")
    assert sum(len(getattr(skipped, f"y_{s}")) for s in ("train", "val", "test")) == 3 * PER_CLASS
    Image.fromarray(np.full((64, 64), 40000, np.uint16)).save(root / "owl" / "deep.png")  # 16-bit grey
    assert datasets.from_image_folder(root, grayscale=True).n_classes == 3  # in memory: values as stored
    with pytest.raises(DataError, match=r"^path='.*owl/deep\.png' is invalid: an image of 16-bit .* when streaming"):
        datasets.from_image_folder(root, grayscale=True, stream=tmp_path / "deep")


# --- config and command line -------------------------------------------------------------------

def test_a_config_data_table_reads_an_image_folder_relative_to_the_config(colour, broken):
    root, _ = colour
    base = root.parent
    data = config.build_data({"kind": "image_folder", "path": "pets", "size": [16, 20], "grayscale": True},
                             base_dir=base)
    assert data.input_shape == (16, 20, 1) and data.classes == CLASSES
    skipped = config.build_data({"kind": "image_folder", "path": "broken", "on_error": "skip"}, base_dir=base)
    assert sum(len(getattr(skipped, f"y_{s}")) for s in ("train", "val", "test")) == 3 * PER_CLASS
    streamed = config.build_data({"kind": "image_folder", "path": "pets", "stream": "disk"}, base_dir=base)
    assert streamed.streaming and streamed.x_test.path == (base / "disk" / "x_test.npy").absolute()
    with pytest.raises(DataError, match=r"^data\.path='broken' is invalid: 2 unreadable image file\(s\): "
                                        r"'broken/cat/zz-truncated\.png'"):
        config.build_data({"kind": "image_folder", "path": "broken"}, base_dir=base)
    with pytest.raises(ConfigError, match=r"^data\.on_error='maybe' is invalid"):
        config.build_data({"kind": "image_folder", "path": "pets", "on_error": "maybe"}, base_dir=base)
    with pytest.raises(ConfigError, match=r"^data\.masks: applies to images with masks only"):
        config.build_data({"kind": "image_folder", "path": "pets", "masks": "m"}, base_dir=base)
    with pytest.raises(ConfigError, match=r"^data\.target: does not apply to kind = \"image_folder\""):
        config.build_data({"kind": "image_folder", "path": "pets", "target": 0}, base_dir=base)
    with pytest.raises(ConfigError, match=r"^data\.on_error: applies to images in class folders only \(kind = \"image_folder\"\)"):
        config.build_data({"path": "x.csv", "on_error": "skip"}, base_dir=base)


def test_run_data_folder_finishes_and_writes_best_keras(colour, tmp_path, capsys):
    root, _ = colour
    run_dir = tmp_path / "run"
    code = main(["run", "--data", str(root), "--image-size", "16", "--generations", "1", "--population", "2",
                 "--epochs", "1", "--final-epochs", "0", "--run-dir", str(run_dir), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "test accuracy: " in out
    assert (run_dir / "best.keras").is_file()


def test_run_data_with_an_unreadable_image_exits_2_naming_it(broken, capsys):
    assert main(["run", "--data", str(broken), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"evokit: error: --data: path={str(broken)!r} is invalid: 2 unreadable image file(s)")
    assert "cat/zz-truncated.png" in err and "pass --skip-bad-images" in err
    assert main(["run", "--data", str(broken), "--dataset", "iris"]) == 2
    assert "--data=" in capsys.readouterr().err
    assert main(["run", "--skip-bad-images"]) == 2
    assert "--skip-bad-images: applies to --data FOLDER only" in capsys.readouterr().err
    assert main(["run", "--data", str(broken), "--image-size", "64x"]) == 2
    assert "--image-size" in capsys.readouterr().err


def test_run_data_with_a_config_replaces_its_data_with_the_folder(colour, tmp_path, monkeypatch):
    from evokit import cli

    root, _ = colour
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "search.toml").write_text('[data]\nname = "digits"\nval_size = 0.25\n'
                                                  '[encoding]\ntype = "deepga"\n[[objectives]]\ntype = "params"\n')
    args = cli._parser().parse_args(["run", str(tmp_path / "cfg" / "search.toml"), "--data", str(root.relative_to(
        tmp_path)), "--image-size", "8x12", "--grayscale", "--run-dir", str(tmp_path / "r")])
    monkeypatch.chdir(tmp_path)  # --data is relative to the working directory, not to the config file
    search, _ = cli._search_from_config(args)
    assert search.data.name == "pets" and search.data.input_shape == (8, 12, 1)
    assert len(search.data.y_val) == 7  # the config's val_size is kept: 0.25 of the 28 left by the test split


def test_run_data_also_takes_a_csv_file(tmp_path, monkeypatch):
    from evokit import cli

    rng = np.random.default_rng(0)
    x = rng.random((40, 4))
    np.savetxt(tmp_path / "table.csv", np.c_[x, x[:, 0] > 0.5], delimiter=",", header="a,b,c,d,label", comments="",
               fmt="%.4f")
    monkeypatch.chdir(tmp_path)
    args = cli._parser().parse_args(["run", "--data", "table.csv"])
    data = cli._user_data(cli._data_table(args, relative=True), seed=0)
    assert data.name == "table" and data.input_shape == (4,) and data.n_classes == 2
    with pytest.raises(ConfigError, match=r"^--image-size: applies to a folder of images only"):
        cli._data_table(cli._parser().parse_args(["run", "--data", "table.csv", "--image-size", "8"]), relative=True)


def test_streaming_again_into_the_same_folder_never_pairs_old_labels_with_new_images(colour, tmp_path):
    import pickle

    root, _ = colour
    first = datasets.from_image_folder(root, size=8, stream=tmp_path / "disk", seed=0)
    blob = pickle.dumps(first)
    second = datasets.from_image_folder(root, size=8, stream=tmp_path / "disk", seed=1)
    assert second.x_train.path == first.x_train.path
    with pytest.raises(DataError, match=r"x_train\.npy> is invalid: the file was rewritten since this dataset was "
                                        r"made: load it again"):
        first.x_train[:4]
    with pytest.raises(DataError, match="rewritten"):
        first.check_files()
    with pytest.raises(DataError, match="rewritten"):
        pickle.loads(blob)
    second.check_files()
    assert np.asarray(second.x_val).shape == (len(second.y_val), 8, 8, 3)


@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "stream"])
def test_skipping_every_image_of_a_class_names_the_class_folder(tmp_path, stream):
    root = tmp_path / "junk"
    _write(root, shape=(8, 8), per_class=6)
    for i, file in enumerate(sorted((root / "dog").iterdir())):  # found when scanned, or only when decoded
        _truncated_png(file) if i % 2 else file.write_text("not an image")
    (root / "owl" / "00.png").write_text("not an image either")  # a class that keeps images is fine
    with pytest.raises(DataError, match=r"^path='.*junk/dog' is invalid: class folder 'dog' has no readable image "
                                        r"left \(6 unreadable image\(s\) skipped\)"):
        datasets.from_image_folder(root, size=8, on_error="skip", stream=tmp_path / "disk" if stream else False)
    assert not list(tmp_path.glob("disk/*.npy"))  # nothing half-written is left


def test_run_data_with_a_config_keeps_its_image_keys_and_refuses_others(colour, tmp_path, capsys):
    from evokit import cli

    root, _ = colour
    toml = tmp_path / "search.toml"
    toml.write_text('[data]\nname = "digits"\nsize = 8\ngrayscale = true\nn_train = 10\nstream = "disk"\n'
                    'on_error = "skip"\n[encoding]\ntype = "deepga"\n[[objectives]]\ntype = "params"\n')
    args = cli._parser().parse_args(["run", str(toml), "--data", str(root), "--run-dir", str(tmp_path / "r")])
    search, _ = cli._search_from_config(args)
    data = search.data
    assert data.input_shape == (8, 8, 1) and len(data.y_train) == 10
    assert data.streaming and data.x_val.path.parent == tmp_path / "disk"  # relative to the config
    args = cli._parser().parse_args(["run", str(toml), "--data", str(root), "--image-size", "6", "--color",
                                     "--run-dir", str(tmp_path / "r")])
    assert cli._search_from_config(args)[0].data.input_shape == (6, 6, 3)  # the options given win
    toml.write_text('[data]\npath = "table.csv"\ntarget = "label"\n[encoding]\ntype = "deepga"\n'
                    '[[objectives]]\ntype = "params"\n')
    assert main(["run", str(toml), "--data", str(root), "--quiet"]) == 2
    assert "data.target: the config's [data] key cannot apply to --data=" in capsys.readouterr().err
