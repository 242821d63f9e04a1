"""Fuzzing of config files: 1,000 random documents (random keys, types and values, and ``type``
names of anything importable) through ``evokit.config.from_dict`` without the opt-in
(``allow_imports=False``), building the Search only, never running it.

Held: no exception but ConfigError / DataError; nothing a config names is called or imported
from outside evokit (os.system, subprocess, eval/exec and a canary module are watched); no
network is trained; every error message starts with the field it is about. The counts are
printed (``pytest -s``) and quoted in docs/guide/reliability.md.
"""
from __future__ import annotations

import builtins
import collections
import importlib
import inspect
import multiprocessing
import os
import pkgutil
import random
import re
import runpy
import shutil
import subprocess
import sys
import time

import pytest

import evokit
from evokit import config
from evokit.errors import ConfigError, DataError

CASES = 1000
SEED = 0
MARKER = "PWNED"

CANARY = '''
import os
from evokit.algorithms.ga import GA
from evokit.encodings.deepga import DeepGA
from evokit.fitness.base import Objective
from evokit.fitness.constraints import Constraint
from evokit.runtime.executors.serial import SerialEvaluator


def _record(what):
    with open(os.environ["EVOKIT_FUZZ_CANARY"], "a") as f:
        f.write(what + "\\n")


_record("imported")


class Encoding(DeepGA):
    def __init__(self, **kwargs):
        _record("Encoding")
        super().__init__()


class Algorithm(GA):
    def __init__(self, **kwargs):
        _record("Algorithm")
        super().__init__()


class Score(Objective):
    def __init__(self, **kwargs):
        _record("Score")
        super().__init__(lambda e: 0.0)


class Limit(Constraint):
    def __init__(self, **kwargs):
        _record("Limit")


class Evaluator(SerialEvaluator):
    def __init__(self, **kwargs):
        _record("Evaluator")


def score(evaluation):
    _record("score")
    return 0.0
'''
"""A module that a config may name (it is on sys.path): every class is of its section's base, so
only the rule about modules outside evokit keeps it out. Importing or calling it leaves a line in
the file $EVOKIT_FUZZ_CANARY."""

DANGEROUS = ["os:system", "os:popen", "os:remove", "os:execv", "subprocess:run", "subprocess:Popen",
             "subprocess:check_output", "builtins:eval", "builtins:exec", "builtins:print", "builtins:__import__",
             "importlib:import_module", "shutil:rmtree", "pickle:loads", "runpy:run_path", "this:s",
             "evokit.__main__:main", "evokit:_os.system", "evokit.config:importlib.import_module",
             "evokit.config:resolve", "evokit.cli:main", "evokit.config:load", "evokit:config.sys.modules",
             "evokit_fuzz_canary:Encoding", "evokit_fuzz_canary:Algorithm", "evokit_fuzz_canary:Score",
             "evokit_fuzz_canary:Limit", "evokit_fuzz_canary:Evaluator", "evokit_fuzz_canary:score",
             "os:", ":system", "os", "", "evokit.encodings.deepga:DeepGA.__init__", "evokit.encodings.deepga:"]
KEYS = ["population", "generations", "offspring", "epochs", "batch_size", "filters", "units", "workers", "limit",
        "address", "cluster_kwargs", "command", "args", "shell", "source", "fn", "map_fn", "client", "name",
        "weight", "accuracy", "estimator", "cost_model", "co2", "mode", "terms", "scale", "path", "max_conv_blocks",
        "n_train", "seed", "type", "batch", "max_params", "w", "kg", "mb", "timeout", "learning_rate"]
CHARS = "abcxyz_.:-/ 0123456789=[]{}\"'$`;|&<>\\é\x00"


def _evokit_names() -> list[str]:
    """``module:Name`` of every public class and function of every public evokit module (all
    imported here, before the fuzz, so that the fuzz itself imports nothing)."""
    names = []
    for info in pkgutil.walk_packages(evokit.__path__, "evokit."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue  # evokit.__main__ runs the command line when imported
        try:
            module = importlib.import_module(info.name)
        except ImportError:
            continue
        names += [f"{info.name}:{attr}" for attr in sorted(vars(module)) if not attr.startswith("_")
                  and (isinstance(vars(module)[attr], type) or callable(vars(module)[attr]))]
    return sorted(set(names))


def _pick(rng: random.Random, items: list) -> object:
    """One of ``items``, drawing exactly one number whatever their count (so that a different
    ``sys.modules`` does not change the rest of the draws)."""
    return items[int(rng.random() * len(items))]


class Documents:
    """Random config documents, from one seeded generator."""

    def __init__(self, rng: random.Random, evokit_names: list[str]):
        self.rng = rng
        self.evokit_names = evokit_names
        self.short = sorted({*config.ENCODINGS, *config.ALGORITHMS, *config.OBJECTIVES, *config.CONSTRAINTS,
                             *config.EVALUATORS, "weighted_sum"})

    def type_name(self, names: dict | None = None) -> str:
        """A type name: of the section's own table (``names``), of any table, a dangerous one, any
        evokit class or function, any name of any imported module, or random text."""
        rng = self.rng
        kind = rng.random()
        if names and rng.random() < 0.35:
            return _pick(rng, sorted(names))
        if kind < 0.3:
            return _pick(rng, self.short)
        if kind < 0.5:
            return _pick(rng, DANGEROUS)
        if kind < 0.8:
            return _pick(rng, self.evokit_names)
        if kind < 0.95:  # any public module already imported, and any of its public names
            modules = sorted(m for m in sys.modules if not m.startswith("evokit")
                             and not any(part.startswith("_") for part in m.split(".")))
            name = _pick(rng, modules)
            attrs = sorted(a for a in dir(sys.modules[name]) if not a.startswith("_")) or ["missing"]
            return f"{name}:{_pick(rng, attrs)}"
        return self.text()

    def text(self) -> str:
        rng = self.rng
        if rng.random() < 0.3:
            return _pick(rng, [f"echo {MARKER} > pwned.txt", f"__import__('os').system('echo {MARKER}')",
                               "digits", "iris", "relu", "max", "adam", "estimated", "tcp://127.0.0.1:1", "../..",
                               "/etc/passwd", "runs/fuzz"])
        return "".join(_pick(rng, CHARS) for _ in range(rng.randrange(0, 8)))

    def value(self, depth: int = 0) -> object:
        rng = self.rng
        kind = rng.randrange(10 if depth < 2 else 7)
        if kind == 0:
            return rng.randrange(-3, 40)
        if kind == 1:
            return _pick(rng, [0, 1, 2, -1, 10**6, 10**10, 2**63 - 1, -2**63])
        if kind == 2:
            return _pick(rng, [0.0, 0.5, 1.0, -1.0, 1e300, float("nan"), float("inf"), -float("inf"), 1e-12])
        if kind == 3:
            return rng.random() < 0.5
        if kind in (4, 5):
            return self.text()
        if kind == 6:
            return self.type_name()
        if kind in (7, 8):
            return [self.value(depth + 1) for _ in range(rng.randrange(0, 4))]
        return self.table(depth + 1)

    def key(self, real: list[str] = ()) -> str:
        """A key: most often one the section's class takes, else a common or a random one."""
        if real and self.rng.random() < 0.6:
            return _pick(self.rng, real)
        return _pick(self.rng, KEYS) if self.rng.random() < 0.8 else self.text()

    def table(self, depth: int = 0, typed: bool = False, names: dict | None = None) -> dict:
        rng = self.rng
        kind = self.type_name(names) if typed or rng.random() < 0.3 else None
        real = sorted(inspect.signature(config.resolve(names[kind])).parameters) if names and kind in names else []
        table = {self.key(real): self.value(depth) for _ in range(rng.randrange(0, 4))}
        if kind is not None:
            table["type"] = kind
        return table

    def section(self, names: dict, many: bool = False) -> object:
        rng = self.rng
        shape = rng.random()
        if shape < 0.1:
            return self.value(1)
        if shape < 0.2:
            return self.type_name(names)
        if many:
            return [self.table(1, rng.random() < 0.9, names) for _ in range(rng.randrange(0, 4))]
        return self.table(1, rng.random() < 0.9, names)

    def document(self) -> dict:
        rng = self.rng
        doc: dict = {}
        for key, names in (("objectives", config.OBJECTIVES), ("encoding", config.ENCODINGS),
                           ("algorithm", config.ALGORITHMS), ("evaluator", config.EVALUATORS),
                           ("constraints", config.CONSTRAINTS)):
            if rng.random() < 0.5:
                doc[key] = self.section(names, many=key in ("objectives", "constraints"))
        if rng.random() < 0.3:
            doc["data"] = _pick(rng, ["digits", "iris", "wine", {"name": "iris", "n_train": 30}]) \
                if rng.random() < 0.5 else self.table(1)
        if rng.random() < 0.3:
            doc["budget"] = self.table(1)
        for key in ("seed", "hall_of_fame", "final_training", "overwrite", "description", "run_dir"):
            if rng.random() < 0.1:
                doc[key] = self.value(1)
        if rng.random() < 0.1:
            doc[self.key()] = self.value(1)
        return doc


def _strings(value: object) -> set[str]:
    """Every string in a document: keys and values, nested."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings(k) | _strings(v) for k, v in value.items())) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return set()


KINDS = [("refused: module outside evokit (no opt-in)", r"\.type=.* is invalid: module .* is outside evokit"),
         ("refused: not a class of the section's base", r"\.type=.* is invalid: expected a subclass of"),
         ("refused: abstract class", r"\.type=.* is abstract"),
         ("refused: a function (needs the opt-in)", r"\.type=.* is invalid: it names a function"),
         ("refused: not a public module:Name", r"\.type=.* is invalid: expected 'package.module:Name' of public"),
         ("refused: trusted key (needs the opt-in)", r"hands control to code outside evokit"),
         ("unknown type name", r"\.type=.* is invalid: expected one of"),
         ("type could not be imported", r"\.type=.* is not available"),
         ("unknown key", r"unknown key"),
         ("missing key", r"missing; this key is required"),
         ("invalid value", r"is invalid|: [A-Za-z]+Error: "),
         ("other", r"")]


def _kind(message: str) -> str:
    return next(name for name, pattern in KINDS if re.search(pattern, message))


def _field(message: str, doc: dict) -> bool:
    """Whether the message starts with the field it is about: a top-level key (of the schema or of
    this document) or ``config``, then a dotted path, an index, ``=``, ``:`` or `` has``."""
    for name in (*config.TOP_LEVEL, "config", *doc):
        rest = message[len(name):] if message.startswith(name) else None
        if rest is not None and (rest[:1] in (".", "[", "=", ":") or rest.startswith(" has ")):
            return True
    return False


@pytest.fixture
def watched(tmp_path, monkeypatch):
    """Calls that would run code: os.system, os.popen, subprocess.Popen, file removal, runpy
    (strict: none at all, and refused), eval/exec of a string from the document, Job.run (a
    training), and the canary module."""
    names = _evokit_names()  # imports every public evokit module now, before anything is watched
    config.from_dict({"data": {"name": "iris", "n_train": 30}, "evaluator": "dask"})  # and their lazy imports
    calls: list = []
    canary_log = tmp_path / "canary.log"
    (tmp_path / "evokit_fuzz_canary.py").write_text(CANARY)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("EVOKIT_FUZZ_CANARY", str(canary_log))
    monkeypatch.chdir(tmp_path)
    strings: set[str] = set()
    real_eval, real_exec = builtins.eval, builtins.exec

    def watched_eval(source, *args, **kwargs):
        if isinstance(source, str) and source in strings:
            calls.append(("eval", source))
        return real_eval(source, *args, **kwargs)

    def watched_exec(source, *args, **kwargs):
        if isinstance(source, str) and source in strings:
            calls.append(("exec", source))
        return real_exec(source, *args, **kwargs)

    def refuse(name):
        def call(*args, **kwargs):
            calls.append((name, args))
            raise AssertionError(f"{name} called while building a Search from a config")
        return call

    from evokit.runtime.executors.base import Job

    for module, name in ((os, "system"), (os, "popen"), (os, "remove"), (os, "unlink"), (os, "execv"),
                         (shutil, "rmtree"), (runpy, "run_path"), (runpy, "run_module")):
        monkeypatch.setattr(module, name, refuse(f"{module.__name__}.{name}"))  # a regression would harm nothing
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("subprocess.Popen"))
    monkeypatch.setattr(Job, "run", refuse("Job.run (a training)"))
    monkeypatch.setattr(builtins, "eval", watched_eval)
    monkeypatch.setattr(builtins, "exec", watched_exec)
    yield calls, strings, canary_log, names


def test_a_thousand_random_configs_build_or_fail_naming_their_field_and_run_nothing(watched, capsys):
    calls, strings, canary_log, names = watched
    documents = Documents(random.Random(SEED), names)
    counts: collections.Counter = collections.Counter()
    unnamed, unexpected = [], []
    start = time.perf_counter()
    for case in range(CASES):
        doc = documents.document()
        strings.clear()
        strings |= _strings(doc)
        try:
            config.from_dict(doc)  # allow_imports=False, the default; the Search is built, never run
            counts["built"] += 1
        except (ConfigError, DataError) as exc:
            counts["DataError" if isinstance(exc, DataError) else "ConfigError"] += 1
            counts[_kind(str(exc))] += 1
            if not _field(str(exc), doc):
                unnamed.append((case, str(exc)))
        except BaseException as exc:  # noqa: BLE001 - the point of the test: record, report below
            unexpected.append((case, doc, f"{type(exc).__name__}: {exc}"))
    seconds = time.perf_counter() - start
    with capsys.disabled():
        print(f"\nconfig fuzz: {CASES} cases in {seconds:.1f} s; " + ", ".join(f"{k}: {v}" for k, v in
                                                                              sorted(counts.items())))
    assert not unexpected, unexpected[:5]
    assert not calls, calls[:5]
    assert not canary_log.exists() and "evokit_fuzz_canary" not in sys.modules and "this" not in sys.modules
    assert not multiprocessing.active_children()
    assert not unnamed, unnamed[:5]
    assert counts["built"] + counts["ConfigError"] + counts["DataError"] == CASES
    assert counts["refused: module outside evokit (no opt-in)"] > 50
    assert counts["refused: not a class of the section's base"] > 50
    assert counts["built"] > 10  # valid documents are among them: the fuzz reaches the constructors
    assert seconds < 30
