"""NEAT genomes compiled once per structure into NumPy array programs, for fast forward passes.

``evokit.encodings.graph.forward`` used to lay a genome out as a ``NeuronGraph`` spec (which
validates it and schedules it level by level) on every call, and then rebuild each step's index
lists and 0/1 scatter matrix from the schedule: on XOR that was ~3/4 of an evaluation's cost.
A :class:`Program` is that work done once: per step the NumPy index arrays of its sources,
connections and biases and its scatter matrix, plus the genes (connection keys, node ids) whose
weights and biases fill the kernel and bias vectors.

Programs are cached by the genome's *structure* (the node genes' ids, kinds and activations, the
enabled connections and the number of features), never by the genome object: DEAP operators
change genomes in place, and a key made of the genes themselves cannot go stale. Weights and
biases are read from the genes on every call, so weight mutations need no invalidation at all.

The evaluation runs exactly the NumPy operations of ``NeuronGraph.forward``, in the same order,
on arrays of the same shapes and layout, so its outputs are bitwise identical to it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import compress
from operator import attrgetter
from typing import Any, Callable, Hashable

import numpy as np

from evokit.netspec.neurons import NUMPY_ACTIVATIONS, NeuronGraph
from evokit.operators.neat_genome import NEATGenome

CACHE_SIZE = 4096
"""The most entries kept (a structure's program for ``forward``, and its schedule for
``forward_population``, each an entry); the cache is emptied when it is full."""
CACHE_BYTES = 64 * 2**20
"""The most bytes of index arrays and scatter matrices kept (genomes of thousands of inputs
make programs of megabytes); the cache is emptied when a new program would exceed it."""

_CACHE: dict[Hashable, Any] = {}
_cached_bytes = 0


@dataclass(frozen=True)
class ProgramStep:
    """One step of a :class:`Program`: a level's neurons of one activation, computed together."""

    activation: Callable[[np.ndarray], np.ndarray]
    width: int
    bias_index: np.ndarray
    conn_index: np.ndarray
    src: np.ndarray
    scatter: np.ndarray
    dst: np.ndarray  # per connection, the neuron (column of ``scatter``) it feeds


@dataclass(frozen=True)
class Program:
    """A genome structure compiled for ``n_features`` input features: its steps, the columns of
    its outputs, and the genes behind its kernel (connection keys) and bias (node ids)."""

    n_features: int
    steps: tuple[ProgramStep, ...]
    output_columns: np.ndarray
    keys: tuple[tuple[int, int], ...]
    bias_ids: tuple[int, ...]

    @cached_property
    def width(self) -> int:
        """The number of neurons the program computes (its steps' widths together)."""
        return sum(s.width for s in self.steps)

    @property
    def nbytes(self) -> int:
        """The bytes of the program's arrays."""
        return self.output_columns.nbytes + sum(s.bias_index.nbytes + s.conn_index.nbytes + s.src.nbytes
                                                + s.scatter.nbytes + s.dst.nbytes for s in self.steps)

    def run(self, genome: NEATGenome, x: np.ndarray) -> np.ndarray:
        """The outputs ``(batch, n_outputs)`` of ``genome`` (which has this program's structure)
        for flat float64 inputs ``x`` ``(batch, n_features)``."""
        connections, nodes = genome.connections, genome.nodes
        kernel = np.asarray([connections[k].weight for k in self.keys], dtype=np.float64)
        bias = np.asarray([nodes[i].bias for i in self.bias_ids], dtype=np.float64)
        values = x
        for step in self.steps:
            if len(step.conn_index):
                z = (values[:, step.src] * kernel[step.conn_index]) @ step.scatter
            else:
                z = np.zeros((len(values), step.width))
            z = z + bias[step.bias_index]
            values = np.concatenate([values, step.activation(z)], axis=1)
        return values[:, self.output_columns]


def structure_key(genome: NEATGenome, n_features: int) -> tuple[Any, ...]:
    """What ``layout(genome, n_features)`` depends on: node ids, kinds and activations, and the
    enabled connections (weights, biases and disabled genes are left out).

    Built with C-level iteration only (``map``, ``compress``): every evaluation of a population
    computes one per genome, and per-gene Python loops made it half of XOR's evaluation cost.
    The genes are taken in the genome's own order, not sorted (sorting was a third of the
    key's cost): one structure held in two orders gets two keys, each compiled to the same
    program, which costs a compilation where sorting cost every call."""
    nodes, connections = genome.nodes, genome.connections
    return (n_features, tuple(nodes), tuple(map(_KIND_AND_ACTIVATION, nodes.values())),
            tuple(compress(connections, map(_ENABLED, connections.values()))))


_KIND_AND_ACTIVATION, _ENABLED = attrgetter("kind", "activation"), attrgetter("enabled")


def compile_layer(layer: NeuronGraph, keys: list[tuple[int, int]], bias_ids: list[int]) -> Program:
    """The program of a laid-out genome (``layout``'s three results)."""
    steps = tuple(ProgramStep(NUMPY_ACTIVATIONS[s.activation], len(s.bias_index),
                              np.asarray(s.bias_index, dtype=np.intp), np.asarray(s.conn_index, dtype=np.intp),
                              np.asarray(s.src, dtype=np.intp), s.scatter(np.float64),
                              np.asarray(s.dst, dtype=np.intp))
                  for s in layer.plan.steps)
    return Program(layer.n_inputs, steps, np.asarray(layer.plan.output_columns, dtype=np.intp),
                   tuple(keys), tuple(bias_ids))


def program(genome: NEATGenome, n_features: int,
            layout: Callable[[NEATGenome, int], tuple[NeuronGraph, list[tuple[int, int]], list[int]]]) -> Program:
    """The cached program of ``genome``'s structure, compiled from ``layout`` on a miss (which
    validates the structure, as an uncached forward pass would)."""
    return cached(structure_key(genome, n_features), lambda: compile_layer(*layout(genome, n_features)))


def cached(key: Hashable, build: Callable[..., Any], *args: Any) -> Any:
    """The cached value of ``key``, made by ``build(*args)`` on a miss and kept while the cache has
    room (``CACHE_SIZE`` entries, ``CACHE_BYTES`` of the values' ``nbytes``). Programs and the
    population schedules of ``evokit.encodings.graph_population`` share it, under their own keys."""
    global _cached_bytes
    found = _CACHE.get(key)
    if found is None:
        found = build(*args)
        size = found.nbytes
        if len(_CACHE) >= CACHE_SIZE or _cached_bytes + size > CACHE_BYTES:
            clear_cache()
        if size <= CACHE_BYTES:
            _CACHE[key] = found
            _cached_bytes += size
    return found


def clear_cache() -> None:
    """Forget every compiled program and population schedule."""
    global _cached_bytes
    _CACHE.clear()
    _cached_bytes = 0


__all__ = ["CACHE_BYTES", "CACHE_SIZE", "Program", "ProgramStep", "cached", "clear_cache", "compile_layer", "program",
           "structure_key"]
