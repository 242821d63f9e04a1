"""Front records: one plain dict per Pareto-front member, its objective values under their
names, ``params`` and ``description`` -- the rows of a run's ``pareto.csv`` and what
``evokit.report.front.plot_fronts`` draws."""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

from evokit.runtime.run.directory import write_csv


def front_records(members: Iterable[Any], names: Sequence[str]) -> list[dict[str, Any]]:
    """One record per front member: its objective values (by name), ``params`` and ``description``.

    ``members`` are ``evokit.search.Candidate`` objects or anything with ``values`` (a dict by
    objective name), ``params`` and ``description``.
    """
    return [{**{name: float(m.values[name]) for name in names}, "params": getattr(m, "params", None),
             "description": getattr(m, "description", "")} for m in members]


def write_front_csv(path: str | os.PathLike, records: Sequence[dict[str, Any]]) -> Path:
    """Write front records as CSV (one row per member; columns in the records' key order)."""
    return write_csv(path, records)


def read_front_csv(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Front records from a ``pareto.csv`` (numbers as floats, ``params`` as int, the rest as text)."""
    records = []
    with Path(path).open(newline="") as f:
        for row in csv.DictReader(f):
            record: dict[str, Any] = {}
            for key, text in row.items():
                if key == "description" or text is None:
                    record[key] = text
                elif key == "params":
                    record[key] = int(float(text)) if text else None
                else:
                    try:
                        record[key] = float(text)
                    except ValueError:
                        record[key] = text
            records.append(record)
    return records
