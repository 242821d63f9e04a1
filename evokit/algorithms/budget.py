"""``Budget``: when a search stops. Shared by every loop that drives an Algorithm (``evokit.Search``,
``evokit.algorithms.evolve``, ``evokit.compare``), so it sits beside the algorithm contract."""
from __future__ import annotations

from dataclasses import dataclass

from evokit.errors import check_float, check_int


@dataclass(frozen=True)
class Budget:
    """When a search stops: after whichever limit is reached first (checked after each generation).

    Args:
        generations: generations after the initial population.
        evaluations: trained candidates (cache hits are free and don't count).
        seconds: wall-clock time.
        target: a value of the first objective that is good enough.
    """

    generations: int | None = None
    evaluations: int | None = None
    seconds: float | None = None
    target: float | None = None

    def __post_init__(self) -> None:
        if self.generations is not None:
            check_int("generations", self.generations, minimum=0)
        if self.evaluations is not None:
            check_int("evaluations", self.evaluations, minimum=1)
        if self.seconds is not None:
            check_float("seconds", self.seconds, minimum=0.0, exclusive_minimum=True)
        if self.target is not None:
            check_float("target", self.target)

    def stop_reason(self, generation: int, evaluations: int, elapsed: float, best: float | None,
                    weight: float) -> str | None:
        if self.generations is not None and generation >= self.generations:
            return "generations"
        if self.evaluations is not None and evaluations >= self.evaluations:
            return "evaluations"
        if self.seconds is not None and elapsed >= self.seconds:
            return "seconds"
        if self.target is not None and best is not None and (best - self.target) * weight >= 0:
            return "target"
        return None
