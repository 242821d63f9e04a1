"""Reports and plots of searches."""
from evokit.report.plots import plot_history

__all__ = ["plot_history"]
