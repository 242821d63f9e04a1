"""Tests of evokit.datasets: embedded datasets, user arrays, splits, scaling and bad input."""
from __future__ import annotations

import random
import socket

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evokit import datasets
from evokit.datasets import Dataset, from_arrays, load, names
from evokit.errors import ConfigError, DataError

EXPECTED = {  # name: (input_shape, n_classes, total samples)
    "digits": ((8, 8, 1), 10, 1797),
    "breast_cancer": ((30,), 2, 569),
    "wine": ((13,), 3, 178),
    "iris": ((4,), 3, 150),
    "mnist1d": ((40, 1), 10, 5000),
}
ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load("digits")


@pytest.fixture
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """200 samples, 5 features, 4 balanced integer classes."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 50)
    x = rng.normal(size=(200, 5)) + y[:, None]
    return x, y


def _same(a: Dataset, b: Dataset) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ARRAYS)


def _np_states_equal(s1: tuple, s2: tuple) -> bool:
    return s1[0] == s2[0] and np.array_equal(s1[1], s2[1]) and tuple(s1[2:]) == tuple(s2[2:])


# --- named datasets -------------------------------------------------------------------------

def test_names() -> None:
    assert names() == ("digits", "breast_cancer", "wine", "iris", "mnist1d", "diabetes", "languages", "cells")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_named_dataset_shapes_and_dtypes(name: str) -> None:
    shape, k, total = EXPECTED[name]
    ds = load(name)
    assert ds.name == name and ds.task == "classification"
    assert ds.input_shape == shape
    assert ds.n_classes == k == ds.n_outputs
    assert ds.classes == tuple(range(k))
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == total
    for split in ("train", "val", "test"):
        x, y = getattr(ds, f"x_{split}"), getattr(ds, f"y_{split}")
        assert x.dtype == np.float32 and y.dtype == np.int64
        assert x.shape == (len(y), *shape) and y.ndim == 1
        assert np.isfinite(x).all()
        assert y.min() >= 0 and y.max() < k
    assert set(np.unique(ds.y_train)) == set(range(k))


def test_digits_scaled_to_unit_interval(digits: Dataset) -> None:
    for x in (digits.x_train, digits.x_val, digits.x_test):
        assert x.min() == 0.0 and x.max() == 1.0
    raw = load("digits", scale=False)
    assert raw.x_train.max() == 16.0
    np.testing.assert_allclose(raw.x_train / 16, digits.x_train)


@pytest.mark.parametrize("name", ["breast_cancer", "wine", "iris"])
def test_tabular_standardised_with_train_statistics(name: str) -> None:
    ds = load(name)
    np.testing.assert_allclose(ds.x_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(0), 1, atol=1e-4)
    assert np.abs(ds.x_test.mean(0)).max() > 1e-4  # test statistics were not used
    raw = load(name, scale=False)
    assert not np.allclose(raw.x_train.std(0), 1)


def test_mnist1d_uses_own_test_split_and_train_statistics() -> None:
    ds = load("mnist1d", test_size=0.5)  # test_size does not apply to mnist1d
    assert len(ds.y_test) == 1000 and len(ds.y_train) + len(ds.y_val) == 4000
    assert len(ds.y_val) == 800
    assert abs(float(ds.x_train.mean())) < 1e-5 and abs(float(ds.x_train.std()) - 1) < 1e-4


def test_split_sizes() -> None:
    ds = load("iris", val_size=0.25, test_size=0.2)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (90, 30, 30)


def test_splits_are_stratified(digits: Dataset) -> None:
    everything = np.concatenate([digits.y_train, digits.y_val, digits.y_test])
    overall = np.bincount(everything, minlength=10) / len(everything)
    for y in (digits.y_train, digits.y_val, digits.y_test):
        np.testing.assert_allclose(np.bincount(y, minlength=10) / len(y), overall, atol=0.01)


def test_same_seed_same_arrays_other_seed_other_split(digits: Dataset) -> None:
    again = load("digits", seed=0)
    other = load("digits", seed=1)
    assert _same(digits, again)
    assert not np.array_equal(digits.x_train, other.x_train)
    assert not np.array_equal(digits.y_test, other.y_test)


def test_fingerprint(digits: Dataset) -> None:
    fp = digits.fingerprint
    assert len(fp) == 16 and int(fp, 16) >= 0
    assert load("digits", seed=0).fingerprint == fp
    assert load("digits", seed=1).fingerprint != fp
    assert load("digits", scale=False).fingerprint != fp
    renamed = Dataset("other", *(getattr(digits, f) for f in ("task", *ARRAYS)), digits.classes)
    assert renamed.fingerprint == fp
    as_regression = Dataset("r", "regression", digits.x_train, digits.y_train.astype(np.float32),
                            digits.x_val, digits.y_val.astype(np.float32), digits.x_test,
                            digits.y_test.astype(np.float32))
    assert as_regression.fingerprint != fp


def test_repr_is_short(digits: Dataset) -> None:
    text = repr(digits)
    assert text.startswith("Dataset('digits', classification")
    assert "test=(360, 8, 8, 1)" in text and "n_classes=10" in text and len(text) < 200


def test_mnist1d_leaves_global_random_state_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets, "_MNIST1D_CACHE", {})  # force a fresh generation
    random.seed(1234)
    np.random.seed(4321)
    random.random()
    np.random.random()
    py_before, np_before = random.getstate(), np.random.get_state()
    load("mnist1d")
    assert datasets._MNIST1D_CACHE  # it really generated
    assert random.getstate() == py_before
    assert _np_states_equal(np.random.get_state(), np_before)


def test_mnist1d_is_generated_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import mnist1d.data

    first = load("mnist1d")

    def fail(*args, **kwargs):
        raise AssertionError("make_dataset called again")

    monkeypatch.setattr(mnist1d.data, "make_dataset", fail)
    assert _same(first, load("mnist1d"))


def test_loading_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(datasets, "_MNIST1D_CACHE", {})
    for name in names():
        assert len(load(name).y_train) > 0


# --- user arrays ----------------------------------------------------------------------------

def test_from_arrays_integer_labels(blobs) -> None:
    x, y = blobs
    ds = from_arrays(x, y)
    assert ds.task == "classification" and ds.name == "user" and ds.classes == (0, 1, 2, 3)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (128, 32, 40)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    np.testing.assert_allclose(ds.x_train.mean(0), 0, atol=1e-5)
    assert _same(ds, from_arrays(x, y))


def test_from_arrays_string_labels_keep_originals(blobs) -> None:
    x, y = blobs
    words = np.array(["dog", "cat", "emu", "ant"])[y]
    ds = from_arrays(x, words, name="animals", scale=False)
    assert ds.classes == ("ant", "cat", "dog", "emu") and ds.n_classes == 4
    # Each sample's encoded label maps back to its original word (rows are unique).
    for xs, ys in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test)):
        for row, code in zip(xs[:20], ys[:20]):
            i = int(np.flatnonzero((x.astype(np.float32) == row).all(1))[0])
            assert ds.classes[code] == words[i]


def test_from_arrays_list_and_bool_labels() -> None:
    x = [[float(i), float(i % 3)] for i in range(30)]
    y = [i % 2 == 0 for i in range(30)]
    ds = from_arrays(x, y)
    assert ds.classes == (False, True) and ds.input_shape == (2,)


def test_regression_inferred_from_float_targets() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 3))
    y = x @ np.array([1.0, -2.0, 0.5])
    ds = from_arrays(x, y)
    assert ds.task == "regression" and ds.n_classes is None and ds.n_outputs == 1
    assert ds.classes == () and ds.y_train.dtype == np.float32
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 100
    two = from_arrays(x, np.stack([y, -y], 1))
    assert two.n_outputs == 2 and two.y_test.shape[1] == 2
    forced = from_arrays(x, np.arange(100), task="regression")
    assert forced.task == "regression" and forced.y_train.dtype == np.float32


def test_explicit_test_split(blobs) -> None:
    x, y = blobs
    x_test = x[:40] + 100.0
    ds = from_arrays(x, y, X_test=x_test, y_test=y[:40])
    assert len(ds.y_test) == 40 and len(ds.y_train) + len(ds.y_val) == 200
    np.testing.assert_array_equal(ds.y_test, y[:40])
    assert ds.x_test.mean() > 20  # scaled with train statistics, not its own


def test_sequence_and_image_arrays_scaled_by_one_scalar() -> None:
    rng = np.random.default_rng(2)
    y = np.repeat([0, 1], 30)
    seq = rng.normal(5.0, 3.0, size=(60, 12, 2))
    seq[:, :, 1] = 7.0  # a constant channel does not become NaN
    ds = from_arrays(seq, y)
    assert ds.input_shape == (12, 2) and np.isfinite(ds.x_train).all()
    assert abs(float(ds.x_train.mean())) < 1e-5 and abs(float(ds.x_train.std()) - 1) < 1e-4
    img = from_arrays(rng.normal(size=(60, 4, 4, 1)), y)
    assert img.input_shape == (4, 4, 1)


def test_constant_feature_does_not_make_nan() -> None:
    x = np.zeros((40, 3))
    x[:, 0] = np.arange(40)
    ds = from_arrays(x, np.arange(40) % 2)
    assert np.isfinite(ds.x_train).all() and np.isfinite(ds.x_test).all()


# --- subset ---------------------------------------------------------------------------------

def test_subset(digits: Dataset) -> None:
    small = digits.subset(n_train=100, n_val=50, seed=3)
    assert (len(small.y_train), len(small.y_val)) == (100, 50)
    assert small.x_train.shape == (100, 8, 8, 1)
    assert small.x_test is digits.x_test and small.classes == digits.classes
    assert set(np.unique(small.y_train)) == set(range(10))
    assert np.bincount(small.y_train, minlength=10).min() >= 9
    assert _same(small, digits.subset(n_train=100, n_val=50, seed=3))
    assert not np.array_equal(small.y_train, digits.subset(100, 50, seed=4).y_train)
    assert small.fingerprint != digits.fingerprint
    kept = digits.subset(n_train=10)
    assert len(kept.y_val) == len(digits.y_val) and sorted(kept.y_train) == list(range(10))


def test_subset_regression_and_bad_sizes() -> None:
    rng = np.random.default_rng(3)
    ds = from_arrays(rng.normal(size=(50, 2)), rng.normal(size=50))
    assert len(ds.subset(n_train=7).y_train) == 7
    with pytest.raises(ConfigError, match="n_train"):
        ds.subset(n_train=10_000)
    with pytest.raises(ConfigError, match="n_val"):
        ds.subset(n_val=0)


@settings(max_examples=40, deadline=None)
@given(counts=st.lists(st.integers(1, 30), min_size=2, max_size=6), data=st.data())
def test_subset_size_and_class_coverage_property(counts: list[int], data) -> None:
    y = np.repeat(np.arange(len(counts)), counts).astype(np.int64)
    x = np.arange(len(y), dtype=np.float32)[:, None]
    ds = Dataset("h", "classification", x, y, x[:1], y[:1], x[:1], y[:1])
    n = data.draw(st.integers(1, len(y)))
    small = ds.subset(n_train=n, seed=0)
    assert len(small.y_train) == n == len(np.unique(small.x_train))  # no repeats
    if n >= len(counts):
        assert len(np.unique(small.y_train)) == len(counts)


# --- bad input ------------------------------------------------------------------------------

def test_unknown_name_lists_allowed() -> None:
    with pytest.raises(ConfigError, match=r"name='mnist'.*'digits'.*'mnist1d'"):
        load("mnist")


@pytest.mark.parametrize("field, value", [("val_size", 0), ("val_size", 1.0), ("test_size", -0.1),
                                          ("test_size", "0.2"), ("val_size", True)])
def test_bad_fractions(field: str, value) -> None:
    with pytest.raises(ConfigError, match=field):
        load("iris", **{field: value})
    with pytest.raises(ConfigError, match=field):
        from_arrays(np.zeros((20, 2)), np.arange(20) % 2, **{field: value})


def test_bad_task(blobs) -> None:
    with pytest.raises(ConfigError, match=r"task='clustering'.*'classification'"):
        from_arrays(*blobs, task="clustering")


def test_x_not_numeric(blobs) -> None:
    _, y = blobs
    with pytest.raises(DataError, match=r"X=.*dtype.*real numbers"):
        from_arrays(np.full((200, 2), "a"), y)
    with pytest.raises(DataError, match=r"X=.*real numbers"):
        from_arrays(np.array([[1, "a"]] * 200, dtype=object), y)
    with pytest.raises(DataError, match=r"X=.*200 NaN"):  # None in an object array is missing
        from_arrays(np.array([[1, None]] * 200, dtype=object), y)
    with pytest.raises(DataError, match=r"X=.*array-like"):
        from_arrays([[1.0, 2.0], [3.0]], [0, 1])
    with pytest.raises(DataError, match=r"X=.*array-like"):
        from_arrays(None, y)


@pytest.mark.parametrize("shape", [(30,), (30, 2, 2, 2, 1)])
def test_x_wrong_number_of_dimensions(shape: tuple) -> None:
    with pytest.raises(DataError, match=r"X=<array of shape \(30.*2 to 4 dimensions"):
        from_arrays(np.zeros(shape), np.arange(30) % 2)


def test_nan_and_inf_counted(blobs) -> None:
    x, y = blobs
    x = x.copy()
    x[0, 0], x[1, 1], x[2, 2] = np.nan, np.nan, np.inf
    with pytest.raises(DataError, match=r"X=.*2 NaN and 1 infinite"):
        from_arrays(x, y)
    targets = np.linspace(0, 1, 200)
    targets[5] = np.nan
    with pytest.raises(DataError, match=r"y=.*1 NaN"):
        from_arrays(blobs[0], targets)
    labels = y.astype(float)
    labels[:3] = np.nan
    with pytest.raises(DataError, match=r"y=.*3 NaN"):
        from_arrays(blobs[0], labels, task="classification")


def test_length_mismatch(blobs) -> None:
    x, y = blobs
    with pytest.raises(DataError, match=r"y=.*\(199,\).*\(200\)"):
        from_arrays(x, y[:-1])


def test_classification_y_must_be_1d(blobs) -> None:
    x, y = blobs
    with pytest.raises(DataError, match=r"y=<array of shape \(200, 4\)>.*1-D"):
        from_arrays(x, np.eye(4, dtype=int)[y])


def test_fewer_than_two_classes(blobs) -> None:
    with pytest.raises(DataError, match=r"y=.*at least 2 classes"):
        from_arrays(blobs[0], np.zeros(200, dtype=int))


def test_class_too_small_for_stratified_split(blobs) -> None:
    x, y = blobs
    labels = np.array(["a"] * 199 + ["b"])
    with pytest.raises(DataError, match=r"y=.*class 'b' has 1 sample.*at least 3"):
        from_arrays(x, labels)
    with pytest.raises(DataError, match=r"y=.*class 'b' has 1 sample.*at least 2"):
        from_arrays(x, labels, X_test=x[:10], y_test=labels[:10])


def test_split_too_small_for_the_classes(blobs) -> None:
    x, y = blobs
    with pytest.raises(DataError, match=r"test_size=0\.01.*at least 4"):
        from_arrays(x, y, test_size=0.01)


def test_x_test_without_y_test(blobs) -> None:
    x, y = blobs
    with pytest.raises(DataError, match=r"y_test=None.*X_test was given"):
        from_arrays(x, y, X_test=x[:10])
    with pytest.raises(DataError, match=r"X_test=None.*y_test was given"):
        from_arrays(x, y, y_test=y[:10])


def test_x_test_feature_shape_mismatch(blobs) -> None:
    x, y = blobs
    with pytest.raises(DataError, match=r"X_test=<array of shape \(10, 4\)>.*\(5,\)"):
        from_arrays(x, y, X_test=x[:10, :4], y_test=y[:10])


def test_y_test_unknown_label(blobs) -> None:
    x, y = blobs
    with pytest.raises(DataError, match=r"y_test=.*\[9\]"):
        from_arrays(x, y, X_test=x[:10], y_test=np.full(10, 9))


def test_bad_seed_and_scale() -> None:
    with pytest.raises(ConfigError, match="seed"):
        load("iris", seed=-1)
    with pytest.raises(ConfigError, match="scale"):
        load("iris", scale="yes")


def test_dataset_constructor_checks_lengths() -> None:
    x = np.zeros((4, 2), np.float32)
    y = np.zeros(4, np.int64)
    with pytest.raises(DataError, match="y_val"):
        Dataset("d", "classification", x, y, x, y[:3], x, y)
    with pytest.raises(ConfigError, match="task"):
        Dataset("d", "ranking", x, y, x, y, x, y)


def test_class_lost_by_a_large_test_split(blobs) -> None:
    x, _ = blobs
    labels = np.array(["a"] * 197 + ["b"] * 3)
    with pytest.raises(DataError, match=r"y=.*class 'b' has 1 sample left before the validation"):
        from_arrays(x, labels, test_size=0.6)
    with pytest.raises(DataError, match=r"y=.*class 'b' has no sample left for training"):
        from_arrays(x, labels, test_size=0.9)


# --- a Dataset made directly, and float labels (issue 16, item 10) -------------------------

def _xy() -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32)
    return x, np.array([0, 1, 0, 1, 0, 1])


def test_dataset_constructor_refuses_nan_features() -> None:
    """Old: only from_arrays/load checked; a Dataset made directly kept the NaN."""
    x, y = _xy()
    nan = x.copy()
    nan[2, 1] = np.nan
    with pytest.raises(DataError, match=r"^x_val=<array of shape \(6, 2\) with 1 NaN and 0 infinite values> is "
                                        r"invalid"):
        Dataset("d", "classification", x, y, nan, y, x, y)
    inf = x.astype(np.float64)
    inf[0, 0] = -np.inf
    with pytest.raises(DataError, match=r"^x_train=<array of shape \(6, 2\) with 0 NaN and 1 infinite"):
        Dataset("d", "classification", inf, y, x, y, x, y)
    with pytest.raises(DataError, match=r"^y_test=<array of shape \(6,\) with 3 NaN"):
        Dataset("d", "regression", x, y.astype(float), x, y.astype(float), x, np.where(y, np.nan, 0.0))


def test_dataset_constructor_refuses_class_codes_out_of_range() -> None:
    """Old: label -1 was accepted (and classes became 0..max)."""
    x, y = _xy()
    with pytest.raises(DataError, match=r"^y_train=<class codes from -1 to 1> is invalid: expected class codes >= 0"):
        Dataset("d", "classification", x, y - (y == 0), x, y, x, y)
    with pytest.raises(DataError, match=r"^y_val=<class codes from 0 to 2> is invalid: expected class codes 0..1"):
        Dataset("d", "classification", x, y, x, y * 2, x, y, classes=("a", "b"))
    with pytest.raises(DataError, match=r"^y_test=<class codes with fractions> is invalid"):
        Dataset("d", "classification", x, y, x, y, x, y + np.r_[0.5, 0, 0, 0, 0, 0])
    with pytest.raises(DataError, match=r"^y_train=<array of shape \(6, 1\)> is invalid: expected 1-D class codes"):
        Dataset("d", "classification", x, y[:, None], x, y, x, y)
    assert Dataset("d", "classification", x, y, x, y, x, y.astype(float)).classes == (0, 1)  # whole floats pass


def test_dataset_constructor_refuses_empty_splits_and_other_containers() -> None:
    """Old: a split with no samples was accepted."""
    x, y = _xy()
    with pytest.raises(DataError, match=r"^x_val=<array of shape \(0, 2\)> is invalid: expected at least one sample"):
        Dataset("d", "classification", x, y, x[:0], y[:0], x, y)
    with pytest.raises(DataError, match=r"^x_test=<array of shape \(6, 0\)> is invalid: expected at least one feature"):
        Dataset("d", "regression", x, y, x, y, x[:, :0], y)
    with pytest.raises(DataError, match=r"^x_train=<list> is invalid: expected a NumPy array"):
        Dataset("d", "classification", x.tolist(), y, x, y, x, y)
    with pytest.raises(DataError, match=r"^y_val=<list> is invalid: expected a NumPy array"):
        Dataset("d", "classification", x, y, x, y.tolist(), x, y)
    with pytest.raises(DataError, match=r"^x_train=<array of dtype <U"):
        Dataset("d", "classification", x.astype(str), y, x, y, x, y)


def test_dataset_checks_copy_no_array() -> None:
    """The checks run on every Dataset made (subsets, splits): they allocate nothing near the size of x."""
    import tracemalloc

    x = np.ones((500_000, 20), np.float32)  # 40 MB
    y = np.arange(len(x)) % 3
    targets = y.astype(np.float32)
    tracemalloc.start()
    try:
        Dataset("big", "classification", x, y, x, y, x, y)
        Dataset("big", "regression", x, targets, x, targets, x, targets)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # x is 40 MB


def test_a_pickled_dataset_loads_without_being_checked_again() -> None:
    """Datasets pickled by older code (checkpoints, search.pkl) load even if they would now fail."""
    import pickle

    x, y = _xy()
    old = object.__new__(Dataset)
    for field, value in zip(("name", "task", *ARRAYS, "classes"),
                            ("old", "classification", x, y, x[:0], y[:0], x, y, (0, 1))):
        object.__setattr__(old, field, value)
    again = pickle.loads(pickle.dumps(old))
    assert len(again.x_val) == 0 and again.classes == (0, 1)


def test_float_labels_with_few_whole_values_warn_naming_y(blobs) -> None:
    """Old: silently regression."""
    import warnings

    x, y = blobs
    with pytest.warns(UserWarning, match=r'^y=<floats with only 4 distinct whole values: 0.0, 1.0, 2.0, 3.0> are '
                                         r'read as regression targets; pass task="classification"') as record:
        ds = from_arrays(x, y.astype(float))
    ours = [w for w in record if "distinct whole values" in str(w.message)]
    assert ds.task == "regression" and len(ours) == 1 and ours[0].filename == __file__  # points at the caller
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert from_arrays(x, y.astype(float), task="classification").classes == (0.0, 1.0, 2.0, 3.0)
        assert from_arrays(x, y.astype(float), task="regression").task == "regression"
        assert from_arrays(x, x[:, 0]).task == "regression"  # continuous targets: no warning
        assert from_arrays(x, np.arange(200.0)).task == "regression"  # 200 distinct values: targets


def test_empty_text_labels_are_missing_labels(blobs) -> None:
    x, y = blobs
    words = np.array(["a", "b", "", " "])[y]
    with pytest.raises(DataError, match=r"^y=<labels with 100 NaN/None/empty values>"):
        from_arrays(x, words)


# --- diabetes (regression) and token ids (issue 19) -----------------------------------------

def test_diabetes_is_a_standardised_regression_set() -> None:
    ds = load("diabetes")
    assert ds.task == "regression" and ds.n_classes is None and ds.n_outputs == 1 and ds.classes == ()
    assert ds.input_shape == (10,) and (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (282, 71, 89)
    assert ds.y_train.dtype == np.float32 and ds.x_train.dtype == np.float32
    assert 25 <= ds.y_train.min() and ds.y_train.max() <= 346  # targets as they are, not scaled
    np.testing.assert_allclose(ds.x_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(0), 1, atol=1e-4)
    assert np.abs(ds.x_test.mean(0)).max() > 1e-3  # test statistics were not used
    assert _same(ds, load("diabetes")) and not np.array_equal(ds.y_test, load("diabetes", seed=1).y_test)


def _ids(n: int = 6, length: int = 4, vocab_size: int = 10) -> tuple[np.ndarray, np.ndarray]:
    x = (np.arange(n * length).reshape(n, length) % vocab_size).astype(np.int32)
    return x, np.arange(n) % 2


def test_a_token_dataset_holds_ids_below_vocab_size() -> None:
    x, y = _ids()
    vocabulary = ("", "[UNK]", *"abcdefgh")
    ds = Dataset("t", "classification", x, y, x, y, x, y, vocab_size=10, vocabulary=vocabulary)
    assert ds.input_shape == (4,) and "vocab_size=10" in repr(ds) and ds.vocabulary == vocabulary
    plain = Dataset("t", "classification", x, y, x, y, x, y)
    assert ds.fingerprint != plain.fingerprint  # the same ids, read as tokens
    assert ds.fingerprint != Dataset("t", "classification", x, y, x, y, x, y, vocab_size=11).fingerprint
    small = ds.subset(n_train=4, seed=0)
    assert small.vocab_size == 10 and small.vocabulary == vocabulary and len(small.y_train) == 4


@pytest.mark.parametrize("change, field, message", [
    ({"vocab_size": 1}, "vocab_size", "a vocabulary of one"),
    ({"vocab_size": 8}, "x_train", r"expected ids in 0\.\.7 \(vocab_size=8\)"),
    ({"vocab_size": "10"}, "vocab_size", "expected an integer >= 2"),
    ({"x_val": "float"}, "x_val", "expected integer token ids of shape"),
    ({"x_test": "negative"}, "x_test", r"expected ids in 0\.\.9"),
    ({"x_train": "3d"}, "x_train", r"expected integer token ids of shape \(n, sequence_length\)"),
    ({"vocabulary": ("", "[UNK]", "a")}, "vocabulary", "expected .* a tuple of 10 tokens"),
    ({"vocabulary": ("a", "b", *"cdefghij")}, "vocabulary", "'' and '\\[UNK\\]' first"),
    ({"vocab_size": None, "vocabulary": ("", "[UNK]")}, "vocabulary", r"expected \(\) without vocab_size"),
])
def test_a_token_dataset_refuses_what_does_not_fit_naming_the_field(change, field, message) -> None:
    x, y = _ids()
    arrays = {"x_train": x, "x_val": x, "x_test": x}
    kwargs = {"vocab_size": 10}
    for key, value in change.items():
        if key in arrays:
            arrays[key] = {"float": x.astype(np.float32), "negative": x - 1, "3d": x[..., None]}[value]
        else:
            kwargs[key] = value
    with pytest.raises(DataError, match=rf"^{field}=.* is invalid: .*{message}"):
        Dataset("t", "classification", arrays["x_train"], y, arrays["x_val"], y, arrays["x_test"], y, **kwargs)


def test_a_dataset_pickled_before_the_token_fields_loads() -> None:
    import pickle

    ds = load("iris")
    state = dict(vars(ds))
    del state["vocab_size"], state["vocabulary"]
    old = object.__new__(Dataset)
    vars(old).update(state)  # what a pickle of the class without the fields holds
    again = pickle.loads(pickle.dumps(old))
    assert again.vocab_size is None and again.vocabulary == () and again.fingerprint == ds.fingerprint
    assert "vocab_size" not in repr(again) and again.subset(n_train=30).vocab_size is None


def test_from_arrays_with_vocab_size_keeps_ids_unscaled() -> None:
    x, y = _ids(40, 5, 7)
    ds = from_arrays(x.astype(np.int64), y, vocab_size=7)
    assert ds.vocab_size == 7 and ds.vocabulary == () and ds.x_train.dtype == np.int32
    assert set(np.unique(np.concatenate([ds.x_train, ds.x_val, ds.x_test]))) == set(range(7))
    assert from_arrays(x.astype(float), y, vocab_size=7, X_test=x[:4], y_test=y[:4]).x_test.dtype == np.int32
    with pytest.raises(DataError, match=r"^X=<token id 7 at row 1, column 0> is invalid: expected whole numbers "
                                        r"in 0\.\.6 \(vocab_size=7"):
        from_arrays(np.where(x == 5, 7, x), y, vocab_size=7)
    with pytest.raises(DataError, match=r"^X_test=<token id 0\.5 at row 0, column 0>"):
        from_arrays(x, y, vocab_size=7, X_test=np.full((2, 5), 0.5), y_test=[0, 1])
    with pytest.raises(DataError, match=r"^X=<array of shape \(40, 5, 1\)> is invalid: expected token ids of shape"):
        from_arrays(x[..., None], y, vocab_size=7)
    with pytest.raises(ConfigError, match="^vocab_size=1 is invalid: expected an integer >= 2"):
        from_arrays(x, y, vocab_size=1)
