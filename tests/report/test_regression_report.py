"""What reports and comparisons lead with on data of another task than classification: the task's
headline (R² for regression), read from the run's files, in its own direction. Built from
hand-made run files and summaries: nothing trains here."""
import json

import pytest

from evokit import tasks
from evokit.comparison import Comparison, RunSummary, metrics, pareto_front
from evokit.report.compare import markdown, plot_convergence, plot_fronts, table
from evokit.report.html import render
from evokit.report.rundata import accuracy_front, accuracy_key, headline
from evokit.runtime.run.directory import read_run, run_task
from evokit.tasks import registry

R2 = tasks.Regression().headline


def _record(i, params, **metrics_):
    return {"generation": 0, "status": "ok", "hash": f"h{i}", "description": f"net{i}", "network": f"net{i}",
            "params": params, "flops": 2 * params, "netspec": {"input_shape": [4], "nodes": []}, "cached": False,
            **metrics_, "fitness": {"val_r2": metrics_.get("val_r2")}}


@pytest.fixture
def regression_run(tmp_path):
    """A run directory as a regression search leaves it (config, candidates, summary)."""
    config = {"encoding": "DeepGA()", "objectives": ["ValidationR2(name='val_r2', weight=1.0)"],
              "algorithm": "GA(population=3)", "seed": 0,
              "data": "Dataset('diabetes', regression, train=(282, 10), val=(71, 10), test=(89, 10))"}
    records = [_record(0, 50, val_r2=0.30, val_mae=50.0), _record(1, 400, val_r2=0.52, val_mae=44.0),
               _record(2, 900, val_r2=0.41, val_mae=47.0)]
    summary = {"best": {"values": {"val_r2": 0.52}, "params": 400, "flops": 800, "description": "net1"},
               "test_scores": {"test_r2": 0.4875, "test_mae": 45.5, "test_loss": 3000.0}, "stats": {},
               "hall_of_fame": [{"values": {"val_r2": 0.52}, "params": 400, "description": "net1"}]}
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "candidates.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    return tmp_path


def test_the_runs_task_is_read_from_its_files():
    assert run_task({"task": "regression", "data": "digits"}) == "regression"
    assert run_task({"data": "Dataset('my \"set\"', regression, train=(9, 2))"}) == "regression"
    assert run_task({"data": "Dataset('digits', classification, train=(9, 8, 8, 1))"}) == "classification"
    assert run_task({"data": "diabetes"}, [{"val_loss": 1.0}, {"test_r2": 0.5}]) == "regression"
    assert run_task({"data": "digits"}, [{"val_accuracy": 0.9}]) == "classification"
    assert run_task({"data": "digits"}, [{"val_loss": 1.0}]) is None  # nothing says: None


def test_a_regression_runs_report_leads_with_r2(regression_run):
    run = read_run(regression_run)
    assert run.task == "regression" and headline(run) == R2
    assert accuracy_key(run) == ("val_r2", 1.0)
    key, points, front = accuracy_front(run)
    assert [(value, params) for _, value, params in front] == [(0.30, 50), (0.52, 400)]  # net2: bigger and worse
    html = render(run)
    assert "validation R² (best network)</div>" in html and ">0.52</div>" in html  # a number, not 52.0%
    assert "test R² (best model)</div>" in html and ">0.4875</div>" in html
    assert "<h2>Pareto front: R² vs parameters</h2>" in html and "<th class=n>val R²</th>" in html
    assert "accuracy" not in html and "%" not in html.split("<h2>Configuration</h2>")[0].split("</style>")[1]


def test_objectives_of_a_run_without_config_take_the_headlines_direction(regression_run):
    (regression_run / "config.json").unlink()
    run = read_run(regression_run)
    assert run.names == ["val_r2"] and run.weights == [1.0]  # R² is maximised (not -1 like a loss)
    assert run.task == "regression"  # from the records' metrics


class _ErrorTask(tasks.Regression):
    """A task whose headline is lower-is-better (MAE): the front and "best" must take the low end."""

    name = "error_regression"

    @property
    def headline(self):
        return tasks.Metric("mae", higher_is_better=False, label="MAE")


def test_a_lower_is_better_headline_picks_the_low_end(regression_run, monkeypatch):
    monkeypatch.setattr(registry, "_TASKS", dict(registry._TASKS))
    tasks.register(_ErrorTask)
    run = read_run(regression_run)
    run.task = "error_regression"
    assert accuracy_key(run) == ("val_mae", -1.0)
    _, _, front = accuracy_front(run)
    assert [(value, params) for _, value, params in front] == [(50.0, 50), (44.0, 400)]
    assert pareto_front([(50.0, 50), (44.0, 400), (47.0, 900), (40.0, 900)], higher_is_better=False) == \
        [(50.0, 50), (44.0, 400), (40.0, 900)]
    assert pareto_front([(50.0, 50), (44.0, 400), (47.0, 900)]) == [(50.0, 50)]  # maximised: the first wins all


def test_a_comparison_of_regression_runs_aggregates_and_labels_r2(tmp_path):
    runs = [RunSummary("A", seed, "ok", params=100, evaluations=4, wall_time_s=1.0, headline=R2,
                       scores={"val_r2": 0.4 + seed / 10, "test_r2": 0.3 + seed / 10}, points=[(0.4, 100)])
            for seed in (0, 1)]
    comparison = Comparison(["A"], [0, 1], runs)
    assert comparison.headline == R2 and metrics(R2)[:2] == ("val_r2", "test_r2")
    row = comparison.rows()[0]
    assert row["val_r2_mean"] == pytest.approx(0.45) and row["test_r2_mean"] == pytest.approx(0.35)
    assert "val_accuracy_mean" not in row and runs[0].val_accuracy is None
    lines = comparison.table().splitlines()
    assert lines[0].startswith("| search | runs | best val R² | test R² |")
    assert lines[2].startswith("| A | 2/2 | 0.450 ± 0.071 | 0.350 ± 0.071 |")
    text = markdown(["A"], [0, 1], comparison.rows(), metric="r2", label="R²", title="R²")
    assert "Best val R² and params" in text and "its validation R² after" in text and table(
        comparison.rows(), "r2", "R²") in text
    convergence = plot_convergence({"A": {"runs": 0, "mean": [], "sd": []}}, title="R²").axes[0]
    assert convergence.get_ylabel() == "best validation R² so far"
    assert [line.get_label() for line in convergence.lines] == ["A (no validation R²)"]
    fronts = plot_fronts(comparison.fronts(), metric="r2", title="R²").axes[0]
    assert fronts.get_title() == "Pareto fronts: R² vs parameters (all seeds)" and fronts.get_xlabel() == "val_r2"
