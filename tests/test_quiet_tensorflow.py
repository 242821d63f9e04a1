"""TensorFlow's output under the evokit command (issue 21, item 7): its C++ start-up lines never
land inside a progress bar, and its Python warnings (tf.function retracing ...) show with -v only,
in the command's process and in its worker processes."""
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evokit import logs

STARTUP_LINES = ("absl::InitializeLog", "cudart_stub", "cuda drivers", "cuInit", "oneDNN", "cuDNN factory")


def test_the_verbosity_decides_tensorflows_python_warnings_and_is_undone_after(monkeypatch):
    monkeypatch.delenv(logs.TF_WARNINGS, raising=False)
    tf_logger = logging.getLogger("tensorflow")
    before = tf_logger.level
    with logs.configured(logs.QUIET):
        assert os.environ[logs.TF_WARNINGS] == "0"  # what worker processes inherit
        assert not tf_logger.isEnabledFor(logging.WARNING) and tf_logger.isEnabledFor(logging.ERROR)
    with logs.configured(logs.NORMAL):
        assert not tf_logger.isEnabledFor(logging.WARNING)  # a user cannot act on a retracing warning
    with logs.configured(logs.VERBOSE):
        assert os.environ[logs.TF_WARNINGS] == "1" and tf_logger.isEnabledFor(logging.WARNING)
    assert tf_logger.level == before and logs.TF_WARNINGS not in os.environ


def test_a_worker_applies_the_inherited_setting_and_none_leaves_tensorflow_alone(monkeypatch):
    tf_logger = logging.getLogger("tensorflow")
    monkeypatch.setattr(tf_logger, "level", logging.NOTSET)
    monkeypatch.setenv(logs.TF_WARNINGS, "0")
    logs.tensorflow_warnings()
    assert tf_logger.level == logging.ERROR
    monkeypatch.setenv(logs.TF_WARNINGS, "1")
    logs.tensorflow_warnings()
    assert tf_logger.level == logging.WARNING
    monkeypatch.delenv(logs.TF_WARNINGS)
    tf_logger.setLevel(logging.INFO)
    logs.tensorflow_warnings()
    assert tf_logger.level == logging.INFO


def test_what_c_code_writes_to_descriptor_2_is_captured_then_the_descriptor_is_back(capfd):
    with logs._stderr_captured() as captured:
        os.write(2, b"I0000 cudart_stub.cc:31] Could not find cuda drivers\n")
    assert captured == ["I0000 cudart_stub.cc:31] Could not find cuda drivers\n"]
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


USER_FITNESS = '''
import numpy as np


def predicted_mean(evaluation):
    """Keras' model.predict on each candidate, as a new user writes it: TensorFlow warns that
    its predict function retraces."""
    model = evaluation.model()
    return float(np.mean(model.predict(np.zeros((4, *evaluation.spec.input_shape), "float32"), verbose=0)))
'''

CONFIG = '''
[data]
name = "iris"

[encoding]
type = "deepga"
max_conv_blocks = 1
max_dense = 1

[algorithm]
type = "nsga2"
population = 8
generations = 0

[[objectives]]
type = "accuracy"
epochs = 1

[[objectives]]
type = "my_fitness:predicted_mean"
'''


def _evokit(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "evokit"
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "evokit"]
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", logs.TF_WARNINGS)}
    return subprocess.run([*command, "run", str(tmp_path / "search.toml"), "--final-epochs", "0", *args],
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_evokit_run_quiet_prints_nothing_of_tensorflows_and_verbose_shows_its_warnings(tmp_path):
    (tmp_path / "my_fitness.py").write_text(textwrap.dedent(USER_FITNESS))
    (tmp_path / "search.toml").write_text(CONFIG)
    quiet = _evokit(tmp_path, "-q", "--workers", "2", "--run-dir", str(tmp_path / "quiet"))
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""  # no start-up line (parent or workers), no retracing warning
    verbose = _evokit(tmp_path, "-v", "--run-dir", str(tmp_path / "verbose"))
    assert verbose.returncode == 0, verbose.stderr
    assert "triggered tf.function retracing" in verbose.stderr  # the same search does warn: -v shows it
    assert not any(line in verbose.stderr for line in STARTUP_LINES)  # TF_CPP_MIN_LOG_LEVEL=3 (evokit's default)


CAPTURED_THEN = '''
import os, sys
from evokit import logs

with logs._stderr_captured() as captured:
    os.write(2, b"I0000 00:00:1.0 1 cudart_stub.cc:31] Could not find cuda drivers on your machine\\n")
    os.write(2, b"a line of another thread\\n")
    {then}
print(repr(captured))
'''


def _python(code: str) -> subprocess.CompletedProcess:
    """``code`` in a new interpreter, so that descriptor 2 is a real one (a pipe read here)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=60)


def test_a_line_that_is_not_a_start_up_line_reaches_the_real_stderr_and_a_fatal_one_before_an_abort():
    done = _python(CAPTURED_THEN.format(then="pass"))
    assert done.returncode == 0, done.stderr
    assert done.stderr == "a line of another thread\n"  # passed on; the start-up line held back
    assert "Could not find cuda drivers" in done.stdout
    fatal = b"F0000 00:00:1.0 1 cuda_executor.cc:1] Check failed: cuInit(0) == CUDA_SUCCESS\\n"
    aborted = _python(CAPTURED_THEN.format(then=f"os.write(2, {fatal!r}); os.abort()"))
    assert aborted.returncode != 0
    assert "a line of another thread\n" in aborted.stderr
    assert "Check failed: cuInit(0)" in aborted.stderr  # the reason of the abort, though it names cuInit
    assert "Could not find cuda drivers" in aborted.stderr  # nothing is lost when the process dies


def test_the_capture_works_without_sys_stderr():
    done = _python("""
        import os, sys
        from evokit import logs

        sys.stderr = None  # pythonw, a daemon
        with logs._stderr_captured() as captured:
            os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
        logs._write_stderr(captured)
        print(repr(captured))
    """)
    assert done.returncode == 0 and done.stderr == ""
    assert "absl::InitializeLog" in done.stdout


@pytest.mark.parametrize("line, startup", [
    (b"I0000 00:00:1.2 7 port.cc:153] oneDNN custom operations are on. You may see ...\n", True),
    (b"To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the "
     b"appropriate compiler flags.\n", True),
    (b"E0000 00:00:1.2 7 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error\n", True),
    (b"E0000 00:00:1.2 7 cuda_dnn.cc:8310] Unable to register cuDNN factory: Attempting to register factory "
     b"for plugin cuDNN when one has already been registered\n", True),
    (b"F0000 00:00:1.2 7 cuda_platform.cc:52] failed call to cuInit\n", False),
    (b"Fatal Python error: Segmentation fault\n", False),
    (b"Illegal instruction\n", False)])
def test_only_known_start_up_lines_are_held_back(line, startup):
    assert logs.is_startup_line(line) is startup
