"""Layer-list operators (DeepGA): DEAP's contract, validity, bounds, determinism, toolbox use."""
from __future__ import annotations

import copy
import random

import pytest
from deap import algorithms, base
from hypothesis import given, settings
from hypothesis import strategies as st

from evokit.encodings import ConvBlock, DeepGA, DeepGAGenome, DenseBlock
from evokit.encodings.deepga import check_genome, n_skip_bits
from evokit.individual import attach_fitness
from evokit.operators import (cxBlockLists, mutFlipSkip, mutInsertBlock, mutLayerList, mutRemoveBlock,
                              mutResampleBlock)

ENCODINGS = [
    DeepGA(),
    DeepGA(min_conv_blocks=1, max_conv_blocks=5, min_dense=0, max_dense=3, skip_probability=0.5),
    DeepGA(min_conv_blocks=2, max_conv_blocks=4, min_dense=1, max_dense=2, skip_probability=0.5),
]

seeds = st.integers(0, 2**32 - 1)
encodings = st.sampled_from(ENCODINGS)


def assert_in_bounds(enc: DeepGA, g: DeepGAGenome) -> None:
    check_genome(g)
    assert enc.min_conv_blocks <= len(g.conv) <= enc.max_conv_blocks
    assert enc.min_dense <= len(g.dense) <= enc.max_dense


def mate(enc: DeepGA, a, b, rng):
    return cxBlockLists(a, b, conv_bounds=(enc.min_conv_blocks, enc.max_conv_blocks),
                        dense_bounds=(enc.min_dense, enc.max_dense), rng=rng)


# -- crossover ------------------------------------------------------------------------------------

@settings(max_examples=100, deadline=None)
@given(enc=encodings, s1=seeds, s2=seeds, s3=seeds)
def test_crossover_contract_validity_and_bounds(enc, s1, s2, s3):
    a, b = enc.random(random.Random(s1)), enc.random(random.Random(s2))
    conv_ids = sorted(map(id, a.conv + b.conv))
    dense_ids = sorted(map(id, a.dense + b.dense))
    out = mate(enc, a, b, random.Random(s3))
    assert isinstance(out, tuple) and len(out) == 2
    assert out[0] is a and out[1] is b
    for child in out:
        assert_in_bounds(enc, child)
    # blocks are exchanged, not created or lost
    assert sorted(map(id, a.conv + b.conv)) == conv_ids
    assert sorted(map(id, a.dense + b.dense)) == dense_ids


@settings(max_examples=60, deadline=None)
@given(seed=seeds)
def test_crossover_of_unequal_parents(seed):
    enc = DeepGA(max_conv_blocks=5, max_dense=3, skip_probability=1.0)
    short = DeepGAGenome([ConvBlock(4, 3)], [], [])
    long = DeepGAGenome([ConvBlock(8 + i, 3) for i in range(5)], [DenseBlock(8), DenseBlock(16), DenseBlock(32)],
                        [1] * n_skip_bits(5))
    a, b = mate(enc, short, long, random.Random(seed))
    for child in (a, b):
        assert_in_bounds(enc, child)
    assert len(a.conv) + len(b.conv) == 6 and len(a.dense) + len(b.dense) == 3
    for child in (a, b):
        enc.decode(child, (8, 8, 1), 3).validate()


def test_crossover_mixes_unequal_parents_over_many_seeds():
    enc = DeepGA(max_conv_blocks=5)
    lengths = set()
    for seed in range(100):
        short = DeepGAGenome([ConvBlock(4, 3)], [], [])
        long = DeepGAGenome([ConvBlock(8 + i, 3) for i in range(5)], [], [0] * n_skip_bits(5))
        a, _ = mate(enc, short, long, random.Random(seed))
        lengths.add(len(a.conv))
    assert len(lengths) >= 3   # cut points really vary


def test_crossover_with_tight_bounds_keeps_them():
    enc = DeepGA(min_conv_blocks=3, max_conv_blocks=3, min_dense=2, max_dense=2)
    rng = random.Random(0)
    for _ in range(50):
        a, b = mate(enc, enc.random(rng), enc.random(rng), rng)
        assert len(a.conv) == len(b.conv) == 3 and len(a.dense) == len(b.dense) == 2


@settings(max_examples=50, deadline=None)
@given(enc=encodings, s1=seeds, s2=seeds, s3=seeds)
def test_crossover_is_deterministic_for_a_seeded_rng(enc, s1, s2, s3):
    a, b = enc.random(random.Random(s1)), enc.random(random.Random(s2))
    a2, b2 = copy.deepcopy(a), copy.deepcopy(b)
    mate(enc, a, b, random.Random(s3))
    mate(enc, a2, b2, random.Random(s3))
    assert (a, b) == (a2, b2)


# -- mutations ------------------------------------------------------------------------------------

MUTATIONS = {
    "insert": lambda g, enc, rng: mutInsertBlock(g, space=enc, rng=rng),
    "remove": lambda g, enc, rng: mutRemoveBlock(g, space=enc, rng=rng),
    "resample": lambda g, enc, rng: mutResampleBlock(g, space=enc, rng=rng),
    "flip": lambda g, enc, rng: mutFlipSkip(g, rng=rng),
    "layerlist": lambda g, enc, rng: mutLayerList(g, space=enc, rng=rng),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
@settings(max_examples=60, deadline=None)
@given(enc=encodings, s1=seeds, s2=seeds)
def test_mutation_contract_validity_and_bounds(name, enc, s1, s2):
    g = enc.random(random.Random(s1))
    out = MUTATIONS[name](g, enc, random.Random(s2))
    assert isinstance(out, tuple) and len(out) == 1 and out[0] is g
    assert_in_bounds(enc, g)
    for b in g.conv:
        assert b.filters in enc.filters and b.pool in enc.pools
    for b in g.dense:
        assert b.units in enc.units
    enc.decode(g, (8, 8, 1), 3).validate()


@pytest.mark.parametrize("name", sorted(MUTATIONS))
@settings(max_examples=40, deadline=None)
@given(enc=encodings, s1=seeds, s2=seeds)
def test_mutation_is_deterministic_for_a_seeded_rng(name, enc, s1, s2):
    g = enc.random(random.Random(s1))
    h = copy.deepcopy(g)
    MUTATIONS[name](g, enc, random.Random(s2))
    MUTATIONS[name](h, enc, random.Random(s2))
    assert g == h


@settings(max_examples=80, deadline=None)
@given(enc=encodings, s1=seeds, s2=seeds)
def test_insert_adds_exactly_one_block_unless_full(enc, s1, s2):
    g = enc.random(random.Random(s1))
    n_conv, n_dense = len(g.conv), len(g.dense)
    full = n_conv == enc.max_conv_blocks and n_dense == enc.max_dense
    mutInsertBlock(g, enc, random.Random(s2))
    grown = (len(g.conv) - n_conv, len(g.dense) - n_dense)
    assert grown == (0, 0) if full else grown in {(1, 0), (0, 1)}


@settings(max_examples=80, deadline=None)
@given(enc=encodings, s1=seeds, s2=seeds)
def test_remove_drops_exactly_one_block_unless_minimal(enc, s1, s2):
    g = enc.random(random.Random(s1))
    n_conv, n_dense = len(g.conv), len(g.dense)
    minimal = n_conv == enc.min_conv_blocks and n_dense == enc.min_dense
    mutRemoveBlock(g, enc, random.Random(s2))
    shrunk = (n_conv - len(g.conv), n_dense - len(g.dense))
    assert shrunk == (0, 0) if minimal else shrunk in {(1, 0), (0, 1)}


@settings(max_examples=60, deadline=None)
@given(enc=encodings, s1=seeds, s2=seeds)
def test_resample_keeps_lengths_and_changes_at_most_one_block(enc, s1, s2):
    g = enc.random(random.Random(s1))
    before = copy.deepcopy(g)
    mutResampleBlock(g, enc, random.Random(s2))
    assert len(g.conv) == len(before.conv) and len(g.dense) == len(before.dense)
    assert g.skips == before.skips
    changed = sum(x != y for x, y in zip(g.conv + g.dense, before.conv + before.dense))
    assert changed <= 1


@settings(max_examples=80, deadline=None)
@given(enc=encodings, s1=seeds, s2=seeds)
def test_flip_skip_changes_exactly_one_bit(enc, s1, s2):
    g = enc.random(random.Random(s1))
    before = copy.deepcopy(g)
    mutFlipSkip(g, rng=random.Random(s2))
    assert len(g.skips) == len(before.skips)
    assert sum(x != y for x, y in zip(g.skips, before.skips)) == (1 if before.skips else 0)
    assert g.conv == before.conv and g.dense == before.dense
    check_genome(g)


def test_flip_skip_without_bits_is_a_no_op():
    g = DeepGAGenome([ConvBlock(4, 3), ConvBlock(8, 3)], [], [])
    assert mutFlipSkip(g, rng=random.Random(0)) == (g,)
    assert g.skips == []


def test_mutations_at_bounds_are_no_ops():
    enc = DeepGA(min_conv_blocks=2, max_conv_blocks=2, min_dense=1, max_dense=1)
    g = enc.random(random.Random(0))
    before = copy.deepcopy(g)
    mutInsertBlock(g, enc, random.Random(1))
    mutRemoveBlock(g, enc, random.Random(1))
    assert g == before


def test_layerlist_uses_every_kind():
    enc = DeepGA(max_conv_blocks=5, max_dense=3, skip_probability=0.5)
    seen = set()
    for seed in range(200):
        g = DeepGAGenome([enc.random_conv(random.Random(seed)) for _ in range(3)],
                         [DenseBlock(8)], [0])
        before = copy.deepcopy(g)
        mutLayerList(g, enc, random.Random(seed))
        if len(g.conv) + len(g.dense) > len(before.conv) + len(before.dense):
            seen.add("insert")
        elif len(g.conv) + len(g.dense) < len(before.conv) + len(before.dense):
            seen.add("remove")
        elif g.skips != before.skips:
            seen.add("flip")
        elif g != before:
            seen.add("resample")
    assert seen == {"insert", "remove", "flip", "resample"}


def test_layerlist_weights_select_the_mutation():
    enc = DeepGA(max_conv_blocks=5)
    g = DeepGAGenome([ConvBlock(4, 3), ConvBlock(4, 3), ConvBlock(4, 3)], [], [0])
    for seed in range(20):
        h = copy.deepcopy(g)
        mutLayerList(h, enc, random.Random(seed), weights=(0, 0, 0, 1))
        assert h.skips == [1] and h.conv == g.conv


# -- DEAP toolbox ---------------------------------------------------------------------------------

def _population(enc: DeepGA, n: int, seed: int):
    rng = random.Random(seed)
    pop = [attach_fitness(enc.random(rng), (1.0, -1.0)) for _ in range(n)]
    for i, ind in enumerate(pop):
        ind.fitness.values = (0.5 + i / 100, float(i))
    return pop


def test_register_in_a_deap_toolbox():
    enc = DeepGA(max_conv_blocks=4)
    toolbox = base.Toolbox()
    enc.register(toolbox)
    random.seed(0)
    a, b = _population(enc, 2, 1)
    out = toolbox.mate(a, b)
    assert out[0] is a and out[1] is b
    (m,) = toolbox.mutate(a)
    assert m is a
    for ind in (a, b):
        assert_in_bounds(enc, ind)
        assert ind.fitness.valid   # operators leave fitness alone; the algorithm invalidates it


def test_deap_var_and_runs_on_a_population():
    enc = DeepGA(max_conv_blocks=4, skip_probability=0.5)
    toolbox = base.Toolbox()
    enc.register(toolbox)
    pop = _population(enc, 30, 2)
    originals = copy.deepcopy(pop)
    random.seed(3)
    offspring = algorithms.varAnd(pop, toolbox, cxpb=0.7, mutpb=0.7)
    assert len(offspring) == len(pop)
    assert pop == originals   # varAnd clones: parents unchanged
    changed = 0
    for child, parent in zip(offspring, originals):
        assert child is not parent
        assert_in_bounds(enc, child)
        enc.decode(child, (8, 8, 1), 10).validate()
        if not child.fitness.valid:
            changed += 1
        else:
            assert child.fitness.values == parent.fitness.values
    assert changed > len(pop) // 2


def test_deap_var_and_is_reproducible_with_the_global_seed():
    enc = DeepGA(max_conv_blocks=4, skip_probability=0.5)
    toolbox = base.Toolbox()
    enc.register(toolbox)
    runs = []
    for _ in range(2):
        pop = _population(enc, 20, 4)
        random.seed(5)
        runs.append(algorithms.varAnd(pop, toolbox, cxpb=0.5, mutpb=0.5))
    assert runs[0] == runs[1]
