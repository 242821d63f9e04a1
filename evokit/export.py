"""Models of a finished run as ``.keras`` files (``evokit export``): the best model, or every
member of the Pareto front (one objective: the hall of fame) rebuilt and trained again.

The best model is copied from the run (``best.keras``) or, if missing, rebuilt and retrained with
the run's seed. Pareto members are rebuilt from their records in ``candidates.jsonl`` and
retrained with the seed they were trained with during the search. Load one with
``keras.models.load_model(path)``.
"""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from evokit import unpickle
from evokit.errors import ConfigError
from evokit.runtime.run.directory import read_run, to_jsonable

log = logging.getLogger("evokit.export")

__all__ = ["export_models", "RunModels"]


class RunModels:
    """Rebuilds the networks of a finished run directory as trained Keras models.

    A candidate's genotype (from ``candidates.jsonl``) is decoded by the run's own encoding (from
    ``search.pkl``) and trained as the search trained it: the same data, training settings and
    seed (derived from the run seed and the network), with the weights a genotype carries.
    ``search.pkl`` is a pickle: rebuild only your own runs.
    """

    def __init__(self, run_dir: str | Path):
        from evokit.runtime.run.checkpoint import SEARCH

        self.run_dir = Path(run_dir)
        if not (self.run_dir / "summary.json").is_file():
            raise ConfigError(f"run_dir={str(run_dir)!r} is invalid: it holds no finished run (no summary.json); "
                              "finish it first: evokit resume RUN_DIR")
        run = read_run(self.run_dir)
        if run.summary is None:
            raise ConfigError(f"run_dir={str(run_dir)!r} is invalid: {' '.join(run.notes)}")
        self.summary = run.summary
        self.records = run.records
        self._search_path = self.run_dir / SEARCH
        self._state: tuple[Any, Any, Any] | None = None

    def _setup(self) -> tuple[Any, Any, Any]:
        from evokit.runtime.candidates.evaluator import CandidateEvaluator
        from evokit.deap_toolbox import resolve_data

        if self._state is None:
            if not self._search_path.is_file():
                raise ConfigError(f"run_dir={str(self.run_dir)!r} is invalid: it has no saved search "
                                  f"({self._search_path.name}) to rebuild networks with")
            search = unpickle.loads(self._search_path.read_bytes())
            data = resolve_data(search.data, search.seed)
            candidates = CandidateEvaluator(search.encoding, search.objectives, data, seed=search.seed,
                                            constraints=search.constraints)
            self._state = (search, data, candidates)
        return self._state

    def find(self, member: dict[str, Any]) -> dict[str, Any]:
        """The first successful record of the candidate a summary entry describes."""
        for record in self.records:
            if (record.get("status") == "ok" and record.get("fitness") == member["values"]
                    and record.get("description") == member["description"] and record.get("genotype") is not None):
                return record
        raise ConfigError(f"run_dir={str(self.run_dir)!r} is invalid: candidates.jsonl has no record of "
                          f"{member['description']!r} with values {member['values']}")

    def evaluation(self, record: dict[str, Any], final: bool = False) -> Any:
        """The Evaluation (trained weights, validation metrics) of a record's network trained
        again (with ``final_training`` if ``final`` and the search had one, as the search did for
        its best network); ``.model()`` is the Keras model."""
        from evokit.evaluation import TrainingConfig
        from evokit.runtime.training.trainer import candidate_seed, train

        search, data, candidates = self._setup()
        genotype = search.encoding.from_json(record["genotype"])
        spec, weights, _ = candidates.prepare(genotype)
        seed = candidate_seed(search.seed, spec.hash)
        if final and search.final_training is not None:
            evaluation = train(spec, data, search.final_training, seed=seed)
        else:
            evaluation = train(spec, data, candidates.training or TrainingConfig(), seed=seed, weights=weights,
                               fit=search.encoding.trains)
        if evaluation.failed:
            raise RuntimeError(f"rebuilding {record['description']!r} failed: {evaluation.message}")
        return evaluation


def export_models(run_dir: str | Path, out: str | Path | None = None, pareto: bool = False,
                  discriminator: bool = False) -> list[Path]:
    """Write the best model (``best.keras``) or every Pareto-front / hall-of-fame member
    (``pareto-NN.keras`` and ``pareto.json``, their values) of a finished run into ``out``
    (default ``RUN_DIR/export``); return the paths of the models. For a GAN run the model is the
    generator; ``discriminator=True`` writes each pair's discriminator too
    (``best_discriminator.keras``, ``pareto-NN-discriminator.keras``)."""
    models = RunModels(run_dir)
    out = Path(out) if out is not None else Path(run_dir) / "export"
    out.mkdir(parents=True, exist_ok=True)
    if not pareto:
        paths = [out / "best.keras"] + ([out / "best_discriminator.keras"] if discriminator else [])
        evaluation = None
        for target in paths:
            saved = Path(run_dir) / target.name
            if saved.is_file():
                if saved.resolve() != target.resolve():
                    shutil.copyfile(saved, target)
                continue
            if evaluation is None:
                best = models.summary["best"]
                log.info("%s is missing: rebuilding %s", target.name, best["description"])
                evaluation = models.evaluation(models.find(best), final=True)
            (evaluation.model() if target.name == "best.keras" else _discriminator(evaluation)).save(target)
        return paths
    paths, manifest = [], []
    for i, member in enumerate(models.summary["hall_of_fame"]):
        log.info("rebuilding %d/%d: %s", i + 1, len(models.summary["hall_of_fame"]), member["description"])
        target = out / f"pareto-{i:02d}.keras"
        evaluation = models.evaluation(models.find(member))
        model = evaluation.model()
        model.save(target)
        paths.append(target)
        if discriminator:
            paths.append(out / f"pareto-{i:02d}-discriminator.keras")
            _discriminator(evaluation).save(paths[-1])
        manifest.append({"file": target.name, "values": member["values"], "params": model.count_params(),
                         "description": member["description"], "rebuilt_metrics": evaluation.metrics})
    (out / "pareto.json").write_text(json.dumps(to_jsonable(manifest), indent=2))
    return paths


def _discriminator(evaluation: Any) -> Any:
    """A GAN pair's trained discriminator as a Keras model; ConfigError for a run of another task."""
    from evokit.builder import build

    companion = getattr(evaluation.spec, "discriminator", None)
    if companion is None or evaluation.companion_weights is None:
        raise ConfigError("discriminator=True is invalid for this run: its networks are not GAN pairs (a "
                          "discriminator exists only in a gan search)")
    model = build(companion, name="discriminator")
    model.set_weights(evaluation.companion_weights)
    return model
