"""``evokit.comparison``: several searches x several seeds on the same data and budget, side by side.

Each search is copied (the caller's objects are never changed), given the seed, the shared data
and budget and its own run directory, and run; a run that raises is recorded as failed and the
comparison goes on. The :class:`Comparison` it returns aggregates the runs of each search as
mean ± sd over seeds (best validation accuracy, test accuracy, parameters of the best network,
CO2 of the search, networks trained, wall time) and plots convergence curves and the
accuracy-vs-parameters Pareto fronts of all searches in one figure. Accuracy is classification's
headline: on data of another task the comparison shows that task's instead (R² for regression:
``val_r2``, ``test_r2``; a lower-is-better headline counts lower as better)::

    cmp = ek.compare({"DeepGA": ek.presets.deepga(), "NEAT": ek.presets.neat()},
                     data="digits", budget=ek.Budget(evaluations=60), seeds=[0, 1, 2], run_dir="runs/cmp")
    print(cmp.table())

With ``run_dir`` the comparison writes ``comparison.csv``, ``comparison.md``, ``convergence.png``
and ``fronts.png`` there, and each run's own files under ``<run_dir>/<search>/seed<k>/``.
This module runs the searches and computes every number (the aggregated rows, the per-step
mean ± sd of the convergence curves, the Pareto fronts); ``evokit.report.compare`` only lays out
what it is handed. Imports point one way: this module calls the report, never the reverse.
:func:`compare` and :class:`Comparison` are also ``evokit.compare`` and ``evokit.Comparison``.
"""
from __future__ import annotations

import copy
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from evokit import tasks
from evokit.algorithms.budget import Budget
from evokit.deap_toolbox import check_data
from evokit.errors import ConfigError
from evokit.pareto import nondominated
from evokit.runtime.executors import Evaluator, make_evaluator
from evokit.runtime.run.directory import read_candidates, run_task, write_csv
from evokit.search import Result, Search
from evokit.tasks import Metric

UNTRAINED_FAILURES = ("infeasible", "decode_error")
"""Failure reasons of candidates that were never trained (not an evaluation)."""


@dataclass
class RunSummary:
    """One run of one search with one seed: its summary numbers (not the models).

    ``status`` is ``"ok"`` or ``"failed"`` (``error`` says why); ``curve`` is the best validation
    accuracy so far after each network trained; ``points`` the (validation accuracy, parameters)
    of every network trained, for the Pareto fronts. ``headline`` is the metric of the run's task
    that curve and points follow (accuracy; R² for regression) and ``scores`` its validation and
    test values (``val_r2``, ``test_r2``); ``val_accuracy`` and ``test_accuracy`` are None on data
    without accuracy.
    """

    name: str
    seed: int
    status: str
    error: str = ""
    val_accuracy: float | None = None
    test_accuracy: float | None = None
    params: int | None = None
    co2_g: float | None = None
    co2_source: str | None = None
    evaluations: int | None = None
    wall_time_s: float = 0.0
    stopped_by: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    run_dir: Path | None = None
    curve: list[float] = field(default_factory=list, repr=False)
    points: list[tuple[float, int]] = field(default_factory=list, repr=False)
    headline: Metric = field(default_factory=lambda: ACCURACY)
    scores: dict[str, float | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def value(self, metric: str) -> Any:
        """The run's ``metric``: a headline score (``val_r2``) from ``scores``, else the field of that name."""
        return self.scores[metric] if metric in self.scores else getattr(self, metric, None)


def mean_sd(values: Iterable[float | None]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation of the known values (sd None for fewer than two)."""
    known = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not known:
        return None, None
    return statistics.fmean(known), (statistics.stdev(known) if len(known) > 1 else None)


def mean_sd_per_step(curves: Sequence[Sequence[float]]) -> dict[str, Any]:
    """:func:`mean_sd` of several curves at each step, up to the length of the shortest:
    ``{"runs": len(curves), "mean": [...], "sd": [...]}`` (empty lists for no curve)."""
    steps = min((len(c) for c in curves), default=0)
    stats = [mean_sd(c[i] for c in curves) for i in range(steps)]
    return {"runs": len(curves), "mean": [m for m, _ in stats], "sd": [sd for _, sd in stats]}


ACCURACY = tasks.Classification().headline
"""The headline a comparison shows when its runs do not say another (classification's accuracy)."""


def metrics(headline: Metric = ACCURACY) -> tuple[str, ...]:
    """What a comparison aggregates: the validation and test ``headline`` (``val_accuracy``,
    ``test_accuracy``; ``val_r2``, ``test_r2`` for regression), parameters, CO2, evaluations, time."""
    return (headline.key("val_"), headline.key("test_"), "params", "co2_g", "evaluations", "wall_time_s")


METRICS = metrics()
"""The metrics of a comparison on classification data (:func:`metrics` of accuracy)."""


class Comparison:
    """The runs of a comparison and their aggregates: table, CSV, Markdown, convergence and fronts.

    Attributes:
        names: the searches, in the order given.
        seeds: the seeds each search ran with.
        runs: one :class:`RunSummary` per search and seed, in the order they ran (seed by seed).
        budget, data: what every run shared (None: each search's own).
        run_dir: where the comparison's files are written (None: nowhere).
        interrupted: Ctrl-C stopped the comparison before every run was made.
    """

    def __init__(self, names: Sequence[str], seeds: Sequence[int], runs: list[RunSummary], budget: Budget | None = None,
                 data: Any = None, run_dir: Path | None = None, interrupted: bool = False):
        self.names = list(names)
        self.seeds = list(seeds)
        self.runs = runs
        self.budget = budget
        self.data = data
        self.run_dir = run_dir
        self.interrupted = interrupted

    @property
    def headline(self) -> Metric:
        """The metric the comparison leads with: the headline of its runs' task (the first
        successful run's), accuracy when none succeeded."""
        return next((r.headline for r in self.runs if r.ok), ACCURACY)

    def runs_of(self, name: str) -> list[RunSummary]:
        return [r for r in self.runs if r.name == name]

    def rows(self) -> list[dict[str, Any]]:
        """One aggregated row per search: ``<metric>_mean`` and ``<metric>_sd`` (sd over seeds, None
        for one run) of the successful runs, how many ran and failed, and the errors."""
        rows = []
        for name in self.names:
            runs = self.runs_of(name)
            ok = [r for r in runs if r.ok]
            row: dict[str, Any] = {"search": name, "runs": len(ok), "failed": len(runs) - len(ok)}
            for metric in metrics(self.headline):
                row[f"{metric}_mean"], row[f"{metric}_sd"] = mean_sd(r.value(metric) for r in ok)
            sources = sorted({r.co2_source for r in ok if r.co2_source})
            row["co2_source"] = "+".join(sources) or None
            row["stopped_by"] = "+".join(sorted({r.stopped_by for r in ok if r.stopped_by})) or None
            row["error"] = _errors([r for r in runs if not r.ok])
            rows.append(row)
        return rows

    def table(self) -> str:
        """The aggregated rows as a Markdown table (mean ± sd over seeds)."""
        from evokit.report.compare import table

        return table(self.rows(), self.headline.name, self.headline.abbreviation)

    def to_csv(self, path: str | Path) -> Path:
        """Write the aggregated rows (one per search, full precision, full error messages) as CSV."""
        return write_csv(path, [{k: "" if v is None else v for k, v in row.items()} for row in self.rows()])

    def to_markdown(self, path: str | Path) -> Path:
        """Write the table, with what the runs shared (seeds, budget, data), as a Markdown file."""
        from evokit.report.compare import markdown

        path = Path(path)
        lead = self.headline
        path.write_text(markdown(self.names, self.seeds, self.rows(), self.budget, self.data, self.interrupted,
                                 lead.name, lead.abbreviation, lead.title))
        return path

    def curves(self) -> dict[str, list[list[float]]]:
        """Per search, the best-validation-accuracy-so-far curve of each successful run."""
        return {name: [r.curve for r in self.runs_of(name) if r.ok and r.curve] for name in self.names}

    def convergence(self) -> dict[str, dict[str, Any]]:
        """Per search, its :meth:`curves` aggregated over seeds, step by step up to the length of its
        shortest run: ``{"runs": how many curves, "mean": [...], "sd": [...]}``, one mean and one
        sd per network trained (None where unknown: no run had a validation accuracy yet, or fewer
        than two for the sd)."""
        return {name: mean_sd_per_step(curves) for name, curves in self.curves().items()}

    def fronts(self) -> dict[str, list[tuple[float, int]]]:
        """Per search, the non-dominated (validation accuracy up, parameters down) networks among
        every network its runs trained (all seeds pooled), sorted by parameters; another task's
        headline in its own direction."""
        up = self.headline.higher_is_better
        return {name: pareto_front([p for r in self.runs_of(name) if r.ok for p in r.points], up)
                for name in self.names}

    def plot_convergence(self, path: str | Path | None = None) -> Any:
        """Best validation accuracy so far vs networks trained: one line per search, the mean over
        seeds with a ± sd band, up to the length of its shortest run. Returns the figure."""
        from evokit.report.compare import plot_convergence

        return plot_convergence(self.convergence(), path, self.headline.title)

    def plot_fronts(self, path: str | Path | None = None) -> Any:
        """The accuracy-vs-parameters Pareto front of every search (all seeds pooled), overlaid in
        one plot (``evokit.report.front.plot_fronts``). Returns the figure."""
        from evokit.report.compare import plot_fronts

        return plot_fronts(self.fronts(), path, self.headline.name, self.headline.title)

    def write(self, run_dir: str | Path) -> dict[str, Path]:
        """Write ``comparison.csv``, ``comparison.md``, ``convergence.png`` and ``fronts.png``."""
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        files = {"csv": self.to_csv(run_dir / "comparison.csv"), "md": self.to_markdown(run_dir / "comparison.md"),
                 "convergence": run_dir / "convergence.png", "fronts": run_dir / "fronts.png"}
        self.plot_convergence(files["convergence"])
        self.plot_fronts(files["fronts"])
        return files

    def __repr__(self) -> str:
        failed = sum(not r.ok for r in self.runs)
        return (f"Comparison(searches={self.names}, seeds={self.seeds}, runs={len(self.runs)}, failed={failed}, "
                f"run_dir={None if self.run_dir is None else str(self.run_dir)!r})")


def compare(searches: Mapping[str, Search], data: Any = None, budget: Budget | None = None,
            seeds: Iterable[int] = (0,), run_dir: str | Path | None = None, progress: bool = True,
            workers: int | Evaluator | None = None) -> Comparison:
    """Run every search with every seed on the same data and budget and compare them.

    Args:
        searches: name -> Search (e.g. ``{"DeepGA": ek.presets.deepga(), "NEAT": ek.presets.neat()}``).
            Each is copied per run; the given objects are not changed.
        data: a Dataset or an embedded dataset's name given to every run (None: each search's own).
        budget: the Budget of every run (None: each search's own).
        seeds: the seeds; every search runs once per seed.
        run_dir: where to write the comparison (each run under ``<run_dir>/<search>/seed<k>``,
            replacing an earlier run there). None keeps only the summaries in memory.
        progress: show a progress bar over the runs (the runs themselves run quietly).
        workers: train every run's candidates with this (worker processes or an Evaluator)
            instead of each search's own setting.

    Runs go seed by seed (every search with the first seed, then with the second, ...). A run that
    raises is recorded as failed (its error kept) and the others go on. Ctrl-C ends the current
    run after its generation (a second Ctrl-C at once) and stops the comparison: the runs made
    are summarised and written as usual, with ``interrupted`` set.
    """
    names, seeds = _check(searches, data, budget, seeds, run_dir, progress, workers)
    dirs = dict(zip(names, _dir_names(names)))
    root = None if run_dir is None else Path(run_dir)
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
    shared = _Shared(data, budget, workers)
    with _Progress(len(names) * len(seeds), progress) as bar, \
            tempfile.TemporaryDirectory(prefix="evokit-compare-") as scratch:
        base = root if root is not None else Path(scratch)
        runs, interrupted = _run_all(searches, dirs, seeds, shared, base, bar)
    if root is None:  # the runs' files went to a scratch directory that is gone now
        for run in runs:
            run.run_dir = None
    comparison = Comparison(names, seeds, runs, budget, data, root, interrupted)
    if root is not None:
        comparison.write(root)
    return comparison


@dataclass(frozen=True)
class _Shared:
    """What every run of a comparison shares (None: each search's own)."""

    data: Any
    budget: Budget | None
    workers: int | Evaluator | None

    def configure(self, search: Search, seed: int, run_dir: Path) -> Search:
        """A copy of ``search`` set up for one run: the seed, what is shared, its own run directory
        (replacing an earlier run there), quiet."""
        run = _copy(search)
        run.seed = seed
        if self.data is not None:
            run.data = self.data
        if self.budget is not None:
            run.budget = self.budget
        if self.workers is not None:
            run.evaluator = make_evaluator(self.workers)
        run.run_dir, run.overwrite, run.progress = run_dir, True, False
        return run


class _Progress:
    """The progress bar over a comparison's runs, with one line per finished run (nothing when
    ``show`` is False)."""

    def __init__(self, total: int, show: bool):
        self.bar = None
        if show:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="evokit compare", unit="run", leave=True)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def starting(self, name: str, seed: int) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"{name} seed {seed}")

    def finished(self, run: RunSummary) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.write(_line(run), file=sys.stderr)


def _run_all(searches: Mapping[str, Search], dirs: Mapping[str, str], seeds: Sequence[int], shared: _Shared,
             base: Path, bar: _Progress) -> tuple[list[RunSummary], bool]:
    """Run every search (in the order of ``dirs``) with every seed under ``base``, seed-major: every
    search has run with the first seed before any runs with the second. Returns the runs made and
    whether Ctrl-C stopped the comparison early."""
    runs: list[RunSummary] = []
    for seed, name in ((seed, name) for seed in seeds for name in dirs):
        bar.starting(name, seed)
        try:
            run = _run_one(searches[name], name, seed, shared, base / dirs[name] / f"seed{seed}")
        except KeyboardInterrupt:  # a second Ctrl-C: stop now, keep the runs made
            return runs, True
        runs.append(run)
        bar.finished(run)
        if run.stopped_by == "interrupted":  # Ctrl-C: this run stopped after its generation
            return runs, True
    return runs, False


def _run_one(search: Search, name: str, seed: int, shared: _Shared, run_dir: Path) -> RunSummary:
    """Run a copy of ``search`` configured for this run, and summarise it (never raises except on
    KeyboardInterrupt)."""
    start = time.perf_counter()
    try:
        result = shared.configure(search, seed, run_dir).run()
    except Exception as exc:  # noqa: BLE001 - one failing run is reported, the comparison goes on
        return RunSummary(name, seed, "failed", error=f"{type(exc).__name__}: {exc}",
                          wall_time_s=round(time.perf_counter() - start, 2),
                          run_dir=run_dir if run_dir.exists() else None)
    return _summary(name, seed, result, time.perf_counter() - start, run_dir)


def _copy(search: Search) -> Search:
    """A deep copy of ``search`` that shares its data (read-only arrays, possibly large) and its
    evaluator (a resource, e.g. a Dask client, that may not copy; it is started per run)."""
    memo = {id(search.data): search.data, id(search.evaluator): search.evaluator}
    return copy.deepcopy(search, memo)


def _summary(name: str, seed: int, result: Result, seconds: float, run_dir: Path) -> RunSummary:
    cost = result.stats.get("search_cost", {})
    if "co2_kg_measured" in cost:
        co2, source = cost["co2_kg_measured"], "measured"
    elif "co2_kg_estimated" in cost:
        co2, source = cost["co2_kg_estimated"], "estimated"
    else:
        co2, source = None, None
    records = read_candidates(run_dir)
    headline = _headline(run_dir, records, result)
    key, up = headline.key("val_"), headline.higher_is_better
    trained = [r for r in records if not r.get("cached") and r.get("status") != "untrained"
               and r.get("reason") not in UNTRAINED_FAILURES]
    curve: list[float] = []  # NaN until the first network with a validation accuracy (or other headline)
    best = math.nan
    for r in trained:
        value = r.get(key) if r.get("status") == "ok" else None
        if isinstance(value, (int, float)) and (math.isnan(best) or (value > best if up else value < best)):
            best = float(value)
        curve.append(best)
    if all(math.isnan(v) for v in curve):
        curve = []
    points = [(float(r[key]), int(r["params"])) for r in trained
              if r.get("status") == "ok" and isinstance(r.get(key), (int, float)) and r.get("params")]
    val = result.best.evaluation.metrics.get(key)
    scores = {key: None if val is None else float(val), headline.key("test_"): result.test_scores.get(
        headline.key("test_"))}
    return RunSummary(name, seed, "ok", val_accuracy=scores.get("val_accuracy"),
                      test_accuracy=scores.get("test_accuracy"), params=result.best.params,
                      co2_g=None if co2 is None else 1000.0 * co2, co2_source=source,
                      evaluations=result.stats.get("trained"), wall_time_s=round(seconds, 2),
                      stopped_by=result.stats.get("stopped_by"), stats=result.stats, run_dir=run_dir,
                      curve=curve, points=points, headline=headline, scores=scores)


def _headline(run_dir: Path, records: list[dict[str, Any]], result: Result) -> Metric:
    """The headline metric of a run's task: the task recorded in its ``config.json`` (or known
    from its metrics, :func:`evokit.runtime.run.directory.run_task`), else accuracy."""
    try:
        config = json.loads((run_dir / "config.json").read_text())
    except (OSError, ValueError):
        config = {}
    task = run_task(config if isinstance(config, dict) else {}, [*records, result.test_scores])
    return tasks.get(task).headline if task else ACCURACY


def pareto_front(points: Iterable[tuple[float, int]], higher_is_better: bool = True) -> list[tuple[float, int]]:
    """The non-dominated ``(accuracy, params)`` points (accuracy maximised, parameters minimised;
    ``evokit.pareto.nondominated``), sorted by parameters (and so by accuracy); duplicates
    are kept once. ``higher_is_better=False`` minimises the first value instead (a loss, an error)."""
    sign = 1.0 if higher_is_better else -1.0
    unique = sorted(set(points), key=lambda p: (p[1], -sign * p[0]))
    return [unique[i] for i in nondominated(unique, (sign, -1.0))]


def _check(searches: Any, data: Any, budget: Any, seeds: Any, run_dir: Any, progress: Any,
           workers: Any) -> tuple[list[str], list[int]]:
    if not isinstance(searches, Mapping) or not searches:
        raise ConfigError(f"searches={searches!r} is invalid: expected a non-empty dict of name -> evokit Search")
    for name, search in searches.items():
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"searches key {name!r} is invalid: expected a non-empty name (str)")
        if not isinstance(search, Search):
            raise ConfigError(f"searches[{name!r}]={search!r} is invalid: expected an evokit Search "
                              "(e.g. evokit.presets.deepga())")
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise ConfigError(f"seeds={seeds!r} is invalid: expected a non-empty list of distinct integers >= 0")
    seeds = list(seeds)
    if (not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds)
            or len(set(seeds)) != len(seeds)):
        raise ConfigError(f"seeds={seeds!r} is invalid: expected a non-empty list of distinct integers >= 0")
    if data is not None:
        check_data(data)
    if budget is not None and not isinstance(budget, Budget):
        raise ConfigError(f"budget={budget!r} is invalid: expected an evokit Budget or None")
    if run_dir is not None:
        if not isinstance(run_dir, (str, os.PathLike)):
            raise ConfigError(f"run_dir={run_dir!r} is invalid: expected a path (str or pathlib.Path) or None")
        if Path(run_dir).exists() and not Path(run_dir).is_dir():
            raise ConfigError(f"run_dir={str(run_dir)!r} is invalid: it exists and is not a directory")
    if not isinstance(progress, bool):
        raise ConfigError(f"progress={progress!r} is invalid: expected True or False")
    if workers is not None:
        make_evaluator(workers)  # raises ConfigError naming workers
    return list(searches), seeds


def _dir_names(names: Sequence[str]) -> list[str]:
    """A safe, distinct directory name per search name."""
    dirs = [re.sub(r"[^A-Za-z0-9._-]+", "_", n).strip("._") or "search" for n in names]
    if len({d.lower() for d in dirs}) != len(dirs):
        raise ConfigError(f"searches={list(names)} is invalid: the names must stay distinct as directory names "
                          f"({dirs})")
    return dirs


def _line(run: RunSummary) -> str:
    """The progress line of a finished run."""
    if not run.ok:
        from evokit.report.compare import shorten

        return f"{run.name} seed {run.seed}: FAILED ({shorten(run.error)})"
    lead = run.headline
    scores = [f"{label} {v:.3f}" for label, v in ((f"val {lead.abbreviation}", run.value(lead.key("val_"))),
                                                  (f"test {lead.abbreviation}", run.value(lead.key("test_"))))
              if v is not None]
    return (f"{run.name} seed {run.seed}: {', '.join(scores + [f'{run.params or 0:,} params'])}, "
            f"{run.evaluations} trained, {run.wall_time_s:.0f} s")


def _errors(failed: Sequence[RunSummary]) -> str:
    """The failed runs' errors, each message once with the seeds it happened with."""
    seeds: dict[str, list[str]] = {}
    for run in failed:
        seeds.setdefault(run.error, []).append(str(run.seed))
    return "; ".join(f"seed{'s' * (len(s) > 1)} {', '.join(s)}: {error}" for error, s in seeds.items())


__all__ = ["compare", "Comparison", "RunSummary", "pareto_front", "mean_sd", "mean_sd_per_step"]
