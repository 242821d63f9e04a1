"""Plots of Pareto fronts: one search's front, or several overlaid to compare searches.

A front is a list of records, one dict per member with its objective values by name (the rows of
a run's ``pareto.csv``, ``evokit.runtime.run.front.front_records``). The first objective (e.g.
accuracy) goes on the x axis, the second (e.g. parameters) on the y axis, and a third (e.g. CO2)
colours the points when there is one. A y axis whose positive values span more than two orders
of magnitude (parameter counts, FLOPs) is drawn on a log scale.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from evokit.errors import ConfigError
from evokit.report.figure import finish, subplots

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def _points(records: Sequence[dict[str, Any]], x: str, y: str, color: str | None) -> list[tuple[float, float, float]]:
    """(x, y, colour) of the records whose x and y are finite numbers, sorted by x."""
    points = [(_number(r.get(x)), _number(r.get(y)), _number(r.get(color)) if color else math.nan) for r in records]
    return sorted(p for p in points if not (math.isnan(p[0]) or math.isnan(p[1])))


def _monotone(values: Sequence[float]) -> bool:
    return all(a <= b for a, b in zip(values, values[1:])) or all(a >= b for a, b in zip(values, values[1:]))


def plot_fronts(fronts: dict[str, Sequence[dict[str, Any]]], x: str, y: str, color: str | None = None,
                path: str | Path | None = None, title: str | None = None) -> Any:
    """Overlay Pareto fronts (``{label: records}``): ``x`` against ``y``, one marker per front;
    with ``color``, points are coloured by that value on one shared scale (with a colour bar),
    else each front has its own colour. Returns the matplotlib Figure; saved as PNG when
    ``path`` is given.

    Members without a finite ``x`` and ``y`` (failed candidates) are not drawn; a front's points
    are joined by a line when they form a 2-D front in (x, y) (y monotone in x). Used for a run's
    ``pareto.png`` and by comparisons and reports to put several searches side by side.
    """
    if not isinstance(fronts, dict) or not all(isinstance(v, (list, tuple)) for v in fronts.values()):
        raise ConfigError(f"fronts={type(fronts).__name__} is invalid: expected a dict of label -> list of "
                          "records (dicts of objective values)")
    for name, value in (("x", x), ("y", y)):
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{name}={value!r} is invalid: expected the name of an objective")
    if color is not None and (not isinstance(color, str) or not color):
        raise ConfigError(f"color={color!r} is invalid: expected the name of an objective or None")
    from matplotlib.colors import Normalize

    points = {label: _points(records, x, y, color) for label, records in fronts.items()}
    shades = [c for pts in points.values() for _, _, c in pts if not math.isnan(c)]
    norm = Normalize(min(shades), max(shades)) if shades else None
    fig, ax = subplots(path, (6.0, 4.4))
    scatter = None
    for i, (label, pts) in enumerate(points.items()):
        marker = MARKERS[i % len(MARKERS)]
        tint = f"C{i % 10}"
        xs, ys, cs = [p[0] for p in pts], [p[1] for p in pts], [p[2] for p in pts]
        if len(pts) > 1 and _monotone(ys):
            ax.plot(xs, ys, "-", color="0.6" if norm else tint, linewidth=1, zorder=1)
        if norm is not None:
            scatter = ax.scatter(xs, ys, c=cs, cmap="viridis", norm=norm, marker=marker, edgecolors="k",
                                 linewidths=0.5, label=f"{label} ({len(pts)})", zorder=2, plotnonfinite=True)
        else:
            ax.scatter(xs, ys, color=tint, marker=marker, edgecolors="k", linewidths=0.5,
                       label=f"{label} ({len(pts)})", zorder=2)
    ys = [p[1] for pts in points.values() for p in pts]
    if ys and min(ys) > 0 and max(ys) / min(ys) > 100:
        ax.set_yscale("log")
    if scatter is not None:
        fig.colorbar(scatter, ax=ax, label=color)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.grid(alpha=0.3)
    if any(points.values()):
        ax.legend(fontsize=8)
    ax.set_title(title or ("Pareto front" if len(fronts) == 1 else "Pareto fronts"))
    return finish(fig, path)


def plot_front(records: Sequence[dict[str, Any]], objective_names: Sequence[str], path: str | Path | None = None,
               title: str = "Pareto front") -> Any:
    """Plot one search's front: first objective against the second, coloured by the third if
    there is one (a run's ``pareto.png``)."""
    if len(objective_names) < 2:
        raise ConfigError(f"objective_names={list(objective_names)!r} is invalid: a Pareto front needs 2 or more "
                          "objectives")
    color = objective_names[2] if len(objective_names) > 2 else None
    return plot_fronts({"front": list(records)}, objective_names[0], objective_names[1], color, path, title)
