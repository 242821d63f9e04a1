"""Order-based encoding: a pool of layer blocks, and the order (and number) of those used.

A genotype is a permutation of ``range(n + 1)`` for a pool of ``n`` blocks; the value ``n`` is a
STOP marker. The blocks before the marker are applied in that order and the rest are unused, so
the cut point is evolved by the same permutation operators as the order, and DEAP's
``cxPartialyMatched``, ``cxOrdered`` and ``mutShuffleIndexes`` apply unchanged.

Decoding repairs what cannot be built: conv and pooling blocks on a flat input (tabular data, or
after a dense block has flattened the data) are skipped; a pooling that would shrink a side below
1 is dropped; a dense block on a spatial input gets a Flatten first (a large map is pooled down before it:
``add_flatten``). Convolutions are Conv2D on
images and Conv1D on sequences. An empty prefix decodes to just the head.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

from deap import base, tools

from evokit.encodings.base import Encoding, add_head, rng_or_global
from evokit.errors import ConfigError, GenotypeError, check_choice, check_float
from evokit.netspec import ACTIVATIONS, Conv1D, Conv2D, Dense, Dropout, Graph, NetSpec, Pool, add_flatten, add_pool

KINDS = ("conv", "maxpool", "avgpool", "dense", "dropout")
CROSSOVERS = ("pmx", "ordered")


@dataclass(frozen=True)
class Block:
    """One layer block of the pool: ``Block("conv", 16, 3)``, ``Block("maxpool", 2)``,
    ``Block("dense", 64)``, ``Block("dropout", 0.2)``.

    Args:
        kind: one of ``conv``, ``maxpool``, ``avgpool``, ``dense``, ``dropout``.
        size: the filters of a conv, the window of a pooling, the units of a dense layer, the
            rate of a dropout.
        kernel_size: a conv's kernel (ignored by other kinds).
        activation: a conv's or dense layer's activation (ignored by other kinds).
    """

    kind: str
    size: int | float
    kernel_size: int = 3
    activation: str = "relu"

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, KINDS)
        if self.kind == "dropout":
            if check_float("size", self.size, minimum=0.0) >= 1.0:
                raise ConfigError(f"size={self.size!r} is invalid: a dropout rate must be in [0, 1)")
        elif isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise ConfigError(f"size={self.size!r} is invalid: expected a positive integer for a {self.kind} block")
        if isinstance(self.kernel_size, bool) or not isinstance(self.kernel_size, int) or self.kernel_size < 1:
            raise ConfigError(f"kernel_size={self.kernel_size!r} is invalid: expected a positive integer")
        check_choice("activation", self.activation, ACTIVATIONS)

    def __repr__(self) -> str:
        args = [repr(self.kind), repr(self.size)]
        if self.kernel_size != 3:
            args.append(f"kernel_size={self.kernel_size!r}")
        if self.activation != "relu":
            args.append(f"activation={self.activation!r}")
        return f"Block({', '.join(args)})"

    def describe(self) -> str:
        """Compact form: ``C16k3``, ``maxpool2``, ``avgpool2``, ``D64``, ``drop0.2``
        (a non-relu activation is appended: ``C16k3tanh``)."""
        act = "" if self.activation == "relu" else self.activation
        if self.kind == "conv":
            return f"C{self.size}k{self.kernel_size}{act}"
        if self.kind == "dense":
            return f"D{self.size}{act}"
        if self.kind == "dropout":
            return f"drop{self.size}"
        return f"{self.kind}{self.size}"


DEFAULT_BLOCKS = (Block("conv", 8, 3), Block("conv", 16, 3), Block("conv", 32, 3), Block("conv", 16, 5),
                  Block("maxpool", 2), Block("avgpool", 2), Block("dense", 32), Block("dense", 64),
                  Block("dropout", 0.2))
"""The default pool, sized for small images such as digits' 8x8."""


class PermutationGenome(list):
    """A Permutation genotype: a permutation of ``range(n_blocks + 1)``, ``n_blocks`` the STOP
    marker. A list, so DEAP's permutation operators work on it in place; its ``fitness`` (set by
    the toolbox) is an attribute, not an element: equality is the list's."""

    fitness: Any = None

    def __repr__(self) -> str:
        return f"PermutationGenome({list.__repr__(self)})"


class Permutation(Encoding):
    """A pool of layer blocks; the genotype orders them and places a STOP marker after the last
    one used (see the module docstring).

    Args:
        blocks: the pool: :class:`Block` instances, or ``(kind, size[, kernel_size[, activation]])``
            sequences or dicts of Block's fields (a config file's form). Default: DEFAULT_BLOCKS.
        crossover: ``"pmx"`` (DEAP's ``cxPartialyMatched``) or ``"ordered"`` (``cxOrdered``).
        indpb: per-position probability of ``mutShuffleIndexes`` moving that gene.
    """

    name = "permutation"

    def __init__(self, blocks: Sequence[Any] | None = None, crossover: str = "pmx", indpb: float = 0.1):
        self.blocks = DEFAULT_BLOCKS if blocks is None else _blocks(blocks)
        self.crossover = check_choice("crossover", crossover, CROSSOVERS)
        self.indpb = check_float("indpb", indpb, minimum=0.0, maximum=1.0)

    @property
    def stop(self) -> int:
        """The STOP marker's value (the number of blocks in the pool)."""
        return len(self.blocks)

    def used(self, genotype: Sequence[int]) -> list[Block]:
        """The blocks before the STOP marker, in order."""
        check_genome(genotype, len(self.blocks))
        cut = list(genotype).index(self.stop)
        return [self.blocks[i] for i in genotype[:cut]]

    def compose(self, order: Sequence[int]) -> PermutationGenome:
        """The genotype using the blocks of indices ``order``, in that order (the unused ones
        follow the STOP marker in ascending order)."""
        order = list(order)
        if len(set(order)) != len(order) or not all(isinstance(i, int) and 0 <= i < self.stop for i in order):
            raise ConfigError(f"order={order!r} is invalid: expected distinct block indices in 0..{self.stop - 1}")
        return PermutationGenome(order + [self.stop] + [i for i in range(self.stop) if i not in order])

    # -- the Encoding contract ----------------------------------------------------------------

    def random(self, rng: Any = None) -> PermutationGenome:
        rng = rng_or_global(rng)
        genome = list(range(self.stop + 1))
        rng.shuffle(genome)
        return PermutationGenome(genome)

    def decode(self, genotype: Sequence[int], input_shape: tuple[int, ...], n_outputs: int,
               task: str = "classification") -> NetSpec:
        blocks = self.used(genotype)
        g = Graph(input_shape)
        x = g.input
        for block in blocks:
            rank = len(g.shape(x))
            if block.kind == "conv":
                if rank > 1:
                    conv = Conv2D if rank == 3 else Conv1D
                    x = g.add(conv(block.size, block.kernel_size, activation=block.activation), x)
            elif block.kind in ("maxpool", "avgpool"):
                if rank > 1:
                    x = add_pool(g, Pool(block.kind[:3], block.size), x)
            elif block.kind == "dense":
                x = g.add(Dense(block.size, activation=block.activation), add_flatten(g, x))
            else:
                x = g.add(Dropout(block.size), x)
        return add_head(g, x, n_outputs, task)

    def register(self, toolbox: base.Toolbox) -> None:
        toolbox.register("mate", tools.cxPartialyMatched if self.crossover == "pmx" else tools.cxOrdered)
        toolbox.register("mutate", tools.mutShuffleIndexes, indpb=self.indpb)

    def distance(self, a: Sequence[int], b: Sequence[int]) -> float:
        """Positions where the used block sequences differ (compared by block, so two equal blocks
        of the pool are interchangeable), a position only one sequence has counting as different.
        Genotypes that differ only after their STOP markers decode alike and are at distance 0."""
        ua, ub = self.used(a), self.used(b)
        return float(sum(x != y for x, y in zip(ua, ub)) + abs(len(ua) - len(ub)))

    def describe(self, genotype: Sequence[int]) -> str:
        """E.g. ``C8k3 > maxpool2 > D32``; ``-`` when no block is used."""
        return " > ".join(b.describe() for b in self.used(genotype)) or "-"

    def to_json(self, genotype: Sequence[int]) -> list[int]:
        return [int(i) for i in genotype]

    def from_json(self, data: Any) -> PermutationGenome:
        check_genome(data, len(self.blocks))
        return PermutationGenome(int(i) for i in data)

    def blocks_json(self) -> list[dict[str, Any]]:
        """The pool as JSON-serialisable dicts (``Permutation(blocks=...)`` accepts them back)."""
        return [asdict(b) for b in self.blocks]


def _blocks(blocks: Any) -> tuple[Block, ...]:
    """Validate and normalise the pool; errors name ``blocks`` or ``blocks[i]``."""
    if isinstance(blocks, (str, bytes, dict)) or not isinstance(blocks, Sequence) or not blocks:
        raise ConfigError(f"blocks={blocks!r} is invalid: expected a non-empty list of blocks")
    out = []
    for i, b in enumerate(blocks):
        try:
            if isinstance(b, Block):
                out.append(b)
            elif isinstance(b, dict):
                out.append(Block(**b))
            elif isinstance(b, Sequence) and not isinstance(b, (str, bytes)) and 2 <= len(b) <= 4:
                out.append(Block(*b))
            else:
                raise ConfigError("expected a Block, a (kind, size[, kernel_size[, activation]]) sequence "
                                  "or a dict of Block fields")
        except (ConfigError, TypeError) as exc:
            raise ConfigError(f"blocks[{i}]={b!r} is invalid: {exc}") from None
    return tuple(out)


def check_genome(genotype: Any, n_blocks: int) -> None:
    """Raise GenotypeError naming ``genotype`` unless it is a permutation of ``range(n_blocks + 1)``."""
    ok = (not isinstance(genotype, (str, bytes)) and isinstance(genotype, Sequence)
          and all(isinstance(v, int) and not isinstance(v, bool) for v in genotype)
          and sorted(genotype) == list(range(n_blocks + 1)))
    if not ok:
        shown = genotype if isinstance(genotype, Sequence) else type(genotype).__name__
        raise GenotypeError(f"genotype={shown!r} is invalid: expected a permutation of range({n_blocks + 1}) "
                            f"(each of 0..{n_blocks} once; {n_blocks} is the STOP marker)")
