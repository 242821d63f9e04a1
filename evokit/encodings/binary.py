"""Genetic-CNN's binary encoding: a fixed-length bit string of stages, nodes and connections.

The bit string is read left to right:

* per stage, per node: one on/off bit, then the Gray-coded indices of the node's filters,
  kernel size and activation (each field ``ceil(log2(len(choices)))`` bits wide; the decoded
  number is taken modulo the number of choices, so every bit pattern means something);
* per stage, after its nodes: ``K * (K - 1) / 2`` connection bits, as in Genetic CNN: the bit of
  pair ``(i, j)``, ``i < j``, at ``j * (j - 1) / 2 + i``, means that node ``j`` reads node ``i``;
* per dense layer: one on/off bit, then the Gray-coded index of its units.

Gray coding makes neighbouring choices one bit flip apart, so ``mutFlipBit`` takes small steps.

A stage decodes into a DAG of the nodes that are on: a node reads the concatenation of its
active predecessors (the stage input when it has none); the nodes nobody reads are concatenated
into the stage output (the input passes through a stage with no active node); a 2x2 max pooling
ends the stage, dropped when the input is too small for it. Convolutions are Conv2D on images,
Conv1D on sequences; on flat (tabular) inputs the stages have nothing to act on and only the
dense layers decode.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from deap import base, tools

from evokit.encodings.base import Encoding, add_head, rng_or_global
from evokit.errors import ConfigError, GenotypeError, check_choice, check_choices, check_float, check_int
from evokit.netspec import ACTIVATIONS, Concat, Conv1D, Conv2D, Dense, Graph, NetSpec, Pool, add_flatten, add_pool, merge

CROSSOVERS = ("two_point", "uniform")

NodeGenes = tuple[int, int, str]
"""(filters, kernel_size, activation) of an active node."""


class BinaryGenome(list):
    """A Binary genotype: a list of 0/1 ints, so DEAP's list operators work on it in place.

    Its ``fitness`` (set by the toolbox) is an attribute, not an element: equality is the list's.
    """

    fitness: Any = None

    def __repr__(self) -> str:
        return f"BinaryGenome({list.__repr__(self)})"


@dataclass(frozen=True)
class Stage:
    """What one stage's bits say: ``nodes[j]`` is ``None`` when node ``j`` is off, and ``edges``
    holds every pair ``(i, j)``, ``i < j``, whose connection bit is on (active or not)."""

    nodes: tuple[NodeGenes | None, ...]
    edges: frozenset[tuple[int, int]]


def field_width(n_choices: int) -> int:
    """Bits needed to index ``n_choices`` choices: ``ceil(log2(n_choices))`` (0 for one choice)."""
    return (n_choices - 1).bit_length()


def gray_encode(value: int, width: int) -> list[int]:
    """The ``width``-bit reflected Gray code of ``value``, most significant bit first."""
    code = value ^ (value >> 1)
    return [(code >> (width - 1 - k)) & 1 for k in range(width)]


def gray_decode(bits: Iterable[int]) -> int:
    """The number whose reflected Gray code is ``bits`` (most significant bit first)."""
    value = acc = 0
    for bit in bits:
        acc ^= bit
        value = (value << 1) | acc
    return value


def edge_index(i: int, j: int) -> int:
    """Position among a stage's connection bits of the pair ``(i, j)``, ``i < j``."""
    return j * (j - 1) // 2 + i


class Binary(Encoding):
    """Genetic-CNN style bit strings: conv stages with on/off nodes and connection bits, then
    on/off dense layers (see the module docstring for the layout).

    Args:
        stages: number of conv stages (each ends with a 2x2 max pooling).
        nodes_per_stage: K, the conv nodes of each stage.
        filters, kernel_sizes, activations: the choices a node's Gray-coded fields index.
        dense_layers: number of on/off dense layers after the stages.
        units: the choices a dense layer's Gray-coded field indexes.
        dense_activation: activation of the hidden dense layers.
        crossover: ``"two_point"`` (DEAP's ``cxTwoPoint``) or ``"uniform"`` (``cxUniform``, 0.5).
        indpb: per-bit flip probability of ``mutFlipBit`` (default ``1 / length``).
    """

    name = "binary"

    def __init__(self, stages: int = 2, nodes_per_stage: int = 3, filters: Sequence[int] = (8, 16, 32, 64),
                 kernel_sizes: Sequence[int] = (3, 5), activations: Sequence[str] = ("relu", "elu", "tanh", "selu"),
                 dense_layers: int = 2, units: Sequence[int] = (16, 32, 64, 128), dense_activation: str = "relu",
                 crossover: str = "two_point", indpb: float | None = None):
        self.stages = check_int("stages", stages, minimum=0)
        self.nodes_per_stage = check_int("nodes_per_stage", nodes_per_stage, minimum=1)
        self.filters = check_choices("filters", filters)
        self.kernel_sizes = check_choices("kernel_sizes", kernel_sizes)
        self.activations = check_choices("activations", activations, lambda v: v in ACTIVATIONS,
                                    f"values among {ACTIVATIONS}")
        self.dense_layers = check_int("dense_layers", dense_layers, minimum=0)
        self.units = check_choices("units", units)
        self.dense_activation = check_choice("dense_activation", dense_activation, ACTIVATIONS)
        self.crossover = check_choice("crossover", crossover, CROSSOVERS)
        self.indpb = indpb if indpb is None else check_float("indpb", indpb, minimum=0.0, maximum=1.0,
                                                              exclusive_minimum=True)
        if self.length < 2:
            raise ConfigError(f"stages={stages!r}, dense_layers={dense_layers!r} are invalid: they give a "
                              f"{self.length}-bit genotype; expected at least 2 bits (crossover needs them)")

    # -- layout -------------------------------------------------------------------------------

    @property
    def widths(self) -> dict[str, int]:
        """Bits of each Gray-coded field: filters, kernel, activation, units."""
        return {"filters": field_width(len(self.filters)), "kernel": field_width(len(self.kernel_sizes)),
                "activation": field_width(len(self.activations)), "units": field_width(len(self.units))}

    @property
    def node_bits(self) -> int:
        w = self.widths
        return 1 + w["filters"] + w["kernel"] + w["activation"]

    @property
    def stage_bits(self) -> int:
        k = self.nodes_per_stage
        return k * self.node_bits + k * (k - 1) // 2

    @property
    def dense_bits(self) -> int:
        return 1 + self.widths["units"]

    @property
    def length(self) -> int:
        """Number of bits of every genotype."""
        return self.stages * self.stage_bits + self.dense_layers * self.dense_bits

    # -- reading and writing the bits ---------------------------------------------------------

    def genes(self, genotype: Sequence[int]) -> tuple[list[Stage], list[int | None]]:
        """The stages and the dense layers' units (``None`` when off) the bits describe."""
        check_genome(genotype, self.length)
        w, k = self.widths, self.nodes_per_stage
        pos = 0

        def take(n: int) -> list[int]:
            nonlocal pos
            pos += n
            return list(genotype[pos - n:pos])

        stages = []
        for _ in range(self.stages):
            nodes: list[NodeGenes | None] = []
            for _ in range(k):
                on = take(1)[0]
                f = self.filters[gray_decode(take(w["filters"])) % len(self.filters)]
                ks = self.kernel_sizes[gray_decode(take(w["kernel"])) % len(self.kernel_sizes)]
                a = self.activations[gray_decode(take(w["activation"])) % len(self.activations)]
                nodes.append((f, ks, a) if on else None)
            bits = take(k * (k - 1) // 2)
            edges = frozenset((i, j) for j in range(k) for i in range(j) if bits[edge_index(i, j)])
            stages.append(Stage(tuple(nodes), edges))
        dense: list[int | None] = []
        for _ in range(self.dense_layers):
            on = take(1)[0]
            u = self.units[gray_decode(take(w["units"])) % len(self.units)]
            dense.append(u if on else None)
        return stages, dense

    def compose(self, stages: Sequence[tuple[Sequence[NodeGenes | None], Iterable[tuple[int, int]]]] = (),
                dense: Sequence[int | None] = ()) -> BinaryGenome:
        """The genotype of an architecture: ``stages[s] = (nodes, edges)`` with ``nodes[j]`` a
        ``(filters, kernel_size, activation)`` or ``None`` (off) and ``edges`` pairs ``(i, j)``,
        ``i < j``; ``dense[d]`` the units or ``None``. Missing stages, nodes and layers are off.
        Values must be among the encoding's choices (ConfigError names the one that is not)."""
        w, k = self.widths, self.nodes_per_stage
        if len(stages) > self.stages or len(dense) > self.dense_layers:
            raise ConfigError(f"stages={len(stages)}, dense={len(dense)} are invalid: this encoding has "
                              f"{self.stages} stages and {self.dense_layers} dense layers")
        bits: list[int] = []
        for s in range(self.stages):
            nodes, edges = stages[s] if s < len(stages) else ((), ())
            if len(nodes) > k:
                raise ConfigError(f"stages[{s}] has {len(nodes)} nodes: expected at most {k}")
            for j in range(k):
                node = nodes[j] if j < len(nodes) else None
                f, ks, a = node if node is not None else (self.filters[0], self.kernel_sizes[0], self.activations[0])
                bits += [int(node is not None)]
                bits += gray_encode(_index(f"stages[{s}][{j}].filters", f, self.filters), w["filters"])
                bits += gray_encode(_index(f"stages[{s}][{j}].kernel_size", ks, self.kernel_sizes), w["kernel"])
                bits += gray_encode(_index(f"stages[{s}][{j}].activation", a, self.activations), w["activation"])
            conn = [0] * (k * (k - 1) // 2)
            for i, j in edges:
                if not 0 <= i < j < k:
                    raise ConfigError(f"stages[{s}] edge {(i, j)!r} is invalid: expected 0 <= i < j < {k}")
                conn[edge_index(i, j)] = 1
            bits += conn
        for d in range(self.dense_layers):
            u = dense[d] if d < len(dense) else None
            bits += [int(u is not None)]
            bits += gray_encode(_index(f"dense[{d}]", self.units[0] if u is None else u, self.units), w["units"])
        return BinaryGenome(bits)

    # -- the Encoding contract ----------------------------------------------------------------

    def random(self, rng: Any = None) -> BinaryGenome:
        rng = rng_or_global(rng)
        return BinaryGenome(int(rng.random() < 0.5) for _ in range(self.length))

    def decode(self, genotype: Sequence[int], input_shape: tuple[int, ...], n_outputs: int,
               task: str = "classification") -> NetSpec:
        stages, dense = self.genes(genotype)
        g = Graph(input_shape)
        x = g.input
        if len(g.input_shape) > 1:
            conv = Conv2D if len(g.input_shape) == 3 else Conv1D
            for stage in stages:
                x = _decode_stage(g, x, stage, conv)
        for units in dense:
            if units is None:
                continue
            x = g.add(Dense(units, activation=self.dense_activation), add_flatten(g, x))
        return add_head(g, x, n_outputs, task)

    def register(self, toolbox: base.Toolbox) -> None:
        if self.crossover == "two_point":
            toolbox.register("mate", tools.cxTwoPoint)
        else:
            toolbox.register("mate", tools.cxUniform, indpb=0.5)
        toolbox.register("mutate", tools.mutFlipBit, indpb=self.indpb if self.indpb is not None else 1 / self.length)

    def distance(self, a: Sequence[int], b: Sequence[int]) -> float:
        """Hamming distance (bits only one genotype has count as different)."""
        return float(sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b)))

    def describe(self, genotype: Sequence[int]) -> str:
        """E.g. ``S1[1:C16k3relu 3:C8k5elu 1>3] S2[-] D[64]``: active nodes by number, then the
        connections between active nodes; ``-`` for an empty stage."""
        stages, dense = self.genes(genotype)
        parts = []
        for s, stage in enumerate(stages, 1):
            active = {j for j, n in enumerate(stage.nodes) if n is not None}
            nodes = [f"{j + 1}:C{n[0]}k{n[1]}{n[2]}" for j, n in enumerate(stage.nodes) if n is not None]
            edges = [f"{i + 1}>{j + 1}" for i, j in sorted(stage.edges, key=lambda e: (e[1], e[0]))
                     if i in active and j in active]
            parts.append(f"S{s}[{' '.join(nodes + edges) or '-'}]")
        parts.append(f"D[{' '.join(str(u) for u in dense if u is not None) or '-'}]")
        return " ".join(parts)

    def to_json(self, genotype: Sequence[int]) -> list[int]:
        return [int(b) for b in genotype]

    def from_json(self, data: Any) -> BinaryGenome:
        check_genome(data, self.length)
        return BinaryGenome(int(b) for b in data)


def _decode_stage(g: Graph, x: int, stage: Stage, conv: type) -> int:
    """Add one stage's DAG after ``x`` and return its (pooled) output."""
    active = [j for j, node in enumerate(stage.nodes) if node is not None]
    out: dict[int, int] = {}
    read: set[int] = set()
    for j in active:
        preds = [i for i in active if i < j and (i, j) in stage.edges]
        read.update(preds)
        h = merge(g, Concat(), [out[i] for i in preds]) if preds else x
        filters, kernel, activation = stage.nodes[j]  # type: ignore[misc]
        out[j] = g.add(conv(filters, kernel, activation=activation), h)
    leaves = [out[j] for j in active if j not in read]
    if leaves:
        x = merge(g, Concat(), leaves)
    return add_pool(g, Pool("max", 2), x)


def check_genome(genotype: Any, length: int) -> None:
    """Raise GenotypeError naming the bad gene unless ``genotype`` is ``length`` bits (0/1 ints)."""
    if isinstance(genotype, (str, bytes)) or not isinstance(genotype, Sequence):
        raise GenotypeError(f"genotype={type(genotype).__name__} is invalid: expected a list of {length} bits")
    if len(genotype) != length:
        raise GenotypeError(f"length={len(genotype)} is invalid: this encoding's genotypes have {length} bits")
    for i, bit in enumerate(genotype):
        if not isinstance(bit, int) or bit not in (0, 1):
            raise GenotypeError(f"genotype[{i}]={bit!r} is invalid: expected 0 or 1")


def _index(field_name: str, value: Any, choices: tuple) -> int:
    if value not in choices:
        raise ConfigError(f"{field_name}={value!r} is invalid: expected one of {choices}")
    return choices.index(value)


