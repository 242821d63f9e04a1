"""Ready-made searches: the embedded default that ``evokit run`` runs."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from evokit.algorithms.ga import GA
from evokit.encodings.deepga import DeepGA
from evokit.fitness.accuracy import ValidationAccuracy
from evokit.fitness.combine import DeepGAScore
from evokit.search import Search


def deepga(data: Any = "digits", *, population: int = 12, generations: int = 10, epochs: int = 4,
           final_epochs: int | None = 40, size_weight: float = 0.05, max_params: int = 50_000, seed: int = 0,
           workers: int = 1, run_dir: str | Path | None = None, progress: bool = True) -> Search:
    """DeepGA on ``data``: elitist (mu + lambda) GA over the DeepGA encoding, scored by DeepGA's
    f = (1 - w) * accuracy + w * (Pmax - P) / Pmax, the best network retrained (up to
    ``final_epochs``, early stopping on validation loss) before it is tested.

    The defaults are ``evokit run``'s: about 70 trainings on digits, 1-2 minutes on 2 CPU cores.
    """
    return Search(encoding=DeepGA(),
                  objectives=DeepGAScore(w=size_weight, max_params=max_params,
                                         accuracy=ValidationAccuracy(epochs=epochs)),
                  data=data, algorithm=GA(population=population, generations=generations), seed=seed,
                  workers=workers, run_dir=run_dir, final_training=final_epochs or None, progress=progress)
