"""ValidationMetric: the base of the objectives that train candidates and read one validation metric.

``ValidationAccuracy``, ``ValidationLoss`` (:mod:`evokit.fitness.accuracy`) and the regression
objectives (:mod:`evokit.fitness.regression`) differ only in the metric they read, its direction
and the task that scores it; this class holds what they share:

* their constructor keywords are a :class:`~evokit.evaluation.TrainingConfig`'s (how every
  candidate of the search is trained, once, shared by all objectives), so a config table maps
  onto them one to one;
* :meth:`setup`, called once when a search meets its data, refuses a loss the data's task does
  not offer (``loss='huber'`` on classification) and an objective whose metric the task does not
  score (``ValidationR2`` on classification), with a ConfigError, before anything trains;
* :meth:`compute` reads ``metric`` from the Evaluation, with the same error when it is missing
  (an evaluation made outside a search).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from evokit import tasks
from evokit.errors import ConfigError
from evokit.evaluation import Evaluation, TrainingConfig
from evokit.fitness.base import Objective


class ValidationMetric(Objective):
    """One metric of the validation split after training (``metric``: a key of
    ``Evaluation.metrics`` such as ``val_r2``), maximised or minimised by ``weight``.

    Subclasses set ``name``, ``metric``, ``weight``, ``failure`` (the failure value; None for the
    worst possible), ``needs`` (the kind of data that scores the metric, for messages) and
    ``instead`` (what to use on other data). Their arguments are those of
    :class:`evokit.evaluation.TrainingConfig` (``trace_once=True``: chains of conv/pool/dense
    layers train in a graph traced once per structure and reused; ``loss``: one the data's task
    offers, e.g. ``"huber"`` for regression, None for the task's own).
    """

    metric: str = "val_loss"
    needs_training = True
    failure: float | None = None
    needs: str = "labelled"
    instead: str = ""

    def __init__(self, epochs: int = 3, batch_size: int = 32, optimizer: str = "adam",
                 learning_rate: float = 1e-3, early_stopping: int | None = None, trace_once: bool = False,
                 loss: str | None = None, schedule: str = "constant"):
        super().__init__(failure_value=self.failure)
        self.training = TrainingConfig(epochs=epochs, batch_size=batch_size, optimizer=optimizer,
                                       learning_rate=learning_rate, early_stopping=early_stopping,
                                       trace_once=trace_once, loss=loss, schedule=schedule)

    def setup(self, data: Any, training: TrainingConfig | None) -> None:
        """:meth:`check`, when a search meets its data."""
        self.check(data, training)

    def check(self, data: Any, training: TrainingConfig | None) -> None:
        """Refuse, before anything trains, a training loss the data's task does not offer and a
        metric it does not score (ConfigError naming ``loss``, or this objective and the task);
        nothing else (the job service checks a submission with it)."""
        if getattr(data, "task", None) is None:  # not a Dataset (a stand-in of a test): nothing to check against
            return
        task = tasks.get(data.task)
        if training is not None:
            task.training_loss(training.loss)
        scored = scored_metrics(task, data)
        if scored is not None and self.metric not in scored:
            raise ConfigError(f"{type(self).__name__} needs {self.needs} data: it reads {self.metric}, which a "
                              f"{task.name} task does not score (it scores {', '.join(sorted(scored))})"
                              + (f"; {self.instead}" if self.instead else ""))

    def compute(self, evaluation: Evaluation) -> float:
        if self.metric not in evaluation.metrics:
            raise ConfigError(f"{type(self).__name__} needs {self.needs} data: the evaluation has no {self.metric}"
                              + (f" ({self.instead})" if self.instead else ""))
        return evaluation.metrics[self.metric]


def scored_metrics(task: tasks.Task, data: Any) -> set[str] | None:
    """The keys of ``Evaluation.metrics`` a training on ``data`` gives: those ``task.score``
    returns for the validation split (scored here on two samples with all-zero predictions) and
    the training ``loss``; None when that cannot be known (a task whose score needs other
    predictions), so that nothing is refused on a guess."""
    try:
        y = data.y_val[:2]
        shape = (*y.shape, data.n_outputs) if task.per_pixel else (len(y), data.n_outputs)  # a mask's per pixel
        keys = task.score(y, np.zeros(shape, "float32"), "val_")
    except Exception:  # noqa: BLE001 - a user's task may need real predictions: no early check then
        return None
    return set(keys) | {"loss"}
