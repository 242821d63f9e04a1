"""The DCGAN encoding: a real vector decoded into a generator/discriminator pair (GANSpec)."""
import copy
import json
import pickle
import random
from pathlib import Path

import keras
import numpy as np
import pytest
from deap import base

import evokit as ek
from evokit.encodings.dcgan import DCGAN, GENES, downsampling_blocks, upsampling_blocks
from evokit.encodings.real import Real, RealGenome
from evokit.errors import ConfigError, GenotypeError
from evokit.netspec import (Activation, BatchNorm, Conv2D, Conv2DTranspose, Dense, Dropout, Flatten, GANSpec, NetSpec,
                            Reshape, Upsample)

from _cases import load_cases  # noqa: E402 (tests/ is on the path: conftest.py lives there)

IMAGES = [(8, 8, 1), (28, 28, 1), (32, 32, 3), (7, 7, 1), (12, 20, 1), (64, 64, 1)]


def genome(encoding=None, **values):
    """A genotype picking ``values`` (gene name -> choice); other genes pick their first choice."""
    encoding = encoding or DCGAN()
    options = encoding._options()
    genes = [0.0] * len(GENES)
    for name, value in values.items():
        choices = options[name]
        genes[GENES.index(name)] = (choices.index(value) + 0.5) / len(choices)
    return RealGenome(genes)


def genotypes():
    """300 seeded random genotypes and the all-0, all-1 and all-0.5 ones."""
    rng = random.Random(0)
    n = len(GENES)
    return [DCGAN().random(rng) for _ in range(300)] + [RealGenome([v] * n) for v in (0.0, 1.0, 0.5)]


def layers(net):
    return [node.layer for node in net.nodes]


def gan_data(shape=(8, 8, 1), n=40):
    X = np.random.default_rng(0).random((n, *shape)).astype("float32")
    return ek.datasets.from_arrays(X, np.arange(n) % 2, task="gan", seed=0)


# -- decoding -------------------------------------------------------------------------------------------

def test_every_genotype_decodes_to_a_valid_pair_for_every_image_shape():
    encoding = DCGAN()
    assert encoding.n_genes() == len(GENES) == 14
    for genotype in genotypes():
        genes = encoding.genes(genotype)
        for shape in IMAGES:
            spec = encoding.decode(genotype, shape, 1, "gan").validate()
            assert isinstance(spec, GANSpec)
            assert spec.input_shape == (genes["latent"],) and spec.output_shape == shape
            assert spec.discriminator.input_shape == shape and spec.discriminator.output_shape == (1,)
            last = layers(spec)[-1]
            assert last == Conv2D(shape[-1], genes["generator_kernel"], padding="same", activation="tanh")
            assert layers(spec.discriminator)[-2:] == [Flatten(), Dense(1, activation="linear")]
            k = upsampling_blocks(*shape[:2], genes["generator_blocks"])
            ups = [x for x in layers(spec) if isinstance(x, (Conv2DTranspose, Upsample))]
            assert len(ups) == k and layers(spec)[1].target_shape[:2] == (shape[0] // 2 ** k, shape[1] // 2 ** k)
            strided = [x for x in layers(spec.discriminator) if isinstance(x, Conv2D)]
            assert len(strided) == downsampling_blocks(*shape[:2], genes["discriminator_blocks"]) >= 1


def test_the_generator_follows_the_genes():
    enc = DCGAN(min_filters=8)
    spec = enc.decode(genome(latent=32, generator_blocks=3, generator_filters=64, generator_kernel=4,
                             generator_upsampling="transpose", generator_batch_norm=True,
                             generator_activation="relu"), (32, 32, 3), 1, "gan")
    assert layers(spec) == [
        Dense(4 * 4 * 64, activation="linear"), Reshape((4, 4, 64)), BatchNorm(), Activation("relu"),
        Conv2DTranspose(32, 4, strides=2, padding="same", activation="linear"), BatchNorm(), Activation("relu"),
        Conv2DTranspose(16, 4, strides=2, padding="same", activation="linear"), BatchNorm(), Activation("relu"),
        Conv2DTranspose(8, 4, strides=2, padding="same", activation="linear"), BatchNorm(), Activation("relu"),
        Conv2D(3, 4, padding="same", activation="tanh")]
    assert spec.shapes[4:11:3] == ((8, 8, 32), (16, 16, 16), (32, 32, 8))
    # upsampling + convolution, no batch normalisation, leaky ReLU; filters never below min_filters
    spec = enc.decode(genome(generator_blocks=2, generator_filters=16, generator_kernel=3,
                             generator_upsampling="upsample", generator_batch_norm=False,
                             generator_activation="leaky_relu"), (8, 8, 1), 1, "gan")
    assert layers(spec)[1:] == [
        Reshape((2, 2, 16)), Activation("leaky_relu"),
        Upsample(2), Conv2D(8, 3, padding="same", activation="linear"), Activation("leaky_relu"),
        Upsample(2), Conv2D(8, 3, padding="same", activation="linear"), Activation("leaky_relu"),
        Conv2D(1, 3, padding="same", activation="tanh")]


@pytest.mark.parametrize("shape, blocks, k", [((28, 28, 1), 3, 2), ((12, 20, 1), 3, 2), ((64, 64, 1), 3, 3),
                                              ((7, 7, 1), 3, 0), ((8, 6, 1), 3, 1), ((32, 32, 3), 1, 1)])
def test_generator_blocks_that_cannot_upsample_become_stride_1_convolutions(shape, blocks, k):
    assert upsampling_blocks(shape[0], shape[1], blocks) == k
    spec = DCGAN().decode(genome(generator_blocks=blocks, generator_filters=32, generator_batch_norm=False),
                          shape, 1, "gan")
    h0, w0 = shape[0] // 2 ** k, shape[1] // 2 ** k
    assert layers(spec)[:2] == [Dense(h0 * w0 * 32, activation="linear"), Reshape((h0, w0, 32))]
    kinds = [x.kind for x in layers(spec)[3:-1:2]]  # the blocks' convolutions (each followed by its activation)
    assert kinds == ["conv2d_transpose"] * k + ["conv2d"] * (blocks - k)
    assert all(s[:2] == shape[:2] for s in spec.shapes[3 + 2 * k:])  # the stride-1 blocks run at full size


def test_the_discriminator_follows_the_genes():
    enc = DCGAN()
    spec = enc.decode(genome(discriminator_blocks=3, discriminator_filters=16, discriminator_kernel=5,
                             discriminator_batch_norm=True, discriminator_dropout=0.25), (28, 28, 1), 1, "gan")
    d = spec.discriminator
    assert layers(d) == [
        Conv2D(16, 5, strides=2, padding="same", activation="linear"), Activation("leaky_relu"), Dropout(0.25),
        Conv2D(32, 5, strides=2, padding="same", activation="linear"), BatchNorm(), Activation("leaky_relu"),
        Dropout(0.25),
        Conv2D(64, 5, strides=2, padding="same", activation="linear"), BatchNorm(), Activation("leaky_relu"),
        Dropout(0.25), Flatten(), Dense(1, activation="linear")]
    assert [d.shapes[i] for i in (0, 3, 7)] == [(14, 14, 16), (7, 7, 32), (4, 4, 64)]
    # no dropout layer at rate 0, no batch normalisation when the gene says off
    d = enc.decode(genome(discriminator_blocks=2, discriminator_filters=8, discriminator_batch_norm=False,
                          discriminator_dropout=0.0), (8, 8, 1), 1, "gan").discriminator
    assert [x.kind for x in layers(d)] == ["conv2d", "activation", "conv2d", "activation", "flatten", "dense"]


@pytest.mark.parametrize("shape, blocks, m", [((8, 8, 1), 3, 3), ((2, 2, 1), 3, 1), ((1, 1, 1), 3, 0),
                                              ((3, 9, 1), 3, 3), ((4, 1, 1), 3, 2), ((64, 64, 1), 2, 2)])
def test_discriminator_blocks_stop_at_a_1x1_map(shape, blocks, m):
    assert downsampling_blocks(shape[0], shape[1], blocks) == m
    spec = DCGAN().decode(genome(discriminator_blocks=blocks), shape, 1, "gan").validate()
    assert sum(isinstance(x, Conv2D) for x in layers(spec.discriminator)) == m
    assert spec.output_shape == shape and spec.discriminator.output_shape == (1,)


def test_out_of_range_genes_clip_and_equal_choices_hash_equal():
    enc = DCGAN()
    n = enc.n_genes()
    assert enc.decode(RealGenome([-3.0] * n), (8, 8, 1)).hash == enc.decode(RealGenome([0.0] * n), (8, 8, 1)).hash
    assert enc.decode(RealGenome([7.0] * n), (8, 8, 1)).hash == enc.decode(RealGenome([1.0] * n), (8, 8, 1)).hash
    a, b = genome(latent=32), genome(latent=32)
    b[GENES.index("latent")] += 0.05  # still inside the choice's bucket
    assert a != b and enc.decode(a, (8, 8, 1)).hash == enc.decode(b, (8, 8, 1)).hash
    assert enc.decode(a, (8, 8, 1)).hash != enc.decode(genome(latent=16), (8, 8, 1)).hash
    # a different discriminator alone makes a different pair
    assert enc.decode(a, (8, 8, 1)).hash != enc.decode(genome(latent=32, discriminator_filters=64), (8, 8, 1)).hash


# -- Keras parity -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(8, 8, 1), (32, 32, 3)])
def test_keras_models_match_the_specs(shape):
    enc = DCGAN()
    rng = random.Random(11)
    chosen = [enc.random(rng) for _ in range(8)] + [genome(generator_upsampling="upsample", generator_blocks=3),
                                                    genome(generator_upsampling="transpose", generator_kernel=4)]
    for genotype in chosen:
        spec = enc.decode(genotype, shape, 1, "gan")
        generator, discriminator = ek.build(spec, seed=0), ek.build(spec.discriminator, seed=0)
        assert generator.count_params() == spec.params, spec.summary()
        assert discriminator.count_params() == spec.discriminator.params, spec.summary()
        assert tuple(generator.output_shape) == (None, *shape)
        assert tuple(generator.input_shape) == (None, spec.latent_size)
        assert tuple(discriminator.output_shape) == (None, 1)
        z = np.random.default_rng(0).normal(size=(2, spec.latent_size)).astype("float32")
        images = np.asarray(generator(z, training=False))
        assert images.shape == (2, *shape) and np.all(np.abs(images) <= 1.0)
        assert np.asarray(discriminator(images, training=False)).shape == (2, 1)
        keras.backend.clear_session(free_memory=False)


# -- training settings, identity, serialisation ------------------------------------------------------------

def test_learning_rates_are_the_networks_training_settings_and_part_of_the_hash():
    enc = DCGAN()
    g = genome(generator_learning_rate=2e-4, discriminator_learning_rate=1e-4)
    spec = enc.decode(g, (8, 8, 1))
    assert dict(spec.training) == {"learning_rate": 2e-4} == dict(spec.generator.training)
    assert dict(spec.discriminator.training) == {"learning_rate": 1e-4}
    assert enc.decode(copy.deepcopy(g), (8, 8, 1)).hash == spec.hash
    for other in (genome(generator_learning_rate=5e-4, discriminator_learning_rate=1e-4),
                  genome(generator_learning_rate=2e-4, discriminator_learning_rate=1e-3)):
        assert enc.decode(other, (8, 8, 1)).hash != spec.hash
    assert enc.describe(g).endswith("lr 2e-4/1e-4")


def test_pairs_round_trip_through_dicts_and_pickles():
    enc = DCGAN()
    rng = random.Random(4)
    for shape in ((8, 8, 1), (12, 20, 1)):
        for _ in range(10):
            spec = enc.decode(enc.random(rng), shape)
            again = NetSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
            assert isinstance(again, GANSpec) and again.hash == spec.hash
            assert again.discriminator.hash == spec.discriminator.hash
            assert dict(again.discriminator.training) == dict(spec.discriminator.training)
            assert pickle.loads(pickle.dumps(spec)).hash == spec.hash


def test_describe_json_distance_and_repr():
    enc = DCGAN()
    g = genome(latent=32, generator_blocks=3, generator_upsampling="transpose", generator_filters=64,
               generator_kernel=4, generator_batch_norm=True, generator_activation="relu", discriminator_blocks=2,
               discriminator_filters=16, discriminator_kernel=4, discriminator_batch_norm=False,
               discriminator_dropout=0.0, generator_learning_rate=2e-4, discriminator_learning_rate=1e-4)
    assert enc.describe(g) == "z32 G:3xT64k4bn D:2x16k4 lr 2e-4/1e-4"
    g2 = genome(latent=8, generator_blocks=1, generator_upsampling="upsample", generator_filters=16,
                generator_kernel=3, generator_batch_norm=False, generator_activation="leaky_relu",
                discriminator_blocks=3, discriminator_filters=8, discriminator_kernel=5, discriminator_batch_norm=True,
                discriminator_dropout=0.4, generator_learning_rate=5e-5, discriminator_learning_rate=1e-3)
    assert enc.describe(g2) == "z8 G:1xU16k3-lrelu D:3x8k5bnd0.4 lr 5e-5/1e-3"
    assert enc.from_json(json.loads(json.dumps(enc.to_json(g)))) == g
    assert enc.distance(g, g) == 0 and enc.distance(g, g2) == enc.distance(g2, g) > 0
    with pytest.raises(GenotypeError, match="expected 14 genes"):
        enc.from_json([0.5] * 6)
    with pytest.raises(GenotypeError):
        enc.decode(RealGenome([0.5] * 6), (8, 8, 1))
    assert repr(enc).startswith("DCGAN(latent_sizes=(8, 16, 32, 64), max_generator_blocks=3,")
    assert set(enc.get_params()) >= {"crossover", "mutation", "eta", "alpha", "sigma", "indpb"}
    again = pickle.loads(pickle.dumps(enc))
    assert again.decode(g, (8, 8, 1)).hash == enc.decode(g, (8, 8, 1)).hash


# -- variation and algorithms ----------------------------------------------------------------------------

@pytest.mark.parametrize("variation", [{}, {"crossover": "blend", "mutation": "gaussian", "sigma": 0.5, "indpb": 1.0}])
def test_operators_keep_genotypes_decodable(variation):
    enc = DCGAN(**variation)
    tb = base.Toolbox()
    enc.register(tb)
    random.seed(2)
    a, b = enc.random(random.Random(1)), enc.random(random.Random(2))
    bounded = not variation
    for _ in range(40):
        a, b = tb.mate(a, b)
        (a,) = tb.mutate(a)
        assert isinstance(a, RealGenome) and len(a) == len(b) == enc.n_genes()
        if bounded:
            assert all(0.0 <= g <= 1.0 for g in a + b)
        for child in (a, b):
            spec = enc.decode(child, (28, 28, 1)).validate()
            assert spec.output_shape == (28, 28, 1)


def test_pso_searches_it_as_a_real_encoding():
    enc = DCGAN()
    assert isinstance(enc, Real) and enc.mode == "architecture" and enc.trains and enc.generative
    assert enc.bounds == [(0.0, 1.0)] * len(GENES)
    ek.algorithms.PSO().check_encoding(enc)
    assert not ek.encodings.Real().generative and not ek.encodings.Encoding.generative


# -- data and refusals ----------------------------------------------------------------------------------------

def test_it_accepts_gan_images_and_refuses_other_data(digits):
    enc = DCGAN()
    enc.check_data(gan_data())
    enc.check_data(gan_data((12, 20, 3)))
    with pytest.raises(ConfigError, match=r"^encoding=DCGAN is invalid for classification data: .*task='gan'"):
        enc.check_data(digits)
    with pytest.raises(ConfigError, match=r"^encoding=DCGAN is invalid for regression data"):
        enc.check_input((8, 8, 1), 1, "regression")
    for shape in [(30,), (12, 3), (2, 2, 2, 1)]:
        with pytest.raises(ConfigError, match=r"^data of input shape"):
            enc.check_input(shape, 1, "gan")
        with pytest.raises(ConfigError, match=r"^data of input shape"):
            enc.decode(enc.random(random.Random(0)), shape, 1, "gan")
    with pytest.raises(ConfigError, match=r"^task='classification' is invalid"):
        enc.decode(enc.random(random.Random(0)), (8, 8, 1), 10, "classification")
    with pytest.raises(ConfigError, match=r"^task='painting' is invalid"):
        enc.decode(enc.random(random.Random(0)), (8, 8, 1), 1, "painting")


def test_encodings_of_one_network_refuse_gan_data():
    data = gan_data()
    cases = load_cases(Path(__file__).parent / "cases")
    for name, case in sorted(cases.items()):
        encoding = case[0]()
        if encoding.generative:
            encoding.check_data(data)
            continue
        if name.startswith("textcnn"):  # refuses it earlier: not token sequences
            with pytest.raises(ConfigError):
                encoding.check_data(data)
            continue
        with pytest.raises(ConfigError, match=r"^encoding=\w+ is invalid for gan data: it decodes one network, not "
                                              r"a generator/discriminator pair; use DCGAN"):
            encoding.check_data(data)


@pytest.mark.parametrize("kwargs, field", [
    ({"latent_sizes": ()}, "latent_sizes"), ({"latent_sizes": (8, 0)}, "latent_sizes"),
    ({"max_generator_blocks": 0}, "max_generator_blocks"), ({"max_generator_blocks": 99}, "max_generator_blocks"),
    ({"generator_filters": (16.0,)}, "generator_filters"), ({"generator_kernel_sizes": "3"}, "generator_kernel_sizes"),
    ({"upsamplings": ("transpose", "pixelshuffle")}, "upsamplings"),
    ({"generator_batch_norm": (1, 0)}, "generator_batch_norm"),
    ({"generator_activations": ("relu", "bogus")}, "generator_activations"),
    ({"max_discriminator_blocks": 1.5}, "max_discriminator_blocks"),
    ({"discriminator_filters": (-8,)}, "discriminator_filters"),
    ({"discriminator_kernel_sizes": (0,)}, "discriminator_kernel_sizes"),
    ({"discriminator_batch_norm": ("yes",)}, "discriminator_batch_norm"), ({"dropouts": (0.0, 1.0)}, "dropouts"),
    ({"generator_learning_rates": (0.0,)}, "generator_learning_rates"),
    ({"discriminator_learning_rates": (float("nan"),)}, "discriminator_learning_rates"),
    ({"min_filters": 0}, "min_filters"), ({"crossover": "uniform"}, "crossover"), ({"mutation": "flip"}, "mutation"),
    ({"eta": 0}, "eta"), ({"alpha": -1}, "alpha"), ({"sigma": 0.0}, "sigma"), ({"indpb": 1.5}, "indpb"),
])
def test_constructor_errors_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=rf"^{field}=.* is invalid"):
        DCGAN(**kwargs)


def test_constructor_takes_keywords_only():
    with pytest.raises(TypeError):
        DCGAN((8, 16))
