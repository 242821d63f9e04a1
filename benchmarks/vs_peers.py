"""evokit vs Keras Tuner and Optuna at equal wall-clock budget: same search space, same trainer.

Methods (each run = one method, one dataset, one seed):

* ``evokit``: :func:`evokit_search`: ``ek.presets.compact`` (NSGA-II on validation accuracy and
  parameter count over ``compact_space()``, its first population seeded with
  ``compact_seeds()``), population 12, on one core (``workers=1``).
* ``kt-random``, ``kt-hyperband``, ``kt-bayes``: Keras Tuner's RandomSearch, Hyperband and
  BayesianOptimization oracles driven by a small ``keras_tuner.Tuner`` subclass whose
  ``run_trial`` trains through evokit's trainer. Keras Tuner scores several objectives only as a
  weighted sum, so it maximises DeepGA's single score f = (1 - w) * val_acc + w * (Pmax - P) / Pmax
  with the ``w`` and ``Pmax`` of ``evokit.fitness.DeepGAScore()``'s defaults. Hyperband's
  ``tuner/epochs`` trains that many epochs from scratch (its checkpoint resumption is not used).
* ``optuna-tpe``: Optuna's TPESampler maximising the same weighted sum.
* ``optuna-nsga2``: Optuna's NSGAIISampler on (val_acc max, params min).

Same search space: DeepGA's genomes of ``ek.presets.compact_space()`` (strides and heads included). Peers sample the encoding's own choices through their own
hyperparameter APIs (number of conv blocks, each block's fields active only up to that number,
skip bits, number of dense blocks, ...); :func:`genome_from_params` builds a ``DeepGAGenome`` that
the SAME ``DeepGA`` instance decodes. The mapping is derived from the block dataclasses' fields and
the encoding's choice tuples (:data:`BLOCK_LISTS`, :func:`choices_of`), so a field added to DeepGA
follows. Same trainer: every candidate of every method is trained by
``evokit.runtime.training.trainer.train`` with one shared ``TrainingConfig`` and the seed
``candidate_seed(seed, spec.hash)``. Peers remember networks they already trained in this run (by
canonical hash and epochs), as evokit's cache does, so a duplicate costs nothing for anyone.

Equal wall clock: each run is its own process pinned to ONE core with one TensorFlow thread; the
driver runs ``--parallel`` of them at a time, one per core. The budget covers the search only: no
method starts a trial after it (a trial in flight finishes; ``overrun_s`` records by how much the
last counted trial ended past the budget). evokit checks its seconds budget between generations,
so the trials of its last generation that started after the budget are dropped from its results
(their start is reconstructed from each evaluation's wall time; ``dropped`` counts them).

After the search, each method's non-dominated set on (val accuracy max, params min), at most
``--front-max`` networks spread over the parameter range, is retrained by the same final
``TrainingConfig`` and seed for everyone (outside the budget) and tested on the test split.

Metrics per run:

* ``hypervolume``: area dominated by the retrained networks' points in the plane
  x = log10(P_ref / params) (0 at P_ref = 100,000 parameters; larger for smaller networks; a
  network over P_ref adds nothing), y = test accuracy - chance (1 / n_classes, clipped at 0);
  reference point (0, 0). One decade fewer parameters at the same accuracy is worth as much
  anywhere on the axis, so small networks count as much as large ones.
  ``val_hypervolume`` is the same area for the search's own validation front.
* ``best under cap``: among the retrained networks with at most ``cap`` parameters, the one with
  the best VALIDATION accuracy after retraining; its test accuracy is reported (test never picks).
* ``pooled``: per seed, the hypervolume of every method's retrained networks together (the front
  the searches run found between them), its mean over seeds, and each side's mean hypervolume as
  a share of that mean. It shows the room left: where the best peer already reaches 90% of the
  pooled front, evokit reaching 1.2x the best peer would take networks better than any this run
  found. ``--plot`` draws each method's front of the first seed (a staircase of the best test
  accuracy at or under each size, as the hypervolume counts it).

Choices, and why:

* Search training: ``ek.presets.COMPACT_TRAINING`` (Adam 1e-2 on a half cosine) for every
  method, up to ``--epochs`` 20 with early stopping ``--patience`` 5; Hyperband's
  ``max_epochs`` is the same 20 (factor 3). Final training: ``ek.presets.COMPACT_FINAL`` for
  ``--final-epochs`` 40, at most ``--front-max`` 8 networks per run (so retraining stays cheap).
  The peers get evokit's training and space, so what differs is the search alone (and evokit's
  seeding of its first population, part of the preset).
* evokit's NSGA-II and Optuna's NSGA-II sampler both get population 12 (Optuna's default 50 would
  leave its sampler random for the whole budget); KT's Bayesian optimisation starts modelling after
  10 random trials, as Optuna's TPE does (KT's default, 3 per hyperparameter, is ~130 here). With
  the same seed, Optuna's TPE and NSGA-II draw the same first (random) trials.
* Peers' block fields are declared conditional on the block count (Keras Tuner's
  ``parent_name``/``parent_values``, Optuna's define-by-run), as a user of each library would.

Run (full benchmark: 36 minutes of searches on 2 cores, plus start-up and retraining, about an
hour): ``python benchmarks/vs_peers.py --out vs_peers.json``; a smoke run:
``--budget-digits 20 --budget-mnist1d 20 --seeds 0 --front-max 5 --final-epochs 20``. ``--resume`` skips runs whose
result file is already in ``--runs-dir``.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence

import evokit as ek
from evokit.encodings.deepga import ConvBlock, DeepGAGenome, DenseBlock, skip_index
from evokit.runtime.training.trainer import candidate_seed, score_test_split, train

P_REF = 100_000
CAPS = {"digits": (2_139,), "mnist1d": (2_600, 5_200)}  # digits: 10% of the LeNet-style 21,386
POPULATION = 12  # evokit's NSGA-II and Optuna's NSGA-II sampler
INITIAL_POINTS = 10  # random trials before KT's Bayesian optimisation models (Optuna TPE's default)
METHODS = {"evokit": "evokit compact (2 obj)", "kt-random": "KT RandomSearch (w-sum)",
           "kt-hyperband": "KT Hyperband (w-sum)", "kt-bayes": "KT BayesianOpt (w-sum)",
           "optuna-tpe": "Optuna TPE (w-sum)", "optuna-nsga2": "Optuna NSGA-II (2 obj)"}
_SCORE = ek.fitness.DeepGAScore()
W, P_MAX = _SCORE.w, _SCORE.max_params  # DeepGA's score as evokit weighs it by default


def make_encoding() -> ek.encodings.DeepGA:
    """The one search space every method searches."""
    return ek.presets.compact_space()


def evokit_searcher(data: Any, seed: int, budget_s: float, training: ek.TrainingConfig) -> ek.Search:
    """evokit's search under a seconds budget (workers=1: in this process, on this run's core).
    The peers search this search's encoding, so a preset swapped in here changes their space too."""
    return ek.presets.compact(data, population=POPULATION, seconds=budget_s, training=training, final_training=None,
                              seed=seed, workers=1, progress=False)


def evokit_search(data: Any, seed: int, budget_s: float, training: ek.TrainingConfig) -> list[Evaluated]:
    """evokit's search: (NetSpec, val_accuracy, when it ran, ...) of every network it trained."""
    return run_recorded(evokit_searcher(data, seed, budget_s, training))


class Evaluated(NamedTuple):
    """One trained network: a (NetSpec, val_accuracy) pair, with when it ran (seconds since the
    search started) where known."""

    spec: ek.NetSpec
    val_accuracy: float
    start_s: float = 0.0
    end_s: float = 0.0
    failed: bool = False
    network: str = ""


def validation_accuracy(training: ek.TrainingConfig) -> ek.fitness.ValidationAccuracy:
    """A ValidationAccuracy objective that trains with exactly ``training`` (every field of it,
    including any its constructor does not take as keywords)."""
    objective = ek.fitness.ValidationAccuracy()
    objective.training = training
    return objective


# -- the search space: DeepGA's genome <-> flat hyperparameters --------------------------------------

BLOCK_LISTS = (("conv", ConvBlock, "min_conv_blocks", "max_conv_blocks"),
               ("dense", DenseBlock, "min_dense", "max_dense"))
"""The genome's block lists: (genome field, block dataclass, encoding's min count, max count). A
block's searched fields are its dataclass fields, each with the encoding's choice tuple."""
CHOICE_NAMES: dict[str, str] = {}  # a field whose choice tuple is not named ``field`` or ``field + "s"``
NOT_SEARCHED = ("conv", "dense", "skips")  # DeepGAGenome fields handled by BLOCK_LISTS and skip bits


def choices_of(enc: Any, name: str) -> tuple[Any, ...]:
    """The encoding's choices for genome field ``name`` (``enc.filters``, ``enc.kernel_sizes``...)."""
    for attr in (CHOICE_NAMES.get(name), name, name + "s"):
        values = getattr(enc, attr, None) if attr else None
        if isinstance(values, (tuple, list)) and values:
            return tuple(values)
    raise ValueError(f"field {name!r}: the encoding {type(enc).__name__} has no choice tuple "
                     f"{name!r} or {name + 's'!r}; add its name to CHOICE_NAMES")


@dataclass(frozen=True)
class Param:
    """One hyperparameter: its choices, and the block count it depends on (active when
    ``values[parent] > needs``). ``count`` marks a block count (an integer range)."""

    name: str
    values: tuple[Any, ...]
    parent: str | None = None
    needs: int = 0
    count: bool = False

    def active(self, chosen: dict[str, Any]) -> bool:
        return self.parent is None or chosen.get(self.parent, 0) > self.needs


def build_space(enc: Any) -> list[Param]:
    """The hyperparameters of ``enc``'s genomes, parents before the parameters that depend on them."""
    space: list[Param] = []
    for key, block, low, high in BLOCK_LISTS:
        n_min, n_max = getattr(enc, low), getattr(enc, high)
        space.append(Param(f"n_{key}", tuple(range(n_min, n_max + 1)), count=True))
        for i in range(n_max):
            space += [Param(f"{key}{i}_{f.name}", choices_of(enc, f.name), f"n_{key}", i)
                      for f in dataclasses.fields(block)]
        if key == "conv":
            space += [Param(f"skip_{j}_{i}", (0, 1), "n_conv", i) for i in range(2, n_max) for j in range(i - 1)]
    space += [Param(f.name, choices_of(enc, f.name)) for f in dataclasses.fields(DeepGAGenome)
              if f.name not in NOT_SEARCHED and f.compare]
    return space


def params_from(space: Sequence[Param], choose: Callable[[Param, bool], Any]) -> dict[str, Any]:
    """Walk the space in order: ``choose(param, active)`` gives each value (it is asked about
    inactive parameters too, so a library that declares every parameter up front can); the
    values of active parameters are returned."""
    chosen: dict[str, Any] = {}
    for param in space:
        active = param.active(chosen)
        value = choose(param, active)
        if active:
            chosen[param.name] = value
    return chosen


def genome_from_params(params: dict[str, Any]) -> DeepGAGenome:
    """The DeepGA genome the active hyperparameters ``params`` describe."""
    lists = {key: [block(**{f.name: params[f"{key}{i}_{f.name}"] for f in dataclasses.fields(block)})
                   for i in range(params[f"n_{key}"])] for key, block, _, _ in BLOCK_LISTS}
    n = params["n_conv"]
    skips = [0] * ((n - 1) * (n - 2) // 2 if n >= 2 else 0)
    for i in range(2, n):
        for j in range(i - 1):
            skips[skip_index(j, i)] = int(params[f"skip_{j}_{i}"])
    extra = {f.name: params[f.name] for f in dataclasses.fields(DeepGAGenome) if f.name not in NOT_SEARCHED and f.compare}
    return DeepGAGenome(lists["conv"], lists["dense"], skips, **extra)


def params_from_genome(genome: DeepGAGenome) -> dict[str, Any]:
    """The active hyperparameters of ``genome`` (inverse of :func:`genome_from_params`)."""
    params: dict[str, Any] = {}
    for key, _, _, _ in BLOCK_LISTS:
        blocks = getattr(genome, key)
        params[f"n_{key}"] = len(blocks)
        for i, b in enumerate(blocks):
            params.update({f"{key}{i}_{name}": value for name, value in dataclasses.asdict(b).items()})
    params.update({f"skip_{j}_{i}": bit for (j, i), bit in genome.skip_pairs().items()})
    params.update({f.name: getattr(genome, f.name) for f in dataclasses.fields(DeepGAGenome)
                   if f.name not in NOT_SEARCHED and f.compare})
    return params


def random_chooser(rng: random.Random) -> Callable[[Param, bool], Any]:
    return lambda param, active: rng.choice(param.values)


# -- trials: one clock, one trainer, one record for every method -------------------------------------

def weighted_score(val_accuracy: float, params: int) -> float:
    """DeepGA's f = (1 - w) * val_acc + w * (Pmax - P) / Pmax (size credit clipped at 0)."""
    return (1 - W) * val_accuracy + W * max(0.0, (P_MAX - params) / P_MAX)


@dataclass
class Trials:
    """The trials of one run: trains each sampled network with the shared trainer, remembers
    networks already trained (by hash and epochs), and records when each trial ran."""

    data: Any
    enc: Any
    training: ek.TrainingConfig
    seed: int
    budget_s: float
    start: float = field(default_factory=time.perf_counter)
    records: list[dict[str, Any]] = field(default_factory=list)
    specs: dict[str, ek.NetSpec] = field(default_factory=dict)
    memo: dict[tuple[str, int], float] = field(default_factory=dict)
    search_wall_s: float = 0.0
    dropped: int = 0

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def out_of_time(self) -> bool:
        return self.elapsed() >= self.budget_s

    def evaluate(self, params: dict[str, Any], epochs: int | None = None) -> tuple[float, int]:
        """(val_accuracy, parameters) of the network ``params`` describe; failures score 0."""
        genome = genome_from_params(params)
        try:
            spec = self.enc.decode(genome, self.data.input_shape, self.data.n_outputs)
        except ek.errors.EvokitError:  # a network that cannot be made scores as evokit scores it: failed
            return 0.0, P_MAX
        epochs = epochs or self.training.epochs
        key = (spec.hash, epochs)
        if key in self.memo:
            return self.memo[key], spec.params
        begin = self.elapsed()
        config = dataclasses.replace(self.training, epochs=epochs)
        ev = train(spec, self.data, config, seed=candidate_seed(self.seed, spec.hash), keep_weights=False)
        acc = 0.0 if ev.failed else float(ev.metrics.get("val_accuracy", 0.0))
        self.memo[key] = acc
        self.add(spec, acc, begin, self.elapsed(), epochs, self.enc.describe(genome), ev.failed)
        return acc, spec.params

    def add(self, spec: ek.NetSpec, acc: float, begin: float, end: float, epochs: int, description: str,
            failed: bool) -> None:
        self.specs[spec.hash] = spec
        self.records.append({"hash": spec.hash, "params": spec.params, "val_accuracy": acc, "epochs": epochs,
                             "start_s": round(begin, 3), "end_s": round(end, 3), "failed": failed,
                             "network": description})


class _Recorder(ek.callbacks.Callback):
    """Collects an evokit search's trained candidates (cache hits are not trainings)."""

    def __init__(self, encoding: Any) -> None:
        self.encoding = encoding
        self.start = time.perf_counter()
        self.events: list[tuple[int, float, Any, str]] = []

    def on_candidate_evaluated(self, event: Any) -> None:
        ev = event.evaluation
        if event.cached or ev is None or ev.spec is None:
            return
        description = describe(self.encoding, event.individual)
        self.events.append((event.generation, time.perf_counter() - self.start, ev, description))

    def evaluated(self) -> list[Evaluated]:
        """Evaluations of one batch arrive after it ran, serially in order: the k-th started at its
        batch's end minus the wall times of itself and those after it."""
        by_batch: dict[int, list[tuple[float, Any, str]]] = {}
        for generation, now, ev, description in self.events:
            by_batch.setdefault(generation, []).append((now, ev, description))
        out = []
        for batch in by_batch.values():
            end = min(now for now, _, _ in batch)
            for _, ev, description in reversed(batch):
                begin = end - ev.wall_time
                acc = 0.0 if ev.failed else float(ev.metrics.get("val_accuracy", 0.0))
                out.append(Evaluated(ev.spec, acc, begin, end, ev.failed, description))
                end = begin
        return sorted(out, key=lambda e: e.start_s)


def describe(encoding: Any, genotype: Any) -> str:
    try:
        return encoding.describe(genotype)
    except Exception:  # noqa: BLE001 - a description is a nicety, never a reason to fail a run
        return ""


def run_recorded(search: ek.Search) -> list[Evaluated]:
    """Run an evokit ``search``; every network it trained, with when each ran."""
    recorder = _Recorder(search.encoding)
    search.callbacks = [*search.callbacks, recorder]
    search.run()
    return recorder.evaluated()


# -- the peers -------------------------------------------------------------------------------------

def run_kt(kind: str, trials: Trials, space: list[Param]) -> None:
    """Keras Tuner's ``kind`` oracle, trials trained by evokit's trainer, until the budget ends."""
    import keras_tuner as kt

    objective = kt.Objective("score", direction="max")
    huge = 10**6
    if kind == "random":
        oracle = kt.oracles.RandomSearchOracle(objective, max_trials=huge, seed=trials.seed)
    elif kind == "hyperband":
        oracle = kt.oracles.HyperbandOracle(objective, max_epochs=trials.training.epochs, factor=3,
                                            hyperband_iterations=None, seed=trials.seed)
    else:
        oracle = kt.oracles.BayesianOptimizationOracle(objective, max_trials=huge, num_initial_points=INITIAL_POINTS,
                                                       seed=trials.seed)

    def declare(hp: Any) -> Callable[[Param, bool], Any]:
        def choose(param: Param, active: bool) -> Any:
            cond = {} if param.parent is None else {
                "parent_name": param.parent,
                "parent_values": [v for v in space_by_name[param.parent].values if v > param.needs]}
            if param.count:
                return hp.Int(param.name, min(param.values), max(param.values), **cond)
            return hp.Choice(param.name, list(param.values), **cond)
        return choose

    space_by_name = {p.name: p for p in space}

    class Space(kt.HyperModel):
        def build(self, hp: Any) -> None:
            params_from(space, declare(hp))

    class EvokitTuner(kt.Tuner):
        def pre_create_trial(self) -> None:
            if trials.out_of_time():
                self.oracle.max_trials = max(1, len(self.oracle.trials))

        def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
            hp = trial.hyperparameters
            acc, n_params = trials.evaluate(params_from(space, declare(hp)), hp.values.get("tuner/epochs"))
            return {"score": weighted_score(acc, n_params)}

    with tempfile.TemporaryDirectory(prefix="vs_peers_kt_") as directory:
        tuner = EvokitTuner(oracle=oracle, hypermodel=Space(), directory=directory, project_name="kt", overwrite=True)
        trials.start = time.perf_counter()
        tuner.search(verbose=0)


def run_optuna(kind: str, trials: Trials, space: list[Param]) -> None:
    """Optuna's TPE (weighted sum) or NSGA-II sampler (val_acc max, params min) until the budget ends."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if kind == "tpe":
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=trials.seed))
    else:
        study = optuna.create_study(directions=["maximize", "minimize"],
                                    sampler=optuna.samplers.NSGAIISampler(population_size=POPULATION, seed=trials.seed))

    def objective(trial: Any) -> Any:
        def choose(param: Param, active: bool) -> Any:
            if not active:
                return None
            if param.count:
                return trial.suggest_int(param.name, min(param.values), max(param.values))
            return trial.suggest_categorical(param.name, list(param.values))
        acc, n_params = trials.evaluate(params_from(space, choose))
        return weighted_score(acc, n_params) if kind == "tpe" else (acc, n_params)

    trials.start = time.perf_counter()
    study.optimize(objective, timeout=trials.budget_s, gc_after_trial=False)


def run_method(method: str, data: Any, seed: int, budget_s: float, training: ek.TrainingConfig) -> Trials:
    """Search with ``method``; the run's trials, less any that started after the budget (evokit
    checks its budget between generations only)."""
    enc = evokit_searcher(data, seed, budget_s, training).encoding  # the space evokit searches
    trials = Trials(data, enc, training, seed, budget_s)
    if method == "evokit":
        trials.start = time.perf_counter()
        for item in evokit_search(data, seed, budget_s, training):
            e = Evaluated(*item)
            trials.add(e.spec, e.val_accuracy, e.start_s, e.end_s, training.epochs, e.network, e.failed)
    else:
        family, kind = method.split("-", 1)
        (run_kt if family == "kt" else run_optuna)(kind, trials, build_space(enc))
    trials.search_wall_s = trials.elapsed()
    kept = [r for r in trials.records if r["start_s"] < budget_s]
    trials.dropped = len(trials.records) - len(kept)
    trials.records = kept
    return trials


# -- fronts, retraining, metrics -------------------------------------------------------------------

def pareto_front(points: Sequence[dict[str, Any]], acc_key: str = "val_accuracy") -> list[dict[str, Any]]:
    """The non-dominated points on (``acc_key`` max, ``params`` min), one per parameter count, by params."""
    front: list[dict[str, Any]] = []
    for p in sorted(points, key=lambda p: (p["params"], -p[acc_key])):
        if not front or p[acc_key] > front[-1][acc_key]:
            front.append(p)
    return front


def thin(front: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """At most ``n`` members spread evenly over the front (sorted by params; both ends kept)."""
    if len(front) <= n:
        return front
    picks = sorted({round(i * (len(front) - 1) / (n - 1)) for i in range(n)})
    return [front[i] for i in picks]


def hypervolume(points: Sequence[tuple[float, int]], chance: float, p_ref: int = P_REF) -> float:
    """Area dominated by (accuracy, params) points in x = log10(p_ref / params), y = accuracy - chance
    (both clipped at 0), from the reference point (0, 0)."""
    xy = sorted(((math.log10(p_ref / max(params, 1)), acc - chance) for acc, params in points
                 if params <= p_ref and acc > chance), reverse=True)
    area, best_y = 0.0, 0.0
    for k, (x, y) in enumerate(xy):
        best_y = max(best_y, y)
        next_x = xy[k + 1][0] if k + 1 < len(xy) else 0.0
        area += (x - next_x) * best_y
    return area


def best_under_cap(members: Sequence[dict[str, Any]], cap: int) -> dict[str, Any] | None:
    """The retrained member with at most ``cap`` params and the best validation accuracy."""
    eligible = [m for m in members if m["params"] <= cap]
    return max(eligible, key=lambda m: (m["val_accuracy"], -m["params"])) if eligible else None


def retrain_front(trials: Trials, final: ek.TrainingConfig, front_max: int) -> list[dict[str, Any]]:
    """Retrain the search's validation front (at most ``front_max``) with ``final``; test each."""
    best: dict[str, dict[str, Any]] = {}
    for r in trials.records:
        if not r["failed"] and (r["hash"] not in best or r["val_accuracy"] > best[r["hash"]]["val_accuracy"]):
            best[r["hash"]] = r
    members = []
    for r in thin(pareto_front(list(best.values())), front_max):
        spec = trials.specs[r["hash"]]
        ev = train(spec, trials.data, final, seed=candidate_seed(trials.seed, spec.hash))
        test = 0.0 if ev.failed else score_test_split(ev.model(), trials.data)["test_accuracy"]
        members.append({"hash": r["hash"], "params": r["params"], "network": r["network"],
                        "search_val_accuracy": r["val_accuracy"],
                        "val_accuracy": 0.0 if ev.failed else float(ev.metrics["val_accuracy"]),
                        "test_accuracy": float(test), "epochs": len(ev.history.get("loss", []))})
    return members


def run_one(method: str, dataset: str, seed: int, budget_s: float, training: ek.TrainingConfig,
            final: ek.TrainingConfig, front_max: int) -> dict[str, Any]:
    """One (method, dataset, seed) run: search, retrain the front, the metrics."""
    data = ek.datasets.load(dataset, seed=seed)
    chance = 1.0 / data.n_outputs
    trials = run_method(method, data, seed, budget_s, training)
    records = trials.records
    start = time.perf_counter()
    members = retrain_front(trials, final, front_max)
    ends = [r["end_s"] for r in records]
    return {"method": method, "dataset": dataset, "seed": seed, "budget_s": budget_s, "chance": chance,
            "search_wall_s": round(trials.search_wall_s, 2),
            "overrun_s": round(max(0.0, max(ends, default=0.0) - budget_s), 2),
            "trained": len(records), "failures": sum(r["failed"] for r in records),
            "dropped": trials.dropped,
            "retrain_s": round(time.perf_counter() - start, 2),
            "hypervolume": hypervolume([(m["test_accuracy"], m["params"]) for m in members], chance),
            "val_hypervolume": hypervolume([(r["val_accuracy"], r["params"]) for r in records if not r["failed"]], chance),
            "best_under_cap": {str(cap): best_under_cap(members, cap) for cap in CAPS[dataset]},
            "front": members, "trials": records,
            "training": training.key(), "final_training": final.key()}


# -- the driver: one pinned process per run ----------------------------------------------------------

def run_name(method: str, dataset: str, seed: int) -> str:
    return f"{dataset}-{method}-s{seed}"


def worker_env() -> dict[str, str]:
    """One thread for TensorFlow, oneDNN/OpenMP and BLAS in a run's process."""
    env = dict(os.environ)
    env.update({"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1",
                "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3",
                "TF_ENABLE_ONEDNN_OPTS": env.get("TF_ENABLE_ONEDNN_OPTS", "0")})
    return env


def drive(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run every (dataset, method, seed) not done yet, ``args.parallel`` at a time, each on its own core."""
    runs_dir = Path(args.runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(m, d, s) for d in args.datasets for s in args.seeds for m in args.methods]
    todo = [j for j in jobs if not (args.resume and finished(runs_dir / f"{run_name(*j)}.json", settings(args, j[1])))]
    cores = sorted(os.sched_getaffinity(0))
    if args.parallel > len(cores):
        print(f"warning: --parallel {args.parallel} > {len(cores)} cores: runs share cores", file=sys.stderr)
    running: dict[int, tuple[subprocess.Popen, tuple[str, str, int]]] = {}
    while todo or running:
        free = [slot for slot in range(args.parallel) if slot not in running]
        if todo and free:
            job = todo.pop(0)
            running[free[0]] = (launch(job, cores[free[0] % len(cores)], runs_dir, args), job)
            continue
        time.sleep(0.5)
        for slot, (proc, job) in list(running.items()):
            if proc.poll() is not None:
                del running[slot]
                status = "ok" if proc.returncode == 0 else f"FAILED rc={proc.returncode} (see {run_name(*job)}.log)"
                print(f"[{time.strftime('%H:%M:%S')}] {run_name(*job)}: {status}", flush=True)
    results = []
    for job in jobs:
        path = runs_dir / f"{run_name(*job)}.json"
        if finished(path, settings(args, job[1])):
            results.append(json.loads(path.read_text()))
        else:
            print(f"{run_name(*job)}: no result with these settings (left out of the table)", file=sys.stderr)
    return results


def settings(args: argparse.Namespace, dataset: str) -> dict[str, Any]:
    """What a run's result depends on besides (method, dataset, seed): ``--resume`` reuses a
    stored result only when these match."""
    return run_settings(args.budget_digits if dataset == "digits" else args.budget_mnist1d, args)


def run_settings(budget_s: float, args: argparse.Namespace) -> dict[str, Any]:
    """The settings a run with ``budget_s`` records (the driver's and a worker's ``args`` name the
    budget differently; everything else is read alike)."""
    return {"budget_s": budget_s, "epochs": args.epochs, "patience": args.patience,
            "final_epochs": args.final_epochs, "front_max": args.front_max, "seeds": seeds_digest()}


def seeds_digest() -> str:
    """A short digest of the genotypes evokit's search starts from: a stored run made with another
    seed list is not taken for one of this code's."""
    encoding = make_encoding()
    text = json.dumps([encoding.to_json(g) for g in ek.presets.compact_seeds()], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def finished(path: Path, wanted: dict[str, Any]) -> bool:
    try:
        return json.loads(path.read_text()).get("settings") == wanted
    except (OSError, ValueError):
        return False


def launch(job: tuple[str, str, int], core: int, runs_dir: Path, args: argparse.Namespace) -> subprocess.Popen:
    method, dataset, seed = job
    budget = args.budget_digits if dataset == "digits" else args.budget_mnist1d
    cmd = [sys.executable, __file__, "--run", method, dataset, str(seed), "--core", str(core),
           "--budget", str(budget), "--epochs", str(args.epochs), "--patience", str(args.patience),
           "--final-epochs", str(args.final_epochs), "--front-max", str(args.front_max),
           "--run-file", str(runs_dir / f"{run_name(*job)}.json")]
    with open(runs_dir / f"{run_name(*job)}.log", "w") as log:  # the child keeps its own copy of the handle
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=worker_env())


def worker(args: argparse.Namespace) -> None:
    """One run in this process, pinned to ``args.core``; its result written atomically."""
    os.sched_setaffinity(0, {args.core})
    from evokit.runtime.training.workers import configure_threads

    configure_threads(1)
    method, dataset, seed = args.run[0], args.run[1], int(args.run[2])
    training = dataclasses.replace(ek.presets.COMPACT_TRAINING, epochs=args.epochs, early_stopping=args.patience)
    final = dataclasses.replace(ek.presets.COMPACT_FINAL, epochs=args.final_epochs)
    result = run_one(method, dataset, seed, args.budget, training, final, args.front_max)
    result["settings"] = run_settings(args.budget, args)
    tmp = Path(args.run_file + ".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(args.run_file)
    print(f"{run_name(method, dataset, seed)}: HV {result['hypervolume']:.3f}, {result['trained']} trained")


# -- the table -----------------------------------------------------------------------------------

def mean_sd(values: Sequence[float], fmt: str = "{:.3f}") -> str:
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{fmt.format(statistics.mean(values))} ± {fmt.format(sd)}"


def table(results: Sequence[dict[str, Any]], dataset: str, methods: Sequence[str]) -> str:
    """One dataset's table: mean ± sd over seeds, and evokit's HV over the best peer's."""
    caps = CAPS[dataset]
    head = (f"{'method':<26} {'HV (test)':>15} {'HV (val)':>15} {'trained':>7} {'overrun s':>9} "
            + " ".join(f"{'best ≤' + format(c, ','):>19}" for c in caps))
    lines = [f"{dataset} (budget {results[0]['budget_s']:g} s per run, 1 core each)" if results else dataset, head]
    hv_means = {}
    for m in methods:
        runs = [r for r in results if r["method"] == m]
        if not runs:
            continue
        hv_means[m] = statistics.mean(r["hypervolume"] for r in runs)
        cells = []
        for c in caps:
            found = [r["best_under_cap"][str(c)]["test_accuracy"] for r in runs if r["best_under_cap"][str(c)]]
            cells.append(f"{mean_sd(found):>15} {len(found)}/{len(runs)}")
        lines.append(f"{METHODS[m]:<26} {mean_sd([r['hypervolume'] for r in runs]):>15} "
                     f"{mean_sd([r['val_hypervolume'] for r in runs]):>15} "
                     f"{statistics.mean(r['trained'] for r in runs):>7.1f} "
                     f"{statistics.mean(r['overrun_s'] for r in runs):>9.1f} " + " ".join(cells))
    peers = {m: v for m, v in hv_means.items() if m != "evokit"}
    if "evokit" in hv_means and peers:
        best = max(peers, key=peers.get)
        ratio = hv_means["evokit"] / peers[best] if peers[best] > 0 else math.inf
        lines.append(f"evokit / best peer ({METHODS[best]}) hypervolume: {ratio:.2f}")
    pooled = pooled_hypervolumes(results)
    if pooled and "evokit" in hv_means and peers:
        whole = statistics.mean(pooled)
        lines.append(f"every method's retrained networks pooled (per seed, then over seeds): HV {mean_sd(pooled)}; "
                     f"evokit's mean HV is {hv_means['evokit'] / whole:.1%} of its mean, the best peer's "
                     f"{peers[best] / whole:.1%}")
    lines.append("w-sum: single objective f = (1-w)*val_acc + w*(Pmax-P)/Pmax, "
                 f"w={W:g}, Pmax={P_MAX:,} (Keras Tuner scores several objectives only as a weighted sum)")
    return "\n".join(lines)


def pooled_hypervolumes(results: Sequence[dict[str, Any]]) -> list[float]:
    """Per seed, the hypervolume of every method's retrained networks together: the front all the
    searches found between them, which bounds what beating the best peer can mean here."""
    if not results:
        return []
    chance = results[0].get("chance") or 1.0 / ek.datasets.load(results[0]["dataset"], seed=0).n_outputs  # older runs
    seeds = sorted({r["seed"] for r in results})
    return [hypervolume([(m["test_accuracy"], m["params"]) for r in results if r["seed"] == s for m in r["front"]],
                        chance) for s in seeds]


def plot_seed_fronts(results: Sequence[dict[str, Any]], datasets: Sequence[str], methods: Sequence[str], seed: int,
                     path: str) -> None:
    """One panel per dataset: each method's retrained front of run ``seed`` (test accuracy against
    parameters, log scale), as the staircase the hypervolume measures."""
    from evokit.report.figure import finish, subplots

    fig, axes = subplots(path, (6 * len(datasets), 4.5), ncols=len(datasets), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        for m in methods:
            run = next((r for r in results if (r["method"], r["dataset"], r["seed"]) == (m, dataset, seed)), None)
            if run is None or not run["front"]:
                continue
            points = sorted((f["params"], f["test_accuracy"]) for f in run["front"])
            best, stairs = 0.0, []
            for params, acc in points:
                best = max(best, acc)
                stairs.append((params, best))
            ax.step([p for p, _ in stairs], [a for _, a in stairs], where="post", marker="o",
                    lw=2.5 if m == "evokit" else 1.2, label=f"{METHODS[m]} (HV {run['hypervolume']:.2f})")
        budgets = {r["budget_s"] for r in results if r["dataset"] == dataset}
        ax.set_xscale("log")
        ax.set_xlabel("parameters")
        ax.set_ylabel("test accuracy (retrained)")
        ax.set_title(f"{dataset}, seed {seed}, {'/'.join(format(b, 'g') for b in sorted(budgets))} s per search")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    finish(fig, path)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--datasets", nargs="+", default=["digits", "mnist1d"], choices=list(CAPS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--budget-digits", type=float, default=60.0, help="search seconds per digits run")
    p.add_argument("--budget-mnist1d", type=float, default=180.0, help="search seconds per mnist1d run")
    p.add_argument("--epochs", type=int, default=20, help="search training: max epochs (Hyperband's max_epochs)")
    p.add_argument("--patience", type=int, default=5, help="search training: early-stopping patience")
    p.add_argument("--final-epochs", type=int, default=40, help="retraining of the fronts")
    p.add_argument("--front-max", type=int, default=8, help="most front members retrained per run")
    p.add_argument("--parallel", type=int, default=2, help="runs at a time, one per core")
    p.add_argument("--out", default="vs_peers.json", help="all runs' raw results")
    p.add_argument("--runs-dir", default="vs_peers_runs", help="one result JSON and log per run")
    p.add_argument("--resume", action="store_true", help="skip runs whose result is already in --runs-dir")
    p.add_argument("--plot", default="vs_peers_fronts.png", help="figure of each method's front (first seed); '' for none")
    p.add_argument("--run", nargs=3, metavar=("METHOD", "DATASET", "SEED"), help=argparse.SUPPRESS)
    p.add_argument("--core", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--budget", type=float, default=60.0, help=argparse.SUPPRESS)
    p.add_argument("--run-file", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    if args.run:
        worker(args)
        return
    results = drive(args)
    Path(args.out).write_text(json.dumps(results, indent=1))
    for dataset in args.datasets:
        print("\n" + table([r for r in results if r["dataset"] == dataset], dataset, args.methods))
    if args.plot and results:
        plot_seed_fronts(results, args.datasets, args.methods, args.seeds[0], args.plot)
        print(f"fronts: {args.plot}")
    print(f"\nraw results: {args.out}")


if __name__ == "__main__":
    main()
