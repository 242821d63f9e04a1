"""NEAT's graph encoding: sampling, decoding, weights and JSON of NEAT genomes.

A genome is a feed-forward network of single neurons. Its node genes are the input neurons
(ids ``0 .. n_inputs - 1``, one per flattened feature), the output neurons (ids ``n_inputs ..
n_inputs + n_outputs - 1``) and hidden neurons; its connection genes carry a weight, an enabled
bit and an innovation number. Weights are evolved (and, with ``finetune=True``, fine-tuned by
backpropagation and written back: Lamarckian evolution). A genome decodes into one
``NeuronGraph`` layer (``evokit.netspec.neurons``), after a Flatten for non-flat inputs and before
a softmax for classification; the connection weights and biases travel with it as the
candidate's weights.

The genome vocabulary (genes, ``NEATGenome``, ``InnovationTracker``, ``check_genome``,
``compatibility``) lives in ``evokit.operators.neat_genome``, below both this encoding and its
operators; it is re-exported here, so ``from evokit.encodings.graph import NEATGenome`` and
pickles written when it was defined here keep working.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from deap import base

from evokit.encodings.base import TASKS, Encoding, rng_or_global
from evokit.encodings.graph_distance import compatibility_table
from evokit.encodings.graph_population import run_population, schedule
from evokit.encodings.graph_program import program
from evokit.errors import ConfigError, GenotypeError, check_choice, check_float, check_int
from evokit.netspec import Activation, Flatten, Graph, NetSpec
from evokit.netspec.neurons import NODE_ACTIVATIONS, NeuronGraph
from evokit.operators import neat as neat_operators
from evokit.operators.neat_genome import (KINDS, LEVEL_SHIFT, SMALL_GENOME, TRACKER, ConnectionGene, InnovationTracker,
                                          NEATGenome, NodeGene, check_genome, compatibility, compatibility_distance,
                                          copy_genome, find_cycle_edge, gene_state, reachable)

INITIAL_CONNECTIONS = ("full", "sparse")
MAX_INPUTS = 4096
"""The most input features a genome may have (one input neuron each; 32x32x3 images have 3072):
larger data (256x256 images) is refused by ``check_input`` rather than making genomes of hundreds
of thousands of genes. Downscale such images, or search them with a convolutional encoding."""


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
    the decoded Keras model gives. No Keras, so it suits fast fitness functions (XOR, control).

    The genome's structure is compiled once into an array program and cached by structure
    (``evokit.encodings.graph_program``); the outputs are bitwise those of
    :func:`reference_forward`, which lays the genome out anew on every call."""
    x = np.asarray(x, dtype=np.float64)
    x = x.reshape(len(x), -1)
    out = program(genome, x.shape[1], layout).run(genome, x)
    return _softmax(out) if task == "classification" else out


def forward_population(genomes: list[NEATGenome], x: Any, task: str | None = None) -> np.ndarray:
    """:func:`forward` of many genomes on the same samples ``x``, as one array ``(len(genomes),
    batch, n_outputs)`` (the genomes share their number of outputs, as one encoding's do).

    Each genome's structure is compiled once and cached, as for :func:`forward`; then each
    phase (level and activation) of every genome runs in the same few NumPy calls
    (``evokit.encodings.graph_population``): on XOR, 150 evolved genomes cost about what 40
    calls of :func:`forward` do. Equal to :func:`forward` per genome up to rounding."""
    x = np.asarray(x, dtype=np.float64)
    x = x.reshape(len(x), -1)
    schedules = [schedule(genome, x.shape[1]) for genome in genomes]
    sizes = sorted({len(s.outputs) for s in schedules})
    if len(sizes) > 1:
        raise GenotypeError(f"genomes is invalid: they have {sizes} output neurons; forward_population runs "
                            "genomes with one number of outputs")
    out = run_population(schedules, genomes, x)
    return _softmax(out.reshape(-1, out.shape[2])).reshape(out.shape) if task == "classification" else out


def reference_forward(genome: NEATGenome, x: Any, task: str | None = None) -> np.ndarray:
    """:func:`forward` without the program cache: ``layout`` and ``NeuronGraph.forward`` on
    every call (the definition the compiled forward pass is tested against)."""
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
        if self.n_inputs is None and features > MAX_INPUTS:
            raise ConfigError(f"data of shape {tuple(input_shape)} is invalid for NEAT: {features} input features, "
                              f"one input neuron each; at most {MAX_INPUTS} (MAX_INPUTS). Downscale the images "
                              "(e.g. datasets.from_image_folder(path, size=(32, 32))) or use a convolutional encoding")
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
        neat_operators.register(toolbox, tracker=self.tracker, add_node_rate=self.add_node_rate,
                      add_connection_rate=self.add_connection_rate, weight_mutation_rate=self.weight_mutation_rate,
                      weight_perturb_std=self.weight_perturb_std, weight_replace_rate=self.weight_replace_rate,
                      weight_init_std=self.weight_init_std, hidden_activation=self.hidden_activation)
        toolbox.register("distances", self.distances)

    def distance(self, a: NEATGenome, b: NEATGenome) -> float:
        """NEAT's compatibility distance ``c1 E / N + c2 D / N + c3 W``: E excess and D disjoint
        connection genes, W the mean weight difference of matching genes, N the larger genome's
        number of connection genes (1 below ``SMALL_GENOME`` genes)."""
        return compatibility_distance(a, b, self.c1, self.c2, self.c3)

    def distances(self, rows: list[NEATGenome], columns: list[NEATGenome]) -> np.ndarray:
        """:meth:`distance` of every genome in ``rows`` to every one in ``columns``, as one array
        (``compatibility_matrix``'s values, by ``evokit.encodings.graph_distance``): NEAT's
        speciation reads it as the toolbox's ``distances``."""
        return compatibility_table(rows, columns, self.c1, self.c2, self.c3)

    def describe(self, genotype: NEATGenome) -> str:
        return (f"NEAT {len(genotype.ids('hidden'))} hidden / "
                f"{sum(g.enabled for g in genotype.connections.values())} enabled connections")

    def to_json(self, genotype: NEATGenome) -> dict[str, Any]:
        # gene_state, not vars: a gene subclass's vars hides the fields (see gene_state)
        return {"nodes": [gene_state(genotype.nodes[i]) for i in sorted(genotype.nodes)],
                "connections": [gene_state(genotype.connections[k]) for k in sorted(genotype.connections)]}

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


# the genome vocabulary of evokit.operators.neat_genome is re-exported, for old imports and pickles
__all__ = ["INITIAL_CONNECTIONS", "KINDS", "LEVEL_SHIFT", "NEAT", "SMALL_GENOME", "TRACKER", "ConnectionGene",
           "InnovationTracker", "NEATGenome", "NodeGene", "check_genome", "compatibility", "compatibility_distance",
           "copy_genome", "find_cycle_edge", "forward", "forward_population", "layout", "reachable", "reference_forward"]
