"""The validation masks of a segmentation run drawn over their images: the true mask outlined,
the best model's prediction filled, each image's score (Dice) in its title.

Drawn from a run's ``masks.npz`` (:func:`evokit.runtime.run.masks.read_masks`), never from a
model: the report reads only the run's files.

Choices, and why:

* The image in gray (colour images as they are), so both masks stay readable over it.
* Truth as an outline (lime) and the prediction as a translucent fill (red for binary masks, a
  colour per class otherwise): where they disagree is where fill and outline part. Class code 0
  (the first, sorted class: background in a 0/1 or 0/255 mask) is never drawn.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from evokit.report.figure import detached
from evokit.runtime.run.masks import Masks

__all__ = ["masks_figure"]

TRUTH = "#76ff03"
"""The outline colour of the true masks."""
PREDICTED = "#e53935"
"""The fill colour of a binary mask's predicted foreground."""
COLUMNS = 3
"""Images per row."""


def _overlay(n_classes: int) -> Any:
    """The colour map of the predicted fill: red for binary masks, ``tab10`` beyond."""
    from matplotlib.colors import ListedColormap

    if n_classes <= 2:
        return ListedColormap([PREDICTED])
    import matplotlib

    base = matplotlib.colormaps["tab10"]
    return ListedColormap([base(i % 10) for i in range(n_classes - 1)])


def _panel(ax: Any, masks: Masks, i: int, title: str) -> None:
    """One image with its true mask outlined and its prediction filled."""
    image = masks.images[i]
    ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=255,
              interpolation="nearest")
    n_classes = max(len(masks.classes), int(max(masks.truth.max(), masks.predicted.max())) + 1)
    predicted = np.ma.masked_where(masks.predicted[i] == 0, masks.predicted[i] - 1)
    ax.imshow(predicted, cmap=_overlay(n_classes), vmin=-0.5, vmax=max(n_classes - 2, 0) + 0.5, alpha=0.45,
              interpolation="nearest")
    truth = masks.truth[i]
    for c in range(1, n_classes):  # one outline per class present (a contour of the codes would miss some borders)
        if 0 < np.count_nonzero(truth == c) < truth.size:
            ax.contour((truth == c).astype(float), levels=[0.5], colors=TRUTH, linewidths=1.3)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def masks_figure(masks: Masks, label: str = "Dice") -> Any:
    """The images of ``masks`` in rows of :data:`COLUMNS`, each titled with its ``label``
    (the task's headline) score, above a legend; a detached matplotlib figure."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    k = len(masks)
    columns = min(COLUMNS, max(k, 1))
    rows = -(-k // columns)
    fig, _ = detached((3.0 * columns, 3.0 * rows + 0.5))
    fig.clear()
    for i in range(k):
        ax = fig.add_subplot(rows, columns, i + 1)
        _panel(ax, masks, i, f"{label} {masks.scores[i]:.3f}")
    n_classes = len(masks.classes)
    fill = PREDICTED if n_classes <= 2 else _overlay(n_classes)(0)
    fig.legend(handles=[Line2D([], [], color=TRUTH, lw=2, label="true mask (outline)"),
                        Patch(facecolor=fill, alpha=0.45, label="predicted mask (fill)")],
               loc="lower center", ncol=2, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.45 / (3.0 * rows + 0.5), 1, 1), h_pad=1.5)  # the legend's strip left free
    return fig
