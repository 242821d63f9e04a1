"""A job's progress, read from its run directory while ``evokit run`` writes it.

:class:`RunProgress` follows one run directory: each :meth:`RunProgress.poll` reads only what
was appended to ``candidates.jsonl`` since the last one (whole lines only: a line being written
waits for the next poll) and the rows ``generations.csv`` gained. It keeps the count of
evaluations, the generation, the best candidate so far and the ETA, and hands the new records
to whoever streams them. A resumed run may cut ``candidates.jsonl`` back to its checkpoint: the
reader then starts over, and the records keep their ``index`` (line number) so that a client
can skip what it has.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

from evokit import tasks
from evokit.runtime.run.directory import RunData, objectives_of, parse_number, read_generations, to_jsonable

CANDIDATE_KEYS = ("generation", "status", "reason", "fitness", "params", "flops", "network", "description",
                  "cached", "hash", "wall_time", "train_time")
"""What a streamed candidate keeps of its record (plus its metrics: ``val_*``, ``loss`` ...);
genotypes and NetSpecs stay in the run directory."""


class RunProgress:
    """Follows the files of the run directory ``path`` (which may not exist yet)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._offset = 0
        self.evaluations = 0
        self.trained = 0
        self.rows: list[dict[str, Any]] = []
        self._rows_size = -1
        self.best: dict[str, Any] | None = None
        self.config: dict[str, Any] = {}
        self.names: list[str] = []
        self.weights: list[float] = []

    def poll(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(candidate records, generation rows) new since the last poll."""
        if not self.config:
            self._read_config()
        return self._candidates(), self._generations()

    def _read_config(self) -> None:
        try:
            config = json.loads((self.path / "config.json").read_text())
        except (OSError, ValueError):
            return
        if isinstance(config, dict):
            self.config = config
            self.names, self.weights = objectives_of(RunData(self.path, config=config))

    def _candidates(self) -> list[dict[str, Any]]:
        file = self.path / "candidates.jsonl"
        try:
            size = file.stat().st_size
        except OSError:
            return []
        try:
            data = self._read_from_offset(file, size)
        except OSError:  # removed between the two calls (a deleted job)
            return []
        if not data:
            return []
        whole = data[:data.rfind(b"\n") + 1]
        self._offset += len(whole)
        out = []
        for line in whole.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                record = {"status": "unreadable"}
            out.append(self._remember(trim(record, self.evaluations)))
            self.evaluations += 1
            self.trained += record.get("cached") is False
        return out

    def _read_from_offset(self, file: Path, size: int) -> bytes:
        with file.open("rb") as f:
            if size < self._offset or not self._at_line_start(f):  # a resume cut the file back to its checkpoint
                self._offset, self.evaluations, self.trained, self.best = 0, 0, 0, None
            f.seek(self._offset)
            return f.read(size - self._offset)

    def _at_line_start(self, f: Any) -> bool:
        """Whether the byte before the offset still ends a line (a file cut and grown again past
        the offset between two polls has other bytes there)."""
        if self._offset == 0:
            return True
        f.seek(self._offset - 1)
        return f.read(1) == b"\n"

    def _remember(self, record: dict[str, Any]) -> dict[str, Any]:
        if record.get("status") == "ok" and self.names and better(record, self.best, self.names[0], self.weights[0]):
            self.best = record
        return record

    def _generations(self) -> list[dict[str, Any]]:
        try:
            size = (self.path / "generations.csv").stat().st_size
        except OSError:
            return []
        if size == self._rows_size:
            return []
        self._rows_size = size
        rows = [to_jsonable(row) for row in read_generations(self.path)[0]]  # an empty cell reads as NaN
        known = len(self.rows) if len(rows) >= len(self.rows) else 0
        self.rows = rows
        return rows[known:]

    # -- what the job's state shows ------------------------------------------------------------

    @property
    def generation(self) -> int | None:
        return int(self.rows[-1]["gen"]) if self.rows else None

    @property
    def headline(self) -> str:
        """The candidate metric to plot against size: the task's validation headline."""
        name = self.config.get("task") if isinstance(self.config.get("task"), str) else None
        return tasks.get(name if name in tasks.names() else "classification").headline.key("val_")

    def budget(self) -> dict[str, Any]:
        budget = self.config.get("budget")
        return budget if isinstance(budget, dict) else {}

    def eta(self, now: float | None = None, since_start: float | None = None) -> float | None:
        """Seconds the search still needs, from its pace so far and its budget (None: unknown);
        the final retraining of the best network is not counted. ``since_start``: when the job's
        current process started (time spent stopped or queued is not the search's)."""
        if not self.rows:
            return None
        last = self.rows[-1]
        elapsed = _number(last.get("elapsed_s"))
        if elapsed is None or elapsed <= 0:
            return None
        now = now or time.time()
        try:
            since = now - max((self.path / "generations.csv").stat().st_mtime, since_start or 0.0)
        except OSError:
            since = 0.0
        budget, left = self.budget(), []
        if isinstance(budget.get("generations"), int):
            rows = budget["generations"] + 1
            left.append(elapsed / len(self.rows) * max(rows - len(self.rows), 0))
        if isinstance(budget.get("evaluations"), int) and self.trained:  # the budget counts trained networks
            left.append(elapsed / self.trained * max(budget["evaluations"] - self.trained, 0))
        if isinstance(budget.get("seconds"), (int, float)):
            left.append(max(budget["seconds"] - elapsed, 0.0))
        return round(max(min(left) - since, 0.0), 1) if left else None

    def summary(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.path / "summary.json").read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


def trim(record: dict[str, Any], index: int) -> dict[str, Any]:
    """A candidate record as the event stream sends it: its ``index`` (line number), the
    :data:`CANDIDATE_KEYS` and its metrics, numbers as numbers (NaN as null)."""
    out: dict[str, Any] = {"index": index}
    for key, value in record.items():
        if key in CANDIDATE_KEYS or key.startswith(("val_", "test_")) or key in ("loss", "accuracy"):
            out[key] = to_jsonable(value)
    return out


def better(record: dict[str, Any], best: dict[str, Any] | None, name: str, weight: float) -> bool:
    value = _number((record.get("fitness") or {}).get(name))
    if value is None:
        return False
    if best is None:
        return True
    old = _number((best.get("fitness") or {}).get(name))
    return old is None or value * weight > old * weight


def _number(value: Any) -> float | None:
    value = parse_number(value) if isinstance(value, str) else value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
