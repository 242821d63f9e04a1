"""What ``evokit.fitness.DEFAULT_TRAINING`` buys: a plain user objective's candidates trained with
it vs with a bare 3 epochs (the setting a plain ``Objective`` got before it had one).

The same random DeepGA networks (seeded) are trained with each setting in one run and scored by a
user ``Objective`` that reads the validation accuracy; the script prints, per setting, the
accuracies' min / median / mean / max and the seconds per candidate (the first setting also pays
TensorFlow's warm-up: pass ``--warmup`` to train one network before timing). Run:
``python benchmarks/default_training.py [--data wine] [--networks 12]``.
"""
from __future__ import annotations

import argparse
import random
import time

import numpy as np

import evokit as ek


def val_accuracy(evaluation: ek.Evaluation) -> float:
    """A user objective: the validation accuracy the training measured."""
    return evaluation.metrics["val_accuracy"]


def measure(data: ek.datasets.Dataset, genotypes: list, training: ek.TrainingConfig | None) -> tuple[np.ndarray, float]:
    """Validation accuracies of ``genotypes`` trained with ``training`` (None: the default) and
    seconds per candidate."""
    encoding = ek.encodings.DeepGA(max_conv_blocks=2, max_dense=2)
    tb = ek.toolbox(encoding, [ek.fitness.Objective(val_accuracy)], data, seed=0, training=training)
    begun = time.perf_counter()
    accuracies = np.array([tb.evaluate(g)[0] for g in genotypes])
    return accuracies, (time.perf_counter() - begun) / len(genotypes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="wine")
    parser.add_argument("--networks", type=int, default=12)
    parser.add_argument("--warmup", action="store_true")
    args = parser.parse_args()
    data = ek.datasets.load(args.data, seed=0)
    encoding = ek.encodings.DeepGA(max_conv_blocks=2, max_dense=2)
    random.seed(0)
    np.random.seed(0)
    genotypes = [encoding.random() for _ in range(args.networks)]
    if args.warmup:
        measure(data, [encoding.random()], ek.TrainingConfig(epochs=1))
    for label, training in (("3 epochs (before)", ek.TrainingConfig(epochs=3)),
                            ("DEFAULT_TRAINING", None)):
        accuracies, seconds = measure(data, genotypes, training)
        print(f"{args.data}, {label:>17}: val_accuracy min {accuracies.min():.2f} median {np.median(accuracies):.2f} "
              f"mean {accuracies.mean():.2f} max {accuracies.max():.2f}; {seconds:.2f} s/candidate", flush=True)


if __name__ == "__main__":
    main()
