"""How every matplotlib figure of ``evokit.report`` is made and finished, written once.

A plot function asks :func:`subplots` for its figure, draws, and hands it to :func:`finish`, which
lays it out and, when the caller gave a path, saves it there and lets pyplot forget it. The HTML
report, whose figures never reach a screen, draws on :func:`detached` figures and inlines them with
:func:`png_bytes`.

Choices, and why:

* Off-screen (Agg) only when the figure is saved: a notebook user who asks for the figure keeps
  their own backend, while a script or a worker without a display never needs one. ``force=False``
  so a backend already in use is left alone.
* A saved figure is closed: a comparison or a report draws many figures, and pyplot would keep
  every one of them alive otherwise. A returned figure stays open for the caller to show.
* Matplotlib is imported inside the functions, so importing ``evokit.report`` stays cheap.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import IO, Any

__all__ = ["DPI", "subplots", "detached", "finish", "png_bytes"]

DPI = 110
"""Resolution of the PNG files the plots write."""


def subplots(path: str | Path | IO[bytes] | None, figsize: tuple[float, float], **kwargs: Any) -> tuple[Any, Any]:
    """A new pyplot figure and its axes (``plt.subplots(figsize=figsize, **kwargs)``), drawn
    off-screen when it is going to be saved to ``path``."""
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize, **kwargs)


def detached(figsize: tuple[float, float]) -> tuple[Any, Any]:
    """A figure that pyplot does not know (nothing to close, no backend chosen) and its one axes:
    for figures that are only ever turned into bytes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.add_subplot()


def finish(fig: Any, path: str | Path | IO[bytes] | None = None, dpi: int = DPI) -> Any:
    """Lay ``fig`` out tightly; with ``path``, save it there (PNG) and release it from pyplot.
    Returns ``fig``."""
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=dpi)
        if fig.canvas.manager is not None:  # made by pyplot, which would keep it alive
            import matplotlib.pyplot as plt

            plt.close(fig)
    return fig


def png_bytes(fig: Any, dpi: int) -> bytes:
    """``fig`` rendered as PNG, in memory (for a ``data:`` URI)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
