"""Every built-in encoding decodes valid, small networks for the input sizes the seed systems
used: CIFAR-like 32x32x3 and 256x256x1 images (NetSpecs only; two Keras builds hold the counts).

A dense layer on a feature map is what grows with the image: ``add_flatten`` pools a map of more
than ``FLATTEN_LIMIT`` values down before it, and ``merge`` joins flat vectors too wide to project
(``PROJECTION_LIMIT``) instead of adding them. Measured, the largest of 30 seeded genotypes of
each default encoding at 256x256x1, before -> after: DeepGA 268M -> 1.06M parameters, Tree 4.3G ->
0.93M (1.57M over 200), Binary 34M -> 1.12M, Real 67M -> 0.53M, Permutation 67M -> 0.53M,
Grouping 1.3M -> 0.09M; at 32x32x3 DeepGA 4.2M -> 1.06M, Tree 9.8M -> 0.40M.
"""
import random

import keras
import pytest

import evokit as ek
from evokit.encodings import (DCGAN, NEAT, Binary, DeepGA, Grouping, Hyperparameters, Permutation, Real, Tree,
                              UNetBlocks, UNetTree)
from evokit.testing import DataShape, output_shape

SIZES = [(32, 32, 3), (256, 256, 1)]
MAX_PARAMS = 2_000_000
"""The cap on every decoded network's parameters at both sizes (a DCGAN generator at 256x256x1
excepted: see ``test_dcgan_pairs_at_256_are_valid``)."""
COUNT = 20
ENCODINGS = {"deepga": DeepGA, "binary": Binary, "real": Real, "permutation": Permutation, "grouping": Grouping,
             "tree": Tree, "hyperparameters": lambda: Hyperparameters(DeepGA()),
             "real-weights": lambda: Real(mode="weights")}
"""Encodings of classification networks, with their default settings."""


def decoded(factory, shape, n_outputs=10, task="classification", count=COUNT):
    encoding = factory()
    encoding.check_data(DataShape(shape, n_outputs, task))
    rng = random.Random(0)
    return [encoding.decode(encoding.random(rng), shape, n_outputs, task).validate() for _ in range(count)]


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_classification_encodings_decode_small_networks(name, shape):
    count = 3 if name == "real-weights" else COUNT  # 1M weights per genome at 256x256x1
    for spec in decoded(ENCODINGS[name], shape, count=count):
        assert spec.output_shape == (10,)
        assert spec.params <= MAX_PARAMS, spec.summary()


@pytest.mark.parametrize("factory", [UNetTree, UNetBlocks])
@pytest.mark.parametrize("shape", SIZES)
def test_unets_segment_both_sizes_with_small_networks(factory, shape):
    for spec in decoded(factory, shape, n_outputs=2, task="segmentation"):
        assert spec.output_shape == output_shape(shape, 2, "segmentation")
        assert spec.params <= MAX_PARAMS, spec.summary()


def test_dcgan_pairs_at_32_are_small():
    for pair in decoded(DCGAN, (32, 32, 3), n_outputs=1, task="gan"):
        assert pair.generator.output_shape == (32, 32, 3) and pair.params <= MAX_PARAMS


def test_dcgan_pairs_at_256_are_valid():
    # a 1-block generator starts from a 128x128 map: up to ~70M weights in its first dense layer (not capped)
    for pair in decoded(DCGAN, (256, 256, 1), n_outputs=1, task="gan", count=5):
        assert pair.generator.output_shape == (256, 256, 1) and pair.discriminator.output_shape == (1,)


def test_neat_takes_32x32x3_and_refuses_256x256x1_by_name():
    (spec,) = decoded(NEAT, (32, 32, 3), count=1)
    assert spec.output_shape == (10,) and spec.params <= MAX_PARAMS
    with pytest.raises(ek.errors.ConfigError, match=r"65536 input features.*MAX_INPUTS"):
        NEAT().check_data(DataShape((256, 256, 1), 10))


def test_keras_agrees_on_the_largest_networks_at_256():
    for factory in (DeepGA, Tree):
        spec = max(decoded(factory, (256, 256, 1), count=10), key=lambda s: s.params)
        assert ek.build(spec, seed=0).count_params() == spec.params, spec.summary()
        keras.backend.clear_session(free_memory=False)
