"""The forward pass of a model in inference mode, and scoring it on a split with its task."""
from __future__ import annotations

from typing import Any

import contextlib

import numpy as np

from evokit import tasks
from evokit.diskarray import read_batches


def predict(model: Any, x: np.ndarray, batch_size: int = 1024, traced: bool = False) -> np.ndarray:
    """Forward pass in inference mode, in batches of ``batch_size``.

    ``traced=False`` calls the model eagerly, without tracing a predict function: a model scored
    once (a candidate's own model, validated after training; a model on the test split) would
    pay more to trace one than to run it. ``traced=True`` uses the model's traced predict
    function (``predict_on_batch``), traced at its first call and reused after: a model scored
    again and again (every epoch with early stopping; a shared graph, for every candidate trained
    in it), never ``model.evaluate``, which traces another function per model.

    ``x`` may be a DiskArray: each batch is read from disk (the next while this one runs).
    """
    keys = [slice(i, i + batch_size) for i in range(0, len(x), batch_size)]
    with contextlib.closing(read_batches(x, keys)) as batches:
        if traced:
            outs = [np.asarray(model.predict_on_batch(batch)) for batch in batches]
        else:
            outs = [np.asarray(model(batch, training=False)) for batch in batches]
    return np.concatenate(outs, axis=0)


def score_test_split(model: Any, data: Any) -> dict[str, float]:
    """Metrics of a trained model on the held-out test split (``test_accuracy``, ``test_loss``,
    ...: what ``data``'s task scores; a generator's images against the test images for a
    generative task)."""
    if tasks.get(data.task).generative:
        from evokit.runtime.training import generated

        return generated.score(model, data, "test")[0]
    return tasks.get(data.task).score(data.y_test, predict(model, data.x_test), "test_")
