"""DeepGA for U-Nets: per level a list of convolution blocks, the depth evolvable.

A genotype holds one block list per encoder level (``levels[0]`` at full resolution; how many
levels there are is itself a gene, in ``[1, max_depth]``) and one for the bottleneck. The
skeleton (:mod:`evokit.encodings.unet`) pools after each encoder level and upsamples before each
decoder level; the decoder at level ``l`` reuses level ``l``'s block list mirrored (its blocks in
reverse order, each a layer of its own), so the contracting and expanding paths stay symmetric
as in U-Net. A block is DeepGA's conv block without its pooling (the skeleton pools): one 'same'
convolution of ``filters`` channels, ``kernel_size`` and ``activation``. An empty list is a
level that only pools and upsamples. Levels the input's sides cannot pool are not decoded
(``evokit.encodings.unet.effective_depth``): every genotype decodes.

Variation follows DeepGA (:mod:`evokit.operators.layerlist`): crossover is one-point, here at two
grains (the level lists, then the blocks of one list); mutation inserts, removes or re-samples a
block, and, since depth is a gene, adds or drops the deepest level.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from deap import base

from evokit.encodings.base import Encoding, rng_or_global
from evokit.encodings.unet import UPSAMPLINGS, Stage, check_image, decode_unet
from evokit.errors import GenotypeError, check_choice, check_choices, check_int
from evokit.netspec import ACTIVATIONS, Conv2D, Graph, NetSpec
from evokit.operators.layerlist import cut_points

MUTATIONS = ("insert", "remove", "resample", "deepen", "shallow")
"""The kinds of :func:`mutUNetBlocks`."""


@dataclass
class UNetBlock:
    """One 'same' convolution of a U-Net level (DeepGA's ``ConvBlock`` fields, without pooling)."""

    filters: int
    kernel_size: int
    activation: str = "relu"


@dataclass
class UNetBlocksGenome:
    """A UNetBlocks genotype: a block list per encoder level and one for the bottleneck. Its
    ``fitness`` (set by the toolbox) is not part of equality."""

    levels: list[list[UNetBlock]]
    bottleneck: list[UNetBlock]
    fitness: Any = field(default=None, compare=False, repr=False)

    def lists(self) -> list[list[UNetBlock]]:
        """Every block list: the levels' (level 0 first), then the bottleneck's."""
        return [*self.levels, self.bottleneck]


# -- variation (DEAP operators: in place, returning tuples) ----------------------------------------

def cxUNetBlocks(ind1: UNetBlocksGenome, ind2: UNetBlocksGenome, bounds: tuple[int, int] = (1, 2),
                 rng: Any = None) -> tuple[UNetBlocksGenome, UNetBlocksGenome]:
    """One-point crossover at two grains: the parents swap their levels from a cut level ``c >= 1``
    down, bottleneck included (so a child takes the other's depth); then one list both have (a
    level above both depths, or the bottleneck) gets DeepGA's one-point crossover of its blocks,
    with a cut point in each parent such that both lengths stay within ``bounds`` (min, max)."""
    rng = rng_or_global(rng)
    c = rng.randint(1, min(len(ind1.levels), len(ind2.levels)))
    ind1.levels, ind2.levels = ind1.levels[:c] + ind2.levels[c:], ind2.levels[:c] + ind1.levels[c:]
    ind1.bottleneck, ind2.bottleneck = ind2.bottleneck, ind1.bottleneck
    shared = min(len(ind1.levels), len(ind2.levels))
    i = rng.randint(0, shared)  # ``shared`` stands for the bottleneck
    l1, l2 = (ind1.bottleneck, ind2.bottleneck) if i == shared else (ind1.levels[i], ind2.levels[i])
    a, b = cut_points(len(l1), len(l2), bounds, rng)
    l1[:], l2[:] = l1[:a] + l2[b:], l2[:b] + l1[a:]
    return ind1, ind2


def mutUNetBlocks(individual: UNetBlocksGenome, space: Any, rng: Any = None,
                  weights: tuple[float, ...] = (0.25, 0.2, 0.3, 0.125, 0.125)) -> tuple[UNetBlocksGenome]:
    """One of :data:`MUTATIONS`, drawn with ``weights`` among those that can change this
    individual: insert a new block into a list below ``space.max_blocks``; remove one from a
    list above ``space.min_blocks``; re-sample one block; add a new deepest level (below
    ``space.max_depth``); drop the deepest level (above one). New blocks and levels come from
    ``space.random_block(rng)`` / ``space.random_level(rng)`` (a UNetBlocks encoding)."""
    rng = rng_or_global(rng)
    lists = individual.lists()
    targets = {"insert": [b for b in lists if len(b) < space.max_blocks],
               "remove": [b for b in lists if len(b) > space.min_blocks],
               "resample": [b for b in lists if b]}
    can = {**{k: bool(v) for k, v in targets.items()}, "deepen": len(individual.levels) < space.max_depth,
           "shallow": len(individual.levels) > 1}
    kinds = [(k, w) for k, w in zip(MUTATIONS, weights) if can[k] and w > 0]
    if not kinds:
        return (individual,)
    kind = rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
    if kind == "deepen":
        individual.levels.append(space.random_level(rng))
    elif kind == "shallow":
        individual.levels.pop()
    else:
        blocks = rng.choice(targets[kind])
        if kind == "insert":
            blocks.insert(rng.randint(0, len(blocks)), space.random_block(rng))
        elif kind == "remove":
            del blocks[rng.randrange(len(blocks))]
        else:
            blocks[rng.randrange(len(blocks))] = space.random_block(rng)
    return (individual,)


# -- the encoding ----------------------------------------------------------------------------------

class UNetBlocks(Encoding):
    """DeepGA-style U-Nets: per level a list of convolution blocks (module docstring).

    Args:
        max_depth: most encoder levels (poolings); a genotype has 1 to ``max_depth``.
        min_blocks, max_blocks: bounds on each level's (and the bottleneck's) number of blocks.
        filters, kernel_sizes, activations: the choices a block draws from.
        upsampling: ``"transpose"`` (2x2 stride-2 ``Conv2DTranspose`` to the width of the
            level's skip, the original U-Net's up-convolution), ``"nearest"`` or ``"bilinear"``.
    """

    name = "unet_blocks"
    spatial_output = True

    def __init__(self, max_depth: int = 3, min_blocks: int = 1, max_blocks: int = 2,
                 filters: tuple[int, ...] = (8, 16, 32, 64), kernel_sizes: tuple[int, ...] = (3, 5),
                 activations: tuple[str, ...] = ("relu", "elu"), upsampling: str = "transpose"):
        self.max_depth = check_int("max_depth", max_depth, minimum=1, maximum=8)
        self.min_blocks = check_int("min_blocks", min_blocks, minimum=0)
        self.max_blocks = check_int("max_blocks", max_blocks, minimum=max(1, min_blocks))
        self.filters = check_choices("filters", filters)
        self.kernel_sizes = check_choices("kernel_sizes", kernel_sizes)
        self.activations = check_choices("activations", activations, lambda v: v in ACTIVATIONS,
                                         f"values among {ACTIVATIONS}")
        self.upsampling = check_choice("upsampling", upsampling, UPSAMPLINGS)

    # -- sampling ---------------------------------------------------------------------------

    def random_block(self, rng: Any = None) -> UNetBlock:
        rng = rng_or_global(rng)
        return UNetBlock(rng.choice(self.filters), rng.choice(self.kernel_sizes), rng.choice(self.activations))

    def random_level(self, rng: Any = None) -> list[UNetBlock]:
        rng = rng_or_global(rng)
        return [self.random_block(rng) for _ in range(rng.randint(self.min_blocks, self.max_blocks))]

    def random(self, rng: Any = None) -> UNetBlocksGenome:
        rng = rng_or_global(rng)
        levels = [self.random_level(rng) for _ in range(rng.randint(1, self.max_depth))]
        return UNetBlocksGenome(levels, self.random_level(rng))

    # -- decoding ---------------------------------------------------------------------------

    def check_input(self, input_shape: tuple[int, ...], n_outputs: int, task: str) -> None:
        check_image(input_shape, type(self).__name__)

    def decode(self, genotype: UNetBlocksGenome, input_shape: tuple[int, ...], n_outputs: int,
               task: str = "classification") -> NetSpec:
        check_genome(genotype)
        check_image(input_shape, type(self).__name__)

        def cell(g: Graph, x: int, stage: Stage) -> int:
            if stage.part == "bottleneck":
                blocks = genotype.bottleneck
            else:
                blocks = genotype.levels[stage.level]
                blocks = blocks[::-1] if stage.part == "decoder" else blocks
            for block in blocks:
                x = g.add(Conv2D(block.filters, block.kernel_size, activation=block.activation), x)
            return x
        return decode_unet(input_shape, n_outputs, task, cell, len(genotype.levels), self.upsampling)

    # -- variation, distance, display ---------------------------------------------------------

    def register(self, toolbox: base.Toolbox) -> None:
        """``mate``: :func:`cxUNetBlocks`; ``mutate``: :func:`mutUNetBlocks` (both draw from
        Python's ``random``, as DEAP's operators do)."""
        toolbox.register("mate", cxUNetBlocks, bounds=(self.min_blocks, self.max_blocks))
        toolbox.register("mutate", mutUNetBlocks, space=self)

    def distance(self, a: UNetBlocksGenome, b: UNetBlocksGenome) -> float:
        """Over the lists at the same place (level ``l`` with level ``l``, bottleneck with
        bottleneck): an unmatched block counts 1, matched blocks the fraction of differing
        fields; a level only one genotype has counts 1 plus its blocks."""
        total = 0.0
        pairs = list(zip(a.levels, b.levels)) + [(a.bottleneck, b.bottleneck)]
        for xs, ys in pairs:
            total += abs(len(xs) - len(ys))
            for x, y in zip(xs, ys):
                fx, fy = dataclasses.astuple(x), dataclasses.astuple(y)
                total += sum(u != v for u, v in zip(fx, fy)) / len(fx)
        longer = a.levels if len(a.levels) > len(b.levels) else b.levels
        total += sum(1 + len(level) for level in longer[min(len(a.levels), len(b.levels)):])
        return float(total)

    def describe(self, genotype: UNetBlocksGenome) -> str:
        """E.g. ``L0[C8k3 C16k5-elu] L1[C16k3] B[C32k3]``: a block is ``C<filters>k<kernel>``."""
        def show(blocks: list[UNetBlock]) -> str:
            return " ".join(f"C{b.filters}k{b.kernel_size}{'' if b.activation == 'relu' else '-' + b.activation}"
                            for b in blocks)
        levels = " ".join(f"L{i}[{show(blocks)}]" for i, blocks in enumerate(genotype.levels))
        return f"{levels} B[{show(genotype.bottleneck)}]"

    def to_json(self, genotype: UNetBlocksGenome) -> dict[str, Any]:
        return {"levels": [[dataclasses.asdict(b) for b in level] for level in genotype.levels],
                "bottleneck": [dataclasses.asdict(b) for b in genotype.bottleneck]}

    def from_json(self, data: Any) -> UNetBlocksGenome:
        if not isinstance(data, dict) or set(data) != {"levels", "bottleneck"}:
            raise GenotypeError(f"genotype={data!r} is invalid: expected {{'levels': [[block, ...], ...], "
                                "'bottleneck': [block, ...]}")
        if not isinstance(data["levels"], list) or not all(isinstance(level, list) for level in data["levels"]):
            raise GenotypeError(f"levels={data['levels']!r} is invalid: expected a list of block lists")
        levels = [[_block(f"levels[{i}][{j}]", b) for j, b in enumerate(level)]
                  for i, level in enumerate(data["levels"])]
        if not isinstance(data["bottleneck"], list):
            raise GenotypeError(f"bottleneck={data['bottleneck']!r} is invalid: expected a list of blocks")
        genome = UNetBlocksGenome(levels, [_block(f"bottleneck[{j}]", b) for j, b in enumerate(data["bottleneck"])])
        check_genome(genome)
        return genome


def _block(gene: str, data: Any) -> UNetBlock:
    """A block from its JSON form; GenotypeError naming ``gene`` when it is not one."""
    names = [f.name for f in dataclasses.fields(UNetBlock)]
    if not isinstance(data, dict) or not {"filters", "kernel_size"} <= set(data) <= set(names):
        raise GenotypeError(f"{gene}={data!r} is invalid: expected a block {{'filters': ..., 'kernel_size': ..., "
                            "'activation': ...}")
    return UNetBlock(**data)


def check_genome(genome: Any) -> None:
    """Raise GenotypeError naming the bad gene if ``genome`` is not a well-formed UNetBlocks genotype."""
    if not isinstance(genome, UNetBlocksGenome):
        raise GenotypeError(f"genotype={type(genome).__name__} is invalid: expected a UNetBlocksGenome")
    if not isinstance(genome.levels, list) or not genome.levels:
        raise GenotypeError(f"levels={genome.levels!r} is invalid: expected a non-empty list of block lists "
                            "(one per encoder level)")
    named = [(f"levels[{i}]", level) for i, level in enumerate(genome.levels)] + [("bottleneck", genome.bottleneck)]
    for where, blocks in named:
        if not isinstance(blocks, list):
            raise GenotypeError(f"{where}={blocks!r} is invalid: expected a list of UNetBlock")
        for j, b in enumerate(blocks):
            _check_block(f"{where}[{j}]", b)


def _check_block(gene: str, block: Any) -> None:
    if not isinstance(block, UNetBlock):
        raise GenotypeError(f"{gene}={block!r} is invalid: expected a UNetBlock")
    for name in ("filters", "kernel_size"):
        value = getattr(block, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise GenotypeError(f"{gene}.{name}={value!r} is invalid: expected a positive integer")
    if block.activation not in ACTIVATIONS:
        raise GenotypeError(f"{gene}.activation={block.activation!r} is invalid: expected one of {ACTIVATIONS}")
