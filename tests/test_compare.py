"""evokit.comparison (ek.compare): searches x seeds on the same data and budget, aggregated, written and plotted."""
import contextlib
import csv
import io
import json
import math
import statistics

import pytest

import evokit as ek
from evokit.comparison import Comparison, RunSummary, compare, mean_sd, mean_sd_per_step, pareto_front
from evokit.runtime.run.directory import read_candidates

BUDGET = 3  # networks trained per run (a generation may overshoot it)


def _searches(small_digits):
    """A DeepGA preset, a two-objective Binary NSGA-II, and a search that cannot run on digits."""
    return {
        "DeepGA": ek.presets.deepga(population=2, generations=50, epochs=1, final_epochs=None),
        "Binary NSGA-II": ek.Search(
            encoding=ek.encodings.Binary(stages=1, nodes_per_stage=2, filters=(4, 8), units=(8, 16), dense_layers=1),
            objectives=[ek.fitness.ValidationAccuracy(epochs=1), ek.fitness.ParameterCount()],
            algorithm=ek.algorithms.NSGA2(population=2, generations=50), data="iris", seed=7),
        "broken": ek.Search(encoding=ek.encodings.NEAT(n_outputs=3), objectives=ek.fitness.ValidationAccuracy(epochs=1),
                            algorithm=ek.algorithms.GA(population=2)),
    }


@pytest.fixture(scope="module")
def ran(small_digits, tmp_path_factory):
    """One comparison shared by the tests below: 3 searches x 2 seeds (one search always fails)."""
    searches = _searches(small_digits)
    before = {name: (dict(vars(s)), s.config(), repr(s.encoding), repr(s.algorithm)) for name, s in searches.items()}
    root = tmp_path_factory.mktemp("cmp")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        comparison = compare(searches, data=small_digits, budget=ek.Budget(evaluations=BUDGET), seeds=[0, 1],
                             run_dir=root)
    return comparison, searches, before, root, err.getvalue()


def _successful(comparison):
    return [run for run in comparison.runs if run.ok]


def test_one_row_per_search_with_mean_and_sd_over_seeds(ran):
    comparison, _, _, _, _ = ran
    assert isinstance(comparison, Comparison)
    assert [(r.name, r.seed) for r in comparison.runs] == [(n, s) for s in (0, 1)
                                                            for n in ("DeepGA", "Binary NSGA-II", "broken")]
    rows = {row["search"]: row for row in comparison.rows()}
    assert list(rows) == ["DeepGA", "Binary NSGA-II", "broken"]
    for name in ("DeepGA", "Binary NSGA-II"):
        runs = comparison.runs_of(name)
        assert all(r.ok for r in runs) and rows[name]["runs"] == 2 and rows[name]["failed"] == 0
        for metric in ("val_accuracy", "test_accuracy", "params", "evaluations", "co2_g"):
            values = [getattr(r, metric) for r in runs]
            assert all(v is not None for v in values), metric
            assert rows[name][f"{metric}_mean"] == pytest.approx(statistics.fmean(values))
            assert rows[name][f"{metric}_sd"] == pytest.approx(statistics.stdev(values))
        assert 0 < rows[name]["val_accuracy_mean"] <= 1 and 0 < rows[name]["test_accuracy_mean"] <= 1
        assert rows[name]["co2_source"] == "estimated" and rows[name]["co2_g_mean"] > 0
        assert rows[name]["error"] == ""
    table = comparison.table().splitlines()
    assert len(table) == 2 + 3 and table[0].startswith("| search | runs | best val acc | test acc")
    deepga_line = next(line for line in table if line.startswith("| DeepGA |"))
    assert "| 2/2 |" in deepga_line and deepga_line.count("±") >= 5 and deepga_line.endswith("| ok |")


def test_summary_numbers_come_from_each_runs_result(ran):
    comparison, _, _, root, _ = ran
    for run in _successful(comparison):
        summary = json.loads((run.run_dir / "summary.json").read_text())
        assert run.run_dir == root / run.name.replace(" ", "_") / f"seed{run.seed}"
        assert run.test_accuracy == pytest.approx(summary["test_scores"]["test_accuracy"])
        assert run.params == summary["best"]["params"] and run.evaluations == summary["stats"]["trained"]
        assert run.co2_g == pytest.approx(1000 * summary["stats"]["search_cost"]["co2_kg_estimated"])
        records = read_candidates(run.run_dir)
        best_acc = max(r["val_accuracy"] for r in records if r["status"] == "ok")
        # the curve is the best validation accuracy so far after each network trained
        assert len(run.curve) == run.evaluations and run.curve == sorted(run.curve)
        assert run.curve[-1] == pytest.approx(best_acc)
        if run.name == "Binary NSGA-II":  # the front's best-accuracy member is the best ever seen
            assert run.val_accuracy == pytest.approx(best_acc)
        else:  # DeepGA's best is best in its combined score, and has an accuracy of its own
            assert run.val_accuracy in [r["val_accuracy"] for r in records]


def test_budget_data_and_seed_are_applied_to_every_run(ran):
    comparison, _, _, _, _ = ran
    for run in _successful(comparison):
        config = json.loads((run.run_dir / "config.json").read_text())
        assert config["budget"]["evaluations"] == BUDGET and config["budget"]["generations"] is None
        assert config["seed"] == run.seed and config["data"].startswith("Dataset('digits'")
        assert "train=(240, 8, 8, 1)" in config["data"]  # the comparison's data, not the search's own
        assert run.stats["stopped_by"] == "evaluations" and BUDGET <= run.stats["trained"] <= BUDGET + 2
        assert run.stats["generations"] < 50
    a, b = (read_candidates(r.run_dir) for r in comparison.runs_of("DeepGA"))
    assert [r["genotype"] for r in a] != [r["genotype"] for r in b]  # the seeds differ


def test_a_failing_search_is_reported_and_the_others_complete(ran):
    comparison, _, _, _, stderr = ran
    broken = comparison.runs_of("broken")
    assert [r.status for r in broken] == ["failed", "failed"]
    assert all("ConfigError" in r.error and "n_outputs=3" in r.error for r in broken)
    row = {row["search"]: row for row in comparison.rows()}["broken"]
    assert row["runs"] == 0 and row["failed"] == 2 and row["val_accuracy_mean"] is None
    assert row["error"] == f"seeds 0, 1: {broken[0].error}"  # one message, with the seeds it happened with
    line = next(line for line in comparison.table().splitlines() if line.startswith("| broken |"))
    assert "| 0/2 |" in line and "failed: seeds 0, 1: ConfigError" in line
    # the runs after it were made (seed by seed: DeepGA seed 1 comes after broken seed 0), and the
    # progress lines say so
    assert [r.name for r in comparison.runs].index("broken") < 3 and comparison.runs[3].name == "DeepGA"
    assert all(r.ok for r in comparison.runs_of("DeepGA") + comparison.runs_of("Binary NSGA-II"))
    assert "broken seed 0: FAILED (ConfigError" in stderr and "DeepGA seed 1: val acc" in stderr
    assert "evokit compare" in stderr and "6/6" in stderr


def test_files_are_written(ran):
    comparison, _, _, root, _ = ran
    for name in ("comparison.csv", "comparison.md", "convergence.png", "fronts.png"):
        assert (root / name).is_file(), name
    for name in ("convergence.png", "fronts.png"):
        data = (root / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    rows = list(csv.DictReader((root / "comparison.csv").open()))
    assert [r["search"] for r in rows] == ["DeepGA", "Binary NSGA-II", "broken"]
    assert float(rows[0]["val_accuracy_mean"]) == pytest.approx(comparison.rows()[0]["val_accuracy_mean"])
    assert rows[2]["val_accuracy_mean"] == "" and "n_outputs=3" in rows[2]["error"]
    md = (root / "comparison.md").read_text()
    assert comparison.table() in md and "seeds 0, 1" in md and f"evaluations={BUDGET}" in md
    for name in ("DeepGA", "Binary_NSGA-II"):
        for seed in (0, 1):
            run = root / name / f"seed{seed}"
            assert (run / "candidates.jsonl").stat().st_size > 0 and (run / "summary.json").is_file()


def test_fronts_are_non_dominated_and_pool_every_seed(ran):
    comparison, _, _, _, _ = ran
    fronts = comparison.fronts()
    for name in ("DeepGA", "Binary NSGA-II"):
        pool = [p for r in comparison.runs_of(name) for p in r.points]
        assert 0 < len(pool) <= sum(r.evaluations for r in comparison.runs_of(name))
        front = fronts[name]
        assert front and set(front) <= set(pool)
        for acc, params in pool:  # every pooled point is dominated by, or on, the front
            assert any(a >= acc and p <= params for a, p in front)
    assert fronts["broken"] == []


def test_the_users_searches_are_not_changed(ran):
    _, searches, before, _, _ = ran
    for name, search in searches.items():
        attributes, config, encoding, algorithm = before[name]
        assert vars(search).keys() == attributes.keys()
        assert all(vars(search)[k] is v for k, v in attributes.items()), name
        assert search.config() == config and repr(search.encoding) == encoding and repr(search.algorithm) == algorithm
    assert searches["DeepGA"].run_dir is None and searches["DeepGA"].progress is True
    assert searches["Binary NSGA-II"].seed == 7 and searches["Binary NSGA-II"].data == "iris"
    assert searches["broken"].encoding.n_inputs_ is None  # check_input ran on copies only


def test_without_run_dir_nothing_is_written_but_plots_work(small_digits, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    search = ek.presets.deepga(population=2, generations=0, epochs=1, final_epochs=None)
    comparison = compare({"DeepGA": search}, data=small_digits, progress=False)
    (run,) = comparison.runs
    assert run.ok and run.run_dir is None and comparison.run_dir is None and run.stopped_by == "generations"
    assert list(tmp_path.iterdir()) == []
    row = comparison.rows()[0]
    assert row["runs"] == 1 and row["val_accuracy_sd"] is None  # one seed: no sd
    line = comparison.table().splitlines()[2]
    assert "±" not in line and "| 1/1 |" in line
    assert len(comparison.plot_convergence().axes[0].lines) == 1
    assert comparison.plot_fronts(tmp_path / "f.png") is not None and (tmp_path / "f.png").is_file()


@pytest.mark.parametrize("kwargs, field", [
    ({"searches": {}}, "searches"),
    ({"searches": {"DeepGA": "deepga"}}, r"searches\['DeepGA'\]"),
    ({"searches": [("DeepGA", None)]}, "searches"),
    ({"seeds": []}, "seeds"),
    ({"seeds": 3}, "seeds"),
    ({"seeds": [0, 0]}, "seeds"),
    ({"seeds": [-1]}, "seeds"),
    ({"seeds": ["0"]}, "seeds"),
    ({"budget": 10}, "budget"),
    ({"data": "no-such-data"}, "data"),
    ({"workers": 0}, "workers"),
    ({"progress": "yes"}, "progress"),
    ({"run_dir": 3}, "run_dir"),
])
def test_bad_input_is_rejected_before_any_run(kwargs, field, tmp_path):
    kwargs.setdefault("searches", {"DeepGA": ek.presets.deepga(population=2, generations=0)})
    kwargs.setdefault("run_dir", tmp_path / "cmp")
    with pytest.raises(ek.errors.ConfigError, match=f"^{field}"):
        compare(**kwargs)
    assert not (tmp_path / "cmp").exists()


def test_names_that_collide_as_directories_are_rejected(tmp_path):
    search = ek.presets.deepga(population=2, generations=0)
    with pytest.raises(ek.errors.ConfigError, match="distinct as directory names"):
        compare({"a b": search, "a_b": search}, run_dir=tmp_path)
    with pytest.raises(ek.errors.ConfigError, match="searches key"):
        compare({"": search})


def test_table_of_a_partly_failed_search():
    runs = [RunSummary("A", 0, "ok", val_accuracy=0.9, test_accuracy=0.88, params=1200, co2_g=0.5,
                       co2_source="measured", evaluations=10, wall_time_s=3.0),
            RunSummary("A", 1, "failed", error="MemoryError: out of memory | again", wall_time_s=1.0)]
    comparison = Comparison(["A"], [0, 1], runs)
    row = comparison.rows()[0]
    assert (row["runs"], row["failed"], row["val_accuracy_mean"], row["val_accuracy_sd"]) == (1, 1, 0.9, None)
    assert row["wall_time_s_mean"] == 3.0  # aggregates are over the runs that completed
    line = comparison.table().splitlines()[2]
    assert line == ("| A | 1/2 | 0.900 | 0.880 | 1,200 | 0.5 (meas.) | 10.0 | 3.0 | 1 failed: seed 1: MemoryError: "
                    "out of memory \\| again |")


def test_pareto_front_and_mean_sd():
    points = [(0.9, 500), (0.8, 100), (0.85, 100), (0.7, 50), (0.6, 80), (0.9, 700), (0.95, 900), (0.95, 900)]
    assert pareto_front(points) == [(0.7, 50), (0.85, 100), (0.9, 500), (0.95, 900)]
    assert pareto_front([]) == []
    assert mean_sd([1.0, 3.0]) == (2.0, pytest.approx(math.sqrt(2)))
    assert mean_sd([2.0, None, math.nan]) == (2.0, None)
    assert mean_sd([None]) == (None, None)


def test_convergence_is_the_mean_and_sd_of_the_curves_at_each_step_up_to_the_shortest_run():
    runs = [RunSummary("A", 0, "ok", curve=[math.nan, 0.5, 0.7, 0.8]), RunSummary("A", 1, "ok", curve=[0.4, 0.6, 0.6]),
            RunSummary("B", 0, "ok", curve=[0.3, 0.3]), RunSummary("C", 0, "failed", error="boom")]
    bands = Comparison(["A", "B", "C"], [0, 1], runs).convergence()
    assert bands["A"]["runs"] == 2 and bands["A"]["mean"] == pytest.approx([0.4, 0.55, 0.65])
    assert bands["A"]["sd"][0] is None  # one known value at the first step
    assert bands["A"]["sd"][1:] == pytest.approx([statistics.stdev([0.5, 0.6]), statistics.stdev([0.7, 0.6])])
    assert bands["B"] == {"runs": 1, "mean": [0.3, 0.3], "sd": [None, None]}
    assert bands["C"] == mean_sd_per_step([]) == {"runs": 0, "mean": [], "sd": []}
