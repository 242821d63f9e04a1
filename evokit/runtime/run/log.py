"""The bookkeeping of one search run: candidate records, per-generation statistics, progress,
and the checkpoint that lets a killed run continue where it stopped.

With two or more objectives each generation's row also has the ``hypervolume`` of the Pareto
front kept so far (the search's ParetoFront archive), measured against one reference point for
the whole run: the given one, else the one fixed from the first generation that has a finite
member (see ``evokit.pareto`` for the rule). The reference point is in the checkpoint,
so a resumed run logs the same values as an uninterrupted one.

In a GAN run (a best candidate whose evaluation holds ``extra["samples"]``) each generation also
writes the grid of what the best generator so far draws, ``samples/gen_NNNN.png``, and its entry
in ``samples/index.json`` (``evokit.runtime.run.samples``); other runs write nothing there.

A generation's ``state`` is any object with ``population`` and ``generation`` (an algorithm's
``SearchState``): run records sit below the algorithms and do not import them.
"""
from __future__ import annotations

import logging
import math
import os
import random
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from evokit.encodings.base import Encoding
from evokit.evaluation import Evaluation
from evokit.runtime.candidates.evaluator import CandidateEvaluator, Outcome
from evokit.runtime.run.checkpoint import save_checkpoint
from evokit.pareto import check_reference_point, default_reference_point, hypervolume
from evokit.runtime.run.directory import RunDirectory
from evokit.runtime.run import samples as sample_grids

LOG = logging.getLogger("evokit.search")
TRAINING_COUNTERS = ("trainings", "epochs_trained", "epochs_full", "stopped_early", "inherited_starts")
"""The CandidateEvaluator's training counters (``stats["training"]``) kept in the checkpoint."""


class RunLog:
    """Records, statistics, progress bar and checkpoints of one run.

    ``reference_point``: the hypervolume reference point of a multi-objective run, in the
    objectives' units (None: fixed from the first generation that has a finite member).
    """

    def __init__(self, candidates: CandidateEvaluator, run_dir: RunDirectory | None, names: list[str],
                 encoding: Encoding, total_generations: int | None, progress: bool,
                 reference_point: Any = None, total_evaluations: int | None = None):
        self.candidates, self.run_dir, self.names, self.encoding = candidates, run_dir, names, encoding
        self.reference_point = check_reference_point(reference_point, len(names)) if len(names) > 1 else None
        self.rows: list[dict[str, Any]] = []
        self.pending: list[Outcome] = []
        self.failures: Counter[str] = Counter()
        self.evaluated = 0
        self.trained: list[Evaluation] = []
        self.bar = None
        self.by_evaluations = False
        self._samples_warned = False  # a grid that cannot be written warns once per run, then logs
        if progress:
            from tqdm.auto import tqdm

            # the bar counts generations, or evaluations when only an evaluations budget gives an end (ETA)
            self.by_evaluations = total_generations is None and total_evaluations is not None
            total = total_evaluations if self.by_evaluations else (
                None if total_generations is None else total_generations + 1)
            if candidates.training is not None:  # TensorFlow's start-up lines before the bar, not inside it
                from evokit.logs import import_tensorflow

                import_tensorflow()
            self.bar = tqdm(total=total, desc="evokit", unit="eval" if self.by_evaluations else "gen", leave=True)

    def evaluate(self, individuals: list[Any]) -> None:
        """Evaluate the individuals whose fitness is invalid, in one batch, and set their fitness."""
        invalid = [ind for ind in individuals if not ind.fitness.valid]
        for outcome in self.candidates.evaluate_all(invalid):
            outcome.genotype.fitness.values = outcome.values
            self.pending.append(outcome)

    @staticmethod
    def best_first(hof: Any) -> float | None:
        return hof[0].fitness.values[0] if len(hof) else None

    def finish_generation(self, state: Any, hof: Any, elapsed: float) -> None:
        """Update the hall of fame, statistics and files of a finished generation, then checkpoint."""
        hof.update(state.population)
        self.candidates.cache.drop_weights(keep={self.cache_key(ind) for ind in hof})
        outcomes, self.pending = self.pending, []
        self.evaluated += len(outcomes)
        new_failures = Counter(o.evaluation.reason for o in outcomes if o.evaluation.failed and not o.cached)
        self.failures.update(new_failures)
        self.trained += [_record_only(o.evaluation) for o in outcomes if not o.cached]
        row: dict[str, Any] = {"gen": state.generation, "evaluated": len(outcomes),
                               "trained": sum(not o.cached and o.evaluation.status != "untrained" for o in outcomes),
                               "cache_hits": sum(o.cached for o in outcomes), "failures": sum(new_failures.values()),
                               "elapsed_s": round(elapsed, 3)}
        for k, name in enumerate(self.names):
            values = [v for ind in state.population if math.isfinite(v := ind.fitness.values[k])]
            row.update({f"{name}_max": max(values, default=math.nan), f"{name}_avg": float(np.mean(values)) if values
                        else math.nan, f"{name}_min": min(values, default=math.nan)})
        if len(self.names) > 1:
            row["hypervolume"] = self.hypervolume(state, hof)
        self.rows.append(row)
        if self.run_dir is not None:
            self.run_dir.append_candidates(self.record(o, state.generation) for o in outcomes)
            self.run_dir.write_generations(self.rows)
            self.write_samples(state.generation, hof, outcomes)
            save_checkpoint(self.run_dir.path, self.checkpoint(state, hof, elapsed))
        self._show(hof)

    def write_samples(self, generation: int, hof: Any, outcomes: list[Outcome]) -> Path | None:
        """A GAN run's ``samples/gen_NNNN.png``: the grid of what the best candidate so far (the
        hall of fame's first) generates, with its entry in ``samples/index.json``
        (``evokit.runtime.run.samples``). Nothing, and no file, unless its evaluation holds
        ``extra["samples"]``. A grid that cannot be written is warned about; the run goes on.
        Returns the grid's path, or None."""
        key = sample_grids.EXTRA_KEY
        if self.run_dir is None or not len(hof) or not (
                any(key in o.evaluation.extra for o in outcomes)
                or (self.run_dir.path / sample_grids.SAMPLES_DIR).is_dir()):  # else: not a GAN run, nothing to do
            return None
        try:
            evaluation = self.best_evaluation(hof[0], outcomes)
            if evaluation is None:
                return None
            return sample_grids.record_generation(self.run_dir.path, generation, evaluation.extra[key],
                                                  value=hof[0].fitness.values[0], objective=self.names[0],
                                                  network=evaluation.spec_hash)
        except Exception as exc:  # noqa: BLE001 - a picture is never worth the run
            message = (f"the generated samples of generation {generation} could not be written to "
                       f"{self.run_dir.path / sample_grids.SAMPLES_DIR} ({type(exc).__name__}: {exc}); "
                       "the search goes on")
            if self._samples_warned:
                LOG.warning(message)
            else:
                self._samples_warned = True
                warnings.warn(message, stacklevel=2)
            return None

    def best_evaluation(self, best: Any, outcomes: list[Outcome]) -> Evaluation | None:
        """The evaluation of ``best`` that holds generated samples: its cached one, else that of
        an outcome of this generation with the same evaluation key; None when neither has any."""
        key, wanted = sample_grids.EXTRA_KEY, self.cache_key(best)
        found = None if wanted is None else self.candidates.cache.peek(wanted)  # = candidates.cached(best)
        if found is not None and key in found.extra:
            return found
        for outcome in outcomes:
            if key in outcome.evaluation.extra and wanted is not None and self.cache_key(outcome.genotype) == wanted:
                return outcome.evaluation
        return None

    def hypervolume(self, state: Any, hof: Any) -> float:
        """The hypervolume of the front kept so far (NaN until the reference point is fixed)."""
        weights = self.candidates.weights
        if self.reference_point is None:
            self.reference_point = default_reference_point((ind.fitness.values for ind in state.population), weights)
        if self.reference_point is None:
            return math.nan
        return hypervolume([ind.fitness.values for ind in hof], weights, self.reference_point)

    def _show(self, hof: Any) -> None:
        if self.bar is not None:
            best = self.best_first(hof)
            self.bar.set_postfix(best=f"{best:.4g}" if best is not None else "-", trained=self.candidates.evaluations,
                                 cache=self.candidates.cache.hits, failed=sum(self.failures.values()))
            if self.by_evaluations:
                self.bar.update(min(self.candidates.evaluations, self.bar.total) - self.bar.n)
            else:
                self.bar.update(1)
        LOG.debug("generation %d: %s", self.rows[-1]["gen"], ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else
                                                                       f"{k}={v}" for k, v in self.rows[-1].items()))

    def checkpoint(self, state: Any, hof: Any, elapsed: float) -> dict[str, Any]:
        """Everything needed to continue this run exactly as if it had not stopped."""
        assert self.run_dir is not None
        return {"state": state, "hof": hof, "rows": self.rows, "failures": dict(self.failures),
                "evaluated": self.evaluated, "trained": self.trained, "seen": self.candidates.seen,
                "cache_hits": self.candidates.cache.hits, "random": random.getstate(),
                "numpy": np.random.get_state(), "elapsed": elapsed, "reference_point": self.reference_point,
                "training": {k: getattr(self.candidates, k) for k in TRAINING_COUNTERS},
                "candidates_bytes": os.path.getsize(self.run_dir.file("candidates.jsonl"))}

    def restore(self, payload: dict[str, Any]) -> tuple[Any, Any, float]:
        """Continue from a checkpoint: returns the state, the hall of fame and the elapsed time."""
        assert self.run_dir is not None
        self.rows = payload["rows"]
        self.failures = Counter(payload["failures"])
        self.evaluated = payload["evaluated"]
        self.trained = payload["trained"]
        self.candidates.seen = set(payload["seen"])
        self.candidates.cache.hits = payload["cache_hits"]
        if payload.get("reference_point") is not None:  # the run's own, so hypervolumes stay comparable
            self.reference_point = tuple(payload["reference_point"])
        for name, value in (payload.get("training") or {}).items():  # absent in checkpoints of older runs
            if name in TRAINING_COUNTERS:
                setattr(self.candidates, name, value)
        random.setstate(payload["random"])
        np.random.set_state(payload["numpy"])
        records = self.run_dir.cut_candidates(payload["candidates_bytes"])  # drop records after the checkpoint
        if records is not None:
            warnings.warn(f"{self.run_dir.file('candidates.jsonl')} is shorter than its checkpoint expects: "
                          f"{payload['evaluated'] - records} record(s) of evaluations before the checkpoint were lost "
                          "(not on disk when the run stopped); the search goes on from the checkpoint and ends as "
                          "it would have, but the file lacks those records", stacklevel=2)
        self.run_dir.write_generations(self.rows)
        if self.bar is not None:
            self.bar.update(min(self.candidates.evaluations, self.bar.total) if self.by_evaluations else len(self.rows))
        return payload["state"], payload["hof"], payload["elapsed"]

    def cache_key(self, individual: Any) -> str | None:
        try:
            return self.candidates.evaluation_key(individual)
        except Exception:  # noqa: BLE001 - a genotype that doesn't decode has no network to keep
            return None

    def record(self, outcome: Outcome, generation: int) -> dict[str, Any]:
        evaluation = outcome.evaluation
        return {"generation": generation, "genotype": self.encoding.to_json(outcome.genotype),
                "description": self.encoding.describe(outcome.genotype),
                "network": None if evaluation.spec is None else evaluation.spec.describe(),
                "netspec": None if evaluation.spec is None else evaluation.spec.to_dict(),
                "cached": outcome.cached, "fitness": dict(zip(self.names, outcome.values)), **evaluation.summary()}

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _record_only(evaluation: Evaluation) -> Evaluation:
    """What the run keeps of a fresh evaluation for its statistics and checkpoint: no weights,
    and no sample images (a GAN's grid images stay in the cache, where the grids are drawn from)."""
    kept = evaluation.without_weights()
    if sample_grids.EXTRA_KEY in kept.extra:
        kept.extra = {k: v for k, v in kept.extra.items() if k != sample_grids.EXTRA_KEY}
    return kept
