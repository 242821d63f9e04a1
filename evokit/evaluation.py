"""Evaluation: what one candidate's (single) training run produced.

Every objective reads from an Evaluation; none of them trains again. It pickles (weights are
NumPy arrays, the NetSpec is plain Python), so evaluations travel back from worker processes and
into the fitness cache.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from evokit import tasks
from evokit.errors import ConfigError, check_choice, check_float, check_int
from evokit.netspec import NetSpec
from evokit.netspec.training import MAX_BATCH_SIZE, OPTIMIZERS  # live beside NetSpec.training

FAILURE_REASONS = ("decode_error", "build_error", "nan_loss", "exception", "timeout", "worker_died",
                   "infeasible", "out_of_memory", "evaluator_error", "objective_error", "diverged", "mode_collapse")
"""Why a candidate failed (``Evaluation.reason``); the reliability guide's table says what each means."""

NETWORK_FAILURES = ("decode_error", "build_error", "nan_loss", "exception", "infeasible", "diverged", "mode_collapse")
"""Failures caused by the network itself (its genotype, its build, its own training): they recur
whenever it is trained the same way again, so a trained one is cached like a result. Every other
reason says nothing certain about the network: a timeout, a worker that died, an out-of-memory
error (``"out_of_memory"``, the network may fit another time), a fault outside its training
(``"evaluator_error"``: the evaluator, the map, a lost connection, a result that could not be sent
back) or of an objective computed from its evaluation (``"objective_error"``). Those are never
cached: a network that comes back (later in the run, after a resume, in a later run) is tried again.
``"diverged"`` and ``"mode_collapse"`` are a GAN pair's own failures
(:mod:`evokit.runtime.training.adversarial`): the discriminator won outright, or the generator
draws nearly one image whatever its input."""

OUT_OF_MEMORY_ERRORS = ("MemoryError", "ResourceExhaustedError", "OutOfMemoryError")
"""Class names of out-of-memory errors: Python's, TensorFlow's (``tf.errors``) and PyTorch's. Found
by name (any class in the exception's MRO) so that no framework is imported to recognise them."""


MAX_EPOCHS = 10_000
"""The most epochs (and early-stopping patience) a TrainingConfig takes: a bound that refuses a
typo when the setting is made rather than a training that never ends."""
SCHEDULES = ("constant", "cosine")
"""The learning-rate schedules a TrainingConfig names (see ``TrainingConfig.schedule``)."""


@dataclass(frozen=True)
class TrainingConfig:
    """How every candidate is trained: one shared setting per search (part of the cache key).

    A network that carries training values of its own (``NetSpec.training``: the hyper-parameter
    genes of :class:`evokit.encodings.Hyperparameters`) is trained with those in place of the
    shared ``learning_rate``, ``batch_size`` and ``optimizer`` (:meth:`for_network`).

    Args:
        epochs: passes over the training split.
        batch_size: samples per gradient step.
        optimizer: one of ``OPTIMIZERS``.
        learning_rate: the optimizer's learning rate.
        early_stopping: patience in epochs on the validation loss, or None to train all epochs.
        trace_once: train maskable networks (a chain of conv/pool/dense layers, no merges) in a
            graph traced once per structural signature and reused for every candidate of that
            signature through width/kernel masks (see :mod:`evokit.runtime.training.traced`); other
            networks are trained one model each as usual. Part of the cache key when on: the
            results equal standalone training only up to float reduction order (and dropout
            draws differ), so they are not interchangeable with standalone results.
        loss: the loss to train with, one the data's task offers (``Task.losses``: ``"mse"``,
            ``"mae"`` or ``"huber"`` for regression), or None for the task's own (``Task.loss``:
            MSE for regression, cross-entropy for classification). A name no registered task
            offers is refused here; one the data's task does not offer when the search meets its
            data (``Task.training_loss``). Validation metrics are the task's whatever the loss:
            ``val_loss`` stays the task's own loss, so runs with different losses compare. Part of
            the cache key when set.
        schedule: the learning rate over the epochs: ``"constant"`` (``learning_rate`` throughout)
            or ``"cosine"`` (from ``learning_rate`` at the first epoch down a half cosine towards 0
            at epoch ``epochs``, set at the start of each epoch; with early stopping the schedule
            still spans ``epochs``). A higher rate that decays lets a small network of a search
            reach in 20-40 epochs what a constant 1e-3 reaches in hundreds (MNIST-1D:
            ``benchmarks/mnist1d_quality.py``). Part of the cache key when not constant. GAN
            pairs (:mod:`evokit.runtime.training.adversarial`) train at a constant rate.
        label_smoothing: GANs: real images are labelled ``1 - label_smoothing`` when the
            discriminator learns (one-sided label smoothing); 0 for none. Part of the cache key
            when set.
    """

    epochs: int = 3
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    early_stopping: int | None = None
    trace_once: bool = False
    loss: str | None = None
    label_smoothing: float = 0.0
    schedule: str = "constant"

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, minimum=1, maximum=MAX_EPOCHS)
        check_int("batch_size", self.batch_size, minimum=1, maximum=MAX_BATCH_SIZE)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_float("learning_rate", self.learning_rate, minimum=0.0, exclusive_minimum=True)
        if self.early_stopping is not None:
            check_int("early_stopping", self.early_stopping, minimum=1, maximum=MAX_EPOCHS)
        if not isinstance(self.trace_once, bool):
            raise ConfigError(f"trace_once={self.trace_once!r} is invalid: expected True or False")
        if check_float("label_smoothing", self.label_smoothing, minimum=0.0) >= 0.5:
            raise ConfigError(f"label_smoothing={self.label_smoothing!r} is invalid: expected 0 <= label_smoothing "
                              "< 0.5 (real images are labelled 1 - label_smoothing)")
        if self.loss is not None:
            offered = sorted({name for task in tasks.names() for name in tasks.get(task).losses})
            if not isinstance(self.loss, str) or self.loss not in offered:
                raise ConfigError(f"loss={self.loss!r} is invalid: expected None (the task's own loss) or one of "
                                  + ", ".join(map(repr, offered)))

    def for_network(self, spec: NetSpec | None) -> "TrainingConfig":
        """These settings as network ``spec`` is trained with them: the values it carries
        (``spec.training``) replace the shared ones; self when it carries none."""
        own = {k: v for k, v in getattr(spec, "training", {}).items() if getattr(self, k) != v}
        return dataclasses.replace(self, **own) if own else self

    def key(self) -> str:
        """A stable string naming these settings, for cache keys (``trace_once`` only when on and
        ``loss`` only when set, so that caches written before these options existed stay valid)."""
        return ",".join(f"{k}={v}" for k, v in asdict(self).items()
                        if not (k == "trace_once" and not v) and not (k == "loss" and v is None)
                        and not (k == "label_smoothing" and not v) and not (k == "schedule" and v == "constant"))


@dataclass
class Evaluation:
    """The outcome of evaluating one network.

    Attributes:
        spec: the (canonical) NetSpec that was trained.
        status: ``"ok"``, ``"failed"`` (see ``reason``) or ``"untrained"`` (no objective needed
            training, only analytic ones were computed).
        reason: for failures, one of ``FAILURE_REASONS``; ``message`` says more.
        metrics: validation and training metrics, e.g. ``val_accuracy``, ``val_loss``, ``loss``.
        history: per-epoch training history (Keras' ``History.history``).
        wall_time: seconds spent on this candidate (build, train, validate).
        train_time: seconds spent in the training loop.
        weights: the trained weights (``model.get_weights()``), when kept.
        seed: the seed the candidate was built and trained with.
        companion_weights: a GAN pair's trained discriminator weights (``weights`` are its
            generator's, the network ``spec`` builds), when kept.
    """

    spec: NetSpec | None
    status: str = "ok"
    reason: str | None = None
    message: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)
    wall_time: float = 0.0
    train_time: float = 0.0
    weights: list[Any] | None = None
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    companion_weights: list[Any] | None = None

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def params(self) -> int | None:
        """Parameter count from the NetSpec (None when the genotype did not decode)."""
        return None if self.spec is None else self.spec.params

    @property
    def flops(self) -> int | None:
        return None if self.spec is None else self.spec.flops

    @property
    def spec_hash(self) -> str | None:
        return None if self.spec is None else self.spec.hash

    def model(self) -> Any:
        """The trained Keras model, rebuilt from the NetSpec and the kept weights."""
        from evokit.builder import build

        if self.spec is None or self.weights is None:
            raise ValueError("this evaluation kept no trained weights (failed, untrained, or keep_weights=False)")
        model = build(self.spec, seed=self.seed)
        model.set_weights(self.weights)
        return model

    def without_weights(self) -> "Evaluation":
        """A copy without the weights (what the cache keeps for candidates that are not the best)."""
        copy = Evaluation(**{k: getattr(self, k) for k in self.__dataclass_fields__})
        copy.weights = copy.companion_weights = None
        return copy

    def summary(self) -> dict[str, Any]:
        """JSON-ready metrics of this evaluation (no weights, no history)."""
        return {"status": self.status, "reason": self.reason, "message": self.message[:500],
                "params": self.params, "flops": self.flops, "hash": self.spec_hash,
                "wall_time": round(self.wall_time, 4), "train_time": round(self.train_time, 4),
                **{k: (v if math.isfinite(v) else None) for k, v in self.metrics.items()},
                **{k: v for k, v in self.extra.items() if isinstance(v, (int, float, str))}}


def failure(spec: NetSpec | None, reason: str, message: str, wall_time: float = 0.0) -> Evaluation:
    """A failed Evaluation with its reason (one of FAILURE_REASONS)."""
    assert reason in FAILURE_REASONS, reason
    return Evaluation(spec=spec, status="failed", reason=reason, message=message, wall_time=wall_time)


def describe(exc: BaseException) -> str:
    """An exception as a failure's message: its type and its text."""
    return f"{type(exc).__name__}: {exc}"


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is an out-of-memory error (see ``OUT_OF_MEMORY_ERRORS``; XLA's carry
    ``RESOURCE_EXHAUSTED`` in their text)."""
    return (any(cls.__name__ in OUT_OF_MEMORY_ERRORS for cls in type(exc).__mro__)
            or "RESOURCE_EXHAUSTED" in str(exc))


def exception_failure(spec: NetSpec | None, exc: BaseException, reason: str = "exception", wall_time: float = 0.0,
                      prefix: str = "") -> Evaluation:
    """The failure of a candidate whose evaluation raised ``exc``: reason ``"out_of_memory"`` for
    an out-of-memory error, else ``reason`` (``"exception"``, ``"build_error"`` where the network
    raised it; ``"evaluator_error"`` where something outside its training did). The message is
    ``prefix`` and the exception's type and text."""
    return failure(spec, "out_of_memory" if out_of_memory(exc) else reason, prefix + describe(exc), wall_time)
