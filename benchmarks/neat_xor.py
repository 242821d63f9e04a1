"""NEAT on XOR: evokit's ``NEAT`` search vs neat-python 2.0.0, side by side in one run.

Both solve the classic XOR task (fitness = 4 - sum of squared errors over the four patterns,
solved at >= 3.9, population 150, at most ``--generations`` generations) for each seed:

* evokit: ``evokit.algorithms.NEAT()`` with its defaults (the NEAT paper's: delta_t 3.0,
  stagnation 15, 25% of offspring by mutation only, interspecies mating 0.001) on the graph
  encoding with the paper's c1 = c2 = 1.0, c3 = 0.4, add-node 0.03, add-connection 0.05, weight
  mutation 0.8 (10% of mutated weights drawn anew), tanh hidden neurons and a sigmoid output, and
  weight perturbations of standard deviation 1.0 (``--weight-perturb-std``; the encoding's default
  is 0.5; the paper gives no size, its C++ code perturbs uniformly by up to 2.5, SD 1.44). The
  population is scored in one batched NumPy pass per generation (``forward_population`` through
  the toolbox's ``map``: all genomes see the same four patterns), driven by
  ``evokit.algorithms.evolve`` with ``Budget(target=3.9)``. The paper's optional rules are off
  unless asked for (``--population-stagnation 20``, ``--target-species N``);
* neat-python 2.0.0 with its own XOR example configuration (``examples/xor/config-feedforward``,
  written out below), ``Population(config, seed=seed).run(eval_genomes, generations)``.

Seeds alternate between the two so that the machine's load hits both alike. Generations count
from 0 (the initial population) to the generation whose best genome solved XOR, as both
libraries number them; evaluations are the genomes scored. Wall times on a shared machine are
noisy: read the ratios.

Needs ``pip install neat-python==2.0.0``. Run: ``python benchmarks/neat_xor.py [--seeds 20]
[--first-seed 20]`` (the second option picks another block of seeds).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import evokit as ek
from evokit.algorithms import evolve
from evokit.algorithms.neat import NEAT
from evokit.encodings.graph import forward, forward_population
from evokit.deap_toolbox import genotype_toolbox

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])
THRESHOLD = 3.9
PAPER = "NEAT paper (Stanley & Miikkulainen 2002), XOR: 32 generations / 4,755 evaluations on average, 100 of 100 runs"

NEAT_PYTHON_CONFIG = """\
[NEAT]
fitness_criterion     = max
fitness_threshold     = 3.9
pop_size              = 150
reset_on_extinction   = False
no_fitness_termination = False

[DefaultGenome]
activation_default      = sigmoid
activation_mutate_rate  = 0.0
activation_options      = sigmoid
aggregation_default     = sum
aggregation_mutate_rate = 0.0
aggregation_options     = sum
bias_init_mean          = 0.0
bias_init_stdev         = 1.0
bias_max_value          = 30.0
bias_min_value          = -30.0
bias_mutate_power       = 0.5
bias_mutate_rate        = 0.7
bias_replace_rate       = 0.1
compatibility_disjoint_coefficient = 1.0
compatibility_weight_coefficient   = 0.5
conn_add_prob           = 0.5
conn_delete_prob        = 0.5
enabled_default         = True
enabled_mutate_rate     = 0.01
feed_forward            = True
initial_connection      = full
node_add_prob           = 0.2
node_delete_prob        = 0.2
num_hidden              = 0
num_inputs              = 2
num_outputs             = 1
response_init_mean      = 1.0
response_init_stdev     = 0.0
response_max_value      = 30.0
response_min_value      = -30.0
response_mutate_power   = 0.0
response_mutate_rate    = 0.0
response_replace_rate   = 0.0
weight_init_mean        = 0.0
weight_init_stdev       = 1.0
weight_max_value        = 30
weight_min_value        = -30
weight_mutate_power     = 0.5
weight_mutate_rate      = 0.8
weight_replace_rate     = 0.1
single_structural_mutation = false
structural_mutation_surer  = default
bias_init_type             = gaussian
response_init_type         = gaussian
weight_init_type           = gaussian
enabled_rate_to_true_add   = 0.0
enabled_rate_to_false_add  = 0.0

[DefaultSpeciesSet]
compatibility_threshold = 3.0

[DefaultStagnation]
species_fitness_func = max
max_stagnation       = 20
species_elitism      = 2

[DefaultReproduction]
elitism            = 2
survival_threshold = 0.2
min_species_size   = 2
"""


def xor_fitness(genome: Any) -> tuple[float]:
    """4 - sum of squared errors of the genome's output on the four XOR patterns."""
    return (4.0 - float(np.sum((forward(genome, XOR_X)[:, 0] - XOR_Y) ** 2)),)


def xor_fitness_map(fitness: Any, genomes: Any) -> list[tuple[float]]:
    """The toolbox's ``map`` for ``xor_fitness``: every genome's fitness from one batched forward
    pass of the population (all genomes see the same four patterns), as ``map`` would give them."""
    if fitness is not xor_fitness:
        return list(map(fitness, genomes))
    outputs = forward_population(list(genomes), XOR_X)[:, :, 0]
    return [(4.0 - float(e),) for e in np.sum((outputs - XOR_Y) ** 2, axis=1)]


WEIGHT_PERTURB_STD = 1.0


def run_evokit(seed: int, generations: int, population_stagnation: int | None = None,
               target_species: int | None = None, weight_perturb_std: float = WEIGHT_PERTURB_STD) -> dict[str, Any]:
    encoding = ek.encodings.NEAT(n_inputs=2, n_outputs=1, output_activation="sigmoid",
                                 weight_perturb_std=weight_perturb_std)
    toolbox = genotype_toolbox(encoding, (1.0,))
    toolbox.register("map", xor_fitness_map)
    start, cpu = time.perf_counter(), time.process_time()
    algorithm = NEAT(population=150, population_stagnation=population_stagnation, target_species=target_species)
    run = evolve(algorithm, toolbox, xor_fitness,
                 budget=ek.Budget(generations=generations, target=THRESHOLD), seed=seed)
    return {"solved": run.best.fitness.values[0] >= THRESHOLD, "generations": run.generations,
            "evaluations": run.evaluations, "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu}


def run_neat_python(seed: int, generations: int, config_path: Path) -> dict[str, Any]:
    import neat

    config = neat.Config(neat.DefaultGenome, neat.DefaultReproduction, neat.DefaultSpeciesSet,
                         neat.DefaultStagnation, str(config_path))
    evaluations = 0

    def eval_genomes(genomes: list[tuple[int, Any]], config: Any) -> None:
        nonlocal evaluations
        for _, genome in genomes:
            net = neat.nn.FeedForwardNetwork.create(genome, config)
            genome.fitness = 4.0 - sum((net.activate(tuple(x))[0] - y) ** 2 for x, y in zip(XOR_X, XOR_Y))
            evaluations += 1

    start, cpu = time.perf_counter(), time.process_time()
    population = neat.Population(config, seed=seed)
    winner = population.run(eval_genomes, generations + 1)  # generation 0 is the initial population
    return {"solved": winner.fitness >= THRESHOLD, "generations": population.generation,
            "evaluations": evaluations, "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu}


def _show(run: dict[str, Any]) -> str:
    gens = f"{run['generations']:>3} gens" if run["solved"] else "unsolved"
    return f"{gens} {run['evaluations']:>6} evals {run['seconds']:6.2f} s"


def summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Solved runs, medians and means over them, and the wall and CPU time per evaluation over all runs."""
    solved = [r for r in runs if r["solved"]]
    med = (lambda key: statistics.median(r[key] for r in solved)) if solved else (lambda key: float("nan"))
    mean = (lambda key: statistics.mean(r[key] for r in solved)) if solved else (lambda key: float("nan"))
    evaluations = max(1, sum(r["evaluations"] for r in runs))
    return {"solved": len(solved), "generations": med("generations"), "evaluations": med("evaluations"),
            "mean_generations": mean("generations"), "mean_evaluations": mean("evaluations"),
            "seconds": med("seconds"), "cpu_seconds": med("cpu_seconds"),
            "ms_per_evaluation": 1000 * sum(r["seconds"] for r in runs) / evaluations,
            "cpu_ms_per_evaluation": 1000 * sum(r["cpu_seconds"] for r in runs) / evaluations}


COLUMNS = (("generations", "generations", ".1f"), ("evaluations", "evaluations", ".0f"),
           ("mean evals", "mean_evaluations", ".0f"), ("wall time (s)", "seconds", ".3f"),
           ("CPU time (s)", "cpu_seconds", ".3f"), ("ms / eval", "ms_per_evaluation", ".3f"),
           ("CPU ms / eval", "cpu_ms_per_evaluation", ".3f"))


def print_table(ours: dict[str, float], theirs: dict[str, float], seeds: int, version: str) -> None:
    """The side-by-side table (Markdown) with the ratio row."""
    print(f"| {'':<22} | {'solved':>7} | " + " | ".join(f"{title:>13}" for title, _, _ in COLUMNS) + " |")
    print(f"|{'-' * 24}|{'-' * 8}:|" + "|".join(f"{'-' * 14}:" for _ in COLUMNS) + "|")
    for name, row in (("evokit NEAT", ours), (f"neat-python {version}", theirs)):
        print(f"| {name:<22} | {row['solved']:>4}/{seeds:<2} | "
              + " | ".join(f"{row[key]:>13{fmt}}" for _, key, fmt in COLUMNS) + " |")
    ratio = {key: ours[key] / theirs[key] if theirs[key] else float("nan") for _, key, _ in COLUMNS}
    print(f"| {'evokit / neat-python':<22} | {'':>7} | " + " | ".join(f"{ratio[key]:>13.2f}" for _, key, _ in COLUMNS)
          + " |")
    print("(generations, evaluations, times: medians over each library's solved runs; mean evals: mean over them; "
          "ms / eval: all runs; CPU: this process's CPU time, less sensitive to a shared machine's load)")


def main(seeds: int = 20, generations: int = 300, population_stagnation: int | None = None,
         target_species: int | None = None, weight_perturb_std: float = WEIGHT_PERTURB_STD, first_seed: int = 0
         ) -> dict[str, dict[str, float]]:
    """Run both libraries on ``seeds`` seeds from ``first_seed`` on and print the table; returns the
    two summaries."""
    import neat

    evokit_runs, neat_runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "config-feedforward"
        config_path.write_text(NEAT_PYTHON_CONFIG)
        for seed in range(first_seed, first_seed + seeds):
            evokit_runs.append(run_evokit(seed, generations, population_stagnation, target_species,
                                          weight_perturb_std))
            neat_runs.append(run_neat_python(seed, generations, config_path))
            print(f"seed {seed:>2}: evokit {_show(evokit_runs[-1])} | neat-python {_show(neat_runs[-1])}", flush=True)
    ours, theirs = summary(evokit_runs), summary(neat_runs)
    print(f"\nXOR, population 150, threshold {THRESHOLD}, {seeds} seeds ({first_seed}-{first_seed + seeds - 1}), "
          f"at most {generations} generations; "
          f"evokit: weight_perturb_std={weight_perturb_std}, population_stagnation={population_stagnation}, "
          f"target_species={target_species}")
    print_table(ours, theirs, seeds, getattr(neat, "__version__", "2.0.0"))
    print(f"mean generations over the solved runs: evokit {ours['mean_generations']:.1f}, "
          f"neat-python {theirs['mean_generations']:.1f}")
    print(f"\nreference: {PAPER}")
    return {"evokit": ours, "neat-python": theirs}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="the first seed (another block of seeds: --first-seed 20 runs seeds 20-39)")
    parser.add_argument("--generations", type=int, default=300)
    parser.add_argument("--population-stagnation", type=int, default=None,
                        help="evokit NEAT's population_stagnation (the paper: 20; default: off)")
    parser.add_argument("--target-species", type=int, default=None,
                        help="evokit NEAT's target_species (dynamic compatibility threshold; default: off)")
    parser.add_argument("--weight-perturb-std", type=float, default=WEIGHT_PERTURB_STD,
                        help=f"the graph encoding's weight_perturb_std (default {WEIGHT_PERTURB_STD})")
    args = parser.parse_args()
    main(args.seeds, args.generations, args.population_stagnation, args.target_species, args.weight_perturb_std,
         args.first_seed)
