"""``make_evaluator``: an evaluator from a ``workers`` argument. The only module of the room
that knows every backend."""
from __future__ import annotations

import sys
from typing import Any

from evokit.errors import ConfigError
from evokit.runtime.executors.base import Evaluator
from evokit.runtime.executors.dask import DaskEvaluator
from evokit.runtime.executors.map import MapEvaluator
from evokit.runtime.executors.process import ProcessEvaluator
from evokit.runtime.executors.serial import SerialEvaluator

_ALLOWED = ("expected 1 (this process), N >= 2 (worker processes), an Evaluator, 'dask', a Dask scheduler "
            "address ('tcp://host:8786'), a distributed.Client or a map function")


def make_evaluator(workers: Any) -> Evaluator:
    """An evaluator from a ``workers`` argument (``Search(workers=...)``, ``evokit.resume``):

    * an Evaluator: used as is;
    * None or 1: train in this process (SerialEvaluator); N >= 2: N worker processes
      (ProcessEvaluator);
    * ``"dask"``: a DaskEvaluator on a LocalCluster of its own (2 worker processes);
    * a scheduler address such as ``"tcp://host:8786"``: a DaskEvaluator connected to it;
    * a ``distributed.Client``: a DaskEvaluator using it (left open at the end);
    * any other callable: a DEAP-style ``map`` (builtin ``map``, ``Pool.map``,
      ``scoop.futures.map``, ...) run by a MapEvaluator.
    """
    if isinstance(workers, Evaluator):
        return workers
    if workers is None:
        return SerialEvaluator()
    if isinstance(workers, str):
        if workers != "dask" and "://" not in workers:
            raise ConfigError(f"workers={workers!r} is invalid: {_ALLOWED}")
        return DaskEvaluator() if workers == "dask" else DaskEvaluator(address=workers)
    distributed = sys.modules.get("distributed")  # a Client exists only if its module is imported
    if distributed is not None and isinstance(workers, distributed.Client):
        return DaskEvaluator(client=workers)
    if callable(workers) and not (isinstance(workers, type) and issubclass(workers, Evaluator)):
        return MapEvaluator(workers)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ConfigError(f"workers={workers!r} is invalid: {_ALLOWED}")
    return SerialEvaluator() if workers == 1 else ProcessEvaluator(workers)
