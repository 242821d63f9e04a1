"""The weights of a NetSpec's Keras model, computed without Keras: which arrays, in which order.

``weight_shapes(spec)`` lists the shapes of ``evokit.build(spec).get_weights()``, in that order,
so that a flat vector of numbers (a weight-evolving genotype) can be cut into the arrays Keras
expects. Keras orders a functional model's layers by their depth (the longest path from the
layer to the output, deepest first), breaking ties by the order in which a depth-first walk from
the output, visiting each node's inputs in order, first reaches them; layers that are not
ancestors of the output are not part of the model. Within a layer the arrays follow Keras too:
``Dense`` and ``Conv1D``/``Conv2D`` have a kernel then a bias; ``SeparableConv2D`` a depthwise
kernel ``(*kernel, channels, 1)``, a pointwise kernel ``(1, 1, channels, filters)`` then a bias;
``Conv2DTranspose`` a kernel ``(*kernel, filters, channels)`` (output before input, as Keras
stores it) then a bias; ``BatchNorm`` has gamma, beta, the moving mean and the moving variance;
``Embedding`` has its table.

Layer types defined elsewhere declare their arrays with :func:`register_weights`; a layer type
without a declaration is accepted only if it has no parameters.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from evokit.errors import ArchitectureError
from evokit.netspec.graph import INPUT, NetSpec
from evokit.netspec.layers import (BatchNorm, Conv1D, Conv2D, Conv2DTranspose, Dense, Embedding, LayerSpec,
                                   SeparableConv2D, Shape)

WeightsFn = Callable[[LayerSpec, list[Shape]], list[tuple[str, Shape]]]
"""``fn(layer, input_shapes) -> [(array name, shape), ...]`` in the layer's Keras order."""


@dataclass(frozen=True)
class WeightArray:
    """One array of a model's weights: the node it belongs to, its name and its shape."""

    node: int
    name: str
    shape: Shape

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def _dense(layer: Dense, shapes: list[Shape]) -> list[tuple[str, Shape]]:
    arrays = [("kernel", (shapes[0][0], layer.units))]
    return arrays + ([("bias", (layer.units,))] if layer.use_bias else [])


def _conv(layer: Conv1D | Conv2D, shapes: list[Shape]) -> list[tuple[str, Shape]]:
    arrays = [("kernel", (*layer.kernel, shapes[0][-1], layer.filters))]
    return arrays + ([("bias", (layer.filters,))] if layer.use_bias else [])


def _separable_conv(layer: SeparableConv2D, shapes: list[Shape]) -> list[tuple[str, Shape]]:
    channels = shapes[0][-1]
    arrays = [("depthwise_kernel", (*layer.kernel, channels, 1)), ("pointwise_kernel", (1, 1, channels, layer.filters))]
    return arrays + ([("bias", (layer.filters,))] if layer.use_bias else [])


def _conv_transpose(layer: Conv2DTranspose, shapes: list[Shape]) -> list[tuple[str, Shape]]:
    arrays = [("kernel", (*layer.kernel, layer.filters, shapes[0][-1]))]
    return arrays + ([("bias", (layer.filters,))] if layer.use_bias else [])


def _batch_norm(layer: BatchNorm, shapes: list[Shape]) -> list[tuple[str, Shape]]:
    channels = shapes[0][-1]
    return [(name, (channels,)) for name in ("gamma", "beta", "moving_mean", "moving_variance")]


def _embedding(layer: Embedding, shapes: list[Shape]) -> list[tuple[str, Shape]]:
    return [("embeddings", (layer.vocab_size, layer.dim))]


WEIGHTS: dict[type, WeightsFn] = {Dense: _dense, Conv1D: _conv, Conv2D: _conv, SeparableConv2D: _separable_conv,
                                  Conv2DTranspose: _conv_transpose, BatchNorm: _batch_norm, Embedding: _embedding}
"""Layer spec type -> its arrays; layer types without an entry must have no parameters."""


def register_weights(cls: type[LayerSpec], fn: WeightsFn) -> None:
    """Declare the weight arrays of a layer spec type defined outside this package's core."""
    WEIGHTS[cls] = fn


def keras_order(spec: NetSpec) -> list[int]:
    """The nodes of ``spec`` in the order of the built Keras model's layers (ancestors of the
    output only): by depth to the output, deepest first, ties by first depth-first visit."""
    nodes = spec.nodes
    output = len(nodes) - 1
    visit_index: dict[int, int] = {}
    finished: list[int] = []  # post-order: inputs before the nodes that read them
    done: set[int] = set()
    stack: list[tuple[int, bool]] = [(output, False)]
    while stack:
        i, expanded = stack.pop()
        if expanded:
            done.add(i)
            finished.append(i)
            continue
        if i in done:
            continue
        visit_index.setdefault(i, len(visit_index))
        stack.append((i, True))
        stack.extend((j, False) for j in reversed(nodes[i].inputs) if j != INPUT and j not in done)
    depth = {i: 0 for i in finished}
    for i in reversed(finished):  # outputs first: each node pushes its inputs one level deeper
        for j in nodes[i].inputs:
            if j != INPUT:
                depth[j] = max(depth[j], depth[i] + 1)
    return sorted(finished, key=lambda i: (-depth[i], visit_index[i]))


def weight_arrays(spec: NetSpec) -> list[WeightArray]:
    """Every array of ``build(spec).get_weights()``, in that order, with its node and name."""
    arrays: list[WeightArray] = []
    for i in keras_order(spec):
        layer = spec.nodes[i].layer
        shapes = spec.input_shapes(i)
        fn = next((f for cls, f in WEIGHTS.items() if isinstance(layer, cls)), None)
        if fn is None:
            if layer.params(shapes):
                raise ArchitectureError(
                    f"node {i} ({layer.kind}) has {layer.params(shapes)} parameters but no declared weight "
                    "arrays: declare them with evokit.netspec.weights.register_weights")
            continue
        arrays += [WeightArray(i, name, tuple(shape)) for name, shape in fn(layer, shapes)]
    return arrays


def weight_shapes(spec: NetSpec) -> list[tuple[int, ...]]:
    """The shapes of ``evokit.build(spec).get_weights()``, in that order."""
    return [a.shape for a in weight_arrays(spec)]


def weight_count(spec: NetSpec) -> int:
    """Number of numbers in the built model's weights (``spec.params`` when every node is used)."""
    return sum(a.size for a in weight_arrays(spec))
