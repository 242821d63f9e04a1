"""NEAT's variation operators for ``NEATGenome`` (``evokit.operators.neat_genome``): add-node,
add-connection, weight mutation, and crossover aligned by innovation numbers.

They follow DEAP's contract (change individuals in place and return them: as a tuple, or as a
list for the batch operators ``mutWeightsBatch`` and ``mutNEATBatch``) and draw randomness from
``rng`` (Python's ``random`` module by default, like DEAP's operators). Genomes stay
feed-forward: no operator ever closes a cycle, counting disabled genes too (so re-enabling a
gene is always safe). New genes take their innovation numbers and hidden-node ids from the
``tracker`` (an :class:`~evokit.operators.neat_genome.InnovationTracker`), which derives them from
structure alone.
"""
from __future__ import annotations

import copy
import random as _random
from itertools import chain, compress, repeat
from operator import attrgetter, itemgetter, ne
from typing import Any

import numpy as np
from deap import base as deap_base

from evokit.errors import GenotypeError
from evokit.operators.neat_genome import (TRACKER, ConnectionGene, InnovationTracker, NEATGenome, NodeGene,
                                          check_genome, copy_fitness, reachable)

DISABLE_RATE = 0.75
"""NEAT's chance that an inherited gene disabled in either parent stays disabled."""


def _rng(rng: Any) -> Any:
    return _random if rng is None else rng


# -- structural mutations ---------------------------------------------------------------------

def mutAddNode(individual: NEATGenome, tracker: InnovationTracker = TRACKER, activation: str = "tanh",
               rng: Any = None) -> tuple[NEATGenome]:
    """Split a random enabled connection ``a -> b``: disable it, add a hidden node ``n`` (bias 0)
    and the connections ``a -> n`` (weight 1) and ``n -> b`` (the old weight).

    The new node's id is ``tracker.node_id(a, b)``; connections whose split node the genome
    already has are not split again. Without any connection to split, nothing changes. For a
    linear hidden activation the network computes exactly what it computed before.
    """
    rng = _rng(rng)
    conns = individual.connections
    candidates = [k for k in sorted(conns) if conns[k].enabled and tracker.node_id(*k) not in individual.nodes]
    if not candidates:
        return (individual,)
    src, dst = rng.choice(candidates)
    old = conns[(src, dst)]
    old.enabled = False
    node = tracker.node_id(src, dst)
    individual.nodes[node] = NodeGene(node, "hidden", activation, 0.0)
    conns[(src, node)] = ConnectionGene(src, node, 1.0, True, tracker.innovation(src, node))
    conns[(node, dst)] = ConnectionGene(node, dst, old.weight, True, tracker.innovation(node, dst))
    return (individual,)


def addable_connections(individual: NEATGenome) -> list[tuple[int, int]]:
    """Every ``(src, dst)`` a new connection may join: from an input or hidden node to a hidden
    or output node, not yet a gene (enabled or not), and closing no cycle; sorted."""
    nodes = individual.nodes
    sources = sorted(i for i, n in nodes.items() if n.kind != "output")
    targets = sorted(i for i, n in nodes.items() if n.kind != "input")
    # descendants[t]: nodes reachable from t (t included); s -> t closes a cycle iff s is one of them
    descendants = {t: reachable(individual.connections, t) for t in targets if nodes[t].kind == "hidden"}
    return [(s, t) for t in targets for s in sources
            if s != t and (s, t) not in individual.connections and s not in descendants.get(t, ())]


def mutAddConnection(individual: NEATGenome, tracker: InnovationTracker = TRACKER, weight_std: float = 1.0,
                     rng: Any = None) -> tuple[NEATGenome]:
    """Add a random feed-forward connection (see :func:`addable_connections`) with a weight drawn
    from N(0, ``weight_std``). Without any such connection, nothing changes."""
    rng = _rng(rng)
    candidates = addable_connections(individual)
    if candidates:
        src, dst = rng.choice(sorted(candidates))
        individual.connections[(src, dst)] = ConnectionGene(src, dst, rng.gauss(0.0, weight_std), True,
                                                            tracker.innovation(src, dst))
    return (individual,)


# -- weights ----------------------------------------------------------------------------------

def mutWeights(individual: NEATGenome, perturb_std: float = 0.5, replace_rate: float = 0.1, init_std: float = 1.0,
               indpb: float = 1.0, rng: Any = None) -> tuple[NEATGenome]:
    """Mutate each connection weight and each hidden/output bias with probability ``indpb``: drawn
    anew from N(0, ``init_std``) with probability ``replace_rate``, else perturbed by
    N(0, ``perturb_std``)."""
    rng = _rng(rng)
    uniform, gauss = rng.random, rng.gauss  # bound once: this loop is much of NEAT's cost

    every = indpb >= 1.0
    connections, nodes = individual.connections, individual.nodes
    for key in sorted(connections):
        if every or uniform() < indpb:
            gene = connections[key]
            gene.weight = gauss(0.0, init_std) if uniform() < replace_rate else gene.weight + gauss(0.0, perturb_std)
    for node_id in sorted(nodes):
        node = nodes[node_id]
        if node.kind != "input" and (every or uniform() < indpb):
            node.bias = gauss(0.0, init_std) if uniform() < replace_rate else node.bias + gauss(0.0, perturb_std)
    return (individual,)


def mutWeightsBatch(individuals: list[NEATGenome], perturb_std: float = 0.5, replace_rate: float = 0.1,
                    init_std: float = 1.0, rng: Any = None) -> list[NEATGenome]:
    """:func:`mutWeights` (``indpb=1``) of many genomes with one NumPy draw for all their weights
    and biases: the same distribution, another random stream. One ``random.gauss`` per gene was a
    fifth of NEAT's run time on XOR.

    ``individuals`` must be distinct genomes sharing no gene object (as clones and crossover
    children are): a gene held twice would be mutated twice. Returns them (a list), changed in
    place. The draw comes from a NumPy generator seeded from ``rng``: ``rng.getrandbits(64)``
    where ``rng`` has it (``random`` and ``random.Random``), else ``int(rng.random() * 2**53)``.
    The same ``rng`` state gives the same weights, across a checkpoint and resume too, in the same
    environment; NumPy does not promise its generators' streams across its versions."""
    rng = _rng(rng)
    genes = list(chain.from_iterable(ind.connections.values() for ind in individuals))
    nodes = list(chain.from_iterable(ind.nodes.values() for ind in individuals))
    nodes = list(compress(nodes, map(ne, map(_KIND, nodes), repeat("input"))))  # inputs have no bias
    values = np.fromiter(chain(map(_WEIGHT, genes), map(_BIAS, nodes)), dtype=np.float64,
                         count=len(genes) + len(nodes))
    generator = np.random.default_rng(_seed(rng))
    replace = generator.random(len(values)) < replace_rate
    noise = generator.standard_normal(len(values))
    new = np.where(replace, noise * init_std, values + noise * perturb_std).tolist()
    for gene, weight in zip(genes, new):
        gene.weight = weight
    for node, bias in zip(nodes, new[len(genes):]):
        node.bias = bias
    return individuals


def _seed(rng: Any) -> int:
    """A seed for a NumPy generator from ``rng``: 64 random bits where it gives them, else 53."""
    getrandbits = getattr(rng, "getrandbits", None)
    return getrandbits(64) if getrandbits is not None else int(rng.random() * 2**53)


_WEIGHT, _BIAS = attrgetter("weight"), attrgetter("bias")


def mutNEAT(individual: NEATGenome, tracker: InnovationTracker = TRACKER, add_node_rate: float = 0.03,
            add_connection_rate: float = 0.05, weight_mutation_rate: float = 0.8, weight_perturb_std: float = 0.5,
            weight_replace_rate: float = 0.1, weight_init_std: float = 1.0, hidden_activation: str = "tanh",
            rng: Any = None) -> tuple[NEATGenome]:
    """NEAT's mutation: add a node, add a connection, mutate the weights, each with its rate."""
    rng = _rng(rng)
    if rng.random() < add_node_rate:
        mutAddNode(individual, tracker, hidden_activation, rng=rng)
    if rng.random() < add_connection_rate:
        mutAddConnection(individual, tracker, weight_init_std, rng=rng)
    if rng.random() < weight_mutation_rate:
        mutWeights(individual, weight_perturb_std, weight_replace_rate, weight_init_std, rng=rng)
    return (individual,)


def mutNEATBatch(individuals: list[NEATGenome], tracker: InnovationTracker = TRACKER, add_node_rate: float = 0.03,
                 add_connection_rate: float = 0.05, weight_mutation_rate: float = 0.8,
                 weight_perturb_std: float = 0.5, weight_replace_rate: float = 0.1, weight_init_std: float = 1.0,
                 hidden_activation: str = "tanh", rng: Any = None) -> list[NEATGenome]:
    """:func:`mutNEAT` of every genome in ``individuals`` (in place; returns them, a list): the
    structural mutations genome by genome, then the weights of all genomes picked for weight
    mutation in one :func:`mutWeightsBatch`. Each genome mutates as ``mutNEAT`` would mutate it,
    in distribution, not draw for draw.

    As for :func:`mutWeightsBatch`: ``individuals`` must be distinct and share no gene object,
    ``rng`` needs what :func:`mutNEAT`'s needs (``getrandbits`` only where it has it), and the
    weights' NumPy stream is exact across a resume in the same environment, not across NumPy
    versions."""
    rng = _rng(rng)
    weighted = []
    for individual in individuals:
        if rng.random() < add_node_rate:
            mutAddNode(individual, tracker, hidden_activation, rng=rng)
        if rng.random() < add_connection_rate:
            mutAddConnection(individual, tracker, weight_init_std, rng=rng)
        if rng.random() < weight_mutation_rate:
            weighted.append(individual)
    mutWeightsBatch(weighted, weight_perturb_std, weight_replace_rate, weight_init_std, rng=rng)
    return individuals


def mutate_batch(toolbox: Any, individuals: list[NEATGenome]) -> list[NEATGenome]:
    """``toolbox.mutate`` of every individual: the mutated individuals (its first result for each,
    in order). While it is :func:`mutNEAT`, one :func:`mutNEATBatch` with its arguments (in
    place), else one call each (``register`` binds it as ``toolbox.mutate_batch``; NEAT's search
    mutates a generation's offspring with it)."""
    mutate = toolbox.mutate
    if getattr(mutate, "func", None) is mutNEAT and not mutate.args:
        return mutNEATBatch(individuals, **mutate.keywords)
    return [mutate(individual)[0] for individual in individuals]


# -- crossover --------------------------------------------------------------------------------

def fitter(ind1: Any, ind2: Any) -> int:
    """1 or 2 when that individual's fitness dominates the other's; 0 when neither does or
    either fitness is missing or invalid (treated as equal)."""
    f1, f2 = getattr(ind1, "fitness", None), getattr(ind2, "fitness", None)
    if f1 is None or f2 is None or not f1.valid or not f2.valid:
        return 0
    if type(f1).dominates is _DOMINATES and len(f1.wvalues) == 1 == len(f2.wvalues):
        a, b = f1.wvalues[0], f2.wvalues[0]  # DEAP's dominance of one objective, without its loop
        return 1 if a > b else 2 if b > a else 0
    return 1 if f1.dominates(f2) else 2 if f2.dominates(f1) else 0


_DOMINATES = deap_base.Fitness.dominates
_INNOVATION, _KIND, _SECOND = attrgetter("innovation"), attrgetter("kind"), itemgetter(1)


def _by_innovation(genes: dict[tuple[int, int], ConnectionGene]) -> list[tuple[int, int]]:
    """The keys of ``genes`` by innovation number, then by key (in C: no Python call per gene)."""
    return list(map(_SECOND, sorted(zip(map(_INNOVATION, genes.values()), genes))))


def _child(first: NEATGenome, second: NEATGenome, structure: str, disable_rate: float,
           rng: Any) -> tuple[dict[int, NodeGene], dict[tuple[int, int], ConnectionGene]]:
    """One child's genes. ``structure`` says whose disjoint and excess genes it takes: "first",
    "second" or "both" (equal fitness: ``first``'s, then ``second``'s that close no cycle)."""
    c1, c2 = first.connections, second.connections
    uniform = rng.random  # a fair coin per matching gene: cheaper than rng.choice
    if structure != "both":
        own, other = (c1, c2) if structure == "first" else (c2, c1)
        connections = _inherit(own, other, structure == "first", disable_rate, uniform)
        own_nodes, other_nodes = (first.nodes, second.nodes) if structure == "first" else (second.nodes, first.nodes)
        used = set(chain.from_iterable(connections))  # both nodes of every connection
        if used.issubset(own_nodes):  # always, for a valid ``own``
            return _inherit_nodes(own_nodes, other_nodes, used, structure == "first", uniform), connections
        return _child_nodes(first.nodes, second.nodes, connections, uniform), connections
    if structure == "second":
        order = _by_innovation(c2)
    else:
        order = _by_innovation(c1)
        if structure == "both":
            order += [k for k in _by_innovation(c2) if k not in c1]
    safe = c2 if structure == "second" else c1  # one parent's genes form no cycle
    connections: dict[tuple[int, int], ConnectionGene] = {}
    for key in order:
        g1, g2 = c1.get(key), c2.get(key)
        if key not in safe and key[0] in reachable(connections, key[1]):
            continue  # the other parent's gene would close a cycle here
        if g1 is not None and g2 is not None:
            gene = g1 if uniform() < 0.5 else g2
            disabled = not (g1.enabled and g2.enabled)
        else:
            gene = g2 if g1 is None else g1
            disabled = not gene.enabled
        connections[key] = _copy_connection(gene, rng.random() >= disable_rate if disabled else gene.enabled)
    return _child_nodes(first.nodes, second.nodes, connections, uniform), connections


def _inherit(own: dict[tuple[int, int], ConnectionGene], other: dict[tuple[int, int], ConnectionGene],
             own_first: bool, disable_rate: float, uniform: Any) -> dict[tuple[int, int], ConnectionGene]:
    """A child's connection genes when one parent's genes (``own``) give its structure: every one
    of them, in order of innovation, each matching gene from a random parent (a draw below 0.5
    picks the first parent's: ``own`` if ``own_first``). ``own`` forms no cycle, so no gene
    needs the cycle check of the other case; the draws are those of the general case."""
    connections = {}
    get = other.get
    for _, key, gene in sorted(zip(map(_INNOVATION, own.values()), own, own.values())):  # by innovation, then key
        match = get(key)
        if match is None:
            enabled = gene.enabled or uniform() >= disable_rate
        else:
            if (uniform() < 0.5) is not own_first:
                gene, match = match, gene
            enabled = (gene.enabled and match.enabled) or uniform() >= disable_rate
        connections[key] = _copy_connection(gene, enabled)
    return connections


def _copy_connection(gene: ConnectionGene, enabled: bool) -> ConnectionGene:
    """A copy of ``gene`` with ``enabled`` (a plain gene made directly: ``copy.copy``'s generic
    protocol dominated crossover's cost; a subclass copied with it)."""
    if type(gene) is ConnectionGene:
        return ConnectionGene(gene.src, gene.dst, gene.weight, enabled, gene.innovation)
    gene = copy.copy(gene)
    gene.enabled = enabled
    return gene


def _copy_node(node: NodeGene) -> NodeGene:
    """A copy of ``node`` (made directly where it is a plain gene, as :func:`_copy_connection`)."""
    if type(node) is NodeGene:
        return NodeGene(node.id, node.kind, node.activation, node.bias)
    return copy.copy(node)


def _child_nodes(n1: dict[int, NodeGene], n2: dict[int, NodeGene],
                 connections: dict[tuple[int, int], ConnectionGene], uniform: Any) -> dict[int, NodeGene]:
    """A child's nodes: ``n1``'s inputs and outputs and both nodes of every connection, each
    copied from a random parent where both have it (in order of id)."""
    wanted = set(chain.from_iterable(connections))  # both nodes of every connection
    wanted.update(compress(n1, map(ne, map(_KIND, n1.values()), repeat("hidden"))))  # inputs, outputs
    nodes = {}
    get1, get2 = n1.get, n2.get
    for node_id in sorted(wanted):
        a, b = get1(node_id), get2(node_id)
        node = b if a is None else a if b is None or uniform() < 0.5 else b
        nodes[node_id] = _copy_node(node)
    return nodes


def _inherit_nodes(own: dict[int, NodeGene], other: dict[int, NodeGene], used: set[int], own_first: bool,
                   uniform: Any) -> dict[int, NodeGene]:
    """:func:`_child_nodes` when one parent's nodes (``own``) hold every node of the child's
    connections (``used``: their ids): ``own``'s inputs, outputs and connected hidden nodes, in
    order of id, each copied from a random parent where both have it (a draw below 0.5 picks the
    first parent's): the same nodes and draws, without gathering the wanted ids from both
    parents first."""
    nodes = {}
    get = other.get
    for node_id in sorted(own):
        node = own[node_id]
        if node.kind == "hidden" and node_id not in used:
            continue
        match = get(node_id)
        if match is not None and (uniform() < 0.5) is not own_first:
            node = match
        nodes[node_id] = _copy_node(node)
    return nodes


def _sizes(individual: NEATGenome) -> tuple[int, int]:
    """``(n_inputs, n_outputs)`` in one pass over the nodes."""
    kinds = list(map(_KIND, individual.nodes.values()))
    return kinds.count("input"), kinds.count("output")


def cxNEAT(ind1: NEATGenome, ind2: NEATGenome, disable_rate: float = DISABLE_RATE,
           rng: Any = None) -> tuple[NEATGenome, NEATGenome]:
    """NEAT crossover: genes aligned by innovation number (the same ``(src, dst)``).

    Matching genes are inherited from either parent at random; disjoint and excess genes from
    the fitter parent (by Pareto dominance of the fitnesses), or from both when neither is fitter
    (the first child prefers ``ind1``'s genes, the second ``ind2``'s, and a gene of the other
    parent that would close a cycle is left out). A gene disabled in either parent stays
    disabled with probability ``disable_rate``. ``ind1`` becomes the first child, ``ind2`` the
    second (roles swapped); both are valid feed-forward genomes.
    """
    rng = _rng(rng)
    if _sizes(ind1) != _sizes(ind2):
        raise GenotypeError(f"ind2 with {ind2.n_inputs} inputs and {ind2.n_outputs} outputs is invalid: ind1 has "
                            f"{ind1.n_inputs} and {ind1.n_outputs}")
    best = fitter(ind1, ind2)
    first = _child(ind1, ind2, {0: "both", 1: "first", 2: "second"}[best], disable_rate, rng)
    second = _child(ind2, ind1, {0: "both", 1: "second", 2: "first"}[best], disable_rate, rng)
    ind1.nodes, ind1.connections = first
    ind2.nodes, ind2.connections = second
    return ind1, ind2


def register(toolbox: Any, tracker: InnovationTracker = TRACKER, disable_rate: float = DISABLE_RATE,
             **rates: Any) -> None:
    """Register ``mate`` (:func:`cxNEAT`) and ``mutate`` (:func:`mutNEAT` with ``rates``, its
    keyword arguments) in a DEAP toolbox, with ``crossover`` (:func:`crossover_copies`) and
    ``mutate_batch`` (:func:`mutate_batch`); ``NEAT.register`` calls it with the encoding's rates."""
    unknown = sorted(set(rates) - set(mutNEAT.__code__.co_varnames[2:mutNEAT.__code__.co_argcount]) - {"rng"})
    if unknown:
        raise TypeError(f"register() got unknown rates {unknown}: expected keyword arguments of mutNEAT")
    toolbox.register("mate", cxNEAT, disable_rate=disable_rate)
    toolbox.register("mutate", mutNEAT, tracker=tracker, **rates)
    toolbox.register("crossover", crossover_copies, toolbox)
    toolbox.register("mutate_batch", mutate_batch, toolbox)


def crossover_copies(toolbox: Any, ind1: NEATGenome, ind2: NEATGenome) -> tuple[NEATGenome, NEATGenome]:
    """``toolbox.mate(toolbox.clone(ind1), toolbox.clone(ind2))``: two new children, the parents
    unchanged (``register`` binds it as ``toolbox.crossover``; NEAT's search uses it).

    While ``toolbox.mate`` is :func:`cxNEAT`, which only reads its arguments' genes and then
    replaces them wholesale, the children start as shallow copies (their own fitness, the
    parents' gene dicts): the same children, without copying genes only to throw them away."""
    mate = toolbox.mate
    if getattr(mate, "func", None) is cxNEAT and _plain(ind1) and _plain(ind2):
        return mate(_shallow(ind1), _shallow(ind2))
    return mate(toolbox.clone(ind1), toolbox.clone(ind2))


def _plain(individual: Any) -> bool:
    """Whether ``individual`` is a genome with nothing but genes and a fitness (nothing else a
    shallow copy would share)."""
    return isinstance(individual, NEATGenome) and vars(individual).keys() <= {"nodes", "connections", "fitness"}


def _shallow(individual: NEATGenome) -> NEATGenome:
    cls = type(individual)
    clone = cls.__new__(cls)  # not copy.copy: its generic protocol costs more than the copy
    # attribute by attribute (``_plain`` said which there are), not into a new ``__dict__``: see
    # ``NEATGenome.__deepcopy__``
    clone.nodes, clone.connections = individual.nodes, individual.connections
    clone.fitness = copy_fitness(individual.fitness)
    return clone


__all__ = ["DISABLE_RATE", "addable_connections", "check_genome", "crossover_copies", "cxNEAT", "fitter", "mutAddConnection",
           "mutAddNode", "mutNEAT", "mutNEATBatch", "mutWeights", "mutWeightsBatch", "mutate_batch", "register"]
