"""Combining objectives: DeepGA's weighted score, and the rules for objective tuples."""
from __future__ import annotations

from typing import Any, Sequence

from evokit.errors import ConfigError, check_float, check_int
from evokit.evaluation import Evaluation
from evokit.fitness.accuracy import ValidationAccuracy
from evokit.fitness.base import Objective
from evokit.evaluation import TrainingConfig


class DeepGAScore(Objective):
    """DeepGA's single objective f = (1 - w) * accuracy + w * (Pmax - P) / Pmax; maximised.

    Args:
        w: weight of the size term, in [0, 1].
        max_params: Pmax; networks with more parameters get no size credit (the term is
            clipped at 0).
        accuracy: the accuracy objective (its settings say how candidates are trained).
    """

    name = "deepga_score"
    weight = 1.0
    needs_training = True

    def __init__(self, w: float = 0.3, max_params: int = 100_000, accuracy: ValidationAccuracy | None = None):
        super().__init__(failure_value=0.0)
        self.w = check_float("w", w, minimum=0.0, maximum=1.0)
        self.max_params = check_int("max_params", max_params, minimum=1)
        self.accuracy = accuracy if accuracy is not None else ValidationAccuracy()
        self.training = self.accuracy.training

    def compute(self, evaluation: Evaluation) -> float:
        size = max(0.0, (self.max_params - evaluation.params) / self.max_params)
        return (1 - self.w) * self.accuracy.compute(evaluation) + self.w * size


def as_objectives(objectives: Any) -> list[Objective]:
    """Normalise one objective, a callable, or a sequence of them to a list of Objectives."""
    if objectives is None:
        raise ConfigError("objectives=None is invalid: expected an Objective or a list of Objectives")
    items: Sequence[Any] = objectives if isinstance(objectives, (list, tuple)) else [objectives]
    if not items:
        raise ConfigError("objectives=[] is invalid: expected at least one Objective")
    out = []
    for i, o in enumerate(items):
        if isinstance(o, Objective):
            out.append(o)
        elif callable(o):
            out.append(Objective(o))
        else:
            raise ConfigError(f"objectives[{i}]={o!r} is invalid: expected an Objective or a callable of an Evaluation")
    names = [o.name for o in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"objectives={names} is invalid: objective names must be unique")
    return out


def weights(objectives: Sequence[Objective]) -> tuple[float, ...]:
    """The DEAP fitness weights of an objective tuple."""
    return tuple(float(o.weight) for o in objectives)


def training_config(objectives: Sequence[Objective]) -> TrainingConfig | None:
    """How candidates are trained: the one config the objectives give, the default when some
    objective needs training but none says how, or None when nothing needs training."""
    configs = {o.training for o in objectives if o.training is not None}
    if len(configs) > 1:
        raise ConfigError(f"objectives={list(objectives)} is invalid: they ask for different training "
                          f"settings ({', '.join(c.key() for c in configs)}); candidates are trained once")
    if configs:
        return configs.pop()
    return TrainingConfig() if any(o.needs_training for o in objectives) else None
