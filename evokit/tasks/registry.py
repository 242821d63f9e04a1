"""Task names -> tasks: what turns ``Dataset.task`` (a string) into the object code asks."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from evokit.errors import check_choice, invalid
from evokit.tasks.base import Task

_TASKS: dict[str, type[Task]] = {}


def register(task: type[Task]) -> type[Task]:
    """Make ``task`` (a Task subclass, constructible without arguments) known by its ``name``;
    returns it, so it can decorate the class."""
    if not (isinstance(task, type) and issubclass(task, Task)):
        raise invalid("task", task, "expected a subclass of evokit.tasks.Task")
    if not isinstance(task.name, str) or not task.name or task.name == Task.name:
        raise invalid(f"{task.__name__}.name", task.name, "expected a name of its own (a non-empty string)")
    _TASKS[task.name] = task
    return task


def names() -> tuple[str, ...]:
    """The names of the registered tasks, in registration order."""
    return tuple(_TASKS)


def get(task: str | Task) -> Task:
    """The task named ``task`` (with its default settings), or ``task`` itself if it is a Task.

    Raises ConfigError naming ``task`` and listing the registered names for anything else.
    """
    if isinstance(task, Task):
        return task
    if not isinstance(task, str):
        raise invalid("task", task, "expected a task name (one of " + ", ".join(map(repr, _TASKS))
                      + ") or an evokit.tasks.Task")
    return _TASKS[check_choice("task", task, names())]()


FEW_VALUES = 20
"""Float targets with at most this many distinct whole values read as class labels (see
:func:`looks_like_classes`)."""


def looks_like_classes(y: Any) -> bool:
    """True when float targets ``y`` read like class labels written as floats (``1.0``, ``2.0``):
    1-D, finite, whole numbers only, and at most ``FEW_VALUES`` distinct values, and no more than
    half as many as there are targets (so a value repeats on average).

    A CSV reader takes such a column as classes (text has no dtype to go by); :func:`infer` keeps
    a float array as regression targets but warns. It copies ``y`` (labels are small)."""
    y = np.asarray(y)
    if y.dtype.kind != "f" or y.ndim != 1 or not len(y):
        return False
    values = np.unique(y)
    return bool(len(values) <= min(FEW_VALUES, max(2, len(y) // 2)) and np.isfinite(values).all()
                and (np.abs(values) < 2.0**53).all() and (values == np.round(values)).all())


def infer(y: Any) -> str:
    """The task name targets ``y`` suggest when none is given: masks (``(n, height, width)`` or
    ``(n, height, width, 1)``) mean segmentation; otherwise float targets mean regression;
    integer, bool, string or object labels mean classification.

    Float targets that look like class labels (:func:`looks_like_classes`) stay regression, with
    a UserWarning naming ``y`` that says how to choose: ``task="classification"`` (or
    ``task="regression"`` to keep regression without the warning)."""
    y = np.asarray(y)
    if y.ndim == 3 or (y.ndim == 4 and y.shape[-1] == 1):
        return "segmentation"
    if y.dtype.kind != "f":
        return "classification"
    if looks_like_classes(y):
        values = np.unique(y)
        shown = ", ".join(str(v) for v in values[:5].tolist()) + (", ..." if len(values) > 5 else "")
        warnings.warn(f"y=<floats with only {len(values)} distinct whole values: {shown}> are read as "
                      f"regression targets; pass task=\"classification\" if they are class labels "
                      f"(task=\"regression\" keeps regression without this warning)", UserWarning, stacklevel=3)
    return "regression"
