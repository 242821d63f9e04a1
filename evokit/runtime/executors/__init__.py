"""Executors: where candidates train (this process, a pool of worker processes, any DEAP-style
``map``, a Dask cluster), all under one contract (:class:`Evaluator`), and the factory that
picks one from a ``workers`` argument.

Inside, imports point one way: ``base`` (the contract: Evaluator, Job, JobSettings) <- ``batch``
(results in order, crash isolation) <- ``serial``, ``process``, ``map`` <- ``dask_worker`` (what
runs on a Dask worker: by default a one-process ProcessEvaluator) <- ``dask`` <- ``factory``. The room imports
:mod:`evokit.runtime.training` (one network's training, worker-process set-up) and nothing above it.
"""
from evokit.runtime.executors.base import Evaluator, Job, JobSettings, OnResult, largest_first
from evokit.runtime.executors.dask import DaskEvaluator
from evokit.runtime.executors.factory import make_evaluator
from evokit.runtime.executors.map import MapEvaluator
from evokit.runtime.executors.process import ProcessEvaluator
from evokit.runtime.executors.serial import SerialEvaluator

__all__ = ["Evaluator", "OnResult", "SerialEvaluator", "ProcessEvaluator", "MapEvaluator", "DaskEvaluator", "Job",
           "JobSettings", "largest_first", "make_evaluator"]
