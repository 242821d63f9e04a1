"""Config files: a search described in TOML, turned into an :class:`evokit.Search`.

A config maps one to one onto the Python API: each table names a class by a short ``type`` and
passes the rest of its keys to that class's constructor, so a config file can say exactly what
``ek.Search(...)`` can (``docs/config.md`` lists every key, its default and allowed values)::

    seed = 0
    run_dir = "runs/digits"

    [encoding]
    type = "deepga"
    max_conv_blocks = 3

    [[objectives]]
    type = "accuracy"
    epochs = 3

    [[objectives]]
    type = "params"

    [algorithm]
    type = "nsga2"
    population = 16

Type names resolve lazily through name tables (``"evokit.algorithms.neat:NEAT"``), so a class is
imported only when a config uses it. Bad input raises :class:`evokit.errors.ConfigError` naming
the key path (``algorithm.populaton: unknown key; allowed: ...``, ``algorithm.population=1 is
invalid: ...``).

A config file is data: loading one never runs code it names. What a ``type`` may be:

* a short name of the section's table (``"deepga"``, ``"accuracy"``, ``"nsga2"`` ...);
* ``"evokit.module:Name"``, a class of evokit that is a subclass of the section's base
  (``BASES``: an Encoding for ``[encoding]``, an Objective for ``[[objectives]]`` ...);
* only with ``allow_imports=True`` (``evokit run`` sets it for a local file): such a class from
  a module of the user's own, found on ``sys.path`` or beside the config file (``base_dir``),
  and, for an objective, a plain Python function of an Evaluation. Importing a module runs its
  code, so a config from someone else is loaded without it.

Whatever a name resolves to, it is checked to be a class of the section's base *before* it is
called; anything else (``"os:system"``, ``"builtins:eval"``, an evokit function) is refused
with a ConfigError naming ``section.type``. Names are public (no part starts with ``_``), so
``evokit.__main__`` is never imported. Keys that hand a value to code outside evokit
(``TRUSTED_KEYS``: a Dask scheduler ``address``, ``cluster_kwargs``) also need the opt-in.
"""
from __future__ import annotations

import copy
import importlib
import inspect
import json
import math
import re
import reprlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from evokit.datafiles import FILE_ONLY_KEYS, read_data_file
from evokit.errors import ConfigError, DataError, EvokitError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ENCODINGS: dict[str, str] = {
    "deepga": "evokit.encodings.deepga:DeepGA",
    "binary": "evokit.encodings.binary:Binary",
    "real": "evokit.encodings.real:Real",
    "textcnn": "evokit.encodings.textcnn:TextCNN",
    "permutation": "evokit.encodings.permutation:Permutation",
    "grouping": "evokit.encodings.grouping:Grouping",
    "tree": "evokit.encodings.tree:Tree",
    "neat": "evokit.encodings.graph:NEAT",
    "graph": "evokit.encodings.graph:NEAT",
    "hyperparameters": "evokit.encodings.hyper:Hyperparameters",
    "unet_tree": "evokit.encodings.unet_tree:UNetTree",
    "unet_blocks": "evokit.encodings.unet_blocks:UNetBlocks",
    "dcgan": "evokit.encodings.dcgan:DCGAN",
}
"""``[encoding] type`` -> the encoding class."""

REGISTERED_ENCODINGS: dict[str, type] = {}
"""``[encoding] type`` -> an encoding class the user registered in Python (:func:`register_encoding`)."""

ALGORITHMS: dict[str, str] = {
    "ga": "evokit.algorithms.ga:GA",
    "nsga2": "evokit.algorithms.nsga2:NSGA2",
    "nsga3": "evokit.algorithms.nsga2:NSGA3",
    "neat": "evokit.algorithms.neat:NEAT",
    "pso": "evokit.algorithms.pso:PSO",
    "gp": "evokit.algorithms.gp:GP",
    "aging": "evokit.algorithms.aging:AgingEvolution",
    "random": "evokit.algorithms.random_search:RandomSearch",
}
"""``[algorithm] type`` -> the algorithm class."""

OBJECTIVES: dict[str, str] = {
    "accuracy": "evokit.fitness.accuracy:ValidationAccuracy",
    "loss": "evokit.fitness.accuracy:ValidationLoss",
    "r2": "evokit.fitness.regression:ValidationR2",
    "mae": "evokit.fitness.regression:ValidationMAE",
    "rmse": "evokit.fitness.regression:ValidationRMSE",
    "dice": "evokit.fitness.segmentation:ValidationDice",
    "iou": "evokit.fitness.segmentation:ValidationIoU",
    "frechet": "evokit.fitness.gan:FrechetDistance",
    "coverage": "evokit.fitness.gan:Coverage",
    "precision": "evokit.fitness.gan:Precision",
    "recall": "evokit.fitness.gan:Recall",
    "params": "evokit.fitness.complexity:ParameterCount",
    "flops": "evokit.fitness.complexity:FLOPs",
    "co2": "evokit.fitness.carbon:CO2",
    "energy": "evokit.fitness.carbon:Energy",
    "latency": "evokit.fitness.measured:Latency",
    "deepga_score": "evokit.fitness.combine:DeepGAScore",
    "weighted_sum": "evokit.fitness.combine:WeightedSum",
}
"""``[[objectives]] type`` -> the objective class."""

CONSTRAINTS: dict[str, str] = {
    "max_params": "evokit.fitness.constraints:MaxParams",
    "max_flops": "evokit.fitness.constraints:MaxFLOPs",
    "max_memory": "evokit.fitness.constraints:MaxMemory",
    "max_predicted_co2": "evokit.fitness.constraints:MaxPredictedCO2",
}
"""``[[constraints]] type`` -> the constraint class."""

CALLBACKS: dict[str, str] = {
    "csv_logger": "evokit.callbacks.loggers:CSVLogger",
    "jsonl_logger": "evokit.callbacks.loggers:JSONLinesLogger",
    "tensorboard": "evokit.callbacks.tensorboard:TensorBoard",
    "early_stopping": "evokit.callbacks.early_stopping:EarlyStopping",
}
"""``[[callbacks]] type`` -> the callback class."""

CALLBACK_PATH_KEYS = ("path", "candidates_path", "log_dir")
"""Keys of a ``[[callbacks]]`` table that name a file or folder: a config's must be relative and
stay inside the run directory (configs also come from the job service's clients)."""

EVALUATORS: dict[str, str] = {
    "serial": "evokit.runtime.executors.serial:SerialEvaluator",
    "processes": "evokit.runtime.executors.process:ProcessEvaluator",
    "dask": "evokit.runtime.executors.dask:DaskEvaluator",
}
"""``[evaluator] type`` -> the evaluator class."""

NESTED: dict[str, str] = {
    "accuracy": "evokit.fitness.accuracy:ValidationAccuracy",  # DeepGAScore(accuracy=...)
    "estimator": "evokit.fitness.carbon:GreenAlgorithms",  # CO2 / Energy (estimator=...)
    "cost_model": "evokit.fitness.carbon:CostModel",  # CO2 / Energy (cost_model=...)
    "co2": "evokit.fitness.carbon:CO2",  # MaxPredictedCO2(co2=...)
}
"""Constructor arguments that take an object: a table given for one is built into that class."""

BASES: dict[str, str] = {
    "encoding": "evokit.encodings.base:Encoding",
    "algorithm": "evokit.algorithms.base:Algorithm",
    "objectives": "evokit.fitness.base:Objective",
    "constraints": "evokit.fitness.constraints:Constraint",
    "evaluator": "evokit.runtime.executors.base:Evaluator",
    "callbacks": "evokit.callbacks.base:Callback",
}
"""Each section's base class: its ``type`` must name a subclass of it (checked before calling it)."""

TRUSTED_KEYS: dict[str, tuple[str, ...]] = {"evaluator": ("address", "cluster_kwargs")}
"""Keys allowed only with ``allow_imports=True``: a Dask scheduler's messages are unpickled (an
``address`` of someone else's runs their code) and ``cluster_kwargs`` reach LocalCluster, whose
``preload`` runs scripts."""

TOP_LEVEL = ("description", "seed", "run_dir", "final_training", "hall_of_fame", "overwrite", "data", "encoding",
             "objectives", "constraints", "algorithm", "budget", "evaluator", "callbacks", "initial_population")
DATA_KEYS = ("name", "path", "target", "header", "delimiter", "task", "seed", "val_size", "test_size", "scale",
             "n_train", "n_val", "kind", "text_column", "vocab_size", "sequence_length", "masks", "size", "grayscale",
             "on_error", "stream")
BUDGET_KEYS = ("generations", "evaluations", "seconds", "target")
TRAINING_KEYS = ("epochs", "batch_size", "optimizer", "learning_rate", "early_stopping", "trace_once", "loss",
                 "label_smoothing", "schedule")


def load(path: str | Path, allow_imports: bool = False) -> Any:
    """The :class:`evokit.Search` a TOML file describes (relative data paths, and with
    ``allow_imports`` the user's own modules, are looked up in the file's directory)."""
    return from_dict(read(path), base_dir=Path(path).parent, allow_imports=allow_imports)


def read(path: str | Path) -> dict[str, Any]:
    """A config file as a dict: TOML, or JSON when the name ends in ``.json`` (raises ConfigError
    for a missing file or invalid text)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config={str(path)!r} is invalid: no such file")
    if path.suffix.lower() == ".json":
        return parse_json(path.read_bytes(), f"config={str(path)!r}")
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config={str(path)!r} is invalid: not valid TOML ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config={str(path)!r} is invalid: not UTF-8 text ({exc})") from exc


def loads(text: str, base_dir: str | Path | None = None, allow_imports: bool = False) -> Any:
    """The :class:`evokit.Search` a TOML string describes."""
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config is invalid: not valid TOML ({exc})") from exc
    return from_dict(config, base_dir=base_dir, allow_imports=allow_imports)


def parse_json(text: str | bytes, what: str = "config") -> dict[str, Any]:
    """A JSON config (the same keys as a TOML one) as a dict; ConfigError naming ``what`` if it is
    not JSON text holding one object."""
    try:
        config = json.loads(text)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} is invalid: not UTF-8 text ({exc})") from exc
    except ValueError as exc:
        raise ConfigError(f"{what} is invalid: not valid JSON ({exc})") from exc
    if not isinstance(config, dict):
        raise ConfigError(f"{what} is invalid: expected a JSON object of keys, got {type(config).__name__}")
    return config


def from_dict(config: Mapping[str, Any], base_dir: str | Path | None = None, allow_imports: bool = False) -> Any:
    """The :class:`evokit.Search` a config dict (a parsed TOML file) describes, not yet run.

    ``base_dir`` is where a relative ``data.path`` is looked up (default: the current directory)
    and, with ``allow_imports``, where a ``type``'s module is looked for first.
    ``allow_imports=False`` (the default, for a config from anyone else): ``type`` names only
    evokit's own classes; ``True``: also classes (and objective functions) of the user's own
    modules, which importing runs. See the module docstring for the whole rule.
    """
    from evokit.search import Search

    if not isinstance(config, Mapping):
        raise ConfigError(f"config={config!r} is invalid: expected a table of keys")
    if not isinstance(allow_imports, bool):
        raise ConfigError(f"allow_imports={allow_imports!r} is invalid: expected True or False")
    imports = Imports(allow_imports, None if base_dir is None else Path(base_dir))
    _check_keys("", config, TOP_LEVEL)
    seed = config.get("seed", 0)
    if "description" in config and not isinstance(config["description"], str):
        raise ConfigError(f"description={config['description']!r} is invalid: expected a string")
    objectives = build_objectives(config.get("objectives", [{"type": "accuracy"}]), imports=imports)
    encoding = build_encoding(config.get("encoding", {"type": "deepga"}), imports=imports)
    kwargs: dict[str, Any] = {
        "encoding": encoding,
        "initial_population": build_initial_population(config.get("initial_population"), encoding),
        "objectives": objectives,
        "data": build_data(config.get("data", {}), seed=seed, base_dir=base_dir),
        "algorithm": None if "algorithm" not in config else build_algorithm(config["algorithm"], imports=imports),
        "budget": None if "budget" not in config else build_budget(config["budget"]),
        "seed": seed,
        "workers": build_evaluator(config.get("evaluator", {"type": "serial"}), imports=imports),
        "run_dir": config.get("run_dir"),
        "final_training": build_final_training(config.get("final_training")),
        "hall_of_fame": config.get("hall_of_fame", 5),
        "constraints": build_constraints(config.get("constraints", []), imports=imports),
        "overwrite": config.get("overwrite", False),
        "callbacks": build_callbacks(config.get("callbacks", []), imports=imports),
    }
    if not isinstance(kwargs["overwrite"], bool):
        raise ConfigError(f"overwrite={kwargs['overwrite']!r} is invalid: expected true or false")
    return Search(**kwargs)


# --- what a type name may be ----------------------------------------------------------------

class Refused(ConfigError):
    """A ``type`` name outside what a config may name (``reason`` says why); raised before
    anything it names is imported or called."""

    def __init__(self, spec: Any, reason: str) -> None:
        super().__init__(f"type={spec!r} is invalid: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Imports:
    """What one config's ``type`` names may import: evokit's own modules always; with
    ``allowed`` (the opt-in), any module on ``sys.path`` or beside the config (in ``base_dir``)."""

    allowed: bool = False
    base_dir: Path | None = None

    def find(self, spec: str) -> Any:
        """The object ``"package.module:Name"`` names (``Name`` may be dotted), its module imported
        now; Refused, before any import, for a name that is not public or a module outside evokit
        without the opt-in."""
        module_name, colon, attr = spec.partition(":")
        parts = module_name.split(".") + attr.split(".")
        if not colon or not all(p.isidentifier() and not p.startswith("_") for p in parts):
            raise Refused(spec, "expected 'package.module:Name' of public names (none starting with _)")
        inside = parts[0] == "evokit"
        if not inside and not self.allowed:
            raise Refused(spec, f"module {module_name!r} is outside evokit, and importing it runs its code: a "
                                "config may name it only when loaded with allow_imports=True (evokit run: a local "
                                "file)")
        top = parts[0]
        if not inside and self.base_dir is not None and ((self.base_dir / f"{top}.py").is_file()
                                                         or (self.base_dir / top / "__init__.py").is_file()):
            obj: Any = _import_beside(module_name, self.base_dir)
        else:
            obj = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj


_BESIDE: dict[str, Path] = {}
"""Top-level modules imported from a config's directory -> that directory."""


def _import_beside(name: str, directory: Path) -> Any:
    """Module ``name`` imported from ``directory`` (a config's own module beside it), which is on
    ``sys.path`` only during the import. A module of the same name imported from another
    config's directory is replaced; one imported from anywhere else is an error."""
    folder = directory.resolve()
    top = name.split(".")[0]
    loaded = sys.modules.get(top)
    origin = getattr(loaded, "__file__", None)
    if loaded is not None and (origin is None or folder not in Path(origin).resolve().parents):
        if _BESIDE.get(top) is None:
            raise ImportError(f"{top}.py beside the config is shadowed by the module {top!r} already imported from "
                              f"{origin}: rename it")
        for stale in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
            del sys.modules[stale]
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    try:
        module = importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))
    _BESIDE[top] = folder
    return module


def resolve(spec: str, allow_imports: bool = False, base_dir: str | Path | None = None) -> Any:
    """The object ``"package.module:Name"`` names (``Name`` may be dotted), imported now: from
    evokit, or with ``allow_imports`` from any module (``base_dir``: a config's directory, looked
    in first). Nothing is called; ConfigError for a name outside these rules."""
    return Imports(allow_imports, None if base_dir is None else Path(base_dir)).find(spec)


def _resolve(path: str, kind: Any, names: Mapping[str, str], imports: Imports) -> Any:
    """What ``path.type = kind`` names: a short name of ``names`` or a ``"module:Name"``."""
    if not isinstance(kind, str) or not (kind in names or ":" in kind):
        allowed = ", ".join(repr(n) for n in names)
        raise ConfigError(f"{path}.type={kind!r} is invalid: expected one of {allowed}, or 'package.module:Name'")
    spec = names.get(kind, kind)
    if isinstance(spec, type):  # a class registered in Python (register_encoding): nothing to import
        return spec
    try:
        return imports.find(spec)
    except Refused as exc:
        raise ConfigError(f"{path}.type={kind!r} is invalid: {exc.reason}") from exc
    except Exception as exc:  # noqa: BLE001 - a module that fails to import is this key's error
        raise ConfigError(f"{path}.type={kind!r} is not available: {spec} could not be loaded "
                          f"({type(exc).__name__}: {exc})") from exc


def _class_of(path: str, kind: Any, names: Mapping[str, str], base: str, imports: Imports) -> type:
    """The class ``path.type = kind`` names, checked to be a concrete subclass of ``base`` (a
    spec) before anything calls it."""
    return _checked(path, kind, _resolve(path, kind, names, imports), base)


def _checked(path: str, kind: Any, target: Any, base: str) -> type:
    """``target`` if it is a concrete subclass of ``base``, else ConfigError naming ``path.type``."""
    base_class = resolve(base)
    if not (issubclass(type(target), type) and issubclass(target, base_class)):  # its metaclass: no __class__ lookup
        raise ConfigError(f"{path}.type={kind!r} is invalid: expected a subclass of {base.replace(':', '.')}; "
                          f"it names {_describe(target)}")
    if inspect.isabstract(target):
        raise ConfigError(f"{path}.type={kind!r} is invalid: {target.__name__} is abstract; name one of its "
                          "subclasses")
    return target


def _describe(obj: Any) -> str:
    """What a name turned out to be, for an error message (never its repr, which is its code)."""
    kind = type(obj)
    what = "a class" if issubclass(kind, type) else "a module" if issubclass(kind, type(sys)) else (
        "a function" if callable(obj) else f"a {kind.__name__} value")
    try:
        name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
        module = getattr(obj, "__module__", None)
    except Exception:  # noqa: BLE001 - an object whose attributes raise is described by its kind alone
        return what
    return f"{what} ({module}.{name})" if isinstance(name, str) and isinstance(module, str) else what


# --- sections -------------------------------------------------------------------------------

SAFE = Imports()
"""The default: evokit's own classes only."""


def build_encoding(section: Any, path: str = "encoding", imports: Imports = SAFE) -> Any:
    """An encoding from its table (``type`` + constructor keys); a wrapper's ``encoding`` table
    (Hyperparameters) is built the same way first."""
    table = _table(path, section)
    if isinstance(table.get("encoding"), (str, Mapping)):
        table["encoding"] = build_encoding(table["encoding"], f"{path}.encoding", imports)
    return construct(path, table, {**ENCODINGS, **REGISTERED_ENCODINGS}, base=BASES["encoding"], imports=imports)


def register_encoding(name: str, cls: type) -> type:
    """Let configs name the encoding class ``cls`` as ``[encoding] type = name``; returns ``cls``.

    A config stays data: it can name only classes that Python code of the user's registered
    before loading it (or evokit's own), never import a module itself. ``name`` is a new
    identifier (a built-in type name is refused; registering ``name`` again replaces its class, as
    re-importing a module does); ``cls`` a concrete subclass of
    :class:`evokit.encodings.Encoding`, configured by its constructor keywords.
    """
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise ConfigError(f"name={name!r} is invalid: expected an identifier not starting with _, e.g. 'widths'")
    if name in ENCODINGS:
        raise ConfigError(f"name={name!r} is invalid: it is a built-in encoding type; built-ins are "
                          f"{', '.join(repr(n) for n in ENCODINGS)}")
    base = resolve(BASES["encoding"])
    if not (isinstance(cls, type) and issubclass(cls, base)) or inspect.isabstract(cls):
        raise ConfigError(f"cls={_describe(cls)} is invalid: expected a concrete subclass of "
                          "evokit.encodings.Encoding")
    REGISTERED_ENCODINGS[name] = cls
    return cls


def build_algorithm(section: Any, path: str = "algorithm", imports: Imports = SAFE) -> Any:
    """An algorithm from its table (``type`` + constructor keys)."""
    return construct(path, _table(path, section), ALGORITHMS, base=BASES["algorithm"], imports=imports)


def build_evaluator(section: Any, path: str = "evaluator", imports: Imports = SAFE) -> Any:
    """An evaluator from its table: ``type = "serial" | "processes" | "dask"`` + its keys."""
    table = _table(path, section, default_type="serial")
    for key in TRUSTED_KEYS["evaluator"]:
        if key in table and not imports.allowed:
            raise ConfigError(f"{path}.{key}={table[key]!r} is invalid: it hands control to code outside evokit, "
                              "so a config may set it only when loaded with allow_imports=True")
    return construct(path, table, EVALUATORS, base=BASES["evaluator"], imports=imports)


def build_budget(section: Any, path: str = "budget") -> Any:
    """A :class:`evokit.Budget` from its table."""
    from evokit.search import Budget

    if not isinstance(section, Mapping):
        raise ConfigError(f"{path}={section!r} is invalid: expected a table with keys {', '.join(BUDGET_KEYS)}")
    return _call(path, Budget, dict(section))


def build_initial_population(value: Any, encoding: Any) -> list[Any] | None:
    """``initial_population``: genotypes the first population starts from, each written as the
    encoding writes it to ``candidates.jsonl`` (``genotype``), read back by the encoding's
    ``from_json`` (well-formed genes; the search decodes each on its data before anything
    trains): data, never code."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise ConfigError(f"initial_population={value!r} is invalid: expected a list of genotypes as "
                          f"{type(encoding).__name__}.to_json writes them (the genotype field of candidates.jsonl)")
    genotypes = []
    for i, data in enumerate(value):
        try:
            genotypes.append(encoding.from_json(data))
        except NotImplementedError:
            name = type(encoding).__name__
            raise ConfigError(f"initial_population[{i}] is invalid with encoding {name}: {name} has no from_json "
                              "to read genotypes back (implement Encoding.from_json to seed it from a config)") from None
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # GenotypeError is a ValueError
            raise ConfigError(f"initial_population[{i}]={reprlib.repr(data)} is invalid: not a "
                              f"{type(encoding).__name__} genotype ({type(exc).__name__}: {exc})") from None
    return genotypes


def build_final_training(value: Any, path: str = "final_training") -> Any:
    """None (no retraining), epochs (an int, with early stopping after 5 epochs without
    improvement) or a table of :class:`evokit.TrainingConfig` keys."""
    from evokit.evaluation import TrainingConfig

    if value is None or value is False or (isinstance(value, int) and not isinstance(value, bool) and value == 0):
        return None
    if isinstance(value, Mapping):
        return _call(path, TrainingConfig, dict(value))
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ConfigError(f"{path}={value!r} is invalid: expected epochs >= 0 (0 for none)")
        return _call(path, TrainingConfig, {"epochs": value, "early_stopping": 5})
    raise ConfigError(f"{path}={value!r} is invalid: expected epochs (an integer, 0 for none), false, or a table "
                      f"with keys {', '.join(TRAINING_KEYS)}")


def build_objectives(section: Any, path: str = "objectives", imports: Imports = SAFE) -> list[Any]:
    """Objectives from ``[[objectives]]`` tables (or one table, or type names)."""
    items = _items(path, section)
    if not items:
        raise ConfigError(f"{path}=[] is invalid: expected at least one objective")
    return [build_objective(item, f"{path}[{i}]", imports) for i, item in enumerate(items)]


def build_objective(section: Any, path: str, imports: Imports = SAFE) -> Any:
    """One objective: ``type`` + constructor keys; ``weight`` (the DEAP weight: + maximise,
    - minimise) and ``name`` apply to every objective. ``type = "weighted_sum"`` takes ``terms``,
    each an objective table whose ``weight`` is its coefficient and ``scale`` its divisor. With
    ``imports.allowed``, ``type`` may also name a plain function of an Evaluation (and then takes
    the training keys too, as ``Objective`` does)."""
    from evokit.fitness.base import TRAINING_KEYWORDS, Objective

    table = _table(path, section)
    kind = table["type"]
    if kind == "weighted_sum":
        return _weighted_sum(path, table, imports)
    params = {k: v for k, v in table.items() if k != "type"}
    target = _resolve(path, kind, OBJECTIVES, imports)
    if inspect.isfunction(target) and imports.allowed:  # a user's function of an Evaluation
        accepted = ("name", "weight", "needs_training", "failure_value", *TRAINING_KEYWORDS)
        return _call(path, lambda **kw: Objective(target, **kw), params, accepted=accepted, generic=("type",))
    if inspect.isfunction(target):
        raise ConfigError(f"{path}.type={kind!r} is invalid: it names a function; a config may make a function an "
                          "objective only when loaded with allow_imports=True")
    target = _checked(path, kind, target, BASES["objectives"])
    accepted = _parameters(target)
    extra = {k: params.pop(k) for k in ("weight", "name") if k in params and accepted is not None
             and k not in accepted}
    generic = tuple(k for k in ("weight", "name") if k not in (accepted or ()))
    objective = construct(path, {"type": kind, **params}, OBJECTIVES, target=target, generic=generic,
                          imports=imports)
    if "name" in extra:
        if not isinstance(extra["name"], str) or not extra["name"]:
            raise ConfigError(f"{path}.name={extra['name']!r} is invalid: expected a non-empty string")
        objective.name = extra["name"]
    if "weight" in extra:
        objective.weight = _weight(f"{path}.weight", extra["weight"])
    return objective


def build_constraints(section: Any, path: str = "constraints", imports: Imports = SAFE) -> list[Any]:
    """Constraints from ``[[constraints]]`` tables (``type`` + constructor keys)."""
    return [construct(f"{path}[{i}]", _table(f"{path}[{i}]", item), CONSTRAINTS, base=BASES["constraints"],
                      imports=imports)
            for i, item in enumerate(_items(path, section))]


def build_callbacks(section: Any, path: str = "callbacks", imports: Imports = SAFE) -> list[Any]:
    """Callbacks from ``[[callbacks]]`` tables (``type`` + constructor keys); a key naming a file
    or folder (:data:`CALLBACK_PATH_KEYS`) must be a relative path inside the run directory."""
    from evokit.callbacks.paths import check_inside

    built = []
    for i, item in enumerate(_items(path, section)):
        table = _table(f"{path}[{i}]", item)
        for key in CALLBACK_PATH_KEYS:
            if key in table:
                check_inside(f"{path}[{i}].{key}", table[key])
        built.append(construct(f"{path}[{i}]", table, CALLBACKS, base=BASES["callbacks"], imports=imports))
    return built


def build_data(section: Any, seed: Any = 0, base_dir: str | Path | None = None, path: str = "data") -> Any:
    """The dataset: an embedded one's name (``name``), or a CSV/NPZ file (``path``), optionally
    split with other sizes (``val_size``, ``test_size``), unscaled (``scale``) or subsampled
    (``n_train``, ``n_val``). Only a bare ``name`` stays a name (the search loads it with its seed).
    Texts: ``path`` of a CSV with ``text_column`` (and ``target``, default ``"label"``) or of a
    folder with ``kind = "text_folder"``, tokenized with ``vocab_size`` / ``sequence_length``
    (:mod:`evokit.datafiles`)."""
    from evokit import datasets

    if isinstance(section, str):
        section = {"name": section}
    if not isinstance(section, Mapping):
        raise ConfigError(f"{path}={section!r} is invalid: expected a table ([data]) or a dataset name")
    _check_keys(path, section, DATA_KEYS)
    if "name" in section and "path" in section:
        raise ConfigError(f"{path}: give either name (an embedded dataset) or path (a CSV or NPZ file, or a folder "
                          "of texts), not both")
    if "path" not in section:
        for key in FILE_ONLY_KEYS:
            if key in section and key != "task":  # an embedded set may pose another task (digits as gan)
                raise ConfigError(f"{path}.{key}: applies to a data file (data.path) only")
    name = section.get("name", "digits")
    if "path" not in section and name not in datasets.names():
        raise ConfigError(f"{path}.name={name!r} is invalid: expected one of "
                          f"{', '.join(map(repr, datasets.names()))} (or data.path for a CSV or NPZ file)")
    options = {k: section[k] for k in ("seed", "val_size", "test_size", "scale") if k in section}
    if "path" not in section and "task" in section:
        options["task"] = section["task"]
    options.setdefault("seed", seed)
    subset = {k: section[k] for k in ("n_train", "n_val") if k in section}
    if "path" not in section and set(section) <= {"name"}:
        return name
    try:
        if "path" in section:
            data = read_data_file(path, section, base_dir, options)
        else:
            data = datasets.load(name, **options)
        if subset:
            data = data.subset(**subset, seed=options["seed"])
    except (ConfigError, DataError) as exc:
        message = str(exc)  # the data file's reader names its keys with the path already
        raise type(exc)(message if message.startswith(f"{path}.") else _with_path(path, message, section)) from exc
    return data


# --- building blocks ------------------------------------------------------------------------

def construct(path: str, table: Mapping[str, Any], names: Mapping[str, str], target: Any = None,
              generic: tuple[str, ...] = (), base: str | None = None, imports: Imports = SAFE) -> Any:
    """Build the class ``table["type"]`` names (looked up in ``names``, or ``"module:Name"``; a
    subclass of ``base``, checked before it is called) from the table's other keys, checked
    against its constructor: an unknown key, a missing required one, or a value the constructor
    rejects raises ConfigError naming ``path.key``. A table given for a key of ``NESTED`` is built
    into that key's class first."""
    kind = table["type"]
    if target is None:
        if base is None:
            raise ConfigError(f"{path}.type={kind!r} is invalid: no base class to check it against")
        target = _class_of(path, kind, names, base, imports)
    accepted = _parameters(target)
    params = {}
    for key, value in table.items():
        if key == "type":
            continue
        if key in NESTED and isinstance(value, Mapping) and (accepted is None or key in accepted):
            value = construct(f"{path}.{key}", {"type": NESTED[key], **value}, {}, base=NESTED[key], imports=imports)
        params[key] = value
    return _call(path, target, params, generic=("type", *generic))


def _call(path: str, fn: Callable[..., Any], params: dict[str, Any], accepted: tuple[str, ...] | None = None,
          generic: tuple[str, ...] = ()) -> Any:
    """``fn(**params)``; unknown or missing keys, and values ``fn`` rejects, raise ConfigError
    naming ``path.key`` (``generic`` keys are listed as allowed too: handled by the caller). Any
    other exception the constructor raises on these values is this key path's ConfigError too."""
    accepted = accepted if accepted is not None else _parameters(fn)
    if accepted is not None:
        for key in params:
            if key not in accepted:
                raise ConfigError(f"{path}.{key}: unknown key; allowed: {', '.join((*generic, *accepted))}")
        missing = [n for n in _required(fn) if n not in params]
        if missing:
            raise ConfigError(f"{path}.{missing[0]}: missing; this key is required")
    try:
        return fn(**params)
    except EvokitError as exc:
        raise type(exc)(_with_path(path, str(exc), params)) from exc
    except Exception as exc:  # noqa: BLE001 - a value the constructor did not expect is still a config error
        raise ConfigError(f"{path}: {type(exc).__name__}: {exc}") from exc


def _with_path(path: str, message: str, keys: Mapping[str, Any]) -> str:
    """Prefix the key path: ``population=1 is invalid`` -> ``algorithm.population=1 is invalid``."""
    match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)[=\[]", message)
    if match and match.group(1) in keys:
        return f"{path}.{message}"
    return f"{path}: {message}"


def _parameters(fn: Any) -> tuple[str, ...] | None:
    """The keyword names ``fn`` accepts, or None when it takes ``**kwargs`` (anything goes)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    names = []
    for p in signature.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            return None
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self":
            names.append(p.name)
    return tuple(names)


def _required(fn: Any) -> list[str]:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [p.name for p in signature.parameters.values() if p.default is p.empty and p.name != "self"
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _table(path: str, section: Any, default_type: str | None = None) -> dict[str, Any]:
    """A section as a dict with a ``type``: a bare string is its type name."""
    if isinstance(section, str):
        section = {"type": section}
    if not isinstance(section, Mapping):
        raise ConfigError(f"{path}={section!r} is invalid: expected a table with a type key, or a type name")
    table = dict(section)
    if "type" not in table:
        if default_type is None:
            raise ConfigError(f"{path}.type: missing; this key is required")
        table["type"] = default_type
    return table


def _items(path: str, section: Any) -> list[Any]:
    if isinstance(section, (str, Mapping)):
        return [section]
    if not isinstance(section, list):
        raise ConfigError(f"{path}={section!r} is invalid: expected a list of tables ([[{path}]])")
    return list(section)


def _check_keys(path: str, table: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            where = f"{path}.{key}" if path else key
            raise ConfigError(f"{where}: unknown key; allowed: {', '.join(allowed)}")


def _weight(path: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value == 0 or not math.isfinite(value):
        raise ConfigError(f"{path}={value!r} is invalid: expected a non-zero number (+1 to maximise, -1 to minimise)")
    return float(value)


def _weighted_sum(path: str, table: dict[str, Any], imports: Imports) -> Any:
    from evokit.fitness.combine import WeightedSum

    for key in table:
        if key not in ("type", "terms", "name"):
            raise ConfigError(f"{path}.{key}: unknown key; allowed: type, terms, name")
    terms_table = table.get("terms")
    if not isinstance(terms_table, list) or not terms_table:
        raise ConfigError(f"{path}.terms={terms_table!r} is invalid: expected a list of objective tables "
                          f"([[{path.split('[')[0]}.terms]]) with a weight each")
    terms, scales = [], {}
    for i, term in enumerate(terms_table):
        term_path = f"{path}.terms[{i}]"
        item = _table(term_path, term)
        coefficient = item.pop("weight", 1.0)
        if isinstance(coefficient, bool) or not isinstance(coefficient, (int, float)):
            raise ConfigError(f"{term_path}.weight={coefficient!r} is invalid: expected a number (its coefficient)")
        scale = item.pop("scale", None)
        objective = build_objective(item, term_path, imports)
        terms.append((objective, float(coefficient)))
        if scale is not None:
            scales[objective.name] = scale
    kwargs: dict[str, Any] = {"terms": terms, "scales": scales}
    if "name" in table:
        kwargs["name"] = table["name"]
    return _call(path, WeightedSum, kwargs)


def merged(config: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of ``config`` with dotted keys changed: ``merged(c, **{"budget.generations": 3})``."""
    out = copy.deepcopy(dict(config))
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        table = out
        for key in parents:
            if isinstance(table.get(key), str):
                table[key] = {"type": table[key]} if key != "data" else {"name": table[key]}
            table = table.setdefault(key, {})
            if not isinstance(table, dict):
                raise ConfigError(f"{key}={table!r} is invalid: expected a table")
        table[leaf] = value
    return out
