"""evokit.report.compare: the comparison's table, Markdown file and figures, drawn from plain data.

The renderer is handed numbers the comparison computed (rows, per-step bands, fronts); these tests
give it such data directly, without running or building a comparison.
"""
import ast
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import evokit  # noqa: E402
from evokit.report.compare import markdown, plot_convergence, plot_fronts, shorten, table  # noqa: E402

METRICS = ("val_accuracy", "test_accuracy", "params", "co2_g", "evaluations", "wall_time_s")


def row(search, runs=2, failed=0, error="", co2_source="estimated", **means):
    """An aggregated row as ``Comparison.rows`` makes it: every metric's mean and sd."""
    values = {f"{m}_mean": means.get(m) for m in METRICS} | {f"{m}_sd": means.get(f"{m}_sd") for m in METRICS}
    return {"search": search, "runs": runs, "failed": failed, **values, "co2_source": co2_source,
            "stopped_by": None, "error": error}


def test_table_formats_mean_and_sd_and_escapes_the_cells():
    rows = [row("A|B", val_accuracy=0.9, val_accuracy_sd=0.01, params=1200.0, co2_g=0.5),
            row("C", runs=0, failed=2, error="x" * 200, co2_source=None)]
    lines = table(rows).splitlines()
    assert lines[0].startswith("| search | runs | best val acc |") and len(lines) == 4
    assert lines[2] == "| A\\|B | 2/2 | 0.900 ± 0.010 | — | 1,200 | 0.5 (est.) | — | — | ok |"
    assert lines[3].endswith(f"| failed: {shorten('x' * 200)} |") and shorten("x" * 200).endswith("…")


def test_markdown_names_what_the_runs_shared():
    class Budget:  # anything with attributes: the renderer reads vars(budget)
        def __init__(self):
            self.evaluations, self.generations = 5, None

    text = markdown(["A"], [0, 1], [row("A")], Budget(), "digits", interrupted=True)
    assert text.startswith("# Comparison of A\n") and "seeds 0, 1; budget: evaluations=5; data: digits." in text
    assert table([row("A")]) in text and "Interrupted: not every run was made." in text
    assert "budget: each search's own; data: each search's own." in markdown(["A"], [0], [row("A")])


def test_convergence_draws_a_line_per_search_and_a_band_only_for_several_runs(tmp_path):
    bands = {"A": {"runs": 2, "mean": [None, 0.5, 0.6], "sd": [None, 0.1, None]},
             "B": {"runs": 1, "mean": [0.4, 0.4], "sd": [None, None]},
             "C": {"runs": 0, "mean": [], "sd": []}}
    fig = plot_convergence(bands, tmp_path / "c.png")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["A (2 runs)", "B (1 run)", "C (no validation accuracy)"]
    assert math.isnan(ax.lines[0].get_ydata()[0]) and len(ax.collections) == 1  # one ± sd band: A's
    assert (tmp_path / "c.png").is_file()


def test_fronts_are_overlaid_one_marker_set_per_search():
    fig = plot_fronts({"A": [(0.7, 50), (0.9, 500)], "B": [(0.8, 80)], "C": []})
    ax = fig.axes[0]
    assert ax.get_title() == "Pareto fronts: accuracy vs parameters (all seeds)"
    assert [c.get_label() for c in ax.collections] == ["A (2)", "B (1)", "C (0)"]


def test_the_report_never_imports_the_comparison():
    """Imports point one way: ``evokit.comparison`` calls the report, never the reverse."""
    for path in (Path(evokit.__file__).parent / "report").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "evokit.comparison" or n.startswith("evokit.comparison.") for n in names), path
