"""Logging set-up for the ``evokit`` command: one handler on the ``evokit`` logger, and
TensorFlow's own output.

The library itself only logs through ``logging.getLogger("evokit")`` (or a child) and never
configures logging: an application decides. The command does, here: messages go to stderr
through ``tqdm.write`` so they never break a progress bar, at WARNING (``-q``), INFO (default)
or DEBUG (``-v``).

TensorFlow talks on two channels, and neither can be acted on by a user of the command:

* its C++ libraries print start-up lines straight to file descriptor 2 while they load
  (``All log messages before absl::InitializeLog() is called ...``, ``Could not find cuda
  drivers on your machine ...``), whatever ``TF_CPP_MIN_LOG_LEVEL`` says.
  :func:`import_tensorflow` imports it with those known lines held back (any other line, such as
  the reason of a fatal error, is shown as it comes), and prints them only when
  ``TF_CPP_MIN_LOG_LEVEL`` is below 3 (the package sets 3 unless the user set it) or the import
  failed; the command imports it so before its progress bar starts, and each worker process
  before its first candidate.
* its Python loggers (``tensorflow``, ``absl``) warn, e.g. that ``N out of the last N calls to
  <function ...> triggered tf.function retracing`` (every candidate is a new model: a search
  retraces by design). :func:`setup` shows them with ``-v`` only, in this process and, through
  the environment variable ``EVOKIT_TF_WARNINGS``, in the worker processes it starts.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import sys
from typing import Any, Iterator

LOGGER = "evokit"
QUIET, NORMAL, VERBOSE = -1, 0, 1

TF_WARNINGS = "EVOKIT_TF_WARNINGS"
"""Environment variable: ``"1"`` shows TensorFlow's Python-level warnings, ``"0"`` hides them
(errors still show); unset leaves its loggers alone. Set by :func:`setup`; worker processes
inherit it."""

TF_LOGGERS = ("tensorflow", "absl")
"""TensorFlow's Python loggers (Keras warns through absl's)."""


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
    TensorFlow's Python warnings show with VERBOSE only (``EVOKIT_TF_WARNINGS``, here and in the
    worker processes started after).
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
    os.environ[TF_WARNINGS] = "1" if debug else "0"
    tensorflow_warnings()
    return logger


@contextlib.contextmanager
def configured(verbosity: int = NORMAL) -> Iterator[logging.Logger]:
    """``setup(verbosity)`` for the duration of a ``with`` block, then the ``evokit`` logger's
    handlers, level and propagation as they were, and TensorFlow's loggers and
    ``EVOKIT_TF_WARNINGS`` too (``evokit.cli.main`` may run inside a larger program, or a test
    session, whose logging must not change)."""
    logger = logging.getLogger(LOGGER)
    saved = (list(logger.handlers), logger.level, logger.propagate)
    levels = {name: logging.getLogger(name).level for name in TF_LOGGERS if _exists(name)}
    variable = os.environ.get(TF_WARNINGS)
    try:
        yield setup(verbosity)
    finally:
        logger.handlers[:] = saved[0]
        logger.setLevel(saved[1])
        logger.propagate = saved[2]
        for name in TF_LOGGERS:
            if _exists(name):
                logging.getLogger(name).setLevel(levels.get(name, logging.NOTSET))
        if variable is None:
            os.environ.pop(TF_WARNINGS, None)
        else:
            os.environ[TF_WARNINGS] = variable


def _exists(name: str) -> bool:
    """Whether logger ``name`` was made already (absl must make its own: it is of absl's class)."""
    return name in logging.Logger.manager.loggerDict


def tensorflow_warnings() -> None:
    """Apply ``EVOKIT_TF_WARNINGS`` to TensorFlow's Python loggers in this process: WARNING when
    ``"1"``, ERROR when ``"0"``; nothing when it is unset (the library configures no logging)."""
    value = os.environ.get(TF_WARNINGS)
    if value not in ("0", "1"):
        return
    for name in TF_LOGGERS:
        if name == "tensorflow" or _exists(name):
            logging.getLogger(name).setLevel(logging.WARNING if value == "1" else logging.ERROR)


_DEVICES_FOUND_IN: list[int] = []  # ids of the processes where import_tensorflow let TensorFlow find its devices


def import_tensorflow(find_devices: bool = True) -> Any:
    """Import TensorFlow (and, with ``find_devices``, let it find its devices) with its C++
    start-up lines captured, then print them only if ``TF_CPP_MIN_LOG_LEVEL`` is below 3 or the
    import failed; apply :func:`tensorflow_warnings`. Returns the module. Call it before a progress
    bar starts, so that whatever it prints comes before the bar, not inside it.

    ``find_devices=False`` only imports: a fork server that worker processes are forked from
    (:mod:`evokit.runtime.executors.preload`) must not start TensorFlow's runtime; a process forked
    from it finds its devices at its own first call (device discovery is remembered per process)."""
    find = find_devices and os.getpid() not in _DEVICES_FOUND_IN
    if "tensorflow" not in sys.modules or find:
        captured: list[str] = []
        try:
            with _stderr_captured() as captured:
                import tensorflow as tf

                if find:  # device discovery prints too (cuInit on a machine without CUDA)
                    tf.config.list_physical_devices()
                    _DEVICES_FOUND_IN.append(os.getpid())
        except BaseException:
            _write_stderr(captured)
            raise
        if _tf_log_level() < 3:
            _write_stderr(captured)
    tensorflow_warnings()
    import tensorflow as tf

    return tf


def _write_stderr(captured: list[str]) -> None:
    if captured and captured[0] and sys.stderr is not None:
        sys.stderr.write(captured[0])
        sys.stderr.flush()


def _tf_log_level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


STARTUP_LINES = re.compile(
    rb"All log messages before absl::InitializeLog\(\) is called"
    rb"|Could not find cuda drivers|failed call to cuInit"
    rb"|Unable to register cu(DNN|FFT|BLAS) factory|Attempting to register factory for plugin cu(DNN|FFT|BLAS)"
    rb"|oneDNN custom operations are on"
    rb"|This TensorFlow binary is optimized to use available CPU instructions"
    rb"|^To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags"
    rb"|computation placer already registered|TF-TRT Warning: Could not find TensorRT")
"""What TensorFlow's C++ libraries print to descriptor 2 on every import on a machine without a
GPU (or with one): notices a user cannot act on. Any other line is shown as it comes."""

FATAL_LINE = re.compile(rb"^(F\d{4} |\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: F )")
"""A line of severity FATAL (absl's ``F0000 ...``, TensorFlow's older ``2024-01-01 ...: F ...``):
the reason of an abort, shown whatever it says."""

FILTER_ARGUMENT = "--tensorflow-stderr-filter"
"""Runs this file as the filter process of :func:`_stderr_captured` (``python -I -S logs.py ARG``)."""


def is_startup_line(line: bytes) -> bool:
    """Whether a line written to descriptor 2 is one of TensorFlow's known start-up notices."""
    return FATAL_LINE.match(line) is None and STARTUP_LINES.search(line) is not None


def filter_startup_lines(source: int, passthrough: int) -> bytes:
    """Read descriptor ``source`` to its end: write each line that is not a known start-up line
    to descriptor ``passthrough`` as soon as it is complete; return the start-up lines."""
    held: list[bytes] = []
    pending = b""

    def sort(line: bytes) -> None:
        if is_startup_line(line):
            held.append(line)
        else:
            _write_all(passthrough, line)

    while chunk := os.read(source, 65536):
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            sort(line + b"\n")
    if pending:  # the last line, cut off (its writer stopped)
        sort(pending)
    return b"".join(held)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


def _filter_main() -> None:
    """The filter process: stdin is the pipe that descriptor 2 of the importing process points at,
    stderr the real one. At the end the start-up lines go to stdout for :func:`import_tensorflow`
    to show or drop; if that process is gone (it aborted), to stderr, with the rest."""
    held = filter_startup_lines(0, 2)
    try:
        _write_all(1, held)
    except OSError:
        _write_all(2, held)


@contextlib.contextmanager
def _stderr_captured() -> Iterator[list[str]]:
    """Point file descriptor 2 (what C++ code prints goes there too) at a pipe to a filter process
    for the block, then back; the list yielded gets the known start-up lines first
    (:data:`STARTUP_LINES`). Every other line goes on to the real descriptor 2 at once: the reason
    of a fatal error, a crash's traceback (faulthandler), another thread's message. A process, not
    a thread: it passes a line on while the importing thread holds the GIL in C++ code, and after
    the importing process aborted. Without a usable descriptor 2 (a daemon that closed it) or a
    filter process, nothing is captured."""
    captured: list[str] = []
    try:
        saved = os.dup(2)
    except OSError:
        saved = None
    started = None if saved is None else _start_filter(saved)
    if started is None:
        if saved is not None:
            os.close(saved)
        captured.append("")
        yield captured
        return
    sorter, write = started
    _flush_stderr()
    os.dup2(write, 2)
    os.close(write)
    try:
        yield captured
    finally:
        _flush_stderr()
        os.dup2(saved, 2)
        os.close(saved)
        captured.insert(0, _held_lines(sorter).decode(errors="replace"))


def _start_filter(stderr: int) -> tuple[subprocess.Popen, int] | None:
    """The filter process (this file run with :data:`FILTER_ARGUMENT`) reading a new pipe and
    writing to descriptor ``stderr``, and the pipe's writing end; None if it cannot start."""
    try:
        read, write = os.pipe()
    except OSError:
        return None
    try:
        with contextlib.closing(os.fdopen(read, "rb", buffering=0)) as pipe_end:
            sorter = subprocess.Popen([sys.executable, "-I", "-S", os.path.abspath(__file__), FILTER_ARGUMENT],
                                      stdin=pipe_end, stdout=subprocess.PIPE, stderr=stderr)
    except (OSError, ValueError, subprocess.SubprocessError):  # no interpreter to run (an embedded Python)
        os.close(write)
        return None
    return sorter, write


def _held_lines(sorter: subprocess.Popen) -> bytes:
    """The start-up lines the filter process held back, once the pipe it reads has ended."""
    try:
        return sorter.communicate(timeout=10)[0]
    except subprocess.TimeoutExpired:  # a process started meanwhile still holds the pipe: give up the lines
        sorter.kill()
        return sorter.communicate()[0]


def _flush_stderr() -> None:
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()


if __name__ == "__main__" and sys.argv[1:] == [FILTER_ARGUMENT]:
    _filter_main()
