"""Pareto-front plots: one front coloured by a third objective, several fronts overlaid."""
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from evokit.errors import ConfigError  # noqa: E402
from evokit.report.front import plot_front, plot_fronts  # noqa: E402
from evokit.runtime.run.front import read_front_csv, write_front_csv  # noqa: E402

DEEPGA = [{"val_accuracy": 0.95, "params": 52_000, "co2_kg": 3e-6, "description": "big"},
          {"val_accuracy": 0.91, "params": 9_000, "co2_kg": 2e-6, "description": "mid"},
          {"val_accuracy": 0.80, "params": 700, "co2_kg": 1e-6, "description": "small"},
          {"val_accuracy": -math.inf, "params": 90, "co2_kg": math.inf, "description": "failed"}]
NEAT = [{"val_accuracy": 0.88, "params": 400, "co2_kg": 5e-7}, {"val_accuracy": 0.70, "params": 120, "co2_kg": 4e-7}]


def _scatter_offsets(ax):
    return [np.asarray(c.get_offsets()) for c in ax.collections]


def test_several_fronts_overlaid_coloured_by_a_third_objective(tmp_path):
    path = tmp_path / "fronts.png"
    fig = plot_fronts({"DeepGA": DEEPGA, "NEAT": NEAT}, "val_accuracy", "params", "co2_kg", path)
    assert path.stat().st_size > 0
    ax, colorbar = fig.axes  # the plot and its colour bar
    assert colorbar.get_ylabel() == "co2_kg"
    assert ax.get_xlabel() == "val_accuracy" and ax.get_ylabel() == "params"
    offsets = _scatter_offsets(ax)
    assert [len(o) for o in offsets] == [3, 2]  # the failed member is not drawn
    assert offsets[0][:, 0].tolist() == [0.80, 0.91, 0.95]
    scale = [c.norm for c in ax.collections]
    assert scale[0] is scale[1] and scale[0].vmin == pytest.approx(4e-7) and scale[0].vmax == pytest.approx(3e-6)
    assert ax.get_yscale() == "log"  # params span more than two orders of magnitude
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["DeepGA (3)", "NEAT (2)"]


def test_fronts_without_a_colour_objective_get_one_colour_each():
    fig = plot_fronts({"a": NEAT, "b": [{"val_accuracy": 0.5, "params": 300}]}, "val_accuracy", "params")
    (ax,) = fig.axes
    colours = [tuple(c.get_facecolor()[0]) for c in ax.collections]
    assert len(colours) == 2 and colours[0] != colours[1]
    assert ax.get_yscale() == "linear"
    assert len(ax.lines) == 1  # a two-member front is joined; a single point is not


def test_plot_front_of_a_run_uses_first_two_objectives_and_colours_by_the_third(tmp_path):
    write_front_csv(tmp_path / "pareto.csv", DEEPGA[:3])
    records = read_front_csv(tmp_path / "pareto.csv")
    fig = plot_front(records, ["val_accuracy", "params", "co2_kg"], tmp_path / "pareto.png")
    assert (tmp_path / "pareto.png").stat().st_size > 0
    assert fig.axes[1].get_ylabel() == "co2_kg"
    fig = plot_front(records, ["val_accuracy", "params"])
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "Pareto front"


def test_an_empty_front_still_plots():
    fig = plot_fronts({"none": []}, "val_accuracy", "params", "co2_kg")
    assert len(fig.axes) == 1 and fig.axes[0].get_legend() is None


def test_bad_arguments_name_the_argument():
    with pytest.raises(ConfigError, match="fronts"):
        plot_fronts(DEEPGA, "val_accuracy", "params")
    with pytest.raises(ConfigError, match="y=None"):
        plot_fronts({"a": DEEPGA}, "val_accuracy", None)
    with pytest.raises(ConfigError, match="color=3"):
        plot_fronts({"a": DEEPGA}, "val_accuracy", "params", 3)
    with pytest.raises(ConfigError, match="objective_names"):
        plot_front(DEEPGA, ["val_accuracy"])
