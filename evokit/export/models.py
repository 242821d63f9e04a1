"""The networks of a finished run directory rebuilt as trained Keras models, with the data the
run was searched on (for checking an export on its test split)."""
from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

from evokit import unpickle
from evokit.errors import ConfigError
from evokit.fitness.combine import training_config
from evokit.runtime.run.directory import read_run

log = logging.getLogger("evokit.export")

__all__ = ["RunModels", "discriminator_model", "training_from_key"]


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
            training = self._recorded_training(training_config(search.objectives))
            try:
                candidates = CandidateEvaluator(search.encoding, search.objectives, data, seed=search.seed,
                                                constraints=search.constraints, training=training)
            except ConfigError as exc:  # its objectives now ask for another setting than the run trained with
                raise ConfigError(f"run_dir={str(self.run_dir)!r} is invalid: its candidates were trained with "
                                  f"training={training.key() if training else None!r}, which this evokit cannot "
                                  f"train them with again ({exc}); export with the evokit that made the run") from exc
            self._state = (search, data, candidates)
        return self._state

    def _recorded_training(self, current: Any) -> Any:
        """The training setting the run trained its candidates with (``training`` in the identity
        its ``config.json`` records): the networks are rebuilt with it, not with what the search's
        objectives would ask for today (the default for objectives that give none,
        ``evokit.fitness.DEFAULT_TRAINING``, has changed between versions). ``current`` when the
        run records none (older evokit); ConfigError when the record cannot be read back."""
        try:
            identity = json.loads((self.run_dir / "config.json").read_text()).get("identity")
        except (OSError, ValueError, AttributeError):
            identity = None
        current_key = None if current is None else current.key()
        if not isinstance(identity, dict) or "training" not in identity:
            log.warning("%s records no training setting: the networks are retrained with training=%s",
                        self.run_dir / "config.json", current_key)
            return current
        recorded = identity["training"]
        if recorded == current_key:
            return current
        rebuilt = training_from_key(recorded) if isinstance(recorded, str) else None
        if rebuilt is None:
            raise ConfigError(f"run_dir={str(self.run_dir)!r} is invalid: its candidates were trained with "
                              f"training={recorded!r} (config.json), which cannot be rebuilt here (this evokit "
                              f"would train with training={current_key!r}); export with the evokit that made the run")
        log.info("retraining with the run's training=%s (today's default: %s)", recorded, current_key)
        return rebuilt

    def find(self, member: dict[str, Any]) -> dict[str, Any]:
        """The first successful record of the candidate a summary entry describes."""
        for record in self.records:
            if (record.get("status") == "ok" and record.get("fitness") == member["values"]
                    and record.get("description") == member["description"] and record.get("genotype") is not None):
                return record
        raise ConfigError(f"run_dir={str(self.run_dir)!r} is invalid: candidates.jsonl has no record of "
                          f"{member['description']!r} with values {member['values']}")

    @property
    def data(self) -> Any:
        """The run's Dataset, rebuilt as the search built it (from ``search.pkl``)."""
        return self._setup()[1]

    def spec(self, record: dict[str, Any]) -> Any:
        """The NetSpec of a record's network (decoded, not trained): its parameter and FLOP counts."""
        search, _, candidates = self._setup()
        return candidates.prepare(search.encoding.from_json(record["genotype"]))[0]

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


def training_from_key(key: str) -> Any:
    """The TrainingConfig whose ``key()`` is ``key`` (``epochs=3,batch_size=32,...``), or None when
    ``key`` names a field TrainingConfig lacks, a value it refuses, or does not come back the same."""
    from evokit.evaluation import TrainingConfig

    names = {field.name for field in dataclasses.fields(TrainingConfig)}
    values: dict[str, Any] = {}
    for part in key.split(","):
        name, equals, text = part.partition("=")
        if not equals or name not in names:
            return None
        values[name] = _value(text)
    try:
        config = TrainingConfig(**values)
    except (ConfigError, TypeError):
        return None
    return config if config.key() == key else None


def _value(text: str) -> Any:
    """A value as ``TrainingConfig.key`` writes it: None, a bool, an int, a float, else text."""
    literals = {"None": None, "True": True, "False": False}
    if text in literals:
        return literals[text]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def discriminator_model(evaluation: Any) -> Any:
    """A GAN pair's trained discriminator as a Keras model; ConfigError for a run of another task."""
    from evokit.builder import build

    companion = getattr(evaluation.spec, "discriminator", None)
    if companion is None or evaluation.companion_weights is None:
        raise ConfigError("discriminator=True is invalid for this run: its networks are not GAN pairs (a "
                          "discriminator exists only in a gan search)")
    model = build(companion, name="discriminator")
    model.set_weights(evaluation.companion_weights)
    return model
