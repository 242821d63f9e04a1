"""ValidationAccuracy and ValidationLoss: the objectives that train candidates (classification,
and any task's loss)."""
from __future__ import annotations

from evokit.fitness.validation import ValidationMetric


class ValidationAccuracy(ValidationMetric):
    """Accuracy (fraction in [0, 1]) on the validation split after training; maximised.

    Its arguments say how every candidate of the search is trained (once, shared by all
    objectives): see :class:`evokit.evaluation.TrainingConfig` (``trace_once=True``: chains of
    conv/pool/dense layers train in a graph traced once per structure and reused, see the runtime
    guide). Classification data only: a search on regression data is refused when it starts.
    """

    name = "val_accuracy"
    metric = "val_accuracy"
    weight = 1.0
    failure = 0.0
    needs = "classification"
    instead = "for regression use ValidationR2, ValidationMAE, ValidationRMSE or ValidationLoss"


class ValidationLoss(ValidationMetric):
    """Loss on the validation split (cross-entropy, or MSE for regression: the task's own loss,
    whatever ``loss`` the candidates train with); minimised."""

    name = "val_loss"
    metric = "val_loss"
    weight = -1.0
