"""One SQLite file that a candidate store (the fitness cache, the weight pool) keeps its rows in,
written as each row arrives, so that a killed run finds them again.

Opened on first use with the tables it declares; a copy pickled into another process is
in-memory only (the connection stays behind). The stores put pickles in it: open only files of
your own runs.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any, Sequence


class SQLiteFile:
    """An SQLite file with ``tables`` (``CREATE TABLE IF NOT EXISTS`` statements' bodies, e.g.
    ``"evaluations (key TEXT PRIMARY KEY, evaluation BLOB)"``), or nothing when ``path`` is None."""

    def __init__(self, path: str | os.PathLike | None, tables: Sequence[str]):
        self.path = None if path is None else Path(path)
        self.tables = tuple(tables)
        self._db: sqlite3.Connection | None = None

    def connect(self) -> sqlite3.Connection | None:
        """The open connection (None without a path), creating the file and its tables if needed."""
        if self.path is None:
            return None
        if self._db is None:
            self._db = sqlite3.connect(self.path)
            for table in self.tables:
                self._db.execute(f"CREATE TABLE IF NOT EXISTS {table}")
            self._db.commit()
        return self._db

    def write(self, *statements: tuple[str, Sequence[Any]]) -> None:
        """Run ``(sql, parameters)`` statements and commit them together (nothing without a path)."""
        db = self.connect()
        if db is None:
            return
        for sql, parameters in statements:
            db.execute(sql, parameters)
        db.commit()

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows a query returns (none without a path)."""
        db = self.connect()
        return [] if db is None else db.execute(sql, parameters).fetchall()

    def set_aside(self) -> Path | None:
        """Close the file and rename it ``<name>.corrupt-<n>`` (the first free n), so that the next
        use starts an empty one; returns the new name (None without a path or file)."""
        self.close()
        if self.path is None or not self.path.exists():
            return None
        n = 1
        while (moved := self.path.with_name(f"{self.path.name}.corrupt-{n}")).exists():
            n += 1
        os.replace(self.path, moved)
        for suffix in ("-journal", "-wal", "-shm"):  # SQLite's side files belong to the damaged file
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
        return moved

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_db"] = None
        return state
