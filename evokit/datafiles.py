"""Datasets from a user's data files, as a config's ``[data]`` table names them (``path``).

* CSV: one sample per row; the target in column ``target`` (a name from the header, or an
  index; default the last column), ``header`` (default true) and ``delimiter`` (default: sniffed).
* NPZ: arrays ``X`` and ``y``, and optionally ``X_test`` and ``y_test``.
* Texts (``kind``): ``"text_csv"`` (the default when ``text_column`` is given), a CSV with a
  header, one text per row in column ``text_column`` (default ``"text"``) and its label in
  column ``target`` (default ``"label"``), fields split at ``delimiter`` (default ``,``, not
  sniffed: texts hold commas); or ``"text_folder"``, a folder with one sub-folder of ``.txt``
  files per class. Both go through :func:`evokit.datasets.from_texts`, with ``vocab_size`` and
  ``sequence_length`` if given (see :mod:`evokit.corpora` for the layouts).
* Images and masks (``kind = "mask_folder"``, the default when ``masks`` is given): ``path`` a
  folder of images, ``masks`` a folder of masks paired with them by file name, both relative to
  the config file; optionally ``size`` (``[height, width]`` or one int: resize to it) and
  ``grayscale`` (default true). Read by :func:`evokit.datasets.from_image_folders` (see
  :mod:`evokit.imagefiles`) as a segmentation dataset.
* Images in class folders (``kind = "image_folder"``): ``path`` a folder with one sub-folder of
  images per class (relative to the config file); optionally ``size``, ``grayscale`` (default:
  grey if every image is), ``on_error`` (``"raise"``, the default, or ``"skip"``: leave
  unreadable images out with a warning) and ``stream`` (true: a temporary folder, or a folder
  relative to the config file and inside its directory (no absolute path, ``..`` or ``~``):
  write the images there as uint8 and stream them from disk). Read by
  :func:`evokit.datasets.from_image_folder` (see :mod:`evokit.classfolders`) as a
  classification dataset.

Bad input raises :class:`evokit.errors.ConfigError` (a key) or :class:`evokit.errors.DataError`
(the file's content), naming the key (``data.header=true is invalid: ...``) or, for an NPZ
array, the array (``y=<object array> is invalid: ...``); the CLI answers both with exit code 2.

Choices, and why
----------------
* **Text.** UTF-8 (a byte-order mark is dropped); a file that is not UTF-8 is read as Latin-1
  (every byte is a character there, so a spreadsheet's export still loads). A file with NUL
  bytes (UTF-16, binary) is refused: guessing further would give garbage labels.
* **Delimiter.** Without ``delimiter``, :class:`csv.Sniffer` picks one of ``, ; TAB |`` from the
  first 32 KiB (``,`` when it cannot tell); errors that could come from a wrong one say which
  was used, and a file whose rows are single fields names ``delimiter``.
* **Header.** With ``header = true`` a first row that reads like data is refused (naming
  ``header``) rather than silently dropped as a header: a number in every column of numbers, and
  in a text column a value that recurs below it. The header must name every column.
* **Labels.** Integers if every target cell is one; numbers that are all whole and few (see
  :func:`evokit.tasks.registry.looks_like_classes`: ``1.0``, ``2.0``) are classes too, unless
  ``task = "regression"``; other numbers are regression targets; anything else is text labels.
  An empty target cell is an error naming ``target`` (never a class ``''``).
* **Blank lines** (every cell blank) are skipped; every other row must have as many fields as
  most rows do, and every feature cell must hold a finite number.
"""
from __future__ import annotations

import csv
import zipfile
import zlib
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from evokit import corpora, datasets
from evokit.corpora import csv_rows, decode_text
from evokit.errors import ConfigError, DataError, invalid, invalid_data
from evokit.tasks.registry import looks_like_classes

SUFFIXES = (".csv", ".npz")
"""The data files a config may name."""

KINDS = ("table", "text_csv", "text_folder", "mask_folder", "image_folder")
"""What ``kind`` of data a ``[data]`` table's ``path`` holds: numbers (CSV/NPZ), texts, images
with masks (a folder, ``masks`` the other), or images in one sub-folder per class."""

TEXT_KEYS = ("text_column", "vocab_size", "sequence_length")
"""``[data]`` keys that apply to texts only (``kind = "text_csv"`` or ``"text_folder"``)."""

IMAGE_KEYS = ("masks", "size", "grayscale", "on_error", "stream")
"""``[data]`` keys that apply to images only (``kind = "mask_folder"`` or ``"image_folder"``)."""

_MASKS, _CLASSES, _IMAGES = (('images with masks only (kind = "mask_folder")', ("mask_folder",)),
                              ('images in class folders only (kind = "image_folder")', ("image_folder",)),
                              ('images only (kind = "mask_folder" or "image_folder")', ("mask_folder", "image_folder")))
_IMAGE_KINDS = {"masks": _MASKS, "size": _IMAGES, "grayscale": _IMAGES, "on_error": _CLASSES, "stream": _CLASSES}
"""Each of :data:`IMAGE_KEYS` -> what it applies to, and the kinds that are."""

FILE_ONLY_KEYS = ("target", "header", "delimiter", "task", "kind", *TEXT_KEYS, *IMAGE_KEYS)
"""``[data]`` keys that apply to a data file only (not to an embedded dataset)."""

_NOT_FOR_TEXTS = {"text_csv": ("header", "task", "scale"),
                  "text_folder": ("header", "task", "scale", "target", "delimiter", "text_column")}
"""``[data]`` keys refused for each kind of texts (texts are classified, never scaled)."""

_TEXT_FIELDS = {"path": "path", "text": "text_column", "label": "target", "delimiter": "delimiter"}
"""An argument of the :mod:`evokit.corpora` readers -> the ``[data]`` key that gives it."""

DELIMITERS = ",;\t|"
"""The delimiters sniffed when a CSV's ``delimiter`` is not given."""

SNIFF_CHARS = 32 * 1024
"""How much of a CSV the delimiter is sniffed from."""

HEADER_SAMPLE = 100
"""How many rows under a header are compared with it to tell a header from a data row."""

NPZ_ARRAYS = ("X", "y", "X_test", "y_test")
"""The arrays an NPZ file may hold (others are ignored)."""

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def read_data_file(path: str, section: Mapping[str, Any], base_dir: str | Path | None, options: dict[str, Any]) -> Any:
    """A Dataset from a CSV (one sample per row, the target in column ``target``) or an NPZ file
    (arrays ``X`` and ``y``, and optionally ``X_test`` and ``y_test``).

    ``path`` is the key path of the table in the config (``"data"``), for messages; ``section``
    the table (``path``, and ``target``, ``header``, ``delimiter``, ``task``); a relative file is
    looked up in ``base_dir``; ``options`` go to ``evokit.datasets.from_arrays`` (``seed``,
    ``val_size``, ``test_size``, ``scale``). Raises ConfigError or DataError naming the key or
    array, never anything else for a file's content.
    """
    file = section["path"]
    if not isinstance(file, str) or not file:
        raise ConfigError(f"{path}.path={file!r} is invalid: expected the path of a CSV or NPZ file")
    full = Path(file) if base_dir is None or Path(file).is_absolute() else Path(base_dir) / file
    kind = _kind(path, section, file, full)
    if kind == "mask_folder":
        return _read_mask_folder(path, section, base_dir, file, full, options)
    if kind == "image_folder":
        return _read_image_folder(path, section, base_dir, file, full, options)
    if kind != "table":
        return _read_texts(path, section, file, full, kind, options)
    if full.suffix.lower() not in SUFFIXES:
        raise ConfigError(f"{path}.path={file!r} is invalid: expected a file ending in .csv or .npz")
    if not full.is_file():
        raise ConfigError(f"{path}.path={file!r} is invalid: no such file ({full})")
    kwargs = dict(options, name=full.stem)
    if "task" in section:
        kwargs["task"] = section["task"]
    if full.suffix.lower() == ".npz":
        for key in ("target", "header", "delimiter"):
            if key in section:
                raise ConfigError(f"{path}.{key}: applies to a CSV file only")
        arrays = _read_npz(path, file, full)
        return datasets.from_arrays(arrays["X"], arrays["y"], X_test=arrays.get("X_test"),
                                    y_test=arrays.get("y_test"), **kwargs)
    x, y = _Csv(path, file, full, section).read()
    return datasets.from_arrays(x, y, **kwargs)


# --- texts ----------------------------------------------------------------------------------

def _kind(path: str, section: Mapping[str, Any], file: str, full: Path) -> str:
    """The ``kind`` of data at ``full``, checked against the keys given and the path found."""
    default = "text_csv" if "text_column" in section else "mask_folder" if "masks" in section else "table"
    kind = section.get("kind", default)
    if kind not in KINDS:
        raise ConfigError(f"{path}.kind={kind!r} is invalid: expected one of {', '.join(map(repr, KINDS))}")
    if kind == "table":
        for key in TEXT_KEYS:
            if key in section:
                raise ConfigError(f"{path}.{key}: applies to texts only (kind = \"text_csv\" or \"text_folder\")")
    for key, (what, kinds) in _IMAGE_KINDS.items():
        if key in section and kind not in kinds:
            raise ConfigError(f"{path}.{key}: applies to {what}")
    if kind in ("mask_folder", "image_folder"):
        return kind  # the folders are checked by the reader, naming the key
    if kind == "text_folder" and not full.is_dir():
        raise ConfigError(f"{path}.path={file!r} is invalid: no such folder ({full}); kind = \"text_folder\" "
                          "expects a folder with one sub-folder of .txt files per class")
    if kind != "text_folder" and full.is_dir():
        raise ConfigError(f"{path}.path={file!r} is invalid: a folder, not a file; set kind = \"text_folder\" "
                          "for a folder with one sub-folder of .txt files per class, kind = \"image_folder\" "
                          "for one sub-folder of images per class, or kind = \"mask_folder\" for a folder of "
                          "images (with masks = a folder of masks)")
    if kind == "text_csv" and full.suffix.lower() != ".csv":
        raise ConfigError(f"{path}.path={file!r} is invalid: expected a file ending in .csv (kind = \"text_csv\")")
    if kind == "text_csv" and not full.is_file():
        raise ConfigError(f"{path}.path={file!r} is invalid: no such file ({full})")
    return kind


def _read_texts(path: str, section: Mapping[str, Any], file: str, full: Path, kind: str,
                options: dict[str, Any]) -> Any:
    """A text Dataset (:func:`evokit.datasets.from_texts`) from a text CSV or a folder of texts;
    errors of the readers name the ``[data]`` key (``text_column``, ``target``, ``path``) and
    show ``path`` as the config gives it."""
    for key in _NOT_FOR_TEXTS[kind]:
        if key in section:
            raise ConfigError(f"{path}.{key}: does not apply to kind = {kind!r} (texts are classified, "
                              "tokenized and never scaled)")
    kwargs = {key: options[key] for key in ("seed", "val_size", "test_size") if key in options}
    kwargs.update({key: section[key] for key in ("vocab_size", "sequence_length") if key in section})
    try:
        if kind == "text_folder":
            texts, labels = corpora.read_text_folder(full)
        else:
            texts, labels = corpora.read_text_csv(full, section.get("text_column", "text"),
                                                  section.get("target", "label"),
                                                  delimiter=section.get("delimiter", ","))
    except (ConfigError, DataError) as exc:
        field, equals, rest = str(exc).replace(repr(str(full)), repr(file)).partition("=")
        named = f"{path}.{_TEXT_FIELDS[field]}={rest}" if equals and field in _TEXT_FIELDS else f"{path}: {exc}"
        raise type(exc)(named) from None
    return datasets.from_texts(texts, labels, name=full.stem or full.name, **kwargs)


# --- images and masks -----------------------------------------------------------------------

_IMAGE_FIELDS = {"images": "path", **{key: key for key in ("masks", "size", "grayscale", "seed", "val_size",
                                                              "test_size", "scale")}}
"""An argument of :func:`evokit.datasets.from_image_folders` -> the ``[data]`` key that gives it."""

_NOT_FOR_IMAGES = ("target", "header", "delimiter", "task", *TEXT_KEYS)
"""``[data]`` keys refused for ``kind = "mask_folder"`` (its task is always segmentation)."""


def _read_mask_folder(path: str, section: Mapping[str, Any], base_dir: str | Path | None, file: str,
                      full: Path, options: dict[str, Any]) -> Any:
    """A segmentation Dataset of the images in folder ``path`` and the masks in folder ``masks``
    (both relative to ``base_dir``); errors name the ``[data]`` key (``path``, ``masks``,
    ``size``, ``grayscale``) and show each folder as the config gives it."""
    for key in _NOT_FOR_IMAGES:
        if key in section:
            raise ConfigError(f"{path}.{key}: does not apply to kind = \"mask_folder\" (images with masks: "
                              "the task is segmentation)")
    if "masks" not in section:
        raise ConfigError(f"{path}.masks: missing; kind = \"mask_folder\" needs the folder of masks, one per "
                          f"image of {path}.path")
    masks = section["masks"]
    if not isinstance(masks, str) or not masks:
        raise ConfigError(f"{path}.masks={masks!r} is invalid: expected the path of a folder of masks, one per "
                          f"image of {path}.path (kind = \"mask_folder\")")
    masks_full = Path(masks) if base_dir is None or Path(masks).is_absolute() else Path(base_dir) / masks
    kwargs = dict(options, size=section.get("size"), grayscale=section.get("grayscale", True))
    try:
        return datasets.from_image_folders(full, masks_full, **kwargs)
    except (ConfigError, DataError) as exc:
        message = str(exc).replace(repr(str(full)), repr(file)).replace(repr(str(masks_full)), repr(masks))
        field, equals, rest = message.partition("=")
        named = f"{path}.{_IMAGE_FIELDS[field]}={rest}" if equals and field in _IMAGE_FIELDS else f"{path}: {message}"
        raise type(exc)(named) from None


_NOT_FOR_CLASS_IMAGES = ("target", "header", "delimiter", "task", *TEXT_KEYS)
"""``[data]`` keys refused for ``kind = "image_folder"`` (its task is always classification)."""

_CLASS_IMAGE_FIELDS = ("path", "size", "grayscale", "on_error", "stream", "seed", "val_size", "test_size",
                       "scale")
"""The arguments of :func:`evokit.datasets.from_image_folder` that are ``[data]`` keys of the same name."""


def _read_image_folder(path: str, section: Mapping[str, Any], base_dir: str | Path | None, file: str, full: Path,
                       options: dict[str, Any]) -> Any:
    """A classification Dataset of the folder ``path`` with one sub-folder of images per class
    (:func:`evokit.datasets.from_image_folder`); ``stream`` a folder is relative to ``base_dir``
    like ``path``. Errors name the ``[data]`` key (``path``, ``size``, ``grayscale``,
    ``on_error``, ``stream``) and show the folder as the config gives it."""
    for key in _NOT_FOR_CLASS_IMAGES:
        if key in section:
            raise ConfigError(f"{path}.{key}: does not apply to kind = \"image_folder\" (one sub-folder of images "
                              "per class: the task is classification)")
    kwargs = dict(options, **{key: section[key] for key in ("size", "grayscale", "on_error") if key in section})
    kwargs["stream"] = _stream_folder(path, section.get("stream", False), base_dir)
    try:
        return datasets.from_image_folder(full, **kwargs)
    except (ConfigError, DataError) as exc:
        message = str(exc).replace(str(full), file)  # the folder and the files in it as the config gives them
        field, equals, rest = message.partition("=")
        named = f"{path}.{field}={rest}" if equals and field in _CLASS_IMAGE_FIELDS else f"{path}: {message}"
        raise type(exc)(named) from None


def _stream_folder(path: str, stream: Any, base_dir: str | Path | None) -> bool | Path:
    """``[data] stream``: true, false, or a folder under the config file's directory (``base_dir``;
    None: the working directory), resolved there. A config may come from someone else: it must
    not make evokit create folders or replace ``x_train.npy`` anywhere else, so an absolute path,
    ``..``, ``~`` or a link leading out of that directory is a ConfigError naming ``stream``."""
    allowed = ("expected true (a temporary folder), false (in memory) or a folder relative to the config file's "
               "directory, inside it (no absolute path, '..' or '~')")
    if isinstance(stream, bool):
        return stream
    if not isinstance(stream, str) or not stream.strip() or "~" in stream:
        raise invalid(f"{path}.stream", stream, allowed)
    relative = Path(stream)
    if relative.is_absolute() or relative.drive or ".." in stream.replace("\\", "/").split("/"):
        raise invalid(f"{path}.stream", stream, allowed)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    if not (base / relative).resolve().is_relative_to(base.resolve()):
        raise invalid(f"{path}.stream", stream, allowed + ": it leads out of it through a link")
    return base / relative


# --- NPZ ------------------------------------------------------------------------------------

_UNREADABLE = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, MemoryError)


def _read_npz(path: str, file: str, full: Path) -> dict[str, np.ndarray]:
    """The arrays of an NPZ file, loaded without pickle: an object array is refused naming it."""
    try:
        loaded = np.load(full, allow_pickle=False)
    except _UNREADABLE as exc:
        raise DataError(f"{path}.path={file!r} is invalid: not a readable NPZ file (np.savez) "
                        f"({type(exc).__name__}: {exc})") from None
    if not hasattr(loaded, "files"):  # a single .npy array under an .npz name
        raise DataError(f"{path}.path={file!r} is invalid: expected an NPZ archive (np.savez) of arrays X and y; "
                        f"found a single array")
    with loaded:
        found = loaded.files
        if "X" not in found or "y" not in found:
            raise DataError(f"{path}.path={file!r} is invalid: expected arrays named X and y (and optionally X_test, "
                            f"y_test); found {', '.join(sorted(found)) or 'none'}")
        return {key: _npz_array(file, loaded, key) for key in NPZ_ARRAYS if key in found}


def _npz_array(file: str, loaded: Any, key: str) -> np.ndarray:
    """Array ``key`` of the open NPZ file; an object array (it would need pickle) is refused naming ``key``."""
    try:
        return loaded[key]
    except ValueError as exc:
        if "allow_pickle" not in str(exc):
            raise invalid_data(key, f"array in {file!r} that cannot be read ({exc})", "expected an array "
                               "np.savez wrote") from None
        raise invalid_data(key, f"object array in {file!r}", "expected an array of numbers (or of text "
                           "labels for y): object arrays are refused, as loading them unpickles, which can "
                           "run code; save it with .astype(float) or .astype(str)") from None
    except _UNREADABLE as exc:
        raise invalid_data(key, f"array in {file!r} that cannot be read ({type(exc).__name__}: {exc})",
                           "expected an array np.savez wrote") from None


# --- CSV ------------------------------------------------------------------------------------

class _Csv:
    """One CSV file read for a ``[data]`` table: ``read()`` gives (features, labels)."""

    def __init__(self, path: str, file: str, full: Path, section: Mapping[str, Any]) -> None:
        self.path, self.file, self.full, self.section = path, file, full, section
        self.header = section.get("header", True)
        if not isinstance(self.header, bool):
            raise ConfigError(f"{path}.header={self.header!r} is invalid: expected true or false")
        self.delimiter = section.get("delimiter")
        self.sniffed = self.delimiter is None
        if not self.sniffed and (not isinstance(self.delimiter, str) or len(self.delimiter) != 1
                                 or self.delimiter in '"\r\n\0'):
            raise ConfigError(f"{path}.delimiter={self.delimiter!r} is invalid: expected one character "
                              "(not a quote or a line break), or leave it out to sniff it")
        self.task = section.get("task")
        self.columns: list[str] = []

    def error(self, field: str, value: Any, allowed: str) -> DataError:
        return DataError(f"{self.path}.{field}={value!r} is invalid: {allowed}")

    def header_error(self, allowed: str) -> DataError:
        return DataError(f"{self.path}.header=true is invalid: {allowed}")

    def file_error(self, allowed: str) -> DataError:
        return self.error("path", self.file, allowed)

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        text = self._text()
        if self.sniffed:
            self.delimiter = _sniff(text)
        rows = self._rows(text)
        if not rows:
            raise self.file_error("the file has no data rows")
        if self.header:
            if len(rows) == 1:
                raise self.file_error(f"the file has only a header row (line {rows[0][0]}); set header = false if "
                                      "that row is data")
            (line, names), rows = rows[0], rows[1:]
        width = self._check_widths(rows)
        if self.header:
            self._check_header(line, [name.strip() for name in names], rows, width)
        target = self._target(width)
        return self._features(rows, target), self._labels(rows, target)

    def _text(self) -> str:
        try:
            raw = self.full.read_bytes()
        except OSError as exc:
            raise self.file_error(f"the file cannot be read ({exc.strerror or exc})") from None
        try:
            return decode_text(raw)
        except ValueError as exc:
            raise self.file_error(f"{exc}; expected a CSV file in UTF-8 or Latin-1") from None

    def _rows(self, text: str) -> list[tuple[int, list[str]]]:
        """(line number, cells) of every row that is not blank."""
        try:
            return csv_rows(text, self.delimiter)
        except ValueError as exc:
            raise self.file_error(str(exc)) from None

    def _split_note(self) -> str:
        """Which delimiter split the rows, for messages about fields."""
        how = "sniffed" if self.sniffed else "given"
        return f"fields split at {self.delimiter!r} ({how}; set data.delimiter if the file uses another)"

    def _check_widths(self, rows: list[tuple[int, list[str]]]) -> int:
        """The number of fields most rows have; every row must have it, and it must be 2 or more."""
        width = Counter(len(cells) for _, cells in rows).most_common(1)[0][0]
        for line, cells in rows:
            if len(cells) != width:
                raise self.file_error(f"line {line} has {len(cells)} fields, expected {width} like most rows "
                                      f"({self._split_note()})")
        if width == 1:
            seen = sorted({d for _, cells in rows[:HEADER_SAMPLE] for d in DELIMITERS if d in cells[0]})
            if seen:
                raise self.error("delimiter", self.delimiter, f"every row is a single field, but the rows hold "
                                 f"{' and '.join(map(repr, seen))}: set delimiter to the character between fields")
            raise self.file_error("the file has a single column; expected feature columns and a target column")
        return width

    def _check_header(self, line: int, names: list[str], rows: list[tuple[int, list[str]]], width: int) -> None:
        """The header names every column, and does not read like a data row."""
        if len(names) != width:
            raise self.header_error(f"the header (line {line}) has {len(names)} names but the rows have {width} "
                                    f"fields; expected one name per column ({self._split_note()})")
        sample = [[cell.strip() for cell in cells] for _, cells in rows[:HEADER_SAMPLE]]
        for j, name in enumerate(names):
            below = [cells[j] for cells in sample]
            numeric = _is_number(name) and all(_is_number(v) for v in below)
            if not (numeric or name in below):
                self.columns = names
                return
        shown = ", ".join(map(repr, names[:6])) + (", ..." if len(names) > 6 else "")
        raise self.header_error(f"the first row (line {line}: {shown}) reads like data, not names (a number in "
                                "every column of numbers; in text columns, values that recur below); set header = "
                                "false if the file has no header, or give the columns names that are not numbers")

    def _target(self, width: int) -> int:
        """The target column's index, from ``target`` (a header name or an index; default the last)."""
        target = self.section.get("target", width - 1)
        if isinstance(target, str):
            if target.strip() not in self.columns:
                raise ConfigError(f"{self.path}.target={target!r} is invalid: expected one of the columns "
                                  f"{', '.join(map(repr, self.columns)) or '(the file has no header)'}")
            if self.columns.count(target.strip()) > 1:
                raise ConfigError(f"{self.path}.target={target!r} is invalid: {self.columns.count(target.strip())} "
                                  "columns have that name; expected a unique name (or give the column's index)")
            return self.columns.index(target.strip())
        if isinstance(target, bool) or not isinstance(target, int) or not -width <= target < width:
            raise ConfigError(f"{self.path}.target={target!r} is invalid: expected a column name or an index in "
                              f"[{-width}, {width - 1}] ({self._split_note()})")
        return target % width

    def _column(self, j: int) -> str:
        return f"column {self.columns[j]!r}" if self.columns else f"column index {j}"

    def _features(self, rows: list[tuple[int, list[str]]], target: int) -> np.ndarray:
        """Every cell but the target's, as float32; a cell that is not a finite number names its line."""
        keep = [j for j in range(len(rows[0][1])) if j != target]
        values = []
        for line, cells in rows:
            try:
                values.append([float(cells[j]) for j in keep])
            except ValueError:
                j = next(j for j in keep if not _is_number(cells[j]))
                raise self._feature_error(line, j, cells[j], rows[0][0]) from None
        x = np.array(values, dtype=np.float64)
        bad = ~(np.abs(x) <= _FLOAT32_MAX)  # NaN, inf and what float32 cannot hold
        if bad.any():
            i, k = (int(v) for v in np.argwhere(bad)[0])
            line, cells = rows[i]
            raise self._feature_error(line, keep[k], cells[keep[k]], rows[0][0])
        return x.astype(np.float32)

    def _feature_error(self, line: int, j: int, cell: str, first_line: int) -> DataError:
        hint = ""
        if any(d in cell for d in DELIMITERS if d != self.delimiter):
            hint = f"; {self._split_note()}"
        elif not self.header and line == first_line:
            hint = f"; set header = true if line {line} names the columns"
        return self.file_error(f"line {line}, {self._column(j)} holds {cell.strip()[:40]!r}; expected a finite "
                               f"number in every feature cell (|value| < 3.4e38){hint}")

    def _labels(self, rows: list[tuple[int, list[str]]], target: int) -> np.ndarray:
        """The target column: integers, whole numbers read as classes, other numbers, or text."""
        cells = [cells[target].strip() for _, cells in rows]
        empty = [line for (line, _), cell in zip(rows, cells) if not cell]
        if empty:
            name = self.section.get("target", self.columns[target] if self.columns else target)
            lines = ", ".join(map(str, empty[:5])) + (", ..." if len(empty) > 5 else "")
            raise self.error("target", name, f"{len(empty)} row(s) have an empty target cell (line {lines}); "
                             "expected a label or value in every row: fill them in or drop those rows")
        return _parse_labels(cells, self.task)


def _sniff(text: str) -> str:
    """The delimiter of ``text`` among ``DELIMITERS`` by :class:`csv.Sniffer`, or ``,``."""
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[:sample.rindex("\n")]  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_labels(labels: list[str], task: Any) -> np.ndarray:
    """int64 if every label is an integer; whole, few floats as int64 classes (unless ``task`` is
    regression); other numbers as float64; else the strings."""
    try:
        ints = [int(v) for v in labels]
        if all(-2**63 <= v < 2**63 for v in ints):
            return np.array(ints, dtype=np.int64)
    except ValueError:
        pass
    try:
        floats = np.array([float(v) for v in labels], dtype=np.float64)
    except ValueError:
        return np.array(labels)
    whole = np.isfinite(floats).all() and (np.abs(floats) < 2.0**53).all() and (floats == np.round(floats)).all()
    if (task == "classification" and whole) or (task != "regression" and looks_like_classes(floats)):
        return floats.astype(np.int64)
    return floats
