"""Nothing lost: checkpoints, resume after kill -9 and Ctrl-C, in real processes with real signals."""
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import evokit as ek
from evokit.runtime.run.checkpoint import load_checkpoint

HERE = Path(__file__).parent
SCRIPT = HERE / "_resumable_run.py"


def final_state(run_dir):
    """The final population and hall of fame of a finished run, from its last checkpoint."""
    payload = load_checkpoint(Path(run_dir))
    population = sorted((repr(ind), ind.fitness.values) for ind in payload["state"].population)
    hof = [(repr(ind), ind.fitness.values) for ind in payload["hof"]]
    return payload["state"].generation, population, hof


def start(run_dir):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parent), str(HERE)]))
    return subprocess.Popen([sys.executable, str(SCRIPT), str(run_dir)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def trainings(run_dir):
    path = Path(run_dir) / "trainings.log"
    hashes = path.read_text().split() if path.exists() else []
    return len(hashes), len(set(hashes))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same search, never interrupted."""
    run_dir = tmp_path_factory.mktemp("reference")
    proc = start(run_dir)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    return final_state(run_dir)


def test_resumed_run_in_process_matches_an_uninterrupted_one(tmp_path, reference):
    sys.path.insert(0, str(HERE))
    from _resumable_run import make_search

    make_search(tmp_path, generations=2).run()                 # stops early ...
    assert load_checkpoint(tmp_path)["state"].generation == 2
    result = _with_budget(make_search(tmp_path), 5).run(resume=True)  # ... and continues
    assert final_state(tmp_path) == reference
    assert result.stats["generations"] == 5
    total, distinct = trainings(tmp_path)
    assert total == distinct  # no network trained twice


def _with_budget(search, generations):
    search.budget = ek.Budget(generations=generations)
    return search


def _wait_for_trainings(run_dir, proc, count, timeout=120.0):
    """Until ``count`` trainings are logged in all, or the run ended."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and trainings(run_dir)[0] < count and time.monotonic() < deadline:
        time.sleep(0.02)


def test_kill_9_at_random_moments_then_resume_matches(tmp_path, reference):
    """Killed three times mid-run: at a random point after 1-3 more trainings each time (a
    moment by progress, not by the clock, so a faster machine or library still kills mid-run)."""
    rng = random.Random(0)
    kills = 0
    for _ in range(3):
        proc = start(tmp_path)
        _wait_for_trainings(tmp_path, proc, trainings(tmp_path)[0] + rng.randint(1, 3))
        time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
    proc = start(tmp_path)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert kills >= 2
    assert final_state(tmp_path) == reference
    total, distinct = trainings(tmp_path)
    assert total == distinct, f"{total - distinct} networks were trained again after a resume"
    records = ek.runtime.read_candidates(tmp_path)  # one record per evaluation: none lost, none twice
    assert len(records) == sum(row["evaluated"] for row in load_checkpoint(tmp_path)["rows"])


def test_ctrl_c_stops_cleanly_after_the_generation_and_resumes(tmp_path, reference):
    proc = start(tmp_path)
    deadline = time.time() + 120
    while not (tmp_path / "checkpoint.pkl").exists() and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "stopping after this generation" in err
    summary = (tmp_path / "summary.json").read_text()
    assert '"stopped_by": "interrupted"' in summary
    assert load_checkpoint(tmp_path)["state"].generation < 5
    proc = start(tmp_path)
    assert proc.wait(timeout=300) == 0
    assert final_state(tmp_path) == reference


def test_resume_needs_a_run_dir_and_a_saved_search(tmp_path, small_digits, tiny_encoding):
    with pytest.raises(ek.errors.ConfigError, match="run_dir"):
        ek.Search(encoding=tiny_encoding, objectives=ek.fitness.ParameterCount(), data=small_digits).run(resume=True)
    with pytest.raises(ek.errors.ConfigError, match="saved search"):
        ek.resume(tmp_path)
