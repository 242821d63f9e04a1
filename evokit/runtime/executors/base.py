"""The Evaluator interface every executor implements, and the unit of work it trains.

An evaluator is started once with the settings every candidate shares (:class:`JobSettings`:
the data and the training settings, sent to each worker once, not with every candidate), then
trains lists of :class:`Job` (one candidate each) and returns their Evaluations in order. This
module knows no backend: the backends (``serial``, ``process``, ``map``, ``dask``) import it,
and only :mod:`evokit.runtime.executors.factory` knows them all.
"""
from __future__ import annotations

import collections
import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from evokit.evaluation import (Evaluation, TrainingConfig, describe,  # noqa: F401 - describe: re-exported
                               exception_failure)
from evokit.fitness.probes import Probe
from evokit.netspec import NetSpec
from evokit.runtime.training.workers import configure_threads


@dataclass(frozen=True)
class JobSettings:
    """What every candidate of one evaluator shares, set by :meth:`Evaluator.start` (pickled to
    the workers once): the data, the training settings, whether trained weights come back, the
    objectives' probes, and the TensorFlow threads of each process that trains (None: leave
    TensorFlow's default)."""

    data: Any
    config: TrainingConfig
    keep_weights: bool = True
    probes: tuple = ()
    threads: int | None = None

    def same_as(self, other: JobSettings | None) -> bool:
        """Whether workers started with ``other`` can serve these settings: the same data object
        (arrays are too large to compare) and equal settings otherwise."""
        return other is not None and self.data is other.data and (
            self.config, self.keep_weights, self.probes, self.threads) == (
            other.config, other.keep_weights, other.probes, other.threads)


@dataclass(frozen=True)
class Job:
    """One candidate to train: its network, its seed, and optionally the weights it starts from
    (``fit=False``: scored with those weights as they are, without training) and a number of
    epochs other than the settings' (a rung of successive halving: the workers keep their
    settings)."""

    spec: NetSpec
    seed: int
    weights: list[Any] | None = None
    fit: bool = True
    epochs: int | None = None

    def run(self, settings: JobSettings) -> Evaluation:
        """Train this candidate under ``settings``, in whatever process the evaluator runs it.
        Never raises. The trainer turns the network's own errors into its failure (``"exception"``,
        ``"build_error"``, ``"nan_loss"``); an exception that reaches this guard came from outside
        the network's training (the process's set-up, a probe's clean-up) and fails it with reason
        ``"evaluator_error"`` (``"out_of_memory"`` for an out-of-memory error): not cached, so the
        network is tried again when it comes back."""
        from evokit.runtime.training.trainer import train  # imports TensorFlow: only where training happens

        config = settings.config
        if self.epochs is not None and self.epochs != config.epochs:
            config = dataclasses.replace(config, epochs=self.epochs)
        try:
            configure_threads(settings.threads)
            return train(self.spec, settings.data, config, self.seed, settings.keep_weights, settings.probes,
                         weights=self.weights, fit=self.fit)
        except Exception as exc:  # noqa: BLE001 - the trainer catches its own; this is the last guard
            return exception_failure(self.spec, exc, "evaluator_error")

    def cost(self, default_epochs: int) -> int:
        """A rough size of this job's work, to send the largest first: forward FLOPs per sample
        times epochs (a job that only scores counts one)."""
        epochs = (self.epochs or default_epochs) if self.fit else 1
        return self.spec.flops * max(1, epochs)


def largest_first(jobs: Sequence[Job], default_epochs: int) -> collections.deque[int]:
    """Job indices in the order a pool should start them: the largest first, so that a batch
    does not end on a big network while the other workers idle (ties keep their order)."""
    return collections.deque(sorted(range(len(jobs)), key=lambda i: -jobs[i].cost(default_epochs)))


OnResult = Callable[[int, Evaluation], None]
"""``on_result(i, evaluation)``: called by ``train`` as job ``i`` finishes."""

_JOB_FIELDS = ("data", "config", "keep_weights", "probes")  # public attributes of evaluators pickled before JobSettings


class Evaluator(ABC):
    """Trains candidates. Use as a context manager, or call ``start`` and ``close``.

    Contract for implementations (``tests/runtime/test_evaluator_conformance.py`` checks it for
    every evaluator):

    * ``train(jobs, on_result)`` returns one Evaluation per job, in the order of ``jobs``,
      whatever order they ran in.
    * ``on_result(i, evaluation)`` is called exactly once per job, as it finishes (in any
      order), before ``train`` returns.
    * A failure of one candidate (an exception, a NaN loss, a network that cannot be built, a
      timeout, a worker process that dies) comes back as that candidate's failed Evaluation with
      a ``reason`` from ``evokit.evaluation.FAILURE_REASONS`` and a message, never as an
      exception; the other candidates train as usual. Which of those an evaluator can meet
      depends on where it trains: only one with a ``timeout`` stops a candidate that hangs, and
      only one that owns its worker processes (ProcessEvaluator, DaskEvaluator) survives a
      worker that dies; SerialEvaluator and a plain ``map`` run candidates where neither can be
      survived.
    * A failure the evaluator meets outside the candidate's training (the map or a future
      raised, a result that could not be sent back or unpickled, the cluster cancelled the task)
      is not the network's: it comes back with reason ``"evaluator_error"`` (``"out_of_memory"``
      for an out-of-memory error), which is never cached (``evokit.evaluation.NETWORK_FAILURES``).
    * ``start`` and ``close`` may be called repeatedly: ``start`` again (after ``close`` or not)
      sets new settings and the next ``train`` uses them; ``close`` releases workers, pools,
      clients and clusters, and does nothing more the second time.
    * Pickling keeps only the configuration (the constructor's arguments): no pool, client,
      cluster, queue, nor the settings of ``start``; an unpickled evaluator works once started.
      A MapEvaluator pickles only if its map function does.
    """

    threads_per_worker: int | None = None
    """TensorFlow threads of each process that trains (None: TensorFlow's default)."""

    _job: JobSettings | None = None

    def start(self, data: Any, config: TrainingConfig, keep_weights: bool = True,
              probes: Sequence[Probe] = ()) -> "Evaluator":
        """Called before the first ``train`` (and again after ``close``, or for new data): set the
        settings every candidate shares. Returns the evaluator."""
        settings = JobSettings(data, config, keep_weights, tuple(probes), self.threads_per_worker)
        if not settings.same_as(self._job):
            self._settings_changed()
        self._job = settings
        return self

    @property
    def job(self) -> JobSettings:
        """The settings of the last ``start``."""
        if self._job is None:
            raise RuntimeError(f"{type(self).__name__} is not started: call start(data, config) before train")
        return self._job

    @abstractmethod
    def train(self, jobs: Sequence[Job], on_result: OnResult | None = None) -> list[Evaluation]:
        """Called once per batch of new networks (a generation, a rung of successive halving):
        train every job; the result list is in the order of ``jobs``. ``on_result(i,
        evaluation)`` is called as each one finishes (so that it can be saved at once)."""

    def close(self) -> None:
        """Called at the end of a search (and on leaving a ``with`` block): release workers; the
        evaluator may be started again."""

    def _settings_changed(self) -> None:
        """Called by ``start`` when the settings differ from the last start's: whatever holds the
        old ones (workers started with them) goes. Nothing by default."""

    def _reset(self) -> None:
        """Called by the constructor and after unpickling: the live state (pools, clients,
        queues) of an evaluator that has started nothing yet. Nothing by default."""

    def __getstate__(self) -> dict[str, Any]:
        """The configuration only: private (live) attributes and the settings of ``start`` stay out."""
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_") and k not in _JOB_FIELDS}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # pickles written before this filter may hold live state or the job: drop both
        self.__dict__.update({k: v for k, v in state.items() if not k.startswith("_") and k not in _JOB_FIELDS})
        self._reset()

    def __enter__(self) -> "Evaluator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
