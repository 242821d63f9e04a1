"""A diagram of a NetSpec as a standalone SVG: one box per layer with its output shape, top to bottom.

The layers are drawn in the NetSpec's own (topological) order. An edge from the layer just above
is a short arrow; every other edge (a skip connection, a branch joining a merge) is drawn as an
arc beside the column, each arc in its own lane so that arcs never overlap. Merge layers (add,
concat) are tinted so a reader finds where branches meet. Pure Python: no graphviz, no
matplotlib, so the report can draw any run's networks quickly and the result stays crisp at any zoom.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from evokit.netspec import INPUT, NetSpec

__all__ = ["netspec_svg", "layer_rows"]

BOX_HEIGHT = 38
GAP = 18
MARGIN = 12
LANE = 16
CHAR = 7.0  # width of one character of the 12 px monospace labels, in px
COLOURS = {  # layer kind -> (fill, stroke)
    "input": ("#eceff1", "#607d8b"), "conv2d": ("#e3f2fd", "#1e88e5"), "conv1d": ("#e3f2fd", "#1e88e5"),
    "pool": ("#e8f5e9", "#43a047"), "globalpool": ("#e8f5e9", "#43a047"), "dense": ("#fff3e0", "#fb8c00"),
    "add": ("#f3e5f5", "#8e24aa"), "concat": ("#f3e5f5", "#8e24aa"), "dropout": ("#fafafa", "#9e9e9e"),
    "batchnorm": ("#fafafa", "#9e9e9e"), "activation": ("#fafafa", "#9e9e9e"), "flatten": ("#fafafa", "#9e9e9e"),
}
DEFAULT_COLOUR = ("#fffde7", "#f9a825")


def _shape(shape: Any) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def layer_rows(spec: NetSpec) -> list[dict[str, Any]]:
    """The layer table of ``spec``: index, layer, inputs (``None`` when it reads the layer above),
    output shape (as text) and parameters, one row per layer."""
    rows = []
    for row in spec.rows():
        usual = ["input"] if row["index"] == 0 else [row["index"] - 1]
        rows.append({"index": row["index"], "layer": row["layer"], "output_shape": _shape(row["output_shape"]),
                     "params": row["params"], "inputs": None if row["inputs"] == usual else row["inputs"]})
    return rows


def _lanes(edges: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Assign each long edge (from row a to row b, a < b) the lowest lane free over [a, b]."""
    lanes: dict[tuple[int, int], int] = {}
    busy: list[list[tuple[int, int]]] = []
    for a, b in sorted(edges, key=lambda e: (e[1] - e[0], e)):
        for k, spans in enumerate(busy):
            if all(b <= s or a >= e for s, e in spans):
                spans.append((a, b))
                lanes[(a, b)] = k
                break
        else:
            busy.append([(a, b)])
            lanes[(a, b)] = len(busy) - 1
    return lanes


def netspec_svg(spec: NetSpec, title: str | None = None) -> str:
    """An SVG document drawing ``spec``: the input, then one box per layer (description and output
    shape), arrows for every connection. Returns the SVG text (UTF-8, with width and height set, so
    it can be inlined or used as an ``<img>`` data URI)."""
    labels = [("input", _shape(spec.input_shape), "input")]
    for i, node in enumerate(spec.nodes):
        labels.append((node.layer.describe(), _shape(spec.shapes[i]), node.layer.kind))
    short_edges, long_edges = _edges(spec)
    lanes = _lanes(sorted(set(long_edges)))
    n_lanes = max(lanes.values(), default=-1) + 1
    box_width = max(160, int(max(max(len(a), len(b)) for a, b, _ in labels) * CHAR) + 24)
    layout = _Layout(box_width, top=MARGIN + (22 if title else 0))
    width = MARGIN * 2 + box_width + (n_lanes * LANE + 10 if n_lanes else 0)
    height = layout.y(len(labels)) - GAP + MARGIN
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#546e7a"/></marker></defs>',
             f'<rect width="{width}" height="{height}" fill="#ffffff"/>']
    if title:
        parts.append(f'<text x="{layout.left}" y="{MARGIN + 12}" font-size="13" font-weight="bold" fill="#263238">'
                     f'{escape(title)}</text>')
    parts += _arrows(short_edges, layout) + _arcs(lanes, layout) + _boxes(labels, layout)
    parts.append("</svg>")
    return "\n".join(parts)


def _edges(spec: NetSpec) -> tuple[list[int], list[tuple[int, int]]]:
    """The connections of ``spec`` by row (0 is the input, row i + 1 is node i): the rows fed by the
    row just above (short arrows), and every other edge as ``(from row, to row)`` (arcs)."""
    short_edges: list[int] = []
    long_edges: list[tuple[int, int]] = []
    for i, node in enumerate(spec.nodes):
        for j in node.inputs:
            src = 0 if j == INPUT else j + 1
            if src == i:  # the row just above
                short_edges.append(i + 1)
            else:
                long_edges.append((src, i + 1))
    return short_edges, long_edges


@dataclass(frozen=True)
class _Layout:
    """Where the column of boxes is: every box is ``box_width`` wide, the first starts at ``top``."""

    box_width: int
    top: int
    left: int = MARGIN

    def y(self, row: int) -> int:
        """The top of the box of ``row``."""
        return self.top + row * (BOX_HEIGHT + GAP)

    @property
    def centre(self) -> float:
        return self.left + self.box_width / 2

    @property
    def right(self) -> int:
        return self.left + self.box_width


def _arrows(rows: list[int], layout: _Layout) -> list[str]:
    """A short arrow into each of ``rows`` from the box just above it."""
    centre = layout.centre
    return [f'<line x1="{centre}" y1="{layout.y(row - 1) + BOX_HEIGHT}" x2="{centre}" y2="{layout.y(row) - 1}" '
            'stroke="#546e7a" stroke-width="1.5" marker-end="url(#arrow)"/>' for row in rows]


def _arcs(lanes: dict[tuple[int, int], int], layout: _Layout) -> list[str]:
    """A dashed arc beside the column for each long edge, in its lane; several arcs at one box are
    spread over its height."""
    leaving: dict[int, list[tuple[int, int]]] = {}
    arriving: dict[int, list[tuple[int, int]]] = {}
    for a, b in sorted(lanes, key=lambda e: lanes[e]):
        leaving.setdefault(a, []).append((a, b))
        arriving.setdefault(b, []).append((a, b))

    def port(row: int, edge: tuple[int, int], ends: dict[int, list[tuple[int, int]]]) -> float:
        """Where an arc meets its box."""
        k, n = ends[row].index(edge), len(ends[row])
        return layout.y(row) + BOX_HEIGHT * (k + 1) / (n + 1)

    right, parts = layout.right, []
    for (a, b), lane in sorted(lanes.items()):
        out = right + 10 + lane * LANE
        ya, yb = port(a, (a, b), leaving), port(b, (a, b), arriving)
        parts.append(f'<path d="M{right},{ya} C{out},{ya} {out},{ya} {out},{ya + 12} L{out},{yb - 12} '
                     f'C{out},{yb} {out},{yb} {right + 1},{yb}" fill="none" stroke="#8e24aa" stroke-width="1.5" '
                     'stroke-dasharray="5,3" marker-end="url(#arrow)"/>')
    return parts


def _boxes(labels: list[tuple[str, str, str]], layout: _Layout) -> list[str]:
    """One box per row: its text and output shape, tinted by the layer's kind."""
    parts = []
    for row, (text, shape, kind) in enumerate(labels):
        fill, stroke = COLOURS.get(kind, DEFAULT_COLOUR)
        x0, y, centre = layout.left, layout.y(row), layout.centre
        parts.append(f'<rect x="{x0}" y="{y}" width="{layout.box_width}" height="{BOX_HEIGHT}" rx="6" '
                     f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>')
        parts.append(f'<text x="{centre}" y="{y + 16}" font-size="12" text-anchor="middle" fill="#212121">'
                     f'{escape(text)}</text>')
        parts.append(f'<text x="{centre}" y="{y + 31}" font-size="11" text-anchor="middle" fill="#607d8b">'
                     f'{escape(shape)}</text>')
    return parts
