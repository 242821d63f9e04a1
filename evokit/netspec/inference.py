"""The forward pass of a NetSpec in NumPy: score a network's weights without building a Keras model.

Weight-evolving searches (``Real(mode="weights")``, DeepNEWT) score every candidate of one shared
architecture with weights of its own and no training. Building, loading and calling a Keras model
costs tens of milliseconds per candidate; the arithmetic of a small network on a validation split
costs well under one. :func:`predict` computes what ``evokit.build(spec)`` computes in inference
mode (``model.set_weights(weights)`` then ``model(x, training=False)``), in float32, equal to it
up to float32 rounding (the tests hold every layer type to within 1e-5 of the output's scale).

Choices, and why
----------------
* Keras 3's definitions where textbooks differ: 'same' padding puts the odd padding pixel after
  the input (TensorFlow's split), ``gelu`` is the exact erf form (Keras's default
  ``approximate=False``), ``leaky_relu``'s slope is 0.2, batch normalisation's epsilon is 1e-3,
  pooling is 'valid' (as evokit's ``Pool`` is), and a float input is cast to whole token ids by
  truncation (Keras's model input is float32 and its ``Embedding`` casts it to int).
* A convolution is one matrix product over its sliding windows (im2col: ``sliding_window_view``
  then ``tensordot``), so that BLAS does the arithmetic; no Python loop over pixels or filters.
* Batches are sized so that one batch's activations and im2col copies stay within
  :data:`MAX_BATCH_BYTES`: a large image network on a large split must not exhaust memory.
* Only the output's ancestors are computed: a Keras model holds only those, and their weights
  are the arrays :func:`evokit.netspec.weights.weight_arrays` lists.
* A layer type without a NumPy forward pass here (NEAT's neuron graph, and the U-Nets'
  ``SeparableConv2D``, ``Conv2DTranspose`` and ``Upsample`` today) makes :func:`supports` False,
  and callers score with Keras; :func:`register_forward` adds one. Lookups go by type, then by
  subclass: the separable and transposed convolutions are not ``Conv2D`` subclasses, so
  ``_conv`` never computes them by mistake.

No framework is imported: a process that only scores weight genomes never pays for TensorFlow.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from evokit.errors import ArchitectureError, ConfigError, DataError, check_int
from evokit.netspec.graph import INPUT, NetSpec
from evokit.netspec.layers import (Activation, Add, BatchNorm, Concat, Conv1D, Conv2D, Dense, Dropout, Embedding,
                                   Flatten, GlobalPool, LayerSpec, Pool, Reshape)
from evokit.netspec.neurons import NUMPY_ACTIVATIONS
from evokit.netspec.select import Select
from evokit.netspec.weights import keras_order, weight_arrays

ForwardFn = Callable[[Any, list[np.ndarray], list[np.ndarray]], np.ndarray]
"""``fn(layer, inputs, weights) -> output``: one layer on a batch (batch axis first), float32;
``weights`` are the layer's arrays in its Keras order (see ``evokit.netspec.weights``)."""

BATCH_NORM_EPSILON = 1e-3
"""``keras.layers.BatchNormalization``'s default epsilon."""

MAX_BATCH_BYTES = 64 * 2**20
"""The most memory one batch's activations and im2col copies may take (predict splits further)."""


# -- activations ---------------------------------------------------------------------------------

def _erfc(z: np.ndarray) -> np.ndarray:
    """The complementary error function, in float64, to a relative error below 1.2e-7 (the
    Chebyshev fit of Numerical Recipes' ``erfcc``): NumPy has none, and SciPy is not a dependency."""
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.5 * a)
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    tail = t * np.exp(-a * a + poly)
    return np.where(z >= 0, tail, 2.0 - tail)


def _gelu(z: np.ndarray) -> np.ndarray:
    """``x * Phi(x)`` with the normal CDF written through erfc, which keeps it accurate for x << 0."""
    wide = z.astype(np.float64)
    return (0.5 * wide * _erfc(-wide / math.sqrt(2.0))).astype(z.dtype)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


ACTIVATION_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    **NUMPY_ACTIVATIONS, "gelu": _gelu, "softmax": _softmax}
"""Every name of ``evokit.netspec.ACTIVATIONS`` as ``keras.activations`` defines it (defaults)."""


# -- layers --------------------------------------------------------------------------------------

def _dense(layer: Dense, inputs: list[np.ndarray], weights: list[np.ndarray]) -> np.ndarray:
    z = inputs[0] @ weights[0]
    if layer.use_bias:
        z += weights[1]
    return ACTIVATION_FUNCTIONS[layer.activation](z)


def _same_padding(x: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...]) -> np.ndarray:
    """Pad the spatial axes as TensorFlow's 'SAME' does: the smaller half before, the rest after."""
    pads = [(0, 0)]
    for side, k, s in zip(x.shape[1:-1], kernel, stride):
        total = max((math.ceil(side / s) - 1) * s + k - side, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, pads + [(0, 0)])


def _windows(x: np.ndarray, size: tuple[int, ...], stride: tuple[int, ...]) -> np.ndarray:
    """Every window of ``size`` at ``stride`` over the spatial axes: ``(n, *out_sides, channels,
    *size)``, a view (no copy)."""
    rank = len(size)
    view = sliding_window_view(x, size, axis=tuple(range(1, rank + 1)))
    return view[(slice(None), *(slice(None, None, s) for s in stride))]


def _conv(layer: Conv1D | Conv2D, inputs: list[np.ndarray], weights: list[np.ndarray]) -> np.ndarray:
    x, kernel, rank = inputs[0], weights[0], layer.rank
    if layer.padding == "same":
        x = _same_padding(x, layer.kernel, layer.stride)
    windows = _windows(x, layer.kernel, layer.stride)
    # contract each window's (kernel offsets, channels) with the kernel's (offsets, channels) axes
    z = np.tensordot(windows, kernel, axes=([*range(rank + 2, 2 * rank + 2), rank + 1], [*range(rank), rank]))
    if layer.use_bias:
        z += weights[1]
    return ACTIVATION_FUNCTIONS[layer.activation](z)


def _pool(layer: Pool, inputs: list[np.ndarray], weights: list[np.ndarray]) -> np.ndarray:
    x = inputs[0]
    size, stride = layer.window(x.ndim - 2)
    windows = _windows(x, size, stride)
    axes = tuple(range(-len(size), 0))
    return windows.max(axis=axes) if layer.pool == "max" else windows.mean(axis=axes, dtype=np.float32)


def _global_pool(layer: GlobalPool, inputs: list[np.ndarray], weights: list[np.ndarray]) -> np.ndarray:
    x = inputs[0]
    axes = tuple(range(1, x.ndim - 1))
    return x.max(axis=axes) if layer.pool == "max" else x.mean(axis=axes, dtype=np.float32)


def _batch_norm(layer: BatchNorm, inputs: list[np.ndarray], weights: list[np.ndarray]) -> np.ndarray:
    gamma, beta, mean, variance = weights
    scale = gamma / np.sqrt(variance + np.float32(BATCH_NORM_EPSILON))
    return (inputs[0] - mean) * scale + beta


def _embedding(layer: Embedding, inputs: list[np.ndarray], weights: list[np.ndarray]) -> np.ndarray:
    ids = inputs[0].astype(np.int64)  # truncation, as Keras casts its float32 input to int
    if ids.size and (ids.min() < -layer.vocab_size or ids.max() >= layer.vocab_size):
        raise DataError(f"x holds token ids from {ids.min()} to {ids.max()}, which is invalid: expected ids "
                        f"0..{layer.vocab_size - 1} for an embedding of vocab_size={layer.vocab_size}")
    return np.take(weights[0], ids, axis=0)


FORWARD: dict[type, ForwardFn] = {
    Dense: _dense, Conv1D: _conv, Conv2D: _conv, Pool: _pool, GlobalPool: _global_pool,
    Flatten: lambda layer, inputs, weights: inputs[0].reshape(len(inputs[0]), -1),
    Reshape: lambda layer, inputs, weights: inputs[0].reshape(len(inputs[0]), *layer.target_shape),
    Dropout: lambda layer, inputs, weights: inputs[0],
    BatchNorm: _batch_norm,
    Activation: lambda layer, inputs, weights: ACTIVATION_FUNCTIONS[layer.activation](inputs[0]),
    Add: lambda layer, inputs, weights: sum(inputs[1:], inputs[0]),
    Concat: lambda layer, inputs, weights: np.concatenate(inputs, axis=-1),
    Embedding: _embedding,
    Select: lambda layer, inputs, weights: inputs[0][:, list(layer.indices)],
}
"""Layer spec type -> its NumPy forward pass (inference mode)."""


def register_forward(cls: type[LayerSpec], fn: ForwardFn) -> None:
    """Declare the NumPy forward pass of a layer spec type defined outside this package's core."""
    FORWARD[cls] = fn


def _forward_fn(layer: LayerSpec) -> ForwardFn | None:
    return FORWARD.get(type(layer)) or next((f for cls, f in FORWARD.items() if isinstance(layer, cls)), None)


# -- the network ---------------------------------------------------------------------------------

def supports(spec: NetSpec) -> bool:
    """Whether every layer that ``evokit.build(spec)`` would hold (the output's ancestors) has a
    NumPy forward pass here, so that :func:`predict` can stand in for the Keras model."""
    try:
        used = keras_order(spec)
    except (ValueError, TypeError):
        return False
    return all(_forward_fn(spec.nodes[i].layer) is not None for i in used)


@dataclass(frozen=True)
class _Step:
    """One node's computation: its inputs, its weights, and the values no later step reads."""

    node: int
    layer: LayerSpec
    fn: ForwardFn
    inputs: tuple[int, ...]
    weights: tuple[np.ndarray, ...]
    release: tuple[int, ...]


def _program(spec: NetSpec, weights: list[Any]) -> tuple[list[_Step], list[np.ndarray]]:
    """The steps that compute ``spec``'s output, in node order, and ``weights`` as float32 arrays
    (checked against ``weight_arrays(spec)``, as Keras's ``set_weights`` checks them)."""
    arrays = weight_arrays(spec)  # validates the spec (ArchitectureError naming the node)
    if len(weights) != len(arrays):
        raise ConfigError(f"weights of {len(weights)} arrays is invalid: expected {len(arrays)} arrays of shapes "
                          f"{[a.shape for a in arrays]}")
    loaded = [np.array(value, dtype=np.float32) for value in weights]  # copies, as get_weights() hands back
    per_node: dict[int, list[np.ndarray]] = {}
    for k, (array, value) in enumerate(zip(arrays, loaded)):
        if value.shape != array.shape:
            raise ConfigError(f"weights[{k}] of shape {value.shape} is invalid: node {array.node}'s {array.name} "
                              f"has shape {array.shape}")
        per_node.setdefault(array.node, []).append(value)
    order = sorted(keras_order(spec))
    last_read = {j: i for i in order for j in spec.nodes[i].inputs}
    steps = []
    for i in order:
        node = spec.nodes[i]
        fn = _forward_fn(node.layer)
        if fn is None:
            raise ArchitectureError(f"node {i} ({node.layer.kind}) has no NumPy forward pass: check "
                                    "evokit.netspec.inference.supports(spec) first, or register_forward one")
        release = tuple(sorted({j for j in node.inputs if last_read[j] == i}))
        steps.append(_Step(i, node.layer, fn, node.inputs, tuple(per_node.get(i, ())), release))
    return steps, loaded


def _floats_per_sample(spec: NetSpec, steps: list[_Step]) -> int:
    """A bound on one sample's share of a batch's memory, in floats: every activation, plus the
    largest im2col copy (a convolution's windows) or the input of a pooling's windows."""
    total = math.prod(spec.input_shape)
    largest = 0
    for step in steps:
        out = spec.shapes[step.node]
        total += math.prod(out)
        if isinstance(step.layer, (Conv1D, Conv2D)):
            channels = spec.input_shapes(step.node)[0][-1]
            largest = max(largest, math.prod(out[:-1]) * math.prod(step.layer.kernel) * channels)
    return total + largest


def _run(steps: list[_Step], x: np.ndarray) -> np.ndarray:
    values: dict[int, np.ndarray] = {INPUT: x}
    for step in steps:
        values[step.node] = step.fn(step.layer, [values[j] for j in step.inputs], list(step.weights))
        for j in step.release:
            del values[j]
    return values[steps[-1].node]


class Forward:
    """A network with its weights loaded, ready to run: what ``evokit.build(spec)`` followed by
    ``set_weights(weights)`` is in Keras, without Keras.

    Args:
        spec: the network; every layer it uses needs a NumPy forward pass (:func:`supports`).
        weights: its arrays in ``weight_arrays(spec)`` order (``build(spec).get_weights()``).

    Raises ArchitectureError for an invalid or unsupported ``spec`` and ConfigError for weights
    that do not fit it (the errors Keras raises when building and loading): checked here, once,
    so that a call only computes.
    """

    def __init__(self, spec: NetSpec, weights: list[Any]):
        self.spec = spec
        self._steps, self.weights = _program(spec, weights)
        self._floats = _floats_per_sample(spec, self._steps)

    def __call__(self, x: Any, batch_size: int = 1024) -> np.ndarray:
        """The outputs on the samples ``x``: see :func:`predict`."""
        check_int("batch_size", batch_size, minimum=1)
        x = np.asarray(x)
        if x.ndim < 1 or tuple(x.shape[1:]) != self.spec.input_shape:
            raise DataError(f"x of shape {x.shape} is invalid: expected (samples, "
                            f"{', '.join(map(str, self.spec.input_shape))})")
        size = max(1, min(batch_size, MAX_BATCH_BYTES // (4 * self._floats)))
        with np.errstate(all="ignore"):  # overflow to inf/NaN is the candidate's result, as in Keras
            outs = [_run(self._steps, x[i:i + size].astype(np.float32)) for i in range(0, len(x), size)]
        if not outs:
            return np.zeros((0, *self.spec.output_shape), dtype=np.float32)
        return np.concatenate(outs, axis=0).astype(np.float32, copy=False)


def predict(spec: NetSpec, weights: list[Any], x: Any, batch_size: int = 1024) -> np.ndarray:
    """The outputs of the network ``spec`` with ``weights`` (``weight_arrays(spec)`` order, as
    ``build(spec).get_weights()``) on the samples ``x`` in inference mode (dropout off, batch
    normalisation with its moving statistics): float32, shape ``(len(x), *spec.output_shape)``.

    ``x`` is float features or, for a network that starts with an ``Embedding``, token ids.
    Samples go through in batches of at most ``batch_size`` (fewer when a batch would take more
    than :data:`MAX_BATCH_BYTES`). Non-finite weights give non-finite outputs, not an error.
    Raises ConfigError for weights that do not fit ``spec``, DataError for samples of the wrong
    shape, ArchitectureError for an invalid or unsupported ``spec`` (see :func:`supports`).
    """
    return Forward(spec, weights)(x, batch_size)
