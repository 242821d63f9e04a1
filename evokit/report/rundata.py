"""What a run report shows, taken from a run's files (``evokit.runtime.run.directory.read_run``): the
best candidates, the headline-vs-parameters front of every trained candidate (the headline metric
of the run's task: accuracy for classification, R² for regression), and the search cost.

Finished runs are described by their ``summary.json``; unfinished ones (killed, or still running)
by what their ``candidates.jsonl`` and ``generations.csv`` hold so far.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Any

from evokit import tasks
from evokit.pareto import nondominated
from evokit.runtime.run.directory import RunData
from evokit.tasks import Metric

TOP = 3
"""How many of the best architectures a report draws."""

Point = tuple[dict[str, Any], float, float]
"""A trained candidate on the headline-vs-parameters plane: (record, headline metric, parameters)."""


def is_finite(value: Any) -> bool:
    """A finite int or float (not a bool, None or text)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _ok(record: dict[str, Any]) -> bool:
    return record.get("status") == "ok" and isinstance(record.get("netspec"), dict)


def _unique(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for r in records:
        key = r.get("hash") or r.get("network")
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def trained_networks(run: RunData) -> list[dict[str, Any]]:
    """The records of the distinct networks that trained successfully, first evaluation of each."""
    return _unique([r for r in run.records if _ok(r)])


def _values(run: RunData, record: dict[str, Any]) -> list[float] | None:
    fitness = record.get("fitness") or {}
    values = [fitness.get(n) for n in run.names]
    return [float(v) for v in values] if values and all(is_finite(v) for v in values) else None


def best_records(run: RunData, n: int = TOP) -> list[dict[str, Any]]:
    """The run's best candidates, best first: the summary's hall of fame (or Pareto front) when the
    run finished, else ranked from the records (best first objective; non-dominated first when
    there are several objectives)."""
    scored = [(r, v) for r in trained_networks(run) if (v := _values(run, r)) is not None]
    ranked: list[dict[str, Any]] = []
    for entry in (run.summary or {}).get("hall_of_fame") or []:
        for r, values in scored:
            if r.get("description") == entry.get("description") and r not in ranked and all(
                    math.isclose(x, float(entry.get("values", {}).get(k, math.nan)), rel_tol=1e-9)
                    for k, x in zip(run.names, values)):
                ranked.append(r)
                break
    if not ranked and scored:
        w0 = run.weights[0] if run.weights else 1.0
        on_front = set(nondominated([v for _, v in scored], run.weights))
        front = [rv for i, rv in enumerate(scored) if i in on_front]
        rest = [rv for i, rv in enumerate(scored) if i not in on_front]
        for group in (front, rest) if len(run.names) > 1 else (scored,):
            ranked += [r for r, v in sorted(group, key=lambda rv: -w0 * rv[1][0])]
    return ranked[:n]


def headline(run: RunData) -> Metric:
    """The metric the report leads with: the headline of the run's task (``run.task``), or
    classification's (accuracy) when the run's files do not say which task it had."""
    return tasks.get(run.task or "classification").headline


def accuracy_key(run: RunData) -> tuple[str, float]:
    """What the front plots on its y axis, and its weight (+1 maximised, -1 minimised): the
    validation headline of the run's task (``val_accuracy``, ``val_r2``; :func:`headline`), else
    the first objective."""
    metric = headline(run)
    key = metric.key("val_")
    if any(is_finite(r.get(key)) for r in run.records):
        return key, 1.0 if metric.higher_is_better else -1.0
    return (run.names[0], run.weights[0]) if run.names else (key, 1.0 if metric.higher_is_better else -1.0)


def metric(record: dict[str, Any], key: str) -> Any:
    """A record's metric ``key``, else its objective value of that name."""
    value = record.get(key)
    return value if is_finite(value) else (record.get("fitness") or {}).get(key)


def co2(record: dict[str, Any]) -> float | None:
    """A candidate's CO2 (kg CO2-eq): its CO2 objective, else measured, else estimated."""
    for value in ((record.get("fitness") or {}).get("co2_kg"), record.get("co2_kg_measured"),
                  record.get("co2_kg_estimated")):
        if is_finite(value):
            return float(value)
    return None


def accuracy_front(run: RunData) -> tuple[str, list[Point], list[Point]]:
    """The accuracy key (:func:`accuracy_key`), every trained candidate as a :data:`Point`, and
    the non-dominated ones (no other is both as good in that metric and as small), sorted by
    parameters."""
    key, weight = accuracy_key(run)
    points = [(r, float(metric(r, key)), float(r["params"])) for r in trained_networks(run)
              if is_finite(metric(r, key)) and is_finite(r.get("params"))]
    front = [points[i] for i in nondominated([(a, p) for _, a, p in points], (weight, -1.0))]
    front.sort(key=lambda t: t[2])
    return key, points, front


def cost(run: RunData) -> dict[str, Any]:
    """The search cost: from summary.json when the run finished, else added up from the files."""
    stats = run.stats
    if stats:
        out = {k: stats.get(k) for k in ("wall_time_s", "evaluated", "trained", "cache_hits", "generations")}
        out["failures"] = stats.get("failures") or {}
        out.update(stats.get("search_cost") or {})
        return out
    from evokit.fitness.carbon import GreenAlgorithms

    trained = [r for r in run.records if not r.get("cached") and r.get("status") != "untrained"
               and is_finite(r.get("wall_time")) and r["wall_time"] > 0]
    estimator = GreenAlgorithms()
    energy = sum(estimator.energy_kwh(r["wall_time"], r.get("cores"), r.get("memory_gb")) for r in trained)
    out = {"wall_time_s": run.rows[-1].get("elapsed_s") if run.rows else None, "evaluated": len(run.records),
           "trained": sum(1 for r in run.records if not r.get("cached") and r.get("status") != "untrained"),
           "cache_hits": sum(1 for r in run.records if r.get("cached")),
           "generations": run.rows[-1].get("gen") if run.rows else None,
           "failures": dict(Counter(r.get("reason") or "unknown" for r in run.records
                                    if r.get("status") == "failed" and not r.get("cached"))),
           "energy_kwh_estimated": energy, "co2_kg_estimated": estimator.co2_kg(energy),
           "train_seconds": sum(r["wall_time"] for r in trained)}
    if trained and all(is_finite(r.get("energy_kwh_measured")) for r in trained):
        out["energy_kwh_measured"] = sum(r["energy_kwh_measured"] for r in trained)
        out["co2_kg_measured"] = sum(r.get("co2_kg_measured") or 0.0 for r in trained)
    return out
