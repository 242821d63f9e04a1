"""ValidationAccuracy: the objective that trains candidates."""
from __future__ import annotations

from evokit.errors import ConfigError
from evokit.evaluation import Evaluation
from evokit.fitness.base import Objective
from evokit.evaluation import TrainingConfig


class ValidationAccuracy(Objective):
    """Accuracy (fraction in [0, 1]) on the validation split after training; maximised.

    Its arguments say how every candidate of the search is trained (once, shared by all
    objectives): see :class:`evokit.evaluation.TrainingConfig` (``trace_once=True``: chains of
    conv/pool/dense layers train in a graph traced once per structure and reused, see the runtime
    guide).
    """

    name = "val_accuracy"
    weight = 1.0
    needs_training = True

    def __init__(self, epochs: int = 3, batch_size: int = 32, optimizer: str = "adam",
                 learning_rate: float = 1e-3, early_stopping: int | None = None, trace_once: bool = False):
        super().__init__(failure_value=0.0)
        self.training = TrainingConfig(epochs=epochs, batch_size=batch_size, optimizer=optimizer,
                                       learning_rate=learning_rate, early_stopping=early_stopping,
                                       trace_once=trace_once)

    def compute(self, evaluation: Evaluation) -> float:
        if "val_accuracy" not in evaluation.metrics:
            raise ConfigError("ValidationAccuracy needs a classification dataset: the evaluation has no "
                              "val_accuracy (for regression use ValidationLoss)")
        return evaluation.metrics["val_accuracy"]


class ValidationLoss(Objective):
    """Loss on the validation split (cross-entropy, or MSE for regression); minimised."""

    name = "val_loss"
    weight = -1.0
    needs_training = True

    def __init__(self, epochs: int = 3, batch_size: int = 32, optimizer: str = "adam",
                 learning_rate: float = 1e-3, early_stopping: int | None = None, trace_once: bool = False):
        super().__init__()
        self.training = TrainingConfig(epochs=epochs, batch_size=batch_size, optimizer=optimizer,
                                       learning_rate=learning_rate, early_stopping=early_stopping,
                                       trace_once=trace_once)

    def compute(self, evaluation: Evaluation) -> float:
        return evaluation.metrics["val_loss"]
