"""evokit: neuroevolution on DEAP and Keras — search for small, accurate neural networks.

An *encoding* turns a genotype into a NetSpec (a framework-free architecture), the builder turns
it into a Keras model, *objectives* score the one training run of each candidate, and an
*algorithm* (a loop over a DEAP toolbox) searches. See ``evokit.Search`` and ``evokit.toolbox``.
"""
import os as _os

# Quiet TensorFlow's start-up lines unless the user chose otherwise (no effect on speed or results).
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from evokit import algorithms, builder, callbacks, config, datasets, diskarray, encodings, errors, fitness, netspec, operators, runtime, tasks  # noqa: E402
from evokit.builder import build  # noqa: E402
from evokit.evaluation import Evaluation, TrainingConfig  # noqa: E402
from evokit.netspec import NetSpec  # noqa: E402
from evokit.search import Budget, Candidate, Result, Search, resume  # noqa: E402
from evokit.deap_toolbox import toolbox  # noqa: E402
from evokit.comparison import Comparison, compare  # noqa: E402
from evokit import export, presets  # noqa: E402

__version__ = "0.1.0"

__all__ = ["algorithms", "callbacks", "config", "datasets", "diskarray", "encodings", "errors", "fitness", "netspec", "operators", "runtime", "tasks", "presets", "export",
           "builder", "build",
           "Evaluation", "TrainingConfig", "NetSpec", "Budget", "Candidate", "Result", "Search", "resume", "toolbox", "compare", "Comparison",
           "__version__"]
