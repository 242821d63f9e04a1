"""The ``NeuronGraph`` layer spec: a sparse feed-forward graph of single neurons (NEAT genomes).

Neurons are numbered: the inputs are ``0 .. n_inputs - 1`` (one per feature of a flat input),
the outputs ``n_inputs .. n_inputs + n_outputs - 1``, and each hidden neuron has an id of its own
(any other integer >= 0). Every connection ``(src, dst)`` carries one weight and every non-input
neuron one bias; a neuron computes ``activation(bias + sum(weight * source))``. Connections must
form a DAG, and none may lead into an input.

The weights are two vectors, not a dense masked matrix, so the parameter count is exactly
``len(connections) + len(hidden) + n_outputs``:

* ``kernel``: one weight per connection, in the order of ``connections``;
* ``bias``: one per hidden neuron in the order of ``hidden``, then one per output neuron.

Evaluation runs level by level (a neuron's level is one more than its deepest source's), each
level gathering its sources, multiplying by their weights and summing per neuron. ``plan`` holds
that schedule; both the Keras layer (``evokit.layers.neuron_graph``) and the NumPy ``forward``
here follow it. This module imports no framework.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from evokit.errors import ConfigError, check_choice, check_int
from evokit.netspec.layers import LayerSpec, Shape, register_layer

NODE_ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid", "elu", "selu", "swish", "leaky_relu")
"""Activations a single neuron may have (softmax needs a whole layer; put it after the graph)."""

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_LEAKY_SLOPE = 0.2  # Keras 3's default negative_slope


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


NUMPY_ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "selu": lambda z: _SELU_SCALE * np.where(z > 0, z, _SELU_ALPHA * np.expm1(np.minimum(z, 0.0))),
    "swish": lambda z: z * _sigmoid(z),
    "leaky_relu": lambda z: np.where(z > 0, z, _LEAKY_SLOPE * z),
}
"""NumPy versions of ``NODE_ACTIVATIONS`` that match ``keras.activations`` (defaults)."""


@dataclass(frozen=True)
class Step:
    """One batch of neurons computed together: same level, same activation.

    Attributes:
        activation: the neurons' activation.
        bias_index: index in the bias vector of each neuron computed here.
        conn_index: index in the kernel of each connection into these neurons.
        src: column of each such connection's source in the value matrix (inputs are columns
            ``0 .. n_inputs - 1``; each step appends its neurons' columns, in order).
        dst: position (``0 .. len(bias_index) - 1``) of each such connection's target.
    """

    activation: str
    bias_index: tuple[int, ...]
    conn_index: tuple[int, ...]
    src: tuple[int, ...]
    dst: tuple[int, ...]

    def scatter(self, dtype: Any = np.float32) -> np.ndarray:
        """The constant 0/1 matrix ``(connections, neurons)`` that sums contributions per neuron."""
        matrix = np.zeros((len(self.conn_index), len(self.bias_index)), dtype=dtype)
        matrix[np.arange(len(self.dst)), list(self.dst)] = 1
        return matrix


@dataclass(frozen=True)
class Plan:
    """The evaluation schedule of a neuron graph: steps in order, then the output columns."""

    steps: tuple[Step, ...]
    output_columns: tuple[int, ...]


def _pairs(field: str, value: Any, width: int) -> tuple[tuple[Any, ...], ...]:
    """Normalise a list of lists (what JSON gives back) to a tuple of tuples, checking widths."""
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{field}={value!r} is invalid: expected a list of {width}-element lists")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, (list, tuple)) or len(item) != width:
            raise ConfigError(f"{field}[{i}]={item!r} is invalid: expected a {width}-element list")
        out.append(tuple(item))
    return tuple(out)


def make_plan(n_inputs: int, n_outputs: int, hidden: tuple[tuple[int, str], ...],
              connections: tuple[tuple[int, int], ...], output_activation: str) -> Plan:
    """Validate a neuron graph and schedule its evaluation (raises ConfigError naming the field)."""
    neurons = _neurons(n_inputs, n_outputs, hidden, output_activation)
    incoming = _incoming(n_inputs, neurons, connections)
    level = _levels(n_inputs, neurons, incoming, connections)
    # steps: by level, then activation; neurons in bias order within a step
    groups: dict[tuple[int, str], list[int]] = {}
    for node in sorted(neurons, key=lambda n: neurons[n][0]):
        groups.setdefault((level[node], neurons[node][1]), []).append(node)
    column = {i: i for i in range(n_inputs)}
    steps = []
    for key in sorted(groups):
        nodes = groups[key]
        local = {node: p for p, node in enumerate(nodes)}
        ins = sorted((c, src, local[node]) for node in nodes for c, src in incoming[node])
        steps.append(Step(key[1], tuple(neurons[n][0] for n in nodes), tuple(c for c, _, _ in ins),
                          tuple(column[s] for _, s, _ in ins), tuple(d for _, _, d in ins)))
        for node in nodes:
            column[node] = len(column)
    return Plan(tuple(steps), tuple(column[n_inputs + j] for j in range(n_outputs)))


def _neurons(n_inputs: int, n_outputs: int, hidden: tuple[tuple[int, str], ...],
             output_activation: str) -> dict[int, tuple[int, str]]:
    """Node id -> (bias index, activation) for every non-input neuron: hidden ones, then outputs."""
    neurons: dict[int, tuple[int, str]] = {}
    for k, (node, activation) in enumerate(hidden):
        check_int(f"hidden[{k}] id", node, minimum=0)
        check_choice(f"hidden[{k}] activation", activation, NODE_ACTIVATIONS)
        if node < n_inputs + n_outputs:
            raise ConfigError(f"hidden[{k}]=({node!r}, {activation!r}) is invalid: ids below "
                              f"{n_inputs + n_outputs} belong to the input and output neurons")
        if node in neurons:
            raise ConfigError(f"hidden[{k}]=({node!r}, {activation!r}) is invalid: id {node} appears twice")
        neurons[node] = (k, activation)
    for j in range(n_outputs):
        neurons[n_inputs + j] = (len(hidden) + j, output_activation)
    return neurons


def _incoming(n_inputs: int, neurons: dict[int, tuple[int, str]],
              connections: tuple[tuple[int, int], ...]) -> dict[int, list[tuple[int, int]]]:
    """Neuron -> its (connection index, source) pairs, every connection checked."""
    incoming: dict[int, list[tuple[int, int]]] = {node: [] for node in neurons}
    seen: set[tuple[int, int]] = set()
    for c, (src, dst) in enumerate(connections):
        for name, node in (("src", src), ("dst", dst)):
            is_int = isinstance(node, int) and not isinstance(node, bool)
            if not is_int or (node not in neurons and not 0 <= node < n_inputs):
                raise ConfigError(f"connections[{c}]=({src!r}, {dst!r}) is invalid: {name} {node!r} is not a "
                                  "neuron of this graph")
        if dst not in neurons:
            raise ConfigError(f"connections[{c}]=({src!r}, {dst!r}) is invalid: it leads into input {dst}")
        if (src, dst) in seen:
            raise ConfigError(f"connections[{c}]=({src!r}, {dst!r}) is invalid: it appears twice")
        seen.add((src, dst))
        incoming[dst].append((c, src))
    return incoming


def kahn_levels(incoming: list[list[int]]) -> tuple[list[int], list[int]]:
    """Each unit's level by Kahn's algorithm, for units ``0..n-1`` where ``incoming[u]`` lists the
    units ``u`` reads (the graph's inputs left out: they are level 0, so a unit that reads only
    inputs is level 1, and a unit is one more than its deepest source); and the units on or behind
    a cycle (empty for a feed-forward graph), which get no level. Units of one level can be
    evaluated together: this is the schedule of ``NeuronGraph`` and of NEAT's population programs
    (``evokit.encodings.graph_population``)."""
    pending = [len(sources) for sources in incoming]
    outgoing: list[list[int]] = [[] for _ in incoming]
    for u, sources in enumerate(incoming):
        for s in sources:
            outgoing[s].append(u)
    level = [0] * len(incoming)
    ready = [u for u, n in enumerate(pending) if n == 0]
    while ready:
        u = ready.pop()
        level[u] = 1 + max((level[s] for s in incoming[u]), default=0)
        for v in outgoing[u]:
            pending[v] -= 1
            if pending[v] == 0:
                ready.append(v)
    return level, [u for u, n in enumerate(pending) if n > 0]


def _levels(n_inputs: int, neurons: dict[int, tuple[int, str]], incoming: dict[int, list[tuple[int, int]]],
            connections: tuple[tuple[int, int], ...]) -> dict[int, int]:
    """Each node's level (inputs 0; a neuron one more than its deepest source); a cycle raises
    ConfigError naming its neurons."""
    order = list(neurons)
    unit = {node: u for u, node in enumerate(order)}
    level, stuck = kahn_levels([[unit[s] for _, s in incoming[node] if s in unit] for node in order])
    if stuck:
        raise ConfigError(f"connections={list(connections)!r} is invalid: they form a cycle through neurons "
                          f"{sorted(order[u] for u in stuck)}")
    return {**{i: 0 for i in range(n_inputs)}, **dict(zip(order, level))}


@register_layer
@dataclass(frozen=True)
class NeuronGraph(LayerSpec):
    """A sparse feed-forward graph of neurons: ``(n_inputs,) -> (n_outputs,)``.

    Args:
        n_inputs: input neurons, one per feature of the (flat) input.
        n_outputs: output neurons.
        hidden: ``(node_id, activation)`` per hidden neuron; ids are integers >= ``n_inputs +
            n_outputs``, unique. Lists of lists (as JSON gives back) are accepted.
        connections: ``(src, dst)`` per connection, each between neurons of this graph, never
            into an input, without duplicates or cycles. Their order is the kernel's order.
        output_activation: the output neurons' activation.

    Params: one per connection plus one bias per hidden and output neuron.
    FLOPs: two per connection (multiply, add) plus one per non-input neuron (its activation).
    """

    n_inputs: int
    n_outputs: int
    hidden: tuple[tuple[int, str], ...] = ()
    connections: tuple[tuple[int, int], ...] = ()
    output_activation: str = "linear"
    kind: ClassVar[str] = "neuron_graph"

    def __post_init__(self) -> None:
        check_int("n_inputs", self.n_inputs, minimum=1)
        check_int("n_outputs", self.n_outputs, minimum=1)
        object.__setattr__(self, "hidden", _pairs("hidden", self.hidden, 2))
        object.__setattr__(self, "connections", _pairs("connections", self.connections, 2))
        check_choice("output_activation", self.output_activation, NODE_ACTIVATIONS)
        object.__setattr__(self, "_plan", make_plan(self.n_inputs, self.n_outputs, self.hidden,
                                                    self.connections, self.output_activation))

    @property
    def plan(self) -> Plan:
        """The evaluation schedule (computed, and the graph validated, in the constructor)."""
        return self._plan  # type: ignore[attr-defined]

    @property
    def n_neurons(self) -> int:
        """Non-input neurons: the length of the bias vector."""
        return len(self.hidden) + self.n_outputs

    def output_shape(self, shapes: list[Shape]) -> Shape:
        (width,) = self._expect_rank(shapes, (1,), "a flat input (features,); add a Flatten first")
        if width != self.n_inputs:
            raise self._fail(shapes, f"expected ({self.n_inputs},): one feature per input neuron")
        return (self.n_outputs,)

    def params(self, shapes: list[Shape]) -> int:
        return len(self.connections) + self.n_neurons

    def flops(self, shapes: list[Shape], out: Shape) -> int:
        return 2 * len(self.connections) + self.n_neurons

    def describe(self) -> str:
        return f"neuron_graph({len(self.hidden)} hidden, {len(self.connections)} connections)"

    def forward(self, x: Any, kernel: Any, bias: Any) -> np.ndarray:
        """The outputs ``(batch, n_outputs)`` for inputs ``x`` ``(batch, n_inputs)``, in NumPy
        (float64), with these weights (``kernel`` per connection, ``bias`` per neuron)."""
        values = np.asarray(x, dtype=np.float64)
        kernel = np.asarray(kernel, dtype=np.float64).reshape(-1)
        bias = np.asarray(bias, dtype=np.float64).reshape(-1)
        if values.ndim != 2 or values.shape[1] != self.n_inputs:
            raise ConfigError(f"x with shape {values.shape} is invalid: expected (batch, {self.n_inputs})")
        if kernel.shape != (len(self.connections),) or bias.shape != (self.n_neurons,):
            raise ConfigError(f"weights with shapes {kernel.shape}, {bias.shape} are invalid: expected "
                              f"({len(self.connections)},) and ({self.n_neurons},)")
        for step in self.plan.steps:
            z = np.zeros((len(values), len(step.bias_index)))
            if step.conn_index:
                contributions = values[:, list(step.src)] * kernel[list(step.conn_index)]
                z = contributions @ step.scatter(np.float64)
            z = z + bias[list(step.bias_index)]
            values = np.concatenate([values, NUMPY_ACTIVATIONS[step.activation](z)], axis=1)
        return values[:, list(self.plan.output_columns)]
