"""``export_models``: a finished run's best model, or its Pareto front, in one format, each
checked against the Keras model and described in a JSON file beside it."""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from evokit.export.checks import agreement, check_agreement, latency
from evokit.export.formats import ExportError, ExportFormat, get_format, package_version, remove_artifact
from evokit.export.models import RunModels, discriminator_model
from evokit.runtime.run.directory import to_jsonable

log = logging.getLogger("evokit.export")

__all__ = ["export_models", "description_path"]

LATENT_SEED = 0
"""Seed of the latent vectors a GAN generator is checked on."""
BATCH = 256
"""Batch size of the predictions compared (not of the latency)."""
CHECKED = 2048
"""The most test samples an export is checked on (the first ones of the split)."""


def description_path(artifact: str | Path) -> Path:
    """The JSON file that describes an exported model: its name plus ``.json`` (``best.onnx.json``)."""
    artifact = Path(artifact)
    return artifact.with_name(artifact.name + ".json")


def export_models(run_dir: str | Path, out: str | Path | None = None, pareto: bool = False,
                  discriminator: bool = False, format: str = "keras", check: bool = True) -> list[Path]:
    """Write the best model (``best`` + the format's suffix) or every Pareto-front / hall-of-fame
    member (``pareto-NN``, with a manifest of their values: ``pareto.json`` for ``.keras``,
    ``pareto-FORMAT.json`` otherwise) of a finished run into ``out`` (default ``RUN_DIR/export``);
    return the paths of the models.

    ``format`` is ``"keras"`` (the best model is copied from the run's ``best.keras``),
    ``"savedmodel"``, ``"onnx"`` or ``"litert"`` (through ``keras.Model.export``). With ``check``
    each artifact is loaded with its own runtime, run on the run's test split and compared with the
    Keras model (ExportError beyond the tolerance, see :mod:`evokit.export.checks`); its
    parameters, FLOPs, size, agreement and latency go to ``NAME.json`` beside it. For a GAN run the
    model is the generator (checked on latent vectors); ``discriminator=True`` writes each pair's
    discriminator too (``best_discriminator``, ``pareto-NN-discriminator``), checked on the
    generator's images. A missing optional package is a ConfigError naming the pip command,
    raised before any work.
    """
    chosen = get_format(format)
    chosen.check_installed()
    models = RunModels(run_dir)
    out = Path(out) if out is not None else Path(run_dir) / "export"
    out.mkdir(parents=True, exist_ok=True)
    if pareto:
        return _export_front(models, out, chosen, discriminator, check)
    return _export_best(models, out, chosen, discriminator, check)


def _export_best(models: RunModels, out: Path, fmt: ExportFormat, discriminator: bool, check: bool) -> list[Path]:
    """``best`` (and ``best_discriminator``): copied or converted from the run's ``.keras`` files,
    rebuilt and retrained (the run's final training) where a file is missing."""
    import keras

    best = models.summary["best"]
    evaluation, paths, built = None, [], {}
    for stem in ["best"] + (["best_discriminator"] if discriminator else []):
        saved, target = models.run_dir / f"{stem}.keras", out / f"{stem}{fmt.suffix}"
        description_path(target).unlink(missing_ok=True)  # a card of an earlier export describes another file
        if saved.is_file():
            model = keras.models.load_model(saved) if check or fmt.name != "keras" else None
            if fmt.name == "keras" and saved.resolve() != target.resolve():
                shutil.copyfile(saved, target)
        else:
            if evaluation is None:
                log.info("%s is missing: rebuilding %s", saved.name, best["description"])
                evaluation = models.evaluation(models.find(best), final=True)
            model = evaluation.model() if stem == "best" else discriminator_model(evaluation)
        if model is not None and not (fmt.name == "keras" and saved.is_file()):
            fmt.write(model, target)
        built[stem] = model
        paths.append(target)
    if check:
        spec = models.spec(models.find(best))
        _describe(models, paths[0], fmt, built["best"], spec, best["description"], None)
        if discriminator:
            _describe(models, paths[1], fmt, built["best_discriminator"], spec.discriminator,
                      best["description"] + " (discriminator)", built["best"])
    return paths


def _distinct(models: RunModels, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One summary entry per distinct network (a run written before the front was deduplicated
    may list one network under two genotypes): by the entry's hash, or its record's."""
    seen, kept = set(), []
    for member in members:
        key = member.get("hash") or models.find(member).get("hash") or member["description"]
        if key not in seen:
            seen.add(key)
            kept.append(member)
    return kept


def _export_front(models: RunModels, out: Path, fmt: ExportFormat, discriminator: bool, check: bool) -> list[Path]:
    """Every Pareto-front (hall-of-fame) member rebuilt and retrained with its search seed."""
    paths, manifest = [], []
    front = _distinct(models, models.summary["hall_of_fame"])
    manifest_path = out / ("pareto.json" if fmt.name == "keras" else f"pareto-{fmt.name}.json")
    manifest_path.unlink(missing_ok=True)  # an earlier export's: written again once every member is
    for i, member in enumerate(front):
        log.info("rebuilding %d/%d: %s", i + 1, len(front), member["description"])
        evaluation = models.evaluation(models.find(member))
        model, target = evaluation.model(), out / f"pareto-{i:02d}{fmt.suffix}"
        _write(fmt, model, target)
        paths.append(target)
        if check:
            _describe(models, target, fmt, model, evaluation.spec, member["description"], None)
        if discriminator:
            critic, companion = discriminator_model(evaluation), out / f"pareto-{i:02d}-discriminator{fmt.suffix}"
            _write(fmt, critic, companion)
            paths.append(companion)
            if check:
                _describe(models, companion, fmt, critic, evaluation.spec.discriminator,
                          member["description"] + " (discriminator)", model)
        manifest.append({"file": target.name, "values": member["values"], "params": model.count_params(),
                         "description": member["description"], "rebuilt_metrics": evaluation.metrics})
    manifest_path.write_text(json.dumps(to_jsonable(manifest), indent=2))
    return paths


def _write(fmt: ExportFormat, model: Any, target: Path) -> None:
    """``model`` written to ``target``, and the JSON of an earlier export of that name removed."""
    description_path(target).unlink(missing_ok=True)
    fmt.write(model, target)


def _inputs(data: Any, model: Any, generator: Any | None) -> tuple[np.ndarray, str]:
    """The samples a model is checked on, and what they are: the test split (the validation split
    when the data has none); for a GAN's generator latent vectors, for its discriminator the
    generator's images of them."""
    from evokit import tasks
    from evokit.runtime.training import generated
    from evokit.runtime.training.forward import predict

    x, split = (data.x_test, "test split") if data.x_test is not None else (data.x_val, "validation split")
    if not tasks.get(data.task).generative:
        return x, split
    z = generated.latent(len(x), int((generator or model).input_shape[-1]), LATENT_SEED)
    if generator is None:
        return z, f"{len(z)} latent vectors (seed {LATENT_SEED})"
    return predict(generator, z, BATCH), f"generator images of {len(z)} latent vectors (seed {LATENT_SEED})"


def _describe(models: RunModels, path: Path, fmt: ExportFormat, model: Any, spec: Any, description: str,
              generator: Any | None) -> dict[str, Any]:
    """Check the artifact at ``path`` against ``model`` and write ``NAME.json`` beside it. An
    artifact that fails the check is removed (unless it is the run's own ``.keras`` file), so that
    nothing under a deployable name is left to be deployed by mistake."""
    try:
        return _checked(models, path, fmt, model, spec, description, generator)
    except ExportError as exc:
        if path.resolve() == (models.run_dir / path.name).resolve() and fmt.name == "keras":
            raise
        remove_artifact(path)
        raise ExportError(f"{exc}; {path} was removed") from exc


def _checked(models: RunModels, path: Path, fmt: ExportFormat, model: Any, spec: Any, description: str,
             generator: Any | None) -> dict[str, Any]:
    from evokit import tasks
    from evokit.runtime.training.forward import predict

    data = models.data
    x, inputs = _inputs(data, model, generator)
    x = np.asarray(x[:CHECKED]).astype(model.inputs[0].dtype, copy=False)  # a streaming split: read only these
    reference = predict(model, x, BATCH)
    try:
        run = fmt.load(path, x.dtype)
        exported = np.concatenate([run(x[i:i + BATCH]) for i in range(0, len(x), BATCH)])
    except Exception as exc:  # noqa: BLE001 - the runtime's failure, named for the user
        raise ExportError(f"format={fmt.name!r}: {path.name} was written but {fmt.runtime} cannot run it: "
                          f"{type(exc).__name__}: {str(exc).strip()[:300]}") from exc
    result = agreement(reference, exported, tasks.get(data.task).class_codes and generator is None)
    result["inputs"] = inputs
    check_agreement(path.name, result)
    card = {"format": fmt.name, "file": path.name, "size_bytes": _size(path), "description": description,
            "params": spec.params, "flops": spec.flops, "input_shape": list(model.input_shape[1:]),
            "input_dtype": str(x.dtype), "output_shape": list(model.output_shape[1:]),
            "fixed_batch": getattr(run, "fixed_batch", None), "agreement": result,
            "latency": {"runtime": fmt.runtime, **latency(run, x)}, "versions": _versions()}
    description_path(path).write_text(json.dumps(to_jsonable(card), indent=2))
    return card


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def _versions() -> dict[str, str]:
    return {package: package_version(package) for package in ("evokit", "keras", "tensorflow")}
