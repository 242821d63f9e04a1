"""Energy (kWh) and emissions (kg CO2-eq) of training candidates: measured, estimated, predicted.

* **measured**: CodeCarbon's ``OfflineEmissionsTracker`` around each candidate's training (needs
  the ``carbon`` extra; see :class:`evokit.fitness.probes.EnergyProbe`).
* **estimated**: the Green Algorithms formula (Lannelongue, Grealey & Inouye, "Green Algorithms:
  Quantifying the Carbon Footprint of Computation", Advanced Science 8, 2021) from the candidate's
  measured wall time, the cores it used and its peak memory. No extra dependency.
* **predicted**: the same formula with the wall time predicted *before* training from the
  NetSpec's FLOPs by a :class:`CostModel`, so a search can screen candidates without training them.

Without RAPL counters (most VMs, this project's machines), CodeCarbon's own figure is itself
mostly a fixed power estimate times the duration, so measured and estimated figures agree in
shape and differ mainly by the constants used.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from evokit.errors import ConfigError, check_choice, check_float, check_int
from evokit.evaluation import Evaluation, TrainingConfig
from evokit.fitness.base import Objective
from evokit.fitness.probes import EnergyProbe, Probe, check_available_energy_probe
from evokit.netspec import NetSpec

MODES = ("measured", "estimated", "predicted")


@dataclass(frozen=True)
class GreenAlgorithms:
    """The Green Algorithms estimate of energy and emissions of a computation.

    energy (kWh) = hours x (cores x cpu_power_per_core_w x usage + memory_gb x
    memory_power_per_gb_w) x pue / 1000; emissions (kg CO2-eq) = energy x
    carbon_intensity_g_per_kwh / 1000.

    Args:
        cpu_power_per_core_w: power draw of one core at full load (W). Green Algorithms takes it
            from the CPU's TDP divided by its cores; its table spans about 5-20 W per core for
            desktop and server CPUs. 12 W is a middle value: set your CPU's.
        usage: core usage factor in [0, 1] (1: fully busy, Green Algorithms' default).
        memory_power_per_gb_w: 0.3725 W per GB of memory, Green Algorithms' figure.
        pue: power usage effectiveness of the facility (1.0 for a personal machine; Green
            Algorithms uses 1.67, a data centre average, when unknown).
        carbon_intensity_g_per_kwh: grams CO2-eq per kWh of electricity where the computation
            ran; 475 is the world average Green Algorithms uses. (CodeCarbon's figure for the USA
            implies about 370.)
        cores, memory_gb: override the cores and memory read from each evaluation (and the
            values used for predictions: all cores and 1 GB by default).
    """

    cpu_power_per_core_w: float = 12.0
    usage: float = 1.0
    memory_power_per_gb_w: float = 0.3725
    pue: float = 1.0
    carbon_intensity_g_per_kwh: float = 475.0
    cores: int | None = None
    memory_gb: float | None = None

    def __post_init__(self) -> None:
        check_float("cpu_power_per_core_w", self.cpu_power_per_core_w, minimum=0.0)
        check_float("usage", self.usage, minimum=0.0, maximum=1.0)
        check_float("memory_power_per_gb_w", self.memory_power_per_gb_w, minimum=0.0)
        check_float("pue", self.pue, minimum=1.0)
        check_float("carbon_intensity_g_per_kwh", self.carbon_intensity_g_per_kwh, minimum=0.0)
        if self.cores is not None:
            check_int("cores", self.cores, minimum=1)
        if self.memory_gb is not None:
            check_float("memory_gb", self.memory_gb, minimum=0.0)

    def energy_kwh(self, seconds: float, cores: int | None = None, memory_gb: float | None = None) -> float:
        """Energy in kWh of ``seconds`` of computation on ``cores`` cores with ``memory_gb`` GB."""
        cores = self.cores or cores or os.cpu_count() or 1
        memory_gb = self.memory_gb if self.memory_gb is not None else (memory_gb if memory_gb is not None else 1.0)
        watts = cores * self.cpu_power_per_core_w * self.usage + memory_gb * self.memory_power_per_gb_w
        return seconds / 3600.0 * watts * self.pue / 1000.0

    def co2_kg(self, energy_kwh: float) -> float:
        """Emissions in kg CO2-eq of ``energy_kwh``."""
        return energy_kwh * self.carbon_intensity_g_per_kwh / 1000.0

    def evaluation_energy_kwh(self, evaluation: Evaluation) -> float:
        """Estimated energy of one evaluation, from its wall time, cores and peak memory."""
        return self.energy_kwh(evaluation.wall_time, evaluation.extra.get("cores"), evaluation.extra.get("memory_gb"))


@dataclass(frozen=True)
class CostModel:
    """Predicts a candidate's wall time before training from its FLOPs.

    seconds = overhead_s + training FLOPs / flops_per_s, with training FLOPs = 3 x forward FLOPs x
    training samples x epochs (forward and backward passes) + forward FLOPs x validation samples.
    On a CPU, small models are dominated by the fixed per-model overhead (graph tracing); fit both
    numbers to your machine with :meth:`fit`. The defaults were fitted on this project's 2-core
    development machine (50 DeepGA candidates on digits, ``examples/nsga2_co2.py``: 0.58 s and
    48 GFLOP/s, median error of the predicted time 13%).
    """

    overhead_s: float = 0.6
    flops_per_s: float = 4.8e10

    def __post_init__(self) -> None:
        check_float("overhead_s", self.overhead_s, minimum=0.0)
        check_float("flops_per_s", self.flops_per_s, minimum=0.0, exclusive_minimum=True)

    @staticmethod
    def training_flops(spec: NetSpec, n_train: int, n_val: int, epochs: int) -> float:
        return 3.0 * spec.flops * n_train * epochs + spec.flops * n_val

    def seconds(self, spec: NetSpec, n_train: int, n_val: int, epochs: int) -> float:
        return self.overhead_s + self.training_flops(spec, n_train, n_val, epochs) / self.flops_per_s

    @classmethod
    def fit(cls, evaluations: Iterable[Evaluation], n_train: int, n_val: int, epochs: int) -> "CostModel":
        """Least-squares fit of overhead and throughput to evaluations' measured wall times."""
        points = [(cls.training_flops(e.spec, n_train, n_val, epochs), e.wall_time)
                  for e in evaluations if e.spec is not None and e.status == "ok"]
        if len(points) < 2 or len({x for x, _ in points}) < 2:
            raise ConfigError("evaluations are too few to fit a CostModel: expected 2 or more successful "
                              "evaluations of networks of different sizes")
        x, y = np.array(points).T
        slope, intercept = np.polyfit(x, y, 1)
        if slope <= 0:
            raise ConfigError("evaluations show no growth of wall time with FLOPs: cannot fit a throughput")
        return cls(overhead_s=max(0.0, float(intercept)), flops_per_s=float(1.0 / slope))


class Footprint(Objective):
    """Base of ``Energy`` and ``CO2``: one quantity of a candidate's training; minimised.

    Args:
        mode: ``"measured"`` (CodeCarbon), ``"estimated"`` (Green Algorithms from the measured
            wall time) or ``"predicted"`` (Green Algorithms from the wall time a CostModel
            predicts from FLOPs: no training needed).
        estimator: the Green Algorithms constants.
        cost_model: how wall time is predicted (mode "predicted").
        country_iso_code, pue, tracking_mode: CodeCarbon's settings (mode "measured").
    """

    weight = -1.0
    quantity = "energy_kwh"

    def __init__(self, mode: str = "estimated", estimator: GreenAlgorithms | None = None,
                 cost_model: CostModel | None = None, country_iso_code: str = "USA", pue: float = 1.0,
                 tracking_mode: str = "process"):
        super().__init__()
        self.mode = check_choice("mode", mode, MODES)
        if estimator is not None and not isinstance(estimator, GreenAlgorithms):
            raise ConfigError(f"estimator={estimator!r} is invalid: expected a GreenAlgorithms or None")
        if cost_model is not None and not isinstance(cost_model, CostModel):
            raise ConfigError(f"cost_model={cost_model!r} is invalid: expected a CostModel or None")
        self.estimator = estimator if estimator is not None else GreenAlgorithms()
        self.cost_model = cost_model if cost_model is not None else CostModel()
        self.needs_training = mode != "predicted"
        self.energy_probe = None
        if mode == "measured":
            check_available_energy_probe()
            check_choice("tracking_mode", tracking_mode, ("process", "machine"))
            self.energy_probe = EnergyProbe(country_iso_code, check_float("pue", pue, minimum=1.0), tracking_mode)
        self._sizes: tuple[int, int, int] | None = None

    def probes(self) -> tuple[Probe, ...]:
        return (self.energy_probe,) if self.energy_probe is not None else ()

    def setup(self, data: Any, training: TrainingConfig | None) -> None:
        self._sizes = (len(data.x_train), len(data.x_val), (training or TrainingConfig()).epochs)

    def predicted_energy_kwh(self, spec: NetSpec) -> float:
        if self._sizes is None:
            raise ConfigError(f"{type(self).__name__}(mode='predicted') was not set up with the data: call "
                              "setup(data, training) or use it inside a search")
        return self.estimator.energy_kwh(self.cost_model.seconds(spec, *self._sizes))

    def energy_kwh(self, evaluation: Evaluation) -> float:
        if self.mode == "measured":
            return evaluation.metrics["energy_kwh_measured"]
        if self.mode == "estimated":
            return self.estimator.evaluation_energy_kwh(evaluation)
        return self.predicted_energy_kwh(evaluation.spec)

    def failure_value(self, evaluation: Evaluation) -> float:
        # A failed training still spent its energy: report it when it is known.
        if self._failure_value is None and evaluation.spec is not None:
            try:
                value = self.compute(evaluation)
                if math.isfinite(value):
                    return value
            except (KeyError, ConfigError):
                pass
        return super().failure_value(evaluation)


class Energy(Footprint):
    """Energy of one candidate's training, in kWh; minimised."""

    name = "energy_kwh"

    def compute(self, evaluation: Evaluation) -> float:
        return self.energy_kwh(evaluation)


class CO2(Footprint):
    """Emissions of one candidate's training, in kg CO2-eq; minimised."""

    name = "co2_kg"

    def compute(self, evaluation: Evaluation) -> float:
        if self.mode == "measured":
            return evaluation.metrics["co2_kg_measured"]
        return self.estimator.co2_kg(self.energy_kwh(evaluation))


def search_cost(evaluations: Sequence[Evaluation], estimator: GreenAlgorithms) -> dict[str, float]:
    """Total energy (kWh) and emissions (kg CO2-eq) of the trainings behind ``evaluations``:
    estimated always, measured too when every one was measured."""
    trained = [e for e in evaluations if e.status != "untrained" and e.wall_time > 0]
    energy = sum(estimator.evaluation_energy_kwh(e) for e in trained)
    cost = {"energy_kwh_estimated": energy, "co2_kg_estimated": estimator.co2_kg(energy),
            "train_seconds": sum(e.wall_time for e in trained)}
    if trained and all("energy_kwh_measured" in e.metrics for e in trained):
        cost["energy_kwh_measured"] = sum(e.metrics["energy_kwh_measured"] for e in trained)
        cost["co2_kg_measured"] = sum(e.metrics["co2_kg_measured"] for e in trained)
    return cost
