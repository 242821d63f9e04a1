"""NEAT's genome and its rules: gene types, innovation numbers, validity, reachability, distance.

This is the vocabulary shared by NEAT's encoding (``evokit.encodings.graph``, which samples,
decodes and serialises genomes) and its operators (``evokit.operators.neat``, which vary them).
It sits below both, so the encoding imports the operators and neither imports the other back;
it imports nothing of evokit but ``errors`` and the neuron activations of ``netspec.neurons``.

A genome is a feed-forward network of single neurons. Its node genes are the input neurons
(ids ``0 .. n_inputs - 1``), the output neurons (ids ``n_inputs .. n_inputs + n_outputs - 1``)
and hidden neurons; its connection genes carry a weight, an enabled bit and an innovation number.

Innovation numbers are a pure function of structure (see :class:`InnovationTracker`): the same
structural innovation gets the same number in every genome, every generation and every process.
NEAT's historical markings keep their purpose (genes are aligned by them in crossover and in the
compatibility distance) without a global counter, so a search resumes from a checkpoint that
saves only the population, and parallel workers never disagree on a number.

Choices, and why: the classes keep their names when re-exported by ``evokit.encodings.graph``,
so pickles written when they lived there (which name ``evokit.encodings.graph.NEATGenome``)
still load; new pickles name this module.
"""
from __future__ import annotations

import copy
import copyreg
import hashlib
import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from operator import attrgetter
from typing import Any

import numpy as np
from deap import base as deap_base

from evokit.errors import GenotypeError
from evokit.netspec.neurons import NODE_ACTIVATIONS

KINDS = ("input", "hidden", "output")
LEVEL_SHIFT = 40
"""Hidden node ids and innovation numbers hold a structural level above this many hash bits."""
SMALL_GENOME = 20
"""Genomes with fewer connection genes than this are not size-normalised in the distance (N=1)."""


# -- genes and genome ---------------------------------------------------------------------------

class _SlottedGene:
    """Genes have ``__slots__``: a search makes and copies thousands of them per generation, and
    slotted instances are smaller and quicker to make. ``__setstate__`` also reads the state
    of pickles written before the slots (a ``__dict__``), so old runs still resume."""

    __slots__ = ()

    @property
    def __dict__(self) -> dict[str, Any]:  # type: ignore[override]
        """:func:`gene_state`, so that ``vars(gene)`` reads a gene as it did before the slots (a
        copy: writing into it changes nothing; set the attribute). A subclass without
        ``__slots__`` has a real ``__dict__``, which hides this one: read genes with
        :func:`gene_state`, not ``vars``."""
        return gene_state(self)

    def __getstate__(self) -> dict[str, Any]:
        # the state pickles had before the slots (see gene_state), so that every protocol (0 and
        # 1 too) pickles a gene, and old pickles' states read as new ones
        return gene_state(self)

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple):  # (__dict__ or None, slots), as pickle writes slotted objects
            dict_state, slot_state = state
            state = {**(dict_state or {}), **(slot_state or {})}
        dropped = []
        for name, value in state.items():
            try:
                object.__setattr__(self, name, value)
            except AttributeError:  # an attribute a plain gene had before the slots: no room for it now
                dropped.append(name)
        if dropped:
            cls = type(self).__name__
            warnings.warn(f"{cls} cannot hold the attributes {dropped} of a gene pickled before genes had "
                          f"__slots__: they are dropped. Keep extra attributes on a subclass of {cls}.",
                          stacklevel=2)


def gene_state(gene: Any) -> dict[str, Any]:
    """A gene's attributes by name, as ``vars(gene)`` gave them before genes had slots: its
    dataclass fields (in order), then a subclass's own slots that are set, then the attributes
    in its ``__dict__`` where it has one (a subclass without ``__slots__``). ``to_json`` and
    pickles read genes through it; ``vars`` misses a subclass's fields (its real ``__dict__``
    hides the fields)."""
    cls = type(gene)
    state = {f.name: getattr(gene, f.name) for f in fields(gene)}
    for name in _extra_slots(cls):
        if hasattr(gene, name):
            state[name] = getattr(gene, name)
    if cls.__dictoffset__:  # a real instance __dict__ (its descriptor hides _SlottedGene's property)
        state.update(gene.__dict__)
    return state


@lru_cache(maxsize=None)
def _extra_slots(cls: type) -> tuple[str, ...]:
    """The slots of ``cls`` and its bases that are not dataclass fields (a subclass's own)."""
    names = {f.name for f in fields(cls)} | {"__dict__", "__weakref__"}
    return tuple(name for name in copyreg._slotnames(cls) if name not in names)


@dataclass(slots=True)
class NodeGene(_SlottedGene):
    """A neuron: its id, kind (input, hidden or output), activation and bias (inputs use neither)."""

    id: int
    kind: str
    activation: str = "linear"
    bias: float = 0.0


@dataclass(slots=True)
class ConnectionGene(_SlottedGene):
    """A connection ``src -> dst`` with its weight, enabled bit and innovation number."""

    src: int
    dst: int
    weight: float
    enabled: bool = True
    innovation: int = 0

    @property
    def key(self) -> tuple[int, int]:
        return (self.src, self.dst)


@dataclass
class NEATGenome:
    """A NEAT genotype: ``nodes`` by id and ``connections`` by ``(src, dst)``. Its ``fitness``
    (set by the toolbox) is not part of equality."""

    nodes: dict[int, NodeGene]
    connections: dict[tuple[int, int], ConnectionGene]
    fitness: Any = field(default=None, compare=False, repr=False)

    def __deepcopy__(self, memo: dict[int, Any]) -> NEATGenome:
        # the generic deepcopy of hundreds of small gene dataclasses dominated NEAT's run time;
        # genes are rebuilt directly and a DEAP fitness is copied as DEAP's own deepcopy does
        # the attributes are set one by one, not as a new ``__dict__``: the clone's ``__dict__``
        # is not asked for here, so it keeps its attributes without a dict object (CPython 3.11+)
        # until something reads it (``vars`` or ``__dict__``: this method on the original,
        # crossover_copies' ``_plain`` check on parents), one object fewer for the GC to track
        cls = self.__class__
        clone = cls.__new__(cls)
        memo[id(self)] = clone
        for name, value in list(self.__dict__.items()):
            if name == "nodes":
                value = {i: NodeGene(n.id, n.kind, n.activation, n.bias) for i, n in value.items()}
            elif name == "connections":
                new = ConnectionGene
                value = {k: new(c.src, c.dst, c.weight, c.enabled, c.innovation) for k, c in value.items()}
            elif name == "fitness":
                value = copy_fitness(value, memo)
            else:
                value = copy.deepcopy(value, memo)
            object.__setattr__(clone, name, value)
        return clone

    def ids(self, kind: str) -> list[int]:
        """Sorted ids of the nodes of one kind."""
        return sorted(i for i, n in self.nodes.items() if n.kind == kind)

    @property
    def n_inputs(self) -> int:
        return list(map(_KIND, self.nodes.values())).count("input")  # C-level: crossover asks for every pair

    @property
    def n_outputs(self) -> int:
        return list(map(_KIND, self.nodes.values())).count("output")

    def enabled(self) -> list[ConnectionGene]:
        """The enabled connection genes, sorted by ``(src, dst)``."""
        return [self.connections[k] for k in sorted(self.connections) if self.connections[k].enabled]


_KIND = attrgetter("kind")


def copy_fitness(fitness: Any, memo: dict[int, Any] | None = None) -> Any:
    """``copy.deepcopy(fitness)`` (None stays None); a plain DEAP fitness is copied without its
    constructor's checks (only its ``wvalues``, as DEAP's own ``Fitness.__deepcopy__`` does)."""
    kind = type(fitness)
    if getattr(kind, "__deepcopy__", None) is _FITNESS_DEEPCOPY and kind.__init__ is _FITNESS_INIT:
        new = kind.__new__(kind)
        new.wvalues = fitness.wvalues
        return new
    return copy.deepcopy(fitness, memo)  # None included


_FITNESS_DEEPCOPY = deap_base.Fitness.__deepcopy__
_FITNESS_INIT = deap_base.Fitness.__init__


def copy_genome(genome: NEATGenome) -> NEATGenome:
    """A deep copy of the genes (the fitness is not copied)."""
    return NEATGenome(copy.deepcopy(genome.nodes), copy.deepcopy(genome.connections))


# -- innovation numbers -------------------------------------------------------------------------

@lru_cache(maxsize=1 << 14, typed=True)
def _hash(tag: str, a: int, b: int) -> int:
    # cached: add-node asks for the split node of every enabled connection of a genome, each time
    digest = hashlib.blake2b(f"{tag}:{a}>{b}".encode(), digest_size=LEVEL_SHIFT // 8).digest()
    return int.from_bytes(digest, "big")


class InnovationTracker:
    """Innovation numbers and hidden-node ids as pure functions of structure.

    * A node's *level* is 0 for inputs and outputs and one more than the deeper of the two nodes
      of the connection whose split created it; it is stored in the id's high bits.
    * Splitting connection ``(a, b)`` always creates node ``node_id(a, b)``: level in the high
      bits, a stable 40-bit hash of ``(a, b)`` below. An operator skips a split whose node the
      genome already has.
    * Connection ``(src, dst)`` always has innovation ``innovation(src, dst)``: the deeper level
      of its nodes in the high bits, a stable hash of the pair below. Innovation numbers thus
      order genes by structural age (connections of later splits come after), which is what
      NEAT's excess/disjoint distinction reads.

    It keeps no state, so one tracker serves a whole run, survives pickling and checkpoints
    (which save only the population), and agrees with every other process. Genes are aligned
    by ``(src, dst)``, the identity the number is derived from, so a hash collision can never
    make two different genes match.
    """

    @staticmethod
    def level(node: int) -> int:
        """The structural level of a node id (0 for input and output neurons)."""
        return node >> LEVEL_SHIFT

    def node_id(self, src: int, dst: int) -> int:
        """The id of the hidden node made by splitting connection ``(src, dst)``."""
        return ((max(self.level(src), self.level(dst)) + 1) << LEVEL_SHIFT) | _hash("node", src, dst)

    def innovation(self, src: int, dst: int) -> int:
        """The innovation number of connection ``(src, dst)``."""
        return (max(self.level(src), self.level(dst)) << LEVEL_SHIFT) | _hash("conn", src, dst)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InnovationTracker)

    def __hash__(self) -> int:
        return hash(InnovationTracker)

    def __repr__(self) -> str:
        return "InnovationTracker()"


TRACKER = InnovationTracker()


# -- graph rules --------------------------------------------------------------------------------

def reachable(edges: Iterable[tuple[int, int]], start: int) -> set[int]:
    """Nodes reachable from ``start`` (itself included) along ``(src, dst)`` pairs."""
    out: dict[int, list[int]] = {}
    for src, dst in edges:
        out.setdefault(src, []).append(dst)
    seen, stack = {start}, [start]
    while stack:
        for nxt in out.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def find_cycle_edge(edges: Iterable[tuple[int, int]]) -> tuple[int, int] | None:
    """An edge on a cycle of the directed graph ``edges`` (pairs), or None if it is acyclic."""
    edges = sorted(edges)
    indegree: dict[int, int] = {}
    out: dict[int, list[int]] = {}
    for src, dst in edges:
        indegree.setdefault(src, 0)
        indegree[dst] = indegree.get(dst, 0) + 1
        out.setdefault(src, []).append(dst)
    ready = [n for n, d in indegree.items() if d == 0]
    while ready:
        for nxt in out.get(ready.pop(), ()):
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    left = [(s, d) for s, d in edges if indegree[s] > 0 and indegree[d] > 0]
    return next(((s, d) for s, d in left if s in reachable(left, d)), None)


# -- validity -----------------------------------------------------------------------------------

def check_genome(genome: Any, tracker: InnovationTracker = TRACKER) -> None:
    """Raise GenotypeError naming the bad gene if ``genome`` is not a well-formed NEAT genome:
    inputs ``0 .. n-1`` and outputs right after them, known kinds and activations, finite
    numbers, connections between known nodes and never into an input, innovation numbers from
    ``tracker``, and no cycle (over all connection genes, enabled or not, so that re-enabling a
    gene never closes one)."""
    if not isinstance(genome, NEATGenome):
        raise GenotypeError(f"genotype={type(genome).__name__} is invalid: expected a NEATGenome")
    if not isinstance(genome.nodes, dict) or not isinstance(genome.connections, dict):
        raise GenotypeError("genotype is invalid: expected nodes and connections to be dicts")
    for key, node in genome.nodes.items():
        _check_node(key, node)
    _check_inputs_and_outputs(genome)
    for key, gene in genome.connections.items():
        _check_connection(genome, key, gene, tracker)
    edge = find_cycle_edge(genome.connections)
    if edge is not None:
        raise GenotypeError(f"connections[{edge!r}] is invalid: it lies on a cycle (genomes here are "
                            "feed-forward)")


def _check_node(key: Any, node: Any) -> None:
    where = f"nodes[{key!r}]"
    if not isinstance(node, NodeGene):
        raise GenotypeError(f"{where}={node!r} is invalid: expected a NodeGene")
    if isinstance(node.id, bool) or not isinstance(node.id, int) or node.id != key or node.id < 0:
        raise GenotypeError(f"{where}.id={node.id!r} is invalid: expected its key, an integer >= 0")
    if node.kind not in KINDS:
        raise GenotypeError(f"{where}.kind={node.kind!r} is invalid: expected one of {KINDS}")
    if node.activation not in NODE_ACTIVATIONS:
        raise GenotypeError(f"{where}.activation={node.activation!r} is invalid: expected one of "
                            f"{NODE_ACTIVATIONS}")
    if not _finite(node.bias):
        raise GenotypeError(f"{where}.bias={node.bias!r} is invalid: expected a finite number")


def _check_inputs_and_outputs(genome: NEATGenome) -> None:
    inputs, outputs = genome.ids("input"), genome.ids("output")
    n_in, n_out = len(inputs), len(outputs)
    if not n_in or inputs != list(range(n_in)):
        raise GenotypeError(f"nodes (inputs {inputs}) is invalid: expected input nodes 0 .. n_inputs - 1, at least one")
    if not n_out or outputs != list(range(n_in, n_in + n_out)):
        raise GenotypeError(f"nodes (outputs {outputs}) is invalid: expected output nodes {n_in} .. "
                            f"{n_in} + n_outputs - 1, at least one")
    activations = {genome.nodes[o].activation for o in outputs}
    if len(activations) > 1:
        raise GenotypeError(f"nodes (outputs {outputs}) is invalid: output nodes share one activation, "
                            f"got {sorted(activations)}")


def _check_connection(genome: NEATGenome, key: Any, gene: Any, tracker: InnovationTracker) -> None:
    where = f"connections[{key!r}]"
    if not isinstance(gene, ConnectionGene):
        raise GenotypeError(f"{where}={gene!r} is invalid: expected a ConnectionGene")
    if gene.key != key:
        raise GenotypeError(f"{where} is invalid: the gene connects {gene.key}, not its key")
    for name in ("src", "dst"):
        node = getattr(gene, name)
        if node not in genome.nodes:
            raise GenotypeError(f"{where}.{name}={node!r} is invalid: no such node in the genome")
    if genome.nodes[gene.dst].kind == "input":
        raise GenotypeError(f"{where}.dst={gene.dst!r} is invalid: connections never lead into an input")
    if not _finite(gene.weight):
        raise GenotypeError(f"{where}.weight={gene.weight!r} is invalid: expected a finite number")
    if not isinstance(gene.enabled, bool):
        raise GenotypeError(f"{where}.enabled={gene.enabled!r} is invalid: expected True or False")
    if gene.innovation != tracker.innovation(gene.src, gene.dst):
        raise GenotypeError(f"{where}.innovation={gene.innovation!r} is invalid: expected "
                            f"{tracker.innovation(gene.src, gene.dst)} (the tracker's number for this pair)")


def _finite(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


# -- compatibility ------------------------------------------------------------------------------

def compatibility(a: NEATGenome, b: NEATGenome) -> tuple[int, int, float]:
    """(excess, disjoint, mean |weight difference| of matching) connection genes of two genomes.

    Genes match when they connect the same pair (hence have the same innovation number); an
    unmatched gene is excess if its innovation number is above every number of the other
    genome, disjoint otherwise."""
    ca, cb = a.connections, b.connections
    top_a = max([g.innovation for g in ca.values()], default=-1)
    top_b = max([g.innovation for g in cb.values()], default=-1)
    excess = disjoint = 0
    for key in ca.keys() ^ cb.keys():
        gene = ca.get(key)
        if gene is None:
            gene, other_top = cb[key], top_a
        else:
            other_top = top_b
        if gene.innovation > other_top:
            excess += 1
        else:
            disjoint += 1
    # the matching genes in the order of this very set expression: the float sum depends on it
    matching = ca.keys() & cb.keys()
    weight = sum([abs(ca[k].weight - cb[k].weight) for k in matching]) / len(matching) if matching else 0.0
    return excess, disjoint, weight


def compatibility_distance(a: NEATGenome, b: NEATGenome, c1: float = 1.0, c2: float = 1.0,
                           c3: float = 0.4) -> float:
    """NEAT's compatibility distance ``c1 E / N + c2 D / N + c3 W``: E excess and D disjoint
    connection genes, W the mean weight difference of matching genes, N the larger genome's
    number of connection genes (1 below ``SMALL_GENOME`` genes)."""
    excess, disjoint, weight = compatibility(a, b)
    n = max(len(a.connections), len(b.connections))
    n = 1 if n < SMALL_GENOME else n
    return c1 * excess / n + c2 * disjoint / n + c3 * weight


def compatibility_matrix(rows: list[NEATGenome], columns: list[NEATGenome], c1: float = 1.0, c2: float = 1.0,
                         c3: float = 0.4) -> np.ndarray:
    """:func:`compatibility_distance` of every genome in ``rows`` to every genome in ``columns``,
    as a ``(len(rows), len(columns))`` array, computed with whole-array operations (speciation
    compares each genome with every representative: one call instead of thousands).

    Genes are aligned by ``(src, dst)`` as in :func:`compatibility`; the values equal it up to
    the rounding of the weight sums (summed in another order)."""
    genomes = [*rows, *columns]
    keys: dict[tuple[Any, Any], int] = {}
    for genome in genomes:
        for key, gene in genome.connections.items():
            if key not in keys:
                keys[key] = gene.innovation
    # columns in innovation order: a gene is excess where its column lies past the other's last
    # ties (pairs under one number) by pair; str ids after numbers, so that str and int never compare
    order = sorted(keys, key=lambda k: (keys[k], tuple((isinstance(x, str), x) for x in k)))
    column = {key: j for j, key in enumerate(order)}
    at = [(i, column[k], g.weight) for i, genome in enumerate(genomes) for k, g in genome.connections.items()]
    owner, col, weight = (np.asarray(a) for a in zip(*at)) if at else (np.zeros(0, np.intp),) * 3
    counts = np.bincount(owner, minlength=len(genomes)) if at else np.zeros(len(genomes), dtype=np.intp)
    return distance_table(owner, col, weight.astype(float), counts, len(column), len(rows), c1, c2, c3)


def distance_table(owner: np.ndarray, col: np.ndarray, weight: np.ndarray, counts: np.ndarray, n_columns: int,
                   n_rows: int, c1: float, c2: float, c3: float) -> np.ndarray:
    """The compatibility distances of the rows' genomes to the columns' from all their genes as
    (genome, column in innovation order, weight) triples, the rows' genomes first (``counts``:
    genes per genome): the arithmetic of :func:`compatibility_matrix`, shared with
    ``evokit.encodings.graph_distance``, which gathers the triples its own way."""
    n_genomes = len(counts)
    present = np.zeros((n_genomes, n_columns), dtype=bool)
    present[owner, col] = True
    last = np.where(counts > 0, n_columns - 1 - np.argmax(present[:, ::-1], axis=1), -1)
    below = np.concatenate([np.zeros((n_genomes, 1), dtype=np.intp), np.cumsum(present, axis=1)], axis=1)
    r, c = slice(0, n_rows), slice(n_rows, n_genomes)
    matching, diff = _matching_genes(owner, col, weight, n_rows, n_genomes - n_rows)
    excess = ((counts[r, None] - below[r][:, last[c] + 1])
              + (counts[None, c] - below[c][:, last[r] + 1].T))
    unmatched = counts[r, None] + counts[None, c] - 2 * matching
    n = np.maximum(counts[r, None], counts[None, c]).astype(float)
    n[n < SMALL_GENOME] = 1.0
    mean_diff = np.divide(diff, matching, out=np.zeros_like(diff), where=matching > 0)
    return c1 * excess / n + c2 * (unmatched - excess) / n + c3 * mean_diff


def _matching_genes(owner: np.ndarray, col: np.ndarray, weight: np.ndarray, n_rows: int,
                    n_columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Two ``(n_rows, n_columns)`` arrays: how many genes two genomes share, and the sum of their
    |weight differences|, from all genes as (genome, column, weight) triples (the rows' genomes
    first). Only the pairs of genes that match are formed (genomes share few of all the genes),
    and no matrix product is taken (a BLAS call's threads cost more than they save here)."""
    split = int(np.count_nonzero(owner < n_rows))  # the rows' genes come first
    row_owner, row_col, row_weight = owner[:split], col[:split], weight[:split]
    order = np.argsort(col[split:], kind="stable")  # the columns' genes by column, each gathered once
    other_col, other_owner, other_weight = col[split:][order], owner[split:][order] - n_rows, weight[split:][order]
    lo = np.searchsorted(other_col, row_col, "left")
    count = np.searchsorted(other_col, row_col, "right") - lo
    total = int(count.sum())
    # pair k of a row gene is its (lo + k)-th match: per-gene offsets, so one repeat per array of pairs
    pair = np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(total)
    flat = np.repeat(row_owner * n_columns, count) + other_owner[pair]
    diff = np.abs(np.repeat(row_weight, count) - other_weight[pair])
    shape = (n_rows, n_columns)
    count = np.bincount(flat, minlength=n_rows * n_columns).reshape(shape)
    summed = np.bincount(flat, weights=diff, minlength=n_rows * n_columns).astype(np.float64, copy=False)
    return count, summed.reshape(shape)


__all__ = ["KINDS", "LEVEL_SHIFT", "SMALL_GENOME", "TRACKER", "ConnectionGene", "InnovationTracker", "NEATGenome",
           "NodeGene", "check_genome", "compatibility", "compatibility_distance", "compatibility_matrix", "copy_fitness",
           "copy_genome", "distance_table", "find_cycle_edge", "gene_state", "reachable"]
