"""The run directory: everything a search leaves behind, in plain files.

* ``config.json``: the search's configuration.
* ``candidates.jsonl``: one JSON line per evaluated candidate (genotype, network, metrics, time).
* ``generations.csv``: per-generation statistics.
* ``best.keras``: the best model (``keras.models.load_model`` opens it), ``best.txt`` its layers.
* ``fitness.png``: fitness over generations.
* ``masks.npz``: a per-pixel (segmentation) run's validation images with their true masks and
  the best model's predictions, for the report (``evokit.runtime.run.masks``).
* ``summary.json``: the outcome (best candidates, test scores, search cost).
* ``pareto.csv``, ``pareto.png``: the Pareto front of a multi-objective search.
* ``report.html``: the self-contained report (``evokit report DIR``).
* ``evokit.lock``: marks the directory as a run; locked (with the pid) while a run is active.
* ``checkpoint.pkl`` (and ``checkpoint.pkl.prev``, the one before), ``search.pkl``,
  ``cache.sqlite``: pickles to resume from (``evokit.runtime.run.checkpoint``).

:class:`RunDirectory` writes these files; :func:`read_run` reads them back (leniently, so that a
run that was killed or is still running can be read too), and :func:`read_candidates` and
:func:`read_generations` read one file each. ``pareto.csv`` is read by
``evokit.runtime.run.front.read_front_csv``.
"""
from __future__ import annotations

import csv
import json
import math
import os
import re
import reprlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from evokit import tasks
from evokit.errors import ConfigError
from evokit.params import Configurable
from evokit.runtime.run.checkpoint import load_checkpoint
from evokit.runtime.run.files import append_durably, fsync_directory, write_atomically
from evokit.runtime.run.lock import LOCK, RunLock


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


OWN_FILES = ("candidates.jsonl", "generations.csv", "summary.json", "checkpoint.pkl", "checkpoint.pkl.prev",
             "checkpoint.pkl.tmp", "pareto.csv", "pareto.png", "report.html", "best.keras", "best.txt", "fitness.png",
             "masks.npz", "best_discriminator.keras")
"""The files a new run replaces (with the cache unless it is kept, and never any other file)."""
OWN_FOLDERS = ("samples",)
"""Folders of a run's own (a GAN's sample grids) that a new run removes with its files."""
CONFIG_KEYS = ("encoding", "objectives", "algorithm")
"""Keys every evokit ``config.json`` has: with ``candidates.jsonl`` they mark a run written before ``evokit.lock``."""
MAY_CHANGE = ("budget", "evaluator", "progress", "final_training", "hall_of_fame")
"""What a resumed run may change; everything in its ``identity`` (see ``check_identity``) must match."""


def first_difference(here: Any, there: Any, where: str = "") -> tuple[str, str, str]:
    """Where two identity values first differ (``"[9]"``, ``"['pools']"``, ``""`` for the whole
    value) and each side there, shown short: a resumed run's refusal names the difference rather
    than printing two long values (a seed list, an encoding's description) that look alike."""
    if isinstance(here, list) and isinstance(there, list) and len(here) == len(there):
        for i, (a, b) in enumerate(zip(here, there)):
            if _comparable(a) != _comparable(b):
                return first_difference(a, b, f"{where}[{i}]")
    if isinstance(here, dict) and isinstance(there, dict) and here.keys() == there.keys():
        for key in here:
            if _comparable(here[key]) != _comparable(there[key]):
                return first_difference(here[key], there[key], f"{where}[{key!r}]")
    if isinstance(here, str) and isinstance(there, str):
        here, there = _comparable(here), _comparable(there)
        if max(len(here), len(there)) > 2 * _SHOWN:
            start = max(0, next((i for i, (a, b) in enumerate(zip(here, there)) if a != b),
                                min(len(here), len(there))) - _SHOWN // 2)
            return where, _window(here, start), _window(there, start)
    return where, _SHORT.repr(here), _SHORT.repr(there)


_SHOWN = 80  # characters of a long string shown around its first difference


def _window(text: str, start: int) -> str:
    end = start + _SHOWN
    return f"{'...' * (start > 0)}{text[start:end]!r}{'...' * (end < len(text))}"


def _short_repr() -> reprlib.Repr:
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict, short.maxlevel = 2 * _SHOWN, 2 * _SHOWN, 4, 6, 3
    return short


_SHORT = _short_repr()


class RunDirectory:
    """Writes a search's files into one directory (created if missing).

    A directory that holds something other than an evokit run is refused (nothing in it is ever
    overwritten); one that holds a run is refused for a new run unless ``overwrite`` (then only
    evokit's own files are replaced), and taken as it is with ``resume``. :meth:`open` also
    takes the directory's lock (:mod:`evokit.runtime.run.lock`) for the life of the run.
    """

    def __init__(self, path: str | os.PathLike, overwrite: bool = False, resume: bool = False):
        self.path = self.check_not_foreign(path) if resume else self.check(path, overwrite)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = RunLock(self.path)

    @classmethod
    def open(cls, path: str | os.PathLike, overwrite: bool = False, resume: bool = False) -> "RunDirectory":
        """The run directory at ``path``, locked for this run (ConfigError naming the holder's pid
        if another run has it); :meth:`close` releases it."""
        run_dir = cls(path, resume=True)  # refuses a directory that is not a run; the lock is tried next
        run_dir._lock.acquire()
        try:
            if not resume:  # under the lock: a run that has just finished here is seen
                cls.check(run_dir.path, overwrite)
        except BaseException:
            run_dir.close()
            raise
        return run_dir

    def close(self) -> None:
        """Release the directory's lock (the kernel does it if the process dies)."""
        self._lock.release()

    def start(self, keep_cache: bool = False) -> None:
        """Begin a run here from scratch: earlier results and checkpoint (and cache) are removed."""
        for name in OWN_FILES + (() if keep_cache else ("cache.sqlite", "cache.donors.sqlite")):
            (self.path / name).unlink(missing_ok=True)
        for name in OWN_FOLDERS:
            shutil.rmtree(self.path / name, ignore_errors=True)
        self.file("candidates.jsonl").touch()
        self.file(LOCK).touch()  # marks the directory as a run, locked or not
        fsync_directory(self.path)

    @staticmethod
    def is_run(path: str | os.PathLike) -> bool:
        """Whether ``path`` holds an evokit run: its ``evokit.lock``, or (runs written before it)
        a ``candidates.jsonl`` and no ``config.json`` other than evokit's."""
        path = Path(path)
        if (path / LOCK).is_file():
            return True
        if not (path / "candidates.jsonl").is_file():
            return False
        if not (path / "config.json").exists():
            return True  # killed before its config was written
        try:
            config = json.loads((path / "config.json").read_text())
        except (OSError, ValueError):
            return False
        return isinstance(config, dict) and all(k in config for k in CONFIG_KEYS)

    @classmethod
    def check_not_foreign(cls, path: str | os.PathLike) -> Path:
        """Raise ConfigError if ``path`` is a file, or a directory that holds something (other than
        dot files) and is not an evokit run."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise ConfigError(f"run_dir={str(path)!r} is invalid: it exists and is not a directory")
        if path.is_dir() and any(not p.name.startswith(".") for p in path.iterdir()) and not cls.is_run(path):
            raise ConfigError(f"run_dir={str(path)!r} is invalid: it is not empty and holds no evokit run (no "
                              f"{LOCK}, no candidates.jsonl with evokit's config.json); nothing in it is replaced, "
                              "even with overwrite=True: choose a new or empty directory")
        return path

    @classmethod
    def check(cls, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Raise ConfigError unless ``path`` can hold a new run."""
        path = cls.check_not_foreign(path)
        if ((path / "candidates.jsonl").exists() or (path / "checkpoint.pkl").exists()) and not overwrite:
            raise ConfigError(f"run_dir={str(path)!r} is invalid: it already holds a run; resume it "
                              "(search.run(resume=True), evokit resume DIR), choose a new directory or pass "
                              "overwrite=True")
        return path

    def begin(self, identity: dict[str, Any], resume: bool) -> dict[str, Any] | None:
        """Prepare the directory for a run with ``identity``: with ``resume``, check the recorded
        run is the same and return its checkpoint to continue from; else (or when it has none yet)
        start afresh and return None (a run resumed before its first checkpoint keeps its cache)."""
        payload = None
        if resume:
            self.check_identity(identity)
            payload = load_checkpoint(self.path)
        if payload is None:
            self.start(keep_cache=resume)
        return payload

    def check_identity(self, identity: dict[str, Any]) -> None:
        """Raise ConfigError naming the first field of ``identity`` (seed, data fingerprint,
        encoding, objectives, training ...) that differs from the run recorded in ``config.json``;
        a field the record lacks (a run written by older evokit) is not compared."""
        try:
            recorded = json.loads(self.file("config.json").read_text()).get("identity")
        except (OSError, ValueError, AttributeError):
            return
        if not isinstance(recorded, dict):
            return
        for name, value in to_jsonable(identity).items():
            if name in recorded and _comparable(recorded[name]) != _comparable(value):
                where, here, there = first_difference(value, recorded[name])
                raise ConfigError(f"{name}{where}={here} is invalid: the run in {str(self.path)!r} was made with "
                                  f"{name}{where}={there}; a resumed run must be the same run (only "
                                  f"{', '.join(MAY_CHANGE)} may change): resume with the same {name}, or start a "
                                  "new run (another run_dir, or overwrite=True)")

    def file(self, name: str) -> Path:
        return self.path / name

    def write_json(self, name: str, data: Any) -> Path:
        target = self.file(name)
        write_atomically(target, json.dumps(to_jsonable(data), indent=2).encode())
        return target

    def append_candidates(self, records: Iterable[dict[str, Any]]) -> None:
        """Append candidate records, on disk when this returns (before the checkpoint that counts them)."""
        append_durably(self.file("candidates.jsonl"), "".join(json.dumps(to_jsonable(r)) + "\n" for r in records))

    def cut_candidates(self, size: int) -> int | None:
        """Drop the records after the first ``size`` bytes of ``candidates.jsonl`` (those of a
        generation after the checkpoint). If the file is shorter than that (records that were not
        on disk when the machine stopped), it is never extended: it is cut after its last whole
        record instead, and the number of records it keeps is returned (None when not short)."""
        path = self.file("candidates.jsonl")
        path.touch()
        with path.open("r+b") as f:
            if os.fstat(f.fileno()).st_size >= size:
                f.truncate(size)
                return None
            data = f.read()
            whole = data[:data.rfind(b"\n") + 1]
            f.truncate(len(whole))
        return sum(1 for line in whole.split(b"\n") if line.strip())

    def write_generations(self, rows: list[dict[str, Any]]) -> Path:
        return write_csv(self.file("generations.csv"), [{k: to_jsonable(v) for k, v in row.items()} for row in rows])


def write_csv(path: str | os.PathLike, rows: Sequence[dict[str, Any]]) -> Path:
    """Write dict rows as CSV: one column per key, in the order the keys first appear."""
    target = Path(path)
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    with target.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return target


# --- reading --------------------------------------------------------------------------------

def parse_number(text: str | None) -> Any:
    """A CSV cell as a number: an int if written as one, else a float; NaN for an empty cell;
    text that is not a number stays text."""
    if text is None or text == "":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def read_jsonl(file: str | os.PathLike, strict: bool = True) -> tuple[list[Any], int]:
    """The JSON values of a file, one per non-blank line, and how many lines were skipped: with
    ``strict=False`` a line that is not JSON (a record cut short when a run was killed) is
    skipped instead of raising."""
    values, skipped = [], 0
    with Path(file).open() as f:
        for line in f:
            if not line.strip():
                continue
            try:
                values.append(json.loads(line))
            except ValueError:
                if strict:
                    raise
                skipped += 1
    return values, skipped


def read_candidates(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The candidate records of a run directory, in evaluation order."""
    return read_jsonl(Path(path) / "candidates.jsonl")[0]


def objective_columns(columns: Iterable[str]) -> list[str]:
    """The objective names of ``generations.csv`` columns: those with ``<name>_max``,
    ``<name>_avg`` and ``<name>_min``."""
    columns = list(columns)
    return [c[:-4] for c in columns if c.endswith("_max") and f"{c[:-4]}_avg" in columns
            and f"{c[:-4]}_min" in columns]


def read_generations(run_dir: str | os.PathLike) -> tuple[list[dict[str, Any]], list[str]]:
    """The per-generation rows of a run (``generations.csv``, numbers parsed with
    :func:`parse_number`) and its objective names (:func:`objective_columns`); raises
    ConfigError if the run has no ``generations.csv``."""
    path = Path(run_dir) / "generations.csv"
    if not path.is_file():
        raise ConfigError(f"run_dir={str(run_dir)!r} is invalid: it holds no run (no generations.csv)")
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        rows = [{k: parse_number(v) for k, v in row.items() if k} for row in reader]
        columns = list(reader.fieldnames or [])
    return rows, objective_columns(columns)


@dataclass
class RunData:
    """What a run directory holds, read leniently (missing or partial files are allowed).

    ``config`` and ``summary`` are ``config.json`` and ``summary.json`` (``summary`` is None
    while the run is unfinished); ``rows`` the rows of ``generations.csv``; ``records`` those of
    ``candidates.jsonl``; ``names`` and ``weights`` the objectives' names and DEAP weights;
    ``task`` the name of the data's task (see :func:`run_task`; None when the files do not say);
    ``notes`` what could not be read.
    """

    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    task: str | None = None

    @property
    def finished(self) -> bool:
        return self.summary is not None

    @property
    def stats(self) -> dict[str, Any]:
        return (self.summary or {}).get("stats") or {}


def read_run(run_dir: str | os.PathLike) -> RunData:
    """Read a run directory, finished or not; raises ConfigError if it is not one."""
    path = Path(run_dir)
    if not path.is_dir():
        raise ConfigError(f"run_dir={str(run_dir)!r} is invalid: expected an existing run directory")
    if not any((path / name).exists() for name in ("config.json", "candidates.jsonl", "summary.json")):
        raise ConfigError(f"run_dir={str(run_dir)!r} is invalid: it holds no run (no config.json, candidates.jsonl "
                          "or summary.json)")
    run = RunData(path)
    for name in ("config.json", "summary.json"):
        file = path / name
        if file.exists():
            try:
                data = json.loads(file.read_text())
            except (OSError, ValueError) as exc:
                run.notes.append(f"{name} could not be read ({exc}).")
                continue
            if name == "config.json":
                run.config = data if isinstance(data, dict) else {}
            else:
                run.summary = data if isinstance(data, dict) else None
    if (path / "generations.csv").exists():
        run.rows = read_generations(path)[0]
    if (path / "candidates.jsonl").exists():
        run.records, skipped = read_jsonl(path / "candidates.jsonl", strict=False)
        if skipped:
            run.notes.append(f"{skipped} line(s) of candidates.jsonl could not be read (cut short?) and were skipped.")
    run.names, run.weights = objectives_of(run)
    run.task = run_task(run.config, [*run.records, (run.summary or {}).get("test_scores") or {}])
    return run


def run_task(config: dict[str, Any], scored: Sequence[dict[str, Any]] = ()) -> str | None:
    """The name of a run's task (a registered one), read from what its files hold: ``config.json``'s
    ``task``, else the task in its Dataset repr (``Dataset('diabetes', regression, ...)``), else
    the first registered task whose headline metric (``val_r2``, ``test_accuracy`` ...) a record
    of ``scored`` (candidate records, test scores) holds; None when none says (a run whose data
    is named, e.g. ``"digits"``, that has trained nothing yet)."""
    names = tasks.names()
    recorded = config.get("task")
    if isinstance(recorded, str) and recorded in names:
        return recorded
    found = re.match(r"""Dataset\((?:'[^']*'|"[^"]*"), (\w+),""", str(config.get("data") or ""))
    if found and found.group(1) in names:
        return found.group(1)
    keys = {key for record in scored if isinstance(record, dict) for key in record}
    for name in names:
        headline = tasks.get(name).headline
        if headline.key("val_") in keys or headline.key("test_") in keys:
            return name
    return None


def objectives_of(run: RunData) -> tuple[list[str], list[float]]:
    """Objective names and DEAP weights, from config.json's reprs (``Name(name='x', weight=1.0)``),
    else from the columns of generations.csv or the first record's fitness (then maximised when a
    task's headline that is higher-is-better, like ``val_r2``, or an accuracy or score)."""
    names, weights = [], []
    for text in run.config.get("objectives") or []:
        found = re.search(r"name='([^']*)'.*?weight=([-+0-9.eE]+)", str(text))
        if found:
            names.append(found.group(1))
            weights.append(float(found.group(2)))
    if names:
        return names, weights
    if run.rows:
        names = objective_columns(run.rows[0])
    elif run.records:
        names = list(run.records[0].get("fitness") or {})
    higher = {tasks.get(t).headline.key("val_") for t in tasks.names() if tasks.get(t).headline.higher_is_better}
    return names, [1.0 if (n in higher or "accuracy" in n or "score" in n) else -1.0 for n in names]


def _comparable(value: Any) -> Any:
    """An identity field as compared on resume: reprs without keywords added later at their defaults."""
    if isinstance(value, str):
        return Configurable.without_added_defaults(value)
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value
