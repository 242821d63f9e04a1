"""Runtime: evaluators, the trainer, the fitness cache and the run directory."""
from evokit.runtime.cache import FitnessCache
from evokit.runtime.candidates import CandidateEvaluator, Outcome
from evokit.runtime.evaluators import Evaluator, ProcessEvaluator, SerialEvaluator, make_evaluator
from evokit.runtime.rundir import RunDirectory, read_candidates

__all__ = ["FitnessCache", "CandidateEvaluator", "Outcome", "Evaluator", "ProcessEvaluator", "SerialEvaluator",
           "make_evaluator", "RunDirectory", "read_candidates"]
