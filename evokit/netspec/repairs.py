"""Repair: turn would-be-impossible architectures into the nearest valid ones.

Encodings call these while decoding, so that every genotype decodes to a buildable network:
a pooling that would shrink a side below 1 is dropped; inputs of a merge that disagree on
spatial size are pooled down to the smallest; inputs of an ``add`` that disagree on width are
projected (1x1 convolution or dense, linear) to the widest, flat ones too wide for that
(``PROJECTION_LIMIT``) concatenated instead; a dense layer on a spatial input gets
a flatten first, a large feature map pooled down before it (``add_flatten``). ``repair(spec)``
applies the same rules to a whole NetSpec.
"""
from __future__ import annotations

import math

from evokit.errors import ArchitectureError
from evokit.netspec.graph import INPUT, Graph, NetSpec
from evokit.netspec.layers import Add, Concat, Conv1D, Conv2D, Dense, Flatten, GlobalPool, LayerSpec, Pool

FLATTEN_LIMIT = 8192
"""The most values :func:`add_flatten` lets a feature map flatten into (8x8 with 128 channels): a
dense layer after it then holds at most ``8192 * units`` weights, whatever the input's size."""
PROJECTION_LIMIT = FLATTEN_LIMIT * 128
"""The most weights :func:`merge` spends projecting the flat inputs of an ``add`` to one width
(two flattened 85x85 maps would need 52 million); wider ones are concatenated instead."""


def add_pool(g: Graph, pool: Pool, x: int) -> int:
    """Add ``pool`` after ``x`` unless it would shrink a side below 1 (then it is dropped)."""
    return g.add(pool, x) if pool.fits(g.shape(x)) else x


def add_flatten(g: Graph, x: int, limit: int = FLATTEN_LIMIT) -> int:
    """``x`` flattened for a dense layer (``x`` itself if it is flat already). A feature map of
    more than ``limit`` values is first pooled down (max pooling, one layer, the sides shrunk by
    the same factor) until it has at most ``limit``; one whose channels alone exceed it is pooled
    globally. Without this, a dense layer on a large input's feature map (256x256 images: 65536
    positions per channel) would hold hundreds of millions of weights; maps of small inputs
    (8x8 digits) flatten as they are."""
    shape = g.shape(x)
    if len(shape) == 1:
        return x
    *sides, channels = shape
    if math.prod(shape) > limit:
        if channels > limit:
            return g.add(GlobalPool("avg"), x)
        factor = 2
        while math.prod(-(-side // factor) for side in sides) * channels > limit:
            factor += 1
        x = reduce_to(g, x, tuple(max(1, side // factor) for side in sides))
    return g.add(Flatten(), x)


def reduce_to(g: Graph, x: int, sides: tuple[int, ...], pool: str = "max") -> int:
    """Pool ``x`` down to exactly ``sides`` (each no larger than ``x``'s) with one pooling layer.

    With stride ``s = side // target`` and window ``k = side - (target - 1) * s`` a 'valid'
    pooling gives exactly ``target`` outputs, for any side >= target.
    """
    current = g.shape(x)[:-1]
    if current == sides:
        return x
    strides = tuple(max(1, c // t) for c, t in zip(current, sides))
    size = tuple(c - (t - 1) * s for c, t, s in zip(current, sides, strides))
    return g.add(Pool(pool, size if len(size) > 1 else size[0], strides if len(strides) > 1 else strides[0]), x)


def merge(g: Graph, layer: LayerSpec, inputs: list[int]) -> int:
    """Add a merge (Add or Concat) after reconciling its inputs' shapes; one input passes through."""
    inputs = list(inputs)
    if len(inputs) == 1:
        return inputs[0]
    shapes = [g.shape(x) for x in inputs]
    if len({len(s) for s in shapes}) > 1:
        inputs = [add_flatten(g, x) for x in inputs]
    elif len(shapes[0]) > 1:
        smallest = tuple(min(s[a] for s in shapes) for a in range(len(shapes[0]) - 1))
        inputs = [reduce_to(g, x, smallest) for x in inputs]
    if isinstance(layer, Add):
        width = max(g.shape(x)[-1] for x in inputs)
        narrower = [x for x in inputs if g.shape(x)[-1] != width]
        if len(g.shape(inputs[0])) == 1 and sum(g.shape(x)[-1] * width for x in narrower) > PROJECTION_LIMIT:
            return g.add(Concat(), *inputs)  # flat vectors too wide to project: joined, not summed
        inputs = [g.add(_projection(g.shape(x), width), x) if x in narrower else x for x in inputs]
    return g.add(layer, *inputs)


def _projection(shape: tuple[int, ...], width: int) -> LayerSpec:
    if len(shape) == 3:
        return Conv2D(width, 1, activation="linear")
    if len(shape) == 2:
        return Conv1D(width, 1, activation="linear")
    return Dense(width, activation="linear")


def repair(spec: NetSpec) -> NetSpec:
    """Rebuild ``spec`` applying the repair rules; layers that still don't fit raise."""
    g = Graph(spec.input_shape)
    handle = {INPUT: INPUT}
    for i, node in enumerate(spec.nodes):
        ins = [handle[j] for j in node.inputs]
        layer = node.layer
        if isinstance(layer, Pool) and len(ins) == 1:
            handle[i] = add_pool(g, layer, ins[0])
        elif isinstance(layer, (Add, Concat)):
            try:
                handle[i] = g.add(layer, *ins)
            except ArchitectureError:
                handle[i] = merge(g, layer, ins)
        elif isinstance(layer, Dense) and len(g.shape(ins[0])) > 1:
            handle[i] = g.add(layer, add_flatten(g, ins[0]))
        else:
            handle[i] = g.add(layer, *ins)
    return g.finish(handle[len(spec.nodes) - 1])
