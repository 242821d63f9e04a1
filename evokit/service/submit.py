"""A client's submission turned into a job directory, or refused with the field it got wrong.

What a client sends is data only: a config as TOML or JSON text (parsed, never imported: types
name evokit's own classes, as ``evokit.config.from_dict(allow_imports=False)`` enforces), or
form fields that build one; a built-in dataset's name or an uploaded CSV/NPZ file. The server
chooses every path: the job's directory, the config's file, the upload's file name
(``data.csv`` / ``data.npz``) and the run directory; a config that names a path (``run_dir``,
``data.path``) or a remote evaluator is refused. The whole config is built once here (the data
read and checked by the same validated readers ``evokit run`` uses), so bad input is refused
before anything runs, and a refused submission leaves nothing on disk.
"""
from __future__ import annotations

import json
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from evokit import config as configs
from evokit import datasets
from evokit.datafiles import FILE_ONLY_KEYS
from evokit.errors import ConfigError, DataError

MAX_CONFIG_CHARS = 200_000
UNPACKED_FACTOR = 8
"""An uploaded NPZ may unpack to at most this many times the upload limit."""
DATA_FILES = {".csv": "data.csv", ".npz": "data.npz"}
"""Upload suffix -> the name the server stores it under (the client's file name is never a path)."""
SERVER_KEYS = ("run_dir", "overwrite")
"""Top-level config keys the server sets itself."""
UPLOAD_DATA_KEYS = ("target", "header", "delimiter", "task", "text_column", "vocab_size", "sequence_length",
                    "seed", "val_size", "test_size", "scale", "n_train", "n_val")
"""``[data]`` keys that may come with an uploaded file (never ``path``, ``name`` or ``kind``)."""
EVALUATORS = ("serial", "processes")
FORM_ENCODINGS = ("deepga", "binary", "real", "tree", "permutation", "grouping", "neat", "textcnn", "unet_tree",
                  "unet_blocks")
FORM_OBJECTIVES = ("accuracy", "loss", "r2", "mae", "rmse", "dice", "iou", "params", "flops", "co2", "energy",
                   "deepga_score")
TRAINED_OBJECTIVES = ("accuracy", "loss", "r2", "mae", "rmse", "dice", "iou")
"""Objectives that train each candidate: the form's ``epochs`` goes to them."""
DEFAULTS: dict[str, Any] = {"dataset": "digits", "encoding": "deepga", "search": "ga", "objectives": ["accuracy"],
                            "generations": 5, "population": 8, "epochs": 2, "seed": 0, "final_epochs": 10}


class Refused(ConfigError):
    """A submission the service will not run: ``status`` is the HTTP status (422 bad content,
    413 too large), the message names the field."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


@dataclass
class Upload:
    """An uploaded file as the request parser spooled it: the client's name (only its suffix is
    used) and an open binary file."""

    filename: str
    file: Any


@dataclass
class Submission:
    """What ``POST /api/jobs`` received."""

    fields: dict[str, str] = field(default_factory=dict)
    upload: Upload | None = None


@dataclass
class Prepared:
    """A checked submission: the job's config (as written to ``config.json`` in its directory),
    its display name and what it searches."""

    config: dict[str, Any]
    name: str
    about: dict[str, Any]


def options(max_upload_bytes: int, token_required: bool) -> dict[str, Any]:
    """What the form offers (``GET /api/options``)."""
    return {"datasets": list(datasets.names()), "encodings": list(FORM_ENCODINGS),
            "searches": list(configs.ALGORITHMS), "objectives": list(FORM_OBJECTIVES), "defaults": DEFAULTS,
            "max_upload_bytes": max_upload_bytes, "token_required": token_required}


def prepare(submission: Submission, job_dir: Path, max_upload_bytes: int) -> Prepared:
    """Check a submission and write its files into ``job_dir`` (created here); on any refusal
    ``job_dir`` is removed again and :class:`Refused` raised."""
    job_dir.mkdir(parents=True)
    try:
        config = _config(submission.fields)
        _data(config, submission, job_dir, max_upload_bytes)
        search = _build(config, job_dir)
        about = _about(config, search, submission)
        (job_dir / "config.json").write_text(json.dumps(config, indent=2))
        name = _text(submission.fields, "name", 80) or f"{about['encoding']} on {about['dataset']}"
        return Prepared(config=config, name=name, about=about)
    except BaseException:
        shutil.rmtree(job_dir, ignore_errors=True)
        raise


# --- the config ------------------------------------------------------------------------------

def _config(fields: Mapping[str, str]) -> dict[str, Any]:
    text = (fields.get("config") or "").strip()
    config = _parse(text) if text else from_form(fields)
    for key in SERVER_KEYS:
        if key in config:
            raise Refused(f"config.{key}={config[key]!r} is not allowed: the server chooses the run directory "
                          "and never overwrites a run")
    data = config.get("data", {})
    if isinstance(data, Mapping) and ("path" in data or "kind" in data):
        raise Refused("config.data.path is not allowed: a client names no file on the server; upload the data "
                      "file (field data) or name a built-in dataset (field dataset)")
    _check_evaluator(config.get("evaluator"))
    return config


def _parse(text: str) -> dict[str, Any]:
    if len(text) > MAX_CONFIG_CHARS:
        raise Refused(f"config is invalid: {len(text):,} characters, at most {MAX_CONFIG_CHARS:,} allowed")
    try:
        if text.startswith("{"):
            return configs.parse_json(text, "config")
        return configs.tomllib.loads(text)
    except configs.tomllib.TOMLDecodeError as exc:
        raise Refused(f"config is invalid: not valid TOML ({exc})") from None
    except ConfigError as exc:
        raise Refused(str(exc)) from None
    except RecursionError:
        raise Refused("config is invalid: nested too deeply") from None


def _check_evaluator(section: Any) -> None:
    if section is None:
        return
    table = {"type": section} if isinstance(section, str) else section if isinstance(section, Mapping) else {}
    kind = table.get("type", "serial")
    if kind not in EVALUATORS or (isinstance(section, Mapping) and set(section) - {"type", "workers"}):
        raise Refused(f"config.evaluator={section!r} is not allowed: a job runs on this server with type "
                      f"{' or '.join(map(repr, EVALUATORS))} and at most a number of workers")
    workers = table.get("workers", 2 if kind == "processes" else 1)  # ProcessEvaluator's default
    most = os.cpu_count() or 1
    if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= most:
        raise Refused(f"config.evaluator.workers={workers!r} is invalid: expected 1 to {most} (this server's CPUs)")


def from_form(fields: Mapping[str, str]) -> dict[str, Any]:
    """The config the form's fields describe (``encoding``, ``search``, ``objectives``,
    ``generations``, ``population``, ``epochs``, ``evaluations``, ``seconds``, ``seed``,
    ``final_epochs``, ``hyperparameters``)."""
    encoding = _choice(fields, "encoding", FORM_ENCODINGS)
    search = _choice(fields, "search", tuple(configs.ALGORITHMS))
    objectives = [o.strip() for o in (fields.get("objectives") or ",".join(DEFAULTS["objectives"])).split(",")
                  if o.strip()]
    for name in objectives:
        if name not in FORM_OBJECTIVES:
            raise Refused(f"objectives={name!r} is invalid: expected some of {', '.join(FORM_OBJECTIVES)}")
    if not objectives:
        raise Refused(f"objectives is invalid: name at least one of {', '.join(FORM_OBJECTIVES)}")
    epochs = _int(fields, "epochs", 1, 100)
    algorithm: dict[str, Any] = {"type": search, _size_key(search): _int(fields, "population", 2, 1000),
                                 "generations": _int(fields, "generations", 0, 10_000)}
    config: dict[str, Any] = {
        "seed": _int(fields, "seed", 0, 2**31 - 1),
        "final_training": _int(fields, "final_epochs", 0, 200),
        "encoding": _encoding(encoding, fields),
        "objectives": [{"type": o, "epochs": epochs} if o in TRAINED_OBJECTIVES else {"type": o} for o in objectives],
        "algorithm": algorithm,
    }
    budget = {k: _number(fields, k) for k in ("evaluations", "seconds") if fields.get(k)}
    if budget:
        config["budget"] = {"generations": algorithm["generations"], **budget}
    return config


def _encoding(encoding: str, fields: Mapping[str, str]) -> dict[str, Any]:
    if (fields.get("hyperparameters") or "").lower() in ("1", "true", "on", "yes"):
        return {"type": "hyperparameters", "encoding": {"type": encoding}}
    return {"type": encoding}


def _size_key(search: str) -> str:
    """The algorithm's population-size argument (RandomSearch calls it ``batch``)."""
    params = configs._parameters(configs.resolve(configs.ALGORITHMS[search]))
    return "population" if params is None or "population" in params else "batch"


def _choice(fields: Mapping[str, str], key: str, allowed: tuple[str, ...]) -> str:
    value = fields.get(key) or DEFAULTS[key]
    if value not in allowed:
        raise Refused(f"{key}={value!r} is invalid: expected one of {', '.join(allowed)}")
    return value


def _int(fields: Mapping[str, str], key: str, low: int, high: int) -> int:
    text = fields.get(key)
    if text in (None, ""):
        return DEFAULTS[key]
    try:
        value = int(str(text).strip())
    except ValueError:
        raise Refused(f"{key}={text!r} is invalid: expected a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise Refused(f"{key}={value} is invalid: expected a whole number from {low} to {high}")
    return value


def _number(fields: Mapping[str, str], key: str) -> float | int:
    text = str(fields.get(key)).strip()
    try:
        value = float(text)
    except ValueError:
        raise Refused(f"{key}={text!r} is invalid: expected a positive number") from None
    if not value > 0 or value == float("inf"):
        raise Refused(f"{key}={text!r} is invalid: expected a positive number")
    return int(value) if key == "evaluations" and value.is_integer() else value


def _text(fields: Mapping[str, str], key: str, most: int) -> str:
    value = (fields.get(key) or "").strip()
    if len(value) > most:
        raise Refused(f"{key} is invalid: {len(value)} characters, at most {most} allowed")
    return value


# --- the data --------------------------------------------------------------------------------

def _data(config: dict[str, Any], submission: Submission, job_dir: Path, max_upload_bytes: int) -> None:
    """Set ``config["data"]``: the uploaded file (stored under a server-chosen name), else the
    ``dataset`` field, else the config's own ``[data]`` (a built-in dataset), else the default."""
    section = config.get("data", {})
    if isinstance(section, (str, Mapping)):
        section = {"name": section} if isinstance(section, str) else dict(section)
    if not isinstance(section, dict):
        raise Refused(f"config.data={section!r} is invalid: expected a table or a built-in dataset's name")
    dataset = (submission.fields.get("dataset") or "").strip()
    if submission.upload is not None:
        stored = _store_upload(submission.upload, job_dir, max_upload_bytes)
        section = {k: v for k, v in section.items() if k in UPLOAD_DATA_KEYS} | {"path": stored}
    elif dataset:
        if dataset not in datasets.names():
            raise Refused(f"dataset={dataset!r} is invalid: expected one of {', '.join(datasets.names())}, or "
                          "upload a CSV or NPZ file (field data)")
        section = {k: v for k, v in section.items() if k not in FILE_ONLY_KEYS and k != "name"} | {"name": dataset}
    elif "name" not in section:
        section["name"] = DEFAULTS["dataset"]
    config["data"] = section


def _store_upload(upload: Upload, job_dir: Path, max_upload_bytes: int) -> str:
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in DATA_FILES:
        raise Refused(f"data={upload.filename!r} is invalid: expected a .csv or .npz file")
    name = DATA_FILES[suffix]
    size = 0
    with open(job_dir / name, "wb") as out:
        while chunk := upload.file.read(1 << 20):
            size += len(chunk)
            if size > max_upload_bytes:
                raise Refused(f"data is too large: over {max_upload_bytes:,} bytes (this server's limit, "
                              "evokit serve --max-upload-mb)", status=413)
            out.write(chunk)
    if size == 0:
        raise Refused(f"data={upload.filename!r} is invalid: the file is empty")
    if name.endswith(".npz"):
        _check_unpacked_size(job_dir / name, upload.filename, UNPACKED_FACTOR * max_upload_bytes)
    return name


def _check_unpacked_size(path: Path, filename: str, most: int) -> None:
    """Refuse an NPZ whose arrays unpack to more than ``most`` bytes (a small compressed file of
    zeros can hold gigabytes), before NumPy reads it."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return  # not a zip: the NPZ reader names the problem
    if unpacked > most:
        raise Refused(f"data={filename!r} is too large: its arrays unpack to {unpacked:,} bytes, at most {most:,} "
                      f"allowed ({UNPACKED_FACTOR} times the upload limit)", status=413)


# --- building it once ------------------------------------------------------------------------

def _build(config: dict[str, Any], job_dir: Path) -> Any:
    """The Search the config describes, built as ``evokit run --safe`` will build it (the data read
    and checked); Refused naming the field when it cannot be."""
    try:
        search = configs.from_dict(config, base_dir=job_dir, allow_imports=False)
        _check_fit(search)
    except (ConfigError, DataError) as exc:
        raise Refused(str(exc).replace(f"{str(job_dir)}/", "")) from None
    except (TypeError, ValueError) as exc:
        raise Refused(f"config is invalid: {exc}") from None
    except (MemoryError, RecursionError) as exc:
        raise Refused(f"config is invalid: it needs more than this server gives one request "
                      f"({type(exc).__name__}): smaller data or sizes (vocab_size, sequence_length, n_train)") from None
    return search


def _check_fit(search: Any) -> None:
    """What ``Search.run`` checks before anything trains, checked now: the encoding fits the data
    (``check_data``), and each validation objective's metric and loss fit its task."""
    from evokit.deap_toolbox import resolve_data
    from evokit.fitness.combine import training_config
    from evokit.fitness.validation import ValidationMetric

    data = resolve_data(search.data, search.seed)
    search.encoding.check_data(data)
    for objective in search.objectives:
        if isinstance(objective, ValidationMetric):
            objective.check(data, training_config(search.objectives))


def _about(config: dict[str, Any], search: Any, submission: Submission) -> dict[str, Any]:
    data = config["data"]
    dataset = data.get("name") or f"upload {Path(submission.upload.filename).name[:60]!r}"  # type: ignore[union-attr]
    return {"dataset": dataset, "encoding": type(search.encoding).__name__,
            "search": type(search.algorithm).__name__ if search.algorithm is not None else None,
            "objectives": [o.name for o in search.objectives]}
