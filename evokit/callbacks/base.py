"""The callback contract: what a search tells a :class:`Callback`, and when.

A search calls its callbacks in the parent process only (the process that called
``Search.run``), never in a worker, in the order they were given:

* ``on_search_begin(event: SearchBegin)`` — once, before the first population is made, or after a
  checkpoint was restored (``event.resumed``; ``event.history`` then holds the rows so far);
* ``on_candidate_evaluated(event: CandidateEvaluated)`` — once per individual whose fitness was
  set this generation (trained, read from the cache, or scored infeasible), after its batch ends;
* ``on_generation_end(event: GenerationEnd)`` — after each generation (the initial population is
  generation 0) is recorded and checkpointed;
* ``on_search_end(event: SearchEnd)`` — once, when the search stopped normally (a budget, a stop
  request, Ctrl-C), before the result is assembled. Not called when the search fails.

Events are read-only records; the individuals they hold belong to the search (read them, don't
change them). A hook returns nothing. To stop the search, a hook calls
``event.request_stop(reason, detail)``: the search ends at the end of the current generation,
exactly as a budget ends it (checkpointed, resumable), and ``Result.stats["stopped_by"]`` is
``reason``. A budget reached at the same generation wins.

Choices, and why:

* Keras's hook names (``on_*_begin``/``on_*_end``), since most users know them.
* One way to stop, on the event (not a flag on the callback): the reason travels with it, and a
  callback can't leave a stale flag set for the next search it is given to.
* A hook that raises ends the search with :class:`evokit.errors.CallbackError` (see
  :mod:`evokit.callbacks.hooks`): a silently broken logger or stopping rule is worse than a
  stopped search, and the run stays resumable from its last checkpoint.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

from evokit.errors import ConfigError

StopRequest = Callable[[str, str], None]
"""What ``request_stop`` forwards to: ``(reason, detail)``."""


@dataclass(frozen=True)
class Event:
    """What every hook receives: the run directory (None when the search writes no files), the
    objectives' names and weights (+1 maximised, -1 minimised), in the search's order."""

    run_dir: Path | None
    objectives: tuple[str, ...]
    weights: tuple[float, ...]
    _stop: StopRequest = field(repr=False, compare=False)

    def request_stop(self, reason: str, detail: str = "") -> None:
        """Ask the search to stop at the end of the current generation; ``reason`` becomes
        ``Result.stats["stopped_by"]`` and ``detail`` (a sentence) ``stats["stop_detail"]``.
        The first request of a generation wins."""
        if not isinstance(reason, str) or not reason:
            raise ConfigError(f"reason={reason!r} is invalid: expected a non-empty string")
        self._stop(reason, str(detail))

    def objective(self, objective: str | int | None) -> int:
        """The index of ``objective`` (a name, an index, or None for the first)."""
        if objective is None:
            return 0
        if isinstance(objective, int) and not isinstance(objective, bool) and 0 <= objective < len(self.objectives):
            return objective
        if objective in self.objectives:
            return self.objectives.index(objective)
        raise ConfigError(f"objective={objective!r} is invalid: expected one of {', '.join(self.objectives)} "
                          "(an objective's name), its index, or None for the first")


@dataclass(frozen=True)
class SearchBegin(Event):
    """The search starts (``resumed=False``, ``generation=0``) or continues from the checkpoint
    of ``generation`` (``resumed=True``); ``history`` holds the statistics rows recorded so far
    (empty on a fresh start), so a callback can rebuild its own state after a resume."""

    generation: int
    resumed: bool
    history: tuple[Mapping[str, Any], ...]
    budget: Any


@dataclass(frozen=True)
class CandidateEvaluated(Event):
    """One individual got its fitness in ``generation``: its ``evaluation`` (trained or from the
    cache, ``cached``), its fitness ``values`` in objective order, and ``network``, the hash of
    the network it decoded to (None when it did not decode)."""

    generation: int
    individual: Any
    evaluation: Any
    values: tuple[float, ...]
    cached: bool
    network: str | None


@dataclass(frozen=True)
class GenerationEnd(Event):
    """A generation was recorded and checkpointed.

    ``statistics`` is the run's row for it (as in ``Result.history`` and ``generations.csv``:
    ``{name}_max``/``_avg``/``_min`` of each objective over the population's finite values,
    ``evaluated``, ``trained``, ``cache_hits``, ``failures``, ``hypervolume`` with several
    objectives); ``evaluations`` counts trained networks so far (what an evaluations budget
    counts), ``evaluated`` every fitness set so far (cache hits included); ``hall_of_fame`` is the
    search's hall of fame, or with several objectives its Pareto front so far.
    """

    generation: int
    population: tuple[Any, ...]
    statistics: Mapping[str, Any]
    hall_of_fame: tuple[Any, ...]
    evaluations: int
    evaluated: int
    elapsed_s: float

    @property
    def fitnesses(self) -> tuple[tuple[float, ...], ...]:
        """The population's fitness values, one tuple per individual."""
        return tuple(tuple(ind.fitness.values) for ind in self.population)

    @property
    def front_size(self) -> int | None:
        """Members of the Pareto front kept so far (None with one objective)."""
        return len(self.hall_of_fame) if len(self.objectives) > 1 else None

    def best(self, objective: str | int | None = None) -> float:
        """This generation's best value of ``objective`` (default the first): its max when
        maximised, min when minimised; NaN when no individual has a finite value."""
        k = self.objective(objective)
        return statistic(self.statistics, self.objectives[k], self.weights[k], "best")

    def mean(self, objective: str | int | None = None) -> float:
        """The population's mean of ``objective`` (finite values only; NaN when there are none)."""
        k = self.objective(objective)
        return statistic(self.statistics, self.objectives[k], self.weights[k], "mean")

    def figures(self) -> list[tuple[str | None, str, Any]]:
        """What the built-in loggers record of this generation, as ``(group, figure, value)``:
        group None for the search's own figures (``evaluations``, ``evaluated``, ``elapsed_s``,
        with several objectives ``front_size`` and ``hypervolume``), an objective's name for its
        ``best`` and ``mean``. Each logger names them its own way (``val_accuracy_best``,
        ``val_accuracy/best``)."""
        figures: list[tuple[str | None, str, Any]] = [
            (None, "evaluations", self.evaluations), (None, "evaluated", self.evaluated),
            (None, "elapsed_s", self.elapsed_s)]
        for name in self.objectives:
            figures += [(name, "best", self.best(name)), (name, "mean", self.mean(name))]
        if self.front_size is not None:
            figures += [(None, "front_size", self.front_size),
                        (None, "hypervolume", self.statistics.get("hypervolume", math.nan))]
        return figures


@dataclass(frozen=True)
class SearchEnd(Event):
    """The search stopped after ``generation``: ``stopped_by`` is the budget's reason, a stop
    request's reason or ``"interrupted"``; ``detail`` says more (an overrun seconds budget, an
    early stop's plateau) or is empty."""

    generation: int
    stopped_by: str
    detail: str
    evaluations: int
    evaluated: int
    elapsed_s: float
    history: tuple[Mapping[str, Any], ...]


def frozen_row(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only copy of a statistics row."""
    return MappingProxyType(dict(row))


def statistic(row: Mapping[str, Any], name: str, weight: float, monitor: str) -> float:
    """``monitor`` (``"best"`` or ``"mean"``) of objective ``name`` in a statistics row: the best
    is the max when the objective is maximised (``weight`` > 0), else the min; NaN when missing."""
    key = f"{name}_avg" if monitor == "mean" else f"{name}_{'max' if weight > 0 else 'min'}"
    value = row.get(key, math.nan)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


class Callback:
    """Base class of search callbacks: every hook is a no-op; override the ones you need.

    A callback may keep state between hooks; ``on_search_begin`` is where it resets it (one
    callback object may be given to several searches one after another). Only evokit's own
    callbacks are saved with the search for ``evokit.resume``; give yours to ``resume`` again.
    """

    def on_search_begin(self, event: SearchBegin) -> None:
        """Called once before the first generation (or after restoring a checkpoint)."""

    def on_candidate_evaluated(self, event: CandidateEvaluated) -> None:
        """Called for each individual whose fitness was set, after its generation's batch."""

    def on_generation_end(self, event: GenerationEnd) -> None:
        """Called after each generation is recorded and checkpointed (generation 0 included)."""

    def on_search_end(self, event: SearchEnd) -> None:
        """Called once when the search stopped normally, before its Result is assembled."""

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"
