"""Pareto fronts of multi-objective searches: dominance, hypervolume and its reference point.

**Objective space.** Hypervolume is measured in the search's own objective space turned into a
minimisation problem: each value is multiplied by ``-sign(weight)`` of its objective's DEAP
weight (a maximised accuracy ``a`` becomes ``-a``; a minimised parameter count stays as it is).
Only the sign of a weight is used, so the hypervolume is in the objectives' own units (e.g.
accuracy x parameters) whatever their weights' magnitudes. DEAP's hypervolume computes it
(``deap.benchmarks.tools.hypervolume`` is ``moocore.hypervolume`` on ``-wvalues``; the same call
is made here on the converted values, so for weights of +-1 both give the same number).

**Reference point rule.** A reference point is given in objective units (the worst value of each
objective that still counts, e.g. ``(0.0, 1e6)`` for accuracy and parameters). When none is
given, it is fixed once, from the first finished generation that has a member whose objective
values are all finite (normally generation 0, the initial population): for each objective the
worst finite value plus a margin of 10% of the finite values' range (10% of the value itself if
all are equal, 0.1 if that is 0), on the worse side. It is then kept (a search stores it in its
checkpoint) so that a resumed run logs the same hypervolumes as an uninterrupted one, and the
values of different generations compare. Members with a non-finite value (failed candidates) are
left out, and members not strictly better than the reference point in every objective add nothing.

A leaf of the package (NumPy, moocore and ``evokit.errors`` only): algorithms, run records,
reports and comparisons all share this one dominance test and hypervolume.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np

from evokit.errors import ConfigError

MARGIN = 0.1
"""Margin of the automatic reference point, as a fraction of the finite values' range."""


def minimisation(values: Iterable[Sequence[float]], weights: Sequence[float]) -> np.ndarray:
    """Objective values (one row per member) turned into minimisation: ``-sign(weight) * value``."""
    signs = -np.sign(np.asarray(weights, dtype=float))
    rows = np.asarray([tuple(v) for v in values], dtype=float).reshape(-1, len(signs))
    return rows * signs


def check_reference_point(reference_point: Any, n_objectives: int | None = None,
                          field: str = "reference_point") -> tuple[float, ...] | None:
    """Return ``reference_point`` as a tuple of floats (or None), else raise ConfigError naming ``field``.

    A reference point is a list of finite numbers, one per objective, in the objectives' units.
    """
    if reference_point is None:
        return None
    allowed = "expected None or a list of finite numbers, one per objective, in the objectives' units"
    if isinstance(reference_point, (str, bytes)) or not isinstance(reference_point, (list, tuple, np.ndarray)):
        raise ConfigError(f"{field}={reference_point!r} is invalid: {allowed}")
    point = tuple(reference_point)
    if len(point) < 2 or not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                                 and math.isfinite(v) for v in point):
        raise ConfigError(f"{field}={reference_point!r} is invalid: {allowed} (2 or more)")
    if n_objectives is not None and len(point) != n_objectives:
        raise ConfigError(f"{field}={reference_point!r} is invalid: it has {len(point)} values but the search has "
                          f"{n_objectives} objectives")
    return tuple(float(v) for v in point)


def finite(values: Iterable[Sequence[float]]) -> list[tuple[float, ...]]:
    """The rows whose values are all finite (failed candidates have +-inf values)."""
    return [tuple(v) for v in values if all(math.isfinite(x) for x in v)]


def default_reference_point(values: Iterable[Sequence[float]], weights: Sequence[float],
                            margin: float = MARGIN) -> tuple[float, ...] | None:
    """The automatic reference point (objective units) for a population's objective values:
    worst finite value of each objective plus ``margin`` of the range, on the worse side.
    None when no member has all its values finite."""
    rows = finite(values)
    if not rows:
        return None
    points = minimisation(rows, weights)
    worst, best = points.max(axis=0), points.min(axis=0)
    span = worst - best
    fallback = np.where(worst != 0.0, np.abs(worst), 1.0)
    reference = worst + margin * np.where(span > 0.0, span, fallback)
    return tuple(float(v) for v in reference * -np.sign(np.asarray(weights, dtype=float)))


def hypervolume(values: Iterable[Sequence[float]], weights: Sequence[float], reference_point: Sequence[float]) -> float:
    """Hypervolume dominated by ``values`` (objective units, one row per member) up to
    ``reference_point`` (objective units), in the minimisation space described above.

    Rows with a non-finite value, and rows not strictly better than the reference point in
    every objective, are left out (an empty set has hypervolume 0).
    """
    import moocore  # DEAP's hypervolume backend (deap.benchmarks.tools.hypervolume)

    reference = minimisation([reference_point], weights)[0]
    rows = finite(values)
    if not rows:
        return 0.0
    points = minimisation(rows, weights)
    points = points[np.all(points < reference, axis=1)]
    if len(points) == 0:
        return 0.0
    return float(moocore.hypervolume(points, ref=reference))


def nondominated(values: Sequence[Sequence[float]], weights: Sequence[float]) -> list[int]:
    """Indices of the rows no other row dominates (finite rows only), in their original order.

    A row dominates another when it is at least as good in every objective and better in one
    (by the sign of each objective's weight); equal rows do not dominate each other, so both stay.
    This is the one dominance test of evokit: run reports and comparisons use it too.
    """
    points = minimisation(values, weights)
    keep = np.all(np.isfinite(points), axis=1)
    index, points = np.flatnonzero(keep), points[keep]
    return [int(i) for i, p in zip(index, points)
            if not np.any(np.all(points <= p, axis=1) & np.any(points < p, axis=1))]
