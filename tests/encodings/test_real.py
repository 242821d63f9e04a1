"""The real-vector encoding: gene mapping, repairs, weight evolution, and the weight-shapes helper."""
import copy
import math
import pickle
import random

import keras
import numpy as np
import pytest
from deap import base

import evokit as ek
from evokit.encodings.deepga import ConvBlock, DeepGA, DeepGAGenome, DenseBlock
from evokit.encodings.real import LAYER_TYPES, SLOT_GENES, Real, RealGenome, choice
from evokit.errors import ArchitectureError, ConfigError, GenotypeError
from evokit.evaluation import TrainingConfig
from evokit.netspec import (Add, BatchNorm, Concat, Conv1D, Conv2D, Dense, Dropout, Flatten, GlobalPool, Graph,
                            Pool, merge)
from evokit.netspec.weights import keras_order, weight_arrays, weight_count, weight_shapes
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.training.trainer import train

N = len(SLOT_GENES)
TYPE, FILTERS, KERNEL, UNITS, ACTIVATION, POOL = range(N)


def genome(*slots):
    """A genotype from slots given as {gene index: value} (unset genes 0.0)."""
    genes = []
    for slot in slots:
        genes += [float(slot.get(k, 0.0)) for k in range(N)]
    return RealGenome(genes)


def pick(kind):
    """The type gene that picks ``kind``."""
    return (LAYER_TYPES.index(kind) + 0.5) / len(LAYER_TYPES)


# -- architecture mode ------------------------------------------------------------------------

def test_gene_mapping_covers_every_choice():
    for choices in [(4, 8, 16, 32), (3, 5), (16, 32, 64), LAYER_TYPES, ("a",)]:
        n = len(choices)
        assert [choice((k + 0.5) / n, choices) for k in range(n)] == list(choices)
        assert [choice(k / n, choices) for k in range(n)] == list(choices)  # each choice's lower edge
        assert choice(0.0, choices) == choices[0] and choice(1.0, choices) == choices[-1]
        assert {choice(g / 1000, choices) for g in range(1001)} == set(choices)


def test_slots_read_every_gene():
    enc = Real(max_layers=2, filters=(4, 8), kernel_sizes=(3, 5), units=(16, 32), activations=("relu", "tanh"))
    slots = enc.slots(genome({TYPE: pick("conv"), FILTERS: 0.9, KERNEL: 0.1, ACTIVATION: 0.7, POOL: 0.9},
                             {TYPE: pick("dense"), UNITS: 0.6}))
    assert slots[0] == {"type": "conv", "filters": 8, "kernel": 3, "units": 16, "activation": "tanh", "pool": "avg"}
    assert slots[1]["type"] == "dense" and slots[1]["units"] == 32 and slots[1]["activation"] == "relu"
    spec = enc.decode(genome({TYPE: pick("conv"), FILTERS: 0.9, KERNEL: 0.9},
                             {TYPE: pick("dense"), UNITS: 0.6}), (8, 8, 1), 10)
    kinds = [n.layer for n in spec.nodes]
    assert kinds[0] == Conv2D(8, 5, activation="relu") and kinds[2] == Dense(32, activation="relu")
    assert isinstance(kinds[1], Flatten) and kinds[-1] == Dense(10, activation="softmax")


def test_out_of_range_genes_clip():
    enc = Real(max_layers=3)
    inside = genome({TYPE: pick("conv"), FILTERS: 1.0, KERNEL: 0.0}, {TYPE: pick("pool"), POOL: 1.0},
                    {TYPE: pick("dense"), UNITS: 1.0})
    outside = genome({TYPE: pick("conv"), FILTERS: 7.5, KERNEL: -3.0}, {TYPE: pick("pool"), POOL: 1e9},
                     {TYPE: pick("dense"), UNITS: 2.0})
    assert enc.decode(outside, (8, 8, 1), 10) == enc.decode(inside, (8, 8, 1), 10)
    assert enc.decode(RealGenome([-1.0] * enc.n_genes()), (8, 8, 1), 10).describe() == \
        enc.decode(RealGenome([0.0] * enc.n_genes()), (8, 8, 1), 10).describe()
    # blend crossover and Gaussian mutation leave [0, 1]; their children still decode
    tb = base.Toolbox()
    Real(crossover="blend", mutation="gaussian", sigma=2.0, indpb=1.0).register(tb)
    random.seed(0)
    a, b = enc.random(random.Random(1)), enc.random(random.Random(2))
    for _ in range(20):
        a, b = tb.mate(a, b)
        (a,) = tb.mutate(a)
    assert any(not 0 <= g <= 1 for g in a)
    enc.decode(a, (8, 8, 1), 10).validate()


def test_bounded_operators_stay_in_the_unit_cube():
    enc = Real(max_layers=3)
    assert enc.bounds == [(0.0, 1.0)] * enc.n_genes() == [(0.0, 1.0)] * 3 * N
    tb = base.Toolbox()
    enc.register(tb)
    random.seed(3)
    a, b = enc.random(random.Random(1)), enc.random(random.Random(2))
    for _ in range(50):
        a, b = tb.mate(a, b)
        (a,) = tb.mutate(a)
        assert all(0.0 <= g <= 1.0 for g in a + b) and isinstance(a, RealGenome)


def test_decode_repairs():
    enc = Real(max_layers=4)
    conv_pool_dense = genome({TYPE: pick("conv")}, {TYPE: pick("pool")}, {TYPE: pick("dense")},
                             {TYPE: pick("off")})
    # flat input: conv and pool are skipped
    assert [n.layer.kind for n in enc.decode(conv_pool_dense, (30,), 2).nodes] == ["dense", "dense"]
    # sequences: Conv1D
    assert [n.layer.kind for n in enc.decode(conv_pool_dense, (12, 3), 2).nodes] == \
        ["conv1d", "pool", "flatten", "dense", "dense"]
    # conv/pool after a dense are skipped; a pooling that doesn't fit is dropped
    late = genome({TYPE: pick("dense")}, {TYPE: pick("conv")}, {TYPE: pick("pool")}, {TYPE: pick("off")})
    assert [n.layer.kind for n in enc.decode(late, (8, 8, 1), 10).nodes] == ["flatten", "dense", "dense"]
    pools = genome(*[{TYPE: pick("pool")}] * 4)
    assert [n.layer.kind for n in enc.decode(pools, (5, 5, 1), 10).nodes] == ["pool", "pool", "flatten", "dense"]
    assert [n.layer.kind for n in enc.decode(genome(*[{TYPE: pick("off")}] * 4), (4,), 3).nodes] == ["dense"]


def test_genomes_keep_extra_attributes_out_of_equality():
    enc = Real()
    a = enc.random(random.Random(0))
    b = copy.deepcopy(a)
    a.speed, a.smin, a.smax, a.best = [0.1] * len(a), -0.5, 0.5, RealGenome(list(a))
    assert a == b and enc.distance(a, b) == 0
    back = pickle.loads(pickle.dumps(a))
    assert back == a and back.speed == a.speed and back.best == a.best and isinstance(back, RealGenome)
    assert enc.from_json(enc.to_json(a)) == a
    c = enc.random(random.Random(1))
    assert enc.distance(a, c) == pytest.approx(math.dist(a, c)) == enc.distance(c, a) > 0
    assert enc.describe(genome(*[{TYPE: pick("off")}] * 4)) == "(no hidden layers)"


# -- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field", [
    ({"mode": "both"}, "mode"), ({"max_layers": 0}, "max_layers"), ({"filters": ()}, "filters"),
    ({"filters": (4, 0)}, "filters"), ({"kernel_sizes": (3.0,)}, "kernel_sizes"), ({"units": "16"}, "units"),
    ({"activations": ("relu", "bogus")}, "activations"), ({"pools": ("min",)}, "pools"),
    ({"crossover": "uniform"}, "crossover"), ({"mutation": "flip"}, "mutation"), ({"eta": 0}, "eta"),
    ({"alpha": -1}, "alpha"), ({"sigma": 0.0}, "sigma"), ({"indpb": 1.5}, "indpb"),
    ({"network": "mlp", "mode": "weights"}, "network"),
    ({"mode": "weights", "crossover": "sbx"}, "crossover"),
    ({"mode": "weights", "mutation": "polynomial"}, "mutation"),
])
def test_constructor_errors_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=rf"^{field}="):
        Real(**kwargs)


def test_a_network_is_only_for_the_weights_mode():
    with pytest.raises(ConfigError, match="^network="):
        Real(network=mlp((4,), 2))


@pytest.mark.parametrize("genes, match", [
    ([0.5, "x"], r"genotype\[1\]='x'"), ([0.5, float("nan")], r"genotype\[1\]=nan"),
    ([math.inf, 0.5], r"genotype\[0\]=inf"), ([0.5, True], r"genotype\[1\]=True"), ([0.5], "genotype of 1 genes"),
])
def test_validator_names_the_gene(genes, match):
    enc = Real(max_layers=1)
    padded = RealGenome(genes + [0.5] * (N - 2) if len(genes) == 2 else genes)
    with pytest.raises(GenotypeError, match=match):
        enc.decode(padded, (8, 8, 1), 10)
    with pytest.raises(GenotypeError, match="^genotype=list"):
        enc.decode([0.5] * N, (8, 8, 1), 10)


# -- weights mode -----------------------------------------------------------------------------

def mlp(shape, n_out):
    g = Graph(shape)
    x = g.add(Flatten(), g.input) if len(shape) > 1 else g.input
    return g.finish(g.add(Dense(n_out, activation="softmax"), g.add(Dense(8, activation="tanh"), x)))


def branchy(shape=(8, 8, 1), n_out=10):
    """Two conv branches (one with batch normalisation) concatenated, then dense: Keras reorders it."""
    g = Graph(shape)
    a = g.add(Conv2D(3, 3), g.input)
    b = g.add(BatchNorm(), g.add(Conv2D(2, 5), g.input))
    b = g.add(Pool("max", 2), b)
    a = g.add(Pool("avg", 2), a)
    x = g.add(Flatten(), g.add(Concat(), a, b))
    return g.finish(g.add(Dense(n_out, activation="softmax"), g.add(Dense(12, activation="tanh"), x)))


def test_weights_mode_needs_the_data_or_a_network():
    enc = Real(mode="weights")
    assert enc.trains is False and Real().trains is True
    with pytest.raises(ConfigError, match="check_input"):
        enc.random(random.Random(0))
    enc.check_input((30,), 2, "classification")
    g = enc.random(random.Random(0))
    assert len(g) == enc.n_genes() == 30 * 16 + 16 + 16 * 2 + 2 and enc.bounds[0] == (-math.inf, math.inf)
    spec = enc.decode(g, (30,), 2)
    assert spec.params == len(g) and [n.layer.kind for n in spec.nodes] == ["dense", "dense"]
    with pytest.raises(ConfigError, match=r"^data="):
        enc.decode(g, (31,), 2)
    with pytest.raises(GenotypeError, match="^genotype"):
        enc.decode(RealGenome(g[:-1]), (30,), 2)
    fixed = Real(mode="weights", network=mlp((8, 8, 1), 10))
    with pytest.raises(ConfigError, match=r"^data="):
        fixed.check_input((30,), 2, "classification")
    fixed.check_input((8, 8, 1), 10, "classification")
    assert fixed.n_genes() == 64 * 8 + 8 + 8 * 10 + 10


def test_random_weights_are_glorot_scaled_and_seeded():
    enc = Real(mode="weights", network=branchy())
    g = enc.random(random.Random(4))
    assert g == enc.random(random.Random(4)) != enc.random(random.Random(5))
    arrays = dict(((a.node, a.name), w) for a, w in zip(weight_arrays(enc.network), enc.weights(g, enc.network)))
    spec = enc.network
    dense = next(i for i, n in enumerate(spec.nodes) if n.layer == Dense(12, activation="tanh"))
    kernel = arrays[(dense, "kernel")]
    assert kernel.shape == (4 * 4 * (3 + 2), 12)
    assert np.std(kernel) == pytest.approx(math.sqrt(2 / (80 + 12)), rel=0.15)
    assert not np.any(arrays[(dense, "bias")])
    bn = next(i for i, n in enumerate(spec.nodes) if isinstance(n.layer, BatchNorm))
    assert np.all(arrays[(bn, "gamma")] == 1) and np.all(arrays[(bn, "moving_variance")] == 1)
    # a negative moving variance (after mutation) is read as its absolute value
    names = [a.name for a in weight_arrays(spec)]
    k = names.index("moving_variance")
    start = sum(a.size for a in weight_arrays(spec)[:k])
    flat = RealGenome(g)
    flat[start] = -2.0
    assert enc.weights(flat, spec)[k][0] == 2.0



def test_carried_weights_score_as_the_trained_model_without_training(small_digits, counting_evaluator):
    spec = branchy()
    trained = train(spec, small_digits, TrainingConfig(epochs=2, batch_size=32), seed=0)
    assert not trained.failed and trained.history
    enc = Real(mode="weights", network=spec)
    enc.check_input(small_digits.input_shape, small_digits.n_outputs, small_digits.task)
    candidates = CandidateEvaluator(enc, ek.fitness.ValidationAccuracy(epochs=2), small_digits,
                                    evaluator=counting_evaluator)
    good, bad = candidates.evaluate_all([enc.from_weights(trained.weights), enc.random(random.Random(0))])
    assert [t.fit for t in counting_evaluator.jobs] == [False, False]
    assert good.evaluation.history == {} and bad.evaluation.history == {}
    assert good.values[0] == trained.metrics["val_accuracy"] > bad.values[0]
    assert [w.shape for w in good.evaluation.weights] == [tuple(s) for s in weight_shapes(spec)]


def test_a_weights_ga_scores_candidates_without_training(counting_evaluator):
    data = ek.datasets.load("breast_cancer", seed=0)
    result = ek.Search(encoding=Real(mode="weights"), objectives=ek.fitness.ValidationAccuracy(epochs=1), data=data,
                       algorithm=ek.algorithms.GA(population=6, generations=2), seed=0, workers=counting_evaluator,
                       progress=False).run()
    assert result.stats["trained"] >= 6 and not result.stats["failures"]
    tasks = counting_evaluator.jobs
    assert len(tasks) == result.stats["trained"] and not any(t.fit for t in tasks)
    assert all(t.weights is not None for t in counting_evaluator.jobs)
    assert result.best.values["val_accuracy"] > 0.5


def test_a_weights_ga_returns_the_best_model():
    data = ek.datasets.load("breast_cancer", seed=0)
    result = ek.Search(encoding=Real(mode="weights"), objectives=ek.fitness.ValidationAccuracy(epochs=1), data=data,
                       algorithm=ek.algorithms.GA(population=4, generations=1), seed=0, progress=False).run()
    assert result.best.model.count_params() == result.best.params


# -- the weight-shapes helper -------------------------------------------------------------------

def hand_made_specs():
    specs = [mlp((30,), 2), mlp((8, 8, 1), 10), branchy()]
    g = Graph((16, 3))  # sequences: Conv1D, batch norm, residual add with a projection, global pooling
    a = g.add(Conv1D(4, 3), g.input)
    b = g.add(BatchNorm(), g.add(Conv1D(6, 5, padding="valid"), a))
    x = merge(g, Add(), [a, b])
    specs.append(g.finish(g.add(Dense(3), g.add(GlobalPool("avg"), x))))
    g = Graph((8, 8, 2))  # images: three branches of different depths merged by concat and add
    c1 = g.add(Conv2D(4, 3), g.input)
    c2 = g.add(Conv2D(4, 1), g.add(BatchNorm(), g.input))
    c3 = g.add(Conv2D(5, 3, use_bias=False), g.add(Conv2D(3, 3), c1))
    x = merge(g, Concat(), [c3, c2, c1])
    y = merge(g, Add(), [g.add(Pool("max", 2), x), g.add(Pool("avg", 2), c2)])
    specs.append(g.finish(g.add(Dense(10, activation="softmax"), g.add(Dropout(0.2), g.add(Flatten(), y)))))
    g = Graph((6,))  # flat: dense layers with a skip, and one without bias
    h = g.add(Dense(5, use_bias=False), g.input)
    z = g.add(Concat(), g.add(Dense(4), h), g.input, h)
    specs.append(g.finish(g.add(Dense(2), g.add(BatchNorm(), z))))
    deepga = DeepGA(max_conv_blocks=4)
    blocks = [ConvBlock(4, 3), ConvBlock(6, 2, "none"), ConvBlock(3, 3, "avg"), ConvBlock(5, 2, "none")]
    specs.append(deepga.decode(DeepGAGenome(blocks, [DenseBlock(8)], [1, 1, 1]), (8, 8, 1), 10))
    return specs


def random_specs():
    rng = random.Random(0)
    specs = []
    deepga = DeepGA(max_conv_blocks=4, max_dense=2, filters=(2, 3), units=(3, 4), skip_probability=0.7)
    real = Real(max_layers=4, filters=(2, 3), units=(3, 4))
    for shape in [(8, 8, 1), (12, 3), (10,)]:
        specs += [enc.decode(enc.random(rng), shape, 3) for enc in (deepga, real) for _ in range(6)]
    return specs


def test_weight_shapes_match_keras():
    for spec in hand_made_specs() + random_specs():
        model = ek.build(spec, seed=0)
        assert weight_shapes(spec) == [tuple(w.shape) for w in model.get_weights()], spec.summary()
        assert weight_count(spec) == model.count_params() == spec.params
        # the same layers in the same order (Keras names each layer after its node: n{index}_{kind})
        with_weights = [int(layer.name.split("_")[0][1:]) for layer in model.layers if layer.weights]
        assert with_weights == list(dict.fromkeys(a.node for a in weight_arrays(spec)))
        assert [int(layer.name.split("_")[0][1:]) for layer in model.layers if layer.name != "input"] == \
            keras_order(spec)
        keras.backend.clear_session(free_memory=False)


def test_weight_shapes_name_the_arrays_and_reject_unknown_layers():
    spec = hand_made_specs()[3]
    names = [a.name for a in weight_arrays(spec)]
    assert names.count("moving_variance") == 1 and names[:2] == ["kernel", "bias"]

    from dataclasses import dataclass
    from typing import ClassVar

    from evokit.netspec.layers import LayerSpec

    @dataclass(frozen=True)
    class Scale(LayerSpec):
        kind: ClassVar[str] = "scale_test"

        def output_shape(self, shapes):
            return shapes[0]

        def params(self, shapes):
            return shapes[0][-1]

    g = Graph((4,))
    bad = g.finish(g.add(Dense(2), g.add(Scale(), g.input)))
    with pytest.raises(ArchitectureError, match="scale_test"):
        weight_shapes(bad)
    with pytest.raises(ConfigError, match="^network="):
        Real(mode="weights", network=bad)
