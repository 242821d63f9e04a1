"""What a DCGAN needs of NetSpec: the Reshape layer and GANSpec, a generator carrying its
discriminator (shapes, counts as Keras builds them, hash, serialisation, validation)."""
import pickle

import numpy as np
import pytest

import evokit as ek
from evokit.errors import ArchitectureError, ConfigError
from evokit.netspec import (Activation, BatchNorm, Conv2D, Conv2DTranspose, Dense, Flatten, GANSpec, Graph, NetSpec,
                            Reshape, inference, layer_from_config)


def pair(latent=8, filters=4, d_lr=None):
    g = Graph((latent,))
    x = g.add(Reshape((2, 2, 16)), g.add(Dense(64, activation="linear"), g.input))
    x = g.add(Activation("leaky_relu"), g.add(BatchNorm(), x))
    x = g.add(Conv2DTranspose(filters, 4, strides=2, activation="relu"), x)
    generator = g.finish(g.add(Conv2D(1, 3, activation="tanh"), x))
    d = Graph((4, 4, 1))
    y = d.add(Conv2D(8, 3, strides=2, activation="leaky_relu"), d.input)
    discriminator = d.finish(d.add(Dense(1, activation="linear"), d.add(Flatten(), y)))
    if d_lr is not None:
        discriminator = discriminator.with_training({"learning_rate": d_lr})
    return GANSpec(generator, discriminator)


def test_reshape_keeps_the_values_and_refuses_another_count():
    g = Graph((12,))
    spec = g.finish(g.add(Reshape((2, 3, 2)), g.input))
    assert spec.output_shape == (2, 3, 2) and spec.params == 0 and spec.flops == 0
    model = ek.build(spec)
    x = np.arange(24, dtype="float32").reshape(2, 12)
    assert np.array_equal(np.asarray(model(x)), x.reshape(2, 2, 3, 2))
    assert np.array_equal(inference.predict(spec, [], x), x.reshape(2, 2, 3, 2))
    assert layer_from_config("reshape", Reshape((2, 3, 2)).config()) == Reshape((2, 3, 2))
    with pytest.raises(ArchitectureError, match=r"12 values cannot be reshaped to \(5, 5\)"):
        Graph((12,)).add(Reshape((5, 5)), -1)
    with pytest.raises(ConfigError, match="^target_shape"):
        Reshape((0, 3))


def test_a_pair_counts_both_networks_as_keras_builds_them():
    spec = pair().validate()
    assert spec.output_shape == (4, 4, 1) and spec.latent_size == 8
    assert ek.build(spec).count_params() == spec.params == spec.generator.params
    assert ek.build(spec.discriminator).count_params() == spec.discriminator.params
    assert spec.pair_params == spec.params + spec.discriminator.params
    assert spec.flops == spec.generator.flops > 0 and spec.discriminator.flops > 0
    assert "discriminator" in spec.summary() and spec.describe().startswith("G: ")


def test_the_hash_covers_both_networks_and_their_learning_rates():
    base = pair()
    assert base.hash == pair().hash and base.hash != base.generator.hash
    assert pair(d_lr=1e-3).hash != base.hash and pair(filters=8).hash != base.hash
    assert base.with_training({"learning_rate": 2e-4}).hash != base.hash
    assert isinstance(base.canonical(), GANSpec) and base.canonical().hash == base.hash
    again = NetSpec.from_dict(base.to_dict())
    assert isinstance(again, GANSpec) and again.hash == base.hash
    assert pickle.loads(pickle.dumps(base)).hash == base.hash


def test_a_pair_that_does_not_fit_is_refused_naming_the_network():
    spec = pair()
    d = Graph((8, 8, 1))
    other = d.finish(d.add(Dense(1), d.add(Flatten(), d.input)))
    with pytest.raises(ArchitectureError, match=r"discriminator input_shape=\(8, 8, 1\) is invalid"):
        GANSpec(spec.generator, other).validate()
    d = Graph((4, 4, 1))
    two = d.finish(d.add(Dense(2), d.add(Flatten(), d.input)))
    with pytest.raises(ArchitectureError, match=r"output_shape=\(2,\) is invalid: expected \(1,\)"):
        GANSpec(spec.generator, two).validate()
    with pytest.raises(ArchitectureError, match="^generator="):
        GANSpec(spec, spec.discriminator)
