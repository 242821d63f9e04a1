"""``evokit.Search``: encoding + objectives + algorithm on a dataset, with a run directory.

A thin convenience over parts that stay usable alone (``evokit.toolbox``, the
``CandidateEvaluator``, an Algorithm's ``initialize``/``step``): it seeds, drives the algorithm
generation by generation until the budget is spent, shows progress, keeps the hall of fame or
Pareto front, writes the run directory and returns a :class:`Result`.
"""
from __future__ import annotations

import copy
import dataclasses
import logging
import os
import pickle
import random
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from deap import tools

from evokit import unpickle
from evokit.algorithms.base import Algorithm
from evokit.algorithms.budget import Budget
from evokit.algorithms.ga import GA
from evokit.algorithms.loop import drive
from evokit.callbacks.base import Callback
from evokit.callbacks.hooks import Hooks, check_callbacks
from evokit.algorithms.nsga2 import NSGA2
from evokit.encodings.base import Encoding
from evokit.errors import ConfigError, DataError, check_int, warn_user
from evokit.evaluation import MAX_EPOCHS, Evaluation, TrainingConfig
from evokit.fitness.carbon import Footprint, GreenAlgorithms, search_cost
from evokit.fitness.combine import as_objectives, probes, training_config, walk
from evokit.fitness.constraints import Constraint
from evokit.individual import attach_fitness
from evokit.netspec import NetSpec
from evokit.runtime.candidates.cache import FitnessCache
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.run.checkpoint import SEARCH, Interrupts
from evokit.runtime.run.files import write_atomically
from evokit.runtime.run.lock import RunLock
from evokit.runtime.executors import make_evaluator
from evokit.runtime.candidates.fidelity import SuccessiveHalving
from evokit.runtime.run.directory import RunDirectory
from evokit.runtime.run.log import RunLog
from evokit.deap_toolbox import check_data, genotype_toolbox, resolve_data

LOG = logging.getLogger("evokit.search")


@dataclass
class Candidate:
    """One network found by a search: genotype, NetSpec, objective values and its Evaluation."""

    genotype: Any
    spec: NetSpec | None
    values: dict[str, float]
    evaluation: Evaluation
    description: str = ""

    @property
    def params(self) -> int | None:
        return None if self.spec is None else self.spec.params

    @property
    def model(self) -> Any:
        """The trained Keras model (rebuilt from the kept weights)."""
        return self.evaluation.model()


@dataclass
class Result:
    """What a search returns.

    ``best`` is the hall of fame's first (single objective) or, with several objectives, the
    Pareto-front member best in the first objective (the front is sorted that way);
    ``final_model`` is the Keras model that was tested (retrained when the search had
    ``final_training``, else the best network as trained during the search) and ``test_scores``
    its scores on the held-out test split; ``history`` has one record per generation.
    """

    best: Candidate
    hall_of_fame: list[Candidate]
    pareto_front: list[Candidate]
    history: list[dict[str, Any]]
    test_scores: dict[str, float]
    stats: dict[str, Any]
    objective_names: list[str]
    run_dir: Path | None = None
    final_model: Any = field(default=None, repr=False)

    def plot(self, path: str | Path | None = None) -> Any:
        """Fitness over generations (a matplotlib figure; saved as PNG if ``path`` is given)."""
        from evokit.report.plots import plot_history

        return plot_history(self.history, self.objective_names, path)

    def table(self, n: int = 5) -> str:
        """The top ``n`` candidates of the hall of fame as a text table: each objective, the
        parameter count (once, when an objective is already ``params``) and the network."""
        from evokit.report.text import table

        rows = [{"params": c.params, **c.values, "network": c.description} for c in self.hall_of_fame[:n]]
        return table(rows, [*self.objective_names, "params"], "network")


class Search:
    """A neuroevolution search: decode, train and score candidates of ``encoding`` on ``data``.

    Args:
        encoding: the genotype representation (e.g. ``evokit.encodings.DeepGA()``).
        objectives: one Objective or a list (several objectives -> NSGA-II by default).
        data: a Dataset or the name of an embedded one (default ``"digits"``).
        algorithm: the search strategy (default GA for one objective, NSGA2 for several).
        budget: when to stop (default: the algorithm's ``generations``).
        seed: fixes Python's, NumPy's, DEAP's and every candidate's Keras randomness.
        workers: 1 (train in this process), N (N worker processes), ``"dask"`` (a local Dask
            cluster), a Dask scheduler address (``"tcp://host:8786"``) or ``distributed.Client``,
            any DEAP-style ``map`` function, or an Evaluator (see ``evokit.runtime.make_evaluator``).
        run_dir: where to write the run's files (None: write nothing).
        final_training: retrain the best network with these settings (or this many epochs, with
            early stopping, on the objectives' training loss) before testing it; None keeps the model as
            trained during the search.
        hall_of_fame: how many best candidates to keep (single objective).
        constraints: limits checked before training (``evokit.fitness.MaxParams`` ...): a
            violating candidate is scored infeasible without being trained.
        progress: show a progress bar.
        overwrite: allow ``run_dir`` to hold an earlier run, which is replaced (evokit's own files
            only). A non-empty directory that is not an evokit run is refused either way.
        fidelity: opt-in multi-fidelity training, e.g. ``SuccessiveHalving(min_epochs=1, eta=3)``
            (:mod:`evokit.runtime.candidates.fidelity`): each generation's new networks train a few epochs
            and only the best fraction train to the full epochs; None trains every one fully.
        inherit_weights: start each new network from the trained weights of an evaluated
            network for the layers it kept unchanged (:mod:`evokit.runtime.candidates.inheritance`).
        callbacks: :class:`evokit.callbacks.Callback` objects called as the search runs, in this
            process (log, plot, stop early; see :mod:`evokit.callbacks`). evokit's own are saved
            with the search for ``evokit.resume``; others are not (give them to ``resume``).
        initial_population: genotypes of ``encoding`` to start from (population seeding: known
            good shapes, or the best of an earlier run); the first population holds a copy of
            each, in order, and random genotypes for the rest (every built-in algorithm draws its
            first population, and only that one, this way).
    """

    def __init__(self, encoding: Encoding, objectives: Any, data: Any = "digits", algorithm: Algorithm | None = None,
                 budget: Budget | None = None, seed: int = 0, workers: Any = 1,
                 run_dir: str | Path | None = None, final_training: TrainingConfig | int | None = None,
                 hall_of_fame: int = 5, constraints: Sequence[Constraint] = (), progress: bool = True,
                 overwrite: bool = False, fidelity: SuccessiveHalving | None = None, inherit_weights: bool = False,
                 callbacks: Sequence[Callback] | None = None, initial_population: Sequence[Any] | None = None):
        if not isinstance(encoding, Encoding):
            raise ConfigError(f"encoding={encoding!r} is invalid: expected an evokit Encoding")
        self.encoding = encoding
        self.objectives = as_objectives(objectives)
        check_data(data)
        self.data = data
        if algorithm is None:
            algorithm = GA() if len(self.objectives) == 1 else NSGA2()
        if not isinstance(algorithm, Algorithm):
            raise ConfigError(f"algorithm={algorithm!r} is invalid: expected an evokit Algorithm")
        algorithm.check_objectives(len(self.objectives))
        algorithm.check_encoding(encoding)
        self.algorithm = algorithm
        if budget is not None and not isinstance(budget, Budget):
            raise ConfigError(f"budget={budget!r} is invalid: expected an evokit Budget")
        self.budget = budget or Budget(generations=algorithm.generations)
        self.seed = check_int("seed", seed, minimum=0)
        self.evaluator = make_evaluator(workers)
        if run_dir is not None and not isinstance(run_dir, (str, os.PathLike)):
            raise ConfigError(f"run_dir={run_dir!r} is invalid: expected a path (str or pathlib.Path) or None")
        if run_dir is not None and Path(run_dir).exists() and not Path(run_dir).is_dir():
            raise ConfigError(f"run_dir={str(run_dir)!r} is invalid: it exists and is not a directory")
        self.run_dir = run_dir
        if isinstance(final_training, int) and not isinstance(final_training, bool):
            epochs = check_int("final_training", final_training, minimum=1, maximum=MAX_EPOCHS)
            shared = training_config(self.objectives)
            final_training = TrainingConfig(epochs=epochs, early_stopping=5, loss=getattr(shared, "loss", None),
                                            label_smoothing=getattr(shared, "label_smoothing", 0.0))
        if final_training is not None and not isinstance(final_training, TrainingConfig):
            raise ConfigError(f"final_training={final_training!r} is invalid: expected epochs (int), a "
                              "TrainingConfig or None")
        self.final_training = final_training
        self.hall_of_fame = check_int("hall_of_fame", hall_of_fame, minimum=1)
        if not isinstance(constraints, (list, tuple)) or not all(isinstance(c, Constraint) for c in constraints):
            raise ConfigError(f"constraints={constraints!r} is invalid: expected a list of evokit Constraints "
                              "(MaxParams, MaxFLOPs, MaxMemory, MaxPredictedCO2)")
        self.constraints = list(constraints)
        self.progress = progress
        self.overwrite = overwrite
        if fidelity is not None and not isinstance(fidelity, SuccessiveHalving):
            raise ConfigError(f"fidelity={fidelity!r} is invalid: expected None or an "
                              "evokit.runtime.candidates.fidelity.SuccessiveHalving")
        self.fidelity = fidelity
        if not isinstance(inherit_weights, bool):
            raise ConfigError(f"inherit_weights={inherit_weights!r} is invalid: expected True or False")
        self.inherit_weights = inherit_weights
        self.callbacks = check_callbacks(callbacks)
        if initial_population is not None and not isinstance(initial_population, (list, tuple)):
            raise ConfigError(f"initial_population={initial_population!r} is invalid: expected a list of "
                              f"{type(encoding).__name__} genotypes or None")
        self.initial_population = [copy.deepcopy(g) for g in initial_population or ()]

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("callbacks", [])  # searches saved before callbacks existed
        self.__dict__.setdefault("initial_population", [])

    def config(self) -> dict[str, Any]:
        """The search's configuration, as written to ``config.json``."""
        return {"encoding": repr(self.encoding), "objectives": [repr(o) for o in self.objectives],
                "algorithm": repr(self.algorithm), "budget": dataclasses.asdict(self.budget),
                "seed": self.seed, "evaluator": repr(self.evaluator),
                "data": self.data if isinstance(self.data, str) else repr(self.data),
                "final_training": None if self.final_training is None else self.final_training.key(),
                "constraints": [repr(c) for c in self.constraints],
                "fidelity": None if self.fidelity is None else repr(self.fidelity),
                "inherit_weights": self.inherit_weights,
                "callbacks": [repr(c) for c in self.callbacks],
                **({"initial_population": self._initial_described()} if self.initial_population else {})}

    def run(self, resume: bool = False) -> Result:
        """Run the search to the end of its budget and return the Result.

        With ``resume=True`` the run continues from the last checkpoint in ``run_dir`` (or starts
        there if it has none yet); with the same seed it ends as an uninterrupted run would, and
        networks already trained come from the run's persistent cache. A resume must be the same
        run (:meth:`identity`: seed, data, encoding, objectives, training ...): one that differs is
        refused with a ConfigError naming the field. ``run_dir`` is locked for the run: a second
        run there (in any process) is refused, naming the holder's pid.
        """
        if resume and self.run_dir is None:
            raise ConfigError("resume=True is invalid without a run_dir: there is no checkpoint to resume from")
        data = resolve_data(self.data, self.seed)
        data.check_files()  # a streaming Dataset whose files are gone fails here, not in every candidate
        self.encoding.check_data(data)
        if self.run_dir is None:
            return self._run(data, None, None)
        run_dir = RunDirectory.open(self.run_dir, overwrite=self.overwrite, resume=resume)  # locked until the end
        try:
            identity = self.identity(data)
            return self._run(data, run_dir, run_dir.begin(identity, resume), identity)
        finally:
            run_dir.close()

    def identity(self, data: Any) -> dict[str, Any]:
        """What makes a run this run: a resume must match it field by field (``config.json`` keeps
        it under ``identity``). The budget, the evaluator (workers), progress, final training and
        the hall of fame's size may change; the algorithm's ``generations`` is budget too."""
        training = training_config(self.objectives)
        return _stable({"seed": self.seed, "data": f"fingerprint {data.fingerprint}",
                        "encoding": repr(self.encoding), "objectives": [repr(o) for o in self.objectives],
                        "training": None if training is None else training.key(),
                        "probes": [p.key for p in probes(self.objectives)],
                        "algorithm": re.sub(r"\bgenerations=[^,)]*(, )?", "", repr(self.algorithm)),
                        "constraints": [repr(c) for c in self.constraints],
                        "fidelity": None if getattr(self, "fidelity", None) is None else repr(self.fidelity),
                        "inherit_weights": getattr(self, "inherit_weights", False),
                        **({"initial_population": self._initial_described()} if self.initial_population else {})})

    def _initial_described(self) -> list[Any]:
        return [self.encoding.to_json(g) for g in self.initial_population]

    def _run(self, data: Any, run_dir: RunDirectory | None, payload: dict[str, Any] | None,
             identity: dict[str, Any] | None = None) -> Result:
        """Run (or continue from ``payload``, a checkpoint) in a run directory already prepared."""
        cache = FitnessCache(run_dir.file("cache.sqlite") if run_dir is not None else None)
        candidates = CandidateEvaluator(self.encoding, self.objectives, data, seed=self.seed, evaluator=self.evaluator,
                                        constraints=self.constraints, cache=cache,
                                        fidelity=getattr(self, "fidelity", None),  # None in searches saved before
                                        inherit_weights=getattr(self, "inherit_weights", False))
        names = [o.name for o in self.objectives]
        tb = genotype_toolbox(self.encoding, candidates.weights)
        log = RunLog(candidates, run_dir, names, self.encoding, self.budget.generations, self.progress,
                     reference_point=getattr(self.algorithm, "reference_point", None),
                     total_evaluations=self.budget.evaluations)
        if self.initial_population:
            check_initial(self.initial_population, self.encoding, data)
            tb.register("population", seeded_population, self.initial_population, tb.individual, candidates.weights,
                        lambda: log.evaluated == 0)
        self.algorithm.configure(tb, len(self.objectives))
        hooks = Hooks(self.callbacks, None if run_dir is None else run_dir.path, names,
                      candidates.weights)
        try:
            with Interrupts() as interrupts:
                return self._search(data, run_dir, payload, identity, tb, log, hooks, interrupts)
        finally:
            log.close()
            candidates.close()
            cache.close()

    def _search(self, data: Any, run_dir: RunDirectory | None, payload: dict[str, Any] | None,
                identity: dict[str, Any] | None, tb: Any, log: RunLog, hooks: Hooks, interrupts: Interrupts) -> Result:
        """The generations of a run, from its start or its checkpoint ``payload`` to its stop; the
        callbacks (``hooks``) hear of each candidate and generation in this process."""
        candidates = log.candidates

        def evaluate(individuals: list[Any]) -> None:
            before = len(log.pending)
            log.evaluate(individuals)
            hooks.candidates_evaluated(log.pending[before:])

        def finished(new: Any) -> None:
            elapsed = time.perf_counter() - start
            log.finish_generation(new, hof, elapsed)  # checkpointed before any callback runs
            hooks.generation_end(new, log.rows[-1], hof, candidates.evaluations, log.evaluated, elapsed)

        if payload is None:
            random.seed(self.seed)
            np.random.seed(self.seed)
            if run_dir is not None:
                run_dir.write_json("config.json", {**self.config(), "task": data.task, "identity": identity})
                self._save_for_resume(run_dir)
            hooks.search_begin(0, False, [], self.budget)
            start = time.perf_counter()
            hof = tools.HallOfFame(self.hall_of_fame) if len(log.names) == 1 else tools.ParetoFront()
            state = self.algorithm.initialize(tb, evaluate)
            finished(state)
        else:
            state, hof, elapsed = log.restore(payload)
            hooks.search_begin(state.generation, True, log.rows, self.budget)
            start = time.perf_counter() - elapsed
        state, reason = drive(
            self.algorithm, tb, evaluate, state, self.budget,
            spent=lambda: (candidates.evaluations, time.perf_counter() - start, log.best_first(hof),
                           self.objectives[0].weight),
            finished=finished, interrupted=lambda: interrupts.requested, requested=hooks.requested)
        elapsed = time.perf_counter() - start
        detail = self._stop_detail(reason, hooks, elapsed, state.generation, candidates.evaluations)
        hooks.search_end(state.generation, reason, detail, candidates.evaluations, log.evaluated, elapsed, log.rows)
        return _result(self, log, hof, data, reason, time.perf_counter() - start, detail)

    def _stop_detail(self, reason: str, hooks: Hooks, elapsed: float, generation: int, evaluations: int) -> str:
        """Why the search stopped, in a sentence (logged, and kept as ``stats["stop_detail"]``)."""
        if reason == hooks.stop_reason:
            detail = hooks.stop_detail or f"a callback asked to stop ({reason})"
        elif reason == "interrupted":
            detail = "interrupted (Ctrl-C) after the last finished generation"
        else:
            detail = self.budget.describe_stop(reason, elapsed, generation, evaluations)
        LOG.info("search stopped by %s after generation %d: %s", reason, generation, detail)
        return detail

    def _save_for_resume(self, run_dir: RunDirectory) -> None:
        """Keep this search's configuration in the run directory so ``evokit.resume(dir)`` can rebuild it."""
        saved = copy.copy(self)  # with evokit's own callbacks only: a user's may hold open files or closures
        saved.callbacks = [c for c in self.callbacks
                           if type(c).__module__.startswith("evokit.callbacks.")]
        try:
            write_atomically(run_dir.file(SEARCH), pickle.dumps(saved))
        except Exception as exc:  # noqa: BLE001 - e.g. a lambda objective: resume needs the same Search then
            run_dir.file(SEARCH).unlink(missing_ok=True)
            warnings.warn(f"this search cannot be saved for evokit.resume ({type(exc).__name__}: {exc}); to resume, "
                          "build the same Search and call search.run(resume=True)", stacklevel=3)


def resume(run_dir: str | Path, budget: Budget | None = None, workers: Any = None,
           progress: bool | None = None, callbacks: Sequence[Callback] | None = None) -> Result:
    """Continue the search saved in ``run_dir`` from its last checkpoint (after a crash, a kill or
    Ctrl-C), optionally with a new budget (e.g. more generations), evaluator or progress setting.
    ``callbacks`` replace the saved search's (which holds only evokit's own callbacks it was given;
    None keeps those).

    ``run_dir`` holds pickles: resume only your own runs, never files from an untrusted source.
    """
    path = Path(run_dir) / SEARCH
    if not path.exists():
        raise ConfigError(f"run_dir={str(run_dir)!r} is invalid: it holds no saved search ({SEARCH}); if the search "
                          "could not be saved, build the same Search and call search.run(resume=True)")
    RunDirectory.check_not_foreign(run_dir)
    probe = RunLock(Path(run_dir))  # a run still going here is named before its saved search is read
    probe.acquire()
    probe.release()
    try:
        search: Search = unpickle.loads(path.read_bytes())
    except DataError:  # its streaming Dataset's files are gone or were rewritten: the error names them
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged pickle raises anything
        raise ConfigError(f"run_dir={str(run_dir)!r} is invalid: {path} cannot be read ({type(exc).__name__}: "
                          f"{exc}); build the same Search and call search.run(resume=True)") from None
    if not isinstance(search, Search):
        raise ConfigError(f"run_dir={str(run_dir)!r} is invalid: {path} holds a {type(search).__name__}, not a "
                          "saved Search")
    search.run_dir = Path(run_dir)
    if budget is not None:
        if not isinstance(budget, Budget):
            raise ConfigError(f"budget={budget!r} is invalid: expected an evokit Budget")
        search.budget = budget
    if workers is not None:
        search.evaluator = make_evaluator(workers)
    if progress is not None:
        search.progress = progress
    if callbacks is not None:
        search.callbacks = check_callbacks(callbacks)
    return search.run(resume=True)


def _stable(identity: dict[str, Any]) -> dict[str, Any]:
    """``identity`` without memory addresses (``<function f at 0x7f...>`` in a repr differs in every process)."""
    def strip(value: Any) -> Any:
        if isinstance(value, str):
            return re.sub(r" at 0x[0-9a-fA-F]+", "", value)
        return [strip(v) for v in value] if isinstance(value, list) else value

    return {k: strip(v) for k, v in identity.items()}


def _candidate(search: Search, log: RunLog, individual: Any) -> Candidate:
    spec = evaluation = None
    try:
        spec = log.candidates.decode(individual)
        evaluation = log.candidates.cached(individual)
    except Exception:  # noqa: BLE001 - a genotype that doesn't decode is reported without a network
        pass
    if evaluation is None:
        evaluation = Evaluation(spec=spec, status="untrained")
    return Candidate(individual, spec, dict(zip(log.names, individual.fitness.values)), evaluation,
                     search.encoding.describe(individual))


def seeded_population(initial: list[Any], individual: Any, weights: tuple[float, ...], first: Callable[[], bool],
                      n: int) -> list[Any]:
    """``n`` individuals: for the run's first population (``first()``: nothing evaluated yet)
    copies of the ``initial`` genotypes first (as many as fit) and random ones after; later
    (random search's batches, a resumed run) all random. Genotypes beyond ``n`` are left out, with
    a warning."""
    if not first():
        return [individual() for _ in range(n)]
    if len(initial) > n:
        warn_user(f"initial_population has {len(initial)} genotypes and the first population holds {n}: "
                  f"the last {len(initial) - n} are left out")
    seeded = [attach_fitness(copy.deepcopy(g), weights) for g in initial[:n]]
    return seeded + [individual() for _ in range(n - len(seeded))]


def check_initial(initial: list[Any], encoding: Encoding, data: Any) -> None:
    """Raise ConfigError naming ``initial_population[i]`` for a genotype ``encoding`` cannot decode on ``data``."""
    for i, genotype in enumerate(initial):
        try:
            encoding.decode(genotype, data.input_shape, data.n_outputs, data.task)
        except Exception as exc:  # noqa: BLE001 - any refusal of the encoding is the user's genotype's fault
            raise ConfigError(f"initial_population[{i}]={genotype!r} is invalid for {type(encoding).__name__} "
                              f"on this data: {exc}") from exc


def distinct_networks(members: list[Candidate]) -> list[Candidate]:
    """``members`` with one entry per distinct network (its NetSpec's canonical hash), the first
    kept: two genotypes that decode to one network (a gene that decodes to nothing, an unused skip
    bit) are one network trained once, and a front or hall of fame lists it once. Members without
    a network (a genotype that does not decode) are kept by genotype."""
    seen: set[Any] = set()
    kept = []
    for member in members:
        key = member.spec.hash if member.spec is not None else ("genotype", repr(member.genotype))
        if key not in seen:
            seen.add(key)
            kept.append(member)
    return kept


def _result(search: Search, log: RunLog, hof: Any, data: Any, reason: str | None, elapsed: float,
            detail: str = "") -> Result:
    """Assemble the Result: best candidates, the tested model, statistics; write the run's outputs."""
    from evokit.runtime.training.trainer import candidate_seed, score_test_split, train

    names = log.names
    members = [_candidate(search, log, ind) for ind in hof]
    if len(names) > 1:  # the Pareto front, best first objective first
        weight = search.objectives[0].weight
        members.sort(key=lambda c: -weight * c.values[names[0]])
    members = distinct_networks(members)
    best = members[0]
    model = None
    test_scores: dict[str, float] = {}
    if best.spec is not None and best.evaluation.status == "ok":
        final = best.evaluation
        # genotypes that carry weights (NEAT, Lamarckian fine-tuning) are retrained from them, never from scratch;
        # those scored with their weights as they are (trains=False) are not retrained at all
        carried = log.candidates.prepare(best.genotype)[1]
        retrained = search.final_training is not None and (search.encoding.trains or carried is None)
        if retrained:
            final = train(best.spec, data, search.final_training, seed=candidate_seed(search.seed, best.spec.hash),
                          weights=carried)
        elif final.weights is None:  # its weights were not kept (e.g. it came from a resumed run's cache)
            final = train(best.spec, data, log.candidates.training, seed=final.seed, weights=carried,
                          fit=search.encoding.trains)
        if not final.failed:
            model = final.model()
            test_scores = score_test_split(model, data)
            if final.companion_weights is not None and log.run_dir is not None:
                _write_pair(log.run_dir, final, model)
            if retrained:  # the final training's own validation, beside the test split's scores
                test_scores.update({f"final_{k}": v for k, v in final.metrics.items()})
    stats = {"generations": log.rows[-1]["gen"] if log.rows else 0, "evaluated": log.evaluated,
             "trained": log.candidates.evaluations, "cache_hits": log.candidates.cache.hits,
             "failures": dict(log.failures), "wall_time_s": round(elapsed, 2), "stopped_by": reason,
             "stop_detail": detail, "budget_overrun_s": _rounded(search.budget.overrun(reason, elapsed)),
             "search_cost": search_cost(log.trained, _estimator(search)),
             "training": log.candidates.training_stats()}
    front: list[Candidate] = []
    if len(names) > 1:  # failed candidates (+-inf values) are not reported as Pareto-optimal
        from evokit.pareto import finite

        front = [c for c in members if finite([c.values.values()])]  # may be empty: then no pareto.csv
        stats["hypervolume"] = log.rows[-1].get("hypervolume") if log.rows else None
        stats["hypervolume_reference"] = log.reference_point
    result = Result(best, members, front, log.rows, test_scores, stats, names,
                    None if log.run_dir is None else log.run_dir.path, model)
    if log.run_dir is not None:
        _write_outputs(log.run_dir, result, data)
    return result


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


def _estimator(search: Search) -> GreenAlgorithms:
    """The Green Algorithms constants of the search's own CO2/Energy objective, if it has one."""
    footprints = [o for o in walk(search.objectives) if isinstance(o, Footprint)]
    return footprints[0].estimator if footprints else GreenAlgorithms()


def _write_outputs(run_dir: RunDirectory, result: Result, data: Any) -> None:
    if result.final_model is not None:
        result.final_model.save(run_dir.file("best.keras"))
        _write_masks(run_dir, result.final_model, data)
    if result.best.spec is not None:
        run_dir.file("best.txt").write_text(result.best.spec.summary() + "\n")
    result.plot(run_dir.file("fitness.png"))
    if len(result.objective_names) > 1 and result.pareto_front:
        from evokit.report.front import plot_front
        from evokit.runtime.run.front import front_records, write_front_csv

        records = front_records(result.pareto_front, result.objective_names)
        write_front_csv(run_dir.file("pareto.csv"), records)
        plot_front(records, result.objective_names, run_dir.file("pareto.png"))
    run_dir.write_json("summary.json", {
        "best": {"values": result.best.values, "params": result.best.params, "flops": result.best.spec.flops
                 if result.best.spec else None, "description": result.best.description,
                 "network": result.best.spec.describe() if result.best.spec else None},
        "test_scores": result.test_scores, "stats": result.stats,
        "hall_of_fame": [{"values": c.values, "params": c.params, "description": c.description,
                          "hash": c.spec.hash if c.spec is not None else None} for c in result.hall_of_fame]})


def _write_pair(run_dir: RunDirectory, final: Evaluation, generator: Any) -> None:
    """For a GAN: the best pair's discriminator (``best_discriminator.keras``) beside its
    generator (``best.keras``), and the generator's sample grid (``samples/best.png``)."""
    from evokit.builder import build
    from evokit.runtime.run.samples import SAMPLES_DIR, write_grid
    from evokit.runtime.training.generated import grid_samples

    discriminator = build(final.spec.discriminator, name="discriminator")
    discriminator.set_weights(final.companion_weights)
    discriminator.save(run_dir.file("best_discriminator.keras"))
    try:
        write_grid(run_dir.path / SAMPLES_DIR / "best.png", grid_samples(generator))
    except Exception as exc:  # noqa: BLE001 - a figure must not cost a finished search its results
        warnings.warn(f"samples/best.png could not be written ({type(exc).__name__}: {exc})", stacklevel=2)


def _write_masks(run_dir: RunDirectory, model: Any, data: Any) -> None:
    """For a per-pixel task, ``masks.npz``: a few validation images with their true and predicted
    masks, for the report (:mod:`evokit.runtime.run.masks`). A failure warns: the search's results stand."""
    from evokit.runtime.run.masks import MASKS, write_masks

    try:
        write_masks(run_dir.file(MASKS), model, data)
    except Exception as exc:  # noqa: BLE001 - a report's figure must not cost a finished search its results
        warnings.warn(f"{MASKS} could not be written ({type(exc).__name__}: {exc}); the report leaves the "
                      "validation masks out", stacklevel=2)
