"""Fitness plugins: objectives read from an Evaluation, and how they combine."""
from evokit.evaluation import Evaluation
from evokit.fitness.accuracy import ValidationAccuracy, ValidationLoss
from evokit.fitness.base import Objective
from evokit.fitness.combine import DeepGAScore, as_objectives, training_config, weights
from evokit.fitness.complexity import FLOPs, ParameterCount, SpecObjective

__all__ = ["Evaluation", "Objective", "ValidationAccuracy", "ValidationLoss", "ParameterCount", "FLOPs",
           "SpecObjective", "DeepGAScore", "as_objectives", "training_config", "weights"]
