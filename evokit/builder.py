"""NetSpec -> keras.Model: the only place that builds Keras layers.

Keras 3 API only, so the backend stays the user's choice. Every layer gets an explicitly seeded
initializer (and dropout seed) derived from ``seed`` and its node index: initial weights then
depend on nothing but the seed, in any process, under any scheduler (Python's global ``random``
is shared with Dask's threads; see ENVIRONMENT.md, "Reproducibility").
"""
from __future__ import annotations

from typing import Any, Callable

from evokit.errors import ConfigError
from evokit.netspec import (INPUT, Activation, Add, BatchNorm, Concat, Conv1D, Conv2D, Conv2DTranspose, Dense,
                            Dropout, Embedding, Flatten, GlobalPool, LayerSpec, NetSpec, Pool, Reshape, SeparableConv2D,
                            Upsample)


def _initializers(keras: Any, seed: int) -> dict[str, Any]:
    return {"kernel_initializer": keras.initializers.GlorotUniform(seed=seed),
            "bias_initializer": keras.initializers.Zeros()}


def _layer(keras: Any, layer: LayerSpec, rank: int, seed: int, name: str) -> Any:
    L = keras.layers
    if isinstance(layer, Dense):
        return L.Dense(layer.units, activation=layer.activation, use_bias=layer.use_bias, name=name,
                       **_initializers(keras, seed))
    if isinstance(layer, SeparableConv2D):  # the pointwise seed far from the next node's (seed + 1)
        return L.SeparableConv2D(layer.filters, layer.kernel, strides=layer.stride, padding=layer.padding,
                                 activation=layer.activation, use_bias=layer.use_bias, name=name,
                                 depthwise_initializer=keras.initializers.GlorotUniform(seed=seed),
                                 pointwise_initializer=keras.initializers.GlorotUniform(seed=(seed + 2**30) % 2**31),
                                 bias_initializer=keras.initializers.Zeros())
    if isinstance(layer, Conv2DTranspose):
        return L.Conv2DTranspose(layer.filters, layer.kernel, strides=layer.stride, padding=layer.padding,
                                 activation=layer.activation, use_bias=layer.use_bias, name=name,
                                 **_initializers(keras, seed))
    if isinstance(layer, Upsample):
        return L.UpSampling2D(layer.factors, interpolation=layer.interpolation, name=name)
    if isinstance(layer, (Conv2D, Conv1D)):
        cls = L.Conv2D if isinstance(layer, Conv2D) else L.Conv1D
        return cls(layer.filters, layer.kernel, strides=layer.stride, padding=layer.padding,
                   activation=layer.activation, use_bias=layer.use_bias, name=name, **_initializers(keras, seed))
    if isinstance(layer, Pool):
        size, strides = layer.window(rank - 1)
        cls = {("max", 3): L.MaxPooling2D, ("avg", 3): L.AveragePooling2D,
               ("max", 2): L.MaxPooling1D, ("avg", 2): L.AveragePooling1D}[(layer.pool, rank)]
        return cls(pool_size=size, strides=strides, padding="valid", name=name)
    if isinstance(layer, GlobalPool):
        cls = {("max", 3): L.GlobalMaxPooling2D, ("avg", 3): L.GlobalAveragePooling2D,
               ("max", 2): L.GlobalMaxPooling1D, ("avg", 2): L.GlobalAveragePooling1D}[(layer.pool, rank)]
        return cls(name=name)
    if isinstance(layer, Flatten):
        return L.Flatten(name=name)
    if isinstance(layer, Reshape):
        return L.Reshape(layer.target_shape, name=name)
    if isinstance(layer, Dropout):
        return L.Dropout(layer.rate, seed=seed, name=name)
    if isinstance(layer, BatchNorm):
        return L.BatchNormalization(name=name)
    if isinstance(layer, Activation):
        return L.Activation(layer.activation, name=name)
    if isinstance(layer, Add):
        return L.Add(name=name)
    if isinstance(layer, Concat):
        return L.Concatenate(axis=-1, name=name)
    if isinstance(layer, Embedding):
        return L.Embedding(layer.vocab_size, layer.dim, trainable=layer.trainable, name=name,
                           embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=seed))
    builder = LAYER_BUILDERS.get(type(layer))
    if builder is None:
        raise ConfigError(f"layer={layer.kind!r} has no Keras builder: register one in evokit.builder.LAYER_BUILDERS")
    return builder(layer, rank, seed, name)


LAYER_BUILDERS: dict[type, Callable[[LayerSpec, int, int, str], Any]] = {}
"""Builders for layer spec types defined outside this module: ``fn(layer, input_rank, seed, name)``."""


def build(spec: NetSpec, seed: int = 0, name: str = "evokit") -> Any:
    """Build the Keras functional model that ``spec`` describes, with seeded initial weights.

    The model's ``count_params()`` equals ``spec.params``.
    """
    import keras

    import evokit.layers  # noqa: F401 - registers the builders of evokit's own layers

    spec.validate()
    inputs = keras.Input(shape=spec.input_shape, name="input")
    outputs: list[Any] = []
    for i, node in enumerate(spec.nodes):
        ins = [inputs if j == INPUT else outputs[j] for j in node.inputs]
        rank = len(spec.input_shapes(i)[0])
        layer = _layer(keras, node.layer, rank, (seed * 1009 + i) % 2**31, f"n{i}_{node.layer.kind}")
        outputs.append(layer(ins if len(ins) > 1 else ins[0]))
    return keras.Model(inputs, outputs[-1], name=name)
