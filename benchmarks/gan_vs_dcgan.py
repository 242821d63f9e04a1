"""A hand-made DCGAN vs the best pair of an evokit DCGAN-PSO search, side by side, per seed.

On the embedded ``digits`` set as a gan task (8x8 grey images; the classes train the small
classifier whose features the Fréchet distance compares), per seed, in one run:

* **hand-made DCGAN** scaled to 8x8 images (Radford et al. 2016's recipe: a 32-d latent vector,
  dense projection to 2x2x128, two 4x4 stride-2 up-convolutions of 64 and 32 filters with batch
  norm and ReLU, a 3x3 tanh output; discriminator: 3x3 stride-2 convolutions of 32 and 64
  filters with leaky ReLU (batch norm on the second), a linear logit; Adam 2e-4, beta_1 0.5),
  trained by evokit's adversarial trainer for ``--epochs`` epochs, batch 64.
* **evokit search**: PSO over the ``DCGAN`` encoding (latent size, blocks, filters, kernels,
  upsampling, batch norm, activations, dropout, both learning rates), minimising the validation
  Fréchet distance, every pair trained the same ``--epochs`` epochs; ``--population`` particles
  for ``--generations`` generations on 2 worker processes. Its best pair (as trained in the
  search: the same trainer, epochs and seed rule) is tested.

Both are scored on the same test split with the same features: Fréchet distance (FD, lower is
better), precision, recall, coverage, and the generator's parameters. Two baselines make the
numbers readable: **floor** = real training images passed off as generated (what a perfect
generator would score, given the sample size), **ceiling** = Gaussian noise with the data's
mean and standard deviation. Target (DCGAN-PSO's headline): a lower test FD than the hand-made
DCGAN. The swarm's convergence is the first generation whose best validation FD is within 5% of
its final best.

Run: ``python benchmarks/gan_vs_dcgan.py [--seeds 0 1 2] [--generations 6] [--population 8]``.
"""
from __future__ import annotations

import argparse
import resource
import time
from typing import Any

import numpy as np

import evokit as ek
from evokit.fitness import features
from evokit.netspec import Activation, BatchNorm, Conv2D, Conv2DTranspose, Dense, Flatten, GANSpec, Graph, Reshape
from evokit.runtime.training.trainer import candidate_seed, score_test_split, train


def hand_made(latent: int = 32) -> GANSpec:
    """DCGAN scaled to 8x8x1 images (see the module docstring)."""
    g = Graph((latent,))
    x = g.add(Dense(2 * 2 * 128, activation="linear"), g.input)
    x = g.add(Activation("relu"), g.add(BatchNorm(), g.add(Reshape((2, 2, 128)), x)))
    for filters in (64, 32):
        x = g.add(Conv2DTranspose(filters, 4, strides=2, activation="linear"), x)
        x = g.add(Activation("relu"), g.add(BatchNorm(), x))
    generator = g.finish(g.add(Conv2D(1, 3, activation="tanh"), x)).with_training({"learning_rate": 2e-4})
    d = Graph((8, 8, 1))
    y = d.add(Conv2D(32, 3, strides=2, activation="leaky_relu"), d.input)
    y = d.add(Conv2D(64, 3, strides=2, activation="linear"), y)
    y = d.add(Activation("leaky_relu"), d.add(BatchNorm(), y))
    discriminator = d.finish(d.add(Dense(1, activation="linear"), d.add(Flatten(), y)))
    return GANSpec(generator, discriminator.with_training({"learning_rate": 2e-4}))


def baselines(data: Any) -> dict[str, float]:
    """Test FD of real training images (floor) and of Gaussian noise (ceiling)."""
    extractor = features.for_data(data)
    task = ek.tasks.get("gan")
    real = np.asarray(extractor(data.x_test), np.float64)
    n = len(data.x_test)
    floor = task.score(real, extractor(data.x_train[:n]), "")["frechet"]
    noise = np.random.default_rng(0).normal(data.x_train.mean(), data.x_train.std(), data.x_test.shape)
    ceiling = task.score(real, extractor(noise.astype(np.float32)), "")["frechet"]
    return {"floor": floor, "ceiling": ceiling}


def cpu_seconds() -> float:
    """CPU time of this process and its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_seed(seed: int, data: Any, args: argparse.Namespace) -> dict[str, Any]:
    objective = ek.fitness.FrechetDistance(epochs=args.epochs, batch_size=64)
    objective.setup(data, objective.training)  # fits and installs the feature classifier
    spec = hand_made()
    start = time.perf_counter()
    made = train(spec, data, objective.training, seed=candidate_seed(seed, spec.hash))
    made_time = time.perf_counter() - start
    made_test = (score_test_split(made.model(), data) if not made.failed
                 else {"test_frechet": float("inf"), "failed": f"{made.reason}: {made.message[:80]}"})
    cpu = cpu_seconds()
    start = time.perf_counter()
    search = ek.Search(encoding=ek.encodings.DCGAN(), objectives=[objective],
                       algorithm=ek.algorithms.PSO(population=args.population, generations=args.generations),
                       data=data, seed=seed, workers=2, progress=False)
    result = search.run()
    search_time, search_cpu = time.perf_counter() - start, cpu_seconds() - cpu
    best_by_gen = [row["val_frechet_min"] for row in result.history]
    running = np.fmin.accumulate(np.asarray(best_by_gen, float))
    converged = int(np.argmax(running <= running[-1] * 1.05))
    return {"seed": seed, "made": made, "made_test": made_test, "made_time": made_time, "result": result,
            "search_time": search_time, "search_cpu": search_cpu, "converged": converged,
            "generations": len(best_by_gen) - 1, "best_by_gen": running.tolist()}


def reference(data: Any, seeds: list[int], epochs: list[int]) -> None:
    """The hand-made DCGAN alone, trained longer: test FD, recall and coverage per seed."""
    for n in epochs:
        objective = ek.fitness.FrechetDistance(epochs=n, batch_size=64)
        objective.setup(data, objective.training)
        for seed in seeds:
            spec = hand_made()
            start = time.perf_counter()
            made = train(spec, data, objective.training, seed=candidate_seed(seed, spec.hash))
            if made.failed:
                print(f"{n:>4} epochs, seed {seed}: FAILED {made.reason}: {made.message[:100]}")
                continue
            t = score_test_split(made.model(), data)
            print(f"{n:>4} epochs, seed {seed}: test FD {t['test_frechet']:.2f}, recall {t['test_recall']:.2f}, "
                  f"coverage {t['test_coverage']:.2f} ({time.perf_counter() - start:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--generations", type=int, default=6)
    parser.add_argument("--reference-epochs", type=int, nargs="*", default=None,
                        help="only train the hand-made DCGAN this many epochs per seed (no search): how far "
                             "it gets with a longer training")
    args = parser.parse_args()
    data = ek.datasets.load("digits", task="gan")
    if args.reference_epochs:
        reference(data, args.seeds, args.reference_epochs)
        return
    runs = [run_seed(seed, data, args) for seed in args.seeds]
    base = baselines(data)
    print(f"\ndigits as gan: {len(data.x_train)} training, {len(data.x_test)} test images; {args.epochs} epochs "
          f"per pair; PSO {args.population} particles x {args.generations} generations, 2 workers")
    print(f"baselines (test FD): floor (real training images) {base['floor']:.2f}, "
          f"ceiling (Gaussian noise) {base['ceiling']:.2f}")
    print(f"{'seed':>4} {'DCGAN FD':>9} {'G params':>9} {'evokit FD':>10} {'G params':>9} {'prec':>5} "
          f"{'recall':>6} {'cover':>5} {'search':>8} {'CPU-min':>7} {'conv.':>5}  best network")
    wins = []
    for r in runs:
        t = r["result"].test_scores
        m = r["made_test"]
        wins.append(t.get("test_frechet", float("inf")) < m["test_frechet"])
        print(f"{r['seed']:>4} {m['test_frechet']:>9.2f} {hand_made().params:>9,} {t.get('test_frechet', float('nan')):>10.2f} "
              f"{r['result'].best.params or 0:>9,} {t.get('test_precision', float('nan')):>5.2f} "
              f"{t.get('test_recall', float('nan')):>6.2f} {t.get('test_coverage', float('nan')):>5.2f} "
              f"{r['search_time']:>7.0f}s {r['search_cpu'] / 60:>7.1f} {r['converged']:>2}/{r['generations']}"
              f"  {r['result'].best.description}")
        print(f"     DCGAN precision {m.get('test_precision', float('nan')):.2f} recall "
              f"{m.get('test_recall', float('nan')):.2f} coverage {m.get('test_coverage', float('nan')):.2f}, "
              f"trained in {r['made_time']:.1f}s{' FAILED ' + m['failed'] if 'failed' in m else ''}; best validation FD by generation: "
              + " ".join(f"{v:.1f}" for v in r["best_by_gen"]) + f"; failures {r['result'].stats['failures']}")
    made = [r["made_test"]["test_frechet"] for r in runs]
    found = [r["result"].test_scores.get("test_frechet", float("nan")) for r in runs]
    print(f"mean test FD: hand-made DCGAN {np.nanmean(made):.2f} ± {np.nanstd(made):.2f}, evokit "
          f"{np.nanmean(found):.2f} ± {np.nanstd(found):.2f}; evokit lower in {sum(wins)}/{len(runs)} seeds")


if __name__ == "__main__":
    main()
