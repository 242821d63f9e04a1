"""benchmarks/vs_peers.py: the DeepGA genome <-> hyperparameter mapping the peers search through,
and the hypervolume the benchmark reports."""
from __future__ import annotations

import importlib.util
import math
import random
import sys
from pathlib import Path

import pytest

from evokit.encodings.deepga import HEADS, ConvBlock, DeepGA, DeepGAGenome, DenseBlock

def wide_encoding():
    """A space wider than the benchmark's own (two dense layers, every DeepGA choice, all genes)."""
    return DeepGA(max_conv_blocks=4, max_dense=2, strides=(1, 2), heads=HEADS)


_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "vs_peers.py"


@pytest.fixture(scope="module")
def vs_peers():
    spec = importlib.util.spec_from_file_location("vs_peers_bench", _PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_sampled_parameter_set_decodes_to_a_valid_network(vs_peers):
    enc = vs_peers.make_encoding()
    space = vs_peers.build_space(enc)
    rng = random.Random(0)
    counts = set()
    for _ in range(60):
        params = vs_peers.params_from(space, vs_peers.random_chooser(rng))
        genome = vs_peers.genome_from_params(params)
        for shape in ((8, 8, 1), (40, 1)):
            spec = enc.decode(genome, shape, 10)
            assert spec.params > 0 and spec.output_shape[-1] == 10
        assert vs_peers.params_from_genome(genome) == params
        counts.add((len(genome.conv), len(genome.dense)))
    assert len(counts) > 6  # block counts vary


def test_random_genomes_of_the_encoding_round_trip_through_the_parameters(vs_peers):
    enc = wide_encoding()
    space = vs_peers.build_space(enc)
    rng = random.Random(1)
    for _ in range(60):
        genome = enc.random(rng)
        params = vs_peers.params_from_genome(genome)
        walked = vs_peers.params_from(space, lambda p, active: params.get(p.name, p.values[0]))
        assert walked == params  # every active value of the genome is a choice of the space
        assert all(params[p.name] in p.values for p in space if p.name in params)
        assert vs_peers.genome_from_params(params) == genome


def test_space_follows_the_encodings_choice_tuples(vs_peers):
    enc = wide_encoding()
    by_name = {p.name: p for p in vs_peers.build_space(enc)}
    assert by_name["conv0_kernel_size"].values == enc.kernel_sizes
    assert by_name["dense1_dropout"].values == enc.dropouts
    assert by_name["n_conv"].values == tuple(range(enc.min_conv_blocks, enc.max_conv_blocks + 1))
    assert by_name["conv3_filters"].parent == "n_conv" and by_name["conv3_filters"].needs == 3
    assert "skip_1_3" in by_name and "skip_2_3" not in by_name  # only non-adjacent pairs


def test_genome_with_known_blocks_maps_to_named_parameters(vs_peers):
    genome = DeepGAGenome([ConvBlock(8, 3, "max", 2, "relu"), ConvBlock(4, 5, "none", 3, "elu"),
                           ConvBlock(16, 2, "avg", 2, "tanh")], [DenseBlock(32, "relu", 0.2)], [1])
    params = vs_peers.params_from_genome(genome)
    assert params["n_conv"] == 3 and params["conv1_pool"] == "none" and params["skip_0_2"] == 1
    assert params["n_dense"] == 1 and params["dense0_units"] == 32
    assert "conv3_filters" not in params and "dense1_units" not in params


def test_hypervolume_on_hand_made_points(vs_peers):
    hv = vs_peers.hypervolume
    # one network of 1,000 params (x = 2) at accuracy 0.6 (y = 0.5 over chance 0.1): a 2 x 0.5 box
    assert hv([(0.6, 1_000)], chance=0.1) == pytest.approx(1.0)
    # a second, larger and more accurate network adds the strip above: x in [0, 1], y up to 0.8
    assert hv([(0.6, 1_000), (0.9, 10_000)], chance=0.1) == pytest.approx(1.0 + 1 * 0.3)
    # a dominated point changes nothing; points over P_ref or at chance add nothing
    assert hv([(0.6, 1_000), (0.9, 10_000), (0.5, 20_000), (0.99, 200_000), (0.1, 10)], chance=0.1) \
        == pytest.approx(1.3)
    assert hv([], chance=0.1) == 0.0
    assert hv([(0.55, 100)], chance=0.1) == pytest.approx(3 * 0.45)


def test_front_thin_and_best_under_cap(vs_peers):
    points = [{"params": p, "val_accuracy": a} for p, a in
              [(500, 0.5), (800, 0.4), (1_000, 0.7), (1_000, 0.6), (3_000, 0.9), (9_000, 0.85)]]
    front = vs_peers.pareto_front(points)
    assert [(p["params"], p["val_accuracy"]) for p in front] == [(500, 0.5), (1_000, 0.7), (3_000, 0.9)]
    assert vs_peers.thin(front, 2) == [front[0], front[-1]]
    assert vs_peers.best_under_cap(front, 2_000)["params"] == 1_000
    assert vs_peers.best_under_cap(front, 100) is None
    assert math.isclose(vs_peers.weighted_score(1.0, 0), 1.0)


def test_every_field_of_the_genome_is_a_searched_parameter(vs_peers):
    """A field added to DeepGA's blocks or genome (with its choice tuple on the encoding) is searched
    by the peers without editing the benchmark."""
    import dataclasses

    enc = wide_encoding()
    names = {p.name for p in vs_peers.build_space(enc)}
    for key, block, _, high in vs_peers.BLOCK_LISTS:
        for f in dataclasses.fields(block):
            assert {f"{key}{i}_{f.name}" for i in range(getattr(enc, high))} <= names
    extra = [f.name for f in dataclasses.fields(DeepGAGenome) if f.compare and f.name not in vs_peers.NOT_SEARCHED]
    assert set(extra) <= names


def test_pooled_fronts_table_and_figure_on_made_up_runs(vs_peers, tmp_path):
    def run(method, seed, front):
        members = [{"params": p, "test_accuracy": a} for p, a in front]
        hv = vs_peers.hypervolume([(a, p) for p, a in front], 0.1)
        return {"method": method, "dataset": "digits", "seed": seed, "budget_s": 30.0, "hypervolume": hv,
                "val_hypervolume": hv, "trained": 10, "overrun_s": 0.0, "front": members,
                "best_under_cap": {str(c): None for c in vs_peers.CAPS["digits"]}}

    results = [run("evokit", 0, [(90, 0.5), (1_000, 0.95)]), run("kt-random", 0, [(300, 0.8), (5_000, 0.97)]),
               run("evokit", 1, [(400, 0.9)]), run("kt-random", 1, [(200, 0.6), (400, 0.92)])]
    pooled = vs_peers.pooled_hypervolumes(results)
    for seed, whole in enumerate(pooled):  # the pooled front dominates each method's own
        assert all(whole >= r["hypervolume"] - 1e-12 for r in results if r["seed"] == seed)
    assert pooled[0] > max(r["hypervolume"] for r in results if r["seed"] == 0)  # each adds what the other lacks
    text = vs_peers.table(results, "digits", ["evokit", "kt-random"])
    assert "evokit / best peer (KT RandomSearch (w-sum))" in text and "pooled" in text
    vs_peers.plot_seed_fronts(results, ["digits"], ["evokit", "kt-random"], 0, str(tmp_path / "fronts.png"))
    assert (tmp_path / "fronts.png").read_bytes()[:4] == b"\x89PNG"
