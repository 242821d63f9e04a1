"""Probes: measurements an objective needs that can only be taken where the model is trained.

A trained Keras model never leaves the process that trained it, so an objective that needs the
model (its latency, a user function of the model) or the training itself (its measured energy)
declares a Probe; the trainer runs it there and stores the numbers in ``Evaluation.metrics``.

* ``begin()`` / ``end()`` wrap building, training and validating the candidate (energy).
* ``measure(model, data)`` runs on the trained model afterwards (latency, user functions).

Probes are small picklable settings (they travel to worker processes with the job) and their
``key`` is part of the fitness cache key.
"""
from __future__ import annotations

import logging
import math
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable

from evokit.errors import ConfigError, check_int


class Probe:
    """A measurement taken by the trainer; subclasses override what they need.

    ``slot`` names state a probe sets in the training process (a GAN's feature extractor): a
    search may hold only one probe per slot (two would overwrite each other's)."""

    slot: str | None = None

    @property
    def key(self) -> str:
        return repr(self)

    def begin(self) -> None:
        """Called before the candidate is built."""

    def end(self) -> dict[str, float]:
        """Called after validation (or on failure); returns metrics."""
        return {}

    def measure(self, model: Any, data: Any) -> dict[str, float]:
        """Called with the trained model; returns metrics."""
        return {}


_TRACKERS: dict[tuple, Any] = {}


@dataclass(frozen=True)
class EnergyProbe(Probe):
    """Energy and emissions measured by CodeCarbon's ``OfflineEmissionsTracker`` (no network).

    One tracker per process and settings, one CodeCarbon *task* per candidate, so the tracker's
    start-up (~1.3 s) is paid once per worker. Adds ``energy_kwh_measured`` (kWh) and
    ``co2_kg_measured`` (kg CO2-eq) to the metrics.
    """

    country_iso_code: str = "USA"
    pue: float = 1.0
    tracking_mode: str = "process"

    def _tracker(self) -> Any:
        settings = (self.country_iso_code, self.pue, self.tracking_mode)
        if settings not in _TRACKERS:
            try:
                from codecarbon import OfflineEmissionsTracker
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise ConfigError("mode='measured' needs CodeCarbon: pip install 'evokit[carbon]'") from exc
            # log_level="error" below does not cover the tracker's own start-up line.
            logging.getLogger("codecarbon").setLevel(logging.ERROR)
            _TRACKERS[settings] = OfflineEmissionsTracker(
                country_iso_code=self.country_iso_code, pue=self.pue, tracking_mode=self.tracking_mode,
                output_methods=[], log_level="error")
        return _TRACKERS[settings]

    def begin(self) -> None:
        self._tracker().start_task("evokit-candidate")

    def end(self) -> dict[str, float]:
        data = self._tracker().stop_task("evokit-candidate")
        return {"energy_kwh_measured": float(data.energy_consumed), "co2_kg_measured": float(data.emissions)}


def check_available_energy_probe() -> None:
    """Raise ConfigError now (not in a worker later) if CodeCarbon is missing."""
    try:
        import codecarbon  # noqa: F401
    except ImportError as exc:
        raise ConfigError("mode='measured' needs CodeCarbon: pip install 'evokit[carbon]', or use "
                          "mode='estimated'") from exc


@dataclass(frozen=True)
class LatencyProbe(Probe):
    """Inference latency in milliseconds: median over ``repeats`` forward passes of one fixed
    batch of ``batch_size`` validation samples, after one warm-up pass. Adds ``latency_ms``."""

    batch_size: int = 32
    repeats: int = 20

    def __post_init__(self) -> None:
        check_int("batch_size", self.batch_size, minimum=1)
        check_int("repeats", self.repeats, minimum=1)

    def measure(self, model: Any, data: Any) -> dict[str, float]:
        import numpy as np

        batch = data.x_val[: self.batch_size]
        np.asarray(model(batch, training=False))
        times = []
        for _ in range(self.repeats):
            start = time.perf_counter()
            np.asarray(model(batch, training=False))
            times.append(time.perf_counter() - start)
        return {"latency_ms": 1000.0 * statistics.median(times)}


@dataclass(frozen=True)
class FunctionProbe(Probe):
    """Calls a user function ``fn(model, data) -> float`` on the trained model; adds ``name``.

    ``fn`` must be picklable (a module-level function) when candidates train in other processes.
    """

    fn: Callable[[Any, Any], float]
    name: str

    @property
    def key(self) -> str:
        return f"FunctionProbe({getattr(self.fn, '__module__', '')}.{getattr(self.fn, '__qualname__', self.fn)}, " \
               f"{self.name})"

    def measure(self, model: Any, data: Any) -> dict[str, float]:
        value = float(self.fn(model, data))
        return {self.name: value if math.isfinite(value) else math.nan}
