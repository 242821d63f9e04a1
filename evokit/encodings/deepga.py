"""DeepGA's hybrid encoding: a list of conv blocks, a list of dense blocks, and skip bits.

Block ``i`` reads the previous block's output, concatenated with the outputs of every earlier
non-adjacent block ``j`` (``j <= i - 2``) whose skip bit is on; spatial sizes are reconciled by
pooling the larger inputs down to the smallest. The skip bits form a triangular bit string:
the bit of pair ``(j, i)`` is at ``(i - 1) * (i - 2) // 2 + j``.

On 2-D inputs blocks are Conv2D, on sequences Conv1D; on flat (tabular) inputs the conv blocks
have nothing to act on and only the dense blocks are decoded.

Two optional genes suit small networks (both off by default, so that DeepGA stays the paper's
encoding): a conv block's ``stride`` (``strides=(1, 2)``: downsampling by a strided convolution,
without a pooling layer's extra map) and the genome's ``head`` (``heads=("flatten",
"global_avg")``: a global average pooling before the dense layers costs ``channels`` inputs
instead of ``length x channels``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from deap import base

from evokit.encodings.base import Encoding, add_head, rng_or_global
from evokit.errors import ConfigError, GenotypeError, check_choices, check_int
from evokit.netspec import (ACTIVATIONS, Concat, Conv1D, Conv2D, Dense, Dropout, GlobalPool, Graph, NetSpec, Pool,
                            add_flatten, add_pool, merge)
from evokit.operators import layerlist

POOLS = ("max", "avg", "none")
HEADS = ("flatten", "global_avg", "global_max")
"""How the last conv block's map meets the dense layers: flattened, or pooled over its positions."""


def _repr(obj: Any, added: dict[str, Any]) -> str:
    """The dataclass repr without the fields ``added`` later while they have their default (so
    that a run's recorded genotypes read the same as before)."""
    shown = [f"{f.name}={getattr(obj, f.name)!r}" for f in dataclasses.fields(obj)
             if f.repr and not (f.name in added and getattr(obj, f.name) == added[f.name])]
    return f"{type(obj).__name__}({', '.join(shown)})"


@dataclass(repr=False)
class ConvBlock:
    """One convolution (same padding) followed by an optional pooling."""

    filters: int
    kernel_size: int
    pool: str = "max"
    pool_size: int = 2
    activation: str = "relu"
    stride: int = 1

    def __repr__(self) -> str:
        return _repr(self, {"stride": 1})


@dataclass
class DenseBlock:
    """One fully connected layer, with optional dropout after it."""

    units: int
    activation: str = "relu"
    dropout: float = 0.0


def skip_index(j: int, i: int) -> int:
    """Position in the skip bit string of the connection from block ``j`` to block ``i``."""
    return (i - 1) * (i - 2) // 2 + j


def n_skip_bits(n_blocks: int) -> int:
    """Length of the skip bit string for ``n_blocks`` conv blocks."""
    return (n_blocks - 1) * (n_blocks - 2) // 2 if n_blocks >= 2 else 0


@dataclass(repr=False)
class DeepGAGenome:
    """A DeepGA genotype. Its ``fitness`` (set by the toolbox) is not part of equality."""

    conv: list[ConvBlock]
    dense: list[DenseBlock]
    skips: list[int]
    fitness: Any = field(default=None, compare=False, repr=False)
    head: str = "flatten"

    def __repr__(self) -> str:
        return _repr(self, {"head": "flatten"})

    def skip_pairs(self) -> dict[tuple[int, int], int]:
        """{(j, i): bit} for every non-adjacent pair of conv blocks."""
        return {(j, i): self.skips[skip_index(j, i)] for i in range(2, len(self.conv)) for j in range(i - 1)}

    def _set_skips(self, pairs: dict[tuple[int, int], int]) -> None:
        n = len(self.conv)
        self.skips = [0] * n_skip_bits(n)
        for (j, i), bit in pairs.items():
            if 0 <= j <= i - 2 and i < n:
                self.skips[skip_index(j, i)] = bit

    def insert_conv(self, position: int, block: ConvBlock) -> None:
        """Insert a conv block, keeping every existing connection's bit on the same blocks."""
        pairs = self.skip_pairs()
        self.conv.insert(position, block)
        shift = lambda k: k + (k >= position)  # noqa: E731
        self._set_skips({(shift(j), shift(i)): b for (j, i), b in pairs.items()})

    def remove_conv(self, position: int) -> None:
        """Remove a conv block and the connections that touched it."""
        pairs = self.skip_pairs()
        del self.conv[position]
        shift = lambda k: k - (k > position)  # noqa: E731
        self._set_skips({(shift(j), shift(i)): b for (j, i), b in pairs.items() if position not in (j, i)})

    def resize_skips(self) -> None:
        """Make the skip string fit the number of conv blocks (truncate or pad with zeros)."""
        n = n_skip_bits(len(self.conv))
        self.skips = (list(self.skips) + [0] * n)[:n]


class DeepGA(Encoding):
    """DeepGA's hybrid encoding (conv blocks + dense blocks + skip-connection bits).

    Args:
        min_conv_blocks, max_conv_blocks: bounds on the number of conv blocks.
        min_dense, max_dense: bounds on the number of hidden dense layers.
        filters, kernel_sizes, pools, pool_sizes, activations: the choices a conv block draws from.
        units, dropouts: the choices a dense block draws from (activations shared).
        skip_probability: chance that each skip bit of a random genotype is on.
        strides: the strides a conv block draws from (``(1,)``: the paper's encoding; ``(1, 2)``
            adds strided convolutions).
        heads: the heads a genotype draws from, among ``HEADS`` (``("flatten",)``: the paper's).
    """

    name = "deepga"
    ADDED = {"strides": (1,), "heads": ("flatten",)}
    strides: tuple[int, ...] = (1,)
    heads: tuple[str, ...] = ("flatten",)

    def __init__(self, min_conv_blocks: int = 1, max_conv_blocks: int = 3, min_dense: int = 0, max_dense: int = 2,
                 filters: tuple[int, ...] = (4, 8, 16, 32, 64), kernel_sizes: tuple[int, ...] = (2, 3, 5),
                 pools: tuple[str, ...] = ("max", "avg", "none"), pool_sizes: tuple[int, ...] = (2, 3),
                 activations: tuple[str, ...] = ("relu", "elu", "tanh"),
                 units: tuple[int, ...] = (8, 16, 32, 64, 128), dropouts: tuple[float, ...] = (0.0, 0.2),
                 skip_probability: float = 0.3, strides: tuple[int, ...] = (1,),
                 heads: tuple[str, ...] = ("flatten",)):
        self.min_conv_blocks = check_int("min_conv_blocks", min_conv_blocks, minimum=0)
        self.max_conv_blocks = check_int("max_conv_blocks", max_conv_blocks, minimum=max(1, min_conv_blocks))
        self.min_dense = check_int("min_dense", min_dense, minimum=0)
        self.max_dense = check_int("max_dense", max_dense, minimum=min_dense)
        self.filters = check_choices("filters", filters)
        self.kernel_sizes = check_choices("kernel_sizes", kernel_sizes)
        self.pools = check_choices("pools", pools, lambda v: v in POOLS, f"values among {POOLS}")
        self.pool_sizes = check_choices("pool_sizes", pool_sizes)
        self.activations = check_choices("activations", activations, lambda v: v in ACTIVATIONS,
                                    f"values among {ACTIVATIONS}")
        self.units = check_choices("units", units)
        self.dropouts = check_choices("dropouts", dropouts, lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1,
                                 "numbers in [0, 1)")
        if not isinstance(skip_probability, (int, float)) or not 0 <= skip_probability <= 1:
            raise ConfigError(f"skip_probability={skip_probability!r} is invalid: expected a number in [0, 1]")
        self.skip_probability = skip_probability
        self.strides = check_choices("strides", strides, lambda v: isinstance(v, int) and not isinstance(v, bool)
                                     and v >= 1, "positive integers")
        self.heads = check_choices("heads", heads, lambda v: v in HEADS, f"values among {HEADS}")

    # -- sampling ---------------------------------------------------------------------------

    def random_conv(self, rng: Any = None) -> ConvBlock:
        rng = rng_or_global(rng)
        return ConvBlock(rng.choice(self.filters), rng.choice(self.kernel_sizes), rng.choice(self.pools),
                         rng.choice(self.pool_sizes), rng.choice(self.activations), self._draw(self.strides, rng))

    def random_dense(self, rng: Any = None) -> DenseBlock:
        rng = rng_or_global(rng)
        return DenseBlock(rng.choice(self.units), rng.choice(self.activations), rng.choice(self.dropouts))

    def random(self, rng: Any = None) -> DeepGAGenome:
        rng = rng_or_global(rng)
        n_conv = rng.randint(self.min_conv_blocks, self.max_conv_blocks)
        n_dense = rng.randint(self.min_dense, self.max_dense)
        conv = [self.random_conv(rng) for _ in range(n_conv)]
        dense = [self.random_dense(rng) for _ in range(n_dense)]
        skips = [int(rng.random() < self.skip_probability) for _ in range(n_skip_bits(n_conv))]
        return DeepGAGenome(conv, dense, skips, head=self._draw(self.heads, rng))

    @staticmethod
    def _draw(choices: tuple[Any, ...], rng: Any) -> Any:
        """A random choice; the only one without drawing (the paper's encoding keeps its random stream)."""
        return rng.choice(choices) if len(choices) > 1 else choices[0]

    # -- decoding ---------------------------------------------------------------------------

    def decode(self, genotype: DeepGAGenome, input_shape: tuple[int, ...], n_outputs: int,
               task: str = "classification") -> NetSpec:
        check_genome(genotype)
        g = Graph(input_shape)
        x = g.input
        if len(g.input_shape) > 1:
            conv_type = Conv2D if len(g.input_shape) == 3 else Conv1D
            outputs: list[int] = []
            for i, block in enumerate(genotype.conv):
                sources = [outputs[i - 1] if i else g.input]
                sources += [outputs[j] for j in range(i - 1) if genotype.skips[skip_index(j, i)]]
                h = merge(g, Concat(), sources)
                h = g.add(conv_type(block.filters, block.kernel_size, strides=block.stride,
                                    activation=block.activation), h)
                if block.pool != "none":
                    h = add_pool(g, Pool(block.pool, block.pool_size), h)
                outputs.append(h)
            x = outputs[-1] if outputs else x
            if outputs and genotype.head != "flatten":
                x = g.add(GlobalPool(genotype.head.removeprefix("global_")), x)
        for block in genotype.dense:
            x = g.add(Dense(block.units, activation=block.activation), add_flatten(g, x))
            if block.dropout > 0:
                x = g.add(Dropout(block.dropout), x)
        return add_head(g, x, n_outputs, task)

    # -- variation, distance, display ---------------------------------------------------------

    def register(self, toolbox: base.Toolbox) -> None:
        toolbox.register("mate", layerlist.cxBlockLists, conv_bounds=(self.min_conv_blocks, self.max_conv_blocks),
                         dense_bounds=(self.min_dense, self.max_dense))
        toolbox.register("mutate", layerlist.mutLayerList, space=self)

    def distance(self, a: DeepGAGenome, b: DeepGAGenome) -> float:
        """Unmatched blocks count 1; matched blocks the fraction of differing fields (a stride
        only where either block has one other than 1, so the paper's encoding keeps its
        distances); plus the Hamming distance of the skip bits both share and the count of those
        only one has, and 1 for different heads."""
        total = 0.0
        for xs, ys in ((a.conv, b.conv), (a.dense, b.dense)):
            total += abs(len(xs) - len(ys))
            for x, y in zip(xs, ys):
                fx, fy = _genes(x, y), _genes(y, x)
                total += sum(u != v for u, v in zip(fx, fy)) / len(fx)
        pa, pb = a.skip_pairs(), b.skip_pairs()
        total += sum(pa[k] != pb[k] for k in pa.keys() & pb.keys()) + len(pa.keys() ^ pb.keys())
        return float(total + (a.head != b.head))

    def describe(self, genotype: DeepGAGenome) -> str:
        conv = " ".join(f"C{b.filters}k{b.kernel_size}{'' if b.stride == 1 else f's{b.stride}'}"
                        f"{'' if b.pool == 'none' else b.pool[0] + str(b.pool_size)}" for b in genotype.conv)
        dense = " ".join(f"D{b.units}" for b in genotype.dense)
        skips = "".join(map(str, genotype.skips))
        head = "" if genotype.head == "flatten" else f" {genotype.head}"
        return f"[{conv}]{head} [{dense}] skips={skips or '-'}"

    def to_json(self, genotype: DeepGAGenome) -> dict[str, Any]:
        return {"conv": [dataclasses.asdict(b) for b in genotype.conv],
                "dense": [dataclasses.asdict(b) for b in genotype.dense], "skips": list(genotype.skips),
                "head": genotype.head}

    def from_json(self, data: dict[str, Any]) -> DeepGAGenome:
        genome = DeepGAGenome([ConvBlock(**b) for b in data["conv"]], [DenseBlock(**b) for b in data["dense"]],
                              list(data["skips"]), head=data.get("head", "flatten"))
        check_genome(genome)
        return genome




def _genes(block: Any, other: Any) -> tuple[Any, ...]:
    """``block``'s fields for the distance to ``other``: without the stride while both have 1."""
    fields = dataclasses.astuple(block)
    if isinstance(block, ConvBlock) and block.stride == 1 and getattr(other, "stride", 1) == 1:
        return fields[:-1]
    return fields


def check_genome(genome: Any) -> None:
    """Raise GenotypeError naming the bad gene if ``genome`` is not a well-formed DeepGA genotype."""
    if not isinstance(genome, DeepGAGenome):
        raise GenotypeError(f"genotype={type(genome).__name__} is invalid: expected a DeepGAGenome")
    for i, b in enumerate(genome.conv):
        if not isinstance(b, ConvBlock):
            raise GenotypeError(f"conv[{i}]={b!r} is invalid: expected a ConvBlock")
        for name in ("filters", "kernel_size", "pool_size", "stride"):
            value = getattr(b, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GenotypeError(f"conv[{i}].{name}={value!r} is invalid: expected a positive integer")
        if b.pool not in POOLS:
            raise GenotypeError(f"conv[{i}].pool={b.pool!r} is invalid: expected one of {POOLS}")
        if b.activation not in ACTIVATIONS:
            raise GenotypeError(f"conv[{i}].activation={b.activation!r} is invalid: expected one of {ACTIVATIONS}")
    for i, b in enumerate(genome.dense):
        if not isinstance(b, DenseBlock):
            raise GenotypeError(f"dense[{i}]={b!r} is invalid: expected a DenseBlock")
        if isinstance(b.units, bool) or not isinstance(b.units, int) or b.units < 1:
            raise GenotypeError(f"dense[{i}].units={b.units!r} is invalid: expected a positive integer")
        if b.activation not in ACTIVATIONS:
            raise GenotypeError(f"dense[{i}].activation={b.activation!r} is invalid: expected one of {ACTIVATIONS}")
        if not isinstance(b.dropout, (int, float)) or not 0 <= b.dropout < 1:
            raise GenotypeError(f"dense[{i}].dropout={b.dropout!r} is invalid: expected a number in [0, 1)")
    if genome.head not in HEADS:
        raise GenotypeError(f"head={genome.head!r} is invalid: expected one of {HEADS}")
    expected = n_skip_bits(len(genome.conv))
    if len(genome.skips) != expected or any(bit not in (0, 1) for bit in genome.skips):
        raise GenotypeError(f"skips={genome.skips!r} is invalid: expected {expected} bits (0 or 1) "
                            f"for {len(genome.conv)} conv blocks")
