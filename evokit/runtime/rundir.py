"""The run directory: everything a search leaves behind, in plain files.

* ``config.json``: the search's configuration.
* ``candidates.jsonl``: one JSON line per evaluated candidate (genotype, network, metrics, time).
* ``generations.csv``: per-generation statistics.
* ``best.keras``: the best model (``keras.models.load_model`` opens it), ``best.txt`` its layers.
* ``fitness.png``: fitness over generations.
* ``summary.json``: the outcome (best candidates, test scores, search cost).
* ``pareto.csv``, ``pareto.png``: the Pareto front of a multi-objective search.
* ``report.html``: the self-contained report (``evokit report DIR``).
"""
from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from evokit.errors import ConfigError


def to_jsonable(value: Any) -> Any:
    """Plain-JSON form of metrics and configs (tuples to lists, NaN/inf to None, NumPy to Python)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return repr(value)


class RunDirectory:
    """Writes a search's files into one directory (created if missing)."""

    def __init__(self, path: str | os.PathLike, overwrite: bool = False, resume: bool = False):
        self.path = Path(path) if resume else self.check(path, overwrite)
        self.path.mkdir(parents=True, exist_ok=True)

    def start(self, keep_cache: bool = False) -> None:
        """Begin a run here from scratch: earlier results and checkpoint (and cache) are removed."""
        names = ["candidates.jsonl", "generations.csv", "summary.json", "checkpoint.pkl", "pareto.csv", "pareto.png",
                 "report.html", "best.keras", "best.txt", "fitness.png"]
        for name in names + ([] if keep_cache else ["cache.sqlite"]):
            (self.path / name).unlink(missing_ok=True)
        self.file("candidates.jsonl").touch()

    @staticmethod
    def check(path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Raise ConfigError unless ``path`` can hold a new run."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise ConfigError(f"run_dir={str(path)!r} is invalid: it exists and is not a directory")
        if (path / "candidates.jsonl").exists() and not overwrite:
            raise ConfigError(f"run_dir={str(path)!r} is invalid: it already holds a run; resume it "
                              "(search.run(resume=True), evokit resume DIR), choose a new directory or pass "
                              "overwrite=True")
        return path

    def file(self, name: str) -> Path:
        return self.path / name

    def write_json(self, name: str, data: Any) -> Path:
        target = self.file(name)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(to_jsonable(data), indent=2))
        tmp.replace(target)
        return target

    def append_candidates(self, records: Iterable[dict[str, Any]]) -> None:
        with self.file("candidates.jsonl").open("a") as f:
            for record in records:
                f.write(json.dumps(to_jsonable(record)) + "\n")

    def write_generations(self, rows: list[dict[str, Any]]) -> Path:
        target = self.file("generations.csv")
        columns: list[str] = []
        for row in rows:
            columns += [k for k in row if k not in columns]
        with target.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows({k: to_jsonable(v) for k, v in row.items()} for row in rows)
        return target


def read_candidates(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The candidate records of a run directory, in evaluation order."""
    with (Path(path) / "candidates.jsonl").open() as f:
        return [json.loads(line) for line in f if line.strip()]
