"""The Encoding interface every genotype representation implements.

An encoding turns a genotype into a NetSpec and tells DEAP how to vary it. Constructors only
store their keyword arguments (scikit-learn style), so ``repr`` shows the configuration and a
config file maps onto them one to one. Randomness always comes from the ``rng`` passed in
(a ``random.Random``; the ``random`` module itself by default, which is what DEAP's own operators
draw from and what a seeded search seeds).
"""
from __future__ import annotations

import random as _random
from abc import ABC, abstractmethod
from typing import Any

from deap import base

from evokit import tasks
from evokit.errors import ArchitectureError, ConfigError
from evokit.netspec import Conv2D, Dense, Graph, NetSpec, add_flatten
from evokit.params import Configurable

TASKS = tasks.names()
"""The task names the registry knew when encodings were imported (``evokit.tasks.names()``)."""



class Encoding(Configurable, ABC):
    """A genotype representation: random genotypes, decoding, variation operators, distance.

    Contract for implementations:

    * ``random(rng)`` returns a new genotype drawn only from ``rng``; genotypes are picklable
      module-level classes with a ``fitness`` attribute (set by the toolbox) that is not part of
      their equality.
    * ``decode(genotype, input_shape, n_outputs, task)`` returns a valid NetSpec whose last node
      is the head, the task's output layer (``add_head`` asks ``Task.head``: a softmax over
      ``n_outputs`` classes, ``n_outputs`` linear outputs, ...). Genotypes
      that would give impossible shapes are repaired, never rejected. It raises GenotypeError
      only for genotypes that don't belong to this encoding.
    * ``register(toolbox)`` registers ``mate`` and ``mutate`` following DEAP's contract
      (in place, returning a tuple of individuals).
    * ``distance(a, b)`` is >= 0, symmetric, and 0 for equal genotypes.
    * ``from_json(to_json(g))`` equals ``g`` (candidate records in the run directory can be
      turned back into genotypes).
    """

    name: str = "encoding"
    trains: bool = True
    """False for encodings whose genotypes carry their weights (direct weight evolution): their
    candidates are scored with those weights, without training."""
    spatial_output: bool = False
    """True for encodings whose networks end at the input's height and width (U-Nets): only they
    decode networks for a per-pixel task (``Task.per_pixel``: segmentation)."""
    generative: bool = False
    """True for encodings that decode a generator/discriminator pair (a
    :class:`~evokit.netspec.GANSpec`, e.g. :class:`~evokit.encodings.DCGAN`): only they decode
    networks for a generative task (``Task.generative``: gan), and they decode nothing else."""

    @abstractmethod
    def random(self, rng: Any = None) -> Any:
        """A new random genotype."""

    @abstractmethod
    def decode(self, genotype: Any, input_shape: tuple[int, ...], n_outputs: int,
               task: str = "classification") -> NetSpec:
        """The network this genotype describes, with its head."""

    @abstractmethod
    def register(self, toolbox: base.Toolbox) -> None:
        """Register this encoding's ``mate`` and ``mutate`` operators in ``toolbox``."""

    @abstractmethod
    def distance(self, a: Any, b: Any) -> float:
        """A distance between genotypes, for speciation and diversity statistics."""

    def weights(self, genotype: Any, spec: NetSpec) -> list[Any] | None:
        """Weights the genotype carries for ``spec`` (its own decoding), in the order of
        ``evokit.build(spec).get_weights()``; None (the default) means seeded initial weights."""
        return None

    def inherit(self, genotype: Any, evaluation: Any) -> None:
        """Called with each fresh evaluation that kept trained weights: Lamarckian encodings write
        them back into the genotype here (the default does nothing)."""

    def check_data(self, data: Any) -> None:
        """Called with the search's Dataset before any genotype is made; the default refuses a
        generative task (gan) unless :attr:`generative` and a per-pixel task (segmentation) unless
        :attr:`spatial_output`, then checks the data's shape with :meth:`check_input`. An encoding
        that needs more of the data than its shape (e.g. a vocabulary's size) reads it here."""
        task = tasks.get(data.task)
        if getattr(task, "generative", False) and not self.generative:
            raise ConfigError(f"encoding={type(self).__name__} is invalid for {task.name} data: it decodes one "
                              "network, not a generator/discriminator pair; use DCGAN")
        if task.per_pixel and not self.spatial_output:
            raise ConfigError(f"encoding={type(self).__name__} is invalid for {task.name} data: its networks do "
                              "not keep the input's resolution; use UNetTree or UNetBlocks")
        self.check_input(data.input_shape, data.n_outputs, data.task)

    def check_input(self, input_shape: tuple[int, ...], n_outputs: int, task: str) -> None:
        """Called with the data's shape before any genotype is made: raise ConfigError naming
        ``data`` if this encoding cannot build networks for such data, or size the encoding to it
        (e.g. a NEAT genome's input and output neurons). The default accepts everything."""

    def describe(self, genotype: Any) -> str:
        """A one-line human-readable description of a genotype."""
        return repr(genotype)

    def to_json(self, genotype: Any) -> Any:
        """The genotype as JSON-serialisable data (written to the run directory)."""
        return list(genotype)

    def from_json(self, data: Any) -> Any:
        """The genotype ``to_json`` wrote, validated (GenotypeError naming the gene if broken)."""
        raise NotImplementedError(f"{type(self).__name__} does not read genotypes back from JSON")



def rng_or_global(rng: Any) -> Any:
    """``rng`` itself, or Python's ``random`` module (the source DEAP's operators use)."""
    return _random if rng is None else rng


def add_head(g: Graph, x: int, n_outputs: int, task: str | tasks.Task) -> NetSpec:
    """Finish a network: flatten if needed, then the task's output layer (``Task.head``: a softmax
    over the classes, linear outputs, ...); for a per-pixel task (segmentation) a 1x1 convolution
    on ``x``, which must keep the input's height and width. ``task`` is a task's name or a Task."""
    kind = tasks.get(task)
    if not isinstance(n_outputs, int) or n_outputs < 1:
        raise ConfigError(f"n_outputs={n_outputs!r} is invalid: expected a positive integer")
    head = kind.head(n_outputs)
    if kind.per_pixel:
        return g.finish(g.add(Conv2D(head.units, 1, activation=head.activation), _at_input_size(g, x, kind.name)))
    return g.finish(g.add(Dense(head.units, activation=head.activation), add_flatten(g, x)))



def _at_input_size(g: Graph, x: int, task: str) -> int:
    """``x`` if it is a feature map of the input's height and width; ArchitectureError otherwise
    (a per-pixel head reads every position of the input)."""
    shape, size = g.shape(x), g.shape(g.input)[:-1]
    if len(shape) != 3 or len(size) != 2 or shape[:-1] != size:
        raise ArchitectureError(f"a {task} head needs a feature map of the input's size {size}, got shape "
                                f"{shape}: decode with an encoding that keeps the resolution (UNetTree, UNetBlocks)")
    return x
