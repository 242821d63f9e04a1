"""DiskArray: a .npy file of samples read with ordinary file reads, its writer, and a Dataset
whose x arrays stay on disk (checked and fingerprinted from the sidecar, never read whole)."""
import json
import pickle

import numpy as np
import pytest

import evokit as ek
from evokit.diskarray import DiskArray, DiskArrayWriter, Prefetcher, read_batches, sidecar_path, write_disk_array
from evokit.errors import DataError


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, size=(50, 4, 3, 2), dtype=np.uint8)


def test_writer_in_batches_gives_a_plain_npy_with_its_statistics(tmp_path, images):
    with DiskArrayWriter(tmp_path / "x.npy", (4, 3, 2), "uint8") as writer:
        for i in range(0, 50, 7):  # uneven batches, the last one short
            writer.append(images[i:i + 7])
        writer.append(images[:0])
    array = DiskArray(tmp_path / "x.npy")
    assert np.array_equal(np.load(tmp_path / "x.npy"), images)  # any NumPy reads the file
    assert (array.shape, array.dtype, len(array), array.ndim, array.nbytes) == (images.shape, np.uint8, 50, 4,
                                                                                images.nbytes)
    assert (array.min(), array.max(), array.finite) == (images.min(), images.max(), True)
    assert array.mean() == pytest.approx(images.mean()) and array.std() == pytest.approx(images.std())
    assert json.loads(sidecar_path(array.path).read_text())["count"] == 50


def test_reads_match_numpy_indexing(tmp_path, images):
    array = write_disk_array(tmp_path / "x.npy", images)
    index = np.array([9, 3, 3, 49, 0, 1, 2, -1])
    for key in (5, -2, slice(10, 20), slice(None, None, 7), slice(48, 99), index, [4, 2], images[:, 0, 0, 0] > 128,
                (index, 0), (7, slice(None), 1), np.array([], int)):
        assert np.array_equal(array[key], images[key]), key
    assert np.array_equal(np.asarray(array), images) and np.asarray(array, dtype=float).dtype == float
    with pytest.raises(IndexError):
        array[50]
    with pytest.raises(IndexError):
        array[[0, 50]]


def test_uint8_scaled_on_read_to_float32(tmp_path, images):
    array = write_disk_array(tmp_path / "x.npy", images, scale=1 / 255, shift=-0.5)
    expected = images.astype(np.float32) * np.float32(1 / 255) + np.float32(-0.5)
    assert array.dtype == np.float32 and array.stored_dtype == np.uint8
    assert np.array_equal(array[[3, 1]], expected[[3, 1]]) and np.array_equal(array[2:4], expected[2:4])
    assert array.min() == pytest.approx(expected.min()) and array.max() == pytest.approx(expected.max())
    assert array.mean() == pytest.approx(expected.mean(dtype=np.float64), abs=1e-6)
    assert DiskArray(array.path).scale == pytest.approx(1 / 255)  # the sidecar's default
    assert DiskArray(array.path, scale=2.0).digest != array.digest
    negative = DiskArray(array.path, scale=-1.0)  # shift: the sidecar's -0.5
    assert (negative.min(), negative.max()) == (-float(images.max()) - 0.5, -float(images.min()) - 0.5)


def test_pickles_as_a_path_and_reads_the_same(tmp_path):
    big = np.random.default_rng(1).random((2000, 64), dtype=np.float32)  # 512 kB of data
    array = write_disk_array(tmp_path / "x.npy", big)
    blob = pickle.dumps(array)
    assert len(blob) < 2000
    again = pickle.loads(blob)
    assert again.digest == array.digest and np.array_equal(again[[7, 1999]], big[[7, 1999]])


def test_a_file_without_sidecar_is_scanned_once_and_a_stale_sidecar_refused(tmp_path, images):
    written = write_disk_array(tmp_path / "x.npy", images)
    sidecar_path(written.path).unlink()
    assert DiskArray(written.path).digest == written.digest
    np.save(tmp_path / "y.npy", images.astype(np.float32))
    assert DiskArray(tmp_path / "y.npy").max() == images.max()
    write_disk_array(tmp_path / "z.npy", images)
    np.save(tmp_path / "z.npy", images[:10])  # replaced behind the sidecar's back
    with pytest.raises(DataError, match="replaced"):
        DiskArray(tmp_path / "z.npy")


def test_truncated_or_missing_files_and_bad_batches_raise_data_errors(tmp_path, images):
    path = write_disk_array(tmp_path / "x.npy", images).path
    with open(path, "r+b") as f:
        f.truncate(200)
    with pytest.raises(DataError, match="truncated"):
        DiskArray(path)
    with pytest.raises(DataError, match="not found"):
        DiskArray(tmp_path / "missing.npy")
    with pytest.raises(DataError, match="batch"):
        with DiskArrayWriter(tmp_path / "w.npy", (4, 3, 2), "uint8") as writer:
            writer.append(images[:, :2])
    assert not (tmp_path / "w.npy").exists()  # an unfinished file is deleted
    with DiskArrayWriter(tmp_path / "w.npy", (2,), "uint8") as writer:
        with pytest.raises(DataError, match="fit uint8"):
            writer.append(np.array([[0, 300]]))
        with pytest.raises(DataError, match="whole numbers"):
            writer.append(np.array([[0.5, 1.0]]))
    with pytest.raises(ek.errors.ConfigError, match="dtype"):
        DiskArrayWriter(tmp_path / "v.npy", (2,), "U3")


def test_prefetcher_yields_every_batch_in_order_and_stops_early(tmp_path, images):
    array = write_disk_array(tmp_path / "x.npy", images)
    keys = [np.arange(i, i + 5)[::-1] for i in range(0, 50, 5)]
    assert all(np.array_equal(got, images[key]) for got, key in zip(Prefetcher(array, keys), keys))
    batches = read_batches(array, keys)
    next(batches)
    batches.close()  # the reads not begun are cancelled, the thread ends
    assert [b.shape for b in read_batches(images, keys[:2])] == [(5, 4, 3, 2)] * 2


def test_to_disk_makes_a_streaming_dataset_checked_without_reading(tmp_path, small_digits):
    streaming = ek.datasets.to_disk(small_digits, tmp_path)
    assert streaming.streaming and not small_digits.streaming
    assert isinstance(streaming.x_train, DiskArray) and isinstance(streaming.y_train, np.ndarray)
    assert np.array_equal(np.asarray(streaming.x_val), small_digits.x_val)
    assert streaming.fingerprint == ek.datasets.to_disk(small_digits, tmp_path / "again").fingerprint
    assert streaming.fingerprint != small_digits.fingerprint
    assert (streaming.input_shape, streaming.n_classes) == (small_digits.input_shape, small_digits.n_classes)
    sub = streaming.subset(n_train=30, seed=0)
    assert np.array_equal(sub.x_train, small_digits.subset(n_train=30, seed=0).x_train)
    assert isinstance(sub.x_val, DiskArray)
    assert len(pickle.dumps(streaming)) < len(pickle.dumps(small_digits)) / 4


def test_a_dataset_refuses_non_finite_disk_arrays_and_gan_streaming(tmp_path, small_digits):
    x = np.asarray(small_digits.x_train).copy()
    x[3, 0, 0, 0] = np.nan
    bad = write_disk_array(tmp_path / "bad.npy", x)
    assert not bad.finite
    with pytest.raises(DataError, match="x_train"):
        ek.datasets.Dataset("d", "classification", bad, small_digits.y_train, small_digits.x_val,
                            small_digits.y_val, small_digits.x_test, small_digits.y_test)
    gan = ek.datasets.load("digits", task="gan").subset(n_train=50, n_val=20)
    with pytest.raises(DataError, match="x_train.*in memory"):
        ek.datasets.to_disk(gan, tmp_path / "gan")


def test_token_ids_on_disk_are_checked_against_the_vocabulary(tmp_path):
    ids = np.random.default_rng(0).integers(0, 50, size=(60, 6))
    data = ek.datasets.from_arrays(ids, np.arange(60) % 2, vocab_size=50)
    streaming = ek.datasets.to_disk(data, tmp_path)
    assert streaming.x_train.dtype == np.int32 and streaming.vocab_size == 50
    with pytest.raises(DataError, match="x_train.*token ids from 0 to 49"):
        ek.datasets.Dataset("t", "classification", streaming.x_train, data.y_train, data.x_val, data.y_val,
                            data.x_test, data.y_test, vocab_size=40)


def test_a_rewritten_file_is_replaced_so_open_readers_keep_their_data_and_others_are_told(tmp_path, images):
    path = tmp_path / "x.npy"
    reading = write_disk_array(path, images)
    assert np.array_equal(reading[:2], images[:2])  # its file is open in this process now
    unopened, blob = DiskArray(path), pickle.dumps(reading)
    write_disk_array(path, images[::-1])  # same path, same shape: other data
    assert np.array_equal(reading[:], images)  # the old file is still there for it
    with pytest.raises(DataError, match=r"x\.npy> is invalid: the file was rewritten since this dataset was made"):
        unopened[:]
    with pytest.raises(DataError, match="rewritten since this dataset was made: load it again"):
        pickle.loads(blob)
    with pytest.raises(DataError, match="rewritten"):
        reading.check_file()
    assert np.array_equal(DiskArray(path)[:], images[::-1])  # opened anew: the new data
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]  # no temporary file is left


def test_a_file_changed_behind_its_sidecar_is_refused_but_a_copy_is_not(tmp_path, images):
    import shutil

    path = write_disk_array(tmp_path / "x.npy", images).path
    shutil.copy(path, tmp_path / "y.npy")  # another inode and time, the same bytes
    shutil.copy(sidecar_path(path), sidecar_path(tmp_path / "y.npy"))
    assert np.array_equal(DiskArray(tmp_path / "y.npy")[:], images)
    np.save(path, images[::-1])  # same shape and dtype, written in place
    with pytest.raises(DataError, match=r"x\.npy> is invalid: expected the file its sidecar .* rewritten"):
        DiskArray(path)


def test_a_deleted_file_fails_on_unpickling_and_checking_naming_it(tmp_path, images):
    array = write_disk_array(tmp_path / "x.npy", images)
    blob = pickle.dumps(array)
    array.path.unlink()
    for attempt in (lambda: pickle.loads(blob), array.check_file, lambda: array[0]):
        with pytest.raises(DataError, match=r"x\.npy> is invalid: .*it is gone.*load it again.*stream=\"folder\""):
            attempt()


def test_an_aborted_writer_leaves_the_file_already_there(tmp_path, images):
    path = write_disk_array(tmp_path / "x.npy", images).path
    with pytest.raises(DataError, match="batch"):
        with DiskArrayWriter(path, (4, 3, 2), "uint8") as writer:
            writer.append(images[:, :2])
    assert np.array_equal(DiskArray(path)[:], images)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npy", "x.npy.json"]


def test_to_disk_into_the_folder_it_streams_from_is_refused_however_the_folder_is_spelled(tmp_path, monkeypatch):
    x = np.random.default_rng(0).random((30, 4), dtype=np.float32)
    streaming = ek.datasets.to_disk(ek.datasets.from_arrays(x, np.arange(30) % 3, scale=False), tmp_path / "d")
    (tmp_path / "link").symlink_to(tmp_path / "d")
    monkeypatch.chdir(tmp_path)
    for folder in (tmp_path / "d" / ".." / "d", tmp_path / "link", "d"):
        with pytest.raises(ek.errors.ConfigError, match="expected another folder than the one data streams from"):
            ek.datasets.to_disk(streaming, folder)
    streaming.check_files()  # untouched
