"""Where a callback writes: a relative path is relative to the run directory (the current
directory when the search has none), so a run's logs travel with it; never onto one of the run's
own files (its checkpoint, cache, records ...), which a log would destroy."""
from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import Any

from evokit.errors import ConfigError
from evokit.runtime.run.checkpoint import SEARCH
from evokit.runtime.run.directory import OWN_FILES, OWN_FOLDERS
from evokit.runtime.run.lock import LOCK

RESERVED = frozenset(OWN_FILES + OWN_FOLDERS + (SEARCH, LOCK, "config.json", "cache.sqlite", "cache.donors.sqlite"))
"""Names at the top of a run directory that belong to the run itself."""


def check_path(field: str, value: Any) -> str | Path:
    """``value`` if it is a non-empty path (str or os.PathLike), else ConfigError naming ``field``."""
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise ConfigError(f"{field}={value!r} is invalid: expected a file path (str or pathlib.Path)")
    return value


def resolve(field: str, path: str | Path, run_dir: Path | None) -> Path:
    """``path`` as written, when absolute; else under ``run_dir`` (or the current directory).
    Its parent folders are made. ConfigError naming ``field`` if it is one of the run's own files."""
    given, path = str(path), Path(path).expanduser()
    if not path.is_absolute():
        path = (Path(run_dir) if run_dir is not None else Path.cwd()) / path
    if run_dir is not None:
        try:
            inside = path.resolve().relative_to(Path(run_dir).resolve())
        except ValueError:
            inside = None
        if inside is not None:
            _check_not_reserved(field, given, inside)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def check_inside(field: str, value: Any) -> str:
    """``value`` if it is a relative path that stays inside the folder it is relative to (no
    absolute path, no ``..``, no ``~``) and is none of a run's own files, else ConfigError naming
    ``field``: the rule for paths a config gives, since configs may come from the job service's clients."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{field}={value!r} is invalid: expected a relative file path (a string)")
    parts = PurePath(value.replace("\\", "/")).parts
    if (PurePath(value).is_absolute() or value.startswith(("/", "\\", "~")) or ".." in parts
            or (parts and ":" in parts[0])):
        raise ConfigError(f"{field}={value!r} is invalid: expected a path relative to the run directory and "
                          "inside it (no absolute path, no '..', no '~')")
    _check_not_reserved(field, value, PurePath(*parts))
    return value


def _check_not_reserved(field: str, value: str, inside: PurePath) -> None:
    if inside.parts and inside.parts[0] in RESERVED or not inside.parts:
        raise ConfigError(f"{field}={value!r} is invalid: it names the run directory's own "
                          f"{inside.parts[0] if inside.parts else 'folder'!r}; choose another name "
                          "(e.g. 'logs/generations.csv')")
