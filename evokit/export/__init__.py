"""Models of a finished run (``evokit export``): the best model, or every member of the Pareto
front (one objective: the hall of fame), as ``.keras``, TensorFlow SavedModel, ONNX or LiteRT
files, each loaded back with its own runtime, checked against the Keras model on the run's test
split and described (parameters, FLOPs, agreement, latency) in a JSON file beside it.

The best model is copied from the run (``best.keras``) or, if missing, rebuilt and retrained with
the run's seed. Pareto members are rebuilt from their records in ``candidates.jsonl`` and
retrained with the seed they were trained with during the search. ONNX and LiteRT need the
optional packages of ``pip install "evokit[export]"``. The guide: ``docs/guide/export.md``.
"""
from evokit.export.checks import ATOL, RTOL
from evokit.export.exporting import description_path, export_models
from evokit.export.formats import FORMATS, ExportError, get_format
from evokit.export.models import RunModels

__all__ = ["export_models", "RunModels", "FORMATS", "ExportError", "get_format", "description_path",
           "ATOL", "RTOL"]
