"""Runtime: evaluators, the trainer, the fitness cache and the run directory."""
from evokit.runtime.cache import FitnessCache
from evokit.runtime.candidates import CandidateEvaluator, Outcome
from evokit.runtime.evaluators import Evaluator, ProcessEvaluator, SerialEvaluator, make_evaluator
from evokit.runtime.dask import DaskEvaluator
from evokit.runtime.fidelity import SuccessiveHalving
from evokit.runtime.map_evaluator import MapEvaluator
from evokit.runtime.checkpoint import Interrupts, load_checkpoint, save_checkpoint
from evokit.runtime.rundir import RunDirectory, read_candidates
from evokit.runtime.runlog import RunLog

__all__ = ["FitnessCache", "CandidateEvaluator", "Outcome", "Evaluator", "ProcessEvaluator", "SerialEvaluator",
           "DaskEvaluator", "MapEvaluator", "SuccessiveHalving",
           "make_evaluator", "RunDirectory", "read_candidates", "Interrupts", "load_checkpoint", "save_checkpoint",
           "RunLog"]
