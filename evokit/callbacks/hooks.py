"""``Hooks``: how a search calls its callbacks — in order, in the parent process — and what
happens when one raises or asks to stop.

A hook that raises ends the search: the error is logged (naming the callback's class and the
hook; the traceback at DEBUG level, on the ``evokit.callbacks`` logger) and re-raised as
:class:`evokit.errors.CallbackError`, with the callback's exception as its ``__cause__``. The
search's own ``finally`` blocks then close the run as after any error: the checkpoint of the last
finished generation stays as written, the run directory's lock is released, and ``evokit resume``
(or ``evokit.resume(run_dir, callbacks=[...])``) continues from there. Not swallowing the error
is deliberate: a logger that stopped logging, or a stopping rule that stopped working, would
otherwise go unnoticed until the run was over.
"""
from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from evokit.callbacks.base import (Callback, CandidateEvaluated, GenerationEnd, SearchBegin, SearchEnd,
                                   frozen_row)
from evokit.errors import CallbackError, ConfigError

LOG = logging.getLogger("evokit.callbacks")


def check_callbacks(callbacks: Any, field: str = "callbacks") -> list[Callback]:
    """``callbacks`` as a list if it is a list or tuple of :class:`Callback` objects, else ConfigError."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)) or not all(isinstance(c, Callback) for c in callbacks):
        raise ConfigError(f"{field}={callbacks!r} is invalid: expected a list of evokit.callbacks.Callback "
                          "objects (CSVLogger, JSONLinesLogger, TensorBoard, EarlyStopping or your own subclass)")
    return list(callbacks)


class Hooks:
    """The callbacks of one run of a search, with the run's fixed facts (run directory, objective
    names and weights) and the stop request, if any (``stop_reason``, ``stop_detail``)."""

    def __init__(self, callbacks: Sequence[Callback], run_dir: Path | None, objectives: Sequence[str],
                 weights: Sequence[float]) -> None:
        self.callbacks = list(callbacks)
        self.common = {"run_dir": run_dir, "objectives": tuple(objectives),
                       "weights": tuple(float(w) for w in weights), "_stop": self._request}
        self.generation = 0  # the generation being made now (candidates evaluated belong to it)
        self.checkpointed: int | None = None  # the last generation recorded and checkpointed
        self.stop_reason: str | None = None
        self.stop_detail = ""

    def _request(self, reason: str, detail: str) -> None:
        if self.stop_reason is None:
            self.stop_reason, self.stop_detail = reason, detail
            LOG.info("stop requested at generation %d: %s%s", self.generation, reason, f" ({detail})" if detail else "")

    def requested(self) -> str | None:
        """The reason a callback asked to stop, or None (asked between generations)."""
        return self.stop_reason

    def search_begin(self, generation: int, resumed: bool, history: Iterable[Any], budget: Any) -> None:
        self.generation = generation + 1 if resumed else 0
        self.checkpointed = generation if resumed else None
        self._call("on_search_begin", SearchBegin(**self.common, generation=generation, resumed=resumed,
                                                  history=tuple(frozen_row(r) for r in history), budget=budget))

    def candidates_evaluated(self, outcomes: Iterable[Any]) -> None:
        """One ``on_candidate_evaluated`` per outcome (anything with ``genotype``, ``evaluation``,
        ``values`` and ``cached``: a ``CandidateEvaluator`` Outcome)."""
        if not self.callbacks:
            return
        for outcome in outcomes:
            evaluation = outcome.evaluation
            self._call("on_candidate_evaluated", CandidateEvaluated(
                **self.common, generation=self.generation, individual=outcome.genotype, evaluation=evaluation,
                values=tuple(outcome.values), cached=bool(outcome.cached),
                network=getattr(evaluation, "spec_hash", None)))

    def generation_end(self, state: Any, row: dict[str, Any], hall_of_fame: Any, evaluations: int, evaluated: int,
                       elapsed: float) -> None:
        """``on_generation_end`` for ``state`` (its ``population`` and ``generation``), already checkpointed."""
        self.checkpointed = state.generation
        self.generation = state.generation + 1
        self._call("on_generation_end", GenerationEnd(
            **self.common, generation=state.generation, population=tuple(state.population),
            statistics=frozen_row(row), hall_of_fame=tuple(hall_of_fame), evaluations=evaluations,
            evaluated=evaluated, elapsed_s=elapsed))

    def search_end(self, generation: int, stopped_by: str, detail: str, evaluations: int, evaluated: int,
                   elapsed: float, history: Iterable[Any]) -> None:
        self._call("on_search_end", SearchEnd(**self.common, generation=generation, stopped_by=stopped_by,
                                              detail=detail, evaluations=evaluations, evaluated=evaluated,
                                              elapsed_s=elapsed, history=tuple(frozen_row(r) for r in history)))

    def _call(self, hook: str, event: Any) -> None:
        """Call ``hook`` of each callback; Python's and NumPy's global random generators are put
        back afterwards, so a callback that draws from them does not change the search's draws
        (a seeded run ends the same with or without its callbacks)."""
        for callback in self.callbacks:
            python_state, numpy_state = random.getstate(), np.random.get_state()
            try:
                getattr(callback, hook)(event)
            except Exception as exc:  # noqa: BLE001 - any error of a user's hook ends the search the same way
                raise self._failure(callback, hook, exc) from exc
            finally:
                random.setstate(python_state)
                np.random.set_state(numpy_state)

    def _failure(self, callback: Callback, hook: str, exc: Exception) -> CallbackError:
        name = type(callback).__name__
        run_dir = self.common["run_dir"]
        if run_dir is None:
            after = "the search has no run directory, so it cannot be resumed"
        elif self.checkpointed is None:
            after = f"no generation was checkpointed yet; evokit resume {run_dir} starts the run again"
        else:
            after = (f"the checkpoint of generation {self.checkpointed} is intact: continue with "
                     f"evokit resume {run_dir} (in Python, evokit.resume(run_dir, callbacks=[...]))")
        message = f"callback {name}.{hook} raised {type(exc).__name__}: {exc}; the search stopped ({after})"
        LOG.error(message)
        LOG.debug("traceback of the callback %s.%s", name, hook, exc_info=exc)
        return CallbackError(message, callback=callback, hook=hook)
