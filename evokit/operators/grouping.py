"""Variation operators for grouping genomes (Falkenauer's grouping GA): group injection
crossover and merge / split / move mutations.

A grouping genome is a list whose item ``i`` is the label of the group holding item ``i``; the
labels themselves mean nothing, only the partition does. The operators work on the groups, not
on the labels (a label-wise crossover would mix unrelated groups), follow DEAP's contract (they
change individuals in place and return them as a tuple) and draw randomness from ``rng``
(Python's ``random`` module by default, like DEAP's operators). They write their results in
canonical form: groups numbered 0, 1, ... in the order of their smallest item.

``max_groups`` (None: no bound) is the most groups a child may have; operators never add groups
beyond it, and never leave a group empty.
"""
from __future__ import annotations

import random as _random
from typing import Any, Sequence

from evokit.errors import GenotypeError

MUTATIONS = ("merge", "split", "move")


# -- partitions -----------------------------------------------------------------------------------

def groups_of(labels: Sequence[Any]) -> list[list[int]]:
    """The groups of a label list, each a sorted list of items, ordered by their smallest item."""
    by_label: dict[Any, list[int]] = {}
    for item, label in enumerate(labels):
        by_label.setdefault(label, []).append(item)
    return sorted(by_label.values(), key=lambda group: group[0])


def canonical_labels(labels: Sequence[Any]) -> list[int]:
    """The same partition labelled 0, 1, ... in the order of each group's smallest item."""
    number: dict[Any, int] = {}
    return [number.setdefault(label, len(number)) for label in labels]


def _write(individual: Any, groups: list[list[int]]) -> None:
    """Store ``groups`` (a partition of ``range(len(individual))``) in ``individual``, canonically."""
    labels = [0] * len(individual)
    for k, group in enumerate(groups):
        for item in group:
            labels[item] = k
    individual[:] = canonical_labels(labels)


def _limit(max_groups: int | None, n_items: int) -> int:
    return n_items if max_groups is None else max(1, max_groups)


# -- crossover ------------------------------------------------------------------------------------

def inject_groups(host: list[list[int]], injected: list[list[int]], max_groups: int | None,
                  rng: Any) -> list[list[int]]:
    """Falkenauer's injection: the groups of ``host`` with ``injected`` (groups of another
    partition of the same items) inserted intact.

    Host groups that share items with an injected group are dissolved; their other items are
    *evicted* and re-inserted, each into a random surviving host group (or, when none survives,
    together as one new group). If the surviving and injected groups together exceed
    ``max_groups``, random surviving groups are dissolved as well. Injected groups stay exactly as
    they were unless there are already ``max_groups`` of them (only possible when the donor had
    more than ``max_groups``), in which case evicted items join random injected groups.
    """
    n_items = sum(len(group) for group in host)
    limit = _limit(max_groups, n_items)
    moved = {item for group in injected for item in group}
    kept = [list(group) for group in host if moved.isdisjoint(group)]
    evicted = [item for group in host if not moved.isdisjoint(group) for item in group if item not in moved]
    while kept and len(injected) + len(kept) > limit:
        evicted += kept.pop(rng.randrange(len(kept)))
    injected = [list(group) for group in injected]
    if evicted:
        if kept:
            for item in sorted(evicted):
                kept[rng.randrange(len(kept))].append(item)
        elif len(injected) < limit:
            kept = [sorted(evicted)]
        else:
            for item in sorted(evicted):
                injected[rng.randrange(len(injected))].append(item)
    return injected + kept


def _choose_groups(groups: list[list[int]], limit: int, rng: Any) -> list[list[int]]:
    """A random non-empty subset of ``groups`` (at most ``limit`` of them), in their order."""
    k = rng.randint(1, min(len(groups), limit))
    chosen = sorted(rng.sample(range(len(groups)), k))
    return [groups[i] for i in chosen]


def cxGroupInjection(ind1: Any, ind2: Any, max_groups: int | None = None, rng: Any = None) -> tuple[Any, Any]:
    """Falkenauer's grouping crossover.

    A random non-empty subset of ``ind2``'s groups is injected into ``ind1`` (see
    :func:`inject_groups`: the injected groups arrive intact, ``ind1``'s groups they overlap are
    dissolved and their remaining items re-inserted into ``ind1``'s surviving groups), and
    symmetrically a random subset of ``ind1``'s groups into ``ind2``; both from the parents as
    they were. Children are partitions of the same items with at most ``max_groups`` groups.
    """
    rng = rng or _random
    if len(ind1) != len(ind2):
        raise GenotypeError(f"genotype={list(ind2)!r} is invalid: expected {len(ind1)} labels like its mate, "
                            f"got {len(ind2)}")
    if not len(ind1):
        return ind1, ind2
    limit = _limit(max_groups, len(ind1))
    groups1, groups2 = groups_of(ind1), groups_of(ind2)
    child1 = inject_groups(groups1, _choose_groups(groups2, limit, rng), max_groups, rng)
    child2 = inject_groups(groups2, _choose_groups(groups1, limit, rng), max_groups, rng)
    _write(ind1, child1)
    _write(ind2, child2)
    return ind1, ind2


# -- mutations ------------------------------------------------------------------------------------

def mutMergeGroups(individual: Any, rng: Any = None) -> tuple[Any]:
    """Merge two random groups into one (no change with a single group)."""
    rng = rng or _random
    groups = groups_of(individual)
    if len(groups) >= 2:
        a, b = sorted(rng.sample(range(len(groups)), 2))
        groups[a] += groups.pop(b)
        _write(individual, groups)
    return (individual,)


def mutSplitGroup(individual: Any, max_groups: int | None = None, rng: Any = None) -> tuple[Any]:
    """Split a random group of two or more items into two non-empty random parts (no change
    when there are already ``max_groups`` groups or every group has one item)."""
    rng = rng or _random
    groups = groups_of(individual)
    splittable = [k for k, group in enumerate(groups) if len(group) >= 2]
    if splittable and len(groups) < _limit(max_groups, len(individual)):
        group = groups.pop(rng.choice(splittable))
        members = list(group)
        rng.shuffle(members)
        cut = rng.randint(1, len(members) - 1)
        groups += [sorted(members[:cut]), sorted(members[cut:])]
        _write(individual, groups)
    return (individual,)


def mutMoveItem(individual: Any, rng: Any = None) -> tuple[Any]:
    """Move a random item into another, random, existing group (no change with a single group).
    An item that was alone in its group dissolves that group."""
    rng = rng or _random
    groups = groups_of(individual)
    if len(groups) >= 2:
        item = rng.randrange(len(individual))
        others = [k for k, group in enumerate(groups) if item not in group]
        target = groups[rng.choice(others)]
        source = next(group for group in groups if item in group)
        source.remove(item)
        target.append(item)
        _write(individual, [group for group in groups if group])
    return (individual,)


def mutGrouping(individual: Any, max_groups: int | None = None, rng: Any = None,
                weights: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> tuple[Any]:
    """Grouping mutation: one of merge two groups / split a group / move an item, drawn with
    ``weights`` among the kinds that can change this individual."""
    rng = rng or _random
    groups = groups_of(individual)
    can = {"merge": len(groups) >= 2,
           "split": len(groups) < _limit(max_groups, len(individual)) and any(len(g) >= 2 for g in groups),
           "move": len(groups) >= 2}
    kinds = [(k, w) for k, w in zip(MUTATIONS, weights) if can[k] and w > 0]
    if not kinds:
        return (individual,)
    kind = rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
    if kind == "merge":
        return mutMergeGroups(individual, rng)
    if kind == "split":
        return mutSplitGroup(individual, max_groups, rng)
    return mutMoveItem(individual, rng)
