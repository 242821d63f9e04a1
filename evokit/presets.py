"""Ready-made searches on the same footing: ``evokit run``'s default DeepGA, and PSO-, GP- and
NEAT-style searches with the same objective, training and budget, for ``evokit.compare``; and
:func:`compact`, the search for small accurate networks (a Pareto front of accuracy against size).

Each preset is a plain ``Search``: change any of its parts, or pass its keyword arguments.
All score candidates with DeepGA's f = (1 - w) * accuracy + w * (Pmax - P) / Pmax and retrain the
best network (up to ``final_epochs``, early stopping on validation loss) before testing it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from evokit.algorithms.base import Algorithm
from evokit.algorithms.budget import Budget
from evokit.algorithms.ga import GA
from evokit.algorithms.gp import GP
from evokit.algorithms.nsga2 import NSGA2
from evokit.algorithms.neat import NEAT as NEATSearch
from evokit.algorithms.pso import PSO
from evokit.encodings.base import Encoding
from evokit.encodings.dcgan import DCGAN
from evokit.encodings.deepga import ConvBlock, DeepGA, DeepGAGenome, DenseBlock, n_skip_bits
from evokit.encodings.graph import NEAT
from evokit.encodings.real import Real
from evokit.encodings.textcnn import TextCNN
from evokit.encodings.tree import Tree
from evokit.encodings.unet_tree import UNetTree
from evokit.evaluation import TrainingConfig
from evokit.fitness.accuracy import ValidationAccuracy
from evokit.fitness.combine import DeepGAScore
from evokit.fitness.complexity import ParameterCount
from evokit.fitness.gan import FrechetDistance
from evokit.fitness.regression import ValidationR2
from evokit.fitness.segmentation import ValidationDice
from evokit.search import Search


def _scored(encoding: Encoding, algorithm: Algorithm, data: Any, epochs: int, final_epochs: int | None,
            size_weight: float, max_params: int, seed: int, workers: int, run_dir: str | Path | None,
            progress: bool, learning_rate: float = 1e-3) -> Search:
    return Search(encoding=encoding,
                  objectives=DeepGAScore(w=size_weight, max_params=max_params,
                                         accuracy=ValidationAccuracy(epochs=epochs, learning_rate=learning_rate)),
                  data=data, algorithm=algorithm, seed=seed, workers=workers, run_dir=run_dir,
                  final_training=final_epochs or None, progress=progress)


def deepga(data: Any = "digits", *, population: int = 12, generations: int = 10, epochs: int = 4,
           final_epochs: int | None = 40, size_weight: float = 0.05, max_params: int = 50_000, seed: int = 0,
           workers: int = 1, run_dir: str | Path | None = None, progress: bool = True) -> Search:
    """DeepGA: elitist (mu + lambda) GA over the DeepGA encoding (conv blocks, dense blocks, skip bits).

    The defaults are ``evokit run``'s: about 70-85 trainings on digits, 1-2 minutes on 2 CPU cores.
    """
    return _scored(DeepGA(), GA(population=population, generations=generations), data, epochs, final_epochs,
                   size_weight, max_params, seed, workers, run_dir, progress)


def pso(data: Any = "digits", *, population: int = 10, generations: int = 6, epochs: int = 4,
        final_epochs: int | None = 40, size_weight: float = 0.05, max_params: int = 50_000, seed: int = 0,
        workers: int = 1, run_dir: str | Path | None = None, progress: bool = True) -> Search:
    """psoCNN-style: particle swarm over the Real encoding's architecture genes (up to 6 layers)."""
    return _scored(Real(max_layers=6, filters=(8, 16, 32, 64), units=(32, 64, 128)),
                   PSO(population=population, generations=generations), data, epochs, final_epochs, size_weight,
                   max_params, seed, workers, run_dir, progress)


def gp(data: Any = "digits", *, population: int = 12, generations: int = 8, epochs: int = 4,
       final_epochs: int | None = 40, size_weight: float = 0.05, max_params: int = 50_000, seed: int = 0,
       workers: int = 1, run_dir: str | Path | None = None, progress: bool = True) -> Search:
    """NASGP-style: genetic programming over the Tree encoding (conv, pool, dense, residual add,
    concat), with size limits and double-tournament parsimony against bloat."""
    return _scored(Tree(max_depth=3, max_height=6, filters=(8, 16, 32), kernel_sizes=(3, 5), units=(32, 64)),
                   GP(population=population, generations=generations, max_size=40, parsimony=1.4), data, epochs,
                   final_epochs, size_weight, max_params, seed, workers, run_dir, progress)


def neat(data: Any = "digits", *, population: int = 12, generations: int = 6, epochs: int = 4,
         final_epochs: int | None = 40, size_weight: float = 0.05, max_params: int = 50_000, seed: int = 0,
         workers: int = 1, run_dir: str | Path | None = None, progress: bool = True) -> Search:
    """NEAT-style (DeepNEWT-like): NEAT's topology and weight evolution with speciation, each
    genome fine-tuned by backpropagation from its genes' weights and the trained weights written
    back (Lamarckian). On digits a genome has ~640 connections and the compatibility distance is
    dominated by small weight differences (pairwise 0.02-0.09), hence the low threshold."""
    return _scored(NEAT(finetune=True, weight_init_std=0.1, weight_perturb_std=0.05),
                   NEATSearch(population=population, generations=generations, compatibility_threshold=0.05,
                              elitism_threshold=2),
                   data, epochs, final_epochs, size_weight, max_params, seed, workers, run_dir, progress,
                   learning_rate=0.01)


def for_data(data: Any, *, population: int = 12, generations: int = 10, epochs: int = 4,
             final_epochs: int | None = 40, size_weight: float = 0.05, max_params: int = 50_000, seed: int = 0,
             workers: int = 1, run_dir: str | Path | None = None, progress: bool = True) -> Search:
    """``evokit run``'s default for a Dataset of any kind: :func:`deepga` on images and tables;
    the same GA and score over Kim's TextCNN (:class:`~evokit.encodings.TextCNN`) on token
    sequences; and on regression data a GA over DeepGA's dense blocks on validation R², each
    candidate trained ``max(epochs, 20)`` epochs at learning rate 0.05 with early stopping
    (targets in the tens or hundreds, as in ``diabetes``, are out of reach of Adam's default step
    in a few epochs); on segmentation data (masks) NSGA-II over U-Nets whose cell is a GP tree
    (:class:`~evokit.encodings.UNetTree`, 8 base filters) on validation Dice and parameters; on
    gan data (images to generate) DCGAN-PSO: PSO over :class:`~evokit.encodings.DCGAN` pairs on
    the validation Fréchet distance, each pair trained ``max(epochs, 5)`` epochs, not retrained."""
    if data.task == "regression":
        r2 = ValidationR2(epochs=max(epochs, 20), learning_rate=0.05, early_stopping=5)
        return Search(encoding=DeepGA(min_conv_blocks=0, max_conv_blocks=1, min_dense=1), objectives=r2, data=data,
                      algorithm=GA(population=population, generations=generations), seed=seed, workers=workers,
                      run_dir=run_dir, progress=progress, final_training=None if not final_epochs else
                      TrainingConfig(epochs=final_epochs, learning_rate=0.05, early_stopping=10))
    if data.task == "segmentation":
        return Search(encoding=UNetTree(base_filters=8), objectives=[ValidationDice(epochs=epochs), ParameterCount()],
                      data=data, algorithm=NSGA2(population=population, generations=generations), seed=seed,
                      workers=workers, run_dir=run_dir, final_training=final_epochs or None, progress=progress)
    if data.task == "gan":
        return Search(encoding=DCGAN(), objectives=FrechetDistance(epochs=max(epochs, 5)), data=data,
                      algorithm=PSO(population=population, generations=generations), seed=seed, workers=workers,
                      run_dir=run_dir, progress=progress)
    encoding = TextCNN() if getattr(data, "vocab_size", None) else DeepGA()
    return _scored(encoding, GA(population=population, generations=generations), data, epochs, final_epochs,
                   size_weight, max_params, seed, workers, run_dir, progress)


COMPACT_TRAINING = TrainingConfig(epochs=20, learning_rate=1e-2, schedule="cosine", early_stopping=5)
"""How :func:`compact` trains each candidate: Adam at 1e-2 decaying on a half cosine over 20
epochs, stopped after 5 without a better validation loss. At a constant 1e-3 the small networks
of a search are still learning after 20 epochs, and the front ranks them by how fast they learn
rather than how well they can do (``python benchmarks/mnist1d_quality.py --ablation``)."""

COMPACT_FINAL = TrainingConfig(epochs=60, learning_rate=1e-2, schedule="cosine", early_stopping=20)
"""How :func:`compact` retrains its most accurate network before testing it (the best epoch's
weights on the validation loss are kept)."""


def compact_space() -> DeepGA:
    """:func:`compact`'s search space: DeepGA's blocks with the priors of small networks: up to 4
    conv blocks of 1-32 filters (one or two filters make the front's smallest members: on digits
    one 7x7 filter and a flattened head reach ~0.94 with 220 parameters), strided convolutions,
    a flatten or global-average head, at most one dense layer, few skip connections."""
    return DeepGA(min_conv_blocks=1, max_conv_blocks=4, min_dense=0, max_dense=1,
                  filters=(1, 2, 4, 8, 12, 16, 24, 32),
                  kernel_sizes=(3, 5, 7), pools=("max", "avg", "none"), pool_sizes=(2,), activations=("relu", "elu"),
                  units=(16, 32, 64), dropouts=(0.0,), skip_probability=0.1, strides=(1, 2),
                  heads=("flatten", "global_avg"))


def compact_seeds() -> list[DeepGAGenome]:
    """Generic small shapes :func:`compact` starts from (population seeding), twelve rungs of a
    ladder over the front's size axis: six tiny ones (one or two blocks of 1-16 filters, globally
    pooled or flattened: tens to hundreds of parameters), then stacks of two to four conv blocks
    that halve the map each time, narrow to wide, flattened or globally pooled (thousands). A
    front is a trade-off over every size, and a short search that starts only from mid-sized
    networks leaves its small end unexplored (``python benchmarks/vs_peers.py``)."""
    def stack(widths: tuple[int, ...], kernel: int, head: str = "flatten", pool: str = "max",
              stride: int = 1, dense: tuple[int, ...] = ()) -> DeepGAGenome:
        conv = [ConvBlock(w, kernel, pool, 2, "relu", stride) for w in widths]
        return DeepGAGenome(conv, [DenseBlock(u, "relu", 0.0) for u in dense], [0] * n_skip_bits(len(conv)), head=head)

    tiny = [stack((1,), 3, "global_avg"), stack((2, 4), 3, "global_avg"), stack((1,), 7), stack((2,), 5),
            stack((4, 8), 3, "global_avg"), stack((8, 16), 3, "global_avg")]
    return tiny + [stack((8, 16), 3), stack((16, 16, 16), 5), stack((12, 12, 12, 12), 5),
                   stack((8, 16, 32), 3, "global_avg"), stack((16, 16, 16), 5, "global_avg", "none", 2),
                   stack((24, 24), 5, dense=(32,))]


def compact(data: Any = "digits", *, population: int = 24, generations: int = 40, seconds: float | None = None,
            training: TrainingConfig = COMPACT_TRAINING, final_training: TrainingConfig | None = COMPACT_FINAL,
            seeded: bool = True, seed: int = 0, workers: int = 1, run_dir: str | Path | None = None,
            progress: bool = True) -> Search:
    """Small, accurate networks: NSGA-II on validation accuracy and parameter count over
    :func:`compact_space`, each candidate trained as :data:`COMPACT_TRAINING` says, the first
    population seeded with :func:`compact_seeds` (spread evenly over the ladder where
    ``population`` is smaller than it; ``seeded=False``: all random). ``seconds``
    stops the search after that long (checked between generations) instead of after
    ``generations``. The result's ``pareto_front`` is the trade-off: pick a network under your
    parameter budget and retrain it (:data:`COMPACT_FINAL` is how the most accurate is)."""
    budget = Budget(seconds=seconds) if seconds is not None else Budget(generations=generations)
    accuracy = ValidationAccuracy()
    accuracy.training = training  # every field of it (trace_once, loss ...), not only the keywords
    objectives = [accuracy, ParameterCount()]
    return Search(encoding=compact_space(), objectives=objectives, data=data,
                  algorithm=NSGA2(population=population, generations=generations), budget=budget, seed=seed,
                  workers=workers, run_dir=run_dir, final_training=final_training, progress=progress,
                  initial_population=_spread(compact_seeds(), population) if seeded else None)


def _spread(ladder: list[Any], n: int) -> list[Any]:
    """At most ``n`` rungs of ``ladder``, spread evenly over it (both ends kept from two on): a
    population smaller than the seed list still starts at every size."""
    if n >= len(ladder):
        return list(ladder)
    if n <= 1:
        return ladder[:max(n, 0)]
    return [ladder[round(i * (len(ladder) - 1) / (n - 1))] for i in range(n)]
