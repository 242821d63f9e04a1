"""DeepGA's optional genes for small networks: a conv block's stride and the genome's head."""
import random

import pytest

from evokit.encodings.deepga import HEADS, ConvBlock, DeepGA, DeepGAGenome, check_genome
from evokit.errors import ConfigError, GenotypeError
from evokit.netspec import GlobalPool
from evokit.operators.layerlist import cxBlockLists, mutLayerList


def genome(stride=1, head="flatten"):
    return DeepGAGenome([ConvBlock(8, 5, "none", 2, "relu", stride), ConvBlock(8, 5, "max", 2, "relu", stride)],
                        [], [], head=head)


def test_stride_downsamples_and_head_pools_globally():
    enc = DeepGA(strides=(1, 2), heads=HEADS)
    flat = enc.decode(genome(), (40, 1), 10)
    strided = enc.decode(genome(stride=2), (40, 1), 10)
    pooled = enc.decode(genome(head="global_avg"), (40, 1), 10)
    # 40 -> 20 (pool) flattened 20x8, against 40 -> 20 -> 10 (strides) -> 5 (pool): 5x8
    assert flat.params - strided.params == (20 - 5) * 8 * 10
    assert any(isinstance(node.layer, GlobalPool) for node in pooled.nodes)
    assert pooled.params == flat.params - (20 * 8 - 8) * 10
    assert "s2" in enc.describe(genome(stride=2)) and "global_avg" in enc.describe(genome(head="global_avg"))


def test_the_papers_encoding_draws_no_new_genes():
    enc = DeepGA()
    rng = random.Random(3)
    for _ in range(50):
        g = enc.random(rng)
        assert g.head == "flatten" and all(b.stride == 1 for b in g.conv)


def test_priors_are_drawn_and_varied():
    enc = DeepGA(strides=(1, 2), heads=("flatten", "global_avg"), min_conv_blocks=2)
    rng = random.Random(0)
    genomes = [enc.random(rng) for _ in range(60)]
    assert {g.head for g in genomes} == {"flatten", "global_avg"}
    assert {b.stride for g in genomes for b in g.conv} == {1, 2}
    g = genome()
    changed = False
    for seed in range(40):
        mutLayerList(g, enc, random.Random(seed), weights=(0, 0, 0, 0, 1))
        changed |= g.head != "flatten"
    assert changed and g.head in enc.heads
    a, b = genome(head="flatten"), genome(head="global_avg")
    heads = set()
    for seed in range(20):
        a, b = genome(head="flatten"), genome(head="global_avg")
        cxBlockLists(a, b, conv_bounds=(1, 4), rng=random.Random(seed))
        heads.add(a.head)
        assert {a.head, b.head} == {"flatten", "global_avg"}
    assert heads == {"flatten", "global_avg"}


def test_json_round_trip_and_bad_genes():
    enc = DeepGA(strides=(1, 2), heads=HEADS)
    g = genome(stride=2, head="global_max")
    assert enc.from_json(enc.to_json(g)) == g
    old = enc.to_json(genome())
    del old["head"]
    for block in old["conv"]:
        del block["stride"]
    assert enc.from_json(old) == genome()  # genotypes written before these genes still load
    with pytest.raises(GenotypeError, match="head='spp'"):
        check_genome(genome(head="spp"))
    with pytest.raises(GenotypeError, match=r"conv\[0\].stride=0"):
        check_genome(genome(stride=0))
    with pytest.raises(ConfigError, match="heads"):
        DeepGA(heads=("flatten", "attention"))
    with pytest.raises(ConfigError, match="strides"):
        DeepGA(strides=(0,))
