"""PSO update operators: DEAP's continuous particle and psoCNN's discrete layer-list update."""
import random

import pytest

import evokit as ek
from evokit.encodings.deepga import ConvBlock, DeepGAGenome, DenseBlock, check_genome
from evokit.encodings.real import RealGenome
from evokit.operators.pso import (KEEP, REMOVE, apply_velocity, clampSpeed, layer_difference, layer_velocity,
                                  repairLayerList, updateLayerList, updateParticle)


def particle(position, speed, best, smin=0.0, smax=1.0):
    p = RealGenome(position)
    p.speed, p.best, p.smin, p.smax = list(speed), RealGenome(best), smin, smax
    return p


# -- continuous --------------------------------------------------------------------------------

def test_clamp_speed_keeps_sign_and_limits_magnitude():
    assert clampSpeed([3.0, -3.0, 0.5, -0.01, 0.0], smin=0.1, smax=1.0) == [1.0, -1.0, 0.5, -0.1, 0.1]
    assert clampSpeed([5.0, 5.0], smax=[1.0, 2.0]) == [1.0, 2.0]


def test_update_with_no_acceleration_moves_by_inertia_times_speed():
    p = particle([0.5, 0.5], [0.2, -0.1], [0.9, 0.9])
    out = updateParticle(p, [0.0, 0.0], phi1=0.0, phi2=0.0, inertia=0.5)
    assert out == (p,) and p.speed == pytest.approx([0.1, -0.05]) and list(p) == pytest.approx([0.6, 0.45])


def test_update_is_pulled_towards_both_bests_and_matches_deap_formula():
    rng = random.Random(4)
    p = particle([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], smax=100.0)
    updateParticle(p, [2.0, 2.0, 2.0], phi1=1.5, phi2=2.5, inertia=0.7, rng=rng)
    rng = random.Random(4)
    expected = []
    for _ in range(3):
        u1, u2 = rng.uniform(0, 1.5), rng.uniform(0, 2.5)
        expected.append(u1 * 1.0 + u2 * 2.0)
    assert p.speed == pytest.approx(expected) and list(p) == pytest.approx(expected)
    assert all(v > 0 for v in p.speed)


def test_speed_is_clipped_to_smax_and_position_to_bounds():
    for seed in range(50):
        rng = random.Random(seed)
        p = particle([rng.uniform(0, 1) for _ in range(6)], [rng.uniform(-3, 3) for _ in range(6)],
                     [rng.uniform(0, 1) for _ in range(6)], smin=0.01, smax=0.3)
        updateParticle(p, [rng.uniform(-5, 5) for _ in range(6)], phi1=4.0, phi2=4.0, low=0.0, up=1.0, rng=rng)
        assert all(0.01 <= abs(v) <= 0.3 for v in p.speed)
        assert all(0.0 <= x <= 1.0 for x in p)
    p = particle([0.95], [0.3], [0.95], smax=0.3)
    updateParticle(p, [0.95], phi1=0.0, phi2=0.0, low=[0.0], up=[1.0])
    assert list(p) == [1.0]  # clipped, not 1.25


# -- psoCNN's discrete difference, velocity and update -----------------------------------------------

A, B, C, D = "A", "B", "C", "D"


def test_layer_difference_keep_replace_add_remove():
    assert layer_difference([A, B, C], [A, D]) == [KEEP, B, C]           # keep, replace, add
    assert layer_difference([A], [A, B, C]) == [KEEP, REMOVE, REMOVE]     # P2's extra layers removed
    assert layer_difference([], [A]) == [REMOVE]
    assert layer_difference([A, B], [A, B]) == [KEEP, KEEP]
    # dense part: aligned from the output end
    assert layer_difference([A, B, C], [C], align="end") == [A, B, KEEP]
    assert layer_difference([C], [A, B, C], align="end") == [REMOVE, REMOVE, KEEP]


def test_difference_applied_to_p2_gives_p1():
    rng = random.Random(0)
    for _ in range(200):
        p1 = [rng.choice("ABCD") for _ in range(rng.randint(0, 5))]
        p2 = [rng.choice("ABCD") for _ in range(rng.randint(0, 5))]
        for align in ("start", "end"):
            assert apply_velocity(p2, layer_difference(p1, p2, align), align) == p1


def test_velocity_follows_gbest_with_probability_cg():
    dp, dg = [KEEP] * 4, [B] * 4
    assert layer_velocity(dp, dg, cg=1.0) == dg and layer_velocity(dp, dg, cg=0.0) == dp
    assert layer_velocity([KEEP], [B, C], cg=0.0) == [KEEP, REMOVE]        # missing in pBest's -> remove
    rng = random.Random(1)
    picks = [layer_velocity(dp, dg, cg=0.3, rng=rng) for _ in range(2000)]
    share = sum(v == B for vel in picks for v in vel) / 8000
    assert 0.27 < share < 0.33


def test_apply_velocity_keeps_replaces_adds_and_removes():
    assert apply_velocity([A, B, C], [KEEP, D, REMOVE]) == [A, D]
    assert apply_velocity([A], [KEEP, B, C]) == [A, B, C]
    assert apply_velocity([A, B], [REMOVE, KEEP], align="end") == [B]


def genome(conv, dense, skips=None):
    conv = [ConvBlock(f, 3) for f in conv]
    g = DeepGAGenome(conv, [DenseBlock(u) for u in dense], [])
    g.resize_skips()
    if skips:
        g._set_skips(skips)
    return g


def test_update_layer_list_with_cg_one_becomes_gbest_and_zero_becomes_pbest():
    enc = ek.encodings.DeepGA(max_conv_blocks=4, max_dense=3)
    p, pb, gb = genome([4, 8], [16]), genome([8, 8, 16], [32, 16]), genome([16, 4, 4, 8], [64], {(0, 2): 1, (1, 3): 1})
    for cg, target in ((1.0, gb), (0.0, pb)):
        new = genome([4, 8], [16])
        assert updateLayerList(new, pb, gb, cg=cg, space=enc) == (new,)
        assert new == target
    assert p == genome([4, 8], [16])


def test_update_layer_list_moves_the_head_towards_the_bests():
    def headed(head):
        g = genome([4, 8], [16])
        g.head = head
        return g

    pb, gb = headed("global_avg"), headed("global_max")
    for cg, target in ((1.0, "global_max"), (0.0, "global_avg")):
        new = headed("flatten")
        updateLayerList(new, pb, gb, cg=cg)
        assert new.head == target
    heads = set()
    for seed in range(40):  # cg=0.5: either best's head, never the particle's own
        new = headed("flatten")
        updateLayerList(new, pb, gb, cg=0.5, rng=random.Random(seed))
        heads.add(new.head)
    assert heads == {"global_avg", "global_max"}
    agree, disagree = random.Random(3), random.Random(3)  # one draw for the head where the bests differ, none else
    updateLayerList(headed("flatten"), headed("global_avg"), headed("global_avg"), cg=0.5, rng=agree)
    updateLayerList(headed("flatten"), headed("global_avg"), headed("global_max"), cg=0.5, rng=disagree)
    agree.random()
    assert agree.getstate() == disagree.getstate()


def test_update_layer_list_does_not_share_blocks_with_the_bests():
    pb, gb = genome([8, 8], [32]), genome([16, 4], [64])
    new = genome([4], [])
    updateLayerList(new, pb, gb, cg=1.0)
    new.conv[0].filters = 99
    assert gb.conv[0].filters == 16


def test_repair_enforces_block_limits():
    enc = ek.encodings.DeepGA(min_conv_blocks=2, max_conv_blocks=3, min_dense=1, max_dense=2)
    g = genome([4, 8, 16, 32, 64], [8, 16, 32, 64])
    repairLayerList(g, enc, random.Random(0))
    assert [b.filters for b in g.conv] == [4, 8, 16] and [b.units for b in g.dense] == [32, 64]
    g = genome([4], [])
    repairLayerList(g, enc, random.Random(0))
    assert len(g.conv) == 2 and g.conv[0].filters == 4 and len(g.dense) == 1
    check_genome(g)


@pytest.mark.parametrize("settings", [dict(), dict(min_conv_blocks=0, max_conv_blocks=5, max_dense=3),
                                      dict(min_conv_blocks=2, max_conv_blocks=4, min_dense=1, max_dense=1)])
def test_updated_genomes_stay_valid_and_decode(settings):
    enc = ek.encodings.DeepGA(**settings)
    rng = random.Random(7)
    changed = 0
    for _ in range(150):
        p, pb, gb = enc.random(rng), enc.random(rng), enc.random(rng)
        before = DeepGAGenome(list(p.conv), list(p.dense), list(p.skips))
        updateLayerList(p, pb, gb, cg=rng.random(), space=enc, rng=rng)
        check_genome(p)
        assert enc.min_conv_blocks <= len(p.conv) <= enc.max_conv_blocks
        assert enc.min_dense <= len(p.dense) <= enc.max_dense
        spec = enc.decode(p, (8, 8, 1), 10)
        assert spec.output_shape == (10,) and spec.params > 0
        assert all(b in pb.conv + gb.conv + before.conv for b in p.conv)  # blocks only come from the three
        changed += p != before
    assert changed > 100
