"""NEAT's graph encoding: node genes, connection genes and innovation numbers.

A genome is a feed-forward network of single neurons. Its node genes are the input neurons
(ids ``0 .. n_inputs - 1``, one per flattened feature), the output neurons (ids ``n_inputs ..
n_inputs + n_outputs - 1``) and hidden neurons; its connection genes carry a weight, an enabled
bit and an innovation number. Weights are evolved (and, with ``finetune=True``, fine-tuned by
backpropagation and written back: Lamarckian evolution). A genome decodes into one
``NeuronGraph`` layer (``evokit.netspec.neurons``), after a Flatten for non-flat inputs and before
a softmax for classification; the connection weights and biases travel with it as the
candidate's weights.

Innovation numbers are a pure function of structure (see :class:`InnovationTracker`): the same
structural innovation gets the same number in every genome, every generation and every process.
NEAT's historical markings keep their purpose (genes are aligned by them in crossover and in the
compatibility distance) without a global counter, so a search resumes from a checkpoint that
saves only the population, and parallel workers never disagree on a number.
"""
from __future__ import annotations

import copy
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from deap import base

from evokit.encodings.base import TASKS, Encoding, rng_or_global
from evokit.errors import ConfigError, GenotypeError, check_choice, check_float, check_int
from evokit.netspec import Activation, Flatten, Graph, NetSpec
from evokit.netspec.neurons import NODE_ACTIVATIONS, NeuronGraph

KINDS = ("input", "hidden", "output")
INITIAL_CONNECTIONS = ("full", "sparse")
LEVEL_SHIFT = 40
"""Hidden node ids and innovation numbers hold a structural level above this many hash bits."""
SMALL_GENOME = 20
"""Genomes with fewer connection genes than this are not size-normalised in the distance (N=1)."""


@dataclass
class NodeGene:
    """A neuron: its id, kind (input, hidden or output), activation and bias (inputs use neither)."""

    id: int
    kind: str
    activation: str = "linear"
    bias: float = 0.0


@dataclass
class ConnectionGene:
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

    def __deepcopy__(self, memo: dict[int, Any]) -> "NEATGenome":
        # the generic deepcopy of hundreds of small gene dataclasses dominated NEAT's run time
        clone = copy.copy(self)
        clone.nodes = {i: NodeGene(n.id, n.kind, n.activation, n.bias) for i, n in self.nodes.items()}
        clone.connections = {k: ConnectionGene(c.src, c.dst, c.weight, c.enabled, c.innovation)
                             for k, c in self.connections.items()}
        clone.fitness = copy.deepcopy(self.fitness, memo)
        for name, value in self.__dict__.items():
            if name not in ("nodes", "connections", "fitness"):
                setattr(clone, name, copy.deepcopy(value, memo))
        return clone

    def ids(self, kind: str) -> list[int]:
        """Sorted ids of the nodes of one kind."""
        return sorted(i for i, n in self.nodes.items() if n.kind == kind)

    @property
    def n_inputs(self) -> int:
        return sum(n.kind == "input" for n in self.nodes.values())

    @property
    def n_outputs(self) -> int:
        return sum(n.kind == "output" for n in self.nodes.values())

    def enabled(self) -> list[ConnectionGene]:
        """The enabled connection genes, sorted by ``(src, dst)``."""
        return [self.connections[k] for k in sorted(self.connections) if self.connections[k].enabled]


def _hash(tag: str, a: int, b: int) -> int:
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


# -- graph helpers (shared with evokit.operators.neat) -----------------------------------------------

def reachable(edges: Any, start: int) -> set[int]:
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


def find_cycle_edge(edges: Any) -> tuple[int, int] | None:
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
    for key, gene in genome.connections.items():
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
    edge = find_cycle_edge(genome.connections)
    if edge is not None:
        raise GenotypeError(f"connections[{edge!r}] is invalid: it lies on a cycle (genomes here are "
                            "feed-forward)")


def _finite(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def layout(genome: NEATGenome, n_features: int) -> tuple[NeuronGraph, list[tuple[int, int]], list[int]]:
    """The ``NeuronGraph`` spec of ``genome`` for ``n_features`` input features, with the genes
    behind its kernel (connection keys, in order) and its bias vector (node ids, in order).

    Input neuron ``i`` reads feature ``i``: inputs beyond the data's features read 0 (their
    connections are left out), features beyond the inputs are ignored. Hidden neurons are
    renumbered ``n_features + n_outputs + j`` in the order of their ids; enabled connections
    are listed by their renumbered ``(src, dst)``.
    """
    n_in, n_out = genome.n_inputs, genome.n_outputs
    hidden = genome.ids("hidden")
    new_id = {i: i for i in range(min(n_in, n_features))}
    new_id.update({n_in + k: n_features + k for k in range(n_out)})
    new_id.update({h: n_features + n_out + j for j, h in enumerate(hidden)})
    pairs = sorted(((new_id[g.src], new_id[g.dst]), g.key) for g in genome.enabled() if g.src in new_id)
    outputs = genome.ids("output")
    activation = genome.nodes[outputs[0]].activation if outputs else "linear"
    layer = NeuronGraph(n_features, n_out, tuple((new_id[h], genome.nodes[h].activation) for h in hidden),
                        tuple(p for p, _ in pairs), activation)
    return layer, [key for _, key in pairs], hidden + outputs


def _neuron_graph(spec: NetSpec) -> NeuronGraph:
    layers = [n.layer for n in spec.nodes if isinstance(n.layer, NeuronGraph)]
    if len(layers) != 1:
        raise GenotypeError(f"spec={spec!r} is invalid: expected the decoding of a NEAT genome (one neuron_graph)")
    return layers[0]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(genome: NEATGenome, x: Any, task: str | None = None) -> np.ndarray:
    """Vectorised NumPy forward pass: the genome's outputs ``(batch, n_outputs)`` for samples
    ``x`` ``(batch, ...)`` (flattened); with ``task="classification"`` the softmax of them, as
    the decoded Keras model gives. No Keras, so it suits fast fitness functions (XOR, control)."""
    x = np.asarray(x, dtype=np.float64)
    x = x.reshape(len(x), -1)
    layer, keys, bias_ids = layout(genome, x.shape[1])
    out = layer.forward(x, [genome.connections[k].weight for k in keys], [genome.nodes[i].bias for i in bias_ids])
    return _softmax(out) if task == "classification" else out


class NEAT(Encoding):
    """NEAT's graph encoding (Stanley & Miikkulainen 2002), feed-forward.

    Args:
        n_inputs, n_outputs: neurons; None (the default) sizes them from the data in
            ``check_input`` (inputs = flattened features, outputs = the data's outputs). A given
            ``n_inputs`` is kept whatever the data: input neuron ``i`` reads feature ``i``, inputs
            beyond the features read 0 and extra features are ignored. A given ``n_outputs``
            must match the data's.
        c1, c2, c3: compatibility distance coefficients of excess genes, disjoint genes and the
            mean weight difference of matching genes.
        add_node_rate, add_connection_rate: chance per mutation of each structural mutation.
        weight_mutation_rate: chance per mutation that the weights and biases are mutated.
        weight_perturb_std: standard deviation of a weight perturbation.
        weight_replace_rate: chance that a mutated weight is drawn anew instead of perturbed.
        weight_init_std: standard deviation of new weights (initial and replaced).
        hidden_activation: activation of new hidden neurons.
        output_activation: activation of the output neurons ("linear": logits, before the softmax
            of classification).
        initial_connection: "full" (every input to every output) or "sparse" (each output to one
            random input): the minimal topology random genomes start from.
        finetune: if True, candidates are trained from their genes' weights (``trains``) and the
            trained weights are written back into the genes (Lamarckian, through ``inherit``);
            if False (NEAT), candidates are scored with their genes' weights as they are.
    """

    name = "graph"
    trains = False

    def __init__(self, n_inputs: int | None = None, n_outputs: int | None = None, c1: float = 1.0, c2: float = 1.0,
                 c3: float = 0.4, add_node_rate: float = 0.03, add_connection_rate: float = 0.05,
                 weight_mutation_rate: float = 0.8, weight_perturb_std: float = 0.5, weight_replace_rate: float = 0.1,
                 weight_init_std: float = 1.0, hidden_activation: str = "tanh", output_activation: str = "linear",
                 initial_connection: str = "full", finetune: bool = False):
        self.n_inputs = None if n_inputs is None else check_int("n_inputs", n_inputs, minimum=1)
        self.n_outputs = None if n_outputs is None else check_int("n_outputs", n_outputs, minimum=1)
        self.c1 = check_float("c1", c1, minimum=0.0)
        self.c2 = check_float("c2", c2, minimum=0.0)
        self.c3 = check_float("c3", c3, minimum=0.0)
        for name, value in (("add_node_rate", add_node_rate), ("add_connection_rate", add_connection_rate),
                            ("weight_mutation_rate", weight_mutation_rate),
                            ("weight_replace_rate", weight_replace_rate)):
            setattr(self, name, check_float(name, value, minimum=0.0, maximum=1.0))
        self.weight_perturb_std = check_float("weight_perturb_std", weight_perturb_std, minimum=0.0)
        self.weight_init_std = check_float("weight_init_std", weight_init_std, minimum=0.0)
        self.hidden_activation = check_choice("hidden_activation", hidden_activation, NODE_ACTIVATIONS)
        self.output_activation = check_choice("output_activation", output_activation, NODE_ACTIVATIONS)
        self.initial_connection = check_choice("initial_connection", initial_connection, INITIAL_CONNECTIONS)
        if not isinstance(finetune, bool):
            raise ConfigError(f"finetune={finetune!r} is invalid: expected True or False")
        self.finetune = finetune
        self.trains = finetune
        self.tracker = TRACKER
        self.n_inputs_ = self.n_inputs
        self.n_outputs_ = self.n_outputs

    # -- sizing and sampling -------------------------------------------------------------------

    def check_input(self, input_shape: tuple[int, ...], n_outputs: int, task: str) -> None:
        check_choice("task", task, TASKS)
        features = math.prod(input_shape)
        if self.n_outputs is not None and n_outputs != self.n_outputs:
            raise ConfigError(f"data with {n_outputs} outputs is invalid for this encoding: it was given "
                              f"n_outputs={self.n_outputs}")
        self.n_inputs_ = features if self.n_inputs is None else self.n_inputs
        self.n_outputs_ = n_outputs if self.n_outputs is None else self.n_outputs

    def sizes(self) -> tuple[int, int]:
        """``(n_inputs, n_outputs)`` of this encoding's genomes."""
        if self.n_inputs_ is None or self.n_outputs_ is None:
            raise ConfigError("n_inputs=None is invalid here: call check_input(input_shape, n_outputs, task) with "
                              "the data first, or pass n_inputs and n_outputs")
        return self.n_inputs_, self.n_outputs_

    def random(self, rng: Any = None) -> NEATGenome:
        """A minimal genome (no hidden neurons), weights ~ N(0, weight_init_std), biases 0."""
        rng = rng_or_global(rng)
        n_in, n_out = self.sizes()
        nodes = {i: NodeGene(i, "input") for i in range(n_in)}
        nodes.update({n_in + k: NodeGene(n_in + k, "output", self.output_activation) for k in range(n_out)})
        if self.initial_connection == "full":
            pairs = [(i, n_in + k) for i in range(n_in) for k in range(n_out)]
        else:
            pairs = sorted({(rng.randrange(n_in), n_in + k) for k in range(n_out)})
        connections = {(s, d): ConnectionGene(s, d, rng.gauss(0.0, self.weight_init_std), True,
                                              self.tracker.innovation(s, d)) for s, d in pairs}
        return NEATGenome(nodes, connections)

    # -- decoding and weights --------------------------------------------------------------------

    def decode(self, genotype: NEATGenome, input_shape: tuple[int, ...], n_outputs: int,
               task: str = "classification") -> NetSpec:
        check_genome(genotype, self.tracker)
        check_choice("task", task, TASKS)
        if genotype.n_outputs != n_outputs:
            raise GenotypeError(f"genotype with {genotype.n_outputs} output nodes is invalid for data with "
                                f"{n_outputs} outputs")
        g = Graph(input_shape)
        x = g.input if len(g.input_shape) == 1 else g.add(Flatten(), g.input)
        x = g.add(layout(genotype, g.shape(x)[0])[0], x)
        if task == "classification":
            x = g.add(Activation("softmax"), x)
        return g.finish(x)

    def weights(self, genotype: NEATGenome, spec: NetSpec) -> list[np.ndarray]:
        """``[kernel, bias]`` of the spec's neuron graph, from the genes (float32)."""
        layer, keys, bias_ids = layout(genotype, _neuron_graph(spec).n_inputs)
        if layer != _neuron_graph(spec):
            raise GenotypeError("genotype is invalid for this spec: it decodes into a different neuron graph")
        return [np.array([genotype.connections[k].weight for k in keys], dtype=np.float32),
                np.array([genotype.nodes[i].bias for i in bias_ids], dtype=np.float32)]

    def inherit(self, genotype: NEATGenome, evaluation: Any) -> None:
        """With ``finetune``, write the trained weights back into the genes (Lamarckian)."""
        if not self.finetune or evaluation.weights is None or evaluation.spec is None:
            return
        layer, keys, bias_ids = layout(genotype, _neuron_graph(evaluation.spec).n_inputs)
        kernel, bias = evaluation.weights
        if layer != _neuron_graph(evaluation.spec) or len(kernel) != len(keys) or len(bias) != len(bias_ids):
            return  # not this genome's network
        for key, w in zip(keys, kernel):
            genotype.connections[key].weight = float(w)
        for node, b in zip(bias_ids, bias):
            genotype.nodes[node].bias = float(b)

    def forward(self, genotype: NEATGenome, x: Any, task: str | None = None) -> np.ndarray:
        """NumPy forward pass of a genome (see :func:`forward`)."""
        check_genome(genotype, self.tracker)
        return forward(genotype, x, task)

    # -- variation, distance, display ------------------------------------------------------------

    def register(self, toolbox: base.Toolbox) -> None:
        from evokit.operators import neat  # the operators import this module's genome types

        neat.register(toolbox, tracker=self.tracker, add_node_rate=self.add_node_rate,
                      add_connection_rate=self.add_connection_rate, weight_mutation_rate=self.weight_mutation_rate,
                      weight_perturb_std=self.weight_perturb_std, weight_replace_rate=self.weight_replace_rate,
                      weight_init_std=self.weight_init_std, hidden_activation=self.hidden_activation)

    def distance(self, a: NEATGenome, b: NEATGenome) -> float:
        """NEAT's compatibility distance ``c1 E / N + c2 D / N + c3 W``: E excess and D disjoint
        connection genes, W the mean weight difference of matching genes, N the larger genome's
        number of connection genes (1 below ``SMALL_GENOME`` genes)."""
        excess, disjoint, weight = compatibility(a, b)
        n = max(len(a.connections), len(b.connections))
        n = 1 if n < SMALL_GENOME else n
        return self.c1 * excess / n + self.c2 * disjoint / n + self.c3 * weight

    def describe(self, genotype: NEATGenome) -> str:
        return (f"NEAT {len(genotype.ids('hidden'))} hidden / "
                f"{sum(g.enabled for g in genotype.connections.values())} enabled connections")

    def to_json(self, genotype: NEATGenome) -> dict[str, Any]:
        return {"nodes": [vars(genotype.nodes[i]).copy() for i in sorted(genotype.nodes)],
                "connections": [vars(genotype.connections[k]).copy() for k in sorted(genotype.connections)]}

    def from_json(self, data: dict[str, Any]) -> NEATGenome:
        try:
            nodes = {n["id"]: NodeGene(**n) for n in data["nodes"]}
            genes = [ConnectionGene(**c) for c in data["connections"]]
        except (KeyError, TypeError) as exc:
            raise GenotypeError(f"data is invalid: expected nodes and connections as to_json writes them "
                                f"({exc})") from None
        genome = NEATGenome(nodes, {g.key: g for g in genes})
        if len(genome.connections) != len(genes):
            raise GenotypeError("connections is invalid: a (src, dst) pair appears twice")
        check_genome(genome, self.tracker)
        return genome


def compatibility(a: NEATGenome, b: NEATGenome) -> tuple[int, int, float]:
    """(excess, disjoint, mean |weight difference| of matching) connection genes of two genomes.

    Genes match when they connect the same pair (hence have the same innovation number); an
    unmatched gene is excess if its innovation number is above every number of the other
    genome, disjoint otherwise."""
    ca, cb = a.connections, b.connections
    top_a = max((g.innovation for g in ca.values()), default=-1)
    top_b = max((g.innovation for g in cb.values()), default=-1)
    excess = disjoint = 0
    for key in ca.keys() ^ cb.keys():
        gene, other_top = (ca[key], top_b) if key in ca else (cb[key], top_a)
        if gene.innovation > other_top:
            excess += 1
        else:
            disjoint += 1
    matching = ca.keys() & cb.keys()
    weight = sum(abs(ca[k].weight - cb[k].weight) for k in matching) / len(matching) if matching else 0.0
    return excess, disjoint, weight


def copy_genome(genome: NEATGenome) -> NEATGenome:
    """A deep copy of the genes (the fitness is not copied)."""
    return NEATGenome(copy.deepcopy(genome.nodes), copy.deepcopy(genome.connections))
