"""Kim's TextCNN as a search space: an embedding, parallel 1-D convolutions, a small head.

The genotype's architecture genes are indices into the encoding's choices, in this order::

    [embedding dim,  (on, width, filters) x max_branches,  hidden units,  dropout]

and decode to (Kim 2014)::

    token ids -> Embedding(vocab_size, dim) -> for each branch that is on:
                 Conv1D(filters, width, valid, relu) -> global max pool
              -> concat -> Dropout -> [Dense(units, relu)] -> the task's head

A genotype with every branch off keeps its first branch. ``mode="weights"`` is DeepNEWT's
search: the genotype carries the network's weights too and both are evolved by variation alone
(architecture genes by DEAP's ``cxTwoPoint``/``mutUniformInt``, weights by ``cxBlend`` and
``mutGaussian``), with no gradient step. The weights are stored at the largest size the
architecture genes allow (every branch on, the widest embedding, the most filters); a network
uses the leading slices of each array, so a weight keeps its place when the architecture around
it changes. ``lamarckian=True`` trains each network for the objective's epochs from its carried
weights and writes the trained weights back into the genotype.
"""
from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from deap import base, tools

from evokit.encodings.base import Encoding, add_head, rng_or_global
from evokit.errors import ConfigError, GenotypeError, check_choice, check_choices, check_float, check_int
from evokit.netspec import Concat, Conv1D, Dense, Dropout, Embedding, GlobalPool, Graph, NetSpec
from evokit.netspec.weights import weight_arrays

MODES = ("architecture", "weights")
FIXED_EMBEDDING_SEED = 0
"""The weights mode with ``trainable_embedding=False``: every genotype carries the same embedding
table, drawn from this seed, which variation leaves alone."""
BRANCH_GENES = ("on", "width", "filters")


@dataclass
class TextCNNGenome:
    """A TextCNN genotype: architecture genes (choice indices) and, in the weights mode, the
    flat float32 weights at their largest size. ``fitness`` is not part of equality."""

    arch: list[int]
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    fitness: Any = field(default=None, compare=False, repr=False)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TextCNNGenome) and self.arch == other.arch
                and np.array_equal(self.weights, other.weights))

    def __repr__(self) -> str:
        return f"TextCNNGenome(arch={self.arch}, weights=<{self.weights.size} float32>)"


@dataclass(frozen=True)
class Layout:
    """Where the weights-mode arrays lie in the flat weight genes, at their largest sizes:
    embedding ``(V, E)``, then per branch kernel ``(W, E, F)`` and bias ``(F,)``, then the head's
    kernel ``(B * F, K)`` (rows of branch ``b`` start at ``b * F``) and bias ``(K,)``."""

    vocab: int
    dim: int
    width: int
    filters: int
    branches: int
    outputs: int

    def shapes(self) -> list[tuple[int, ...]]:
        per_branch = [(self.width, self.dim, self.filters), (self.filters,)]
        return ([(self.vocab, self.dim)] + per_branch * self.branches
                + [(self.branches * self.filters, self.outputs), (self.outputs,)])

    @property
    def size(self) -> int:
        return sum(math.prod(s) for s in self.shapes())

    def split(self, flat: np.ndarray) -> list[np.ndarray]:
        """Views of ``flat`` as the arrays of :meth:`shapes`."""
        out, start = [], 0
        for shape in self.shapes():
            n = math.prod(shape)
            out.append(flat[start:start + n].reshape(shape))
            start += n
        return out


class TextCNN(Encoding):
    """Kim's TextCNN (embedding, parallel convolutions of several widths with global max pooling,
    a small head) for token sequences, with or without its weights in the genotype (DeepNEWT).

    Args:
        mode: ``"architecture"`` (networks are trained by backpropagation) or ``"weights"`` (the
            genotype carries the weights too; candidates are scored with them, untrained).
        vocab_size: the token ids' range; None takes the data's (``Dataset.vocab_size``, set by
            :func:`evokit.datasets.from_texts`) when the search starts.
        embedding_dims: the choices of the embedding's width.
        max_branches: the number of convolution branches a network may have (at least one is on).
        widths, filters: the choices of a branch's window (tokens) and number of filters.
        units: the choices of a hidden dense layer's width before the head, 0 for none; None
            means ``(0, 32, 64)``, or ``(0,)`` in the weights mode, which has no hidden layer.
        dropouts: the choices of the dropout rate before the head.
        trainable_embedding: False keeps the embedding fixed: in training (its seeded or carried
            values), and in the weights mode in evolution too (every genotype carries one table,
            drawn from :data:`FIXED_EMBEDDING_SEED`, that variation leaves alone: far fewer genes
            to evolve).
        lamarckian: weights mode only: train each network for the objective's epochs from its
            carried weights and write the trained weights back into the genotype.
        sigma, indpb: Gaussian mutation of the weights (standard deviation; probability per
            weight, None for 0.05).
        alpha: blend crossover's extent for the weights.

    Input: token ids of shape ``(length,)`` (:func:`evokit.datasets.from_texts`, or
    ``from_arrays(..., vocab_size=)``).
    """

    name = "textcnn"

    def __init__(self, mode: str = "architecture", vocab_size: int | None = None,
                 embedding_dims: tuple[int, ...] = (8, 16, 32), max_branches: int = 3,
                 widths: tuple[int, ...] = (2, 3, 4, 5), filters: tuple[int, ...] = (8, 16, 32, 64),
                 units: tuple[int, ...] | None = None, dropouts: tuple[float, ...] = (0.0, 0.5),
                 trainable_embedding: bool = True, lamarckian: bool = False, sigma: float = 0.05,
                 alpha: float = 0.5, indpb: float | None = None):
        self.mode = check_choice("mode", mode, MODES)
        self.vocab_size = None if vocab_size is None else check_int("vocab_size", vocab_size, minimum=2)
        self.embedding_dims = check_choices("embedding_dims", embedding_dims)
        self.max_branches = check_int("max_branches", max_branches, minimum=1, maximum=16)
        self.widths = check_choices("widths", widths)
        self.filters = check_choices("filters", filters)
        if units is not None:
            units = check_choices("units", units, lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                                  "whole numbers >= 0 (0: no hidden layer)")
            if mode == "weights" and any(units):
                raise ConfigError(f"units={units!r} is invalid in mode='weights': the weights mode has no hidden "
                                  "layer (leave units=None)")
        self.units = units
        self.dropouts = check_choices("dropouts", dropouts, lambda v: isinstance(v, (int, float))
                                      and not isinstance(v, bool) and 0.0 <= v < 1.0, "rates in [0, 1)")
        if not isinstance(trainable_embedding, bool):
            raise ConfigError(f"trainable_embedding={trainable_embedding!r} is invalid: expected True or False")
        self.trainable_embedding = trainable_embedding
        if not isinstance(lamarckian, bool):
            raise ConfigError(f"lamarckian={lamarckian!r} is invalid: expected True or False")
        if lamarckian and mode != "weights":
            raise ConfigError("lamarckian=True is invalid in mode='architecture': only the weights mode carries "
                              "weights to write back")
        self.lamarckian = lamarckian
        self.sigma = check_float("sigma", sigma, minimum=0.0, exclusive_minimum=True)
        self.alpha = check_float("alpha", alpha, minimum=0.0)
        self.indpb = None if indpb is None else check_float("indpb", indpb, minimum=0.0, maximum=1.0)
        self.trains = mode == "architecture" or lamarckian
        self.vocab_size_ = self.vocab_size  # once known: given, or the data's
        self.n_outputs_: int | None = None

    # -- the data -------------------------------------------------------------------------------

    @property
    def unit_choices(self) -> tuple[int, ...]:
        return self.units if self.units is not None else ((0,) if self.mode == "weights" else (0, 32, 64))

    def check_data(self, data: Any) -> None:
        """Take the vocabulary's size from ``data`` (token sequences) unless one was given."""
        if self.vocab_size is None:
            if getattr(data, "vocab_size", None) is None:
                raise ConfigError(f"data={data!r} is invalid for TextCNN: expected token sequences (evokit.datasets."
                                  "from_texts, or from_arrays(..., vocab_size=)), or pass TextCNN(vocab_size=...)")
            self.vocab_size_ = int(data.vocab_size)
        elif getattr(data, "vocab_size", None) not in (None, self.vocab_size):
            raise ConfigError(f"vocab_size={self.vocab_size} is invalid for data={data!r}: its token ids run "
                              f"to {data.vocab_size - 1}; leave vocab_size=None to take the data's")
        self.check_input(data.input_shape, data.n_outputs, data.task)

    def check_input(self, input_shape: tuple[int, ...], n_outputs: int, task: str) -> None:
        if len(input_shape) != 1:
            raise ConfigError(f"data=(input_shape={tuple(input_shape)}) is invalid for TextCNN: expected token "
                              "ids of shape (length,)")
        if self.vocab_size_ is None:
            raise ConfigError("vocab_size=None is not known yet: pass TextCNN(vocab_size=...) or search token "
                              "sequences (evokit.datasets.from_texts), whose vocabulary it takes")
        self.n_outputs_ = check_int("n_outputs", n_outputs, minimum=1)

    def layout(self) -> Layout:
        """Where the weights lie in the weights mode's genes (needs the data: ``check_input``)."""
        if self.vocab_size_ is None or self.n_outputs_ is None:
            raise ConfigError("the weights mode is not sized yet: call check_data(data) (a search does), or "
                              "check_input(input_shape, n_outputs, task) with vocab_size given")
        return Layout(self.vocab_size_, max(self.embedding_dims), max(self.widths), max(self.filters),
                      self.max_branches, self.n_outputs_)

    # -- genes ------------------------------------------------------------------------------------

    def upper(self) -> list[int]:
        """The largest value of each architecture gene (DEAP's ``mutUniformInt`` bounds)."""
        branch = [1, len(self.widths) - 1, len(self.filters) - 1]
        return [len(self.embedding_dims) - 1, *branch * self.max_branches, len(self.unit_choices) - 1,
                len(self.dropouts) - 1]

    def random(self, rng: Any = None) -> TextCNNGenome:
        rng = rng_or_global(rng)
        arch = [rng.randint(0, top) for top in self.upper()]
        if not any(arch[1 + 3 * b] for b in range(self.max_branches)):
            arch[1 + 3 * rng.randrange(self.max_branches)] = 1
        if self.mode == "architecture":
            return TextCNNGenome(arch)
        draw = np.random.default_rng(rng.getrandbits(64))
        parts = []
        for k, shape in enumerate(self.layout().shapes()):
            if len(shape) == 1:
                parts.append(np.zeros(shape))
            elif k == 0:  # embedding rows spread tokens apart; a fixed table is one for every genotype
                table = draw if self.trainable_embedding else np.random.default_rng(FIXED_EMBEDDING_SEED)
                parts.append(table.normal(0.0, 1.0, shape))
            else:  # Glorot normal
                fan_in, fan_out = math.prod(shape[:-1]), shape[-1]
                parts.append(draw.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), shape))
        return TextCNNGenome(arch, np.concatenate([p.ravel() for p in parts]).astype(np.float32))

    def branches(self, genotype: TextCNNGenome) -> list[tuple[int, int, int]]:
        """The branches that are on: ``(slot, width, filters)``; the first slot if none is."""
        arch = genotype.arch
        on = [(b, self.widths[arch[2 + 3 * b]], self.filters[arch[3 + 3 * b]])
              for b in range(self.max_branches) if arch[1 + 3 * b]]
        return on or [(0, self.widths[arch[2]], self.filters[arch[3]])]

    # -- decoding ---------------------------------------------------------------------------------

    def decode(self, genotype: TextCNNGenome, input_shape: tuple[int, ...], n_outputs: int,
               task: str = "classification") -> NetSpec:
        self._check(genotype)
        if self.vocab_size_ is None or len(input_shape) != 1:
            self.check_input(input_shape, n_outputs, task)
        arch, length = genotype.arch, input_shape[0]
        g = Graph(tuple(input_shape))
        x = g.add(Embedding(self.vocab_size_, self.embedding_dims[arch[0]], self.trainable_embedding), g.input)
        pooled = [g.add(GlobalPool("max"), g.add(Conv1D(f, min(w, length), padding="valid"), x))
                  for _, w, f in self.branches(genotype)]
        x = pooled[0] if len(pooled) == 1 else g.add(Concat(), *pooled)
        rate, units = self.dropouts[arch[-1]], self.unit_choices[arch[-2]]
        if rate:
            x = g.add(Dropout(float(rate)), x)
        if units:
            x = g.add(Dense(units, activation="relu"), x)
        return add_head(g, x, n_outputs, task)

    def weights(self, genotype: TextCNNGenome, spec: NetSpec) -> list[Any] | None:
        """Weights mode: the leading slices of the carried arrays that ``spec`` (this genotype's
        own decoding) uses, in Keras's order."""
        if self.mode == "architecture":
            return None
        by_node = self._slices(genotype, spec, self.layout().split(genotype.weights))
        return [np.ascontiguousarray(by_node[a.node][a.name]) for a in weight_arrays(spec)]

    def _slices(self, genotype: TextCNNGenome, spec: NetSpec, arrays: list[np.ndarray]) -> dict[int, dict]:
        """For each weighted node of ``spec``, its arrays as views into ``arrays`` (the layout's)."""
        emb, head_kernel, head_bias = arrays[0], arrays[-2], arrays[-1]
        dim = self.embedding_dims[genotype.arch[0]]
        convs = [i for i, node in enumerate(spec.nodes) if isinstance(node.layer, Conv1D)]
        out: dict[int, dict] = {0: {"embeddings": emb[:, :dim]}}
        for i, (slot, _, f) in zip(convs, self.branches(genotype)):
            w = spec.nodes[i].layer.kernel[0]
            kernel, bias = arrays[1 + 2 * slot], arrays[2 + 2 * slot]
            out[i] = {"kernel": kernel[:w, :dim, :f], "bias": bias[:f]}
        rows = self._head_rows(genotype, arrays[1].shape[2])  # fancy indexing: the kernel is a copy
        out[len(spec.nodes) - 1] = {"kernel": head_kernel[rows], "bias": head_bias}
        return out

    def inherit(self, genotype: TextCNNGenome, evaluation: Any) -> None:
        """Lamarckian weights mode: write the trained weights back into the genotype's arrays."""
        if not self.lamarckian or evaluation.weights is None or evaluation.spec is None:
            return
        spec = evaluation.spec
        arrays = self.layout().split(genotype.weights)
        try:
            by_node = self._slices(genotype, spec, arrays)
            order = weight_arrays(spec)
            if len(order) != len(evaluation.weights):
                return  # not this genotype's network
            head = len(spec.nodes) - 1
            for a, trained in zip(order, evaluation.weights):
                if a.node == head and a.name == "kernel":  # fancy-indexed rows: a copy, written back below
                    rows = self._head_rows(genotype, arrays[1].shape[2])
                    arrays[-2][rows] = trained
                else:
                    by_node[a.node][a.name][...] = trained
        except (KeyError, ValueError):
            return  # not this genotype's network

    def _head_rows(self, genotype: TextCNNGenome, filters: int) -> list[int]:
        """The rows of the largest head kernel that the branches that are on use, in their order
        (branch ``slot``'s ``f`` filters start at row ``slot * filters``)."""
        return [r for slot, _, f in self.branches(genotype) for r in range(slot * filters, slot * filters + f)]

    # -- variation, distance, display ---------------------------------------------------------------

    def register(self, toolbox: base.Toolbox) -> None:
        fixed = 0 if self.mode == "architecture" or self.trainable_embedding else math.prod(self.layout().shapes()[0])
        toolbox.register("mate", _mate, alpha=self.alpha, fixed=fixed)
        indpb = self.indpb if self.indpb is not None else 0.05
        toolbox.register("mutate", _mutate, up=self.upper(), arch_indpb=1.0 / len(self.upper()),
                         sigma=self.sigma, indpb=indpb, fixed=fixed)

    def distance(self, a: TextCNNGenome, b: TextCNNGenome) -> float:
        """Architecture genes that differ, plus the RMS difference of the weights (weights mode)."""
        genes = sum(x != y for x, y in zip(a.arch, b.arch)) + abs(len(a.arch) - len(b.arch))
        if a.weights.size and a.weights.size == b.weights.size:
            genes += float(np.sqrt(np.mean((a.weights.astype(np.float64) - b.weights) ** 2)))
        return float(genes)

    def describe(self, genotype: TextCNNGenome) -> str:
        self._check(genotype)
        arch = genotype.arch
        parts = [f"E{self.embedding_dims[arch[0]]}", "+".join(f"C{f}w{w}" for _, w, f in self.branches(genotype))]
        if self.unit_choices[arch[-2]]:
            parts.append(f"D{self.unit_choices[arch[-2]]}")
        if self.dropouts[arch[-1]]:
            parts.append(f"drop{self.dropouts[arch[-1]]:g}")
        if genotype.weights.size:
            parts.append(f"{genotype.weights.size} weights")
        return " ".join(parts)

    def to_json(self, genotype: TextCNNGenome) -> dict[str, Any]:
        data: dict[str, Any] = {"arch": [int(g) for g in genotype.arch]}
        if genotype.weights.size:
            data["weights_f32"] = base64.b64encode(np.ascontiguousarray(genotype.weights, "<f4").tobytes()).decode()
        return data

    def from_json(self, data: Any) -> TextCNNGenome:
        if not isinstance(data, dict) or "arch" not in data:
            raise GenotypeError(f"genotype={str(data)[:60]!r} is invalid: expected {{'arch': [...], "
                                "'weights_f32': '<base64>'}")
        weights = np.zeros(0, np.float32)
        if "weights_f32" in data:
            try:
                weights = np.frombuffer(base64.b64decode(data["weights_f32"], validate=True), "<f4").astype(np.float32)
            except (ValueError, TypeError) as exc:
                raise GenotypeError(f"genotype.weights_f32 is invalid: {exc}") from None
        genome = TextCNNGenome(list(data["arch"]), weights)
        self._check(genome)
        return genome

    def _check(self, genotype: Any) -> None:
        if not isinstance(genotype, TextCNNGenome):
            raise GenotypeError(f"genotype={type(genotype).__name__} is invalid: expected a TextCNNGenome")
        upper = self.upper()
        arch = genotype.arch
        if len(arch) != len(upper):
            raise GenotypeError(f"genotype.arch of {len(arch)} genes is invalid: expected {len(upper)}")
        for i, (gene, top) in enumerate(zip(arch, upper)):
            if isinstance(gene, bool) or not isinstance(gene, (int, np.integer)) or not 0 <= gene <= top:
                raise GenotypeError(f"genotype.arch[{i}]={gene!r} is invalid: expected a whole number in 0..{top}")
        expected = self.layout().size if self.mode == "weights" else 0
        if genotype.weights.size != expected:
            raise GenotypeError(f"genotype.weights of {genotype.weights.size} numbers is invalid: expected {expected}")
        if expected and not np.isfinite(genotype.weights).all():
            raise GenotypeError("genotype.weights is invalid: expected finite numbers")


def _mate(a: TextCNNGenome, b: TextCNNGenome, alpha: float, fixed: int = 0) -> tuple[TextCNNGenome, TextCNNGenome]:
    """DEAP's two-point crossover on the architecture genes and blend crossover on the weights
    (after the first ``fixed``: a fixed embedding table)."""
    if len(a.arch) >= 2:
        tools.cxTwoPoint(a.arch, b.arch)
    if a.weights.size and a.weights.size == b.weights.size:
        wa, wb = a.weights.astype(np.float64), b.weights.astype(np.float64)
        tools.cxBlend(wa[fixed:], wb[fixed:], alpha)  # views: blended in place
        a.weights, b.weights = wa.astype(np.float32), wb.astype(np.float32)
    return a, b


def _mutate(genome: TextCNNGenome, up: list[int], arch_indpb: float, sigma: float,
            indpb: float, fixed: int = 0) -> tuple[TextCNNGenome]:
    """DEAP's ``mutUniformInt`` on the architecture genes and ``mutGaussian`` on the weights
    (after the first ``fixed``)."""
    tools.mutUniformInt(genome.arch, low=0, up=up, indpb=arch_indpb)
    if genome.weights.size:
        weights = genome.weights.astype(np.float64)
        tools.mutGaussian(weights[fixed:], mu=0.0, sigma=sigma, indpb=indpb)
        genome.weights = weights.astype(np.float32)
    return (genome,)
