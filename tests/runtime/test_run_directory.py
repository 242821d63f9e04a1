"""The run directory keeps what it is given: only evokit runs are written into, one run at a time,
appends and checkpoints on disk before they count, damaged files named (or set aside, for the cache)."""
import json
import os
import pickle
import signal
import stat
import subprocess
import sys
import warnings

import pytest

from evokit.errors import ConfigError
from evokit.evaluation import Evaluation
from evokit.runtime.candidates.cache import FitnessCache
from evokit.runtime.run import files
from evokit.runtime.run.checkpoint import load_checkpoint, save_checkpoint
from evokit.runtime.run.directory import RunDirectory, read_jsonl
from evokit.runtime.run.lock import LOCK


def _foreign(path):
    path.mkdir()
    (path / "config.json").write_text('{"theirs": true}')
    (path / "report.html").write_text("<p>someone else's report</p>")
    return {p.name: p.read_bytes() for p in path.iterdir()}


# --- item 4: a directory that is not a run is never written into -----------------------------------

@pytest.mark.parametrize("how", [{}, {"overwrite": True}, {"resume": True}])
def test_a_non_empty_directory_that_is_not_a_run_is_refused_untouched(tmp_path, how):
    before = _foreign(tmp_path / "theirs")
    with pytest.raises(ConfigError, match="run_dir=.*theirs.*not empty and holds no evokit run"):
        RunDirectory.open(tmp_path / "theirs", **how)
    assert {p.name: p.read_bytes() for p in (tmp_path / "theirs").iterdir()} == before


def test_overwrite_replaces_only_evokits_own_files(tmp_path):
    run_dir = RunDirectory.open(tmp_path / "run")
    run_dir.start()
    run_dir.write_json("config.json", {"encoding": "E", "objectives": [], "algorithm": "A"})
    run_dir.close()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="already holds a run"):
        RunDirectory.open(tmp_path / "run")
    again = RunDirectory.open(tmp_path / "run", overwrite=True)
    again.start()
    again.close()
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"
    assert (tmp_path / "run" / "candidates.jsonl").read_text() == ""


def test_a_run_written_before_the_lock_file_is_still_a_run(tmp_path):
    (tmp_path / "candidates.jsonl").write_text("")
    (tmp_path / "config.json").write_text(json.dumps({"encoding": "E", "objectives": [], "algorithm": "A"}))
    assert RunDirectory.is_run(tmp_path)
    RunDirectory.open(tmp_path, resume=True).close()
    (tmp_path / LOCK).unlink()
    (tmp_path / "config.json").write_text('{"theirs": true}')
    assert not RunDirectory.is_run(tmp_path)


# --- item 2: one run at a time ---------------------------------------------------------------------

def test_a_locked_directory_is_refused_naming_it_and_the_holders_pid(tmp_path):
    first = RunDirectory.open(tmp_path / "run")
    first.start()
    for how in ({"resume": True}, {}, {"overwrite": True}):  # resume, or a new run there
        with pytest.raises(ConfigError, match=rf"run_dir=.*run.* another evokit run \(pid {os.getpid()}\)"):
            RunDirectory.open(tmp_path / "run", **how)
    first.close()
    RunDirectory.open(tmp_path / "run", resume=True).close()  # released


def test_the_lock_dies_with_its_process(tmp_path):
    """kill -9 of the holder leaves no stale lock: the kernel releases a flock with the process."""
    code = ("import sys, time; from evokit.runtime.run.lock import RunLock; from pathlib import Path; "
            "RunLock(Path(sys.argv[1])).acquire(); print('locked', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    with pytest.raises(ConfigError, match=f"pid {proc.pid}"):
        RunDirectory.open(tmp_path, resume=True)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    RunDirectory.open(tmp_path, resume=True).close()


# --- item 7: durable appends and renames, and a short log is never padded -------------------------------

def _fsyncs(monkeypatch):
    calls = []
    real = os.fsync

    def fsync(fd):
        calls.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


def test_appends_are_on_disk_before_the_checkpoint_and_renames_are_flushed(tmp_path, monkeypatch):
    run_dir = RunDirectory(tmp_path)
    run_dir.start()
    calls = _fsyncs(monkeypatch)
    run_dir.append_candidates([{"generation": 0}, {"generation": 0}])
    assert calls == ["file"]
    save_checkpoint(tmp_path, {"n": 1})
    assert calls == ["file", "file", "dir"]  # the new file, then the directory entry of its rename


def test_a_log_shorter_than_its_checkpoint_is_cut_at_a_whole_record_never_padded(tmp_path):
    run_dir = RunDirectory(tmp_path)
    run_dir.start()
    run_dir.append_candidates([{"i": i} for i in range(3)])
    path = tmp_path / "candidates.jsonl"
    line = len(b'{"i": 0}\n')
    assert run_dir.cut_candidates(2 * line) is None  # longer than the checkpoint: the records after it dropped
    assert read_jsonl(path)[0] == [{"i": 0}, {"i": 1}]
    path.write_bytes(path.read_bytes()[:line + 3])  # shorter: cut in the middle of the 2nd record
    assert run_dir.cut_candidates(2 * line) == 1
    assert path.read_bytes() == b'{"i": 0}\n'  # cut after the last whole record, not padded with NUL bytes


# --- item 8: damaged checkpoints and caches ----------------------------------------------------------------

def test_an_unreadable_checkpoint_falls_back_to_the_previous_one(tmp_path):
    save_checkpoint(tmp_path, {"n": 1})
    save_checkpoint(tmp_path, {"n": 2})
    assert load_checkpoint(tmp_path)["n"] == 2
    (tmp_path / "checkpoint.pkl").write_bytes(b"\x80\x05garbage")
    with pytest.warns(UserWarning, match="checkpoint.pkl cannot be read.*resuming from checkpoint.pkl.prev"):
        assert load_checkpoint(tmp_path)["n"] == 1
    (tmp_path / "checkpoint.pkl").unlink()  # killed between moving it aside and writing the new one
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_checkpoint(tmp_path)["n"] == 1


@pytest.mark.parametrize("content", [b"", b"\x80\x05\x95", pickle.dumps([1, 2])])
def test_an_unreadable_checkpoint_without_a_fallback_is_a_config_error_naming_the_file(tmp_path, content):
    (tmp_path / "checkpoint.pkl").write_bytes(content)
    with pytest.raises(ConfigError, match=r"checkpoint\.pkl cannot be read.*start it again"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize("junk", [b"not a database at all" * 100, b""])
def test_an_unreadable_cache_is_set_aside_and_rebuilt(tmp_path, junk):
    path = tmp_path / "cache.sqlite"
    if junk:
        path.write_bytes(junk)
    else:  # a real database whose entry is a damaged pickle
        FitnessCache(path).close()
        import sqlite3
        with sqlite3.connect(path) as db:
            db.execute("INSERT INTO evaluations VALUES ('k', ?)", (b"\x80\x05junk",))
    with pytest.warns(UserWarning, match=r"cache.sqlite cannot be read.*set aside as cache.sqlite.corrupt-1"):
        cache = FitnessCache(path)
    assert len(cache) == 0 and (tmp_path / "cache.sqlite.corrupt-1").exists()
    cache.put("a", Evaluation(spec=None, status="untrained"))
    cache.close()
    assert "a" in FitnessCache(path)  # the new file works


def test_the_pause_hook_does_nothing_without_its_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(files.PAUSE_VARIABLE, raising=False)
    files.pause_for_tests("append", tmp_path)
    assert not list(tmp_path.iterdir())
