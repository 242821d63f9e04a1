"""How a comparison (``evokit.compare.Comparison``) is shown: its Markdown table and file, the
convergence curves of every search, and their accuracy-vs-parameters Pareto fronts overlaid.

``evokit.compare`` runs the searches and aggregates their numbers; this module only presents
them (``Comparison.table``, ``to_markdown``, ``plot_convergence`` and ``plot_fronts`` call it).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from evokit.compare import Comparison, mean_sd


def cell(text: str) -> str:
    """``text`` made safe for one Markdown table cell (no ``|``, no line break)."""
    return text.replace("|", "\\|").replace("\n", " ")


def shorten(text: str, limit: int = 120) -> str:
    """:func:`cell` of ``text``, cut to ``limit`` characters (with an ellipsis)."""
    text = cell(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _pm(row: dict[str, Any], metric: str, fmt: str) -> str:
    mean, sd = row[f"{metric}_mean"], row[f"{metric}_sd"]
    if mean is None:
        return "—"
    return fmt.format(mean) + ("" if sd is None else " ± " + fmt.format(sd))


def table(comparison: Comparison) -> str:
    """The aggregated rows as a Markdown table (mean ± sd over seeds)."""
    header = ["search", "runs", "best val acc", "test acc", "params (best)", "CO2 (g)", "evaluations",
              "wall time (s)", "status"]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:"] * 7 + ["---"]) + "|"]
    for row in comparison.rows():
        total = row["runs"] + row["failed"]
        co2 = _pm(row, "co2_g", "{:.3g}")
        if co2 != "—" and row["co2_source"]:
            co2 += " (meas.)" if row["co2_source"] == "measured" else " (est.)"
        status = "ok" if not row["failed"] else (f"{row['failed']} failed: " if row["runs"] else "failed: ")
        if row["failed"]:
            status += shorten(row["error"])
        cells = [cell(row["search"]), f"{row['runs']}/{total}", _pm(row, "val_accuracy", "{:.3f}"),
                 _pm(row, "test_accuracy", "{:.3f}"), _pm(row, "params", "{:,.0f}"), co2,
                 _pm(row, "evaluations", "{:.1f}"), _pm(row, "wall_time_s", "{:.1f}"), status]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(comparison: Comparison) -> str:
    """The text of ``comparison.md``: the table, with what the runs shared (seeds, budget, data)."""
    budget = "each search's own" if comparison.budget is None else ", ".join(
        f"{k}={v}" for k, v in vars(comparison.budget).items() if v is not None)
    data = "each search's own" if comparison.data is None else getattr(comparison.data, "name", comparison.data)
    text = [f"# Comparison of {', '.join(comparison.names)}", "",
            f"seeds {', '.join(map(str, comparison.seeds))}; budget: {budget}; data: {data}. "
            "Values are mean ± sd over the seeds that completed. Best val acc and params belong to each "
            "run's best candidate (its validation accuracy after the search's training); test acc is "
            "that network's accuracy on the test split; CO2 is the whole search's (measured by CodeCarbon "
            "when the search measured it, else estimated with Green Algorithms from training time); "
            "evaluations are networks trained.", "", table(comparison), ""]
    if comparison.interrupted:
        text += ["Interrupted: not every run was made.", ""]
    return "\n".join(text)


def plot_convergence(comparison: Comparison, path: str | Path | None = None) -> Any:
    """Best validation accuracy so far vs networks trained: one line per search, the mean over
    seeds with a ± sd band, up to the length of its shortest run. Returns the figure."""
    plt = _pyplot(path)
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, curves in comparison.curves().items():
        if not curves:
            ax.plot([], [], label=f"{name} (no validation accuracy)")
            continue
        n = min(len(c) for c in curves)
        xs = list(range(1, n + 1))
        stats = [mean_sd(c[i] for c in curves) for i in range(n)]
        means = [math.nan if m is None else m for m, _ in stats]
        sds = [0.0 if s is None else s for _, s in stats]
        (line,) = ax.plot(xs, means, drawstyle="steps-post", marker="o", markersize=3,
                          label=f"{name} ({len(curves)} run{'s' * (len(curves) > 1)})")
        if len(curves) > 1:
            ax.fill_between(xs, [m - s for m, s in zip(means, sds)], [m + s for m, s in zip(means, sds)],
                            step="post", color=line.get_color(), alpha=0.2, linewidth=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("networks trained")
    ax.set_ylabel("best validation accuracy so far")
    ax.set_title("Convergence (mean ± sd over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig


def plot_fronts(comparison: Comparison, path: str | Path | None = None) -> Any:
    """The accuracy-vs-parameters Pareto front of every search (all seeds pooled), overlaid in
    one plot (``evokit.report.front.plot_fronts``). Returns the figure."""
    from evokit.report.front import plot_fronts as overlay

    fronts = {name: [{"val_accuracy": acc, "params": params} for acc, params in front]
              for name, front in comparison.fronts().items()}
    return overlay(fronts, "val_accuracy", "params", path=path,
                   title="Pareto fronts: accuracy vs parameters (all seeds)")


def _pyplot(path: Any) -> Any:
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt
