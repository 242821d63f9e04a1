"""Candidates per second of scoring weight genomes: a Keras model per candidate vs NumPy.

A weight-evolving search (``Real(mode="weights")``, DeepNEWT) scores every candidate with the
weights its genotype carries and no training. Until issue 19 each one built a Keras model, loaded
the weights and called it on the validation split; now the trainer runs the forward pass of
:mod:`evokit.netspec.inference` instead. Both paths run here in one process, back to back, on
the same genomes (``trainer.SCORE_IN_NUMPY`` switches), in two rounds (Keras, NumPy, NumPy, Keras)
so that neither gets the machine's quieter minute; the figures are summed over both rounds.

Cases:

* ``breast_cancer``: ``Real(mode="weights")``'s default network (30 -> Dense(16, tanh) ->
  Dense(2, softmax)) on its validation split (91 samples), scored through ``trainer.train`` and
  through ``CandidateEvaluator.evaluate_all`` (what a search calls: decoding, cache keys,
  objectives; a fresh evaluator per path, so nothing comes from its cache);
* ``textcnn``: Kim's TextCNN (Embedding(2000, 32) -> Conv1D(16, 3/4/5, relu) -> global max pool
  -> Concat -> Dense(2, softmax)) on 500 synthetic sequences of 50 token ids, through
  ``trainer.train``.

Also printed: ``predict`` alone (the NumPy forward pass without the trainer around it), and the
largest difference between the two paths' validation losses and how many accuracies differ.

Run: ``python benchmarks/weight_scoring.py [--genomes 200] [--quick]``.
"""
from __future__ import annotations

import argparse
import os
import random
import time
from types import SimpleNamespace
from typing import Any, Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

import evokit as ek  # noqa: E402
from evokit.encodings.real import Real  # noqa: E402
from evokit.netspec import Concat, Conv1D, Dense, Embedding, GlobalPool, Graph, NetSpec, inference  # noqa: E402
from evokit.runtime.candidates.evaluator import CandidateEvaluator  # noqa: E402
from evokit.runtime.training import trainer  # noqa: E402

CONFIG = ek.TrainingConfig(epochs=1)


def textcnn(vocab: int = 2000, length: int = 50, dim: int = 32, filters: int = 16, classes: int = 2) -> NetSpec:
    """Kim's TextCNN shape: an embedding, parallel convolutions, global max pooling, softmax."""
    g = Graph((length,))
    e = g.add(Embedding(vocab, dim), g.input)
    pooled = [g.add(GlobalPool("max"), g.add(Conv1D(filters, k, activation="relu"), e)) for k in (3, 4, 5)]
    return g.finish(g.add(Dense(classes, activation="softmax"), g.add(Concat(), *pooled)))


def timed(numpy_path: bool, fn: Callable[[], list[Any]]) -> tuple[float, list[Any]]:
    trainer.SCORE_IN_NUMPY = numpy_path
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def compare(name: str, n: int, fn: Callable[[], list[dict[str, float]]]) -> None:
    """Time ``fn`` (scoring ``n`` candidates, returning their metrics) on both paths, in two
    rounds of opposite order, and print candidates/s, the ratio, and how far the metrics differ."""
    fn()  # warm-up of both paths (imports, first traces) is not part of the figures
    trainer.SCORE_IN_NUMPY = False
    fn()
    seconds = {False: 0.0, True: 0.0}
    metrics: dict[bool, list[dict[str, float]]] = {}
    for numpy_path in (False, True, True, False):
        elapsed, metrics[numpy_path] = timed(numpy_path, fn)
        seconds[numpy_path] += elapsed
    trainer.SCORE_IN_NUMPY = True
    keras_rate, numpy_rate = 2 * n / seconds[False], 2 * n / seconds[True]
    loss_gap = max(abs(a.get("val_loss", np.nan) - b.get("val_loss", np.nan))
                   for a, b in zip(metrics[True], metrics[False]))
    accuracy_diffs = sum(a.get("val_accuracy") != b.get("val_accuracy") for a, b in zip(metrics[True], metrics[False]))
    print(f"{name:<34} Keras {keras_rate:8.1f}/s   NumPy {numpy_rate:8.1f}/s   x{numpy_rate / keras_rate:6.1f}   "
          f"max |d val_loss| {loss_gap:.1e}, accuracies differing {accuracy_diffs}/{n}")


def trainer_scoring(spec: NetSpec, data: Any, weights: list[list[np.ndarray]]) -> Callable[[], list[dict[str, float]]]:
    return lambda: [trainer.train(spec, data, CONFIG, seed=0, weights=w, fit=False).metrics for w in weights]


def search_scoring(encoding: Real, data: Any, genomes: list[Any]) -> Callable[[], list[dict[str, float]]]:
    def run() -> list[dict[str, float]]:
        evaluator = CandidateEvaluator(encoding, ek.fitness.ValidationAccuracy(epochs=1), data)
        return [c.evaluation.metrics for c in evaluator.evaluate_all(genomes)]

    return run


def predict_alone(spec: NetSpec, x: np.ndarray, weights: list[list[np.ndarray]]) -> float:
    start = time.perf_counter()
    for w in weights:
        inference.predict(spec, w, x)
    return len(weights) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--genomes", type=int, default=200, help="candidates scored per path and round")
    parser.add_argument("--quick", action="store_true", help="30 genomes: a smoke run, not a measurement")
    args = parser.parse_args()
    n = 30 if args.quick else args.genomes

    cancer = ek.datasets.load("breast_cancer", seed=0)
    encoding = Real(mode="weights")
    encoding.check_input(cancer.input_shape, cancer.n_outputs, cancer.task)
    rng = random.Random(0)
    genomes = [encoding.random(rng) for _ in range(n)]
    spec = encoding.network_
    weights = [encoding.weights(g, spec) for g in genomes]
    print(f"{n} genomes per path and round; validation: breast_cancer {cancer.x_val.shape}, "
          f"textcnn (500, 50); {os.cpu_count()} CPUs")
    compare("breast_cancer, trainer.train", n, trainer_scoring(spec, cancer, weights))
    compare("breast_cancer, CandidateEvaluator", n, search_scoring(encoding, cancer, genomes))
    print(f"{'breast_cancer, inference.predict':<34} {predict_alone(spec, cancer.x_val, weights):8.1f}/s")

    text = textcnn()
    ids_rng = np.random.default_rng(0)
    data = SimpleNamespace(task="classification", x_val=ids_rng.integers(0, 2000, (500, 50)).astype("float32"),
                           y_val=ids_rng.integers(0, 2, 500))
    text_encoding = Real(mode="weights", network=text)
    text_weights = [text_encoding.weights(text_encoding.random(rng), text) for _ in range(n)]
    compare("textcnn, trainer.train", n, trainer_scoring(text, data, text_weights))
    print(f"{'textcnn, inference.predict':<34} {predict_alone(text, data.x_val, text_weights):8.1f}/s")


if __name__ == "__main__":
    main()
