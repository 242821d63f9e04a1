"""Fitness plugins: objectives read from an Evaluation, constraints, and how they combine.

Units are part of the names: ``energy_kwh`` (kWh), ``co2_kg`` (kg CO2-eq), ``latency_ms``
(milliseconds), ``flops`` (FLOPs per forward pass of one sample), ``params`` (parameters).
"""
from evokit.evaluation import Evaluation
from evokit.fitness.accuracy import ValidationAccuracy, ValidationLoss
from evokit.fitness.base import DEFAULT_TRAINING, Objective
from evokit.fitness.carbon import CO2, CostModel, Energy, Footprint, GreenAlgorithms, search_cost
from evokit.fitness.combine import DeepGAScore, WeightedSum
from evokit.fitness.complexity import FLOPs, ParameterCount, SpecObjective
from evokit.fitness.gan import Coverage, FrechetDistance, Precision, Recall
from evokit.fitness.constraints import Constraint, MaxFLOPs, MaxMemory, MaxParams, MaxPredictedCO2
from evokit.fitness.measured import Latency, ModelObjective
from evokit.fitness.probes import EnergyProbe, FunctionProbe, LatencyProbe, Probe
from evokit.fitness.regression import ValidationMAE, ValidationR2, ValidationRMSE
from evokit.fitness.segmentation import ValidationDice, ValidationIoU
from evokit.fitness.validation import ValidationMetric

__all__ = ["Evaluation", "Objective", "DEFAULT_TRAINING", "ValidationMetric", "ValidationAccuracy", "ValidationLoss",
           "ValidationMAE", "ValidationRMSE", "ValidationR2", "ValidationDice", "ValidationIoU", "FrechetDistance",
           "Coverage", "Precision", "Recall", "ParameterCount", "FLOPs",
           "SpecObjective", "DeepGAScore", "WeightedSum", "CO2", "Energy", "Footprint", "GreenAlgorithms",
           "CostModel", "search_cost", "Latency", "ModelObjective", "Constraint", "MaxParams", "MaxFLOPs", "MaxMemory",
           "MaxPredictedCO2", "Probe", "EnergyProbe", "LatencyProbe", "FunctionProbe"]
