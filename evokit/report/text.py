"""Plain-text tables of candidates, as ``Result.table()`` and ``evokit run`` print them.

Numbers are formatted a column at a time, so that a column reads as one kind of quantity: a
column of whole numbers (parameters, FLOPs) in full with thousands separators (``35,790``, never
``3.579e+04``), any other column with one number of decimals chosen for its largest value (four
significant digits: ``0.9655``, ``12.35``, ``1,235``; four decimals for fractions up to 1), and a column of tiny values (kg CO2-eq of
one training) in e-notation. Values that are not finite (a failed candidate's) show as ``inf``,
``-inf`` or ``nan``; missing ones as ``-``.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

SIGNIFICANT = 4
"""Significant digits of the largest value of a column of fractional numbers."""


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def column(values: Sequence[Any]) -> list[str]:
    """The values of one table column as text, all in one format (see the module docstring)."""
    numbers = [float(v) for v in values if _finite(v)]
    if numbers and all(v.is_integer() for v in numbers):
        fmt = "{:,.0f}"
    elif numbers:
        top = max(abs(v) for v in numbers)
        if 0 < top < 1e-3:
            fmt = "{:.3e}"
        else:
            magnitude = math.floor(math.log10(top)) if top > 1 else -1  # fractions (accuracy): 4 decimals
            decimals = SIGNIFICANT - 1 - magnitude
            fmt = "{:,.%df}" % max(0, decimals)
    else:
        fmt = "{}"
    return [fmt.format(v) if _finite(v) else ("-" if v is None else str(float(v))) for v in values]


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], text: str | None = None) -> str:
    """``rows`` (one mapping per candidate) as a text table: a ``rank`` column, then ``columns``
    (numbers, right-aligned, each as :func:`column` formats it; a name given twice is shown once),
    then the column ``text`` (left-aligned, unformatted; e.g. the network's description)."""
    columns = list(dict.fromkeys(columns))
    cells = {name: column([row.get(name) for row in rows]) for name in columns}
    widths = {name: max([len(name), *(len(c) for c in cells[name])]) for name in columns}
    rank = max(4, len(str(len(rows))))
    header = [f"{'rank':>{rank}}", *(f"{name:>{widths[name]}}" for name in columns), *([text] if text else [])]
    lines = ["  ".join(header)]
    for i, row in enumerate(rows):
        line = [f"{i + 1:>{rank}}", *(f"{cells[name][i]:>{widths[name]}}" for name in columns)]
        lines.append("  ".join(line + ([str(row.get(text, ""))] if text else [])))
    return "\n".join(lines)
