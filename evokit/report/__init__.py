"""Reports and plots of searches: the HTML report of a run directory, NetSpec diagrams, Pareto fronts."""
from evokit.report.diagram import netspec_svg
from evokit.report.front import plot_front, plot_fronts
from evokit.report.html import write_report
from evokit.report.plots import plot_history

__all__ = ["plot_history", "plot_front", "plot_fronts", "netspec_svg", "write_report"]
