"""Falkenauer's grouping encoding: a partition of items into groups, one network part per group.

A genotype is a :class:`GroupingGenome`, a list whose entry ``i`` is the label of the group that
holds item ``i``. Labels are arbitrary: relabelled or reordered copies of a partition decode to
the same network and are at distance 0. Decoding works on the canonical form, whose groups are
ordered by their smallest item.

* **Tabular data** ``(F,)``: items are input features; item ``i`` covers the features
  ``{j : j % n_items == i}`` (so any ``F`` works; items covering no feature are ignored). Each
  group is a parallel branch: a ``Select`` of its features (omitted when the group covers every
  feature), then a Dense layer. Its width grows with the share of features the group covers: a
  group of ``k`` features gets ``units[(k * len(units) - 1) // F]`` (the whole input gets the
  last entry). The branches are concatenated, then the head.
* **Images** ``(H, W, C)`` **and sequences** ``(L, C)``: items are layer slots; slot ``i`` is a
  convolution (Conv2D or Conv1D, same padding) of ``filters[i % len(filters)]`` filters and
  kernel ``kernel_size``. Each group is a stage: its slots in item order, then a pooling (dropped
  where it would not fit). Stages follow the canonical group order, then the head.
"""
from __future__ import annotations

import itertools
from typing import Any

from deap import base

from evokit.encodings.base import Encoding, add_head, rng_or_global
from evokit.errors import GenotypeError, check_choice, check_choices, check_int
from evokit.netspec import ACTIVATIONS, Concat, Conv1D, Conv2D, Dense, Graph, NetSpec, Pool, add_pool, merge
from evokit.netspec.select import Select
from evokit.operators import grouping as operators
from evokit.operators.grouping import canonical_labels, groups_of

POOLS = ("max", "avg", "none")


class GroupingGenome(list):
    """A grouping genotype: entry ``i`` is the group label of item ``i``.

    Its ``fitness`` (set by the toolbox) is not part of equality; two genomes are equal when their
    labels are, so compare ``canonical()`` forms to compare partitions.
    """

    def __init__(self, labels: Any = ()):
        super().__init__(labels)
        self.fitness: Any = None

    def groups(self) -> list[list[int]]:
        """The groups, each a sorted list of items, ordered by their smallest item."""
        return groups_of(self)

    def canonical(self) -> "GroupingGenome":
        """The same partition labelled 0, 1, ... in the order of each group's smallest item."""
        return GroupingGenome(canonical_labels(self))

    def __repr__(self) -> str:
        return f"GroupingGenome({list(self)!r})"


class Grouping(Encoding):
    """Falkenauer's grouping encoding (feature-group branches, or conv stages).

    Args:
        n_items: number of items: input features (tabular data: item ``i`` covers features
            ``j`` with ``j % n_items == i``) or conv slots (images, sequences: every slot is one
            convolution, so ``n_items`` is also the network's depth in convolutions).
        max_groups: most groups a genotype may have (random genotypes and operators have
            between 1 and ``min(max_groups, n_items)``).
        units: widths a tabular branch's Dense layer takes, narrowest first (see the module
            docstring for which one a group gets).
        filters: filters of the conv slots, cycled: slot ``i`` has ``filters[i % len(filters)]``.
        kernel_size: kernel of every conv slot.
        pool: pooling after each stage: "max", "avg" or "none".
        pool_size: size (and stride) of that pooling.
        activation: activation of the branch Dense layers and the convolutions.
    """

    name = "grouping"

    def __init__(self, n_items: int = 8, max_groups: int = 4, units: tuple[int, ...] = (8, 16, 32),
                 filters: tuple[int, ...] = (4, 8, 16), kernel_size: int = 3, pool: str = "max",
                 pool_size: int = 2, activation: str = "relu"):
        self.n_items = check_int("n_items", n_items, minimum=1)
        self.max_groups = check_int("max_groups", max_groups, minimum=1)
        self.units = check_choices("units", units)
        self.filters = check_choices("filters", filters)
        self.kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        self.pool = check_choice("pool", pool, POOLS)
        self.pool_size = check_int("pool_size", pool_size, minimum=1)
        self.activation = check_choice("activation", activation, ACTIVATIONS)

    # -- sampling ---------------------------------------------------------------------------

    def random(self, rng: Any = None) -> GroupingGenome:
        """A random partition with between 1 and ``min(max_groups, n_items)`` groups (the number
        drawn uniformly, then the items spread so that every group gets at least one)."""
        rng = rng_or_global(rng)
        k = rng.randint(1, min(self.max_groups, self.n_items))
        items = list(range(self.n_items))
        rng.shuffle(items)
        labels = [0] * self.n_items
        for position, item in enumerate(items):
            labels[item] = position if position < k else rng.randrange(k)
        return GroupingGenome(canonical_labels(labels))

    # -- decoding ---------------------------------------------------------------------------

    def decode(self, genotype: GroupingGenome, input_shape: tuple[int, ...], n_outputs: int,
               task: str = "classification") -> NetSpec:
        self.check(genotype)
        groups = groups_of(genotype)
        g = Graph(input_shape)
        x = self._branches(g, groups) if len(g.input_shape) == 1 else self._stages(g, groups)
        return add_head(g, x, n_outputs, task)

    def features(self, group: list[int], n_features: int) -> list[int]:
        """The input features a group of items covers, sorted."""
        return sorted(j for item in group for j in range(item, n_features, self.n_items))

    def branch_units(self, n_selected: int, n_features: int) -> int:
        """Width of the Dense layer of a branch reading ``n_selected`` of ``n_features`` features."""
        return self.units[(n_selected * len(self.units) - 1) // n_features]

    def slot(self, item: int, rank: int) -> Conv1D | Conv2D:
        """The convolution of slot ``item`` for inputs with ``rank`` spatial axes."""
        conv = Conv2D if rank == 2 else Conv1D
        return conv(self.filters[item % len(self.filters)], self.kernel_size, activation=self.activation)

    def _branches(self, g: Graph, groups: list[list[int]]) -> int:
        n_features = g.input_shape[0]
        outputs = []
        for group in groups:
            selected = self.features(group, n_features)
            if not selected:
                continue
            x = g.input if len(selected) == n_features else g.add(Select(tuple(selected)), g.input)
            dense = Dense(self.branch_units(len(selected), n_features), activation=self.activation)
            outputs.append(g.add(dense, x))
        return merge(g, Concat(), outputs)

    def _stages(self, g: Graph, groups: list[list[int]]) -> int:
        rank = len(g.input_shape) - 1
        x = g.input
        for group in groups:
            for item in group:
                x = g.add(self.slot(item, rank), x)
            if self.pool != "none":
                x = add_pool(g, Pool(self.pool, self.pool_size), x)
        return x

    # -- variation, distance, display ---------------------------------------------------------

    def register(self, toolbox: base.Toolbox) -> None:
        toolbox.register("mate", operators.cxGroupInjection, max_groups=self.max_groups)
        toolbox.register("mutate", operators.mutGrouping, max_groups=self.max_groups)

    def distance(self, a: GroupingGenome, b: GroupingGenome) -> float:
        """The number of item pairs grouped together in one genotype and apart in the other
        (0 exactly when both are the same partition, whatever the labels). Any two partitions of
        ``n_items`` items have a distance, whatever their number of groups."""
        check_genome(a, self.n_items)
        check_genome(b, self.n_items)
        return float(sum((a[i] == a[j]) != (b[i] == b[j])
                         for i, j in itertools.combinations(range(self.n_items), 2)))

    def describe(self, genotype: GroupingGenome) -> str:
        groups = groups_of(genotype)
        text = " ".join("{" + ",".join(map(str, group)) + "}" for group in groups)
        return f"{len(groups)} group{'s' if len(groups) != 1 else ''}: {text}"

    def to_json(self, genotype: GroupingGenome) -> list[int]:
        return canonical_labels(genotype)

    def from_json(self, data: Any) -> GroupingGenome:
        if not isinstance(data, (list, tuple)):
            raise GenotypeError(f"genotype={data!r} is invalid: expected a list of {self.n_items} group labels")
        genome = GroupingGenome(data)
        self.check(genome)
        return genome

    def check(self, genotype: Any) -> None:
        """Raise GenotypeError naming the bad gene unless ``genotype`` fits this encoding."""
        check_genome(genotype, self.n_items, self.max_groups)


def check_genome(genome: Any, n_items: int | None = None, max_groups: int | None = None) -> None:
    """Raise GenotypeError naming the bad gene if ``genome`` is not a partition of ``n_items``
    items into at most ``max_groups`` groups (a list or tuple of integer labels)."""
    if not isinstance(genome, (list, tuple)):
        raise GenotypeError(f"genotype={type(genome).__name__} is invalid: expected a GroupingGenome "
                            "(a list of integer group labels)")
    if n_items is not None and len(genome) != n_items:
        raise GenotypeError(f"genotype={list(genome)!r} is invalid: expected {n_items} labels (n_items), "
                            f"got {len(genome)}")
    for i, label in enumerate(genome):
        if isinstance(label, bool) or not isinstance(label, int):
            raise GenotypeError(f"genotype[{i}]={label!r} is invalid: expected an integer group label")
    n_groups = len(set(genome))
    if max_groups is not None and n_groups > max_groups:
        raise GenotypeError(f"genotype={list(genome)!r} is invalid: it has {n_groups} groups, expected at most "
                            f"max_groups={max_groups}")


