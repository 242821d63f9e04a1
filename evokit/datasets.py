"""Datasets for a search: the embedded ones, and the user's own arrays, texts and images.

Every dataset comes as a :class:`Dataset` with fixed train / validation / test splits, so that
all candidates of a search are trained and scored on exactly the same samples.  Everything here
works offline: the named datasets ship inside scikit-learn, ``mnist1d`` and ``cells`` are generated
locally, ``languages`` comes from word lists inside the pyspellchecker package (never downloaded).
A user's images and masks load with :func:`from_image_folders`, images in one sub-folder per class
with :func:`from_image_folder`.

* ``x`` arrays are ``float32`` of shape ``(n, features)``, ``(n, length, channels)`` or
  ``(n, height, width, channels)``; or, for texts (``vocab_size`` set), ``int32`` token ids of
  shape ``(n, sequence_length)`` in ``0..vocab_size-1`` (0 is padding, 1 an unknown token; see
  :mod:`evokit.tokens`), never scaled.
* Classification labels are ``int64`` in ``0..K-1``; ``Dataset.classes[i]`` is the original
  label value of encoded label ``i``.  Regression targets are ``float32``.
* Splits are stratified for classification and fixed by ``seed``; scaling statistics come from
  the training split only, so nothing about validation or test leaks into training.

This module imports neither TensorFlow nor Keras.
"""
from __future__ import annotations

import hashlib
import math
import random
import re
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from evokit import corpora, tasks
from evokit.corpora import read_text_csv, read_text_folder
from evokit.diskarray import DiskArray, DiskArrayWriter
from evokit.errors import ConfigError, DataError, check_choice, check_int, invalid, invalid_data
from evokit.classfolders import ClassFolder, read_class_folder, scan_class_folder, write_class_folder
from evokit.imagefiles import read_image_folders
from evokit.tasks.arrays import check_finite, finite_float32
from evokit.tokens import PAD, UNK, Vocabulary, check_sequence_length, check_texts, default_length

__all__ = ["Dataset", "load", "from_arrays", "from_texts", "from_text_folder", "from_text_csv",
           "read_text_folder", "read_text_csv", "from_image_folders", "read_image_folders", "from_image_folder",
           "names", "to_disk"]

_NAMES = ("digits", "breast_cancer", "wine", "iris", "mnist1d", "diabetes", "languages", "cells")
LANGUAGES_VOCAB_SIZE = 2000
"""``languages``: the vocabulary's size (padding and [UNK] included)."""
LANGUAGES_LENGTH = corpora.SENTENCE_WORDS[1]
"""``languages``: the sequence length (the longest sentence's word count: every sentence fits)."""
_TASKS = {"diabetes": "regression", "cells": "segmentation"}
"""The task of each embedded dataset that is not classification."""
_SPLITS = ("train", "val", "test")
_SHAPES_ALLOWED = ("expected 2 to 4 dimensions: (n, features), (n, length, channels) "
                   "or (n, height, width, channels)")

# mnist1d's generated arrays, kept so that a second load in the same process is instant.
_MNIST1D_CACHE: dict[str, tuple[np.ndarray, ...]] = {}
_MNIST1D_LOCK = threading.Lock()


_bad = invalid_data
"""A DataError in the standard ``field=<what> is invalid: allowed`` form."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train / validation / test arrays of one task, ready for Keras.

    Build one with :func:`load`, :func:`from_arrays` or :func:`from_texts`; they validate,
    encode and scale.  Treat the arrays as read-only: :attr:`fingerprint` (part of fitness cache
    keys) is computed from their contents.  ``task`` is a task's name (:func:`evokit.tasks.get`
    gives the task).

    ``vocab_size`` set means the samples are token ids (texts): x arrays are 2-D whole numbers in
    ``0..vocab_size-1``; ``vocabulary[i]`` is the token of id ``i`` when known (``""`` padding,
    ``"[UNK]"`` unknown, then by training frequency), ``()`` when the ids came as arrays.

    An x array may be a :class:`evokit.diskarray.DiskArray` (the Dataset is then
    :attr:`streaming`; :func:`to_disk` makes one): its samples stay on disk and are read batch by
    batch; targets stay in memory. Checks and the fingerprint read its sidecar, never its data.
    """

    name: str
    task: str
    x_train: np.ndarray | DiskArray
    y_train: np.ndarray
    x_val: np.ndarray | DiskArray
    y_val: np.ndarray
    x_test: np.ndarray | DiskArray
    y_test: np.ndarray
    classes: tuple = ()
    vocab_size: int | None = None  # class-level defaults: a Dataset pickled before these fields loads
    vocabulary: tuple = ()

    def __post_init__(self) -> None:
        """Check what every Dataset must hold, however it was made, cheaply (no array is copied):
        numeric, finite features of 2 to 4 dimensions, at least one sample in every split and one
        target per sample, targets the task accepts (class codes ``0..K-1``). A pickled Dataset
        is not checked again when loaded (pickle does not call ``__init__``). With ``vocab_size``:
        2-D integer token ids below it, and a ``vocabulary`` of that length if one is given."""
        check_choice("task", self.task, tasks.names())
        task = tasks.get(self.task)
        _check_vocabulary(self.vocab_size, self.vocabulary)
        if self.vocab_size is not None:
            object.__setattr__(self, "vocab_size", int(self.vocab_size))  # a NumPy integer as a plain int
        for split in _SPLITS:
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            _check_stored_x(f"x_{split}", x, self.x_train, self.vocab_size)
            if not isinstance(y, np.ndarray):
                raise _bad(f"y_{split}", type(y).__name__, "expected a NumPy array")
            if len(x) != len(y):
                raise _bad(f"y_{split}", f"array of length {len(y)}",
                           f"expected one target per sample of x_{split} ({len(x)})")
            task.check_encoded(f"y_{split}", y, self.classes)
            task.check_inputs(f"y_{split}", x.shape[1:], y, f"x_{split}")
            if task.generative and isinstance(x, DiskArray):
                raise _bad(f"x_{split}", repr(x), f"expected an array in memory: task {self.task!r} scores "
                           "generated samples against all the real ones (np.asarray(x) reads it in)")
        if task.class_codes and not self.classes:  # class codes given as they are: classes 0..max
            top = max(int(np.max(getattr(self, f"y_{s}"))) for s in _SPLITS)
            object.__setattr__(self, "classes", tuple(range(top + 1)))

    @property
    def streaming(self) -> bool:
        """Whether any x array stays on disk (a :class:`~evokit.diskarray.DiskArray`)."""
        return any(isinstance(getattr(self, f"x_{s}"), DiskArray) for s in _SPLITS)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one sample, e.g. ``(8, 8, 1)`` for digits, ``(sequence_length,)`` for texts."""
        return tuple(self.x_train.shape[1:])

    @property
    def n_classes(self) -> int | None:
        """The number of classes, or None for a task without classes (regression)."""
        return len(self.classes) if tasks.get(self.task).class_codes else None

    @property
    def n_outputs(self) -> int:
        """The width of the network's output layer: K classes, or the number of targets."""
        return tasks.get(self.task).n_outputs(self.y_train, self.classes)

    @property
    def fingerprint(self) -> str:
        """A short content hash: the same arrays and task give the same value (name ignored).

        It is the first 16 hex digits of a SHA-256 over the task, ``vocab_size`` when set, and
        every array's dtype, shape and bytes, so a fitness cached for one dataset is never reused
        for another.  (The vocabulary's tokens are not part of it: a network sees only the ids.)
        A DiskArray contributes its :attr:`~evokit.diskarray.DiskArray.digest` (computed when it
        was written) instead of its bytes, so a streaming copy has a fingerprint of its own.
        """
        digest = hashlib.sha256(self.task.encode())
        if self.vocab_size is not None:
            digest.update(f"|vocab_size:{self.vocab_size}|".encode())
        for split in _SPLITS:
            for kind in ("x", "y"):
                array = getattr(self, f"{kind}_{split}")
                if isinstance(array, DiskArray):
                    digest.update(f"|{kind}_{split}:disk:{array.dtype.str}:{array.shape}:{array.digest}|".encode())
                    continue
                array = np.ascontiguousarray(array)
                digest.update(f"|{kind}_{split}:{array.dtype.str}:{array.shape}|".encode())
                digest.update(array.tobytes())
        return digest.hexdigest()[:16]

    def check_files(self) -> None:
        """For a streaming Dataset, a DataError naming the path of any x file that is gone or was
        rewritten since the Dataset was made (its size, modification time and inode are checked;
        nothing is read). A search calls it before it starts or resumes, so that a run whose data
        was deleted (``stream=True`` writes to a temporary folder) fails at once, not candidate by
        candidate. Nothing to check in memory."""
        for split in _SPLITS:
            x = getattr(self, f"x_{split}")
            if isinstance(x, DiskArray):
                x.check_file()

    def subset(self, n_train: int | None = None, n_val: int | None = None,
               seed: int = 0) -> Dataset:
        """A smaller copy for quick runs: ``n_train`` / ``n_val`` samples drawn without
        replacement (stratified for classification), the test split and classes unchanged.

        ``None`` keeps a split whole.  The same seed gives the same subset.
        """
        seed = check_int("seed", seed, minimum=0)
        rng = np.random.default_rng(seed)
        stratified = tasks.get(self.task).stratified
        parts: dict[str, np.ndarray] = {}
        for split, n in (("train", n_train), ("val", n_val)):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if n is not None:
                check_int(f"n_{split}", n, minimum=1, maximum=len(y))
                if n < len(y):
                    keep = (_stratified_pick(y, n, rng) if stratified
                            else np.sort(rng.choice(len(y), size=n, replace=False)))
                    x, y = x[keep], y[keep]
            parts[f"x_{split}"], parts[f"y_{split}"] = x, y
        return replace(self, **parts)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{s}={getattr(self, f'x_{s}').shape}" for s in _SPLITS)
        extra = f", n_classes={self.n_classes}" if self.n_classes is not None else ""
        if self.vocab_size is not None:
            extra += f", vocab_size={self.vocab_size}"
        return f"Dataset({self.name!r}, {self.task}, {shapes}{extra})"


def names() -> tuple[str, ...]:
    """The names :func:`load` accepts; all of them work offline."""
    return _NAMES


def to_disk(data: Dataset, folder: str | Path) -> Dataset:
    """``data`` with its x arrays written to ``folder`` (``x_train.npy``, ``x_val.npy``,
    ``x_test.npy`` and their sidecars, replacing files of those names) and read back as
    :class:`~evokit.diskarray.DiskArray`: a streaming Dataset whose batches are read from disk
    as training needs them; targets stay in memory. Values and dtypes are kept, so training on
    it gives the same networks as on ``data``. Arrays are written a chunk at a time (a split
    already on disk is copied the same way)."""
    if not isinstance(data, Dataset):
        raise invalid("data", data, "expected an evokit Dataset")
    folder = Path(folder)
    parts: dict[str, DiskArray] = {}
    for split in _SPLITS:
        x = getattr(data, f"x_{split}")
        if isinstance(x, DiskArray) and x.path.resolve() == (folder / f"x_{split}.npy").resolve():
            raise invalid("folder", str(folder), "expected another folder than the one data streams from")
        with DiskArrayWriter(folder / f"x_{split}.npy", x.shape[1:], x.dtype) as writer:
            for part in (x.chunks() if isinstance(x, DiskArray) else [slice(None)]):
                writer.append(x[part])
        parts[f"x_{split}"] = DiskArray(writer.path)
    return replace(data, **parts)


def load(name: str, *, seed: int = 0, val_size: float = 0.2, test_size: float = 0.2,
         scale: bool = True, task: str | None = None) -> Dataset:
    """Load an embedded dataset, split and scaled.

    * ``digits``: 8x8 grey images, shape ``(8, 8, 1)``, scaled to [0, 1] by /16.
    * ``breast_cancer``, ``wine``, ``iris``: tabular, standardised per feature.
    * ``mnist1d``: 1-D sequences, shape ``(40, 1)``, generated locally; it keeps its own
      1,000-sample test split (``test_size`` is not used) and standardises with one scalar
      mean/std from the training split.
    * ``diabetes``: regression, 442 patients x 10 features (age, sex, BMI, blood pressure, six
      blood serum values) -> disease progression a year later (float32, 25 to 346, not
      scaled); features standardised per feature.  Splits are random, not stratified.
    * ``languages``: text classification, 4,200 short sentences (2 to 6 words) in six languages
      (``de en es fr it pt``, 700 each), sampled from real word-frequency lists
      (:func:`evokit.corpora.language_sentences`; needs ``pyspellchecker``).  Token ids of
      shape ``(6,)`` with a vocabulary of 2,000 fitted on the training split (``vocab_size``,
      ``vocabulary``; about a quarter of the test tokens are unknown to it); ``scale`` does not
      apply.  Not trivial: a logistic regression on the bag of ids gets about 91 % of the test
      split right, naive Bayes about 93 %.
    * ``cells``: segmentation, 3,000 generated 32x32 grey microscope-like images, shape
      ``(32, 32, 1)``, with exact binary masks (1 = cell; :mod:`evokit.cells`): overlapping
      cells of varying contrast under uneven illumination, bright debris, texture, blur and
      noise, so the best global threshold reaches a Dice of only about 0.6 while a small U-Net
      gets about 0.9. Splits are random; images standardised with one scalar mean/std from the
      training split.

    ``test_size`` of all samples becomes the test split, then ``val_size`` of the rest the
    validation split; both are stratified (for classes) and fixed by ``seed``.  ``scale=False``
    keeps the raw values (as float32).  ``task``: another task the set can pose (None: its
    own): ``"gan"`` for ``digits`` (classes kept for the feature classifier) and ``cells``.
    """
    check_choice("name", name, _NAMES)
    own = _TASKS.get(name, "classification")
    task = own if task is None or task == own else _other_task(name, task)
    seed, val_size, test_size, scale = _check_options(seed, val_size, test_size, scale)
    if name == "languages":
        texts, labels = corpora.language_sentences()
        return from_texts(texts, labels, vocab_size=LANGUAGES_VOCAB_SIZE, sequence_length=LANGUAGES_LENGTH,
                          name=name, seed=seed, val_size=val_size, test_size=test_size)
    if name == "mnist1d":
        x, y, x_test, y_test = _mnist1d_arrays()
        return _make(name, "classification", x[..., None], y, x_test[..., None], y_test, seed,
                     val_size, test_size, "global" if scale else None)
    if name == "cells":
        from evokit import cells  # imports scipy.ndimage: only when asked for

        images, masks = cells.dataset_arrays()
        targets = masks if task == own else np.zeros(len(images), np.int64)  # as gan: images alone
        return _make(name, task, images, targets, None, None, seed, val_size, test_size,
                     "global" if scale else None)
    from sklearn import datasets as sk

    if name == "digits":
        bunch = sk.load_digits()
        x, mode = bunch.images[..., None], ("divide16" if scale else None)
    else:
        bunch = getattr(sk, f"load_{name}")()
        x, mode = bunch.data, ("feature" if scale else None)
    return _make(name, task, x, bunch.target, None, None, seed, val_size, test_size, mode)


GAN_SETS = ("digits", "cells")
"""The embedded sets ``load(name, task="gan")`` takes: images to learn to generate."""


def _other_task(name: str, task: str) -> str:
    """``task`` if set ``name`` can pose it instead of its own (``"gan"`` for :data:`GAN_SETS`);
    ConfigError naming ``task`` otherwise."""
    check_choice("task", task, tasks.names())
    if task != "gan" or name not in GAN_SETS:
        raise invalid("task", task, f"{name!r} poses {_TASKS.get(name, 'classification')!r} only"
                      + (f"; 'gan' works with {', '.join(map(repr, GAN_SETS))}" if task == "gan" else ""))
    return task


def from_arrays(X: Any, y: Any, *, task: str | None = None, name: str = "user", seed: int = 0,
                val_size: float = 0.2, test_size: float = 0.2, scale: bool = True,
                X_test: Any = None, y_test: Any = None, vocab_size: int | None = None) -> Dataset:
    """Make a :class:`Dataset` from the user's own arrays, checking them first.

    ``task=None`` infers it from ``y`` (:func:`evokit.tasks.infer`): integer, bool, string or
    object labels mean classification, floats mean regression; floats holding a few whole values
    (``0.0``, ``1.0``, ``2.0``) warn (UserWarning naming ``y``): pass ``task="classification"`` if
    they are classes.  Class labels of any sortable type are encoded as
    ``0..K-1`` in sorted order; ``Dataset.classes`` keeps the originals.

    Without ``X_test``/``y_test`` the test split is taken from ``X``/``y`` (``test_size``), then
    validation from the rest (``val_size``); with them, only validation is split off.  With
    ``scale=True``, 2-D ``X`` is standardised per feature and 3-D/4-D ``X`` by one scalar
    mean/std, both with training-split statistics only.

    ``vocab_size`` (an int >= 2) says ``X`` holds token ids (texts already tokenized): 2-D whole
    numbers in ``0..vocab_size-1``, 0 meaning padding; they are kept as int32, never scaled.

    ``task="gan"`` takes images ``(n, height, width, channels)`` to learn to generate; ``y`` is
    then optional class labels (None: one class), used only by the feature classifier that
    scores generated images.
    """
    if not isinstance(name, str) or not name:
        raise invalid("name", name, "expected a non-empty string")
    seed, val_size, test_size, scale = _check_options(seed, val_size, test_size, scale)
    if vocab_size is not None:
        vocab_size = check_int("vocab_size", vocab_size, minimum=2)
    x = _check_x("X", X, vocab_size)
    if y is None and task == "gan":  # images alone: one class
        y = np.zeros(len(x), np.int64)
        if y_test is None and X_test is not None:
            y_test = np.zeros(len(X_test), np.int64)
    y_arr = _check_y("y", y)
    if len(y_arr) != len(x):
        raise _bad("y", f"array of shape {y_arr.shape}", f"expected one target per sample of X "
                   f"({len(x)})")
    if task is None:
        task = tasks.infer(y_arr)
    check_choice("task", task, tasks.names())
    tasks.get(task).check_inputs("y", x.shape[1:], y_arr, "X")
    if (X_test is None) != (y_test is None):
        given, missing = ("X_test", "y_test") if y_test is None else ("y_test", "X_test")
        raise invalid(missing, None, f"{given} was given, so {missing} is needed too", DataError)
    if X_test is not None:
        X_test = _check_x("X_test", X_test, vocab_size)
        if X_test.shape[1:] != x.shape[1:]:
            raise _bad("X_test", f"array of shape {X_test.shape}",
                       f"expected samples of shape {x.shape[1:]} like X")
        y_test = _check_y("y_test", y_test)
        if len(y_test) != len(X_test):
            raise _bad("y_test", f"array of shape {y_test.shape}",
                       f"expected one target per sample of X_test ({len(X_test)})")
        tasks.get(task).check_inputs("y_test", X_test.shape[1:], y_test, "X_test")
    mode = ("feature" if x.ndim == 2 else "global") if scale and vocab_size is None else None
    return _make(name, task, x, y_arr, X_test, y_test, seed, val_size, test_size, mode, vocab_size)


def from_texts(texts: Any, labels: Any, *, vocab_size: int = 5000, sequence_length: int | None = None,
               lowercase: bool = True, name: str = "texts", seed: int = 0, val_size: float = 0.2,
               test_size: float = 0.2, texts_test: Any = None, labels_test: Any = None) -> Dataset:
    """Make a text classification :class:`Dataset`: each text as a row of token ids.

    Texts are split first (stratified by label, like :func:`from_arrays`; ``texts_test`` /
    ``labels_test`` give the test split instead), then a :class:`evokit.tokens.Vocabulary` is
    fitted on the training texts only (:func:`evokit.tokens.tokenize`: runs of word characters,
    lowercased unless ``lowercase=False``) and every split encoded with it.

    * ``vocab_size`` (>= 3) is an upper bound on the ids, padding (0) and unknown (1)
      included: the ``vocab_size - 2`` most frequent training tokens get ids, other tokens
      become 1.  With fewer distinct training tokens the dataset's ``vocab_size`` is that
      number + 2.
    * ``sequence_length``: every text is padded with 0 or cut to it.  ``None`` takes the
      95th percentile of the training texts' token counts (at least 1): nearly every text fits,
      and a few very long ones do not make every row long.

    Labels are encoded as ``0..K-1`` in sorted order (``Dataset.classes`` keeps them).  Bad
    input raises DataError naming ``texts`` (not a list of str, empty, a blank text with its
    index, fewer than 2 distinct training tokens), ``labels`` (not one per text, a class too
    small to split) or ConfigError naming the option.
    """
    if not isinstance(name, str) or not name:
        raise invalid("name", name, "expected a non-empty string")
    seed, val_size, test_size, _ = _check_options(seed, val_size, test_size, True)
    vocab_size = check_int("vocab_size", vocab_size, minimum=3)
    sequence_length = check_sequence_length(sequence_length)
    if not isinstance(lowercase, (bool, np.bool_)):
        raise invalid("lowercase", lowercase, "expected True or False")
    texts = check_texts("texts", texts)
    y = _check_labels("labels", labels, "texts", len(texts))
    if (texts_test is None) != (labels_test is None):
        given, missing = ("texts_test", "labels_test") if labels_test is None else ("labels_test", "texts_test")
        raise invalid(missing, None, f"{given} was given, so {missing} is needed too", DataError)
    y_test = index_test = None
    if texts_test is not None:
        texts_test = check_texts("texts_test", texts_test)
        y_test = _check_labels("labels_test", labels_test, "texts_test", len(texts_test))
        index_test = np.arange(len(texts_test))[:, None]
    try:
        xs, ys, classes = _split_all("classification", np.arange(len(texts))[:, None], y, index_test, y_test,
                                     seed, val_size, test_size)
    except DataError as exc:
        raise DataError(re.sub(r"^y(_test)?=", r"labels\1=", str(exc))) from None
    pools = (texts, texts, texts if texts_test is None else texts_test)
    split_texts = [[pool[i] for i in index[:, 0]] for pool, index in zip(pools, xs)]
    x_train, x_val, x_test, vocabulary = _encode_texts(split_texts, vocab_size, sequence_length, bool(lowercase))
    return Dataset(name, "classification", x_train, ys[0], x_val, ys[1], x_test, ys[2], classes=classes,
                   vocab_size=len(vocabulary), vocabulary=vocabulary.tokens)


def from_text_folder(path: str | Path, **kwargs: Any) -> Dataset:
    """:func:`from_texts` of a folder with one sub-folder of ``.txt`` files per class
    (:func:`evokit.corpora.read_text_folder`); ``name`` defaults to the folder's name."""
    texts, labels = read_text_folder(path)
    kwargs.setdefault("name", Path(path).resolve().name or "texts")
    return from_texts(texts, labels, **kwargs)


def from_text_csv(path: str | Path, text: str = "text", label: str = "label", *, delimiter: str = ",",
                  **kwargs: Any) -> Dataset:
    """:func:`from_texts` of a CSV file with a header, the texts in column ``text`` and the labels
    in column ``label`` (:func:`evokit.corpora.read_text_csv`); ``name`` defaults to the file's
    name without its suffix."""
    texts, labels = read_text_csv(path, text, label, delimiter=delimiter)
    kwargs.setdefault("name", Path(path).stem or "texts")
    return from_texts(texts, labels, **kwargs)


def from_image_folders(images: str | Path, masks: str | Path, *, size: Any = None, grayscale: bool = True,
                       name: str | None = None, seed: int = 0, val_size: float = 0.2, test_size: float = 0.2,
                       scale: bool = True) -> Dataset:
    """A segmentation :class:`Dataset` of a folder of images and a parallel folder of masks,
    paired by file name (``images/a.png`` with ``masks/a.png``; formats, resizing to ``size``
    and the errors: :func:`evokit.imagefiles.read_image_folders`). ``name`` defaults to the
    images folder's name; the splits and scaling are :func:`from_arrays`'s (random splits, one
    global mean/std from the training split)."""
    _check_options(seed, val_size, test_size, scale)  # before reading every file
    x, y = read_image_folders(images, masks, size=size, grayscale=grayscale)
    name = name if name is not None else (Path(images).resolve().name or "images")
    try:
        return from_arrays(x, y, task="segmentation", name=name, seed=seed, val_size=val_size,
                           test_size=test_size, scale=scale)
    except DataError as exc:  # name the folders, not from_arrays' arguments
        raise DataError(re.sub(r"^y=", "masks=", re.sub(r"^X=", "images=", str(exc)))) from None


def from_image_folder(path: str | Path, *, size: Any = None, grayscale: bool | None = None, on_error: str = "raise",
                      val_size: float = 0.2, test_size: float = 0.2, seed: int = 0, scale: bool = True,
                      stream: bool | str | Path = False, name: str | None = None) -> Dataset:
    """A classification :class:`Dataset` of a folder with one sub-folder of images per class (the
    layout of Keras's ``image_dataset_from_directory``): ``Dataset.classes`` are the sub-folder
    names, sorted.

    * ``size``: ``(height, width)`` or one int (square) to resize every image to; None keeps the
      images' own size, which must then be one size.
    * ``grayscale``: True (one channel), False (RGB), None (grey if every image is stored grey).
    * ``on_error``: ``"raise"`` (default) fails on unreadable images, listing their paths and
      why; ``"skip"`` leaves them out, logging a warning naming each.
    * ``stream``: False (default) holds the images in memory as float32. True, or a folder,
      writes them to disk as uint8 (``x_train.npy``, ``x_val.npy``, ``x_test.npy`` in that
      folder; True: a new temporary folder) a chunk at a time, and returns a streaming Dataset
      (:class:`~evokit.diskarray.DiskArray` x arrays, read batch by batch): for sets larger than
      memory. The splits come from the labels alone, before any pixel is decoded; the scaling
      is the same global mean/std of the training split, from the training file's statistics
      (each value read as ``x * (1/std) - mean/std`` in float32), so nothing is loaded whole.

    ``name`` defaults to the folder's name. The splits are :func:`from_arrays`'s (stratified,
    fixed by ``seed``); ``scale`` standardises by one global mean/std of the training split, as
    :func:`from_arrays` does for images (computed in float64, applied in float32 in place, so
    that loading needs about twice the images' float32 size, not more). Formats, layout and
    errors: :mod:`evokit.classfolders`."""
    _check_options(seed, val_size, test_size, scale)  # before reading every file
    if not isinstance(stream, (bool, np.bool_, str, Path)) or (isinstance(stream, str) and not stream):
        raise invalid("stream", stream, "expected False (in memory), True (a temporary folder) or the folder to "
                      "write the images to")
    name = name if name is not None else (Path(path).resolve().name or "images")
    if stream is not False and stream is not np.False_:
        folder = scan_class_folder(path, size=size, grayscale=grayscale, on_error=on_error)
        out = Path(tempfile.mkdtemp(prefix="evokit-images-")) if stream is True or stream is np.True_ else Path(stream)
        return _streamed_image_folder(folder, out, name, seed, val_size, test_size, scale)
    return _image_folder_in_memory(*read_class_folder(path, size=size, grayscale=grayscale, on_error=on_error),
                                   name, seed, val_size, test_size, scale)


def _split_class_labels(labels: np.ndarray, classes: tuple, seed: int, val_size: float,
                        test_size: float) -> tuple[list[np.ndarray], list[np.ndarray], tuple]:
    """The stratified split of class indices ``labels`` (:func:`from_arrays`'s, by label alone):
    the sample indices of each split, their encoded labels and the classes; errors name ``path``."""
    names = np.asarray(classes)[labels]
    try:
        orders, ys, classes = _split_all("classification", np.arange(len(names))[:, None], names, None, None,
                                         seed, val_size, test_size)
    except DataError as exc:  # name the folder, not the arrays' arguments
        raise DataError(re.sub(r"^[Xy]=", "path=", str(exc))) from None
    return [order[:, 0] for order in orders], ys, classes


def _image_folder_in_memory(x: np.ndarray, labels: np.ndarray, classes: tuple, name: str, seed: int,
                            val_size: float, test_size: float, scale: bool) -> Dataset:
    """:func:`from_image_folder` in memory: split, then scale each split in place (float32, the
    statistics in float64 a chunk at a time), so that loading peaks near twice the images' size
    (``x`` is dropped once split: pass it as a temporary)."""
    orders, ys, classes = _split_class_labels(labels, classes, seed, val_size, test_size)
    xs = [x[order] for order in orders]
    del x
    if scale:
        mean, std = _mean_std(xs[0])
        for array in xs:  # as a streamed split is read: x * (1/std) + (-mean/std)
            array *= np.float32(1.0 / std)
            array += np.float32(-mean / std)
    return Dataset(name, "classification", xs[0], ys[0], xs[1], ys[1], xs[2], ys[2], classes=classes)


def _mean_std(x: np.ndarray) -> tuple[float, float]:
    """The mean and standard deviation of all of ``x``, in float64 a chunk of rows at a time (no
    float64 copy of ``x``); a standard deviation of zero counts as 1."""
    rows = max(1, 2**22 // max(1, math.prod(x.shape[1:])))
    parts = range(0, len(x), rows)
    mean = sum(float(x[i:i + rows].sum(dtype=np.float64)) for i in parts) / x.size
    var = sum(float(np.square(x[i:i + rows] - np.float32(mean), dtype=np.float64).sum()) for i in parts) / x.size
    std = math.sqrt(var)
    return mean, std if std > 1e-12 else 1.0


def _streamed_image_folder(folder: ClassFolder, out: Path, name: str, seed: int, val_size: float,
                           test_size: float, scale: bool) -> Dataset:
    """:func:`from_image_folder` with ``stream``: split the file indices by label, decode each
    split into ``out/x_<split>.npy``, and scale on read with the training file's statistics."""
    orders, ys, classes = _split_class_labels(folder.labels, folder.classes, seed, val_size, test_size)
    raw, kept = write_class_folder(folder, orders, [out / f"x_{split}.npy" for split in _SPLITS])
    ys = [y[positions] for y, positions in zip(ys, kept)]
    missing = np.setdiff1d(np.arange(len(classes)), ys[0])
    if len(missing):  # unreadable files left a class without training samples
        raise _bad("path", f"images where class {classes[int(missing[0])]!r} has no readable image left for "
                   "training", "every class needs training samples: fix the unreadable files or add images")
    mean, std = (raw[0].mean(), raw[0].std()) if scale else (0.0, 1.0)
    std = std if std > 1e-12 else 1.0
    xs = [DiskArray(array.path, scale=1.0 / std, shift=-mean / std) for array in raw]
    return Dataset(name, "classification", xs[0], ys[0], xs[1], ys[1], xs[2], ys[2], classes=classes)


def _encode_texts(split_texts: list[list[str]], vocab_size: int, sequence_length: int | None,
                  lowercase: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, Vocabulary]:
    """The train, validation and test texts as token ids, with the vocabulary of the training
    texts; DataError naming ``texts`` when they hold fewer than 2 distinct tokens."""
    vocabulary = Vocabulary.fit(split_texts[0], vocab_size, lowercase=lowercase)
    if len(vocabulary) < 4:
        raise _bad("texts", f"training texts whose only token is {vocabulary.tokens[2]!r}",
                   "expected at least 2 distinct tokens in the training split: a vocabulary of one "
                   "cannot tell texts apart")
    train_tokens = vocabulary.tokenize(split_texts[0])
    length = sequence_length or default_length(train_tokens)
    x_train = vocabulary.encode_tokens(train_tokens, length)
    x_val, x_test = (vocabulary.encode(texts, length) for texts in split_texts[1:])
    return x_train, x_val, x_test, vocabulary


# --- checks ---------------------------------------------------------------------------------

def _check_options(seed: Any, val_size: Any, test_size: Any, scale: Any) -> tuple:
    seed = check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    for field, value in (("val_size", val_size), ("test_size", test_size)):
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not 0.0 < float(value) < 1.0):
            raise invalid(field, value, "expected a fraction strictly between 0 and 1")
    if not isinstance(scale, (bool, np.bool_)):
        raise invalid("scale", scale, "expected True or False")
    return seed, float(val_size), float(test_size), bool(scale)


def _as_array(field: str, value: Any) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise _bad(field, type(value).__name__,
                   f"expected an array-like of equal-length rows ({exc})") from None
    if array.ndim == 0:
        raise _bad(field, f"{type(value).__name__} scalar", "expected an array-like with one entry "
                   "per sample")
    return array


def _check_x(field: str, X: Any, vocab_size: int | None = None) -> np.ndarray:
    """Features as float32, or with ``vocab_size`` token ids as int32 (checked below it)."""
    array = _as_array(field, X)
    _check_shape(field, array)
    if vocab_size is None:
        return finite_float32(field, array)
    if array.ndim != 2:
        raise _bad(field, f"array of shape {array.shape}", "expected token ids of shape (n, sequence_length) "
                   f"(vocab_size={vocab_size} was given)")
    if array.dtype.kind not in "iuf":
        raise _bad(field, f"array of dtype {array.dtype}", "expected whole numbers (token ids)")
    bad = ~((array >= 0) & (array < vocab_size) & (array == np.floor(array)))  # NaN fails too
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise _bad(field, f"token id {array[row, col].item()!r} at row {row}, column {col}",
                   f"expected whole numbers in 0..{vocab_size - 1} (vocab_size={vocab_size}; 0 is padding)")
    return array.astype(np.int32)


def _check_labels(field: str, labels: Any, texts_field: str, n: int) -> np.ndarray:
    """``labels`` as an array with one label per text, or DataError naming ``field``."""
    array = _check_y(field, labels)
    if array.ndim != 1 or len(array) != n:
        raise _bad(field, f"array of shape {array.shape}", f"expected one label per text of {texts_field} ({n})")
    return array


def _check_shape(field: str, array: np.ndarray) -> None:
    if not 2 <= array.ndim <= 4:
        raise _bad(field, f"array of shape {array.shape}", _SHAPES_ALLOWED)
    if len(array) == 0:
        raise _bad(field, f"array of shape {array.shape}", "expected at least one sample")
    if array.size == 0:
        raise _bad(field, f"array of shape {array.shape}", "expected at least one feature per sample")


def _check_vocabulary(vocab_size: Any, vocabulary: Any) -> None:
    """A Dataset's ``vocab_size`` (None, or an int >= 2) and ``vocabulary`` (``()``, or one
    token per id with padding and [UNK] first)."""
    if vocab_size is None:
        if vocabulary != ():
            raise _bad("vocabulary", f"{len(vocabulary)} tokens", "expected () without vocab_size")
        return
    if isinstance(vocab_size, (bool, np.bool_)) or not isinstance(vocab_size, (int, np.integer)):
        raise invalid("vocab_size", vocab_size, "expected an integer >= 2 (ids 0..vocab_size-1)", DataError)
    if vocab_size < 2:
        raise invalid("vocab_size", vocab_size, "expected an integer >= 2: a vocabulary of one cannot tell "
                      "samples apart", DataError)
    if not isinstance(vocabulary, tuple) or (vocabulary and (
            len(vocabulary) != vocab_size or vocabulary[:2] != (PAD, UNK)
            or not all(isinstance(t, str) for t in vocabulary))):
        raise _bad("vocabulary", f"{type(vocabulary).__name__} of {len(vocabulary)} items",
                   f"expected () or a tuple of {vocab_size} tokens (vocab_size), {PAD!r} and {UNK!r} first")


def _check_stored_x(field: str, x: Any, x_train: Any, vocab_size: int | None = None) -> None:
    """A Dataset's feature array: checked in place (no copy), for ``Dataset.__post_init__``; a
    DiskArray by its sidecar's statistics (nothing read)."""
    if not isinstance(x, (np.ndarray, DiskArray)):
        raise _bad(field, type(x).__name__, "expected a NumPy array or a DiskArray")
    _check_shape(field, x)
    if vocab_size is not None:
        if x.ndim != 2 or x.dtype.kind not in "iu":
            raise _bad(field, f"array of shape {x.shape} and dtype {x.dtype}", "expected integer token ids of "
                       f"shape (n, sequence_length) (vocab_size={vocab_size})")
        if x.size and not 0 <= x.min() <= x.max() < vocab_size:
            raise _bad(field, f"token ids from {x.min()} to {x.max()}", f"expected ids in 0..{vocab_size - 1} "
                       f"(vocab_size={vocab_size})")
    if x.dtype.kind not in "biuf":
        raise _bad(field, f"array of dtype {x.dtype}", "expected real numbers (float32)")
    if field != "x_train" and x.shape[1:] != x_train.shape[1:]:
        raise _bad(field, f"array of shape {x.shape}", f"expected samples of shape {x_train.shape[1:]} like x_train")
    if not isinstance(x, DiskArray):
        check_finite(field, x)
    elif not x.finite:
        raise _bad(field, repr(x), "expected finite numbers only (its sidecar says some are NaN or infinite)")


def _check_y(field: str, y: Any) -> np.ndarray:
    array = _as_array(field, y)
    if array.dtype.kind not in "biufUSO":
        raise _bad(field, f"array of dtype {array.dtype}", "expected numbers (targets, class codes) or "
                   "labels (text, bools)")
    return array


# --- splitting and scaling ------------------------------------------------------------------

def _split(x: np.ndarray, y: np.ndarray, size: float, field: str, classes: tuple | None,
           seed: int) -> tuple:
    """Split off ``size`` of the samples with sklearn (stratified when ``classes`` is given),
    after checking that it can succeed."""
    from sklearn.model_selection import train_test_split

    part = "test" if field == "test_size" else "validation"
    n = len(y)
    n_out = math.ceil(size * n)
    n_keep = n - n_out
    need = 1
    if classes is not None:
        counts = np.bincount(y, minlength=len(classes))
        present = counts > 0
        if counts[present].min() < 2:
            k = int(np.flatnonzero(present & (counts < 2))[0])
            raise _bad("y", f"labels where class {classes[k]!r} has {int(counts[k])} sample left "
                       f"before the {part} split", "a stratified split needs at least 2 samples "
                       "of every class")
        need = int(present.sum())
    if n_out < need or n_keep < need:
        raise invalid(field, size, f"{n} samples split into {n_out} ({part}) + {n_keep} (rest), "
                      f"but each part needs at least {need} (one per class when stratified)",
                      DataError)
    return train_test_split(x, y, test_size=n_out, random_state=seed,
                            stratify=y if classes is not None else None)


def _stratified_pick(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``n`` samples with class proportions as close to ``y``'s as possible
    (every class present when ``n`` allows)."""
    labels, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    quota = counts * n / len(y)
    take = np.floor(quota).astype(int)
    if n >= len(labels):
        take = np.maximum(take, 1)
    while take.sum() > n:
        over = np.where(take > 1, take - quota, -np.inf)
        take[np.argmax(over)] -= 1
    while take.sum() < n:
        under = np.where(take < counts, quota - take, -np.inf)
        take[np.argmax(under)] += 1
    picks = [rng.choice(np.flatnonzero(inverse == k), size=t, replace=False)
             for k, t in enumerate(take) if t]
    return np.sort(np.concatenate(picks))


def _scale(train: np.ndarray, others: list[np.ndarray], mode: str | None) -> list[np.ndarray]:
    """Scale all splits with statistics of ``train`` only; a zero std counts as 1."""
    if mode is None:
        return [train, *others]
    if mode == "divide16":
        return [(a / np.float32(16.0)).astype(np.float32) for a in (train, *others)]
    axis = 0 if mode == "feature" else None
    mean = train.mean(axis=axis, dtype=np.float64)
    std = train.std(axis=axis, dtype=np.float64)
    std = np.where(std > 1e-12, std, 1.0)
    return [((a - mean) / std).astype(np.float32) for a in (train, *others)]


def _split_all(task: str, x: np.ndarray, y: np.ndarray, x_test: np.ndarray | None, y_test: np.ndarray | None,
               seed: int, val_size: float, test_size: float) -> tuple[list, list, tuple]:
    """Encode the targets and split: ``[x_train, x_val, x_test]``, ``[y_train, y_val, y_test]``
    and the classes; every class must keep training samples."""
    kind = tasks.get(task)
    y, y_test, classes = kind.targets(y, y_test)
    strata = classes if kind.stratified else None
    if x_test is None:
        x, x_test, y, y_test = _split(x, y, test_size, "test_size", strata, seed)
    x_train, x_val, y_train, y_val = _split(x, y, val_size, "val_size", strata, seed)
    if kind.stratified and len(np.unique(y_train)) < len(classes):
        k = int(np.setdiff1d(np.arange(len(classes)), y_train)[0])
        raise _bad("y", f"labels where class {classes[k]!r} has no sample left for training",
                   f"every class needs training samples: lower test_size={test_size} / "
                   f"val_size={val_size} or add samples of that class")
    return [x_train, x_val, x_test], [y_train, y_val, y_test], classes


def _make(name: str, task: str, x: np.ndarray, y: np.ndarray, x_test: np.ndarray | None,
          y_test: np.ndarray | None, seed: int, val_size: float, test_size: float,
          mode: str | None, vocab_size: int | None = None) -> Dataset:
    """Encode, split, scale and wrap validated arrays (token ids, with ``vocab_size``, as int32
    and unscaled)."""
    dtype = np.float32 if vocab_size is None else np.int32
    x = np.asarray(x, dtype=dtype)
    if x_test is not None:
        x_test = np.asarray(x_test, dtype=dtype)
    xs, ys, classes = _split_all(task, x, y, x_test, y_test, seed, val_size, test_size)
    xs = _scale(xs[0], xs[1:], mode)
    arrays = [np.ascontiguousarray(a) for pair in zip(xs, ys) for a in pair]
    return Dataset(name, task, *arrays, classes=classes, vocab_size=vocab_size)


# --- mnist1d --------------------------------------------------------------------------------

def _mnist1d_arrays() -> tuple[np.ndarray, ...]:
    """mnist1d's default dataset (x, y, x_test, y_test), generated locally once per process.

    ``make_dataset`` re-seeds Python's and NumPy's global generators; their states are put back
    so that loading data never changes anyone else's random stream.
    """
    with _MNIST1D_LOCK:
        if "default" not in _MNIST1D_CACHE:
            try:
                from mnist1d.data import get_dataset_args, make_dataset
            except ImportError as exc:
                raise ConfigError("name='mnist1d' needs the mnist1d package (pip install mnist1d)"
                                  ) from exc
            py_state, np_state = random.getstate(), np.random.get_state()
            try:
                data = make_dataset(get_dataset_args())
            finally:
                random.setstate(py_state)
                np.random.set_state(np_state)
            arrays = (data["x"], data["y"], data["x_test"], data["y_test"])
            _MNIST1D_CACHE["default"] = tuple(np.array(a) for a in arrays)
        return _MNIST1D_CACHE["default"]
