"""``Budget``: when a search stops. Shared by every loop that drives an Algorithm (``evokit.Search``,
``evokit.algorithms.evolve``, ``evokit.compare``), so it sits beside the algorithm contract."""
from __future__ import annotations

from dataclasses import dataclass

from evokit.errors import check_float, check_int


@dataclass(frozen=True)
class Budget:
    """When a search stops: after whichever limit is reached first.

    Limits are checked between generations, never during one: a generation that has started
    runs to its end. So a search may go past ``seconds`` by up to one generation's time (and
    past ``evaluations`` by up to one generation's new networks); :meth:`overrun` says by how
    much, and ``Result.stats`` reports it (``budget_overrun_s``, ``stop_detail``).

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

    def overrun(self, reason: str | None, elapsed: float) -> float | None:
        """Seconds past the ``seconds`` limit when that limit stopped the search, else None."""
        if reason != "seconds" or self.seconds is None:
            return None
        return max(0.0, elapsed - self.seconds)

    def describe_stop(self, reason: str | None, elapsed: float, generation: int, evaluations: int) -> str:
        """A sentence on why the search stopped, with an overrun seconds or evaluations limit's excess."""
        if reason == "seconds" and self.seconds is not None:
            over = elapsed - self.seconds
            return (f"the seconds budget of {self.seconds:g} s was reached at {elapsed:.3f} s, {over:.3f} s over it: "
                    f"the budget is checked between generations, and generation {generation} ran past it")
        if reason == "evaluations" and self.evaluations is not None:
            return (f"the evaluations budget of {self.evaluations} was reached with {evaluations} trained networks "
                    "(checked between generations)")
        if reason == "generations" and self.generations is not None:
            return f"the generations budget of {self.generations} was reached"
        if reason == "target" and self.target is not None:
            return f"the first objective reached the target {self.target:g}"
        return ""
