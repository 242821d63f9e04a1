"""The U-Net skeleton that :class:`~evokit.encodings.unet_tree.UNetTree` and
:class:`~evokit.encodings.unet_blocks.UNetBlocks` fill with evolved cells.

An encoding gives a *cell*, a function ``(graph, handle, stage) -> handle`` that adds layers after
``handle`` and keeps its height and width (cells hold only 'same' convolutions and merges); the
skeleton places it (Ronneberger et al., 2015)::

    encoder level l = 0 .. depth-1:  cell, keep its output as skip l, 2x2 max pooling
    bottleneck:                      cell
    decoder level l = depth-1 .. 0:  upsample x2, concatenate with skip l, cell
    head:                            1x1 convolution per pixel (``add_head``)

Upsampling is a 2x2 transposed convolution with stride 2 to the level's width (the original
U-Net's "up-convolution") or a weightless nearest/bilinear ``Upsample``. Sides are halved
exactly ``depth`` times and doubled back, so every skip and its upsampled partner agree without
cropping. A depth the input's sides do not allow is repaired, never rejected: the skeleton uses
the largest depth up to the asked one that divides both sides (:func:`effective_depth`).

On a task that is not per pixel (classification, regression) the network is the encoder and the
bottleneck, then a global average pooling and the task's head: the same cells, scored as an image
classifier (that is how the encoding conformance suite checks it on digits). Only images
``(height, width, channels)`` are accepted (:func:`check_image`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from evokit import tasks
from evokit.encodings.base import add_head
from evokit.errors import ConfigError
from evokit.netspec import Concat, Conv2DTranspose, GlobalPool, Graph, NetSpec, Pool, Upsample

UPSAMPLINGS = ("transpose", "nearest", "bilinear")
"""How the decoder doubles the sides: ``Conv2DTranspose`` (2x2, stride 2) or ``Upsample``."""
PARTS = ("encoder", "bottleneck", "decoder")


@dataclass(frozen=True)
class Stage:
    """Where a cell sits in the skeleton: ``part`` (one of :data:`PARTS`), its ``level`` (0 at
    full resolution; the bottleneck's level is the depth) and the level's nominal ``width``."""

    part: str
    level: int
    width: int


Cell = Callable[[Graph, int, Stage], int]
"""A cell: adds layers after a handle of a Graph, keeping its height and width; returns the output."""


def effective_depth(input_shape: Sequence[int], depth: int) -> int:
    """The largest ``d <= depth`` such that both sides of ``input_shape`` are divisible by ``2**d``
    (0: no pooling at all), so that pooling and upsampling give every skip's size back exactly."""
    height, width = input_shape[0], input_shape[1]
    d = depth
    while d > 0 and (height % 2**d or width % 2**d):
        d -= 1
    return d


def check_image(input_shape: Sequence[int], encoding: str) -> None:
    """Raise ConfigError naming ``data`` unless ``input_shape`` is an image ``(height, width,
    channels)``: a U-Net pools and upsamples two spatial axes."""
    if len(tuple(input_shape)) != 3:
        raise ConfigError(f"data of input shape {tuple(input_shape)} is invalid for {encoding}: expected images "
                          "(height, width, channels); U-Nets pool and upsample two spatial axes (add a channel "
                          "axis to grayscale images: X[..., None])")


def decode_unet(input_shape: Sequence[int], n_outputs: int, task: str | tasks.Task, cell: Cell, depth: int,
                upsampling: str, level_width: Callable[[int], int] | None = None) -> NetSpec:
    """The U-Net of ``cell`` on ``input_shape`` with the task's head (see the module docstring).

    ``depth`` is the asked depth (repaired by :func:`effective_depth`); ``level_width(l)`` is the
    nominal width of level ``l`` (the stage's ``width``, and a transposed convolution's filters);
    None (for cells with widths of their own) takes the channels of what the cell reads, and in
    the decoder the channels of the level's skip.
    """
    check_image(input_shape, "a U-Net")
    g = Graph(tuple(input_shape))
    d = effective_depth(input_shape, depth)
    x, skips = _encoder(g, cell, d, level_width)
    x = cell(g, x, Stage("bottleneck", d, _width(g, x, d, level_width)))
    if not tasks.get(task).per_pixel:
        return add_head(g, g.add(GlobalPool("avg"), x), n_outputs, task)
    for level in reversed(range(d)):
        skip = skips[level]
        width = _width(g, skip, level, level_width)
        up = upsample(g, x, upsampling, width)
        x = cell(g, g.add(Concat(), up, skip), Stage("decoder", level, width))
    return add_head(g, x, n_outputs, task)


def _width(g: Graph, x: int, level: int, level_width: Callable[[int], int] | None) -> int:
    """Level ``level``'s nominal width: ``level_width(level)``, or else ``x``'s channels."""
    return level_width(level) if level_width is not None else g.shape(x)[-1]


def _encoder(g: Graph, cell: Cell, depth: int, level_width: Callable[[int], int] | None) -> tuple[int, list[int]]:
    """The contracting path: per level the cell, its output kept as the level's skip, then a 2x2
    max pooling; returns the last pooling's handle and the skips (level 0 first)."""
    x, skips = g.input, []
    for level in range(depth):
        x = cell(g, x, Stage("encoder", level, _width(g, x, level, level_width)))
        skips.append(x)
        x = g.add(Pool("max", 2), x)
    return x, skips


def upsample(g: Graph, x: int, upsampling: str, width: int) -> int:
    """Double ``x``'s sides: a 2x2 stride-2 transposed convolution to ``width`` channels
    (linear, as the original U-Net's up-convolution; the cell after it has the activations), or
    a nearest/bilinear ``Upsample`` that keeps the channels."""
    if upsampling == "transpose":
        return g.add(Conv2DTranspose(width, 2, strides=2, activation="linear"), x)
    return g.add(Upsample(2, interpolation=upsampling), x)
