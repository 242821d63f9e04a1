"""``evokit.Search``: encoding + objectives + algorithm on a dataset, with a run directory.

A thin convenience over parts that stay usable alone (``evokit.toolbox``, the
``CandidateEvaluator``, an Algorithm's ``initialize``/``step``): it seeds, drives the algorithm
generation by generation until the budget is spent, shows progress, keeps the hall of fame or
Pareto front, writes the run directory and returns a :class:`Result`.
"""
from __future__ import annotations

import dataclasses
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from deap import tools

from evokit.algorithms.base import Algorithm, SearchState
from evokit.algorithms.ga import GA
from evokit.algorithms.nsga2 import NSGA2
from evokit.encodings.base import Encoding
from evokit.errors import ConfigError, check_float, check_int
from evokit.evaluation import Evaluation, TrainingConfig
from evokit.fitness.carbon import Footprint, GreenAlgorithms, search_cost
from evokit.fitness.combine import as_objectives, walk
from evokit.fitness.constraints import Constraint
from evokit.netspec import NetSpec
from evokit.runtime.candidates import CandidateEvaluator, Outcome
from evokit.runtime.evaluators import Evaluator, make_evaluator
from evokit.runtime.rundir import RunDirectory
from evokit.toolbox import check_data, genotype_toolbox, resolve_data


@dataclass(frozen=True)
class Budget:
    """When a search stops: after whichever limit is reached first (checked after each generation).

    Args:
        generations: generations after the initial population.
        evaluations: trained candidates (cache hits are free and don't count).
        seconds: wall-clock time.
        target: a value of the first objective that is good enough.
    """

    generations: int | None = None
    evaluations: int | None = None
    seconds: float | None = None
    target: float | None = None

    def __post_init__(self) -> None:
        if self.generations is not None:
            check_int("generations", self.generations, minimum=0)
        if self.evaluations is not None:
            check_int("evaluations", self.evaluations, minimum=1)
        if self.seconds is not None:
            check_float("seconds", self.seconds, minimum=0.0, exclusive_minimum=True)
        if self.target is not None:
            check_float("target", self.target)

    def stop_reason(self, generation: int, evaluations: int, elapsed: float, best: float | None,
                    weight: float) -> str | None:
        if self.generations is not None and generation >= self.generations:
            return "generations"
        if self.evaluations is not None and evaluations >= self.evaluations:
            return "evaluations"
        if self.seconds is not None and elapsed >= self.seconds:
            return "seconds"
        if self.target is not None and best is not None and (best - self.target) * weight >= 0:
            return "target"
        return None


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
        """The top candidates as a text table: objectives and parameters."""
        header = f"{'rank':>4}  " + "  ".join(f"{name:>14}" for name in self.objective_names) + f"  {'params':>9}  network"
        lines = [header]
        for i, c in enumerate(self.hall_of_fame[:n], 1):
            vals = "  ".join(f"{c.values[name]:>14.4g}" for name in self.objective_names)
            lines.append(f"{i:>4}  {vals}  {c.params or 0:>9,}  {c.description}")
        return "\n".join(lines)


class Search:
    """A neuroevolution search: decode, train and score candidates of ``encoding`` on ``data``.

    Args:
        encoding: the genotype representation (e.g. ``evokit.encodings.DeepGA()``).
        objectives: one Objective or a list (several objectives -> NSGA-II by default).
        data: a Dataset or the name of an embedded one (default ``"digits"``).
        algorithm: the search strategy (default GA for one objective, NSGA2 for several).
        budget: when to stop (default: the algorithm's ``generations``).
        seed: fixes Python's, NumPy's, DEAP's and every candidate's Keras randomness.
        workers: 1 (train in this process), N (N worker processes) or an Evaluator.
        run_dir: where to write the run's files (None: write nothing).
        final_training: retrain the best network with these settings (or this many epochs, with
            early stopping) before testing it; None keeps the model as trained during the search.
        hall_of_fame: how many best candidates to keep (single objective).
        constraints: limits checked before training (``evokit.fitness.MaxParams`` ...): a
            violating candidate is scored infeasible without being trained.
        progress: show a progress bar.
        overwrite: allow ``run_dir`` to hold an earlier run, which is replaced.
    """

    def __init__(self, encoding: Encoding, objectives: Any, data: Any = "digits", algorithm: Algorithm | None = None,
                 budget: Budget | None = None, seed: int = 0, workers: int | Evaluator = 1,
                 run_dir: str | Path | None = None, final_training: TrainingConfig | int | None = None,
                 hall_of_fame: int = 5, constraints: Sequence[Constraint] = (), progress: bool = True,
                 overwrite: bool = False):
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
        self.algorithm = algorithm
        if budget is not None and not isinstance(budget, Budget):
            raise ConfigError(f"budget={budget!r} is invalid: expected an evokit Budget")
        self.budget = budget or Budget(generations=algorithm.generations)
        self.seed = check_int("seed", seed, minimum=0)
        self.evaluator = make_evaluator(workers)
        if run_dir is not None:
            RunDirectory.check(run_dir, overwrite)
        self.run_dir = run_dir
        if isinstance(final_training, int) and not isinstance(final_training, bool):
            final_training = TrainingConfig(epochs=check_int("final_training", final_training, minimum=1),
                                            early_stopping=5)
        if final_training is not None and not isinstance(final_training, TrainingConfig):
            raise ConfigError(f"final_training={final_training!r} is invalid: expected epochs (int), a "
                              "TrainingConfig or None")
        self.final_training = final_training
        self.hall_of_fame = check_int("hall_of_fame", hall_of_fame, minimum=1)
        self.constraints = list(constraints)
        self.progress = progress
        self.overwrite = overwrite

    def config(self) -> dict[str, Any]:
        """The search's configuration, as written to ``config.json``."""
        return {"encoding": repr(self.encoding), "objectives": [repr(o) for o in self.objectives],
                "algorithm": repr(self.algorithm), "budget": dataclasses.asdict(self.budget),
                "seed": self.seed, "evaluator": repr(self.evaluator),
                "data": self.data if isinstance(self.data, str) else repr(self.data),
                "final_training": None if self.final_training is None else self.final_training.key(),
                "constraints": [repr(c) for c in self.constraints]}

    def run(self) -> Result:
        """Run the search to the end of its budget and return the Result."""
        random.seed(self.seed)
        np.random.seed(self.seed)
        data = resolve_data(self.data, self.seed)
        candidates = CandidateEvaluator(self.encoding, self.objectives, data, seed=self.seed, evaluator=self.evaluator,
                                        constraints=self.constraints)
        names = [o.name for o in self.objectives]
        tb = genotype_toolbox(self.encoding, candidates.weights)
        self.algorithm.configure(tb, len(self.objectives))
        hof = tools.HallOfFame(self.hall_of_fame) if len(names) == 1 else tools.ParetoFront()
        run_dir = RunDirectory(self.run_dir, overwrite=self.overwrite) if self.run_dir is not None else None
        if run_dir is not None:
            run_dir.write_json("config.json", self.config())
        loop = _Loop(self, candidates, run_dir, names)
        start = time.perf_counter()
        try:
            state = self.algorithm.initialize(tb, loop.evaluate)
            loop.finish_generation(state, hof, start)
            while (reason := self.budget.stop_reason(state.generation, candidates.evaluations,
                                                     time.perf_counter() - start, loop.best_first(hof),
                                                     self.objectives[0].weight)) is None:
                state = self.algorithm.step(state, tb, loop.evaluate)
                loop.finish_generation(state, hof, start)
        finally:
            loop.close()
            candidates.close()
        return loop.result(hof, data, reason, time.perf_counter() - start)


class _Loop:
    """The bookkeeping of one run: records, statistics, progress, and the final Result."""

    def __init__(self, search: Search, candidates: CandidateEvaluator, run_dir: RunDirectory | None,
                 names: list[str]):
        self.search, self.candidates, self.run_dir, self.names = search, candidates, run_dir, names
        self.rows: list[dict[str, Any]] = []
        self.generation = 0
        self.pending: list[Outcome] = []
        self.failures: Counter[str] = Counter()
        self.evaluated = 0
        self.trained: list[Evaluation] = []
        self.bar = None
        if search.progress:
            from tqdm.auto import tqdm

            total = search.budget.generations
            self.bar = tqdm(total=None if total is None else total + 1, desc="evokit", unit="gen", leave=True)

    def evaluate(self, individuals: list[Any]) -> None:
        invalid = [ind for ind in individuals if not ind.fitness.valid]
        for outcome in self.candidates.evaluate_all(invalid):
            outcome.genotype.fitness.values = outcome.values
            self.pending.append(outcome)

    def best_first(self, hof: Any) -> float | None:
        return hof[0].fitness.values[0] if len(hof) else None

    def finish_generation(self, state: SearchState, hof: Any, start: float) -> None:
        hof.update(state.population)
        self.candidates.cache.drop_weights(keep={self._hash(ind) for ind in hof})
        outcomes, self.pending = self.pending, []
        self.evaluated += len(outcomes)
        new_failures = Counter(o.evaluation.reason for o in outcomes if o.evaluation.failed and not o.cached)
        self.failures.update(new_failures)
        self.trained += [o.evaluation for o in outcomes if not o.cached]
        row: dict[str, Any] = {"gen": state.generation, "evaluated": len(outcomes),
                               "trained": sum(not o.cached and o.evaluation.status != "untrained" for o in outcomes),
                               "cache_hits": sum(o.cached for o in outcomes), "failures": sum(new_failures.values()),
                               "elapsed_s": round(time.perf_counter() - start, 3)}
        for k, name in enumerate(self.names):
            values = [v for ind in state.population if math.isfinite(v := ind.fitness.values[k])]
            row.update({f"{name}_max": max(values, default=math.nan), f"{name}_avg": float(np.mean(values)) if values
                        else math.nan, f"{name}_min": min(values, default=math.nan)})
        self.rows.append(row)
        if self.run_dir is not None:
            self.run_dir.append_candidates(self._record(o, state.generation) for o in outcomes)
            self.run_dir.write_generations(self.rows)
        if self.bar is not None:
            best = self.best_first(hof)
            self.bar.set_postfix(best=f"{best:.4g}" if best is not None else "-", trained=self.candidates.evaluations,
                                 cache=self.candidates.cache.hits, failed=sum(self.failures.values()))
            self.bar.update(1)

    def _hash(self, individual: Any) -> str | None:
        try:
            return self.candidates.decode(individual).hash
        except Exception:  # noqa: BLE001 - a genotype that doesn't decode has no network to keep
            return None

    def _record(self, outcome: Outcome, generation: int) -> dict[str, Any]:
        evaluation = outcome.evaluation
        return {"generation": generation, "genotype": self.search.encoding.to_json(outcome.genotype),
                "description": self.search.encoding.describe(outcome.genotype),
                "network": None if evaluation.spec is None else evaluation.spec.describe(),
                "netspec": None if evaluation.spec is None else evaluation.spec.to_dict(),
                "cached": outcome.cached, "fitness": dict(zip(self.names, outcome.values)), **evaluation.summary()}

    def candidate(self, individual: Any) -> Candidate:
        spec = evaluation = None
        try:
            spec = self.candidates.decode(individual)
            evaluation = self.candidates.cached(spec)
        except Exception:  # noqa: BLE001 - a genotype that doesn't decode is reported without a network
            pass
        if evaluation is None:
            evaluation = Evaluation(spec=spec, status="untrained")
        return Candidate(individual, spec, dict(zip(self.names, individual.fitness.values)), evaluation,
                         self.search.encoding.describe(individual))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def result(self, hof: Any, data: Any, reason: str | None, elapsed: float) -> Result:
        from evokit.runtime.trainer import candidate_seed, predict, score_predictions, train

        members = [self.candidate(ind) for ind in hof]
        if len(self.names) > 1:  # the Pareto front, best first objective first
            weight = self.search.objectives[0].weight
            members.sort(key=lambda c: -weight * c.values[self.names[0]])
        best = members[0]
        model = None
        test_scores: dict[str, float] = {}
        if best.spec is not None and (best.evaluation.weights is not None or self.search.final_training):
            final = best.evaluation
            if self.search.final_training is not None:
                final = train(best.spec, data, self.search.final_training,
                              seed=candidate_seed(self.search.seed, best.spec.hash))
            if not final.failed:
                model = final.model()
                test_scores = score_predictions(data.y_test, predict(model, data.x_test), data.task, "test_")
                test_scores.update({f"final_{k}": v for k, v in final.metrics.items()} if final is not best.evaluation
                                   else {})
        stats = {"generations": self.rows[-1]["gen"] if self.rows else 0, "evaluated": self.evaluated,
                 "trained": self.candidates.evaluations, "cache_hits": self.candidates.cache.hits,
                 "failures": dict(self.failures), "wall_time_s": round(elapsed, 2), "stopped_by": reason,
                 "search_cost": search_cost(self.trained, self._estimator())}
        result = Result(best, members, members if len(self.names) > 1 else [], self.rows, test_scores, stats,
                        self.names, None if self.run_dir is None else self.run_dir.path, model)
        if self.run_dir is not None:
            self._write_outputs(result)
        return result

    def _estimator(self) -> GreenAlgorithms:
        """The Green Algorithms constants of the search's own CO2/Energy objective, if it has one."""
        footprints = [o for o in walk(self.search.objectives) if isinstance(o, Footprint)]
        return footprints[0].estimator if footprints else GreenAlgorithms()

    def _write_outputs(self, result: Result) -> None:
        assert self.run_dir is not None
        if result.final_model is not None:
            result.final_model.save(self.run_dir.file("best.keras"))
        if result.best.spec is not None:
            self.run_dir.file("best.txt").write_text(result.best.spec.summary() + "\n")
        result.plot(self.run_dir.file("fitness.png"))
        self.run_dir.write_json("summary.json", {
            "best": {"values": result.best.values, "params": result.best.params, "flops": result.best.spec.flops
                     if result.best.spec else None, "description": result.best.description,
                     "network": result.best.spec.describe() if result.best.spec else None},
            "test_scores": result.test_scores, "stats": result.stats,
            "hall_of_fame": [{"values": c.values, "params": c.params, "description": c.description}
                             for c in result.hall_of_fame]})
