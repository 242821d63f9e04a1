"""Particle swarm update operators: DEAP's continuous particle and psoCNN's discrete layer lists.

``updateParticle`` is the update of DEAP's PSO example (``examples/pso/basic.py``) with an
optional inertia weight and position bounds: a particle is a list of floats carrying ``speed``,
``best`` (its personal best position), ``smin`` and ``smax`` attributes, and moves by

    v <- inertia * v + U(0, phi1) * (best_own - x) + U(0, phi2) * (best_swarm - x)
    |v| clamped to [smin, smax] per gene;  x <- clip(x + v, low, up)

The discrete operators follow psoCNN (Fernandes Junior & Yen, 2019) on layer lists. The
difference ``P1 ⊖ P2`` is read position by position: the same layer in both -> ``KEEP``;
different layers -> P1's layer (replace); a layer only P1 has -> P1's layer (add); a layer only
P2 has -> ``REMOVE``. A velocity takes each position from ``gBest ⊖ P`` with probability ``cg``,
else from ``pBest ⊖ P`` (a position missing there means ``REMOVE``), and ``P + velocity`` keeps,
replaces, adds or removes each layer accordingly. Conv blocks are aligned from the input end and
dense blocks from the output end, as psoCNN aligns its convolution/pooling and fully connected
parts. Two deliberate differences from psoCNN: layers are "the same" when they are equal (psoCNN
compares only their type, so a conv layer never moved towards a conv layer of another width; a
DeepGA list holds only conv blocks or only dense blocks, so a type test would never change one),
and DeepGA's skip bits move the same way, keyed by the pair of blocks they connect.

All follow DEAP's contract where they change an individual (in place, return a tuple) and draw
randomness from ``rng`` (Python's ``random`` module by default, which a search seeds).
"""
from __future__ import annotations

import copy
import math
import random as _random
from typing import Any, Callable, Sequence

KEEP = "keep"
"""Difference/velocity entry: leave the particle's layer at this position as it is."""
REMOVE = "remove"
"""Difference/velocity entry: drop the particle's layer at this position (if it has one)."""
ALIGNS = ("start", "end")


def _per_gene(value: Any, n: int) -> list[float]:
    """A scalar repeated ``n`` times, or a sequence of ``n`` numbers, as a list of floats."""
    if isinstance(value, (int, float)):
        return [float(value)] * n
    values = [float(v) for v in value]
    if len(values) != n:
        raise ValueError(f"expected {n} values (one per gene), got {len(values)}")
    return values


def clampSpeed(speed: Sequence[float], smin: Any = 0.0, smax: Any = math.inf) -> list[float]:
    """DEAP's speed limit: each component's magnitude is raised to ``smin`` or lowered to
    ``smax`` (sign kept). ``smin``/``smax`` are numbers or one number per gene."""
    lows, highs = _per_gene(smin, len(speed)), _per_gene(smax, len(speed))
    out = []
    for v, lo, hi in zip(speed, lows, highs):
        if abs(v) < lo:
            v = math.copysign(lo, v)
        elif abs(v) > hi:
            v = math.copysign(hi, v)
        out.append(float(v))
    return out


def updateParticle(part: Any, best: Sequence[float], phi1: float = 2.0, phi2: float = 2.0, inertia: float = 1.0,
                   low: Any = None, up: Any = None, rng: Any = None) -> tuple[Any]:
    """Move a continuous particle towards its own best (``part.best``) and the swarm's ``best``.

    ``part`` is a list of floats with attributes ``speed`` (a list, replaced by the new speed),
    ``best``, ``smin`` and ``smax`` (as in DEAP's example; numbers or one per gene). ``phi1`` and
    ``phi2`` are the cognitive and social acceleration limits, ``inertia`` scales the previous
    speed (1.0, no inertia weight, is DEAP's example). With ``low``/``up`` (numbers or one per
    gene) the new position is clipped to them. The particle is changed in place and returned as
    a 1-tuple.
    """
    rng = rng or _random
    speed = []
    for x, v, b_own, b_swarm in zip(part, part.speed, part.best, best):
        u1, u2 = rng.uniform(0, phi1), rng.uniform(0, phi2)
        speed.append(inertia * v + u1 * (b_own - x) + u2 * (b_swarm - x))
    part.speed = clampSpeed(speed, part.smin, part.smax)
    position = [x + v for x, v in zip(part, part.speed)]
    if low is not None or up is not None:
        lows = _per_gene(-math.inf if low is None else low, len(position))
        ups = _per_gene(math.inf if up is None else up, len(position))
        position = [min(max(x, lo), hi) for x, lo, hi in zip(position, lows, ups)]
    part[:] = position
    return (part,)


# -- psoCNN's discrete update on layer lists ----------------------------------------------------

def _check_align(align: str) -> None:
    if align not in ALIGNS:
        raise ValueError(f"align={align!r} is invalid: expected one of {ALIGNS}")


def layer_difference(p1: Sequence[Any], p2: Sequence[Any], align: str = "start",
                     same: Callable[[Any, Any], bool] = lambda a, b: a == b) -> list[Any]:
    """psoCNN's ``P1 ⊖ P2`` of two layer lists, one entry per position of the longer list:
    ``KEEP`` where both have the same layer (``same``), P1's layer where they differ or only P1
    has one, ``REMOVE`` where only P2 has one. ``align="end"`` pairs the lists from their last
    layers (psoCNN's fully connected part)."""
    _check_align(align)
    a, b = (list(p1), list(p2)) if align == "start" else (list(p1)[::-1], list(p2)[::-1])
    diff: list[Any] = []
    for i in range(max(len(a), len(b))):
        if i < len(a) and i < len(b):
            diff.append(KEEP if same(a[i], b[i]) else a[i])
        else:
            diff.append(a[i] if i < len(a) else REMOVE)
    return diff if align == "start" else diff[::-1]


def layer_velocity(diff_pbest: Sequence[Any], diff_gbest: Sequence[Any], cg: float, align: str = "start",
                   rng: Any = None) -> list[Any]:
    """psoCNN's velocity: each position from ``diff_gbest`` with probability ``cg``, else from
    ``diff_pbest``; a position the chosen difference lacks is ``REMOVE``."""
    _check_align(align)
    rng = rng or _random
    dp, dg = (list(diff_pbest), list(diff_gbest)) if align == "start" else (list(diff_pbest)[::-1],
                                                                            list(diff_gbest)[::-1])
    velocity = []
    for i in range(max(len(dp), len(dg))):
        source = dg if rng.random() < cg else dp
        velocity.append(source[i] if i < len(source) else REMOVE)
    return velocity if align == "start" else velocity[::-1]


def apply_velocity(layers: Sequence[Any], velocity: Sequence[Any], align: str = "start") -> list[Any]:
    """psoCNN's ``P + velocity``: keep, replace, add or remove the layer at each position."""
    _check_align(align)
    p, v = (list(layers), list(velocity)) if align == "start" else (list(layers)[::-1], list(velocity)[::-1])
    out = []
    for i in range(max(len(p), len(v))):
        move = v[i] if i < len(v) else KEEP
        if move == REMOVE:
            continue
        if move == KEEP:
            if i < len(p):
                out.append(p[i])
        else:
            out.append(move)
    return out if align == "start" else out[::-1]


def _pair_difference(p1: dict, p2: dict) -> dict:
    """``P1 ⊖ P2`` of skip bits keyed by (from, to) block pairs, with the layer-list rules."""
    diff = {k: KEEP if k in p2 and p2[k] == bit else bit for k, bit in p1.items()}
    diff.update({k: REMOVE for k in p2 if k not in p1})
    return diff


def repairLayerList(individual: Any, space: Any, rng: Any = None) -> tuple[Any]:
    """Bring a layer-list genome back within ``space``'s limits: at most ``max_conv_blocks`` conv
    blocks (extra ones dropped from the output end), at least ``min_conv_blocks`` (new random
    blocks appended), the same for dense blocks from the input end (their alignment), and a
    skip string sized to the conv blocks. In place; returns a 1-tuple."""
    rng = rng or _random
    while len(individual.conv) > space.max_conv_blocks:
        individual.remove_conv(len(individual.conv) - 1)
    while len(individual.conv) < space.min_conv_blocks:
        individual.insert_conv(len(individual.conv), space.random_conv(rng))
    while len(individual.dense) > space.max_dense:
        del individual.dense[0]
    while len(individual.dense) < space.min_dense:
        individual.dense.insert(0, space.random_dense(rng))
    individual.resize_skips()
    return (individual,)


def updateLayerList(individual: Any, pbest: Any, gbest: Any, cg: float = 0.5, space: Any = None,
                    rng: Any = None) -> tuple[Any]:
    """psoCNN's particle update on a DeepGA genome (``conv``/``dense`` block lists + skip bits):
    the velocity takes each position from ``gbest ⊖ individual`` with probability ``cg``, else
    from ``pbest ⊖ individual``; the individual moves by it and, given ``space`` (the DeepGA
    encoding), is repaired to its limits. Conv blocks align from the input, dense blocks from the
    output, skip bits by the blocks they connect; a genome's ``head`` (flatten or global pooling)
    is one more position, taken from gbest with probability ``cg``, else from pbest (no draw
    where they agree). In place; returns a 1-tuple."""
    rng = rng or _random
    conv_v = layer_velocity(layer_difference(pbest.conv, individual.conv),
                            layer_difference(gbest.conv, individual.conv), cg, rng=rng)
    dense_v = layer_velocity(layer_difference(pbest.dense, individual.dense, "end"),
                             layer_difference(gbest.dense, individual.dense, "end"), cg, "end", rng)
    own = individual.skip_pairs()
    dp, dg = _pair_difference(pbest.skip_pairs(), own), _pair_difference(gbest.skip_pairs(), own)
    pairs = {}
    for key in sorted(dp.keys() | dg.keys()):
        source = dg if rng.random() < cg else dp
        move = source.get(key, REMOVE)
        if move == KEEP:
            pairs[key] = own[key]
        elif move != REMOVE:
            pairs[key] = move
    individual.conv = [copy.copy(b) for b in apply_velocity(individual.conv, conv_v)]  # no block shared with a best
    individual.dense = [copy.copy(b) for b in apply_velocity(individual.dense, dense_v, "end")]
    individual._set_skips(pairs)
    if getattr(individual, "head", None) is not None:  # DeepGA's head: one categorical position
        individual.head = pbest.head if pbest.head != gbest.head and rng.random() >= cg else gbest.head
    if space is not None:
        repairLayerList(individual, space, rng)
    return (individual,)
