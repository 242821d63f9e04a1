"""The ``evokit`` command: run, resume, report, compare and export searches.

Exit codes: 0 success, 2 bad input (the message names the field), 1 the run failed (one line;
the traceback with ``-v``). Messages go through ``logging.getLogger("evokit")`` (see
:mod:`evokit.logs`); results (tables, paths) go to stdout.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import re
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Sequence

log = logging.getLogger("evokit.cli")

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
PRESETS = ("deepga", "neat", "pso", "gp")
"""Searches ``evokit compare`` knows by name: functions of ``evokit.presets``."""
DATASETS = ("digits", "breast_cancer", "wine", "iris", "mnist1d", "diabetes", "languages", "cells")
"""Embedded datasets ``--dataset`` / ``--data`` accept."""

TRUST = """A config file given here is trusted like a script of your own: a type = "module:Name" of
yours (a module beside the config file, or on the Python path) is imported, which runs its code.
Run only config files you trust. (In Python, evokit.config.load imports nothing outside evokit
unless allow_imports=True: the way to load a config from someone else.)"""

CODES = """exit codes: 0 finished, 1 the run failed or was interrupted, 2 bad input (the message names it).
-q: no progress bar, warnings only; -v: debug messages and tracebacks."""

MAIN_EXAMPLES = f"""examples:
  evokit run                               DeepGA on digits with the default budget (a few minutes)
  evokit run examples/configs/nsga2_co2.toml    a search described in a TOML file (docs/config.md)
  evokit run config.toml --seed 1 --evaluations 100 --run-dir runs/try
  evokit resume runs/try                   continue after a crash, a kill or Ctrl-C
  evokit report runs/try                   regenerate fitness.png and report.html
  evokit compare deepga neat pso gp --seeds 0 1 2 --evaluations 200 --out runs/cmp
  evokit export runs/try --pareto          the Pareto front's networks as .keras files
  evokit serve                             job service + live web page on http://127.0.0.1:8000/

{CODES}
"""

RUN_EXAMPLES = f"""examples:
  evokit run                                    DeepGA on digits, default budget (a few minutes)
  evokit run --generations 3 --population 6 --run-dir runs/quick
  evokit run --dataset breast_cancer --workers 2 --seed 1
  evokit run --data photos/ --image-size 64     your images, one sub-folder per class (docs/guide/data.md)
  evokit run --compact --dataset mnist1d --seconds 600 --workers 2   small accurate networks (a Pareto front)
  evokit run examples/configs/deepga.toml       a search described in a TOML file (docs/config.md)
  evokit run my.toml --evaluations 60 --seconds 600 --run-dir runs/mine

Options given on the command line override the config file (--run-dir: run_dir, --seed: seed,
--generations/--evaluations/--seconds: [budget], --workers: [evaluator], --dataset: [data] name,
--data (and --image-size, --grayscale/--color, --skip-bad-images): [data] path (size, grayscale, on_error),
--population: [algorithm] population, --final-epochs: final_training). A [budget] replaces the
algorithm's own generations, so --evaluations alone stops on evaluations only.
{TRUST}
Ctrl-C stops after the current generation (results and checkpoint written); a second Ctrl-C
stops at once: continue with  evokit resume RUN_DIR.

{CODES}
"""

RESUME_EXAMPLES = f"""examples:
  evokit resume runs/quick                      continue after a crash, a kill or Ctrl-C
  evokit resume runs/quick --generations 20     continue for longer (a new total)
  evokit resume runs/quick --evaluations 300 --workers 2

{CODES}
"""

REPORT_EXAMPLES = f"""examples:
  evokit report runs/quick                      writes runs/quick/fitness.png and runs/quick/report.html

{CODES}
"""

COMPARE_EXAMPLES = f"""examples:
  evokit compare deepga neat pso gp --seeds 0 1 2 --evaluations 200 --out runs/cmp
  evokit compare deepga examples/configs/nsga2_co2.toml --generations 3 --data wine
  evokit compare a.toml b.toml --seeds 0 1 --evaluations 50 --workers 2

Searches are preset names ({", ".join(PRESETS)}) or TOML config files (named by their file name).
Every search runs once per seed on the same data and budget; the table shows mean ± sd over seeds.
{TRUST}

{CODES}
"""

EXPORT_EXAMPLES = f"""examples:
  evokit export runs/quick                      the best model -> runs/quick/export/best.keras
  evokit export runs/quick --pareto --out models/   every Pareto-front (or hall-of-fame) network
  evokit export runs/quick --format onnx        runs/quick/export/best.onnx (+ best.onnx.json)
  evokit export runs/quick --format litert --pareto   pareto-NN.tflite, checked one by one

The best model is copied from the run (best.keras) or, if missing, rebuilt and retrained with the
run's seed. Pareto members are rebuilt from their records in candidates.jsonl and retrained with
the seed they were trained with during the search. Load one with keras.models.load_model(path).
Formats: keras, savedmodel (a folder), onnx, litert (.tflite); onnx and litert need
pip install "evokit[export]". Each file is loaded with its own runtime, run on the run's test
split and compared with the Keras model (an error beyond 1e-4); NAME.json beside it holds its
parameters, FLOPs, size, agreement and latency (docs/guide/export.md).

{CODES}
"""


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    talk = common.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", action="store_true", help="no progress bar; warnings and errors only")
    talk.add_argument("-v", "--verbose", action="store_true", help="debug messages; tracebacks of failures")
    parser = argparse.ArgumentParser(prog="evokit", epilog=MAIN_EXAMPLES, formatter_class=_FORMATTER,
                                     description="Neuroevolution on DEAP and Keras: search for small, accurate "
                                                 "neural networks.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_run, _add_resume, _add_report, _add_compare, _add_export, _add_serve):
        add(sub, common)
    return parser


_FORMATTER = argparse.RawDescriptionHelpFormatter


def _budget_arguments(parser: argparse.ArgumentParser, generations: str, evaluations: str, seconds: str,
                      workers: str) -> None:
    """The options that set a Budget (``BUDGET_OPTIONS``), and ``--workers``."""
    parser.add_argument("--generations", type=int, default=None, help=generations)
    parser.add_argument("--evaluations", type=int, default=None, help=evaluations)
    parser.add_argument("--seconds", type=float, default=None, help=seconds)
    parser.add_argument("--workers", type=int, default=None, help=workers)


def _add_run(sub: Any, common: argparse.ArgumentParser) -> None:
    run = sub.add_parser("run", parents=[common], help="run a search (default: DeepGA on digits, or a TOML config)",
                         description="Run a search: the embedded default (DeepGA on digits) or one described "
                                     "in a TOML config file.", epilog=RUN_EXAMPLES, formatter_class=_FORMATTER)
    run.add_argument("config", nargs="?", default=None,
                     help="a TOML (or .json) config file (see docs/config.md); trusted unless --safe: modules it "
                          "names are imported")
    run.add_argument("--run-dir", default=None,
                     help="run directory (default: the config's run_dir, else runs/<name>-<date>-<time>)")
    run.add_argument("--overwrite", action="store_true", help="replace an earlier run in the run directory")
    run.add_argument("--safe", action="store_true",
                     help="treat the config as untrusted: its types may name evokit's own classes only (no imports)")
    run.add_argument("--seed", type=int, default=None, help="random seed (default: 0 or the config's)")
    _budget_arguments(run, "generations after the first (default: 10; 40 with --compact)",
                      "stop after this many networks trained",
                      "stop after this much wall-clock time", "worker processes (default: 1, train in-process)")
    run.add_argument("--dataset", default=None, choices=DATASETS,
                     help="embedded dataset (default: digits)")
    _data_arguments(run)
    run.add_argument("--population", type=int, default=None, help="population size (default: 12; 24 with --compact)")
    run.add_argument("--final-epochs", type=int, default=None,
                     help="retrain the best network up to this many epochs (early stopping) before testing it; "
                          "0 to skip (default: 40; 60 with --compact)")
    run.add_argument("--epochs", type=int, default=None,
                     help="default search only: training epochs per candidate (default: 4)")
    run.add_argument("--size-weight", type=float, default=None,
                     help="default search only: weight w of the size term in DeepGA's fitness (default: 0.05)")
    run.add_argument("--compact", action="store_true",
                     help="instead of the default search: evokit.presets.compact, small accurate networks (a "
                          "Pareto front of validation accuracy against parameters; population 24, 40 generations, "
                          "60 final epochs unless given; images and sequences to classify)")


def _data_arguments(run: argparse.ArgumentParser) -> None:
    """``--data`` (the user's own data) and the options of a folder of images, named after the
    config's ``[data]`` keys they set (``path``, ``size``, ``grayscale``, ``on_error``)."""
    run.add_argument("--data", default=None, metavar="PATH",
                     help="your own data instead of --dataset: a folder with one sub-folder of images per class, "
                          "or a CSV or NPZ file (docs/guide/data.md)")
    run.add_argument("--image-size", default=None, type=_image_size, metavar="HxW",
                     help="--data folder: resize every image to this size, e.g. 64 or 64x48 (default: keep the "
                          "images' own size, which must then be one size)")
    colour = run.add_mutually_exclusive_group()
    colour.add_argument("--grayscale", dest="grayscale", action="store_const", const=True, default=None,
                        help="--data folder: read images as one grey channel (default: grey if every image is)")
    colour.add_argument("--color", dest="grayscale", action="store_const", const=False,
                        help="--data folder: read images as RGB")
    run.add_argument("--skip-bad-images", action="store_true",
                     help="--data folder: leave out unreadable images with a warning naming each (default: fail, "
                          "listing them)")


def _image_size(text: str) -> int | list[int]:
    """``--image-size``: ``64`` (square) or ``64x48`` (height x width), as the ``size`` key takes it."""
    parts = text.lower().split("x")
    if len(parts) not in (1, 2) or not all(part.strip().isdigit() for part in parts):
        raise argparse.ArgumentTypeError(f"{text!r} is invalid: expected one integer (a square, e.g. 64) or "
                                         "HEIGHTxWIDTH (e.g. 64x48)")
    sizes = [int(part) for part in parts]
    return sizes[0] if len(sizes) == 1 else sizes


def _add_resume(sub: Any, common: argparse.ArgumentParser) -> None:
    resume = sub.add_parser("resume", parents=[common], help="continue a run from its last checkpoint",
                            description="Continue a run from its last checkpoint, optionally with a new budget.",
                            epilog=RESUME_EXAMPLES, formatter_class=_FORMATTER)
    resume.add_argument("run_dir", help="the run directory")
    _budget_arguments(resume, "new total number of generations", "new total number of networks trained",
                      "new total wall-clock time", "worker processes")


def _add_report(sub: Any, common: argparse.ArgumentParser) -> None:
    report = sub.add_parser("report", parents=[common], help="regenerate the plots and the HTML report of a run",
                            description="Regenerate fitness.png and report.html of a run directory.",
                            epilog=REPORT_EXAMPLES, formatter_class=_FORMATTER)
    report.add_argument("run_dir", help="the run directory")


def _add_compare(sub: Any, common: argparse.ArgumentParser) -> None:
    compare = sub.add_parser("compare", parents=[common], help="compare searches on the same data and budget",
                             description="Run several searches (presets or config files) with several seeds "
                                         "on the same data and budget and print a table.",
                             epilog=COMPARE_EXAMPLES, formatter_class=_FORMATTER)
    compare.add_argument("searches", nargs="+", metavar="NAME_OR_CONFIG",
                         help=f"a preset ({', '.join(PRESETS)}) or a TOML config file")
    compare.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds (default: 0)")
    _budget_arguments(compare, "generations per run", "networks trained per run", "wall-clock time per run",
                      "worker processes for every run")
    compare.add_argument("--data", default=None, choices=DATASETS,
                         help="embedded dataset for every search (default: each search's own)")
    compare.add_argument("--out", default=None, help="directory for the comparison's files and runs")


def _add_export(sub: Any, common: argparse.ArgumentParser) -> None:
    export = sub.add_parser("export", parents=[common], help="export the best or the Pareto models (.keras, ONNX, ...)",
                            description="Export the best model, or every Pareto-front model, of a finished run "
                                        "as .keras, SavedModel, ONNX or LiteRT files, each checked against the "
                                        "Keras model.", epilog=EXPORT_EXAMPLES, formatter_class=_FORMATTER)
    export.add_argument("run_dir", help="the run directory")
    export.add_argument("--pareto", action="store_true",
                        help="every member of the Pareto front (one objective: the hall of fame)")
    export.add_argument("--out", default=None, help="output directory (default: RUN_DIR/export)")
    export.add_argument("--discriminator", action="store_true",
                        help="GAN runs: write each generator's discriminator too (the model is the generator)")
    export.add_argument("--format", default="keras", metavar="FORMAT",
                        help="keras (default), savedmodel, onnx or litert")
    export.add_argument("--no-check", dest="check", action="store_false",
                        help="write the files only: no comparison with the Keras model, no NAME.json")


# --- run and resume -------------------------------------------------------------------------

BUDGET_OPTIONS = ("generations", "evaluations", "seconds")
"""The command-line options that set a Budget."""


def _budget_changes(args: argparse.Namespace) -> dict[str, Any]:
    return {f"budget.{k}": getattr(args, k) for k in BUDGET_OPTIONS if getattr(args, k) is not None}


def _budget(args: argparse.Namespace) -> Any:
    """The Budget the command line gives (None: none of --generations, --evaluations, --seconds)."""
    import evokit as ek

    if all(getattr(args, k) is None for k in BUDGET_OPTIONS):
        return None
    return ek.Budget(generations=args.generations, evaluations=args.evaluations, seconds=args.seconds)


def _run(args: argparse.Namespace) -> int:
    search, name = _search_from_config(args) if args.config else _default_search(args)
    search.progress = not args.quiet
    log.info("run: %s; run directory %s", _describe(search, name), search.run_dir)
    log.debug("configuration: %s", json.dumps(search.config(), default=str))
    final = search.final_training.epochs if search.final_training is not None else None
    _import_tensorflow()
    return _print_result(search.run(), Path(search.run_dir), final)


def _import_tensorflow() -> None:
    """Import TensorFlow now, before a progress bar starts, so that what it prints while it loads
    comes before the bar, not inside it (:func:`evokit.logs.import_tensorflow`)."""
    from evokit import logs

    logs.import_tensorflow()


def _default_search(args: argparse.Namespace) -> tuple[Any, str]:
    import evokit as ek

    seed = 0 if args.seed is None else args.seed
    table = _data_table(args, relative=True)
    data = ek.datasets.load(args.dataset or "digits", seed=seed) if table is None else _user_data(table, seed)
    run_dir = Path(args.run_dir or f"runs/run-{time.strftime('%Y%m%d-%H%M%S')}")
    if args.compact:
        search, kind = _compact_search(args, data, seed, run_dir), "compact search"
    else:
        final = 40 if args.final_epochs is None else args.final_epochs
        search = ek.presets.for_data(data, population=12 if args.population is None else args.population,
                                     generations=10 if args.generations is None else args.generations,
                                     epochs=4 if args.epochs is None else args.epochs, final_epochs=final,
                                     size_weight=0.05 if args.size_weight is None else args.size_weight, seed=seed,
                                     workers=1 if args.workers is None else args.workers, run_dir=run_dir,
                                     progress=not args.quiet)
        kind = type(search.encoding).__name__
    search.overwrite = args.overwrite
    if args.evaluations is not None or args.seconds is not None:
        search.budget = ek.Budget(generations=args.generations, evaluations=args.evaluations, seconds=args.seconds)
    return search, f"{kind} on {data.name} ({len(data.x_train)} training samples)"


def _compact_search(args: argparse.Namespace, data: Any, seed: int, run_dir: Path) -> Any:
    """``evokit run --compact``: :func:`evokit.presets.compact` with the command line's
    generations, population, workers and final training (``--final-epochs``: COMPACT_FINAL's
    schedule for that many epochs; 0: none); the caller sets the rest of the budget as for the
    default search."""
    import evokit as ek
    from evokit.errors import ConfigError

    _refuse_default_search_flags(args, "with --compact: it trains candidates as evokit.presets.COMPACT_TRAINING "
                                       "says and scores accuracy and size as two objectives")
    if data.task != "classification" or getattr(data, "vocab_size", None) or len(data.input_shape) < 2:
        kind = {"classification": "text" if getattr(data, "vocab_size", None) else "table"}.get(data.task, data.task)
        raise ConfigError(f"--compact is invalid for {data.name} ({kind} data): it searches convolutional "
                          "classifiers of images and sequences (validation accuracy against parameters); leave it "
                          "out for the default search")
    if args.final_epochs is not None and args.final_epochs < 0:
        raise ConfigError(f"--final-epochs={args.final_epochs} is invalid: expected 0 (no retraining) or an "
                          "integer >= 1")
    final = ek.presets.COMPACT_FINAL
    if args.final_epochs is not None:
        final = dataclasses.replace(final, epochs=args.final_epochs) if args.final_epochs else None
    return ek.presets.compact(data, population=24 if args.population is None else args.population,
                              generations=40 if args.generations is None else args.generations,
                              final_training=final, seed=seed, workers=1 if args.workers is None else args.workers,
                              run_dir=run_dir, progress=not args.quiet)


def _refuse_default_search_flags(args: argparse.Namespace, why: str) -> None:
    """ConfigError naming ``--epochs`` or ``--size-weight`` where one is given to a search that
    does not take it (``why``: with what, and where that setting lives instead)."""
    from evokit.errors import ConfigError

    for flag, value in (("--epochs", args.epochs), ("--size-weight", args.size_weight)):
        if value is not None:
            raise ConfigError(f"{flag}={value} is invalid {why}")


def _search_from_config(args: argparse.Namespace) -> tuple[Any, str]:
    from evokit import config as configs
    from evokit.errors import ConfigError

    if args.compact:
        raise ConfigError("--compact is invalid with a config file: it replaces the config's search with "
                          "evokit.presets.compact; leave out the config, or write compact's parts in it (encoding, "
                          "two objectives, algorithm nsga2, initial_population)")
    _refuse_default_search_flags(args, "with a config file: it applies to the default search only; set it in "
                                       "the config's [[objectives]]")
    path = Path(args.config)
    config = configs.read(path)  # a local file the user runs: its own modules may be imported (allow_imports)
    changes: dict[str, Any] = _budget_changes(args)
    if args.seed is not None:
        changes["seed"] = args.seed
    if args.workers is not None:
        changes["evaluator"] = {"type": "processes", "workers": args.workers} if args.workers > 1 else "serial"
    table = _data_table(args, relative=False)
    if table is not None:
        data = config.get("data", {})
        changes["data"] = _config_data_with(table, {"name": data} if isinstance(data, str) else data, args.data)
    if args.dataset is not None:
        data = config.get("data", {})
        data = {"name": data} if isinstance(data, str) else data
        changes["data"] = {k: v for k, v in data.items() if k in ("val_size", "test_size", "scale", "n_train", "n_val",
                                                                  "seed")} | {"name": args.dataset}
    if args.population is not None:
        changes["algorithm.population"] = args.population
    if args.final_epochs is not None:
        changes["final_training"] = args.final_epochs
    if args.overwrite:
        changes["overwrite"] = True
    changes["run_dir"] = str(args.run_dir or config.get("run_dir") or
                             f"runs/{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    return (configs.from_dict(configs.merged(config, **changes), base_dir=path.parent, allow_imports=not args.safe),
            f"{path}")


_KEPT_FOR_FOLDER = ("seed", "val_size", "test_size", "scale", "n_train", "n_val", "stream", "on_error", "size",
                    "grayscale")
"""The config's ``[data]`` keys that ``--data FOLDER`` keeps (an option given on the command line wins)."""
_KEPT_FOR_FILE = ("seed", "val_size", "test_size", "scale", "n_train", "n_val")
"""The config's ``[data]`` keys that ``--data FILE`` (CSV or NPZ) keeps."""
_REPLACED_BY_DATA = ("name", "path", "kind")
"""The config's ``[data]`` keys that say where its data comes from: what ``--data`` replaces."""


def _config_data_with(table: dict[str, Any], data: Any, given: str) -> dict[str, Any]:
    """The ``[data]`` table of a config run with ``--data`` (``table``): the config's keys that
    apply to that data, then ``table`` over them. A key that cannot apply (a CSV's ``target`` for
    a folder of images, ``size`` for a CSV file...) is a ConfigError naming it, never dropped."""
    from evokit.errors import ConfigError

    folder = table.get("kind") == "image_folder"
    kept = _KEPT_FOR_FOLDER if folder else _KEPT_FOR_FILE
    for key in data:
        if key not in kept and key not in _REPLACED_BY_DATA:
            raise ConfigError(f"data.{key}: the config's [data] key cannot apply to --data={given!r} (a "
                              f"{'folder of images in class folders' if folder else 'CSV or NPZ file'}), which "
                              f"replaces the config's data; expected only {', '.join(kept)} there: remove "
                              f"{key!r} from the config, or run it without --data")
    return {key: value for key, value in data.items() if key in kept} | table


_DATA_OPTIONS = {"size": "--image-size", "grayscale": "--grayscale/--color", "on_error": "--skip-bad-images"}
"""The ``[data]`` keys of a folder of images -> the ``evokit run`` options that set them."""


def _data_table(args: argparse.Namespace, relative: bool) -> dict[str, Any] | None:
    """The ``[data]`` table ``--data`` and the image options give (None without ``--data``):
    ``kind = "image_folder"`` for a folder, a CSV or NPZ file otherwise; ``path`` as given
    (``relative``) or absolute (to merge into a config file, whose paths are relative to it)."""
    from evokit.errors import ConfigError

    options = {"size": args.image_size, "grayscale": args.grayscale,
               "on_error": "skip" if args.skip_bad_images else None}
    given = {key: value for key, value in options.items() if value is not None}
    if args.data is None:
        if given:
            raise ConfigError(f"{_DATA_OPTIONS[next(iter(given))]}: applies to --data FOLDER only")
        return None
    if args.dataset is not None:
        raise ConfigError(f"--data={args.data!r} is invalid with --dataset={args.dataset!r}: give one, your own data "
                          "(--data) or an embedded dataset (--dataset)")
    path = Path(args.data)
    if not path.exists():
        raise ConfigError(f"--data={args.data!r} is invalid: no such file or folder; expected a folder with one "
                          "sub-folder of images per class, or a CSV or NPZ file")
    if not path.is_dir() and given:
        raise ConfigError(f"{_DATA_OPTIONS[next(iter(given))]}: applies to a folder of images only, and "
                          f"--data={args.data!r} is not a folder")
    table: dict[str, Any] = {"path": args.data if relative else str(path.resolve())}
    return table | {"kind": "image_folder"} | given if path.is_dir() else table


def _user_data(table: dict[str, Any], seed: int) -> Any:
    """The Dataset of ``--data`` (``table``); errors name the command line's options, not the
    ``[data]`` keys they set."""
    from evokit import config as configs
    from evokit.errors import ConfigError, DataError

    try:
        return configs.build_data(table, seed=seed)
    except (ConfigError, DataError) as exc:
        key, _, rest = str(exc).partition("=")
        option = {"data.path": "--data", **{f"data.{k}": v for k, v in _DATA_OPTIONS.items()}}.get(key)
        message = f"{option}: {key[5:]}={rest}" if option else re.sub(r"^data: ", "--data: ", str(exc))
        raise type(exc)(message.replace('pass on_error="skip"', "pass --skip-bad-images")) from None


def _describe(search: Any, name: str) -> str:
    objectives = ", ".join(o.name for o in search.objectives)
    data = search.data if isinstance(search.data, str) else search.data.name
    budget = ", ".join(f"{k} {v}" for k, v in vars(search.budget).items() if v is not None) or "no limit"
    return (f"{name}: {type(search.encoding).__name__} encoding, {type(search.algorithm).__name__}, objectives "
            f"{objectives}, data {data}, seed {search.seed}, budget {budget}")


def _resume(args: argparse.Namespace) -> int:
    import evokit as ek

    budget = _budget(args)
    log.info("resume: %s", args.run_dir)
    _import_tensorflow()
    result = ek.resume(args.run_dir, budget=budget, workers=args.workers, progress=not args.quiet)
    return _print_result(result, Path(args.run_dir), None)


def _headline(result: Any, run_dir: Path) -> Any:
    """The headline metric of the run's task (accuracy, R² ...: ``evokit.tasks.Metric``), the task
    read from the run directory's config.json, else from the metrics the run scored."""
    from evokit import tasks
    from evokit.runtime.run.directory import run_task

    try:
        config = json.loads((run_dir / "config.json").read_text())
    except (OSError, ValueError):
        config = {}
    scored = [c.evaluation.metrics for c in result.hall_of_fame] + [result.test_scores]
    return tasks.get(run_task(config if isinstance(config, dict) else {}, scored) or "classification").headline


def _print_result(result: Any, run_dir: Path, final_epochs: int | None) -> int:
    names = result.objective_names
    lead = _headline(result, run_dir)
    from evokit.report.text import table

    if len(names) == 1:
        column = f"val_{lead.abbreviation}"
        print(f"\nbest candidates (validation {lead.title} after the search's short training):")
        rows = [{"fitness": c.values[names[0]], column: c.evaluation.metrics.get(lead.key("val_"), math.nan),
                 "params": c.params, "network": c.description} for c in result.hall_of_fame]
        print(table(rows, ["fitness", column, "params"], "network"))
    else:
        size = len(result.pareto_front)
        print(f"\nPareto front ({size} network{'s' * (size != 1)}, values after the search's short training):")
        rows = [{"params": c.params, **c.values, "network": c.description} for c in result.pareto_front]
        print(table(rows, [*names, "params"], "network"))
    s = result.stats
    if lead.key("test_") in result.test_scores:
        retrained = any(k.startswith("final_") for k in result.test_scores)  # a resumed run's own final training
        how = (f"retrained up to {final_epochs} epochs" if final_epochs else
               "retrained after the search" if retrained else "as trained in the search")
        which = "best model" if len(names) == 1 else f"the front's best in {names[0]}"
        print(f"\ntest {lead.title}: {result.test_scores[lead.key('test_')]:.3f} ({which}, {result.best.params:,} "
              f"parameters, {how})")
        if len(names) > 1:
            print(f"test the other front members: evokit export {run_dir} --pareto")
        others = [f"{k[5:].replace('_', ' ')} {v:.4g}" for k, v in result.test_scores.items()
                  if k.startswith("test_") and k not in ("test_loss", lead.key("test_"))]
        if others:  # e.g. IoU beside Dice, MAE beside R²
            print(f"test, other metrics: {', '.join(others)}")
    print(f"evaluations: {s['trained']} trained, {s['cache_hits']} cache hits, "
          f"{sum(s['failures'].values())} failed; search time {s['wall_time_s']:.0f} s; stopped by {s['stopped_by']}")
    if s.get("budget_overrun_s"):  # a seconds budget is checked between generations: say by how much it ran over
        print(f"budget: {s['stop_detail']}")
    cost = s["search_cost"]
    print(f"search cost: {cost['energy_kwh_estimated']:.2e} kWh, {cost['co2_kg_estimated']:.2e} kg CO2-eq "
          f"(estimated with Green Algorithms from {cost['train_seconds']:.0f} s of training)")
    print(f"run directory: {run_dir}")
    if s["stopped_by"] == "interrupted":
        print(f"interrupted: continue with  evokit resume {run_dir}")
        return EXIT_FAILED
    log.info("next: evokit report %s  (plots and HTML report), evokit export %s  (.keras models)", run_dir, run_dir)
    return EXIT_OK


# --- report ---------------------------------------------------------------------------------

def _report_command(args: argparse.Namespace) -> int:
    from evokit.report.plots import plot_history
    from evokit.runtime.run.directory import read_generations

    run_dir = Path(args.run_dir)
    rows, names = read_generations(run_dir)
    plot_history(rows, names, run_dir / "fitness.png")
    print(f"plot: {run_dir / 'fitness.png'}")
    from evokit.report.html import write_report  # imported here: the HTML report pulls in more than the plots

    print(f"report: {write_report(run_dir)}")
    return EXIT_OK


# --- compare --------------------------------------------------------------------------------

def searches_from_names(items: Sequence[str]) -> dict[str, Any]:
    """Label -> Search for ``evokit compare``'s arguments: preset names or TOML files."""
    import evokit as ek
    from evokit import config as configs
    from evokit.errors import ConfigError

    searches: dict[str, Any] = {}
    for item in items:
        path = Path(item)
        if item.lower() in PRESETS and not path.is_file():
            factory = getattr(ek.presets, item.lower(), None)
            if factory is None:
                raise ConfigError(f"search={item!r} is invalid: the preset evokit.presets.{item.lower()} is not "
                                  "available in this installation")
            label, search = item, factory()
        elif path.suffix.lower() == ".toml" or path.is_file():
            label, search = path.stem, configs.load(path, allow_imports=True)  # local files, as evokit run
        else:
            raise ConfigError(f"search={item!r} is invalid: expected a preset ({', '.join(PRESETS)}) or a TOML "
                              "config file")
        if label in searches:
            raise ConfigError(f"search={item!r} is invalid: a search named {label!r} is already in the comparison")
        searches[label] = search
    return searches


def _compare(args: argparse.Namespace) -> int:
    searches = searches_from_names(args.searches)
    budget = _budget(args)
    log.info("compare: %s, seeds %s, %s", ", ".join(searches), " ".join(map(str, args.seeds)),
             budget or "each search's own budget")
    from evokit.comparison import compare

    _import_tensorflow()
    comparison = compare(searches, data=args.data, budget=budget, seeds=tuple(args.seeds), run_dir=args.out,
                         progress=not args.quiet, workers=args.workers)
    print(comparison.table())
    if args.out:
        print(f"comparison directory: {args.out}")
    failed = [run for run in comparison.runs if not run.ok]
    for run in failed:
        log.warning("%s seed %s failed: %s", run.name, run.seed, run.error)
    return EXIT_FAILED if failed or comparison.interrupted else EXIT_OK


# --- export ---------------------------------------------------------------------------------

def _export(args: argparse.Namespace) -> int:
    from evokit.export import export_models

    from evokit.export import description_path

    paths = export_models(args.run_dir, args.out, args.pareto, args.discriminator, format=args.format,
                          check=args.check)
    for path in paths:
        print(f"model: {path}")
        if description_path(path).is_file():
            card = json.loads(description_path(path).read_text())
            agree, speed = card["agreement"], card["latency"]
            argmax = "" if agree["argmax_agreement"] is None else f", argmax agreement {agree['argmax_agreement']:.1%}"
            print(f"  agrees with Keras: max |diff| {agree['max_abs_diff']:.2g} on {agree['n_samples']} samples"
                  f"{argmax}; "
                  f"latency {speed['batch_1_ms']:.3g} ms at batch 1, {speed['batch_ms']:.3g} ms per batch of "
                  f"{speed['batch']} ({speed['runtime']})")
    return EXIT_OK


# --- serve ----------------------------------------------------------------------------------

SERVE_EXAMPLES = """examples:
  evokit serve                                  http://127.0.0.1:8000, jobs under ./evokit-service
  evokit serve --root /srv/evokit --jobs 2 --port 8080
  EVOKIT_TOKEN=$(openssl rand -hex 16) evokit serve --host 0.0.0.0    other hosts: a token is required

The service binds to 127.0.0.1 unless told otherwise; any other address needs a token (--token or
EVOKIT_TOKEN), which every API call and the event stream must present (Authorization: Bearer TOKEN,
or ?token=TOKEN). Jobs are `evokit run` processes: they end with the service, and a service started
again on the same --root resumes them from their checkpoints. See docs/guide/service.md."""


def _add_serve(sub: Any, common: argparse.ArgumentParser) -> None:
    serve = sub.add_parser("serve", parents=[common], help="a job service with a REST API and a live web page",
                           description="Serve the job service: submit searches, watch them live, stop, resume "
                                       "and download their models, from a web page or the REST API (/api).",
                           epilog=SERVE_EXAMPLES, formatter_class=_FORMATTER)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--root", default="evokit-service",
                       help="directory of the job table (jobs.sqlite) and the jobs' files (default: ./evokit-service)")
    serve.add_argument("--token", default=None, help="API token (default: $EVOKIT_TOKEN; required off loopback)")
    serve.add_argument("--jobs", type=int, default=1, help="jobs run at a time; the rest wait (default: 1)")
    serve.add_argument("--max-upload-mb", type=float, default=100.0, help="largest data upload (default: 100 MB)")


def _serve(args: argparse.Namespace) -> int:
    from evokit.service.server import serve

    return serve(host=args.host, port=args.port, root=args.root, token=args.token, max_jobs=args.jobs,
                 max_upload_mb=args.max_upload_mb, quiet=args.quiet)


def _die_with_parent() -> None:
    """A job of ``evokit serve`` (``EVOKIT_PARENT_PID`` set) dies with the service (Linux's
    PR_SET_PDEATHSIG); the service resumes it from its checkpoint when it starts again."""
    parent = os.environ.pop("EVOKIT_PARENT_PID", None)
    if not parent:
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the job may outlive the service
        return
    if str(os.getppid()) != parent:  # the service died before the line above
        os._exit(EXIT_FAILED)


# --- entry point ----------------------------------------------------------------------------

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": _run, "resume": _resume, "report": _report_command, "compare": _compare, "export": _export,
    "serve": _serve}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``evokit`` command; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2): argparse has printed the message
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    from evokit import logs

    _die_with_parent()
    with logs.configured(logs.QUIET if args.quiet else logs.VERBOSE if args.verbose else logs.NORMAL):
        return _dispatch(args)


def _dispatch(args: argparse.Namespace) -> int:
    """Run the command; map bad input to exit code 2 and any other failure to 1."""
    from evokit.errors import EvokitError, check_int

    try:
        if getattr(args, "workers", None) is not None:  # one rule for run (with or without a config), resume, compare
            check_int("workers", args.workers, minimum=1)
        return COMMANDS[args.command](args)
    except (EvokitError, FileNotFoundError) as exc:
        if args.verbose:
            traceback.print_exc()
        if _run_failure(exc):
            print(f"evokit: the run failed: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"evokit: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("evokit: stopped; the last checkpoint is kept: evokit resume RUN_DIR", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - one line for the user; the traceback with -v
        if args.verbose:
            traceback.print_exc()
        print(f"evokit: the run failed: {type(exc).__name__}: {exc}" +
              ("" if args.verbose else " (run with -v for the traceback)"), file=sys.stderr)
        return EXIT_FAILED


def _run_failure(exc: BaseException) -> bool:
    """Whether an evokit error is a failure of the run (exit 1), not bad input (exit 2): a callback
    that raised (a CSVLogger on a full disk ...), unless what it raised was itself bad input (an
    EarlyStopping on an objective the search does not have)."""
    from evokit.errors import CallbackError, EvokitError

    return isinstance(exc, CallbackError) and not isinstance(exc.__cause__, EvokitError)


if __name__ == "__main__":
    sys.exit(main())
