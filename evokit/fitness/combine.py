"""Combining objectives: DeepGA's weighted score, and the rules for objective tuples."""
from __future__ import annotations

import math
from typing import Any, Sequence

from evokit.errors import ConfigError, check_float, check_int
from evokit.evaluation import Evaluation, TrainingConfig
from evokit.fitness.accuracy import ValidationAccuracy
from evokit.fitness.base import DEFAULT_TRAINING, Objective
from evokit.fitness.probes import Probe


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
        if accuracy is not None and not isinstance(accuracy, ValidationAccuracy):
            raise ConfigError(f"accuracy={accuracy!r} is invalid: expected a ValidationAccuracy or None")
        self.accuracy = accuracy if accuracy is not None else ValidationAccuracy()
        self.parts = (self.accuracy,)

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


class WeightedSum(Objective):
    """One scalar from several objectives: sum of ``weight_i * value_i / scale_i``; maximised.

    Give each objective's weight with its sign (e.g. ``+1.0`` for accuracy, ``-0.2`` for
    parameters) and a scale that brings its values to about [0, 1] (e.g. 100_000 parameters), so
    the weights compare like with like. A failed part contributes its failure value.

    Args:
        terms: ``(objective, weight)`` pairs.
        scales: per objective name, the divisor of its values (default 1).
        name: the column name.
    """

    weight = 1.0

    def __init__(self, terms: Sequence[tuple[Objective, float]], scales: dict[str, float] | None = None,
                 name: str = "weighted_sum"):
        super().__init__(name=name)
        if not terms:
            raise ConfigError("terms=[] is invalid: expected (objective, weight) pairs")
        for i, term in enumerate(terms):
            if (not isinstance(term, (tuple, list)) or len(term) != 2 or not isinstance(term[0], Objective)
                    or isinstance(term[1], bool) or not isinstance(term[1], (int, float))):
                raise ConfigError(f"terms[{i}]={term!r} is invalid: expected an (Objective, weight) pair")
        self.terms = [(o, float(w)) for o, w in terms]
        self.scales = dict(scales or {})
        for key, scale in self.scales.items():
            check_float(f"scales[{key!r}]", scale, minimum=0.0, exclusive_minimum=True)
        unknown = set(self.scales) - {o.name for o, _ in self.terms}
        if unknown:
            raise ConfigError(f"scales={self.scales!r} is invalid: {sorted(unknown)} name no objective of the sum")
        self.parts = tuple(o for o, _ in self.terms)
        self.needs_training = any(o.needs_training for o in self.parts)

    def __call__(self, evaluation: Evaluation) -> float:
        total = sum(w * o(evaluation) / self.scales.get(o.name, 1.0) for o, w in self.terms)
        return total if math.isfinite(total) else -math.inf

    def value(self, evaluation: Evaluation) -> float:
        """The sum for a successful evaluation, from its parts' values (NaN when one is NaN)."""
        return sum(w * o.value(evaluation) / self.scales.get(o.name, 1.0) for o, w in self.terms)


def walk(objectives: Sequence[Objective]) -> list[Objective]:
    """The objectives and, recursively, the parts they are computed from."""
    out: list[Objective] = []
    for o in objectives:
        out.append(o)
        out.extend(walk(o.parts))
    return out


def probes(objectives: Sequence[Objective]) -> tuple[Probe, ...]:
    """Every probe the objectives (and their parts) need, each once, in order; ConfigError when
    two differ in one ``slot`` (e.g. two GAN objectives with different ``features``)."""
    found = tuple(dict.fromkeys(p for o in walk(objectives) for p in o.probes()))
    slots: dict[str, Probe] = {}
    for probe in found:
        if probe.slot is not None and slots.setdefault(probe.slot, probe) is not probe:
            raise ConfigError(f"objectives={list(objectives)} is invalid: they ask for different {probe.slot} "
                              f"({slots[probe.slot].key}, {probe.key}); give them the same")
    return found


def weights(objectives: Sequence[Objective]) -> tuple[float, ...]:
    """The DEAP fitness weights of an objective tuple."""
    return tuple(float(o.weight) for o in objectives)


def training_config(objectives: Sequence[Objective], training: TrainingConfig | None = None) -> TrainingConfig | None:
    """How candidates are trained: the one config the objectives (and ``training``, when given)
    give, :data:`~evokit.fitness.base.DEFAULT_TRAINING` when some objective needs training but
    none says how, or None when nothing needs training. Different configs are a ConfigError."""
    if training is not None and not isinstance(training, TrainingConfig):
        raise ConfigError(f"training={training!r} is invalid: expected an evokit TrainingConfig or None")
    every = walk(objectives)
    configs = {o.training for o in every if o.training is not None}
    if training is not None and configs - {training}:
        raise ConfigError(f"training={training.key()} is invalid: the objectives ask for "
                          f"{', '.join(c.key() for c in configs)}; candidates are trained once, give one setting")
    if len(configs) > 1:
        raise ConfigError(f"objectives={list(objectives)} is invalid: they ask for different training "
                          f"settings ({', '.join(c.key() for c in configs)}); candidates are trained once")
    if configs:
        return configs.pop()
    return (training or DEFAULT_TRAINING) if any(o.needs_training for o in every) else None
