"""Tasks: what kind of problem a dataset poses (classification, regression, segmentation, GAN).

A :class:`Task` holds everything that depends on it: the output layer, the loss, how predictions
are scored, the headline metric of the report and the CLI, and which targets it accepts.
``Dataset.task`` is a task's name; :func:`get` resolves a name (or passes a Task through).

Adding a task is one module here with one ``register`` line below, and its cases in
``tests/tasks/``; every registered task runs through the conformance suite there.
"""
from evokit.tasks.base import Head, Metric, Task
from evokit.tasks.classification import Classification
from evokit.tasks.gan import GAN
from evokit.tasks.registry import get, infer, names, register
from evokit.tasks.regression import Regression
from evokit.tasks.segmentation import Segmentation

register(Classification)
register(Regression)
register(Segmentation)
register(GAN)

__all__ = ["Task", "Head", "Metric", "Classification", "Regression", "Segmentation", "GAN", "get", "infer", "names", "register"]
