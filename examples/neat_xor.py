"""NEAT solves XOR: topology and weights evolved together, from genomes with no hidden neuron.

The classic test of NEAT (Stanley & Miikkulainen 2002): XOR is not linearly separable, so a
solution needs at least one hidden neuron, which NEAT has to invent by its add-node mutation and
protect by speciation until its weights are tuned. Fitness is 4 minus the sum of squared errors
over the four patterns; a run stops as soon as a genome reaches 3.9.

The genomes are evokit's graph encoding with two inputs (each neuron's bias plays the part of
NEAT's bias input), tanh hidden neurons and a sigmoid output, scored by the encoding's NumPy
forward pass (no Keras). Run: ``python examples/neat_xor.py``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import evokit as ek
from evokit.algorithms import evolve
from evokit.algorithms.neat import NEAT
from evokit.encodings.graph import forward
from evokit.deap_toolbox import genotype_toolbox

INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TARGETS = np.array([0.0, 1.0, 1.0, 0.0])
SOLVED = 3.9


def xor_fitness(genome: Any) -> tuple[float]:
    """4 - the sum of squared errors of the genome's output on the four XOR patterns."""
    return (4.0 - float(np.sum((forward(genome, INPUTS)[:, 0] - TARGETS) ** 2)),)


def main(seed: int = 0, generations: int = 150, population: int = 150) -> dict[str, Any]:
    """Evolve XOR solvers with NEAT and print the winner: its structure and its four outputs.

    Returns the winner's figures: ``fitness``, ``solved``, ``generations``, ``evaluations``,
    ``hidden`` (hidden neurons), ``enabled`` (enabled connections), ``outputs`` (on the four
    patterns) and ``species`` (the number of species in each generation).
    """
    encoding = ek.encodings.NEAT(n_inputs=2, n_outputs=1, output_activation="sigmoid")
    toolbox = genotype_toolbox(encoding, (1.0,))
    run = evolve(NEAT(population=population), toolbox, xor_fitness,
                 budget=ek.Budget(generations=generations, target=SOLVED), seed=seed)
    winner = run.best
    fitness = winner.fitness.values[0]
    outputs = forward(winner, INPUTS)[:, 0]
    hidden = winner.ids("hidden")
    enabled = winner.enabled()
    names = {0: "x1", 1: "x2", 2: "out", **{h: f"h{j}" for j, h in enumerate(hidden)}}
    species = run.state.extra["species_counts"]
    print(f"NEAT on XOR (seed {seed}): {'solved' if fitness >= SOLVED else 'not solved'} at generation "
          f"{run.generations} after {run.evaluations} evaluations; {species[-1]} species at the end")
    print(f"winner: fitness {fitness:.4f}, {len(hidden)} hidden neuron(s), {len(enabled)} enabled connection(s) "
          f"of {len(winner.connections)}")
    for h in hidden:
        print(f"  {names[h]}: {winner.nodes[h].activation}, bias {winner.nodes[h].bias:+.3f}")
    print(f"  out: {winner.nodes[2].activation}, bias {winner.nodes[2].bias:+.3f}")
    for gene in enabled:
        print(f"  {names[gene.src]:>3} -> {names[gene.dst]:<3} weight {gene.weight:+.3f}")
    print("outputs:")
    for (a, b), target, out in zip(INPUTS, TARGETS, outputs):
        print(f"  {a:.0f} xor {b:.0f} = {target:.0f}   network: {out:.3f}")
    return {"fitness": fitness, "solved": fitness >= SOLVED, "generations": run.generations,
            "evaluations": run.evaluations, "hidden": len(hidden), "enabled": len(enabled),
            "outputs": outputs.tolist(), "species": species}


if __name__ == "__main__":
    main()
