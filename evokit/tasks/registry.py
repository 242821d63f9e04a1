"""Task names -> tasks: what turns ``Dataset.task`` (a string) into the object code asks."""
from __future__ import annotations

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


def infer(y: Any) -> str:
    """The task name targets ``y`` suggest when none is given: float targets mean regression;
    integer, bool, string or object labels mean classification."""
    return "regression" if np.asarray(y).dtype.kind == "f" else "classification"
