"""The real-vector encoding: a vector of floats, read as an architecture or as a network's weights.

``mode="architecture"`` (psoCNN style): the genotype lies in ``[0, 1]^n`` and is read in slots of
:data:`SLOT_GENES` genes, one slot per potential layer. Each gene picks one of its choices::

    index = min(int(gene * len(choices)), len(choices) - 1)

after clipping the gene to ``[0, 1]`` (blend crossover and Gaussian mutation may leave the range;
decoding never fails on that). The genes only describe the architecture: no learning rate,
batch size or other training setting is encoded, since how candidates are trained is the
objectives' business and is the same for all of them (so that their scores compare and
identical networks share one cache entry); wrap the encoding in
:class:`~evokit.encodings.Hyperparameters` to evolve those settings too.

``mode="weights"`` (direct weight evolution): the genotype is the flat weight vector of one fixed
network, in the order of ``evokit.build(network).get_weights()``. Candidates are scored with their
weights as they are, without training (``trains`` is False).
"""
from __future__ import annotations

import math
from numbers import Real as _Number
from typing import Any

import numpy as np
from deap import base, tools

from evokit.encodings.base import TASKS, Encoding, add_head, rng_or_global
from evokit.errors import ConfigError, GenotypeError, check_choice, check_choices, check_float, check_int
from evokit.netspec import ACTIVATIONS, Conv1D, Conv2D, Dense, Flatten, Graph, NetSpec, Pool, add_flatten, add_pool
from evokit.netspec.layers import POOL_KINDS
from evokit.netspec.weights import WeightArray, weight_arrays

MODES = ("architecture", "weights")
LAYER_TYPES = ("conv", "pool", "dense", "off")
"""What a slot's ``type`` gene picks from."""
SLOT_GENES = ("type", "filters", "kernel", "units", "activation", "pool")
"""The genes of one slot, in order: layer type; a conv layer's filters and kernel size; a dense
layer's units; the activation of a conv or dense layer; a pooling layer's kind (max or avg)."""
POOL_SIZE = 2
"""Pooling layers of the architecture mode halve each side (windows of 2, 'valid' padding)."""
CROSSOVERS = {"architecture": ("sbx", "blend"), "weights": ("blend",)}
MUTATIONS = {"architecture": ("polynomial", "gaussian"), "weights": ("gaussian",)}
HIDDEN_UNITS = 16
"""Width of the default network of the weights mode: Flatten -> Dense(16, tanh) -> head."""


class RealGenome(list):
    """A real-vector genotype: a list of floats.

    Equality is the list's (genes only): ``fitness`` (set by the toolbox) and attributes such as a
    PSO particle's ``speed``, ``smin``, ``smax`` and ``best`` are not part of it; they travel with
    the genome when it is copied or pickled.
    """

    def __repr__(self) -> str:
        return f"RealGenome({list.__repr__(self)})"


def choice(gene: float, choices: tuple) -> Any:
    """The choice a gene picks: ``choices[min(int(g * n), n - 1)]`` with ``g`` clipped to [0, 1]."""
    g = min(max(float(gene), 0.0), 1.0)
    return choices[min(int(g * len(choices)), len(choices) - 1)]


class Real(Encoding):
    """A vector of floats read as an architecture (psoCNN style) or as a fixed network's weights.

    Args:
        mode: ``"architecture"`` (genes in [0, 1] pick layers and their settings) or
            ``"weights"`` (the genes are the weights of ``network``).
        max_layers: architecture mode: number of slots; each slot is a conv, pool or dense layer,
            or off (:data:`SLOT_GENES` genes per slot).
        filters, kernel_sizes, units, activations, pools: the choices of a slot's genes.
        network: weights mode: the NetSpec whose weights are evolved; None for a small MLP
            (Flatten -> Dense(16, tanh) -> head) sized to the data by ``check_input``.
        crossover: ``"sbx"`` (DEAP's ``cxSimulatedBinaryBounded`` on [0, 1]) or ``"blend"``
            (``cxBlend``); None for the mode's default (sbx, or blend in the weights mode, which
            allows only blend as its genes are unbounded).
        mutation: ``"polynomial"`` (``mutPolynomialBounded`` on [0, 1]) or ``"gaussian"``
            (``mutGaussian``); None for the mode's default (polynomial, or gaussian in the
            weights mode, which allows only gaussian).
        eta: crowding degree of sbx and polynomial mutation (high: children near the parents).
        alpha: blend crossover's extent.
        sigma: standard deviation of Gaussian mutation.
        indpb: probability that mutation changes each gene; None for 1/n in the architecture
            mode (one gene on average) and 0.1 in the weights mode.

    Input: flat ``(features,)``, sequences ``(length, channels)`` or images
    ``(height, width, channels)``; conv and pool slots act only on the latter two.
    """

    name = "real"

    def __init__(self, mode: str = "architecture", max_layers: int = 4, filters: tuple[int, ...] = (4, 8, 16, 32),
                 kernel_sizes: tuple[int, ...] = (3, 5), units: tuple[int, ...] = (16, 32, 64),
                 activations: tuple[str, ...] = ("relu", "elu", "tanh"), pools: tuple[str, ...] = ("max", "avg"),
                 network: NetSpec | None = None, crossover: str | None = None, mutation: str | None = None,
                 eta: float = 20.0, alpha: float = 0.5, sigma: float = 0.1, indpb: float | None = None):
        self.mode = check_choice("mode", mode, MODES)
        self.max_layers = check_int("max_layers", max_layers, minimum=1)
        self.filters = check_choices("filters", filters)
        self.kernel_sizes = check_choices("kernel_sizes", kernel_sizes)
        self.units = check_choices("units", units)
        self.activations = check_choices("activations", activations, lambda v: v in ACTIVATIONS,
                                    f"values among {ACTIVATIONS}")
        self.pools = check_choices("pools", pools, lambda v: v in POOL_KINDS, f"values among {POOL_KINDS}")
        if network is not None and mode == "architecture":
            raise ConfigError(f"network={network!r} is invalid in mode='architecture': a network is evolved "
                              "only in mode='weights'")
        if network is not None and not isinstance(network, NetSpec):
            raise ConfigError(f"network={network!r} is invalid: expected an evokit NetSpec or None")
        if network is not None:
            try:
                weight_arrays(network.validate())
            except (ValueError, TypeError) as exc:
                raise ConfigError(f"network={network!r} is invalid: {exc}") from None
        self.network = network
        self._set_variation(mode, crossover, mutation, eta, alpha, sigma, indpb)
        self.trains = mode == "architecture"
        self.network_: NetSpec | None = network  # the network of the weights mode, once known

    def _set_variation(self, mode: str, crossover: str | None, mutation: str | None, eta: float, alpha: float,
                       sigma: float, indpb: float | None) -> None:
        """Check and keep the variation settings of ``mode`` (what :meth:`register` reads)."""
        if crossover is not None:
            check_choice("crossover", crossover, CROSSOVERS[mode])
        if mutation is not None:
            check_choice("mutation", mutation, MUTATIONS[mode])
        self.crossover = crossover
        self.mutation = mutation
        self.eta = check_float("eta", eta, minimum=0.0, exclusive_minimum=True)
        self.alpha = check_float("alpha", alpha, minimum=0.0)
        self.sigma = check_float("sigma", sigma, minimum=0.0, exclusive_minimum=True)
        self.indpb = None if indpb is None else check_float("indpb", indpb, minimum=0.0, maximum=1.0)

    # -- size and bounds ----------------------------------------------------------------------

    def n_genes(self) -> int:
        """Number of genes of every genotype (the weights mode needs its network: see ``check_input``)."""
        if self.mode == "architecture":
            return self.max_layers * len(SLOT_GENES)
        return sum(a.size for a in self._arrays())

    @property
    def bounds(self) -> list[tuple[float, float]]:
        """(low, high) of each gene, for PSO: [0, 1] in the architecture mode, unbounded
        (``-inf, inf``) in the weights mode."""
        low, high = (0.0, 1.0) if self.mode == "architecture" else (-math.inf, math.inf)
        return [(low, high)] * self.n_genes()

    def _network(self) -> NetSpec:
        if self.network_ is None:
            raise ConfigError("network=None is not sized yet: call check_input(input_shape, n_outputs, task) with "
                              "the data first (a search does), or pass network=NetSpec(...)")
        return self.network_

    def _arrays(self) -> list[WeightArray]:
        return weight_arrays(self._network())

    def check_input(self, input_shape: tuple[int, ...], n_outputs: int, task: str) -> None:
        check_choice("task", task, TASKS)
        if self.mode == "architecture":
            return
        if self.network is None:
            g = Graph(tuple(input_shape))
            x = g.add(Flatten(), g.input) if len(g.input_shape) > 1 else g.input
            self.network_ = add_head(g, g.add(Dense(HIDDEN_UNITS, activation="tanh"), x), n_outputs, task)
            return
        _check_fits(self.network, tuple(input_shape), n_outputs)

    # -- sampling -----------------------------------------------------------------------------

    def random(self, rng: Any = None) -> RealGenome:
        rng = rng_or_global(rng)
        if self.mode == "architecture":
            return RealGenome(rng.random() for _ in range(self.n_genes()))
        draw = np.random.default_rng(rng.getrandbits(64))
        genes: list[np.ndarray] = []
        for a in self._arrays():
            if a.name == "kernel":  # Glorot normal: std sqrt(2 / (fan_in + fan_out))
                receptive = math.prod(a.shape[:-2])
                std = math.sqrt(2.0 / (receptive * (a.shape[-2] + a.shape[-1])))
                genes.append(draw.normal(0.0, std, a.size))
            else:  # biases, beta and moving mean 0; gamma and moving variance 1
                genes.append(np.full(a.size, 1.0 if a.name in ("gamma", "moving_variance") else 0.0))
        return RealGenome(np.concatenate(genes).tolist() if genes else [])

    def from_weights(self, weights: list[Any]) -> RealGenome:
        """The weights-mode genotype of these arrays (``model.get_weights()`` of the network)."""
        return RealGenome(np.concatenate([np.ravel(w) for w in weights]).astype(float).tolist() if weights else [])

    # -- decoding -----------------------------------------------------------------------------

    def decode(self, genotype: RealGenome, input_shape: tuple[int, ...], n_outputs: int,
               task: str = "classification") -> NetSpec:
        if self.mode == "weights":
            network = self._network()
            check_genome(genotype, self.n_genes())
            _check_fits(network, tuple(input_shape), n_outputs)
            check_choice("task", task, TASKS)
            return network
        check_genome(genotype, self.n_genes())
        g = Graph(input_shape)
        x = g.input
        for slot in self.slots(genotype):
            shape = g.shape(x)
            if slot["type"] == "conv" and len(shape) > 1:
                conv = Conv2D if len(shape) == 3 else Conv1D
                x = g.add(conv(slot["filters"], slot["kernel"], activation=slot["activation"]), x)
            elif slot["type"] == "pool" and len(shape) > 1:
                x = add_pool(g, Pool(slot["pool"], POOL_SIZE), x)
            elif slot["type"] == "dense":
                x = g.add(Dense(slot["units"], activation=slot["activation"]), add_flatten(g, x))
        return add_head(g, x, n_outputs, task)

    def slots(self, genotype: RealGenome) -> list[dict[str, Any]]:
        """Each slot's genes read as choices: ``{"type": "conv", "filters": 8, ...}``."""
        options = {"type": LAYER_TYPES, "filters": self.filters, "kernel": self.kernel_sizes, "units": self.units,
                   "activation": self.activations, "pool": self.pools}
        n = len(SLOT_GENES)
        return [{name: choice(genotype[s * n + k], options[name]) for k, name in enumerate(SLOT_GENES)}
                for s in range(len(genotype) // n)]

    def weights(self, genotype: RealGenome, spec: NetSpec) -> list[Any] | None:
        """Weights mode: the genotype cut into the arrays of ``spec`` (its own decoding), in Keras'
        order; a negative moving variance of a batch normalisation is read as its absolute value."""
        if self.mode == "architecture":
            return None
        arrays = weight_arrays(spec)
        check_genome(genotype, sum(a.size for a in arrays))
        flat = np.asarray(genotype, dtype=np.float32)
        out, start = [], 0
        for a in arrays:
            w = flat[start:start + a.size].reshape(a.shape)
            out.append(np.abs(w) if a.name == "moving_variance" else w)
            start += a.size
        return out

    # -- variation, distance, display -----------------------------------------------------------

    def register(self, toolbox: base.Toolbox) -> None:
        weights_mode = self.mode == "weights"
        crossover = self.crossover or ("blend" if weights_mode else "sbx")
        mutation = self.mutation or ("gaussian" if weights_mode else "polynomial")
        indpb = self.indpb if self.indpb is not None else (0.1 if weights_mode else 1.0 / self.n_genes())
        if crossover == "sbx":
            toolbox.register("mate", tools.cxSimulatedBinaryBounded, eta=self.eta, low=0.0, up=1.0)
        else:
            toolbox.register("mate", tools.cxBlend, alpha=self.alpha)
        if mutation == "polynomial":
            toolbox.register("mutate", tools.mutPolynomialBounded, eta=self.eta, low=0.0, up=1.0, indpb=indpb)
        else:
            toolbox.register("mutate", tools.mutGaussian, mu=0.0, sigma=self.sigma, indpb=indpb)

    def distance(self, a: RealGenome, b: RealGenome) -> float:
        """Euclidean distance between the gene vectors (genes one lacks count as 0)."""
        n = max(len(a), len(b))
        return float(math.dist(list(a) + [0.0] * (n - len(a)), list(b) + [0.0] * (n - len(b))))

    def describe(self, genotype: RealGenome) -> str:
        if self.mode == "weights":
            w = np.asarray(genotype, dtype=float)
            norm = float(np.sqrt(np.mean(w ** 2))) if len(w) else 0.0
            return f"{len(w)} weights, rms {norm:.3g}"
        parts = []
        for slot in self.slots(genotype):
            if slot["type"] == "conv":
                parts.append(f"C{slot['filters']}k{slot['kernel']}{slot['activation'][0]}")
            elif slot["type"] == "pool":
                parts.append(f"{slot['pool']}pool")
            elif slot["type"] == "dense":
                parts.append(f"D{slot['units']}{slot['activation'][0]}")
        return " ".join(parts) or "(no hidden layers)"

    def to_json(self, genotype: RealGenome) -> list[float]:
        return [float(g) for g in genotype]

    def from_json(self, data: list[float]) -> RealGenome:
        genome = RealGenome(float(g) if isinstance(g, int) and not isinstance(g, bool) else g for g in data)
        check_genome(genome, self.n_genes())
        return genome


def _check_fits(network: NetSpec, input_shape: tuple[int, ...], n_outputs: int) -> None:
    if network.input_shape != input_shape or network.output_shape != (n_outputs,):
        raise ConfigError(f"data=(input_shape={input_shape}, n_outputs={n_outputs}) is invalid for network="
                          f"{network!r}: its input is {network.input_shape} and its output "
                          f"{network.output_shape}; pass a network made for this data, or network=None")


def check_genome(genome: Any, length: int | None = None) -> None:
    """Raise GenotypeError naming the bad gene unless ``genome`` is a RealGenome of finite numbers
    (of ``length`` genes, when given)."""
    if not isinstance(genome, RealGenome):
        raise GenotypeError(f"genotype={type(genome).__name__} is invalid: expected a RealGenome")
    if length is not None and len(genome) != length:
        raise GenotypeError(f"genotype of {len(genome)} genes is invalid: expected {length} genes")
    if set(map(type, genome)) <= {float, int} and np.isfinite(np.fromiter(genome, float, len(genome))).all():
        return  # the usual case, checked at NumPy speed; the loop below names a bad gene
    for i, gene in enumerate(genome):
        if isinstance(gene, bool) or not isinstance(gene, _Number) or not math.isfinite(gene):
            raise GenotypeError(f"genotype[{i}]={gene!r} is invalid: expected a finite number")
