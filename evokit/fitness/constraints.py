"""Constraints: limits a candidate must meet *before* it is trained.

A candidate over a limit is scored as failed with reason ``"infeasible"`` (its objectives get
their failure values) without spending any training time, and counted in the search's
statistics. Every check reads only the NetSpec.
"""
from __future__ import annotations

import math
from typing import Any

from evokit.errors import check_float, check_int
from evokit.evaluation import TrainingConfig
from evokit.fitness.carbon import CO2
from evokit.netspec import NetSpec


class Constraint:
    """A limit on networks. ``violation(spec)`` returns a message, or None when it is met."""

    def setup(self, data: Any, training: TrainingConfig | None) -> None:
        """Called once before a search evaluates anything."""

    def violation(self, spec: NetSpec) -> str | None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items() if k[0] != '_')})"


class MaxParams(Constraint):
    """At most ``limit`` parameters."""

    def __init__(self, limit: int):
        self.limit = check_int("limit", limit, minimum=1)

    def violation(self, spec: NetSpec) -> str | None:
        return None if spec.params <= self.limit else f"{spec.params:,} parameters > limit {self.limit:,}"


class MaxFLOPs(Constraint):
    """At most ``limit`` FLOPs per forward pass of one sample."""

    def __init__(self, limit: int):
        self.limit = check_int("limit", limit, minimum=1)

    def violation(self, spec: NetSpec) -> str | None:
        return None if spec.flops <= self.limit else f"{spec.flops:,} FLOPs > limit {self.limit:,}"


class MaxPredictedCO2(Constraint):
    """At most ``kg`` kg CO2-eq for training, as predicted from FLOPs before training.

    ``co2`` sets the constants and the cost model of the prediction (default
    ``CO2(mode="predicted")``).
    """

    def __init__(self, kg: float, co2: CO2 | None = None):
        self.kg = check_float("kg", kg, minimum=0.0, exclusive_minimum=True)
        self._co2 = co2 if co2 is not None else CO2(mode="predicted")

    def setup(self, data: Any, training: TrainingConfig | None) -> None:
        self._co2.setup(data, training)

    def violation(self, spec: NetSpec) -> str | None:
        predicted = self._co2.estimator.co2_kg(self._co2.predicted_energy_kwh(spec))
        return None if predicted <= self.kg else f"predicted {predicted:.3g} kg CO2-eq > limit {self.kg:.3g}"


class MaxMemory(Constraint):
    """At most ``mb`` megabytes to train, estimated from the NetSpec before training.

    Estimate: 4 bytes x parameters x 4 (weights, gradients and the two Adam moments) + 4 bytes x
    batch size x the sum of every layer's output size x 2 (kept for the backward pass, and its
    gradient). It ignores the framework's own footprint (a few hundred MB per process), so use
    it to reject networks that would not fit, not to predict a process's size.
    """

    def __init__(self, mb: float, batch_size: int | None = None):
        self.mb = check_float("mb", mb, minimum=0.0, exclusive_minimum=True)
        self.batch_size = batch_size if batch_size is None else check_int("batch_size", batch_size, minimum=1)
        self._batch = batch_size or 32

    def setup(self, data: Any, training: TrainingConfig | None) -> None:
        if self.batch_size is None and training is not None:
            self._batch = training.batch_size

    def estimate_mb(self, spec: NetSpec) -> float:
        activations = sum(math.prod(shape) for shape in spec.shapes)
        return (4 * spec.params * 4 + 4 * self._batch * activations * 2) / 1e6

    def violation(self, spec: NetSpec) -> str | None:
        estimate = self.estimate_mb(spec)
        return None if estimate <= self.mb else f"about {estimate:,.0f} MB to train > limit {self.mb:,.0f} MB"
