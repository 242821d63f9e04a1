"""Complexity objectives computed analytically from the NetSpec: no training needed."""
from __future__ import annotations

from evokit.evaluation import Evaluation
from evokit.fitness.base import Objective
from evokit.netspec import NetSpec


class SpecObjective(Objective):
    """An objective read off the NetSpec alone: it needs no training, and a candidate whose
    training failed still has its value (only a genotype that did not decode gets the failure value)."""

    needs_training = False

    def __init__(self) -> None:
        super().__init__()

    def measure(self, spec: NetSpec) -> float:
        raise NotImplementedError

    def compute(self, evaluation: Evaluation) -> float:
        return float(self.measure(evaluation.spec))

    def __call__(self, evaluation: Evaluation) -> float:
        return self.compute(evaluation) if evaluation.spec is not None else float(self.failure_value(evaluation))


class ParameterCount(SpecObjective):
    """Number of parameters of the network (trainable and not); minimised."""

    name = "params"
    weight = -1.0

    def measure(self, spec: NetSpec) -> float:
        return spec.params


class FLOPs(SpecObjective):
    """FLOPs of one forward pass of one sample (2 per multiply-accumulate); minimised."""

    name = "flops"
    weight = -1.0

    def measure(self, spec: NetSpec) -> float:
        return spec.flops
