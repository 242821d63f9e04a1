"""Executors: where candidates train (this process, a pool of worker processes, any DEAP-style
``map``, a Dask cluster), all under one contract (:class:`Evaluator`), and the factory that
picks one from a ``workers`` argument.

Imports :mod:`evokit.runtime.training` (one network's training) and nothing above it.
"""
from evokit.runtime.executors.process import (Evaluator, OnResult, ProcessEvaluator, SerialEvaluator, Task,
                                              largest_first, make_evaluator)
from evokit.runtime.executors.map import MapEvaluator
from evokit.runtime.executors.dask import DaskEvaluator

__all__ = ["Evaluator", "OnResult", "SerialEvaluator", "ProcessEvaluator", "MapEvaluator", "DaskEvaluator", "Task",
           "largest_first", "make_evaluator"]
