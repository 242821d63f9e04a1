"""Training settings a network may carry with it: its own learning rate, batch size, optimizer.

A NetSpec's optional ``training`` mapping holds the values of a candidate's hyper-parameter
genes (:class:`evokit.encodings.Hyperparameters`). The trainer trains that network with them in
place of the search's shared ``TrainingConfig`` values, and they are part of the NetSpec's
canonical hash, so the same architecture trained two ways is two cache entries. Only the settings
that make sense per candidate are allowed (:data:`TRAINING_FIELDS`); the values are checked as
``TrainingConfig`` checks its own (the constants live here, below both, and ``evokit.evaluation``
re-exports them).
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from evokit.errors import ConfigError, check_choice, check_float, check_int

OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw", "nadam")
"""The optimizers a network can be trained with (``TrainingConfig.optimizer``)."""

MAX_BATCH_SIZE = 1_000_000
"""The largest ``batch_size`` a TrainingConfig takes (Keras would allocate a batch that size)."""

TRAINING_FIELDS = ("learning_rate", "batch_size", "optimizer")
"""The TrainingConfig fields a NetSpec may set for itself."""

TrainingItems = tuple[tuple[str, Any], ...]
"""A checked ``training`` mapping as sorted ``(field, value)`` pairs (hashable and picklable)."""


def check_training(training: Mapping[str, Any] | None) -> TrainingItems:
    """``training`` as sorted ``(field, value)`` pairs, checked; ConfigError naming
    ``training.<field>`` for an unknown field or a value ``TrainingConfig`` would refuse.
    None and ``{}`` give ``()`` (no settings of its own)."""
    if training is None:
        return ()
    if not isinstance(training, Mapping):
        raise ConfigError(f"training={training!r} is invalid: expected None or a mapping of "
                          f"{', '.join(TRAINING_FIELDS)}")
    items = []
    for key, value in training.items():
        if key not in TRAINING_FIELDS:
            raise ConfigError(f"training.{key}: unknown key; allowed: {', '.join(TRAINING_FIELDS)}")
        items.append((key, _check_value(key, value)))
    return tuple(sorted(items))


def _check_value(key: str, value: Any) -> Any:
    field = f"training.{key}"
    if key == "learning_rate":
        rate = check_float(field, value, minimum=0.0, exclusive_minimum=True)
        if not math.isfinite(rate):
            raise ConfigError(f"{field}={value!r} is invalid: expected a finite number > 0")
        return rate
    if key == "batch_size":
        return check_int(field, value, minimum=1, maximum=MAX_BATCH_SIZE)
    return check_choice(field, value, OPTIMIZERS)
