"""The evokit command, in-process through ``main(argv)`` (one subprocess test for the entry point)."""
import contextlib
import io
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import evokit as ek
from evokit import cli
from evokit.cli import main


def test_default_run_prints_table_test_accuracy_and_run_dir_then_resumes_for_more_generations(tmp_path, capsys):
    run_dir = tmp_path / "r"
    code = main(["run", "--population", "3", "--generations", "1", "--epochs", "1", "--final-epochs", "2",
                 "--run-dir", str(run_dir), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "best candidates" in out and "params" in out
    assert "test accuracy: 0." in out
    assert f"run directory: {run_dir}" in out
    assert (run_dir / "best.keras").is_file()
    assert main(["resume", str(run_dir), "--generations", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy: 0." in out and "run directory" in out
    assert "retrained after the search" in out  # the run's own final training, which a resume keeps
    rows = (run_dir / "generations.csv").read_text().splitlines()
    assert len(rows) == 1 + 3  # header + generations 0, 1, 2


def test_bad_input_exits_2_with_a_message_naming_the_field(capsys):
    assert main(["run", "--dataset", "imagenet"]) == 2
    err = capsys.readouterr().err
    assert "--dataset" in err and "imagenet" in err
    assert main(["run", "--population", "1", "--quiet"]) == 2
    assert "population=1" in capsys.readouterr().err


def test_run_compact_prints_a_front_of_small_networks(tmp_path, capsys):
    run_dir = tmp_path / "c"
    code = main(["run", "--compact", "--population", "2", "--generations", "0", "--final-epochs", "0",
                 "--run-dir", str(run_dir), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Pareto front" in out and "val_accuracy" in out and "test accuracy: 0." in out
    assert "as trained in the search" in out and f"evokit export {run_dir} --pareto" in out
    records = [json.loads(line) for line in (run_dir / "candidates.jsonl").read_text().splitlines()]
    encoding = ek.presets.compact_space()
    seeds = ek.presets.compact_seeds()  # a population of 2 starts at both ends of the ladder
    assert [r["genotype"] for r in records] == [encoding.to_json(g) for g in (seeds[0], seeds[-1])]


def test_run_compact_refuses_what_it_does_not_take(tmp_path, capsys):
    for argv, named in ((["--epochs", "2"], "--epochs=2"), (["--final-epochs", "-1"], "--final-epochs=-1"),
                        (["--dataset", "diabetes"], "regression data"), (["--dataset", "languages"], "text data"),
                        (["--dataset", "wine"], "table data")):
        assert main(["run", "--compact", *argv, "--quiet"]) == 2
        assert named in capsys.readouterr().err
    (tmp_path / "c.toml").write_text('[data]\nname = "digits"\n')
    assert main(["run", str(tmp_path / "c.toml"), "--compact", "--quiet"]) == 2
    assert "--compact is invalid with a config file" in capsys.readouterr().err


def test_resume_of_a_directory_without_a_run_exits_2(tmp_path, capsys):
    assert main(["resume", str(tmp_path)]) == 2
    assert "saved search" in capsys.readouterr().err


# --- config files, report, export, compare, progress and exit codes ---------------------------------

TINY = """
seed = 0
[data]
name = "digits"
n_train = 240
n_val = 100
[encoding]
type = "deepga"
max_conv_blocks = 2
max_dense = 1
filters = [4, 8]
units = [8, 16]
[[objectives]]
type = "accuracy"
epochs = 1
[[objectives]]
type = "params"
[algorithm]
type = "nsga2"
population = 4
generations = 1
"""

UNTRAINED = """
[encoding]
type = "deepga"
max_conv_blocks = 2
[[objectives]]
type = "params"
[algorithm]
type = "ga"
population = 4
generations = 1
"""


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A finished NSGA-II run (accuracy, parameters) made by `evokit run CONFIG`, and its output."""
    root = tmp_path_factory.mktemp("cli")
    (root / "tiny.toml").write_text(TINY)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", str(root / "tiny.toml"), "--run-dir", str(root / "run"), "-q"])
    return root / "run", code, out.getvalue()


def test_run_a_config_file_on_digits(tiny_run):
    run_dir, code, out = tiny_run
    assert code == 0
    assert "Pareto front" in out and "val_accuracy" in out and f"run directory: {run_dir}" in out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["stats"]["generations"] == 1 and list(summary["best"]["values"]) == ["val_accuracy", "params"]
    assert (run_dir / "best.keras").is_file() and (run_dir / "search.pkl").is_file()


def test_export_pareto_rebuilds_loadable_models_with_the_same_params_and_accuracy(tiny_run, tmp_path, capsys):
    import keras

    run_dir = tiny_run[0]
    assert main(["export", str(run_dir), "--pareto", "--out", str(tmp_path), "-q"]) == 0
    manifest = json.loads((tmp_path / "pareto.json").read_text())
    front = json.loads((run_dir / "summary.json").read_text())["hall_of_fame"]
    assert len(manifest) == len(front) >= 1
    assert capsys.readouterr().out.count("model: ") == len(front)
    for entry, member in zip(manifest, front):
        model = keras.models.load_model(tmp_path / entry["file"])
        assert model.count_params() == member["params"] == member["values"]["params"] == entry["params"]
        # retrained with the seed the search used: the same validation accuracy as recorded
        assert abs(entry["rebuilt_metrics"]["val_accuracy"] - member["values"]["val_accuracy"]) <= 0.02


def test_export_best_copies_best_keras_or_rebuilds_it(tiny_run, tmp_path):
    import keras

    run_dir = tiny_run[0]
    assert main(["export", str(run_dir), "--out", str(tmp_path / "a"), "-q"]) == 0
    original = keras.models.load_model(run_dir / "best.keras")
    assert (tmp_path / "a" / "best.keras").read_bytes() == (run_dir / "best.keras").read_bytes()
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "best.keras").unlink()
    assert main(["export", str(copy), "-q"]) == 0  # default --out: RUN_DIR/export
    rebuilt = keras.models.load_model(copy / "export" / "best.keras")
    assert rebuilt.count_params() == original.count_params()
    # trained again with the run's seed: the same network as the search's
    x = ek.datasets.load("digits").x_test[:200]
    assert np.allclose(rebuilt.predict(x, verbose=0), original.predict(x, verbose=0), atol=1e-3)


def test_report_regenerates_the_plot_and_the_html_report(tiny_run, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(tiny_run[0], copy)
    (copy / "fitness.png").unlink()
    assert main(["report", str(copy), "-q"]) == 0
    out = capsys.readouterr().out
    assert (copy / "fitness.png").stat().st_size > 1000 and (copy / "report.html").is_file()
    assert str(copy / "report.html") in out


def test_report_and_export_of_a_directory_without_a_run_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "holds no run" in capsys.readouterr().err
    assert main(["export", str(tmp_path), "--pareto"]) == 2
    assert "no summary.json" in capsys.readouterr().err


def test_config_errors_exit_2_naming_the_key(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[algorithm]\ntype = 'ga'\npopulaton = 4\n")
    assert main(["run", str(bad), "-q"]) == 2
    assert "algorithm.populaton: unknown key; allowed: type, population" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert "missing.toml" in err and "no such file" in err
    good = tmp_path / "good.toml"
    good.write_text(UNTRAINED)
    assert main(["run", str(good), "--epochs", "3"]) == 2
    assert "--epochs=3 is invalid with a config file" in capsys.readouterr().err
    assert main(["run", str(good), "--generations", "-1", "-q"]) == 2
    assert "budget.generations=-1 is invalid" in capsys.readouterr().err


def test_command_line_options_override_the_config(tmp_path, capsys):
    cfg = tmp_path / "search.toml"
    cfg.write_text(f"run_dir = '{tmp_path / 'ignored'}'\nseed = 1\n" + UNTRAINED)
    run_dir = tmp_path / "r"
    assert main(["run", str(cfg), "--run-dir", str(run_dir), "--generations", "2", "--population", "3",
                 "--seed", "5", "--dataset", "iris", "-q"]) == 0
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["seed"] == 5 and saved["data"] == "iris" and saved["budget"]["generations"] == 2
    assert "population=3" in saved["algorithm"]
    assert len((run_dir / "generations.csv").read_text().splitlines()) == 1 + 3
    assert not (tmp_path / "ignored").exists()


def test_progress_bar_quiet_and_verbose(tmp_path, capsys):
    cfg = tmp_path / "search.toml"
    cfg.write_text(UNTRAINED)
    assert main(["run", str(cfg), "--run-dir", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "gen" in err and "trained=" in err and "cache=" in err and "failed=" in err and "best=" in err
    assert "evokit: run:" in err  # the info message
    assert main(["run", str(cfg), "--run-dir", str(tmp_path / "b"), "-q"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["run", str(cfg), "--run-dir", str(tmp_path / "c"), "-v"]) == 0
    err = capsys.readouterr().err
    assert "DEBUG: configuration:" in err and "trained=" in err
    logger = logging.getLogger("evokit")  # main() leaves the caller's logging as it found it
    assert logger.propagate and logger.level == logging.NOTSET and not logger.handlers


FAILING_ALGORITHM = '''
from evokit.algorithms.ga import GA


class Broken(GA):
    def initialize(self, toolbox, evaluate):
        raise RuntimeError("the algorithm broke")
'''


def test_a_failing_run_exits_1_with_one_line_and_the_traceback_with_v(tmp_path, monkeypatch, capsys):
    (tmp_path / "broken_algorithm.py").write_text(FAILING_ALGORITHM)
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = tmp_path / "broken.toml"
    cfg.write_text(UNTRAINED.replace('type = "ga"', 'type = "broken_algorithm:Broken"'))
    assert main(["run", str(cfg), "--run-dir", str(tmp_path / "a"), "-q"]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["evokit: the run failed: RuntimeError: the algorithm broke (run with -v for "
                                        "the traceback)"]
    assert main(["run", str(cfg), "--run-dir", str(tmp_path / "b"), "-v"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "the algorithm broke" in err


def test_a_compare_with_a_failing_search_exits_1_and_names_it(tmp_path, monkeypatch, capsys):
    (tmp_path / "broken_algorithm.py").write_text(FAILING_ALGORITHM)
    monkeypatch.syspath_prepend(str(tmp_path))
    good, broken = tmp_path / "good.toml", tmp_path / "broken.toml"
    good.write_text(UNTRAINED)
    broken.write_text(UNTRAINED.replace('type = "ga"', 'type = "broken_algorithm:Broken"'))
    assert main(["compare", str(good), str(broken), "--generations", "1", "-q"]) == 1
    captured = capsys.readouterr()
    assert "good" in captured.out and "broken seed 0 failed: RuntimeError: the algorithm broke" in captured.err


def test_compare_config_files_side_by_side_and_reject_unknown_names(tmp_path, capsys):
    a, b = tmp_path / "small.toml", tmp_path / "wide.toml"
    a.write_text(UNTRAINED)
    b.write_text(UNTRAINED.replace("max_conv_blocks = 2", "max_conv_blocks = 3"))
    assert main(["compare", str(a), str(b), "--seeds", "0", "1", "--generations", "1", "--out",
                 str(tmp_path / "cmp"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "small" in out and "wide" in out and f"comparison directory: {tmp_path / 'cmp'}" in out
    assert (tmp_path / "cmp" / "small" / "seed1").is_dir()
    assert main(["compare", "deepga", "hillclimb", "-q"]) == 2
    err = capsys.readouterr().err
    assert "search='hillclimb' is invalid: expected a preset (deepga, neat, pso, gp) or a TOML config file" in err
    assert main(["compare", str(a), str(a)]) == 2
    assert "already in the comparison" in capsys.readouterr().err


def test_help_of_every_command_shows_examples(capsys):
    for argv in (["--help"], ["run", "--help"], ["resume", "--help"], ["report", "--help"], ["compare", "--help"],
                 ["export", "--help"]):
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert "examples:" in out and "exit codes" in out, argv
    assert main([]) == 2 and main(["explode"]) == 2 and main(["run", "--seed", "x"]) == 2
    assert main(["run", "-q", "-v"]) == 2  # not allowed together


def test_entry_point_exit_codes(tmp_path):
    # the installed console script (setup.cfg's entry point) where the package is installed, as in CI;
    # from a source checkout, the same main() through ``python -m evokit``
    script = Path(sys.executable).parent / "evokit"
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "evokit"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[budget]\ngenerations = 'many'\n")
    ok = subprocess.run([*command, "compare", "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "examples:" in ok.stdout
    out = subprocess.run([*command, "run", str(bad)], capture_output=True, text=True)
    assert out.returncode == 2 and "budget.generations='many' is invalid" in out.stderr
    assert "Traceback" not in out.stderr
    usage = subprocess.run([*command, "export"], capture_output=True, text=True)
    assert usage.returncode == 2 and "run_dir" in usage.stderr
    (tmp_path / "broken_algorithm.py").write_text(FAILING_ALGORITHM)
    broken = tmp_path / "broken.toml"
    broken.write_text(UNTRAINED.replace('type = "ga"', 'type = "broken_algorithm:Broken"'))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    failed = subprocess.run([*command, "run", str(broken), "--run-dir", str(tmp_path / "r"), "-q"], capture_output=True,
                            text=True, env=env)
    assert failed.returncode == 1 and "the run failed: RuntimeError: the algorithm broke" in failed.stderr


# --- config files are data; one rule for --workers; bounds (issue 16, items 1, 10 and 13) -------------

def test_a_config_that_names_a_shell_command_exits_2_and_runs_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "evil.toml"
    cfg.write_text('[encoding]\ntype = "os:system"\ncommand = "echo PWNED > pwned.txt"\n')
    assert main(["run", str(cfg), "-q"]) == 2  # evokit run allows imports for a local file: still no Encoding
    err = capsys.readouterr().err
    assert "encoding.type='os:system' is invalid: expected a subclass of evokit.encodings.base.Encoding" in err
    assert main(["compare", str(cfg), "-q"]) == 2
    assert "encoding.type='os:system' is invalid" in capsys.readouterr().err
    assert not (tmp_path / "pwned.txt").exists() and not (tmp_path / "runs").exists()


OWN_OBJECTIVE = "def size(evaluation):\n    return float(evaluation.params)\n"


def test_run_a_config_whose_objective_module_sits_beside_it(tmp_path, capsys):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "cli16_objectives.py").write_text(OWN_OBJECTIVE)
    cfg = folder / "search.toml"
    cfg.write_text(UNTRAINED.replace('type = "params"', 'type = "cli16_objectives:size"\nweight = -1.0\n'
                                                        'needs_training = false'))
    path_before = list(sys.path)
    assert main(["run", str(cfg), "--run-dir", str(tmp_path / "r"), "-q"]) == 0  # no PYTHONPATH needed
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert list(summary["best"]["values"]) == ["size"]
    assert sys.path == path_before


def test_workers_below_one_is_bad_input_with_or_without_a_config(tmp_path, capsys):
    cfg = tmp_path / "search.toml"
    cfg.write_text(UNTRAINED)
    for argv in (["run", str(cfg), "--workers", "0", "--run-dir", str(tmp_path / "a"), "-q"],
                 ["run", "--workers", "0", "--run-dir", str(tmp_path / "b"), "-q"],
                 ["compare", str(cfg), "--workers", "0", "--out", str(tmp_path / "c"), "-q"],
                 ["resume", str(tmp_path / "a"), "--workers", "-1", "-q"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "workers=" in err and "is invalid: expected an integer >= 1" in err, (argv, err)
    assert not any((tmp_path / name).exists() for name in "abc")


def test_a_population_over_the_bound_is_refused_before_the_run(tmp_path, capsys):
    cfg = tmp_path / "search.toml"
    cfg.write_text(UNTRAINED)
    assert main(["run", str(cfg), "--population", "10000000000", "--run-dir", str(tmp_path / "a"), "-q"]) == 2
    assert "algorithm.population=10000000000 is invalid: expected an integer <= 100000" in capsys.readouterr().err
    assert main(["run", "--population", "10000000000", "--run-dir", str(tmp_path / "b"), "-q"]) == 2
    assert "population=10000000000 is invalid: expected an integer <= 100000" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_help_says_a_config_file_is_trusted_and_how_to_load_one_that_is_not(capsys):
    for command in ("run", "compare"):
        assert main([command, "--help"]) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert "trusted like a script" in out and "allow_imports=True" in out, command


# --- regression: the CLI, the report and a comparison show R², not accuracy -------------------------

REGRESSION = """
seed = 0
[data]
name = "diabetes"
n_train = 120
n_val = 60
[encoding]
type = "deepga"
min_conv_blocks = 0
max_conv_blocks = 1
max_dense = 1
units = [4, 8]
[[objectives]]
type = "evokit.fitness.regression:ValidationR2"
epochs = 1
learning_rate = 0.05
loss = "huber"
[algorithm]
type = "ga"
population = 3
generations = 1
"""


def test_a_regression_run_prints_and_reports_r2_not_accuracy(tmp_path, capsys):
    cfg, run_dir = tmp_path / "diabetes.toml", tmp_path / "run"
    cfg.write_text(REGRESSION)
    assert main(["run", str(cfg), "--run-dir", str(run_dir), "--final-epochs", "2", "-q"]) == 0
    out = capsys.readouterr().out
    summary = json.loads((run_dir / "summary.json").read_text())
    scores = summary["test_scores"]
    assert {"test_r2", "test_mae", "test_rmse", "test_mse", "test_loss"} <= set(scores)
    assert "test_accuracy" not in scores and "accuracy" not in out
    assert "best candidates (validation R² after the search's short training):" in out and "val_R²" in out
    assert f"test R²: {scores['test_r2']:.3f} (best model, " in out
    assert main(["report", str(run_dir), "-q"]) == 0
    html = (run_dir / "report.html").read_text()
    assert "validation R² (best network)" in html and "test R² (best model)" in html
    assert "<h2>Pareto front: R² vs parameters</h2>" in html and "</b>regression</span>" in html
    assert "accuracy" not in html
    best = summary["best"]["values"]["val_r2"]
    assert f"val R² {best:.4g}" in html  # the best architecture's line, as a number, not a percentage


def test_a_regression_comparison_shows_r2_columns(tmp_path, capsys):
    cfg = tmp_path / "diabetes.toml"
    cfg.write_text(REGRESSION.replace("generations = 1", "generations = 0"))
    assert main(["compare", str(cfg), "--out", str(tmp_path / "cmp"), "-q"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("| search | runs | best val R² | test R² | params (best) |")
    rows = (tmp_path / "cmp" / "comparison.csv").read_text().splitlines()
    assert rows[0].startswith("search,runs,failed,val_r2_mean,val_r2_sd,test_r2_mean,test_r2_sd,params_mean")


def test_every_embedded_dataset_is_a_choice_of_the_command_line():
    assert set(cli.DATASETS) == set(ek.datasets.names())


def test_the_default_search_suits_the_data():
    text = ek.presets.for_data(ek.datasets.load("languages"), population=2, generations=0)
    table = ek.presets.for_data(ek.datasets.load("wine"), population=2, generations=0)
    regression = ek.presets.for_data(ek.datasets.load("diabetes"), population=2, generations=0)
    assert type(text.encoding).__name__ == "TextCNN" and type(table.encoding).__name__ == "DeepGA"
    assert [type(o).__name__ for o in regression.objectives] == ["ValidationR2"]
    assert regression.final_training.learning_rate == 0.05


def test_run_safe_imports_nothing_and_a_json_config_runs_like_toml(tmp_path, capsys):
    (tmp_path / "cli_safe_marker.py").write_text("open(__file__ + '.ran', 'w').close()\n"
                                                 "def depth(evaluation):\n    return 1.0\n")
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"objectives": [{"type": "cli_safe_marker:depth", "needs_training": False}]}))
    assert main(["run", "--safe", str(cfg), "--run-dir", str(tmp_path / "run"), "-q"]) == 2
    assert "objectives[0].type='cli_safe_marker:depth' is invalid" in capsys.readouterr().err
    assert not (tmp_path / "cli_safe_marker.py.ran").exists() and not (tmp_path / "run").exists()
    cfg.write_text("{not json")
    assert main(["run", str(cfg), "--run-dir", str(tmp_path / "run"), "-q"]) == 2
    assert "not valid JSON" in capsys.readouterr().err


FULL_DISK_LOGGER = '''
import errno

from evokit.callbacks import Callback


class FullDisk(Callback):
    def on_generation_end(self, event):
        raise OSError(errno.ENOSPC, "No space left on device")
'''


def test_a_failing_callback_is_a_run_failure_exit_1_and_a_misconfigured_one_bad_input_exit_2(tmp_path, monkeypatch,
                                                                                             capsys):
    (tmp_path / "full_disk.py").write_text(FULL_DISK_LOGGER)
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = tmp_path / "logged.toml"
    cfg.write_text(UNTRAINED + '[[callbacks]]\ntype = "full_disk:FullDisk"\n')
    assert main(["run", str(cfg), "--run-dir", str(tmp_path / "a"), "-q"]) == 1  # a failure, not bad input
    err = capsys.readouterr().err
    assert "evokit: the run failed: callback FullDisk.on_generation_end raised OSError: [Errno 28]" in err
    cfg.write_text(UNTRAINED + '[[callbacks]]\ntype = "early_stopping"\nobjective = "accuracy"\n')
    assert main(["run", str(cfg), "--run-dir", str(tmp_path / "b"), "-q"]) == 2  # no such objective: bad input
    assert "evokit: error: callback EarlyStopping.on_search_begin raised ConfigError" in capsys.readouterr().err
