"""Logging set-up for the ``evokit`` command: one handler on the ``evokit`` logger.

The library itself only logs through ``logging.getLogger("evokit")`` (or a child) and never
configures logging: an application decides. The command does, here: messages go to stderr
through ``tqdm.write`` so they never break a progress bar, at WARNING (``-q``), INFO (default)
or DEBUG (``-v``).
"""
from __future__ import annotations

import contextlib
import logging
import sys
from typing import Iterator

LOGGER = "evokit"
QUIET, NORMAL, VERBOSE = -1, 0, 1


class TqdmHandler(logging.Handler):
    """Writes records to the current ``sys.stderr`` above any progress bar (``tqdm.write``)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            try:
                from tqdm import tqdm

                tqdm.write(message, file=sys.stderr)
            except ImportError:  # tqdm is a dependency, but logging must never fail for want of it
                print(message, file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 - logging's own contract: report, never raise
            self.handleError(record)


def setup(verbosity: int = NORMAL) -> logging.Logger:
    """Configure the ``evokit`` logger for a command line run and return it.

    ``verbosity``: QUIET (-1: warnings and errors only), NORMAL (0: and progress messages) or
    VERBOSE (1: and debug details). Calling it again replaces the handler it installed before.
    """
    logger = logging.getLogger(LOGGER)
    for handler in [h for h in logger.handlers if isinstance(h, TqdmHandler)]:
        logger.removeHandler(handler)
    handler = TqdmHandler()
    debug = verbosity >= VERBOSE
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s" if debug
                                           else "evokit: %(message)s", datefmt="%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.WARNING if verbosity <= QUIET else logging.INFO)
    logger.propagate = False
    return logger


@contextlib.contextmanager
def configured(verbosity: int = NORMAL) -> Iterator[logging.Logger]:
    """``setup(verbosity)`` for the duration of a ``with`` block, then the ``evokit`` logger's
    handlers, level and propagation as they were (``evokit.cli.main`` may run inside a larger
    program, or a test session, whose logging must not change)."""
    logger = logging.getLogger(LOGGER)
    saved = (list(logger.handlers), logger.level, logger.propagate)
    try:
        yield setup(verbosity)
    finally:
        logger.handlers[:] = saved[0]
        logger.setLevel(saved[1])
        logger.propagate = saved[2]
