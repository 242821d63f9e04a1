"""Objectives measured on the trained model, where it was trained: latency, user functions."""
from __future__ import annotations

from typing import Any, Callable

from evokit.errors import ConfigError
from evokit.evaluation import Evaluation
from evokit.fitness.base import Objective
from evokit.fitness.probes import FunctionProbe, LatencyProbe, Probe


class Latency(Objective):
    """Inference latency of the trained model in milliseconds (median over ``repeats`` passes of
    one fixed batch of ``batch_size`` validation samples); minimised."""

    name = "latency_ms"
    weight = -1.0

    def __init__(self, batch_size: int = 32, repeats: int = 20):
        super().__init__()
        self.probe = LatencyProbe(batch_size, repeats)

    def probes(self) -> tuple[Probe, ...]:
        return (self.probe,)

    def setup(self, data: Any, training: Any) -> None:
        """Refuse gan data: its model is a generator, which takes latent vectors, not samples."""
        if getattr(data, "task", None) == "gan":
            raise ConfigError("Latency is invalid for gan data: it times the model on validation samples, and a "
                              "gan search's model is a generator (latent vectors in); use ParameterCount or FLOPs")

    def compute(self, evaluation: Evaluation) -> float:
        return evaluation.metrics["latency_ms"]


class ModelObjective(Objective):
    """A user objective of the trained Keras model and the data: ``fn(model, data) -> float``.

    It runs where the model was trained (the model itself never travels between processes), so
    with worker processes ``fn`` must be a module-level function. The training keywords
    (``epochs``, ``batch_size`` ...) say how candidates are trained, as for :class:`Objective`
    (none given: the other objectives' settings, else ``DEFAULT_TRAINING``).
    """

    def __init__(self, fn: Callable[[Any, Any], float], *, name: str | None = None, weight: float = 1.0,
                 epochs: int | None = None, batch_size: int | None = None, optimizer: str | None = None,
                 learning_rate: float | None = None, early_stopping: int | None = None,
                 trace_once: bool | None = None, loss: str | None = None, schedule: str | None = None):
        if not callable(fn):
            raise ConfigError(f"fn={fn!r} is invalid: expected a callable of (model, data)")
        super().__init__(name=name or getattr(fn, "__name__", "model_objective"), weight=weight, epochs=epochs,
                         batch_size=batch_size, optimizer=optimizer, learning_rate=learning_rate,
                         early_stopping=early_stopping, trace_once=trace_once, loss=loss,
                         schedule=schedule)
        self.model_fn = fn

    def probes(self) -> tuple[Probe, ...]:
        return (FunctionProbe(self.model_fn, self.name),)

    def compute(self, evaluation: Evaluation) -> float:
        return evaluation.metrics[self.name]
