"""Variation operators for layer-list genomes (DeepGA): block crossover and block mutations.

They follow DEAP's contract: they change individuals in place and return them as a tuple, and
draw randomness from ``rng`` (Python's ``random`` module by default, like DEAP's operators).
A genome here is anything with ``conv`` and ``dense`` lists, a ``skips`` bit list and the
``insert_conv``/``remove_conv``/``resize_skips`` methods of
:class:`evokit.encodings.deepga.DeepGAGenome`; mutations draw new blocks from ``space`` (an
object with ``random_conv(rng)`` and ``random_dense(rng)``, such as the DeepGA encoding) and
respect its ``min_/max_conv_blocks`` and ``min_/max_dense`` bounds.
"""
from __future__ import annotations

import random as _random
from typing import Any

MUTATIONS = ("insert", "remove", "resample", "flip", "head")


def cut_points(n1: int, n2: int, bounds: tuple[int, int], rng: Any) -> tuple[int, int]:
    """Random cut points (a, b) such that both children's lengths stay within ``bounds``."""
    low, high = bounds
    pairs = [(a, b) for a in range(n1 + 1) for b in range(n2 + 1)
             if low <= a + n2 - b <= high and low <= b + n1 - a <= high]
    return rng.choice(pairs) if pairs else (n1, n2)


def cxBlockLists(ind1: Any, ind2: Any, conv_bounds: tuple[int, int] = (1, 3), dense_bounds: tuple[int, int] = (0, 2),
                 rng: Any = None) -> tuple[Any, Any]:
    """DeepGA crossover: one-point crossover of the conv-block lists and of the dense-block lists
    with a cut point drawn in each parent (so parents of unequal length mix), then one-point
    crossover of the skip bits; each child's skip string is then resized to its conv blocks.

    Children's list lengths stay within ``conv_bounds`` and ``dense_bounds`` (min, max).
    """
    rng = rng or _random
    for attr, bounds in (("conv", conv_bounds), ("dense", dense_bounds)):
        l1, l2 = getattr(ind1, attr), getattr(ind2, attr)
        a, b = cut_points(len(l1), len(l2), bounds, rng)
        setattr(ind1, attr, l1[:a] + l2[b:])
        setattr(ind2, attr, l2[:b] + l1[a:])
    if getattr(ind1, "head", None) != getattr(ind2, "head", None) and rng.random() < 0.5:
        ind1.head, ind2.head = ind2.head, ind1.head
    shared = min(len(ind1.skips), len(ind2.skips))
    if shared > 1:
        cut = rng.randint(1, shared - 1)
        ind1.skips[cut:shared], ind2.skips[cut:shared] = ind2.skips[cut:shared], ind1.skips[cut:shared]
    ind1.resize_skips()
    ind2.resize_skips()
    return ind1, ind2


def mutInsertBlock(individual: Any, space: Any, rng: Any = None) -> tuple[Any]:
    """Insert a new random conv or dense block at a random position (if below the maximum)."""
    rng = rng or _random
    options = [k for k, n, high in (("conv", len(individual.conv), space.max_conv_blocks),
                                     ("dense", len(individual.dense), space.max_dense)) if n < high]
    if options:
        kind = rng.choice(options)
        if kind == "conv":
            individual.insert_conv(rng.randint(0, len(individual.conv)), space.random_conv(rng))
        else:
            individual.dense.insert(rng.randint(0, len(individual.dense)), space.random_dense(rng))
    return (individual,)


def mutRemoveBlock(individual: Any, space: Any, rng: Any = None) -> tuple[Any]:
    """Remove a random conv or dense block (if above the minimum)."""
    rng = rng or _random
    options = [k for k, n, low in (("conv", len(individual.conv), space.min_conv_blocks),
                                   ("dense", len(individual.dense), space.min_dense)) if n > low]
    if options:
        kind = rng.choice(options)
        if kind == "conv":
            individual.remove_conv(rng.randrange(len(individual.conv)))
        else:
            del individual.dense[rng.randrange(len(individual.dense))]
    return (individual,)


def mutResampleBlock(individual: Any, space: Any, rng: Any = None) -> tuple[Any]:
    """Replace one random block by a new random block of the same kind."""
    rng = rng or _random
    slots = [("conv", i) for i in range(len(individual.conv))] + [("dense", i) for i in range(len(individual.dense))]
    if slots:
        kind, i = rng.choice(slots)
        getattr(individual, kind)[i] = space.random_conv(rng) if kind == "conv" else space.random_dense(rng)
    return (individual,)


def mutFlipSkip(individual: Any, rng: Any = None) -> tuple[Any]:
    """Flip one random skip-connection bit (no change when there are none)."""
    rng = rng or _random
    if individual.skips:
        i = rng.randrange(len(individual.skips))
        individual.skips[i] = 1 - individual.skips[i]
    return (individual,)


def mutLayerList(individual: Any, space: Any, rng: Any = None,
                 weights: tuple[float, ...] = (0.3, 0.2, 0.3, 0.2, 0.2)) -> tuple[Any]:
    """DeepGA mutation: one of insert / remove / re-sample a block / flip a skip bit / change the
    head (when ``space.heads`` offers more than one), drawn with ``weights`` among the kinds that
    can change this individual."""
    rng = rng or _random
    can = {"insert": len(individual.conv) < space.max_conv_blocks or len(individual.dense) < space.max_dense,
           "remove": len(individual.conv) > space.min_conv_blocks or len(individual.dense) > space.min_dense,
           "resample": bool(individual.conv or individual.dense),
           "flip": bool(individual.skips),
           "head": len(getattr(space, "heads", ())) > 1}
    kinds = [(k, w) for k, w in zip(MUTATIONS, weights) if can[k] and w > 0]
    if not kinds:
        return (individual,)
    kind = rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
    if kind == "insert":
        return mutInsertBlock(individual, space, rng)
    if kind == "remove":
        return mutRemoveBlock(individual, space, rng)
    if kind == "resample":
        return mutResampleBlock(individual, space, rng)
    if kind == "head":
        individual.head = rng.choice([h for h in space.heads if h != individual.head])
        return (individual,)
    return mutFlipSkip(individual, rng)
