"""A population of NEAT genomes evaluated on the same inputs with a few NumPy calls per step.

``Program.run`` costs a handful of NumPy calls per step of one genome; on XOR, where a genome
is a few neurons and the inputs are four rows, those calls' fixed cost is nearly all of an
evaluation. Here the population is laid side by side in one array of values (the inputs' columns
once, shared, then each genome's computed columns) and step ``t`` of every genome runs at once:
one gather of source values, one product with the weights, one ``bincount`` that sums each
neuron's inputs, one bias add and one call per activation. A genome's step ``t`` reads only
columns of its earlier steps, so the genomes never see each other's values.

The sums are taken in another order than ``Program.run``'s matrix products, so outputs equal
``forward``'s up to rounding (a few ulps), not bitwise.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evokit.encodings.graph_program import Program, ProgramStep
from evokit.operators.neat_genome import NEATGenome


def run_population(programs: Sequence[Program], genomes: Sequence[NEATGenome], x: np.ndarray) -> np.ndarray:
    """The outputs ``(len(genomes), batch, n_outputs)`` of ``genomes`` (each with the structure of
    its program in ``programs``; they share their number of outputs) for flat float64 inputs
    ``x`` ``(batch, n_features)``."""
    batch, n_features = x.shape
    first = np.cumsum([0, *(p.width for p in programs)])  # where each genome's computed columns begin
    kernel, bias, kernel_at, bias_at = _parameters(programs, genomes)
    values = np.empty((batch, n_features + int(first[-1])))
    values[:, :n_features] = x
    by_step: list[tuple[list[int], list[ProgramStep], list[int]]] = []  # genomes, their steps, done columns
    for g, p in enumerate(programs):
        done = 0
        for t, step in enumerate(p.steps):
            if t == len(by_step):
                by_step.append(([], [], []))
            by_step[t][0].append(g)
            by_step[t][1].append(step)
            by_step[t][2].append(done)
            done += step.width
    for genomes_t, steps, done_t in by_step:
        active = np.asarray(genomes_t, dtype=np.intp)
        _step(values, steps, n_features, first[active], n_features + first[active] + np.asarray(done_t),
              kernel, kernel_at[active], bias, bias_at[active])
    outputs = np.stack([p.output_columns + first[g] for g, p in enumerate(programs)]) if programs else \
        np.zeros((0, 0), dtype=np.intp)
    return np.ascontiguousarray(values[:, outputs].transpose(1, 0, 2))


def _parameters(programs: Sequence[Program], genomes: Sequence[NEATGenome]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All genomes' weights and biases in one kernel and one bias vector, and where each
    genome's start."""
    weights: list[float] = []
    biases: list[float] = []
    kernel_at, bias_at = [], []
    for p, genome in zip(programs, genomes):
        connections, nodes = genome.connections, genome.nodes
        kernel_at.append(len(weights))
        bias_at.append(len(biases))
        weights += [connections[k].weight for k in p.keys]
        biases += [nodes[i].bias for i in p.bias_ids]
    return (np.asarray(weights, dtype=np.float64), np.asarray(biases, dtype=np.float64),
            np.asarray(kernel_at, dtype=np.intp), np.asarray(bias_at, dtype=np.intp))


def _step(values: np.ndarray, steps: list[ProgramStep], n_features: int, first: np.ndarray, start: np.ndarray,
          kernel: np.ndarray, kernel_at: np.ndarray, bias: np.ndarray, bias_at: np.ndarray) -> None:
    """Compute one step of several genomes into ``values``: ``first`` is each genome's first
    computed column less ``n_features``' offset, ``start`` the column of its step's first neuron."""
    n_conn = np.asarray([len(s.conn_index) for s in steps], dtype=np.intp)
    widths = np.asarray([s.width for s in steps], dtype=np.intp)
    unit_at = np.concatenate([[0], np.cumsum(widths)[:-1]])
    units = int(widths.sum())
    src = np.concatenate([s.src for s in steps])
    src = src + np.where(src >= n_features, np.repeat(first, n_conn), 0)  # the inputs' columns are shared
    weight = kernel[np.concatenate([s.conn_index for s in steps]) + np.repeat(kernel_at, n_conn)]
    dst = np.concatenate([s.dst for s in steps]) + np.repeat(unit_at, n_conn)
    rows = np.arange(len(values))[:, None] * units
    z = np.bincount((dst[None, :] + rows).ravel(), weights=(values[:, src] * weight).ravel(),
                    minlength=len(values) * units).reshape(len(values), units)
    z += bias[np.concatenate([s.bias_index for s in steps]) + np.repeat(bias_at, widths)]
    columns = np.repeat(start - unit_at, widths) + np.arange(units)
    kinds = [s.activation for s in steps]
    if all(kind is kinds[0] for kind in kinds):
        values[:, columns] = kinds[0](z)
        return
    for activation in dict.fromkeys(kinds):
        mask = np.repeat([kind is activation for kind in kinds], widths)
        values[:, columns[mask]] = activation(z[:, mask])


__all__ = ["run_population"]
