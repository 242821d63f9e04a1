"""Plots of a search: fitness over generations (one panel per objective)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from evokit.report.figure import finish, subplots


def plot_history(rows: Sequence[dict[str, Any]], objective_names: Sequence[str], path: str | Path | None = None,
                 title: str = "Fitness over generations") -> Any:
    """Plot best / mean / worst of each objective per generation; save as PNG when ``path`` is given.

    ``rows`` are the per-generation records of a search (``Result.history``).
    """
    from matplotlib.ticker import MaxNLocator

    n = len(objective_names)
    fig, axes = subplots(path, (4.5 * n, 3.4), nrows=1, ncols=n, squeeze=False)
    generations = [r["gen"] for r in rows]
    for ax, name in zip(axes[0], objective_names):
        for stat, style in (("max", "-o"), ("avg", "--"), ("min", ":")):
            values = [r.get(f"{name}_{stat}") for r in rows]
            values = [v if v is not None and math.isfinite(v) else math.nan for v in values]
            ax.plot(generations, values, style, label=stat, markersize=3)
        ax.set_xlabel("generation")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return finish(fig, path)
