"""From genotypes to fitness values: decode, look up the cache, train what is new, score.

``CandidateEvaluator`` is the one path every search (and ``evokit.toolbox``'s ``evaluate``) takes.
It is picklable, so DEAP users may also hand it to a process pool's ``map``; a search instead
calls ``evaluate_all`` with a whole generation, which trains each distinct network once through
the configured Evaluator (serial, process pool, ...).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from evokit.encodings.base import Encoding
from evokit.errors import ConfigError, EvokitError
from evokit.evaluation import Evaluation, failure
from evokit.fitness.base import Objective
from evokit.fitness.combine import as_objectives, probes, training_config, walk, weights
from evokit.fitness.constraints import Constraint
from evokit.netspec import NetSpec
from evokit.runtime.cache import FitnessCache
from evokit.runtime.evaluators import Evaluator, SerialEvaluator, Task
from evokit.runtime.trainer import candidate_seed

TRANSIENT = ("timeout", "worker_died")
"""Failure reasons that may not recur: not cached, so the network is tried again if it returns."""


@dataclass
class Outcome:
    """What happened to one genotype: its network, evaluation, fitness values, and whether the
    evaluation came from the cache (or from an identical network earlier in the same batch)."""

    genotype: Any
    evaluation: Evaluation
    values: tuple[float, ...]
    cached: bool


def _digest(weights: list[Any] | None) -> str:
    """A short digest of carried weights ("" for none): part of the cache key."""
    if weights is None:
        return ""
    h = hashlib.sha256()
    for w in weights:
        h.update(np.ascontiguousarray(w).tobytes())
    return "+w" + h.hexdigest()[:16]


class CandidateEvaluator:
    """Scores genotypes of one encoding on one dataset with a tuple of objectives.

    Args:
        encoding: decodes genotypes into NetSpecs.
        objectives: the objectives (their DEAP weights give the fitness weights).
        data: a :class:`evokit.datasets.Dataset`.
        seed: the run seed; each network trains under a seed derived from it and its hash.
        evaluator: where training happens (default: in this process).
        keep_weights: keep trained weights in the evaluations (needed to return trained models).
        constraints: limits checked on the NetSpec before training; a violating candidate is a
            failure with reason ``"infeasible"`` and is never trained.
        cache: the fitness cache (default: a new in-memory one; a search passes a persistent one).

    ``seen`` holds the cache keys of every network this search has evaluated; ``evaluations``
    counts them (what budgets count), ``trainings`` counts the trainings run by this object.
    """

    def __init__(self, encoding: Encoding, objectives: Any, data: Any, seed: int = 0,
                 evaluator: Evaluator | None = None, keep_weights: bool = True,
                 constraints: Sequence[Constraint] = (), cache: FitnessCache | None = None):
        self.encoding = encoding
        self.objectives: list[Objective] = as_objectives(objectives)
        self.weights = weights(self.objectives)
        self.training = training_config(self.objectives)
        self.probes = probes(self.objectives)
        self.constraints = list(constraints)
        for i, constraint in enumerate(self.constraints):
            if not isinstance(constraint, Constraint):
                raise ConfigError(f"constraints[{i}]={constraint!r} is invalid: expected an evokit Constraint "
                                  "(MaxParams, MaxFLOPs, MaxPredictedCO2, ...)")
        for item in [*walk(self.objectives), *self.constraints]:
            item.setup(data, self.training)
        self.data = data
        self.seed = seed
        self.evaluator = evaluator if evaluator is not None else SerialEvaluator()
        self.keep_weights = keep_weights
        self.cache = cache if cache is not None else FitnessCache()
        self.seen: set[str] = set()
        self.inherited: dict[str, str] = {}  # key after a Lamarckian write-back -> the evaluation's key
        self.trainings = 0
        self._started = False
        self._context = "|".join([self.training.key() if self.training else "untrained", data.fingerprint, str(seed),
                                  *(p.key for p in self.probes)])

    def prepare(self, genotype: Any) -> tuple[NetSpec, list[Any] | None, str]:
        """The network to build for ``genotype``, the weights it carries (or None) and its cache key.

        Without carried weights the network is the canonical form; carried weights follow the
        decoded node order, so that network is built as decoded. Raises on a broken genotype.
        """
        raw = self.encoding.decode(genotype, self.data.input_shape, self.data.n_outputs, self.data.task)
        weights = self.encoding.weights(genotype, raw)
        spec = raw.canonical() if weights is None else raw.validate()
        return spec, weights, self.cache.key(spec.hash + _digest(weights), self._context)

    def decode(self, genotype: Any) -> NetSpec:
        """The NetSpec of ``genotype`` for this dataset (raises on a broken genotype)."""
        return self.prepare(genotype)[0]

    def evaluation_key(self, genotype: Any) -> str:
        """The cache key of ``genotype``'s evaluation (its key before a Lamarckian write-back)."""
        key = self.prepare(genotype)[2]
        return self.inherited.get(key, key)

    def cached(self, genotype: Any) -> Evaluation | None:
        """The cached evaluation of ``genotype``'s network (and carried weights), if any."""
        return self.cache.peek(self.evaluation_key(genotype))

    def scores(self, evaluation: Evaluation) -> tuple[float, ...]:
        return tuple(o(evaluation) for o in self.objectives)

    def evaluate_all(self, genotypes: Sequence[Any]) -> list[Outcome]:
        """Evaluate genotypes, training each distinct uncached network once, in one batch."""
        specs: list[NetSpec | None] = []
        carried: list[list[Any] | None] = []
        keys: list[str] = []
        early: dict[int, Evaluation] = {}
        for i, genotype in enumerate(genotypes):
            start = time.perf_counter()
            try:
                spec, weights, key = self.prepare(genotype)
            except (EvokitError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
                spec, weights, key = None, None, ""
                early[i] = failure(None, "decode_error", f"{type(exc).__name__}: {exc}", time.perf_counter() - start)
            specs.append(spec)
            carried.append(weights)
            keys.append(key)
        todo: dict[str, int] = {}
        waiting: dict[str, list[int]] = {}
        cached: set[int] = set()
        for i, spec in enumerate(specs):
            if spec is None:
                continue
            key = keys[i]
            violations = [v for c in self.constraints if (v := c.violation(spec)) is not None]
            if violations:
                early[i] = failure(spec, "infeasible", "; ".join(violations))
            elif key in todo:
                waiting[key].append(i)
                cached.add(i)
                self.cache.hits += 1
            elif self.training is None:
                early[i] = Evaluation(spec=spec, status="untrained")
                self.seen.add(key)
            elif (hit := self.cache.get(key)) is not None:
                early[i] = hit
                if key in self.seen:  # else restored from a persistent cache: new to this search
                    cached.add(i)
                self.seen.add(key)
            else:
                todo[key] = i
                waiting[key] = [i]
        if todo:
            if not self._started:
                self.evaluator.start(self.data, self.training, self.keep_weights, self.probes)
                self._started = True
            batch = list(todo)

            def save(j: int, evaluation: Evaluation) -> None:
                if evaluation.reason not in TRANSIENT:
                    self.cache.put(batch[j], evaluation)

            tasks = [Task(specs[i], candidate_seed(self.seed, specs[i].hash), carried[i], self.encoding.trains)
                     for i in todo.values()]
            trained = self.evaluator.train(tasks, on_result=save)
            for key, evaluation in zip(batch, trained):
                early.update((i, evaluation) for i in waiting[key])
                if evaluation.weights is not None:
                    for i in waiting[key]:
                        self.encoding.inherit(genotypes[i], evaluation)
                        if (written := self.prepare(genotypes[i])[2]) != key:
                            self.inherited[written] = key
            self.seen.update(batch)
            self.trainings += len(trained)
        return [Outcome(genotype, early[i], self.scores(early[i]), i in cached) for i, genotype in enumerate(genotypes)]

    def __call__(self, genotype: Any) -> tuple[float, ...]:
        """DEAP's ``toolbox.evaluate``: the fitness values of one genotype."""
        return self.evaluate_all([genotype])[0].values

    @property
    def evaluations(self) -> int:
        """Distinct networks this search has evaluated (trained, or scored analytically when no objective
        needs training): what budgets count."""
        return len(self.seen)

    def close(self) -> None:
        self.evaluator.close()
        self._started = False

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_started"] = False
        return state
