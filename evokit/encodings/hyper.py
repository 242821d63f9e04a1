"""Training hyper-parameters as genes: a wrapper that adds them to any encoding's genotypes.

``Hyperparameters(encoding, ...)`` evolves, next to ``encoding``'s architecture, a small vector
of genes in [0, 1], one per hyper-parameter given (``None`` leaves one out):

* ``learning_rate=(low, high)``: searched on a log scale, ``low * (high / low) ** gene``
  (rounded to 3 significant digits);
* ``batch_size=(16, 32, ...)`` and ``optimizer=("adam", "sgd", ...)``: choices, picked as a
  :class:`~evokit.encodings.Real` gene picks one (``choices[min(int(gene * n), n - 1)]``);
* ``dropout=(low, high)``: a dropout rate, ``low + gene * (high - low)`` (rounded to 3
  decimals), applied by a Dropout layer on what the network's last layer (its head) reads.

The training values travel in the decoded NetSpec (``NetSpec.training``): the trainer trains
that network with them in place of the search's shared ``TrainingConfig`` values, in every
process, and they are part of the network's canonical hash (so its fitness cache key) and of its
record in ``candidates.jsonl``. The dropout rate is part of the network itself.

Variation follows DEAP's contract (in place, returning a tuple): ``mate`` applies the wrapped
encoding's crossover to the architectures and ``cxSimulatedBinaryBounded`` to the gene vectors;
``mutate`` the wrapped encoding's mutation and ``mutPolynomialBounded`` (both bounded to
[0, 1]). Candidates of an encoding that are not trained (``trains`` False: scored with the
weights their genotype carries) have nothing for these genes to act on and are refused.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from deap import base, tools

from evokit.encodings.base import Encoding, rng_or_global
from evokit.encodings.real import choice
from evokit.errors import ConfigError, GenotypeError, check_choices, check_float, is_positive_int
from evokit.netspec import Dropout, NetSpec, Node
from evokit.netspec.training import MAX_BATCH_SIZE, OPTIMIZERS

GENES = ("learning_rate", "batch_size", "optimizer", "dropout")
"""The hyper-parameters a genotype can carry, in the order of its gene vector."""
SHORT = {"learning_rate": "lr", "batch_size": "bs", "optimizer": "", "dropout": "dropout"}
"""How ``describe`` labels each value (the optimizer by its name alone)."""


@dataclass
class HyperparametersGenome:
    """A :class:`Hyperparameters` genotype: the wrapped encoding's genotype (``architecture``) and
    one gene in [0, 1] per evolved hyper-parameter (``genes``, in :data:`GENES` order). Its
    ``fitness`` (set by the toolbox) is not part of equality."""

    architecture: Any
    genes: list[float]
    fitness: Any = field(default=None, compare=False, repr=False)


class Hyperparameters(Encoding):
    """Any encoding's architecture plus training hyper-parameters as genes (see the module
    docstring).

    Args:
        encoding: the encoding of the architecture (``DeepGA()``, ``Binary()`` ...); its
            candidates must be trained (``trains``).
        learning_rate: ``(low, high)``, ``0 < low < high``: the range searched on a log scale;
            None: every candidate uses the search's learning rate.
        batch_size: the batch sizes to choose from (distinct positive integers); None: the search's.
        optimizer: the optimizers to choose from (names among ``evokit.evaluation.OPTIMIZERS``);
            None: the search's.
        dropout: ``(low, high)``, ``0 <= low < high < 1``: the range of the dropout rate applied
            before the head; None (the default): no dropout gene.
        eta: crowding degree of the genes' SBX crossover and polynomial mutation (high: children
            near their parents).
        indpb: probability that mutation changes each gene; None for ``1 / number of genes``.

    ``False`` stands for None in ``learning_rate``, ``batch_size``, ``optimizer`` and ``dropout``
    (config files have no null).
    """

    name = "hyperparameters"

    def __init__(self, encoding: Encoding, learning_rate: Sequence[float] | None = (1e-4, 1e-1),
                 batch_size: Sequence[int] | None = (16, 32, 64, 128),
                 optimizer: Sequence[str] | None = ("adam", "sgd", "rmsprop"),
                 dropout: Sequence[float] | None = None, eta: float = 10.0, indpb: float | None = None):
        self.encoding = _check_encoding(encoding)
        learning_rate, batch_size, optimizer, dropout = (None if v is False else v  # a config file's "none"
                                                         for v in (learning_rate, batch_size, optimizer, dropout))
        self.learning_rate = None if learning_rate is None else _check_range(
            "learning_rate", learning_rate, 0.0, math.inf, "0 < low < high", low_open=True)
        self.batch_size = None if batch_size is None else check_choices(
            "batch_size", batch_size, lambda v: is_positive_int(v) and v <= MAX_BATCH_SIZE,
            f"integers from 1 to {MAX_BATCH_SIZE}", distinct=True)
        self.optimizer = None if optimizer is None else check_choices(
            "optimizer", optimizer, lambda v: isinstance(v, str) and v in OPTIMIZERS,
            "optimizer names among " + ", ".join(map(repr, OPTIMIZERS)), distinct=True)
        self.dropout = None if dropout is None else _check_range("dropout", dropout, 0.0, 1.0,
                                                                 "0 <= low < high < 1", high_open=True)
        if not self.evolved:
            raise ConfigError("learning_rate=None, batch_size=None, optimizer=None, dropout=None are invalid "
                              "together: expected at least one hyper-parameter to evolve")
        self.eta = check_float("eta", eta, minimum=0.0, exclusive_minimum=True)
        self.indpb = None if indpb is None else check_float("indpb", indpb, minimum=0.0, maximum=1.0)

    @property
    def evolved(self) -> tuple[str, ...]:
        """The hyper-parameters this encoding evolves, in gene order."""
        return tuple(name for name in GENES if getattr(self, name) is not None)

    @property
    def trains(self) -> bool:  # type: ignore[override]
        """The wrapped encoding's (always True: one whose candidates are not trained is refused)."""
        return self.encoding.trains

    @property
    def spatial_output(self) -> bool:  # type: ignore[override]
        """The wrapped encoding's: a wrapped U-Net encoding decodes per-pixel networks."""
        return self.encoding.spatial_output

    # -- genes and their values -----------------------------------------------------------------

    def values(self, genotype: HyperparametersGenome) -> dict[str, Any]:
        """The hyper-parameters a genotype's genes give, e.g. ``{"learning_rate": 0.00316,
        "batch_size": 64, "optimizer": "sgd"}`` (a gene outside [0, 1] reads as the nearest end)."""
        check_genome(genotype, self.evolved)
        out: dict[str, Any] = {}
        for name, gene in zip(self.evolved, genotype.genes):
            g = min(max(float(gene), 0.0), 1.0)
            if name == "learning_rate":
                low, high = self.learning_rate  # type: ignore[misc]
                out[name] = _clamp(float(f"{low * (high / low) ** g:.3g}"), low, high)
            elif name == "dropout":
                low, high = self.dropout  # type: ignore[misc]
                out[name] = _clamp(round(low + g * (high - low), 3), low, high)
            else:
                out[name] = choice(g, getattr(self, name))
        return out

    # -- the Encoding contract --------------------------------------------------------------------

    def random(self, rng: Any = None) -> HyperparametersGenome:
        rng = rng_or_global(rng)
        architecture = self.encoding.random(rng)
        return HyperparametersGenome(architecture, [rng.random() for _ in self.evolved])

    def decode(self, genotype: HyperparametersGenome, input_shape: tuple[int, ...], n_outputs: int,
               task: str = "classification") -> NetSpec:
        values = self.values(genotype)
        spec = self.encoding.decode(genotype.architecture, input_shape, n_outputs, task)
        rate = values.pop("dropout", 0.0)
        if rate > 0:
            spec = with_dropout(spec, rate)
        return spec.with_training(values)

    def register(self, toolbox: base.Toolbox) -> None:
        inner = base.Toolbox()
        self.encoding.register(inner)
        indpb = self.indpb if self.indpb is not None else 1.0 / len(self.evolved)
        toolbox.register("mate", cxHyperparameters, mate=inner.mate, eta=self.eta)
        toolbox.register("mutate", mutHyperparameters, mutate=inner.mutate, eta=self.eta, indpb=indpb)

    def distance(self, a: HyperparametersGenome, b: HyperparametersGenome) -> float:
        """The wrapped encoding's distance between the architectures plus the L1 distance between
        the gene vectors (a gene from one end of its range to the other counts 1)."""
        genes = sum(abs(x - y) for x, y in zip(a.genes, b.genes)) + abs(len(a.genes) - len(b.genes))
        return float(self.encoding.distance(a.architecture, b.architecture) + genes)

    def describe(self, genotype: HyperparametersGenome) -> str:
        """The architecture's description, then the hyper-parameters: ``... | lr=3.16e-03 bs=64 sgd``."""
        parts = []
        for name, value in self.values(genotype).items():
            text = f"{value:.2e}" if name == "learning_rate" else str(value)
            parts.append(f"{SHORT[name]}={text}" if SHORT[name] else text)
        return f"{self.encoding.describe(genotype.architecture)} | {' '.join(parts)}"

    def to_json(self, genotype: HyperparametersGenome) -> dict[str, Any]:
        return {"architecture": self.encoding.to_json(genotype.architecture),
                "genes": {name: float(g) for name, g in zip(self.evolved, genotype.genes)}}

    def from_json(self, data: Any) -> HyperparametersGenome:
        if not isinstance(data, dict) or set(data) != {"architecture", "genes"}:
            raise GenotypeError(f"genotype={_short(data)} is invalid: expected an object with 'architecture' and "
                                "'genes', as to_json writes it")
        genes = data["genes"]
        if not isinstance(genes, dict) or set(genes) != set(self.evolved):
            raise GenotypeError(f"genes={_short(genes)} is invalid: expected an object with the genes "
                                f"{', '.join(self.evolved)}")
        genome = HyperparametersGenome(self.encoding.from_json(data["architecture"]),
                                       [genes[name] for name in self.evolved])
        check_genome(genome, self.evolved)
        genome.genes = [float(g) for g in genome.genes]
        return genome

    # -- what the wrapped encoding decides --------------------------------------------------------

    def weights(self, genotype: HyperparametersGenome, spec: NetSpec) -> list[Any] | None:
        """The weights the architecture carries (a dropout layer has none, so their order holds)."""
        return self.encoding.weights(genotype.architecture, spec)

    def inherit(self, genotype: HyperparametersGenome, evaluation: Any) -> None:
        self.encoding.inherit(genotype.architecture, evaluation)

    def check_data(self, data: Any) -> None:
        if getattr(self.encoding, "generative", False):
            raise ConfigError(f"encoding=Hyperparameters({type(self.encoding).__name__}) is invalid: its pairs carry "
                              "both learning rates in their genes already, and a dropout gene would apply to one "
                              "network of the two; use the encoding itself")
        self.encoding.check_data(data)

    def check_input(self, input_shape: tuple[int, ...], n_outputs: int, task: str) -> None:
        self.encoding.check_input(input_shape, n_outputs, task)


# -- DEAP operators ------------------------------------------------------------------------------------

def cxHyperparameters(ind1: HyperparametersGenome, ind2: HyperparametersGenome, mate: Any,
                      eta: float) -> tuple[HyperparametersGenome, HyperparametersGenome]:
    """Cross two genotypes in place: ``mate`` (the wrapped encoding's crossover) on the
    architectures, DEAP's ``cxSimulatedBinaryBounded`` on the genes (bounded to [0, 1])."""
    with _fitness_shared(ind1), _fitness_shared(ind2):
        ind1.architecture, ind2.architecture = mate(ind1.architecture, ind2.architecture)
    if ind1.genes and ind2.genes:
        tools.cxSimulatedBinaryBounded(ind1.genes, ind2.genes, eta=eta, low=0.0, up=1.0)
        _clip(ind1.genes)
        _clip(ind2.genes)
    return ind1, ind2


def mutHyperparameters(individual: HyperparametersGenome, mutate: Any, eta: float,
                       indpb: float) -> tuple[HyperparametersGenome]:
    """Mutate a genotype in place: ``mutate`` (the wrapped encoding's mutation) on the
    architecture, DEAP's ``mutPolynomialBounded`` on the genes (bounded to [0, 1])."""
    with _fitness_shared(individual):
        individual.architecture, = mutate(individual.architecture)
    tools.mutPolynomialBounded(individual.genes, eta=eta, low=0.0, up=1.0, indpb=indpb)
    _clip(individual.genes)
    return individual,


@contextlib.contextmanager
def _fitness_shared(individual: HyperparametersGenome) -> Iterator[None]:
    """Within the block, the architecture carries the genotype's fitness (operators of the wrapped
    encoding may read it: NEAT's crossover favours the fitter parent); afterwards none."""
    architecture = individual.architecture
    _set_fitness(architecture, individual.fitness)
    try:
        yield
    finally:
        _set_fitness(architecture, None)
        _set_fitness(individual.architecture, None)


def _set_fitness(architecture: Any, fitness: Any) -> None:
    try:
        architecture.fitness = fitness
    except AttributeError:  # a genotype without attributes: its operators cannot read one either
        pass


# -- helpers -------------------------------------------------------------------------------------------

def with_dropout(spec: NetSpec, rate: float) -> NetSpec:
    """``spec`` with a ``Dropout(rate)`` on each input of its last layer (the head)."""
    nodes = list(spec.nodes[:-1])
    head = spec.nodes[-1]
    inputs = []
    for j in head.inputs:
        nodes.append(Node(Dropout(rate), (j,)))
        inputs.append(len(nodes) - 1)
    nodes.append(Node(head.layer, tuple(inputs)))
    return NetSpec(spec.input_shape, nodes, spec.training)


def check_genome(genome: Any, evolved: Sequence[str]) -> None:
    """Raise GenotypeError naming the bad gene unless ``genome`` is a HyperparametersGenome with
    one finite number per evolved hyper-parameter (its operators keep them in [0, 1]; a gene
    outside is read as the nearest end, as a :class:`~evokit.encodings.Real` gene is)."""
    if not isinstance(genome, HyperparametersGenome):
        raise GenotypeError(f"genotype={type(genome).__name__} is invalid: expected a HyperparametersGenome")
    if not isinstance(genome.genes, list) or len(genome.genes) != len(evolved):
        raise GenotypeError(f"genes={genome.genes!r} is invalid: expected a list of {len(evolved)} numbers in [0, 1] "
                            f"({', '.join(evolved)})")
    for name, gene in zip(evolved, genome.genes):
        if isinstance(gene, bool) or not isinstance(gene, (int, float)) or not math.isfinite(gene):
            raise GenotypeError(f"genes.{name}={gene!r} is invalid: expected a number in [0, 1]")


def _check_encoding(encoding: Any) -> Encoding:
    if not isinstance(encoding, Encoding) or isinstance(encoding, Hyperparameters):
        raise ConfigError(f"encoding={encoding!r} is invalid: expected the evokit Encoding of the architecture "
                          "(DeepGA(), Binary() ...), not wrapped in Hyperparameters already")
    if not encoding.trains:
        raise ConfigError(f"encoding={encoding!r} is invalid: its candidates are scored with the weights their "
                          "genotypes carry, without training, so training hyper-parameters would change nothing "
                          "(NEAT: finetune=True trains them)")
    return encoding


def _check_range(field: str, value: Any, minimum: float, maximum: float, allowed: str,
                 low_open: bool = False, high_open: bool = False) -> tuple[float, float]:
    """``value`` as a ``(low, high)`` pair of floats within the bounds, else ConfigError."""
    numbers = isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    if numbers:
        low, high = float(value[0]), float(value[1])
        if (low > minimum if low_open else low >= minimum) and low < high and (
                high < maximum if high_open else high <= maximum):
            return low, high
    raise ConfigError(f"{field}={value!r} is invalid: expected a (low, high) pair with {allowed}, or None "
                      "(not evolved)")


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _clip(genes: list[float]) -> None:
    genes[:] = [min(max(float(g), 0.0), 1.0) for g in genes]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
