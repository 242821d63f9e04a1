"""The generated samples of a GAN run: which of its per-generation grids the report shows, and how
each is labelled.

Read from the run's ``samples/`` folder (written by :mod:`evokit.runtime.run.samples`: one
``gen_NNNN.png`` per generation with its entry in ``index.json``, and ``best.png``, the final
model's grid), never from a model: the report reads only the run's files. A run without that
folder (any other task) shows nothing.

Choices, and why:

* At most :data:`SHOWN` generations, evenly spaced and always the first and the last: enough to
  see the samples change, few enough to compare at a glance.
* Each labelled with its generation and the best candidate's first objective, named by the
  headline's short name of the task it belongs to (``gen 3 · FD 12.4`` for ``val_frechet``);
  a grid whose samples equal those of the one shown before it (the best generator did not
  change) says so.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evokit import tasks
from evokit.runtime.run.samples import BEST, SAMPLES_DIR, read_index

__all__ = ["SHOWN", "SampleGrid", "spread", "metric_label", "caption", "shown_grids", "best_grid"]

SHOWN = 8
"""The most per-generation grids the report shows."""


@dataclass
class SampleGrid:
    """One grid the report shows: its PNG file, its caption and whether its samples are the same
    as those of the grid shown before it."""

    path: Path
    caption: str
    unchanged: bool = False


def spread(items: list[Any], n: int = SHOWN) -> list[Any]:
    """At most ``n`` of ``items``, evenly spaced, the first and the last always among them."""
    if len(items) <= n:
        return list(items)
    if n <= 1:
        return list(items[-1:])
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)]


def metric_label(objective: str | None) -> str:
    """How a caption names ``objective``: the short name of the task headline it is the
    validation value of (``val_frechet`` -> ``FD``), else the name with spaces."""
    if not objective:
        return "best"
    for name in tasks.names():
        try:
            lead = tasks.get(name).headline
        except Exception:  # noqa: BLE001 - a task that cannot be made here names nothing
            continue
        if lead.key("val_") == objective:
            return lead.abbreviation
    return objective.replace("_", " ")


def caption(entry: dict[str, Any]) -> str:
    """``gen 3 · FD 12.4`` (the generation alone when the entry has no finite value)."""
    value = entry.get("value")
    text = f"gen {entry['generation']}"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        text += f" · {metric_label(entry.get('objective'))} {value:.4g}"
    return text


def shown_grids(run_dir: str | os.PathLike, n: int = SHOWN) -> list[SampleGrid]:
    """The per-generation grids of a run the report shows (:func:`spread`), oldest first; ``[]``
    for a run without any."""
    folder = Path(run_dir) / SAMPLES_DIR
    shown, previous = [], None
    for entry in spread(read_index(run_dir), n):
        fingerprint = entry.get("digest")
        shown.append(SampleGrid(folder / entry["file"], caption(entry),
                                unchanged=fingerprint is not None and fingerprint == previous))
        previous = fingerprint
    return shown


def best_grid(run_dir: str | os.PathLike) -> Path | None:
    """The final model's grid (``samples/best.png``), None when the run has none."""
    path = Path(run_dir) / SAMPLES_DIR / BEST
    return path if path.is_file() else None
