"""``evokit.toolbox``: a ready DEAP toolbox for users who compose their own loop with DEAP."""
from __future__ import annotations

import random
from typing import Any, Sequence

import numpy as np
from deap import base, tools

from evokit.datasets import Dataset, load, names
from evokit.encodings.base import Encoding
from evokit.errors import ConfigError
from evokit.evaluation import TrainingConfig
from evokit.fitness.constraints import Constraint
from evokit.individual import attach_fitness
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.executors import Evaluator


def new_individual(encoding: Encoding, weights: tuple[float, ...]) -> Any:
    """A random genotype of ``encoding`` with an empty fitness of these weights."""
    return attach_fitness(encoding.random(), weights)


def genotype_toolbox(encoding: Encoding, weights: tuple[float, ...]) -> base.Toolbox:
    """A toolbox with ``individual``, ``population``, the encoding's ``mate``, ``mutate`` and
    ``distance``; ``toolbox.encoding`` and ``toolbox.weights`` tell algorithms what they search
    (PSO reads the encoding's bounds, NEAT its compatibility distance)."""
    tb = base.Toolbox()
    tb.register("individual", new_individual, encoding, weights)
    tb.register("population", tools.initRepeat, list, tb.individual)
    tb.register("distance", encoding.distance)
    encoding.register(tb)
    tb.encoding = encoding
    tb.weights = tuple(weights)
    return tb


def resolve_data(data: Any, seed: int = 0) -> Dataset:
    """A Dataset from a Dataset or the name of an embedded one."""
    if isinstance(data, Dataset):
        return data
    check_data(data)
    return load(data, seed=seed)


def check_data(data: Any) -> None:
    """Raise ConfigError naming ``data`` unless it is a Dataset or an embedded dataset's name."""
    if isinstance(data, Dataset) or (isinstance(data, str) and data in names()):
        return
    raise ConfigError(f"data={data!r} is invalid: expected an evokit Dataset or one of "
                      f"{', '.join(map(repr, names()))}")


def toolbox(encoding: Encoding, objectives: Any, data: Any, seed: int | None = None,
            evaluator: Evaluator | None = None, constraints: Sequence[Constraint] = (),
            training: TrainingConfig | None = None) -> base.Toolbox:
    """A DEAP toolbox with ``individual``, ``population``, ``mate``, ``mutate``, ``select``,
    ``evaluate`` and ``map`` registered, ready for ``deap.algorithms.eaSimple`` and friends.

    ``evaluate`` returns the fitness tuple of one individual (decode, cache, train, score).
    With ``seed``, Python's and NumPy's global generators are seeded: DEAP's operators and
    algorithms draw from them. Each network's training has its own seed, derived from ``seed``
    (0 when None) and the network.

    ``training`` (an :class:`evokit.TrainingConfig`) says how every candidate is trained. The
    objectives may say it instead (``ValidationAccuracy(epochs=5)``, ``Objective(fn,
    epochs=5)``); a ``training`` that differs from theirs is refused. When neither says,
    candidates train with ``evokit.fitness.DEFAULT_TRAINING`` (up to 20 epochs, early stopping
    after 3); ``toolbox.candidates.training`` is the setting in use.
    """
    if not isinstance(encoding, Encoding):
        raise ConfigError(f"encoding={encoding!r} is invalid: expected an evokit Encoding")
    if seed is not None:
        random.seed(seed)
        np.random.seed(seed)
    data = resolve_data(data, seed or 0)
    encoding.check_data(data)
    candidates = CandidateEvaluator(encoding, objectives, data, seed=seed or 0, evaluator=evaluator,
                                    constraints=constraints, training=training)
    tb = genotype_toolbox(encoding, candidates.weights)
    if len(candidates.weights) == 1:
        tb.register("select", tools.selTournament, tournsize=3)
    else:
        from evokit.algorithms.nsga2 import selNSGA2Finite

        tb.register("select", selNSGA2Finite)
    tb.register("evaluate", candidates)
    tb.register("map", map)
    tb.candidates = candidates
    return tb
