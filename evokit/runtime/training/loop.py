"""The training loop every candidate is trained with: one traced step per batch
(:func:`evokit.runtime.training.steps.train_step`).

``model.fit`` builds a ``tf.data`` pipeline, an epoch iterator and a callback list for every
model, ~0.1-0.2 s per candidate on the small networks a search trains: more than its arithmetic.
Here batches are drawn from a NumPy generator seeded with the candidate's seed, the last, short
batch is padded with zero-weighted samples (every step has one shape: the train function is
traced once per model, or once per shared graph with :mod:`evokit.runtime.training.traced`), and
validation is a forward pass (:func:`evokit.runtime.training.forward.predict`), never
``model.evaluate``, scored by the data's task (``Task.score``).
"""
from __future__ import annotations

import contextlib
import math
import time
from typing import Any, Callable

import numpy as np

from evokit import tasks
from evokit.diskarray import DiskArray, read_batches
from evokit.evaluation import Evaluation, TrainingConfig, failure
from evokit.netspec import NetSpec
from evokit.runtime.training import forward
from evokit.runtime.training.steps import train_step


class StepTimer:
    """The wall time of each training step, as :func:`train_batches` records it (per epoch).

    ``seconds`` counts the first step of each epoch, and any step over ``TRACE_FACTOR`` times the
    median, at the median: a train function is traced inside its first call, and tracing is
    overhead, not training.
    """

    TRACE_FACTOR = 20.0

    def __init__(self) -> None:
        self.fits: list[list[float]] = []

    @property
    def seconds(self) -> float:
        total = 0.0
        for steps in self.fits:
            if len(steps) < 2:
                total += sum(steps)
                continue
            median = float(np.median(steps[1:]))
            total += median + sum(min(t, median) if t > self.TRACE_FACTOR * median else t for t in steps[1:])
        return total

    @property
    def raw(self) -> float:
        """All the steps' wall time, tracing included."""
        return sum(sum(steps) for steps in self.fits)


def train_batches(model: Any, data: Any, config: TrainingConfig, seed: int, timer: StepTimer | None = None
                  ) -> dict[str, list[float]]:
    """Train a compiled model with one traced step per batch (:func:`~evokit.runtime.training.steps.train_step`:
    ``train_on_batch``'s step without its metrics), batches drawn from a
    NumPy generator seeded with ``seed``: the model's traced train function is reused and no
    ``tf.data`` pipeline is rebuilt per candidate (``fit`` rebuilds one, ~0.1-0.2 s). Returns the
    history (``loss`` per epoch, the weighted mean over its batches like ``fit``; ``val_loss``
    with early stopping, scored each epoch through the model's traced predict function). Stops
    at the first non-finite loss (its last ``loss`` is then NaN).

    A streaming ``x_train`` (:class:`~evokit.diskarray.DiskArray`) is read batch by batch, the
    next batch in a background thread while this one trains; the batches are the same."""
    task = tasks.get(data.task)
    rng = np.random.default_rng(seed)
    n, size = len(data.x_train), config.batch_size
    history: dict[str, list[float]] = {"loss": []}
    best, best_weights, waited = math.inf, None, 0
    step = train_step(model)  # traced at its first call, once per model (or shared graph)
    for epoch in range(config.epochs):
        # set every epoch, constant too: a shared trace-once graph may come from a scheduled search
        model.optimizer.learning_rate = epoch_learning_rate(config, epoch)
        batches = epoch_batches(rng.permutation(n), size)
        steps: list[float] = []
        total = 0.0  # the epoch's summed per-sample loss (a step reports its batch's mean)
        with contextlib.closing(read_batches(data.x_train, [batch for batch, _, _ in batches])) as xs:
            for (batch, weights, real), x in zip(batches, xs):
                begun = time.perf_counter()
                loss = float(step(x, data.y_train[batch], weights))
                steps.append(time.perf_counter() - begun)
                total += loss * real
                if not math.isfinite(loss):
                    break
        if timer is not None:
            timer.fits.append(steps)
        loss = total / n
        history["loss"].append(loss)
        if not math.isfinite(loss):
            break
        if config.early_stopping is not None:
            val_loss = task.score(data.y_val, forward.predict(model, data.x_val, traced=True), "val_")["val_loss"]
            history.setdefault("val_loss", []).append(val_loss)
            if val_loss < best:
                best, best_weights, waited = val_loss, model.get_weights(), 0
            else:
                waited += 1
                if waited >= config.early_stopping:
                    break
    if best_weights is not None:
        model.set_weights(best_weights)
    return history


def epoch_learning_rate(config: TrainingConfig, epoch: int) -> float:
    """The learning rate of ``epoch`` (0-based) under ``config.schedule``: a half cosine from
    ``learning_rate`` at the first epoch towards 0 after the last one (``"cosine"``), or
    ``learning_rate`` (``"constant"``). Set per epoch by assigning the optimizer's variable, so
    the traced train function is reused."""
    if config.schedule == "cosine":
        return config.learning_rate * 0.5 * (1.0 + math.cos(math.pi * epoch / config.epochs))
    return config.learning_rate


def epoch_batches(order: np.ndarray, size: int) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """One epoch's steps over the sample ``order``: ``(indices, sample weights, real samples)``.

    The last, smaller batch is padded to full size with zero-weighted samples from the start of
    the order, the real ones weighted size/len so that the mean loss is theirs: every step has
    one shape, so the train function is traced once, not again for this batch."""
    full = np.ones(size, "float32")
    steps = []
    for i in range(0, len(order), size):
        batch, weights = order[i:i + size], full
        if len(batch) < size:
            weights = np.zeros(size, "float32")
            weights[:len(batch)] = size / len(batch)
            batch = np.concatenate([batch, np.resize(order, size - len(batch))])  # fewer samples than a batch: repeat
        steps.append((batch, weights, min(size, len(order) - i)))
    return steps


def predict_split(predict: Callable[[np.ndarray], np.ndarray], x: Any) -> np.ndarray:
    """``predict(x)``; for a DiskArray, chunk by chunk (read ahead), never the whole split at once."""
    if not isinstance(x, DiskArray):
        return predict(x)
    with contextlib.closing(read_batches(x, x.chunks())) as parts:
        return np.concatenate([predict(part) for part in parts], axis=0)


def train_and_score(spec: NetSpec, model: Any, data: Any, config: TrainingConfig, seed: int, start: float,
                    predict: Callable[[np.ndarray], np.ndarray], train: bool = True,
                    phases: dict[str, float] | None = None) -> Evaluation:
    """Train a compiled ``model`` of ``spec`` with :func:`train_batches` (unless ``train`` is
    False) and score it on the validation split with ``predict``: the candidate's Evaluation, or
    a ``nan_loss`` failure when the training loss or a validation metric is not finite.
    ``start`` is when the candidate's clock started (its wall time counts from there).

    ``extra["phases"]`` says where the candidate's wall time went, in seconds: ``phases`` (what
    the caller timed before: ``build``, ``compile``, ``load``), ``setup`` (the rest of the time
    before the first step), ``trace`` (the first step of each epoch and outlier steps beyond what
    ``step_time`` counts: tracing), ``steps`` (``step_time``), ``loop`` (drawing batches, early
    stopping's validation) and ``validation`` (the final forward pass and scoring)."""
    history: dict[str, list[float]] = {}
    train_time = 0.0
    timer = StepTimer()
    phases = dict(phases or {})
    fit_start = time.perf_counter()
    phases["setup"] = max(0.0, fit_start - start - sum(phases.values()))
    if train:
        history = train_batches(model, data, config, seed, timer)
        train_time = time.perf_counter() - fit_start
        phases.update(trace=timer.raw - timer.seconds, steps=timer.seconds, loop=train_time - timer.raw)
        losses = history["loss"]
        if not losses or not all(math.isfinite(v) for v in losses):
            return failure(spec, "nan_loss", f"training loss became {losses[-1] if losses else 'undefined'}",
                           time.perf_counter() - start)
    scoring = time.perf_counter()
    metrics = tasks.get(data.task).score(data.y_val, predict_split(predict, data.x_val), "val_")
    phases["validation"] = time.perf_counter() - scoring
    if not all(math.isfinite(v) for v in metrics.values()):
        return failure(spec, "nan_loss", f"validation metrics not finite: {metrics}", time.perf_counter() - start)
    if train:
        metrics["loss"] = float(history["loss"][-1])
    evaluation = Evaluation(spec=spec, metrics=metrics, history=history, wall_time=time.perf_counter() - start,
                            train_time=train_time, seed=seed)
    if train:
        evaluation.extra["step_time"] = timer.seconds
    evaluation.extra["phases"] = phases
    return evaluation
