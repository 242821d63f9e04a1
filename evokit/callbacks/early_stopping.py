"""``EarlyStopping``: stop a search whose best (or mean) value of an objective has stopped improving."""
from __future__ import annotations

import math
from typing import Any, Mapping

from evokit.callbacks.base import Callback, GenerationEnd, SearchBegin, statistic
from evokit.errors import ConfigError, check_choice, check_float, check_int

REASON = "early_stopping"
"""``Result.stats["stopped_by"]`` of a search this callback stopped."""


class EarlyStopping(Callback):
    """Stop the search when ``monitor`` of ``objective`` has not improved by more than
    ``min_delta`` for ``patience`` generations in a row.

    Args:
        objective: an objective's name or index (default: the first objective).
        monitor: ``"best"`` (the generation's best value: max when maximised, min when
            minimised) or ``"mean"`` (the population's mean).
        patience: generations without improvement before stopping (>= 1).
        min_delta: the least change that counts as an improvement (>= 0), in the objective's units.

    The search stops at the end of that generation, as a budget stops it, with
    ``stopped_by="early_stopping"``. The plateau is counted from the run's statistics, so a
    resumed search continues the count where the checkpoint left it.
    """

    def __init__(self, objective: str | int | None = None, monitor: str = "best", patience: int = 5,
                 min_delta: float = 0.0) -> None:
        if objective is not None and (isinstance(objective, bool) or not isinstance(objective, (str, int))):
            raise ConfigError(f"objective={objective!r} is invalid: expected an objective's name, its index, or None "
                              "for the first objective")
        self.objective = objective
        self.monitor = check_choice("monitor", monitor, ("best", "mean"))
        self.patience = check_int("patience", patience, minimum=1)
        self.min_delta = check_float("min_delta", min_delta, minimum=0.0)
        self._index = 0
        self._best: float | None = None
        self._wait = 0

    def on_search_begin(self, event: SearchBegin) -> None:
        self._index = event.objective(self.objective)
        self._best, self._wait = None, 0
        for row in event.history:  # a resumed search: the plateau so far
            self._update(row, event.objectives, event.weights)
        if self._wait >= self.patience:
            event.request_stop(REASON, self._detail(event.objectives))

    def on_generation_end(self, event: GenerationEnd) -> None:
        self._update(event.statistics, event.objectives, event.weights)
        if self._wait >= self.patience:
            event.request_stop(REASON, self._detail(event.objectives))

    def _update(self, row: Mapping[str, Any], names: tuple[str, ...], weights: tuple[float, ...]) -> None:
        value = statistic(row, names[self._index], weights[self._index], self.monitor)
        sign = 1.0 if weights[self._index] > 0 else -1.0
        if math.isfinite(value) and (self._best is None or (value - self._best) * sign > self.min_delta):
            self._best, self._wait = value, 0
        else:
            self._wait += 1

    def _detail(self, names: tuple[str, ...]) -> str:
        best = "none finite" if self._best is None else f"{self._best:.6g}"
        return (f"the {self.monitor} {names[self._index]} did not improve by more than {self.min_delta:g} for "
                f"{self._wait} generations (patience {self.patience}; best {best})")
