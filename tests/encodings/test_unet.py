"""The U-Net encodings beyond the conformance suite: the skeleton's shape, depth repair, the cells'
widths, UNetBlocks' genes and operators, and tiny end-to-end searches by GP, GA and NSGA-II."""
import copy
import random
from collections import Counter

import keras
import numpy as np
import pytest

import evokit as ek
from evokit.encodings.unet import effective_depth
from evokit.encodings.unet_blocks import MUTATIONS, UNetBlock, UNetBlocksGenome, cxUNetBlocks, mutUNetBlocks
from evokit.errors import ConfigError, GenotypeError
from evokit.netspec import Concat, Conv2D, Conv2DTranspose, GlobalPool, Pool, SeparableConv2D, Upsample

from _blobs import blob_data  # noqa: E402 (tests/ is on the path: conftest.py lives there)

UNetTree, UNetBlocks = ek.encodings.UNetTree, ek.encodings.UNetBlocks


def small_tree(**kw):
    return UNetTree(**{"base_filters": 4, **kw})


def small_blocks(**kw):
    return UNetBlocks(**{"filters": (4, 8), **kw})


def kinds(spec, kind):
    """The layers of ``spec`` of type ``kind``, in node order."""
    return [n.layer for n in spec.nodes if type(n.layer) is kind]


def genome(levels, bottleneck):
    """A UNetBlocks genotype from (filters, kernel) pairs."""
    return UNetBlocksGenome([[UNetBlock(f, k) for f, k in level] for level in levels],
                            [UNetBlock(f, k) for f, k in bottleneck])


# -- decoding -------------------------------------------------------------------------------------

VARIANTS = {"tree": (small_tree, {"upsampling": ("transpose", "bilinear")}),
            "blocks": (small_blocks, {"upsampling": ("transpose", "nearest")})}
UNET_SHAPES = [((32, 32, 1), 1), ((24, 24, 3), 3)]


def _check_random_unets(kind, shape, n_out, count):
    """``count`` random genotypes of encoding ``kind`` decode on ``shape`` (segmentation) to
    networks whose Keras model has the input's height and width and the spec's parameters; even
    genotypes are decoded with the learned up-convolution, odd ones with a weightless upsampling."""
    factory, options = VARIANTS[kind]
    encodings, rng = [factory(upsampling=u) for u in options["upsampling"]], random.Random(0)
    for i in range(count):
        encoding = encodings[i % 2]
        spec = encoding.decode(encoding.random(rng), shape, n_out, "segmentation")
        model = ek.build(spec, seed=0)
        assert tuple(model.output_shape[1:]) == spec.output_shape == (*shape[:2], n_out)
        assert model.count_params() == spec.params, spec.summary()
        keras.backend.clear_session(free_memory=False)


@pytest.mark.parametrize("kind", sorted(VARIANTS))
@pytest.mark.parametrize("shape, n_out", UNET_SHAPES, ids=["32x32x1-binary", "24x24x3-3"])
def test_random_unets_build_to_the_input_size_with_the_specs_params(kind, shape, n_out):
    _check_random_unets(kind, shape, n_out, 4)


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(VARIANTS))
@pytest.mark.parametrize("shape, n_out", UNET_SHAPES, ids=["32x32x1-binary", "24x24x3-3"])
def test_fifty_random_unets_per_encoding_and_shape(kind, shape, n_out):  # 3-4 s each
    _check_random_unets(kind, shape, n_out, 50)


@pytest.mark.parametrize("sides, depth, expected", [((16, 16), 3, 3), ((24, 24), 3, 3), ((20, 28), 3, 2),
                                                     ((16, 16), 5, 4), ((15, 16), 3, 0), ((32, 8), 0, 0)])
def test_effective_depth_is_the_deepest_that_divides_both_sides(sides, depth, expected):
    assert effective_depth(sides, depth) == expected


def test_a_depth_the_sides_do_not_allow_is_repaired_not_rejected():
    tree = UNetTree(depth=3, base_filters=4).from_string("conv(inp, w100, k3)")
    spec = UNetTree(depth=3, base_filters=4).decode(tree, (20, 28, 1), 1, "segmentation")
    assert len(kinds(spec, Pool)) == len(kinds(spec, Conv2DTranspose)) == 2  # 20 and 28 halve twice, not thrice
    assert spec.output_shape == (20, 28, 1)
    blocks = genome([[(4, 3)], [(4, 3)], [(8, 3)]], [(8, 3)])
    spec = small_blocks().decode(blocks, (20, 28, 1), 1, "segmentation")
    assert len(kinds(spec, Pool)) == 2 and spec.output_shape == (20, 28, 1)
    assert [c.filters for c in kinds(spec, Conv2D)] == [4, 4, 8, 4, 4, 1]  # level 2 left out; head last
    odd = UNetTree(depth=3, base_filters=4).decode(tree, (15, 17, 2), 3, "segmentation")
    assert not kinds(odd, Pool) and odd.output_shape == (15, 17, 3)
    assert ek.build(odd).count_params() == odd.params


def test_the_tree_cell_runs_at_every_level_at_that_levels_width():
    encoding = small_tree(depth=2)
    spec = encoding.decode(encoding.from_string("sep(conv(inp, w100, k3), w50, k5)"), (16, 16, 1), 3, "segmentation")
    assert [c.filters for c in kinds(spec, Conv2D)] == [4, 8, 16, 8, 4, 3]  # levels 0, 1, bottleneck, 1, 0; head
    assert [(s.filters, s.kernel) for s in kinds(spec, SeparableConv2D)] == [(2, (5, 5)), (4, (5, 5)), (8, (5, 5)),
                                                                             (4, (5, 5)), (2, (5, 5))]
    assert [t.filters for t in kinds(spec, Conv2DTranspose)] == [8, 4]  # up-convolutions to the level's width
    assert [spec.shapes[i] for i, n in enumerate(spec.nodes) if type(n.layer) is Concat] == [(8, 8, 12), (16, 16, 6)]
    assert spec.nodes[-1].layer == Conv2D(3, 1, activation="softmax")


@pytest.mark.parametrize("cell", ["inp", "cat(inp, inp)", "res(inp, inp)"])
@pytest.mark.parametrize("upsampling", ["transpose", "nearest"])
def test_a_cell_that_adds_nothing_still_gives_a_unet(cell, upsampling):
    encoding = small_tree(depth=2, upsampling=upsampling)
    spec = encoding.decode(encoding.from_string(cell), (16, 16, 2), 1, "segmentation")
    assert len(kinds(spec, Pool)) == 2 and len(kinds(spec, Concat)) == 2 and spec.output_shape == (16, 16, 1)
    assert len(kinds(spec, Upsample)) == (2 if upsampling == "nearest" else 0)
    assert ek.build(spec).count_params() == spec.params


def test_residual_cells_project_the_narrower_branch():
    encoding = small_tree(depth=1)
    spec = encoding.decode(encoding.from_string("res(conv(inp, w100, k3), inp)"), (8, 8, 1), 1, "segmentation")
    # level 0: conv to 4, the 1-channel input projected to 4 by a linear 1x1 convolution, added
    assert Conv2D(4, 1, activation="linear") in kinds(spec, Conv2D)
    assert ek.build(spec).count_params() == spec.params


def test_unet_blocks_decoder_mirrors_its_level():
    blocks = genome([[(4, 3), (8, 5)]], [(16, 3)])
    spec = small_blocks().decode(blocks, (8, 8, 1), 1, "segmentation")
    assert [(c.filters, c.kernel[0]) for c in kinds(spec, Conv2D)] == [(4, 3), (8, 5), (16, 3), (8, 5), (4, 3), (1, 1)]
    assert [t.filters for t in kinds(spec, Conv2DTranspose)] == [8]  # the width of the level's skip
    empty = genome([[], [(4, 3)]], [])
    spec = small_blocks().decode(empty, (8, 8, 1), 1, "segmentation")
    assert spec.output_shape == (8, 8, 1) and ek.build(spec).count_params() == spec.params


@pytest.mark.parametrize("encoding", [small_tree(), small_blocks()], ids=["tree", "blocks"])
def test_on_images_of_another_task_the_encoder_is_a_classifier(encoding):
    rng = random.Random(3)
    for _ in range(5):
        spec = encoding.decode(encoding.random(rng), (8, 8, 1), 10, "classification")
        assert spec.output_shape == (10,) and isinstance(spec.nodes[-2].layer, GlobalPool)
        assert not kinds(spec, Conv2DTranspose) and not kinds(spec, Upsample) and not kinds(spec, Concat)
        assert ek.build(spec).count_params() == spec.params
        keras.backend.clear_session(free_memory=False)


@pytest.mark.parametrize("encoding", [UNetTree(), UNetBlocks()], ids=["tree", "blocks"])
def test_inputs_that_are_not_images_are_refused_naming_data(encoding):
    with pytest.raises(ConfigError, match=r"^data of input shape \(30,\) is invalid for UNet"):
        encoding.check_data(ek.datasets.load("breast_cancer"))
    encoding.check_data(blob_data(n=20))  # segmentation: spatial_output lets it through


@pytest.mark.parametrize("kwargs, field", [
    ({"depth": -1}, "depth"), ({"base_filters": 0}, "base_filters"), ({"upsampling": "cubic"}, "upsampling"),
    ({"widths": (0.5, 0.5)}, "widths"), ({"widths": (0,)}, "widths"), ({"widths": (1e-7,)}, "widths"),
    ({"widths": (0.123456, 0.1234561)}, "widths"),
    ({"kernel_sizes": ()}, "kernel_sizes"), ({"max_depth": 4, "max_height": 3}, "max_height")])
def test_unet_tree_arguments_are_checked_naming_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=rf"^{field}="):
        UNetTree(**kwargs)


@pytest.mark.parametrize("kwargs, field", [
    ({"max_depth": 0}, "max_depth"), ({"min_blocks": 3, "max_blocks": 2}, "max_blocks"),
    ({"filters": (4, 0)}, "filters"), ({"activations": ("relu", "swish2")}, "activations"),
    ({"upsampling": "area"}, "upsampling")])
def test_unet_blocks_arguments_are_checked_naming_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=rf"^{field}="):
        UNetBlocks(**kwargs)


def test_unet_tree_has_its_own_primitive_set_with_identifier_names():
    encoding = UNetTree(widths=(0.125, 0.5, 2))
    names = set(encoding.pset.mapping)
    assert {"conv", "sep", "res", "cat", "seq", "inp", "w12_5", "w50", "w200", "k3", "k5"} == names
    assert all(name.isidentifier() for name in names)
    assert encoding.pset is UNetTree(widths=(0.125, 0.5, 2)).pset  # cached, like Tree's
    assert "dense" not in names and "pool" not in names  # cells keep the resolution: the skeleton pools
    with pytest.raises(GenotypeError, match=r"'pool' is not one of"):
        encoding.from_string("pool(inp)")


# -- UNetBlocks genes -----------------------------------------------------------------------------

@pytest.mark.parametrize("data, gene", [
    ({"levels": [[{"filters": 4, "kernel_size": 3}, {"filters": 0, "kernel_size": 3}]], "bottleneck": []},
     r"levels\[0\]\[1\]\.filters=0"),
    ({"levels": [[]], "bottleneck": [{"filters": 4, "kernel_size": 3, "activation": "nope"}]},
     r"bottleneck\[0\]\.activation='nope'"),
    ({"levels": [[{"filters": 4}]], "bottleneck": []}, r"levels\[0\]\[0\]=\{'filters': 4\}"),
    ({"levels": [], "bottleneck": []}, r"levels=\[\]"),
    ({"levels": [[]]}, r"genotype="), ({"levels": [{"filters": 4}], "bottleneck": []}, r"levels="),
    ({"levels": [[]], "bottleneck": {"filters": 4}}, r"bottleneck=")])
def test_a_broken_genotype_from_json_names_the_gene(data, gene):
    with pytest.raises(GenotypeError, match=rf"^{gene}.* is invalid"):
        UNetBlocks().from_json(data)


def test_describe_and_distance_of_unet_blocks():
    encoding = small_blocks()
    a = genome([[(4, 3), (8, 5)], [(8, 3)]], [(8, 3)])
    a.levels[0][1].activation = "elu"
    assert encoding.describe(a) == "L0[C4k3 C8k5-elu] L1[C8k3] B[C8k3]"
    b = copy.deepcopy(a)
    b.levels[0][0].filters = 8  # one of three fields of one block
    assert encoding.distance(a, b) == pytest.approx(1 / 3)
    b.levels.pop()  # a level only ``a`` has: 1 + its one block
    assert encoding.distance(a, b) == encoding.distance(b, a) == pytest.approx(1 / 3 + 2)


def _check_bounds(encoding, genotype):
    assert 1 <= len(genotype.levels) <= encoding.max_depth
    for blocks in genotype.lists():
        assert encoding.min_blocks <= len(blocks) <= encoding.max_blocks


def test_variation_keeps_depth_and_block_counts_within_bounds_and_uses_every_mutation():
    encoding, rng = small_blocks(max_depth=3, min_blocks=0, max_blocks=3), random.Random(0)
    seen = Counter()
    for _ in range(300):
        a, b = encoding.random(rng), encoding.random(rng)
        depths = {len(a.levels), len(b.levels)}
        a2, b2 = cxUNetBlocks(a, b, bounds=(0, 3), rng=rng)
        assert a2 is a and b2 is b and {len(a.levels), len(b.levels)} == depths
        before = copy.deepcopy(a)
        (m,) = mutUNetBlocks(a, encoding, rng=rng)
        assert m is a
        for child in (a, b):
            _check_bounds(encoding, child)
        seen[len(m.levels) - len(before.levels)] += 1
        seen["changed"] += m != before
    # deepening and shallowing happen; only a re-sampled block drawn equal to the old one changes nothing
    assert seen[1] and seen[-1] and seen["changed"] >= 270
    assert MUTATIONS == ("insert", "remove", "resample", "deepen", "shallow")


def test_mutation_weights_pick_the_kind():
    encoding, rng = small_blocks(max_depth=3), random.Random(1)
    for weights, check in [((0, 0, 0, 1, 0), lambda before, after: len(after.levels) == len(before.levels) + 1),
                           ((0, 0, 0, 0, 1), lambda before, after: len(after.levels) == len(before.levels) - 1),
                           ((1, 0, 0, 0, 0), lambda before, after: sum(map(len, after.lists()))
                            == sum(map(len, before.lists())) + 1)]:
        for _ in range(20):
            g = genome([[(4, 3)], [(4, 3)]], [(8, 3)])
            before = copy.deepcopy(g)
            mutUNetBlocks(g, encoding, rng=rng, weights=weights)
            assert check(before, g)


# -- tiny searches --------------------------------------------------------------------------------

def _search(encoding, algorithm, data, objectives):
    return ek.Search(encoding=encoding, objectives=objectives, data=data, algorithm=algorithm, seed=0,
                     progress=False).run()


def _check_result(result, data):
    assert result.stats["trained"] >= 2 and not result.stats["failures"]
    best = result.best
    assert 0 <= best.values["val_dice"] <= 1 and best.model.count_params() == best.params
    predictions = result.final_model.predict(data.x_test, verbose=0)
    assert predictions.shape == (*data.y_test.shape, data.n_outputs)
    scores = ek.tasks.get("segmentation").score(data.y_test, predictions, prefix="test_")
    assert scores["test_dice"] == pytest.approx(result.test_scores["test_dice"])


def test_gp_evolves_unet_tree_cells():
    data = blob_data()
    result = _search(small_tree(depth=2, max_depth=2), ek.algorithms.GP(population=4, generations=1), data,
                     ek.fitness.ValidationDice(epochs=1))
    _check_result(result, data)
    assert isinstance(result.best.genotype, ek.encodings.TreeGenome)


def test_ga_evolves_unet_blocks_on_three_classes():
    data = blob_data(classes=3)
    # the conformance suite's real GA runs population 4 on binary masks; here two parents and their two children
    result = _search(small_blocks(max_depth=2), ek.algorithms.GA(population=2, generations=1), data,
                     ek.fitness.ValidationDice(epochs=1))
    _check_result(result, data)
    assert data.n_outputs == 3 and result.best.spec.nodes[-1].layer.activation == "softmax"


def test_nsga2_trades_dice_for_parameters():
    data = blob_data(seed=1)
    result = _search(small_tree(depth=2, max_depth=2, upsampling="nearest"),
                     ek.algorithms.NSGA2(population=4, generations=1), data,
                     [ek.fitness.ValidationDice(epochs=1), ek.fitness.ParameterCount()])
    _check_result(result, data)
    front = result.pareto_front
    assert front and all(np.isfinite(m.values["val_dice"]) for m in front)
    for a in front:  # no member dominates another
        for b in front:
            assert not (a.values["val_dice"] >= b.values["val_dice"] and a.params <= b.params
                        and (a.values["val_dice"], a.params) != (b.values["val_dice"], b.params))
