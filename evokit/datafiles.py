"""Datasets from a user's data files, as a config's ``[data]`` table names them (``path``).

* CSV: one sample per row; the target in column ``target`` (a name from the header, or an
  index; default the last column), ``header`` (default true) and ``delimiter`` (default ``,``).
* NPZ: arrays ``X`` and ``y``, and optionally ``X_test`` and ``y_test``.

Labels are integers if every label is one, else floats if every label is a number, else text.
Bad input raises :class:`evokit.errors.ConfigError` (a key) or :class:`evokit.errors.DataError`
(the file's content), naming the key path (``data.target=...``).
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from evokit import datasets
from evokit.errors import ConfigError, DataError

SUFFIXES = (".csv", ".npz")
"""The data files a config may name."""

FILE_ONLY_KEYS = ("target", "header", "delimiter", "task")
"""``[data]`` keys that apply to a data file only (not to an embedded dataset)."""


def read_data_file(path: str, section: Mapping[str, Any], base_dir: str | Path | None, options: dict[str, Any]) -> Any:
    """A Dataset from a CSV (one sample per row, the target in column ``target``) or an NPZ file
    (arrays ``X`` and ``y``, and optionally ``X_test`` and ``y_test``).

    ``path`` is the key path of the table in the config (``"data"``), for messages; ``section``
    the table (``path``, and ``target``, ``header``, ``delimiter``, ``task``); a relative file is
    looked up in ``base_dir``; ``options`` go to ``evokit.datasets.from_arrays`` (``seed``,
    ``val_size``, ``test_size``, ``scale``).
    """
    file = section["path"]
    if not isinstance(file, str) or not file:
        raise ConfigError(f"{path}.path={file!r} is invalid: expected the path of a CSV or NPZ file")
    full = Path(file) if base_dir is None or Path(file).is_absolute() else Path(base_dir) / file
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
        with np.load(full, allow_pickle=False) as arrays:
            found = {k: arrays[k] for k in arrays.files}
        if "X" not in found or "y" not in found:
            raise DataError(f"{path}.path={file!r} is invalid: expected arrays named X and y (and optionally X_test, "
                            f"y_test); found {', '.join(sorted(found)) or 'none'}")
        return datasets.from_arrays(found["X"], found["y"], X_test=found.get("X_test"), y_test=found.get("y_test"),
                                    **kwargs)
    x, y = _read_csv(path, full, section)
    return datasets.from_arrays(x, y, **kwargs)


def _read_csv(path: str, file: Path, section: Mapping[str, Any]) -> tuple[Any, Any]:
    header = section.get("header", True)
    delimiter = section.get("delimiter", ",")
    if not isinstance(header, bool):
        raise ConfigError(f"{path}.header={header!r} is invalid: expected true or false")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ConfigError(f"{path}.delimiter={delimiter!r} is invalid: expected one character")
    with file.open(newline="") as f:
        rows = [row for row in csv.reader(f, delimiter=delimiter) if row]
    columns = rows.pop(0) if header and rows else []
    if not rows:
        raise DataError(f"{path}.path={str(section['path'])!r} is invalid: the file has no data rows")
    width = len(rows[0])
    target = section.get("target", width - 1)
    if isinstance(target, str):
        if target not in columns:
            raise ConfigError(f"{path}.target={target!r} is invalid: expected one of the columns "
                              f"{', '.join(map(repr, columns)) or '(the file has no header)'}")
        target = columns.index(target)
    elif isinstance(target, bool) or not isinstance(target, int) or not -width <= target < width:
        raise ConfigError(f"{path}.target={target!r} is invalid: expected a column name or an index in "
                          f"[{-width}, {width - 1}]")
    target %= width
    for i, row in enumerate(rows):
        if len(row) != width:
            raise DataError(f"{path}.path={str(section['path'])!r} is invalid: row {i + 1 + header} has {len(row)} "
                            f"fields, expected {width}")
    try:
        x = np.array([[float(v) for j, v in enumerate(row) if j != target] for row in rows], dtype=np.float32)
    except ValueError as exc:
        raise DataError(f"{path}.path={str(section['path'])!r} is invalid: a feature is not a number ({exc})") from exc
    labels = [row[target].strip() for row in rows]
    return x, np.array(_parse_labels(labels))


def _parse_labels(labels: list[str]) -> list[Any]:
    """Integers if every label is one, else floats if every label is a number, else the strings."""
    for kind in (int, float):
        try:
            return [kind(v) for v in labels]
        except ValueError:
            continue
    return labels
