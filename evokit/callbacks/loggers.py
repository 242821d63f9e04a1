"""``CSVLogger`` and ``JSONLinesLogger``: one row per generation (and optionally one per
candidate) in a file of the user's choosing, written as each generation ends.

Rows: ``generation``, ``evaluations`` (trained networks so far), ``evaluated`` (fitnesses set so
far, cache hits included), ``elapsed_s``, ``{objective}_best`` and ``{objective}_mean`` of each
objective (over the population's finite values), and with several objectives ``front_size`` (the
Pareto front kept so far) and ``hypervolume``. A candidate row has ``generation``, ``network``
(the network's hash), ``cached``, ``status`` and the fitness value of each objective.

A fresh search starts the file anew; a resumed one keeps the rows up to its checkpoint and drops
any written after it, so the file reads as if the run had not stopped. Each row is appended and
the file closed at once, so what was written survives a killed process.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Iterable

from evokit.callbacks.base import Callback, CandidateEvaluated, GenerationEnd, SearchBegin
from evokit.callbacks.paths import check_path, resolve
from evokit.errors import ConfigError


def generation_row(event: GenerationEnd) -> dict[str, Any]:
    """The logged figures of one generation (see the module docstring)."""
    row: dict[str, Any] = {"generation": event.generation}
    for group, figure, value in event.figures():
        row[figure if group is None else f"{group}_{figure}"] = round(value, 3) if figure == "elapsed_s" else value
    return row


def candidate_row(event: CandidateEvaluated) -> dict[str, Any]:
    """The logged figures of one evaluated candidate."""
    return {"generation": event.generation, "network": event.network, "cached": event.cached,
            "status": getattr(event.evaluation, "status", None), **dict(zip(event.objectives, event.values))}


def _rows_up_to(rows: Iterable[dict[str, Any]], generation: int) -> list[dict[str, Any]]:
    kept = []
    for row in rows:
        try:
            if int(row["generation"]) <= generation:
                kept.append(row)
        except (KeyError, TypeError, ValueError):
            continue  # a torn last line from a killed process
    return kept


class _FileLogger(Callback):
    """What both loggers share: paths resolved at the start, the file restarted or cut back."""

    def _open(self, event: SearchBegin, field: str, path: str | Path) -> Path:
        resolved = resolve(field, path, event.run_dir)
        if not event.resumed or not resolved.exists():
            resolved.write_text("")
        else:
            self._write_all(resolved, _rows_up_to(self._read_all(resolved), event.generation))
        return resolved

    def _read_all(self, path: Path) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _write_all(self, path: Path, rows: list[dict[str, Any]]) -> None:
        raise NotImplementedError


class CSVLogger(_FileLogger):
    """One CSV row per generation in ``path``; with ``candidates_path``, one CSV row per
    evaluated candidate there too. Relative paths are relative to the run directory."""

    def __init__(self, path: str | Path, candidates_path: str | Path | None = None) -> None:
        self.path = check_path("path", path)
        self.candidates_path = None if candidates_path is None else check_path("candidates_path", candidates_path)
        self._files: dict[str, Path] = {}

    def on_search_begin(self, event: SearchBegin) -> None:
        self._files = {"generations": self._open(event, "path", self.path)}
        if self.candidates_path is not None:
            self._files["candidates"] = self._open(event, "candidates_path", self.candidates_path)

    def on_candidate_evaluated(self, event: CandidateEvaluated) -> None:
        if "candidates" in self._files:
            self._append(self._files["candidates"], candidate_row(event))

    def on_generation_end(self, event: GenerationEnd) -> None:
        self._append(self._files["generations"], generation_row(event))

    @staticmethod
    def _append(path: Path, row: dict[str, Any]) -> None:
        new = path.stat().st_size == 0
        with path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row), extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)

    def _read_all(self, path: Path) -> list[dict[str, Any]]:
        with path.open(newline="") as f:
            return list(csv.DictReader(f))

    def _write_all(self, path: Path, rows: list[dict[str, Any]]) -> None:
        path.write_text("")
        for row in rows:
            self._append(path, row)


class JSONLinesLogger(_FileLogger):
    """One JSON object per line in ``path``: ``{"event": "generation", ...}`` per generation and,
    with ``candidates=True``, ``{"event": "candidate", ...}`` per evaluated candidate. Values
    that are not finite numbers are written as null. A relative path is relative to the run
    directory."""

    def __init__(self, path: str | Path, candidates: bool = False) -> None:
        self.path = check_path("path", path)
        if not isinstance(candidates, bool):
            raise ConfigError(f"candidates={candidates!r} is invalid: expected True or False")
        self.candidates = candidates
        self._file: Path | None = None

    def on_search_begin(self, event: SearchBegin) -> None:
        self._file = self._open(event, "path", self.path)

    def on_candidate_evaluated(self, event: CandidateEvaluated) -> None:
        if self.candidates:
            self._append({"event": "candidate", **candidate_row(event)})

    def on_generation_end(self, event: GenerationEnd) -> None:
        self._append({"event": "generation", **generation_row(event)})

    def _append(self, row: dict[str, Any]) -> None:
        assert self._file is not None, "on_search_begin opens the file"
        with self._file.open("a") as f:
            f.write(json.dumps({k: _json_value(v) for k, v in row.items()}) + "\n")

    def _read_all(self, path: Path) -> list[dict[str, Any]]:
        rows = []
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue  # a torn last line from a killed process
        return rows

    def _write_all(self, path: Path, rows: list[dict[str, Any]]) -> None:
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


__all__ = ["CSVLogger", "JSONLinesLogger"]
