"""Images sorted into one sub-folder per class: the user's own image classification data.

``root/cat/001.png``, ``root/dog/a.jpg``...: the layout Keras's ``image_dataset_from_directory``
reads. :func:`scan_class_folder` finds the files and reads their headers (cheap);
:func:`decode_images` decodes them chunk by chunk; :func:`read_class_folder` does both and gives
``(x, labels, classes)`` in memory, :func:`write_class_folder` writes them to disk. :func:`evokit.datasets.from_image_folder`
makes the Dataset, and a config's ``[data]`` table with ``kind = "image_folder"`` reads the same
way (:mod:`evokit.datafiles`).

Bad input raises :class:`evokit.errors.ConfigError` (an argument: a folder that is not there, a
bad ``size``, ``grayscale`` or ``on_error``) or :class:`evokit.errors.DataError` (the files),
naming ``path``, ``size`` or, for files, their paths.

Choices, and why
----------------
* **Classes** are the sub-folders' names, sorted (as Keras sorts them); label ``i`` of the
  Dataset is ``classes[i]``. Files directly in ``root`` are ignored (a ``README`` or
  ``labels.csv`` beside the class folders), and so are hidden files and folders (``.git``,
  ``.ipynb_checkpoints``). A class folder is searched to any depth, as Keras does. A class
  folder without images, or fewer than 2 classes, is an error naming ``path``.
* **Formats** as :mod:`evokit.imagefiles` reads them (:data:`evokit.imagefiles.SUFFIXES`, any
  case); other files are ignored. Values as stored (0..255 for 8 bits), float32, unscaled here.
* **Colour.** ``grayscale=True``: one channel (colour converted to luma); ``False``: three (a
  grey image repeated), alpha dropped; ``None`` (the default) decides from the files' headers:
  grey if every image is stored grey (modes ``L``, ``LA``, ``1``, 16-bit grey), RGB otherwise.
  An RGB file whose pixels happen to be grey counts as colour (only its header is read).
* **Size.** Without ``size`` every image must have the first one's size; the error names the
  first file that differs and suggests ``size``. With ``size`` (``(height, width)`` or one int
  for a square) every image is resized bilinearly, aspect ratio not kept (as Keras does without
  ``crop_to_aspect_ratio``).
* **Bad files** (not an image, broken, truncated, over :data:`evokit.imagefiles.MAX_PIXELS`)
  are all found before anything fails: with ``on_error="raise"`` (the default) one DataError
  lists them (the first :data:`SHOWN`, and how many), each with its reason, so that one pass
  fixes them all; with ``on_error="skip"`` each is logged as a warning naming it (logger
  ``evokit.datasets``) and left out. Silently dropping samples is never the default: a folder
  where half the files are broken would still give a dataset. A class folder left with no
  readable image is an error naming it, even with ``"skip"``: the class would vanish and the
  labels of the classes after it would shift.
* **Two passes.** Headers first (classes, size, colour, files that are not images), then the
  pixels, chunk by chunk: :func:`write_class_folder` writes each chunk to disk as uint8 and
  never holds the whole set in memory. A truncated file is found only when its pixels are
  decoded.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from evokit.diskarray import DiskArray, DiskArrayWriter, sidecar_path
from evokit.errors import ConfigError, DataError, check_choice
from evokit.imagefiles import SUFFIXES, UnreadableImage, _check_size, _decode, _hw, _image_array

__all__ = ["ClassFolder", "scan_class_folder", "decode_images", "read_class_folder", "write_class_folder", "ON_ERROR",
           "SHOWN", "CHUNK_VALUES"]

log = logging.getLogger("evokit.datasets")

ON_ERROR = ("raise", "skip")
"""What to do with an unreadable image: fail listing every one, or leave it out with a warning."""
SHOWN = 5
"""How many bad files an error lists by path (then how many more)."""
CHUNK_VALUES = 2**22
"""About how many values (pixels x channels) :func:`decode_images` decodes at a time: 16 MB of
float32, whatever the images' size."""

_GREY_MODES = ("1", "L", "LA", "I", "F", "I;16", "I;16L", "I;16B", "I;16N")
"""Pillow modes that count as grey for ``grayscale=None``."""
_DEEP_MODES = ("I", "F", "I;16", "I;16L", "I;16B", "I;16N")
"""Pillow modes whose values may not fit 8 bits (16-bit, 32-bit integer or float)."""


@dataclass(frozen=True)
class ClassFolder:
    """What :func:`scan_class_folder` found: the image files (sorted by class, then path), the
    class index of each, the classes (sub-folder names), the size every image is read at
    ``(height, width)``, whether they are read grey, and the bad files found so far (path, reason),
    which :func:`decode_images` extends; ``deep`` is the first file whose values may not fit 8
    bits (None if all do)."""

    path: Path
    files: tuple[Path, ...]
    labels: np.ndarray
    classes: tuple[str, ...]
    size: tuple[int, int]
    grayscale: bool
    on_error: str
    bad: list = field(default_factory=list)
    deep: Path | None = None

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        """One decoded image's shape: ``(height, width, channels)``."""
        return (*self.size, 1 if self.grayscale else 3)

    def check_bad(self) -> None:
        """With ``on_error="raise"``, a DataError listing the bad files found (if any)."""
        if self.bad and self.on_error == "raise":
            shown = ", ".join(f"{str(file)!r} ({reason})" for file, reason in sorted(self.bad)[:SHOWN])
            more = f" and {len(self.bad) - SHOWN} more" if len(self.bad) > SHOWN else ""
            raise DataError(f"path={str(self.path)!r} is invalid: {len(self.bad)} unreadable image file(s): "
                            f"{shown}{more}; expected readable PNG, JPEG, BMP or TIFF files: fix or remove them, "
                            "or pass on_error=\"skip\" to leave them out with a warning")

    def check_classes_kept(self, kept_labels: np.ndarray) -> None:
        """A DataError naming the first class folder left without an image (every image in it was
        unreadable and skipped), with how many were skipped: a class that vanished would shift
        the labels of the classes after it."""
        counts = np.bincount(np.asarray(kept_labels, np.int64), minlength=len(self.classes))
        for label in np.flatnonzero(counts == 0):
            name = self.classes[int(label)]
            skipped = sum(1 for file, _ in self.bad if Path(file).relative_to(self.path).parts[0] == name)
            raise DataError(f"path={str(self.path / name)!r} is invalid: class folder {name!r} has no readable "
                            f"image left ({skipped} unreadable image(s) skipped); expected at least one readable "
                            "image in every class folder: fix or remove the files, or remove the folder")

    def reject(self, file: Path, reason: str) -> None:
        """Note ``file`` as a bad file (with ``on_error="skip"``, a warning naming it)."""
        _reject(self.bad, self.on_error, file, reason)


def _reject(bad: list, on_error: str, file: Path, reason: str) -> None:
    bad.append((file, reason))
    if on_error == "skip":
        log.warning("skipped an unreadable image: %s (%s)", file, reason)


def scan_class_folder(path: str | Path, *, size: Any = None, grayscale: bool | None = None,
                      on_error: str = "raise") -> ClassFolder:
    """The files, classes, size and colour of the class folder ``path``, from the files' headers
    only (no pixel is decoded). Files that are not images are bad files (see the module's
    docstring); the error for them comes from :meth:`ClassFolder.check_bad`, once every file has
    been seen (call it after :func:`decode_images`)."""
    target = _check_size(size)
    if grayscale is not None and not isinstance(grayscale, (bool, np.bool_)):
        raise ConfigError(f"grayscale={grayscale!r} is invalid: expected True, False or None (grey if every "
                          "image is grey)")
    check_choice("on_error", on_error, ON_ERROR)
    root = Path(path)
    files, labels, classes = _class_files(root)
    bad: list = []
    kept, kept_labels, modes, first, deep = [], [], set(), None, None
    for file, label in zip(files, labels):
        try:
            image = _decode(file, load=False)
        except UnreadableImage as exc:
            _reject(bad, on_error, file, exc.brief)
            continue
        hw = (image.size[1], image.size[0])
        if first is None:
            first = (file, hw)
        elif target is None and hw != first[1]:
            raise DataError(f"path={str(file)!r} is invalid: an image of {_hw(image.size)}, the first one "
                            f"({str(first[0])!r}) is {first[1][0]}x{first[1][1]}; expected images of one size, or "
                            "pass size=(height, width) to resize them all")
        kept.append(file)
        kept_labels.append(label)
        modes.add(image.mode)
        deep = deep or (file if image.mode in _DEEP_MODES else None)
    grey = all(mode in _GREY_MODES for mode in modes) if grayscale is None else bool(grayscale)
    folder = ClassFolder(root, tuple(kept), np.asarray(kept_labels, np.int64), classes,
                         target or (first[1] if first else (1, 1)), grey, on_error, bad, deep)
    if first is None:
        folder.check_bad()
        raise DataError(f"path={str(root)!r} is invalid: no readable image in it; expected image files")
    if len(np.unique(folder.labels)) < len(classes):  # before any split is made without that class
        folder.check_bad()
        folder.check_classes_kept(folder.labels)
    return folder


def decode_images(folder: ClassFolder, order: Sequence[int] | None = None, *,
                  chunk: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The images ``folder.files[order]`` (all, in order, by default) decoded ``chunk`` at a
    time (None: about :data:`CHUNK_VALUES` values): ``(images, kept)``, float32 images of shape
    ``(k, *folder.sample_shape)`` and ``kept`` the positions in ``order`` they are. A file that
    fails to decode is a bad file, left out: call :meth:`ClassFolder.check_bad` after the last
    chunk, so that with ``on_error="raise"`` every file has been tried before the error."""
    order = np.arange(len(folder.files)) if order is None else np.asarray(order, np.int64)
    chunk = chunk or max(1, CHUNK_VALUES // int(np.prod(folder.sample_shape)))
    for start in range(0, len(order), chunk):
        images, kept = [], []
        for position in range(start, min(start + chunk, len(order))):
            file = folder.files[order[position]]
            try:
                image = _decode(file)
            except UnreadableImage as exc:
                folder.reject(file, exc.brief)
                continue
            images.append(_image_array(image, folder.size, folder.grayscale))
            kept.append(position)
        if images:
            yield np.stack(images), np.asarray(kept, np.int64)


def read_class_folder(path: str | Path, *, size: Any = None, grayscale: bool | None = None,
                      on_error: str = "raise") -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The images of the class folder ``path``, in memory: ``(x, labels, classes)``, ``x``
    float32 ``(n, height, width, channels)`` with values as stored, ``labels`` int64 class
    indices into ``classes`` (the sub-folder names, sorted). See the module's docstring."""
    folder = scan_class_folder(path, size=size, grayscale=grayscale, on_error=on_error)
    x = np.empty((len(folder.files), *folder.sample_shape), np.float32)
    keep = np.zeros(len(folder.files), bool)
    for images, kept in decode_images(folder):
        x[kept] = images
        keep[kept] = True
    folder.check_bad()
    folder.check_classes_kept(folder.labels[keep])
    if keep.all():
        return x, folder.labels, folder.classes
    return x[keep], folder.labels[keep], folder.classes


def write_class_folder(folder: ClassFolder, orders: Sequence[np.ndarray], files: Sequence[Path],
                       chunk: int | None = None) -> tuple[list[DiskArray], list[np.ndarray]]:
    """Decode the images ``folder.files[order]`` of each order straight into the DiskArray file
    of the same place in ``files``, as uint8 (rounded after resizing), a chunk at a time: never
    more than one chunk in memory. Returns the DiskArrays (raw values, no scale) and, for each,
    the positions in its order that were kept (a file that fails to decode is a bad file, left
    out). Every file is tried before :meth:`ClassFolder.check_bad`; on any error the files
    written are deleted. Images whose values may not fit 8 bits are refused (DataError naming
    the first): convert them, or load them into memory."""
    if folder.deep is not None:
        raise DataError(f"path={str(folder.deep)!r} is invalid: an image of 16-bit or floating-point values; "
                        "expected 8-bit images when streaming (stored as uint8 on disk): convert them, or load "
                        "the folder into memory (stream=False)")
    arrays: list[DiskArray] = []
    kept_positions: list[np.ndarray] = []
    try:
        for order, file in zip(orders, files):
            with DiskArrayWriter(file, folder.sample_shape, np.uint8) as writer:
                kept_parts = [np.zeros(0, np.int64)]
                for images, kept in decode_images(folder, order, chunk=chunk):
                    writer.append(np.clip(np.rint(images), 0, 255).astype(np.uint8))
                    kept_parts.append(kept)
            arrays.append(writer.close())
            kept_positions.append(np.concatenate(kept_parts))
        folder.check_bad()
        folder.check_classes_kept(np.concatenate([np.zeros(0, np.int64)] + [
            folder.labels[np.asarray(order, np.int64)[kept]] for order, kept in zip(orders, kept_positions)]))
    except BaseException:
        for written in arrays:
            written.path.unlink(missing_ok=True)
            sidecar_path(written.path).unlink(missing_ok=True)
        raise
    return arrays, kept_positions


def _class_files(root: Path) -> tuple[list[Path], list[int], tuple[str, ...]]:
    """The image files under each class folder of ``root`` (sorted by class, then path), their
    class indices and the class names; ConfigError if ``root`` is not a folder, DataError for
    fewer than 2 class folders or one without image files."""
    if not root.is_dir():
        what = "a file, not a folder" if root.exists() else "no such folder"
        raise ConfigError(f"path={str(root)!r} is invalid: {what}; expected a folder with one sub-folder of "
                          "images per class")
    classes = tuple(sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")))
    if len(classes) < 2:
        raise DataError(f"path={str(root)!r} is invalid: {len(classes)} class folder(s) {list(classes)}; expected "
                        "one sub-folder of images per class, at least 2 (images directly in it are ignored)")
    files: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        found = sorted(f for f in (root / name).rglob("*") if f.suffix.lower() in SUFFIXES and f.is_file()
                       and not any(part.startswith(".") for part in f.relative_to(root).parts))
        if not found:
            raise DataError(f"path={str(root)!r} is invalid: class folder {name!r} holds no image files; expected "
                            f"files ending in {', '.join(SUFFIXES)} in every class folder (or remove it)")
        files += found
        labels += [label] * len(found)
    return files, labels, classes
