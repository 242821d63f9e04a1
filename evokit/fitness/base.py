"""The Objective interface: one number read from an Evaluation, with a DEAP weight.

An objective never trains: it reads what the candidate's single training run produced. Those
that need a trained model say so with ``needs_training``; those that read a validation metric
(``ValidationAccuracy``, ``ValidationR2`` ..., :mod:`evokit.fitness.validation`), and a user's
``Objective(fn, epochs=...)``, also say *how* candidates are trained (their ``training`` config),
and a search's objectives must agree on it. When none says, candidates train with
:data:`DEFAULT_TRAINING`.

:func:`score` is how a search scores a candidate with its objectives: an objective that raises
or gives NaN fails that candidate (reason ``"objective_error"``), never the search.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Sequence

from evokit.errors import ConfigError, EvokitError
from evokit.evaluation import Evaluation, describe
from evokit.evaluation import TrainingConfig
from evokit.fitness.probes import Probe

DEFAULT_TRAINING = TrainingConfig(epochs=20, early_stopping=3)
"""How candidates are trained when some objective needs a trained model but none says how (a
plain ``Objective(fn)``, ``ModelObjective``, ``Latency``, ``CO2`` ...): up to 20 epochs, stopped
after 3 without a better validation loss, the best epoch's weights kept. Enough for the small
embedded datasets to separate good networks from bad ones (wine, 12 random DeepGA networks:
median validation accuracy 0.83 against 0.48 with a bare 3 epochs) at the cost of at most 20
epochs per candidate; give ``epochs=`` (and the other training keywords) to an objective to
choose."""

TRAINING_KEYWORDS = ("epochs", "batch_size", "optimizer", "learning_rate", "early_stopping", "trace_once", "loss",
                     "schedule")
"""The keywords of :class:`~evokit.evaluation.TrainingConfig` an ``Objective`` takes."""


class Objective:
    """An objective: a name, a DEAP weight (+1 maximise, -1 minimise) and a value per Evaluation.

    Use it directly around any callable of an Evaluation::

        Objective(latency_ms, weight=-1.0)

    or subclass it and override ``compute`` (and ``__init__`` for set-up).

    Args:
        fn: callable of an Evaluation returning a number (not needed by subclasses).
        name: column name in logs and reports (default: the function's name). Put the unit in it.
        weight: DEAP weight; its sign says maximise (+) or minimise (-).
        needs_training: whether ``fn`` needs a trained model in the Evaluation.
        failure_value: the value a failed candidate gets (default: the worst possible, -inf when
            maximising and +inf when minimising). In a search, a candidate on which ``fn`` raises
            or returns NaN fails (reason ``"objective_error"``) and gets every objective's
            failure value.
        epochs, batch_size, optimizer, learning_rate, early_stopping, trace_once, loss, schedule: how every
            candidate of the search is trained, as for ``ValidationAccuracy`` (the keywords of
            :class:`~evokit.evaluation.TrainingConfig`, with its defaults for those not given:
            ``Objective(fn, epochs=10)`` trains as ``ValidationAccuracy(epochs=10)`` does). With
            none given (the default) the objective leaves it to the others; when no objective
            says, candidates train with :data:`DEFAULT_TRAINING` (up to 20 epochs, early
            stopping after 3). Objectives that give different settings are refused: each
            candidate is trained once for all of them.
    """

    name: str = "objective"
    weight: float = 1.0
    needs_training: bool = True
    training: TrainingConfig | None = None
    parts: tuple["Objective", ...] = ()
    """Objectives this one is computed from (their training settings and probes apply too)."""

    def __init__(self, fn: Callable[[Evaluation], float] | None = None, *, name: str | None = None,
                 weight: float | None = None, needs_training: bool | None = None,
                 failure_value: float | None = None, epochs: int | None = None, batch_size: int | None = None,
                 optimizer: str | None = None, learning_rate: float | None = None,
                 early_stopping: int | None = None, trace_once: bool | None = None, loss: str | None = None,
                 schedule: str | None = None):
        if fn is not None and not callable(fn):
            raise ConfigError(f"fn={fn!r} is invalid: expected a callable of an Evaluation")
        self.fn = fn
        if name is not None:
            self.name = name
        elif fn is not None:
            self.name = getattr(fn, "__name__", type(fn).__name__)
        if weight is not None:
            self.weight = weight
        if isinstance(self.weight, bool) or not isinstance(self.weight, (int, float)) or self.weight == 0 \
                or not math.isfinite(self.weight):
            raise ConfigError(f"weight={self.weight!r} is invalid: expected a non-zero number "
                              "(+1 to maximise, -1 to minimise)")
        if needs_training is not None:
            self.needs_training = needs_training
        self._failure_value = failure_value
        given = {k: v for k, v in zip(TRAINING_KEYWORDS, (epochs, batch_size, optimizer, learning_rate,
                                                          early_stopping, trace_once, loss, schedule))
                 if v is not None}
        if given and not self.needs_training:
            raise ConfigError(f"{next(iter(given))}={next(iter(given.values()))!r} is invalid with "
                              "needs_training=False: an objective that needs no trained model does not say how "
                              "candidates train")
        if given:
            self.training = TrainingConfig(**given)

    def probes(self) -> tuple[Probe, ...]:
        """Measurements the trainer must take for this objective (see ``evokit.fitness.probes``)."""
        return ()

    def setup(self, data: Any, training: TrainingConfig | None) -> None:
        """Called once before a search evaluates anything: override for set-up that needs the
        data or the training settings (e.g. to predict costs)."""

    def compute(self, evaluation: Evaluation) -> float:
        """The objective's value for a successful evaluation."""
        if self.fn is None:
            raise NotImplementedError(f"{type(self).__name__} must override compute() or be given fn")
        return self.fn(evaluation)

    def value(self, evaluation: Evaluation) -> float:
        """The value of a successful (or untrained) evaluation as computed, as a float: it may
        raise, and may be NaN. ``__call__`` gives the failure value for anything not finite; a
        search (``CandidateEvaluator.scored``) instead makes an objective that raises or gives NaN
        that candidate's failure, with reason ``"objective_error"``. Override it (not
        ``compute``) in an objective computed from others, so that their NaN shows through."""
        return float(self.compute(evaluation))

    def bounded(self, evaluation: Evaluation, value: float) -> float:
        """``value`` if it is finite, else the failure value (an infinite value is the worst)."""
        return value if math.isfinite(value) else float(self.failure_value(evaluation))

    def failure_value(self, evaluation: Evaluation) -> float:
        """The value of a failed candidate: the worst possible unless configured."""
        if self._failure_value is not None:
            return self._failure_value
        return -math.inf if self.weight > 0 else math.inf

    def __call__(self, evaluation: Evaluation) -> float:
        """The value for this evaluation; failed candidates (and NaN or infinite results) get the
        failure value. In a search a NaN result (or an exception) fails the candidate instead."""
        if evaluation.failed:
            return float(self.failure_value(evaluation))
        return self.bounded(evaluation, self.value(evaluation))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, weight={self.weight})"


def score(objectives: Sequence[Objective], evaluation: Evaluation) -> tuple[Evaluation, tuple[float, ...]]:
    """The values a search gives ``evaluation``, and the evaluation its candidate is reported with.

    A failed evaluation gets each objective's failure value. On a successful (or untrained) one,
    an objective that raises, or gives NaN, makes it that candidate's failure: reason
    ``"objective_error"``, a message naming the objective (``objectives[1] 'latency':
    ZeroDivisionError: division by zero``, ``... returned NaN``), the training's metrics kept,
    and every objective's failure value. An infinite value is that objective's failure value. A
    configuration error (an :class:`~evokit.errors.EvokitError`, e.g. ``ValidationAccuracy`` on
    regression data) is raised: it would fail every candidate, so it ends the search.
    """
    if evaluation.failed:
        return evaluation, tuple(o(evaluation) for o in objectives)
    values = []
    for k, objective in enumerate(objectives):
        try:
            value = objective.value(evaluation)
        except EvokitError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failing objective fails this candidate only
            problem = describe(exc)
        else:
            if not math.isnan(value):
                values.append(objective.bounded(evaluation, value))
                continue
            problem = "returned NaN"
        failed = dataclasses.replace(evaluation, status="failed", reason="objective_error",
                                     message=f"objectives[{k}] {objective.name!r}: {problem}")
        return failed, tuple(o(failed) for o in objectives)
    return evaluation, tuple(values)
