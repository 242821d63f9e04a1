"""How a comparison of searches is shown: its Markdown table and file, the convergence curves of
every search, and their accuracy-vs-parameters Pareto fronts overlaid.

Accuracy is the default; a comparison on data of another task passes that task's headline metric
(``metric``: its name in the rows' keys, ``r2``; ``label``: its short name in column headers;
``title``: its name in sentences, ``R²``), so a regression comparison shows R² wherever a
classification one shows accuracy.

``evokit.comparison`` runs the searches and computes every number (the aggregated rows, the
per-step mean ± sd of the convergence curves, the fronts); this module only lays out what it is
given, as plain rows and lists, and knows nothing of the comparison itself
(``Comparison.table``, ``to_markdown``, ``plot_convergence`` and ``plot_fronts`` call it).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from evokit.report.figure import finish, subplots

__all__ = ["table", "markdown", "plot_convergence", "plot_fronts", "cell", "shorten"]


def cell(text: str) -> str:
    """``text`` made safe for one Markdown table cell (no ``|``, no line break)."""
    return text.replace("|", "\\|").replace("\n", " ")


def shorten(text: str, limit: int = 120) -> str:
    """:func:`cell` of ``text``, cut to ``limit`` characters (with an ellipsis)."""
    text = cell(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _pm(row: Mapping[str, Any], metric: str, fmt: str) -> str:
    """``row``'s ``metric`` as ``mean ± sd`` (just the mean for one run; ``—`` when unknown)."""
    mean, sd = row[f"{metric}_mean"], row[f"{metric}_sd"]
    if mean is None:
        return "—"
    return fmt.format(mean) + ("" if sd is None else " ± " + fmt.format(sd))


def table(rows: Sequence[Mapping[str, Any]], metric: str = "accuracy", label: str = "acc") -> str:
    """The aggregated rows (``Comparison.rows``: one per search, ``<metric>_mean`` and
    ``<metric>_sd`` over seeds) as a Markdown table, each value as mean ± sd; ``metric`` is the
    headline the rows hold as ``val_<metric>`` and ``test_<metric>``, ``label`` its column name."""
    header = ["search", "runs", f"best val {label}", f"test {label}", "params (best)", "CO2 (g)", "evaluations",
              "wall time (s)", "status"]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:"] * 7 + ["---"]) + "|"]
    for row in rows:
        total = row["runs"] + row["failed"]
        co2 = _pm(row, "co2_g", "{:.3g}")
        if co2 != "—" and row["co2_source"]:
            co2 += " (meas.)" if row["co2_source"] == "measured" else " (est.)"
        status = "ok" if not row["failed"] else (f"{row['failed']} failed: " if row["runs"] else "failed: ")
        if row["failed"]:
            status += shorten(row["error"])
        cells = [cell(row["search"]), f"{row['runs']}/{total}", _pm(row, f"val_{metric}", "{:.3f}"),
                 _pm(row, f"test_{metric}", "{:.3f}"), _pm(row, "params", "{:,.0f}"), co2,
                 _pm(row, "evaluations", "{:.1f}"), _pm(row, "wall_time_s", "{:.1f}"), status]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(names: Sequence[str], seeds: Sequence[int], rows: Sequence[Mapping[str, Any]], budget: Any = None,
             data: Any = None, interrupted: bool = False, metric: str = "accuracy", label: str = "acc",
             title: str = "accuracy") -> str:
    """The text of ``comparison.md``: the :func:`table` of ``rows``, with what the runs shared
    (seeds, budget, data; None: each search's own) and whether the comparison was interrupted
    (``metric``, ``label``, ``title``: the headline metric, see the module's docstring)."""
    budget = "each search's own" if budget is None else ", ".join(
        f"{k}={v}" for k, v in vars(budget).items() if v is not None)
    data = "each search's own" if data is None else getattr(data, "name", data)
    text = [f"# Comparison of {', '.join(names)}", "",
            f"seeds {', '.join(map(str, seeds))}; budget: {budget}; data: {data}. "
            f"Values are mean ± sd over the seeds that completed. Best val {label} and params belong to each "
            f"run's best candidate (its validation {title} after the search's training); test {label} is "
            f"that network's {title} on the test split; CO2 is the whole search's (measured by CodeCarbon "
            "when the search measured it, else estimated with Green Algorithms from training time); "
            "evaluations are networks trained.", "", table(rows, metric, label), ""]
    if interrupted:
        text += ["Interrupted: not every run was made.", ""]
    return "\n".join(text)


def plot_convergence(bands: Mapping[str, Mapping[str, Any]], path: str | Path | None = None,
                     title: str = "accuracy") -> Any:
    """Best validation accuracy so far vs networks trained: one line per search, its mean over
    seeds with a ± sd band. ``bands`` is ``Comparison.convergence()``: per search, ``runs`` (how
    many curves), ``mean`` and ``sd`` (one value per network trained; None where unknown);
    ``title`` names the metric (another task's headline, e.g. ``R²``). Returns the figure; saved
    as PNG when ``path`` is given."""
    from matplotlib.ticker import MaxNLocator

    fig, ax = subplots(path, (6.4, 4.2))
    for name, band in bands.items():
        runs = band["runs"]
        if not runs:
            ax.plot([], [], label=f"{name} (no validation {title})")
            continue
        xs = list(range(1, len(band["mean"]) + 1))
        means = [math.nan if m is None else m for m in band["mean"]]
        sds = [0.0 if s is None else s for s in band["sd"]]
        (line,) = ax.plot(xs, means, drawstyle="steps-post", marker="o", markersize=3,
                          label=f"{name} ({runs} run{'s' * (runs > 1)})")
        if runs > 1:
            ax.fill_between(xs, [m - s for m, s in zip(means, sds)], [m + s for m, s in zip(means, sds)],
                            step="post", color=line.get_color(), alpha=0.2, linewidth=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("networks trained")
    ax.set_ylabel(f"best validation {title} so far")
    ax.set_title("Convergence (mean ± sd over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return finish(fig, path)


def plot_fronts(fronts: Mapping[str, Sequence[tuple[float, int]]], path: str | Path | None = None,
                metric: str = "accuracy", title: str = "accuracy") -> Any:
    """The accuracy-vs-parameters Pareto front of every search (``Comparison.fronts()``: per
    search, its ``(validation accuracy, parameters)`` points; another task's headline with
    ``metric`` and ``title``), overlaid in one plot (``evokit.report.front.plot_fronts``).
    Returns the figure; saved as PNG when ``path`` is given."""
    from evokit.report.front import plot_fronts as overlay

    key = f"val_{metric}"
    records = {name: [{key: value, "params": params} for value, params in front] for name, front in fronts.items()}
    return overlay(records, key, "params", path=path, title=f"Pareto fronts: {title} vs parameters (all seeds)")
