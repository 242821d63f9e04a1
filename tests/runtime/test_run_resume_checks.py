"""What resume refuses and what it survives: another run's settings (refused, naming the field), a
damaged checkpoint, saved search or cache (named, or set aside), a candidate log cut short.

The searches here score ParameterCount only, so nothing is trained and each run takes a second.
"""
import json
import warnings

import pytest

import evokit as ek
from evokit.cli import main
from evokit.errors import ConfigError
from evokit.runtime.run.checkpoint import load_checkpoint
from evokit.runtime.run.directory import read_jsonl


def _search(run_dir, data, encoding, seed=0, generations=1, objectives=None, **kw):
    return ek.Search(encoding=encoding, objectives=objectives or ek.fitness.ParameterCount(), data=data,
                     algorithm=ek.algorithms.GA(population=4, generations=generations), seed=seed, run_dir=run_dir,
                     progress=False, **kw)


@pytest.fixture
def run(tmp_path, small_digits, tiny_encoding):
    """A finished one-generation run (generations 0 and 1) in ``tmp_path/run``."""
    _search(tmp_path / "run", small_digits, tiny_encoding).run()
    return tmp_path / "run"


def test_the_run_records_its_identity(run, small_digits):
    identity = json.loads((run / "config.json").read_text())["identity"]
    assert identity["seed"] == 0 and identity["data"] == f"fingerprint {small_digits.fingerprint}"
    assert {"encoding", "objectives", "training", "probes", "algorithm", "constraints", "fidelity"} <= set(identity)


def _other_run(field, run, digits, small_digits, tiny_encoding):
    """The search of ``run`` (for 2 generations) with ``field`` changed."""
    kw = {"data": small_digits, "encoding": tiny_encoding, "generations": 2}
    kw.update({"seed": {"seed": 1}, "data": {"data": digits.subset(n_train=200, n_val=100, seed=1)},
               "encoding": {"encoding": ek.encodings.DeepGA(max_conv_blocks=1, max_dense=1, filters=(4,), units=(8,))},
               "objectives": {"objectives": ek.fitness.FLOPs()},
               "constraints": {"constraints": [ek.fitness.MaxParams(1000)]}}.get(field, {}))
    search = _search(run, **kw)
    if field == "algorithm":
        search.algorithm = ek.algorithms.GA(population=6, generations=2)
    return search


@pytest.mark.parametrize("field", ["seed", "data", "encoding", "objectives", "algorithm", "constraints"])
def test_resume_refuses_another_run_naming_the_field(run, digits, small_digits, tiny_encoding, field):
    search = _other_run(field, run, digits, small_digits, tiny_encoding)
    before = (run / "candidates.jsonl").read_bytes()
    with pytest.raises(ConfigError, match=rf"^{field}(\[.*\])?=.* is invalid: the run in .* was made with {field}(\[.*\])?="):
        search.run(resume=True)
    assert (run / "candidates.jsonl").read_bytes() == before  # nothing written


def test_a_recorded_training_setting_that_differs_is_refused(run, small_digits, tiny_encoding):
    config = json.loads((run / "config.json").read_text())
    config["identity"]["training"] = "epochs=9"
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="^training=None is invalid: .*training='epochs=9'"):
        _search(run, small_digits, tiny_encoding, generations=2).run(resume=True)


def test_a_long_value_that_differs_is_named_where_it_differs(run):
    from evokit.runtime.run.directory import RunDirectory

    config = json.loads((run / "config.json").read_text())
    seeds = [{"conv": [4, 8, 16], "head": "flatten"} for _ in range(10)]
    config["identity"]["initial_population"] = [*seeds[:9], {"conv": [4, 8, 32], "head": "flatten"}]
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match=r"^initial_population\[9\]\['conv'\]\[2\]=16 is invalid: .* was made "
                                          r"with initial_population\[9\]\['conv'\]\[2\]=32;") as raised:
        RunDirectory(run, resume=True).check_identity({**config["identity"], "initial_population": seeds})
    assert len(str(raised.value)) < 400


def test_a_long_string_that_differs_is_shown_around_its_difference():
    from evokit.runtime.run.directory import first_difference

    here, there = "DeepGA(" + "x" * 300 + "pools=('max',))", "DeepGA(" + "x" * 300 + "pools=('avg',))"
    where, shown_here, shown_there = first_difference(here, there)
    assert where == "" and "pools=('max',))" in shown_here and "pools=('avg',))" in shown_there
    assert shown_here.startswith("...") and len(shown_here) < 120
    assert first_difference([1, {"a": "b"}], [1, {"a": "c"}]) == ("[1]['a']", "'b'", "'c'")
    assert first_difference([1, 2], [1, 2, 3]) == ("", "[1, 2]", "[1, 2, 3]")


def test_resume_may_change_budget_workers_and_final_training(run, small_digits, tiny_encoding):
    result = _search(run, small_digits, tiny_encoding, generations=3, workers=ek.runtime.SerialEvaluator(),
                     final_training=2, hall_of_fame=3).run(resume=True)
    assert result.stats["generations"] == 3


def test_a_run_without_a_recorded_identity_resumes(run, small_digits, tiny_encoding):
    config = json.loads((run / "config.json").read_text())
    del config["identity"]  # as written by evokit before identities
    (run / "config.json").write_text(json.dumps(config))
    assert _search(run, small_digits, tiny_encoding, seed=5, generations=2).run(resume=True).stats["generations"] == 2


# --- damaged files through the command line: one line naming the file, exit 2 -----------------------------

def _resume(run, capsys, *more):
    code = main(["resume", str(run), "-q", *more])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("content", [b"", b"\x80\x05\x95\x10\x00"])
def test_a_damaged_checkpoint_with_no_fallback_exits_2_naming_it(run, capsys, content):
    (run / "checkpoint.pkl.prev").unlink(missing_ok=True)
    (run / "checkpoint.pkl").write_bytes(content)
    code, err = _resume(run, capsys)
    assert code == 2
    assert "checkpoint.pkl cannot be read" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_damaged_checkpoint_resumes_from_the_previous_one(run, capsys):
    previous = load_checkpoint(run)["state"].generation - 1
    (run / "checkpoint.pkl").write_bytes(b"\x80\x05\x95")
    with pytest.warns(UserWarning, match="resuming from checkpoint.pkl.prev"):
        code, _ = _resume(run, capsys, "--generations", "2")
    assert code == 0 and previous == 0
    assert load_checkpoint(run)["state"].generation == 2
    assert len(ek.runtime.read_candidates(run)) == sum(r["evaluated"] for r in load_checkpoint(run)["rows"])


def test_a_damaged_saved_search_exits_2_naming_it(run, capsys):
    (run / "search.pkl").write_bytes(b"\x80\x05junk")
    code, err = _resume(run, capsys)
    assert code == 2 and "search.pkl cannot be read" in err and len(err.strip().splitlines()) == 1


def test_a_junk_cache_is_set_aside_and_the_run_resumes(run, capsys):
    (run / "cache.sqlite").write_bytes(b"this is not SQLite" * 64)
    with pytest.warns(UserWarning, match="cache.sqlite cannot be read"):
        code, _ = _resume(run, capsys, "--generations", "2")
    assert code == 0
    assert (run / "cache.sqlite.corrupt-1").read_bytes().startswith(b"this is not SQLite")
    assert (run / "cache.sqlite").read_bytes().startswith(b"SQLite format 3")


def test_a_candidate_log_shorter_than_its_checkpoint_is_recovered_not_padded(run, capsys):
    path = run / "candidates.jsonl"
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])  # records not on disk when the machine stopped
    with pytest.warns(UserWarning, match=r"candidates.jsonl is shorter than its checkpoint expects: \d+ record"):
        code, _ = _resume(run, capsys, "--generations", "2")
    assert code == 0
    assert b"\0" not in path.read_bytes()
    records, skipped = read_jsonl(path)  # strict: every line whole
    assert skipped == 0 and records[-1]["generation"] == 2


def test_a_non_run_directory_is_refused_by_the_command_line(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "search.pkl").write_bytes(b"not ours")
    with warnings.catch_warnings():
        code, err = _resume(tmp_path, capsys)
    assert code == 2 and "holds no evokit run" in err and (tmp_path / "config.json").read_text() == "{}"
