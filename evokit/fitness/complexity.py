"""Complexity objectives computed analytically from the NetSpec: no training needed."""
from __future__ import annotations

from evokit.evaluation import Evaluation
from evokit.fitness.base import Objective


class ParameterCount(Objective):
    """Number of parameters of the network (trainable and not); minimised."""

    name = "params"
    weight = -1.0
    needs_training = False

    def __init__(self) -> None:
        super().__init__()

    def compute(self, evaluation: Evaluation) -> float:
        return float(evaluation.params)

    def failure_value(self, evaluation: Evaluation) -> float:
        # A network that failed to train still has a known size; one that did not decode has none.
        return float(evaluation.params) if evaluation.spec is not None else super().failure_value(evaluation)

    def __call__(self, evaluation: Evaluation) -> float:
        return self.compute(evaluation) if evaluation.spec is not None else self.failure_value(evaluation)


class FLOPs(Objective):
    """FLOPs of one forward pass of one sample (2 per multiply-accumulate); minimised."""

    name = "flops"
    weight = -1.0
    needs_training = False

    def __init__(self) -> None:
        super().__init__()

    def compute(self, evaluation: Evaluation) -> float:
        return float(evaluation.flops)

    def __call__(self, evaluation: Evaluation) -> float:
        return self.compute(evaluation) if evaluation.spec is not None else self.failure_value(evaluation)
