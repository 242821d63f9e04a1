"""Search callbacks: code a search calls as it runs (``Search(callbacks=[...])``), in the parent
process only — to log, to plot, or to stop the search early.

The contract is in :mod:`evokit.callbacks.base` (hooks, events, ``request_stop``); what happens
when a hook raises, in :mod:`evokit.callbacks.hooks`. Built in: :class:`CSVLogger`,
:class:`JSONLinesLogger`, :class:`TensorBoard`, :class:`EarlyStopping`.
"""
from evokit.callbacks.base import Callback, CandidateEvaluated, GenerationEnd, SearchBegin, SearchEnd
from evokit.callbacks.early_stopping import EarlyStopping
from evokit.callbacks.loggers import CSVLogger, JSONLinesLogger
from evokit.callbacks.tensorboard import TensorBoard

BUILT_IN: dict[str, type[Callback]] = {
    "csv_logger": CSVLogger,
    "jsonl_logger": JSONLinesLogger,
    "tensorboard": TensorBoard,
    "early_stopping": EarlyStopping,
}
"""``[[callbacks]] type`` -> the callback class."""

PATH_KEYS: dict[str, tuple[str, ...]] = {"csv_logger": ("path", "candidates_path"), "jsonl_logger": ("path",),
                                         "tensorboard": ("log_dir",)}
"""The keys of each config type that name a file or folder (a config's must stay inside the run directory)."""

__all__ = ["Callback", "SearchBegin", "CandidateEvaluated", "GenerationEnd", "SearchEnd", "CSVLogger",
           "JSONLinesLogger", "TensorBoard", "EarlyStopping", "BUILT_IN", "PATH_KEYS"]
