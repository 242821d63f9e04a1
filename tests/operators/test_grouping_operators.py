"""Grouping operators (Falkenauer): DEAP's contract, valid partitions within max_groups, group
injection, eviction and re-insertion, mutations, determinism, toolbox use."""
from __future__ import annotations

import copy
import random

import pytest
from deap import algorithms, base
from hypothesis import given, settings
from hypothesis import strategies as st

from evokit.encodings.grouping import Grouping, GroupingGenome, check_genome
from evokit.errors import GenotypeError
from evokit.individual import attach_fitness
from evokit.operators.grouping import (canonical_labels, cxGroupInjection, groups_of, inject_groups, mutGrouping,
                                       mutMergeGroups, mutMoveItem, mutSplitGroup)

seeds = st.integers(0, 2**32 - 1)
encodings = st.sampled_from([Grouping(n_items=1, max_groups=1), Grouping(n_items=2, max_groups=2),
                             Grouping(n_items=7, max_groups=3), Grouping(n_items=12, max_groups=5),
                             Grouping(n_items=5, max_groups=5), Grouping(n_items=9, max_groups=1)])


def partition(g) -> frozenset:
    return frozenset(frozenset(group) for group in groups_of(g))


def assert_valid(enc: Grouping, g) -> None:
    check_genome(g, enc.n_items, enc.max_groups)
    assert 1 <= len(set(g)) <= min(enc.max_groups, enc.n_items)
    assert list(g) == canonical_labels(g)
    assert sorted(item for group in groups_of(g) for item in group) == list(range(enc.n_items))


# -- crossover ------------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(enc=encodings, s1=seeds, s2=seeds, s3=seeds)
def test_crossover_contract_and_valid_children(enc, s1, s2, s3):
    a, b = enc.random(random.Random(s1)), enc.random(random.Random(s2))
    parents = (partition(a), partition(b))
    out = cxGroupInjection(a, b, max_groups=enc.max_groups, rng=random.Random(s3))
    assert isinstance(out, tuple) and len(out) == 2 and out[0] is a and out[1] is b
    for child, donor in ((a, parents[1]), (b, parents[0])):
        assert_valid(enc, child)
        # at least one of the donor's groups arrives intact, as a group of the child
        assert partition(child) & donor


@settings(max_examples=100, deadline=None)
@given(n=st.integers(2, 14), limit=st.integers(1, 6), s1=seeds, s2=seeds, s3=seeds)
def test_crossover_with_parents_beyond_max_groups_still_respects_it(n, limit, s1, s2, s3):
    free = Grouping(n_items=n, max_groups=n)
    a, b = free.random(random.Random(s1)), free.random(random.Random(s2))
    cxGroupInjection(a, b, max_groups=limit, rng=random.Random(s3))
    for child in (a, b):
        assert_valid(Grouping(n_items=n, max_groups=limit), child)


def test_injection_transfers_the_group_intact_and_reinserts_every_evicted_item():
    host = [[0, 1, 2], [3, 4], [5, 6, 7], [8, 9]]
    injected = [[2, 3, 9]]                 # overlaps groups {0,1,2}, {3,4}, {8,9}
    for seed in range(30):
        child = inject_groups(host, injected, max_groups=4, rng=random.Random(seed))
        assert [2, 3, 9] in child                                      # intact, exactly
        assert sorted(i for g in child for i in g) == list(range(10))  # nothing lost or duplicated
        assert len(child) == 2                                         # {5,6,7} survives, the others dissolved
        survivor = next(g for g in child if g != [2, 3, 9])
        assert set(survivor) == {0, 1, 4, 5, 6, 7, 8}                  # evicted items joined the survivor


def test_injection_keeps_untouched_groups_and_forms_a_group_of_evicted_items_when_none_survive():
    child = inject_groups([[0, 1], [2, 3]], [[1, 2]], max_groups=3, rng=random.Random(0))
    assert sorted(map(sorted, child)) == [[0, 3], [1, 2]]
    child = inject_groups([[0, 1], [2, 3], [4]], [[0, 1]], max_groups=3, rng=random.Random(0))
    assert sorted(map(sorted, child)) == [[0, 1], [2, 3], [4]]


def test_injection_dissolves_survivors_to_stay_within_max_groups():
    host = [[0, 1, 2, 3], [4], [5], [6], [7]]
    injected = [[0, 1], [2, 3]]            # both overlap the first group: 4 survivors + 2 injected > 5
    for seed in range(20):
        child = inject_groups(host, injected, max_groups=5, rng=random.Random(seed))
        assert len(child) == 5 and [0, 1] in child and [2, 3] in child
        assert sorted(i for g in child for i in g) == list(range(8))


def test_crossover_evicted_items_are_reinserted_by_hand():
    a = GroupingGenome([0, 0, 0, 1, 1, 2, 2, 2])
    b = GroupingGenome([0, 1, 1, 1, 2, 2, 0, 0])
    for seed in range(20):
        x, y = cxGroupInjection(copy.deepcopy(a), copy.deepcopy(b), max_groups=3, rng=random.Random(seed))
        for child in (x, y):
            assert len(child) == 8 and 1 <= len(set(child)) <= 3
            assert partition(child) & (partition(a) | partition(b))


def test_crossover_rejects_parents_of_different_lengths():
    with pytest.raises(GenotypeError, match="genotype"):
        cxGroupInjection(GroupingGenome([0, 1]), GroupingGenome([0, 1, 1]))


def test_crossover_is_deterministic_given_rng_and_keeps_fitness():
    enc = Grouping(n_items=10, max_groups=4)
    rng = random.Random(0)
    a, b = attach_fitness(enc.random(rng), (1.0,)), attach_fitness(enc.random(rng), (1.0,))
    a.fitness.values = (0.5,)
    x = cxGroupInjection(copy.deepcopy(a), copy.deepcopy(b), max_groups=4, rng=random.Random(9))
    y = cxGroupInjection(copy.deepcopy(a), copy.deepcopy(b), max_groups=4, rng=random.Random(9))
    assert x == y and x[0].fitness.values == (0.5,)


def test_crossover_of_identical_parents_changes_nothing():
    a = GroupingGenome([0, 0, 1, 2, 1])
    x, y = cxGroupInjection(copy.deepcopy(a), copy.deepcopy(a), max_groups=3, rng=random.Random(4))
    assert x == y == a


# -- mutations ------------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(enc=encodings, s1=seeds, s2=seeds)
def test_every_mutation_returns_a_valid_partition_in_place(enc, s1, s2):
    rng = random.Random(s2)
    for op, kwargs in ((mutMergeGroups, {}), (mutSplitGroup, {"max_groups": enc.max_groups}), (mutMoveItem, {}),
                       (mutGrouping, {"max_groups": enc.max_groups})):
        g = enc.random(random.Random(s1))
        out = op(g, rng=rng, **kwargs)
        assert isinstance(out, tuple) and len(out) == 1 and out[0] is g
        assert_valid(enc, g)


def test_merge_joins_two_groups():
    g = GroupingGenome([0, 1, 1, 2])
    mutMergeGroups(g, rng=random.Random(0))
    assert len(set(g)) == 2 and len(groups_of(g)) == 2
    single = GroupingGenome([0, 0, 0])
    assert mutMergeGroups(single, rng=random.Random(0))[0] == [0, 0, 0]


def test_split_makes_two_nonempty_parts_and_respects_max_groups():
    for seed in range(20):
        g = GroupingGenome([0, 0, 0, 1])
        mutSplitGroup(g, max_groups=3, rng=random.Random(seed))
        groups = groups_of(g)
        assert len(groups) == 3 and [3] in groups
        assert sorted(i for group in groups for i in group) == [0, 1, 2, 3]
    full = GroupingGenome([0, 0, 1, 2])
    assert mutSplitGroup(full, max_groups=3, rng=random.Random(0))[0] == [0, 0, 1, 2]
    singles = GroupingGenome([0, 1, 2])
    assert mutSplitGroup(singles, rng=random.Random(0))[0] == [0, 1, 2]


def test_move_changes_one_item_and_never_adds_a_group():
    seen = set()
    for seed in range(40):
        before = GroupingGenome([0, 0, 1, 1, 2])
        after = mutMoveItem(copy.deepcopy(before), rng=random.Random(seed))[0]
        assert len(set(after)) <= 3
        # one item changed groups: only the pairs it forms differ (at most 4 of them)
        assert 1 <= Grouping(n_items=5).distance(before, after) <= 4
        seen.add(len(set(after)))
    assert seen == {2, 3}        # moving item 4 (alone) dissolves its group


def test_mutgrouping_uses_every_kind_and_is_deterministic():
    outcomes = set()
    for seed in range(60):
        g = GroupingGenome([0, 0, 0, 1, 1, 2])
        mutGrouping(g, max_groups=4, rng=random.Random(seed))
        outcomes.add(len(set(g)))
    assert outcomes == {2, 3, 4}           # merge, move, split
    a = mutGrouping(GroupingGenome([0, 1, 1, 2, 0]), max_groups=4, rng=random.Random(3))
    b = mutGrouping(GroupingGenome([0, 1, 1, 2, 0]), max_groups=4, rng=random.Random(3))
    assert a == b
    assert mutGrouping(GroupingGenome([0]), max_groups=1, rng=random.Random(0))[0] == [0]


def test_operators_default_to_pythons_random_module():
    random.seed(11)
    a = mutGrouping(GroupingGenome([0, 0, 1, 1, 2, 2, 3]), max_groups=5)[0]
    x = cxGroupInjection(GroupingGenome([0, 0, 1, 1, 2]), GroupingGenome([0, 1, 1, 2, 2]), max_groups=3)
    random.seed(11)
    assert mutGrouping(GroupingGenome([0, 0, 1, 1, 2, 2, 3]), max_groups=5)[0] == a
    assert cxGroupInjection(GroupingGenome([0, 0, 1, 1, 2]), GroupingGenome([0, 1, 1, 2, 2]), max_groups=3) == x


# -- toolbox --------------------------------------------------------------------------------------

def test_register_binds_the_encoding_bounds_and_runs_in_deap_varand():
    enc = Grouping(n_items=8, max_groups=3)
    tb = base.Toolbox()
    enc.register(tb)
    assert tb.mate.keywords == {"max_groups": 3} and tb.mutate.keywords == {"max_groups": 3}
    random.seed(2)
    pop = [attach_fitness(enc.random(), (1.0,)) for _ in range(20)]
    for _ in range(5):
        pop = algorithms.varAnd(pop, tb, cxpb=0.8, mutpb=0.8)
        for ind in pop:
            assert_valid(enc, ind)
            assert hasattr(ind, "fitness")
