"""NASGP-Net: a U-Net whose cell is one strongly typed GP tree, shared by every level.

The genotype is a :class:`~evokit.encodings.tree.TreeGenome` over this module's primitive set;
the skeleton (:mod:`evokit.encodings.unet`) decodes the tree once per encoder level, at the
bottleneck and once per decoder level, each time at that level's width (``base_filters *
2**level``). Values of type ``Net`` are cell fragments, functions ``(graph, handle, width) ->
handle`` that add layers keeping the height and width::

    conv(Net, Width, Kernel) -> Net   the child, then a convolution ('same', relu)
    sep(Net, Width, Kernel) -> Net    the child, then a depthwise separable convolution
    res(Net, Net) -> Net              both children on the same input, added (the narrower
                                      projected by a 1x1 convolution: ``evokit.netspec.merge``)
    cat(Net, Net) -> Net              both children on the same input, concatenated
    seq(Net, Net) -> Net              the first child, then the second on its output
    inp: Net                          the cell's input unchanged

``Width`` terminals are fractions of the level's width (``w25`` is a quarter of it, at least one
filter), ``Kernel`` terminals the kernel sizes (``k3``). So ``res(conv(conv(inp, w100, k3),
w100, k3), inp)`` is a residual block of two 3x3 convolutions at every level. A cell that is just
``inp`` is valid (a level of pooling and upsampling only): every tree decodes.

:class:`UNetTree` is a :class:`~evokit.encodings.tree.Tree` (its own primitive set, the same
DEAP operators, height limit, distance and text form), so ``evokit.algorithms.GP`` evolves it as
it evolves any GP tree. Its trees pickle in any process for the reasons ``tree.py`` gives: fixed
terminals only, types defined at module level.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from deap import gp

from evokit.encodings.tree import MAX_HEIGHT_LIMIT, Kernel, Net, Tree
from evokit.encodings.unet import UPSAMPLINGS, Stage, check_image, decode_unet
from evokit.errors import ConfigError, check_choice, check_choices, check_int
from evokit.netspec import Add, Concat, Conv2D, Graph, NetSpec, SeparableConv2D, merge

CellFragment = Callable[[Graph, int, int], int]
"""A cell fragment: adds layers after handle ``x`` for a level of ``width`` channels; returns the output."""


class Width:
    """GP type of a convolution's width, as a fraction of the level's width."""


# -- the primitives: each returns a fragment -------------------------------------------------------

def _inp(g: Graph, x: int, width: int) -> int:
    return x


def cell_filters(fraction: float, width: int) -> int:
    """The filters of a convolution of ``fraction`` of a level of ``width`` channels (at least 1)."""
    return max(1, round(fraction * width))


def _conv(child: CellFragment, fraction: float, kernel: int) -> CellFragment:
    def fragment(g: Graph, x: int, width: int) -> int:
        return g.add(Conv2D(cell_filters(fraction, width), kernel), child(g, x, width))
    return fragment


def _sep(child: CellFragment, fraction: float, kernel: int) -> CellFragment:
    def fragment(g: Graph, x: int, width: int) -> int:
        return g.add(SeparableConv2D(cell_filters(fraction, width), kernel), child(g, x, width))
    return fragment


def _seq(first: CellFragment, second: CellFragment) -> CellFragment:
    def fragment(g: Graph, x: int, width: int) -> int:
        return second(g, first(g, x, width), width)
    return fragment


def _merged(layer: Any, left: CellFragment, right: CellFragment) -> CellFragment:
    def fragment(g: Graph, x: int, width: int) -> int:
        # two branches that add nothing (``res(inp, inp)``) give one input: it passes through
        inputs = list(dict.fromkeys([left(g, x, width), right(g, x, width)]))
        return merge(g, layer, inputs)
    return fragment


def _res(left: CellFragment, right: CellFragment) -> CellFragment:
    return _merged(Add(), left, right)


def _cat(left: CellFragment, right: CellFragment) -> CellFragment:
    return _merged(Concat(), left, right)


PRIMITIVES = ("conv", "sep", "res", "cat", "seq")
"""Names of the cell-building primitives (the terminal ``inp`` is the cell's input itself)."""


def width_name(fraction: float) -> str:
    """The terminal name of a width fraction: its percentage, ``w25`` for 0.25, ``w12_5`` for 0.125."""
    return "w" + format(fraction * 100, "g").replace(".", "_")


@functools.lru_cache(maxsize=None)
def primitive_set(widths: tuple[float, ...], kernel_sizes: tuple[int, ...]) -> gp.PrimitiveSetTyped:
    """The typed primitive set of U-Net cells for these choices (cached: encodings with equal
    choices share it)."""
    pset = gp.PrimitiveSetTyped("unet_tree", [], Net)
    pset.addPrimitive(_conv, [Net, Width, Kernel], Net, name="conv")
    pset.addPrimitive(_sep, [Net, Width, Kernel], Net, name="sep")
    pset.addPrimitive(_res, [Net, Net], Net, name="res")
    pset.addPrimitive(_cat, [Net, Net], Net, name="cat")
    pset.addPrimitive(_seq, [Net, Net], Net, name="seq")
    pset.addTerminal(_inp, Net, name="inp")
    for fraction in widths:
        pset.addTerminal(fraction, Width, name=width_name(fraction))
    for kernel in kernel_sizes:
        pset.addTerminal(kernel, Kernel, name=f"k{kernel}")
    return pset


def _check_widths(widths: Any) -> tuple[float, ...]:
    """``widths`` as a tuple of distinct fractions in [0.01, 4] with distinct terminal names."""
    def ok(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and 0.01 <= v <= 4
    values = check_choices("widths", widths, ok, "fractions of the level's width in [0.01, 4]", distinct=True)
    if len({width_name(v) for v in values}) != len(values):
        raise ConfigError(f"widths={widths!r} is invalid: expected fractions that differ in their first digits")
    return values


class UNetTree(Tree):
    """NASGP-Net: a U-Net skeleton whose encoder/decoder cell is one GP tree (module docstring).

    Args:
        depth: poolings of the skeleton (the bottleneck is at ``input side / 2**depth``); the
            input's sides may lower it (see ``evokit.encodings.unet.effective_depth``).
        base_filters: the width of level 0; level ``l`` is ``base_filters * 2**l`` wide.
        upsampling: ``"transpose"`` (2x2 stride-2 ``Conv2DTranspose`` to the level's width, the
            original U-Net's up-convolution), ``"nearest"`` or ``"bilinear"`` (``Upsample``).
        widths: the ``Width`` terminals, fractions of the level's width (names ``w25``, ...).
        kernel_sizes: the ``Kernel`` terminals.
        min_depth, max_depth: heights of the initial cell trees (DEAP's ramped half-and-half).
        max_height: bloat limit of ``mate`` and ``mutate`` (``gp.staticLimit``), as for ``Tree``.
    """

    name = "unet_tree"
    spatial_output = True

    def __init__(self, depth: int = 3, base_filters: int = 16, upsampling: str = "transpose",
                 widths: tuple[float, ...] = (0.25, 0.5, 1.0), kernel_sizes: tuple[int, ...] = (3, 5),
                 min_depth: int = 1, max_depth: int = 3, max_height: int = 6):
        self.depth = check_int("depth", depth, minimum=0, maximum=8)
        self.base_filters = check_int("base_filters", base_filters, minimum=1)
        self.upsampling = check_choice("upsampling", upsampling, UPSAMPLINGS)
        self.widths = _check_widths(widths)
        self.kernel_sizes = check_choices("kernel_sizes", kernel_sizes, distinct=True)
        self.min_depth = check_int("min_depth", min_depth, minimum=0)
        self.max_depth = check_int("max_depth", max_depth, minimum=max(1, min_depth))
        self.max_height = check_int("max_height", max_height, minimum=max_depth, maximum=MAX_HEIGHT_LIMIT)

    @property
    def pset(self) -> gp.PrimitiveSetTyped:
        """This encoding's DEAP primitive set (shared by encodings with equal choices)."""
        return primitive_set(self.widths, self.kernel_sizes)

    def check_input(self, input_shape: tuple[int, ...], n_outputs: int, task: str) -> None:
        check_image(input_shape, type(self).__name__)

    def level_width(self, level: int) -> int:
        """The nominal width of skeleton level ``level`` (the bottleneck's level is the depth)."""
        return self.base_filters * 2**level

    def decode(self, genotype: Any, input_shape: tuple[int, ...], n_outputs: int,
               task: str = "classification") -> NetSpec:
        self.check(genotype)
        check_image(input_shape, type(self).__name__)
        # As in Tree.decode: compiling evaluates only this primitive set's own names (just checked).
        fragment = gp.compile(genotype, self.pset)

        def cell(g: Graph, x: int, stage: Stage) -> int:
            return fragment(g, x, stage.width)
        return decode_unet(input_shape, n_outputs, task, cell, self.depth, self.upsampling, self.level_width)
