"""The job table: one SQLite file under the service's root, so that jobs outlive the service.

A job is a row (id, name, state, times, exit code, error, what it searches); its files live in
``ROOT/jobs/<id>/``. States: ``queued`` (waiting for a slot; ``resume`` says whether it continues
its run directory), ``running``, ``stopping`` (asked to stop after the current generation),
``stopped``, ``finished``, ``failed``.
"""
from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATES = ("queued", "running", "stopping", "stopped", "finished", "failed")
ACTIVE = ("running", "stopping")
ENDED = ("stopped", "finished", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    resume INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    started REAL,
    ended REAL,
    pid INTEGER,
    exit_code INTEGER,
    error TEXT,
    about TEXT NOT NULL DEFAULT '{}'
)"""


@dataclass
class Job:
    """One row of the job table. ``about`` holds what the job searches (dataset, encoding,
    search, objectives), for listing without reading its files."""

    id: str
    seq: int
    name: str
    state: str
    resume: bool = False
    created: float = 0.0
    started: float | None = None
    ended: float | None = None
    pid: int | None = None
    exit_code: int | None = None
    error: str | None = None
    about: dict[str, Any] = field(default_factory=dict)


def new_id() -> str:
    """A job id chosen by the server: 12 hex digits (never a client's string)."""
    return secrets.token_hex(6)


class JobStore:
    """The job table in ``path`` (created if missing), safe to use from several threads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, name: str, about: dict[str, Any], job_id: str | None = None) -> Job:
        """A new queued job (its id chosen here unless given by the caller that made its directory)."""
        with self._lock:
            seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").fetchone()[0]
            job = Job(id=job_id or new_id(), seq=seq, name=name, state="queued", created=time.time(), about=about)
            self._db.execute("INSERT INTO jobs (id, seq, name, state, resume, created, about) VALUES (?,?,?,?,?,?,?)",
                             (job.id, seq, name, job.state, 0, job.created, json.dumps(about)))
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _job(row)

    def all(self, states: tuple[str, ...] = STATES) -> list[Job]:
        """Jobs in ``states``, oldest first."""
        marks = ",".join("?" * len(states))
        with self._lock:
            rows = self._db.execute(f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY seq", states).fetchall()
        return [_job(row) for row in rows]

    def update(self, job_id: str, **changes: Any) -> Job | None:
        """Set columns of one job; returns it as it now is (None if it is gone)."""
        unknown = (set(changes) - set(Job.__dataclass_fields__)) | ({"id", "seq"} & set(changes))
        if unknown:
            raise ValueError(f"unknown job columns: {sorted(unknown)}")
        if "about" in changes:
            changes["about"] = json.dumps(changes["about"])
        if "resume" in changes:
            changes["resume"] = int(bool(changes["resume"]))
        sets = ", ".join(f"{k} = ?" for k in changes)
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {sets} WHERE id = ?", (*changes.values(), job_id))
        return self.get(job_id)

    def delete(self, job_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))


def _job(row: tuple[Any, ...]) -> Job:
    (job_id, seq, name, state, resume, created, started, ended, pid, exit_code, error, about) = row
    return Job(id=job_id, seq=seq, name=name, state=state, resume=bool(resume), created=created, started=started,
               ended=ended, pid=pid, exit_code=exit_code, error=error, about=json.loads(about or "{}"))
