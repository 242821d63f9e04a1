"""Nothing lost: checkpoints, resume after kill -9 and Ctrl-C, in real processes with real signals.

Kills are placed by progress (after the k-th training, or while the run is paused halfway through
an append of candidates.jsonl or between moving the old checkpoint aside and putting the new one in
place, with the ``EVOKIT_TEST_PAUSE_AT`` hook of ``evokit.runtime.run.files``), never by the clock,
so a faster machine still kills mid-run.
"""
import json
import os
import random
import shutil
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


STATS = ("trained", "cache_hits", "evaluated", "failures", "generations")


def stats(run_dir):
    """The counts of a finished run's summary.json that a resumed run must reproduce."""
    summary = json.loads((Path(run_dir) / "summary.json").read_text())
    return {k: summary["stats"][k] for k in STATS}


def _env(**extra):
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parent), str(HERE)]), TF_CPP_MIN_LOG_LEVEL="3",
                **extra)


def start(run_dir, pause=None):
    """Start the tiny run in a process; ``pause="append:2"`` pauses it at the 2nd append (see module doc)."""
    for stale in Path(run_dir).glob("paused-at-*"):
        stale.unlink()
    env = _env(**({"EVOKIT_TEST_PAUSE_AT": pause, "EVOKIT_TEST_PAUSE_S": "120"} if pause else {}))
    return subprocess.Popen([sys.executable, str(SCRIPT), str(run_dir)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def trainings(run_dir):
    path = Path(run_dir) / "trainings.log"
    hashes = path.read_text().split() if path.exists() else []
    return len(hashes), len(set(hashes))


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """The same search, never interrupted (its directory)."""
    run_dir = tmp_path_factory.mktemp("reference")
    proc = start(run_dir)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    return run_dir


@pytest.fixture(scope="module")
def reference(reference_run):
    """The uninterrupted run's final population and hall of fame."""
    return final_state(reference_run)


@pytest.fixture(scope="module")
def reference_stats(reference_run):
    """The uninterrupted run's counts (summary.json) and how many networks it trained."""
    return stats(reference_run), trainings(reference_run)[0]


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


def test_counts_after_a_resume_equal_the_uninterrupted_runs(tmp_path, reference_run, reference_stats):
    """A killed run's cache holds the networks it trained after its last checkpoint (here: every
    network of the whole run): resumed, they count as trained, not as cache hits, so summary.json
    has the uninterrupted run's counts, and nothing is trained again."""
    sys.path.insert(0, str(HERE))
    from _resumable_run import make_search

    make_search(tmp_path, generations=2).run()
    before = trainings(tmp_path)[0]
    shutil.copyfile(reference_run / "cache.sqlite", tmp_path / "cache.sqlite")
    result = _with_budget(make_search(tmp_path), 5).run(resume=True)
    assert {k: result.stats[k] for k in STATS} == stats(tmp_path) == reference_stats[0]
    assert result.stats["trained"] + result.stats["cache_hits"] <= result.stats["evaluated"]
    assert trainings(tmp_path)[0] == before


def _with_budget(search, generations):
    search.budget = ek.Budget(generations=generations)
    return search


def _wait_for_trainings(run_dir, proc, count, timeout=120.0):
    """Until ``count`` trainings are logged in all, or the run ended."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and trainings(run_dir)[0] < count and time.monotonic() < deadline:
        time.sleep(0.02)


def kill_at(run_dir, moment, rng):
    """Start the run, kill -9 it at ``moment`` and return whether it was killed (not finished).

    ``("train", k)``: once k more networks are trained (plus up to 0.3 s); ``("append", n)`` /
    ``("checkpoint", n)``: while the run is paused at its n-th append / checkpoint replacement.
    """
    kind, n = moment
    proc = start(run_dir, pause=None if kind == "train" else f"{kind}:{n}")
    if kind == "train":
        _wait_for_trainings(run_dir, proc, trainings(run_dir)[0] + n)
        time.sleep(rng.uniform(0.0, 0.3))
    else:
        deadline = time.monotonic() + 120
        while proc.poll() is None and not (Path(run_dir) / f"paused-at-{kind}").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return killed


def finish_and_check(run_dir, reference, reference_stats):
    """Resume to the end: the same end and counts as the uninterrupted run, no network trained twice,
    one whole record per evaluation."""
    proc = start(run_dir)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert final_state(run_dir) == reference
    assert stats(run_dir) == reference_stats[0]
    total, distinct = trainings(run_dir)
    assert total == distinct, f"{total - distinct} networks were trained again after a resume"
    assert distinct <= reference_stats[1]  # (one killed after caching its result, before logging it, is not logged)
    assert b"\0" not in (Path(run_dir) / "candidates.jsonl").read_bytes()
    records = ek.runtime.read_candidates(run_dir)  # strict: every line whole
    assert len(records) == sum(row["evaluated"] for row in load_checkpoint(run_dir)["rows"])


def test_kill_9_three_times_by_progress_then_resume_matches(tmp_path, reference, reference_stats):
    """One run killed three times: after trainings, halfway through an append of candidates.jsonl
    and between moving the old checkpoint aside and writing the new one; it ends as if never
    killed, with the same counts in summary.json (cache hits included). The slow suite kills at
    20 moments."""
    rng = random.Random(0)
    moments = [("train", 2), ("append", 1), ("checkpoint", 1)]
    kills = sum(kill_at(tmp_path, moment, rng) for moment in moments)
    assert kills >= 2
    finish_and_check(tmp_path, reference, reference_stats)


def _moments(total):
    """20 moments spread over a run that trains ``total`` networks: 10 by trainings, 5 appends, 5 checkpoints."""
    return ([("train", max(1, round(total * i / 11))) for i in range(1, 11)] + [("append", n) for n in range(1, 6)]
            + [("checkpoint", n) for n in range(1, 6)])


@pytest.mark.slow
@pytest.mark.parametrize("which", range(20))
def test_kill_9_at_each_of_20_moments_then_resume_matches(tmp_path, reference, reference_stats, which):
    moment = _moments(reference_stats[1])[which]
    assert kill_at(tmp_path, moment, random.Random(which)), f"the run ended before {moment}"
    finish_and_check(tmp_path, reference, reference_stats)


def test_a_second_run_in_a_locked_directory_is_refused_naming_the_holder(tmp_path, reference, reference_stats):
    """Two real processes: while one runs (held at a checkpoint), `evokit resume` and a Search on
    the same directory exit with one line naming the directory and the holder's pid; once the holder
    is killed -9 the lock is gone with it and the run resumes to the same end."""
    holder = start(tmp_path, pause="checkpoint:1")
    deadline = time.monotonic() + 120
    while holder.poll() is None and not (tmp_path / "paused-at-checkpoint").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert holder.poll() is None
    cli = subprocess.Popen([sys.executable, "-m", "evokit", "resume", str(tmp_path), "-q"], env=_env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = start(tmp_path)  # a Search(run_dir=...).run(resume=True), side by side
    _, err = cli.communicate(timeout=120)
    assert cli.returncode == 2
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert str(tmp_path) in line and f"pid {holder.pid}" in line
    assert second.wait(timeout=120) != 0
    assert f"pid {holder.pid}" in second.stderr.read()
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=60)
    finish_and_check(tmp_path, reference, reference_stats)


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
