"""A population of NEAT genomes evaluated on the same inputs with a few NumPy calls per phase.

``Program.run`` costs a handful of NumPy calls per step of one genome; on XOR, where a genome
is a few neurons and the inputs are four rows, those calls' fixed cost is nearly all of an
evaluation. Here each genome's structure is compiled once into a :class:`Schedule` (flat arrays:
per connection its source column and the neuron it feeds, per neuron its phase), the population
is gathered into one array of each (the inputs' columns once, shared, then each genome's
neurons' columns) and phase ``p`` of every genome runs at once: one gather of source values, one
product with the weights, one ``bincount`` that sums each neuron's inputs, one bias add and one
activation. A neuron's phase is its level (one more than its deepest source's) and activation,
so a phase reads only columns of smaller phases and the genomes never see each other's values.

The Python work per genome is a schedule look-up (cached by structure, like programs) and the
reading of its weights; the rest is a fixed number of NumPy calls per population and per phase.
Schedules are compiled straight from the genes, without laying the genome out as a
``NeuronGraph`` (on XOR a new structure appears in one genome of ten, and laying it out cost
more than evaluating it).

The sums are taken in another order than ``Program.run``'s matrix products, so outputs equal
``forward``'s up to rounding (a few ulps), not bitwise.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from evokit.encodings.graph_program import cached, structure_key
from evokit.errors import GenotypeError
from evokit.netspec.neurons import NUMPY_ACTIVATIONS, kahn_levels
from evokit.operators.neat_genome import NEATGenome

ACTIVATIONS = tuple(NUMPY_ACTIVATIONS.values())
"""The NumPy activations by code: a neuron's phase is ``level * len(ACTIVATIONS) + code``."""
_CODE = {name: code for code, name in enumerate(NUMPY_ACTIVATIONS)}


@dataclass(frozen=True)
class Schedule:
    """A genome structure compiled for ``n_features`` input features, for :func:`run_population`.

    Its neurons ("units") are the hidden neurons in order of id, then the outputs: unit ``u``
    has bias ``nodes[bias_ids[u]].bias`` and fills column ``n_features + u``.

    Attributes:
        keys: the enabled connections that are read (their weights form the kernel, in order).
        bias_ids: the node id of each unit.
        src: per connection, its source column (input ``i`` is column ``i``).
        dst: per connection, the unit it feeds.
        phase: per unit, ``level * len(ACTIVATIONS) + code`` (code: its activation's index in
            ``ACTIVATIONS``).
        outputs: the units of the output neurons, in order.
    """

    keys: tuple[tuple[int, int], ...]
    bias_ids: tuple[int, ...]
    src: np.ndarray
    dst: np.ndarray
    phase: np.ndarray
    outputs: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.src.nbytes + self.dst.nbytes + self.phase.nbytes + self.outputs.nbytes


def schedule(genome: NEATGenome, n_features: int) -> Schedule:
    """The cached schedule of ``genome``'s structure (compiled on a miss)."""
    return cached(("schedule", structure_key(genome, n_features)), compile_schedule, genome, n_features)


def compile_schedule(genome: NEATGenome, n_features: int) -> Schedule:
    """The schedule of ``genome`` for ``n_features`` features, as ``layout`` would lay it out:
    input ``i`` reads feature ``i`` (connections from inputs beyond the features are left
    out), every output neuron has the first output's activation. Raises GenotypeError for a
    connection into an unknown node or an input, an unknown activation, or a cycle."""
    nodes = genome.nodes
    n_in = genome.n_inputs
    hidden, outputs = genome.ids("hidden"), genome.ids("output")
    unit = {node: u for u, node in enumerate(hidden + outputs)}
    sources = {i: i for i in range(min(n_in, n_features))}
    sources.update((node, n_features + u) for node, u in unit.items())
    keys, src, dst = [], [], []
    incoming: list[list[int]] = [[] for _ in unit]
    for key, gene in sorted(genome.connections.items()):  # kernel order: a sum's order never depends on history
        if not gene.enabled or key[0] not in sources:
            continue
        if key[1] not in unit:
            raise GenotypeError(f"connections[{key!r}] is invalid: it leads into an input or an unknown node")
        keys.append(key)
        src.append(sources[key[0]])
        dst.append(unit[key[1]])
        if key[0] in unit:
            incoming[unit[key[1]]].append(unit[key[0]])
    out_activation = nodes[outputs[0]].activation if outputs else "linear"
    try:
        codes = [_CODE[nodes[h].activation] for h in hidden] + [_CODE[out_activation]] * len(outputs)
    except KeyError as exc:
        raise GenotypeError(f"activation {exc.args[0]!r} is invalid: expected one of {tuple(_CODE)}") from None
    level, stuck = kahn_levels(incoming)
    if stuck:
        raise GenotypeError(f"connections are invalid: they form a cycle through neurons "
                            f"{sorted((hidden + outputs)[u] for u in stuck)}")
    return Schedule(tuple(keys), tuple(hidden + outputs), np.asarray(src, dtype=np.intp),
                    np.asarray(dst, dtype=np.intp),
                    np.asarray([lv * len(ACTIVATIONS) + c for lv, c in zip(level, codes)], dtype=np.intp),
                    np.arange(len(hidden), len(hidden) + len(outputs), dtype=np.intp))


def run_population(schedules: Sequence[Schedule], genomes: Sequence[NEATGenome], x: np.ndarray) -> np.ndarray:
    """The outputs ``(len(genomes), batch, n_outputs)`` of ``genomes`` (each with the structure of
    its schedule in ``schedules``; they share their number of outputs) for flat float64 inputs
    ``x`` ``(batch, n_features)``."""
    batch, n_features = x.shape
    if not schedules:
        return np.zeros((0, batch, 0))
    widths = np.asarray([len(s.phase) for s in schedules], dtype=np.intp)
    n_conn = np.asarray([len(s.keys) for s in schedules], dtype=np.intp)
    first = np.concatenate([[0], np.cumsum(widths)[:-1]])  # each genome's first unit
    weights: list[float] = []
    biases: list[float] = []
    for s, genome in zip(schedules, genomes):  # C-level gathers: this loop runs once per genome
        weights += map(_WEIGHT, map(genome.connections.__getitem__, s.keys))
        biases += map(_BIAS, map(genome.nodes.__getitem__, s.bias_ids))
    genome_first = np.repeat(first, n_conn)
    src = np.concatenate([s.src for s in schedules])
    src = src + np.where(src >= n_features, genome_first, 0)  # the inputs' columns are shared
    dst = np.concatenate([s.dst for s in schedules]) + genome_first
    phase = np.concatenate([s.phase for s in schedules])
    values = np.empty((batch, n_features + len(phase)))
    values[:, :n_features] = x
    _run_phases(values, n_features, src, np.asarray(weights, dtype=np.float64), dst,
                np.asarray(biases, dtype=np.float64), phase)
    outputs = np.concatenate([s.outputs for s in schedules]).reshape(len(schedules), -1) + first[:, None]
    return np.ascontiguousarray(values[:, n_features + outputs].transpose(1, 0, 2))


_WEIGHT, _BIAS = attrgetter("weight"), attrgetter("bias")


def _run_phases(values: np.ndarray, n_features: int, src: np.ndarray, weight: np.ndarray, dst: np.ndarray,
                bias: np.ndarray, phase: np.ndarray) -> None:
    """Compute every unit into ``values`` (unit ``u`` into column ``n_features + u``), phase by
    phase: units in order of phase, connections in order of the phase of the unit they feed."""
    units = np.argsort(phase, kind="stable")
    unit_phase = phase[units]
    position = np.empty_like(units)
    position[units] = np.arange(len(units))  # a unit's place in phase order
    conn_phase = phase[dst]
    conns = np.argsort(conn_phase, kind="stable")
    src, weight, fed, conn_phase = src[conns], weight[conns], position[dst[conns]], conn_phase[conns]
    phases = np.unique(unit_phase)
    unit_at, conn_at = np.searchsorted(unit_phase, phases), np.searchsorted(conn_phase, phases)
    unit_end, conn_end = np.append(unit_at[1:], len(units)), np.append(conn_at[1:], len(conns))
    rows = np.arange(len(values))[:, None]
    for p, u0, u1, c0, c1 in zip(phases.tolist(), unit_at.tolist(), unit_end.tolist(), conn_at.tolist(),
                                 conn_end.tolist()):
        width = u1 - u0
        z = np.bincount(((fed[c0:c1] - u0) + rows * width).ravel(),
                        weights=(values[:, src[c0:c1]] * weight[c0:c1]).ravel(),
                        minlength=len(values) * width).reshape(len(values), width)
        # (a phase without connections gives integer zeros: the bias is added out of place)
        z = z + bias[units[u0:u1]]
        values[:, n_features + units[u0:u1]] = ACTIVATIONS[p % len(ACTIVATIONS)](z)


__all__ = ["ACTIVATIONS", "Schedule", "compile_schedule", "run_population", "schedule"]
