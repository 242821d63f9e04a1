"""The segmentation objectives: validation Dice and IoU (maximised).

They read the metrics :class:`evokit.tasks.Segmentation` scores the validation split with after
training (``val_dice``, ``val_iou``: per class over every pixel of the split, then averaged over
the classes; the foreground only for binary masks, as NASGP-Net reports it). Their arguments say
how candidates are trained, like :class:`~evokit.fitness.accuracy.ValidationAccuracy`'s; pair
them with :class:`~evokit.fitness.ParameterCount`, :class:`~evokit.fitness.FLOPs` or
:class:`~evokit.fitness.CO2` for NSGA-II, or in a :class:`~evokit.fitness.WeightedSum`::

    ek.Search(objectives=[ek.fitness.ValidationDice(epochs=10), ek.fitness.ParameterCount()],
              encoding=ek.encodings.UNetTree(), algorithm=ek.algorithms.NSGA2(),
              data=ek.datasets.load("cells"))

On data of another task a search refuses them when it starts (ConfigError naming the objective).
A failed candidate scores 0.
"""
from __future__ import annotations

from evokit.fitness.validation import ValidationMetric

_INSTEAD = "for classification use ValidationAccuracy, for regression ValidationR2"


class ValidationDice(ValidationMetric):
    """Dice coefficient (F1 of the pixels, in [0, 1]) on the validation split after training;
    maximised. The segmentation task's headline: what the report and the CLI show."""

    name = "val_dice"
    metric = "val_dice"
    weight = 1.0
    failure = 0.0
    needs = "segmentation"
    instead = _INSTEAD


class ValidationIoU(ValidationMetric):
    """Intersection over union (Jaccard index, in [0, 1]) on the validation split after
    training; maximised. Always at most Dice (IoU = Dice / (2 - Dice) per class)."""

    name = "val_iou"
    metric = "val_iou"
    weight = 1.0
    failure = 0.0
    needs = "segmentation"
    instead = _INSTEAD
