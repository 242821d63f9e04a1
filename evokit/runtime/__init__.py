"""Runtime: where and how candidates are evaluated. Four rooms whose imports point one way:

* :mod:`evokit.runtime.run`: run records (run directory, run log, checkpoint);
* :mod:`evokit.runtime.candidates`: genotype -> fitness (decode, cache, plan, remember);
* :mod:`evokit.runtime.executors`: where training runs (serial, processes, map, Dask);
* :mod:`evokit.runtime.training`: one network's training.

This face exports the concepts a user configures: evaluators, the fitness cache, successive
halving, and the reader of a run's candidate records.
"""
from evokit.runtime.candidates.cache import FitnessCache
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.candidates.fidelity import SuccessiveHalving
from evokit.runtime.executors import (DaskEvaluator, Evaluator, MapEvaluator, ProcessEvaluator, SerialEvaluator,
                                      make_evaluator)
from evokit.runtime.run.directory import read_candidates

__all__ = ["Evaluator", "SerialEvaluator", "ProcessEvaluator", "MapEvaluator", "DaskEvaluator", "make_evaluator",
           "CandidateEvaluator", "FitnessCache", "SuccessiveHalving", "read_candidates"]
