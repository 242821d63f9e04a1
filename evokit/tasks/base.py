"""The Task interface: what kind of problem a dataset poses, and everything that follows from it.

A task is the one place that knows its output layer, its loss, how its predictions are scored,
which metric the report leads with and which targets it accepts. The trainer, the encodings'
heads and the datasets ask it; none of them branches on the task's name, so a new task is one
module (plus its tests), not edits across the trainer, the report and the CLI.

``Dataset.task`` stays a string (pickled datasets and run directories carry strings);
:func:`evokit.tasks.get` turns a name into its task. This module imports neither TensorFlow nor
Keras: a task names its loss and Keras builds it.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, NamedTuple

import numpy as np

from evokit.errors import invalid
from evokit.params import Configurable


class Head(NamedTuple):
    """The network's last (Dense) layer: its activation and its number of units."""

    activation: str
    units: int


class Metric(NamedTuple):
    """A metric by its name without a split prefix (``accuracy``, ``r2``) and its direction, with
    how the report and the CLI show it: ``label`` names it in sentences (``test R²: 0.49``; the
    name when empty), ``short`` in narrow column headers (``val_acc``; the label when empty), and
    ``percent`` says its values are fractions shown as percentages (accuracy)."""

    name: str
    higher_is_better: bool
    label: str = ""
    short: str = ""
    percent: bool = False

    @property
    def title(self) -> str:
        """How sentences name the metric: ``label``, else ``name``."""
        return self.label or self.name

    @property
    def abbreviation(self) -> str:
        """How narrow column headers name the metric: ``short``, else :attr:`title`."""
        return self.short or self.title

    def key(self, prefix: str = "val_") -> str:
        """The metric's key in an Evaluation's metrics (``val_accuracy``) or a test score (``test_...``)."""
        return f"{prefix}{self.name}"


class Task(Configurable, ABC):
    """A kind of problem: output layer, loss, scoring, headline metric and the targets it accepts.

    Contract for implementations:

    * ``name`` is the string a ``Dataset.task`` carries and :func:`evokit.tasks.get` resolves;
      one module per task, registered by one line in ``evokit/tasks/__init__.py``.
    * ``head(n_outputs)`` is the network's output layer (activation, units); ``add_head`` asks
      it each time an encoding decodes a genotype into a NetSpec.
    * ``loss()`` is the loss a model is compiled with by default: a name Keras 3 knows or a
      ``keras.losses`` object. Asked once per model (or per traced graph), just before training;
      predictions of a model trained with it are what ``score`` expects.
    * ``losses`` names the losses a ``TrainingConfig(loss=...)`` may choose instead (Keras 3
      names, e.g. ``("mse", "mae", "huber")``); ``()`` when the task offers no choice.
      ``training_loss(name)`` resolves the choice (None: ``loss()``) and raises ConfigError
      naming ``loss`` and the allowed names otherwise; the trainer and the objectives' ``setup``
      (when a search meets its data) call it. ``score``'s ``loss`` stays the default loss
      whatever was chosen, so validation losses compare across choices.
    * ``score(y_true, y_pred, prefix)`` scores predictions with NumPy alone: a dict of plain
      floats keyed ``prefix + metric`` (``val_accuracy``, ``val_loss``), always holding ``loss``
      (the loss as ``loss()`` computes it: early stopping watches ``val_loss``) and the headline.
      Called on the validation split after training and, with early stopping, after every epoch
      (``val_``); on the test split for the best model (``test_``). A non-finite value fails the
      candidate.
    * ``headline`` is the :class:`Metric` the report and the CLI show first, and its direction.
    * ``targets(y, y_test)`` validates and encodes a dataset's targets before it is split:
      ``(y, y_test, classes)``, raising DataError that names ``y`` or ``y_test``; called by
      :func:`evokit.datasets.from_arrays` and :func:`evokit.datasets.load`. ``n_outputs(y,
      classes)`` is the width of the head such targets need (``Dataset.n_outputs``).
    * ``check_encoded(field, y, classes)`` raises DataError naming ``field`` unless ``y`` holds
      targets as ``targets`` encodes them; called by ``Dataset`` for every split each time one is
      made (never when one is unpickled), so it must be cheap: no copy of ``y``. The default
      accepts anything (a task that adds nothing to check).
    * ``check_inputs(field, sample_shape, y, samples)`` raises DataError naming ``field`` unless
      targets ``y`` fit samples of ``sample_shape`` (a mask per image of the same size), or
      naming ``samples`` (the samples' own field) when the samples cannot hold what the task
      needs; called by ``Dataset`` for every split and by ``from_arrays``. The default accepts
      any samples.
    * ``class_codes``: True when targets are class codes ``0..K-1`` (``classes`` holds the
      original labels, ``Dataset.n_classes`` counts them). ``stratified``: True when
      train/validation/test splits and subsets keep each class's share (one label per sample).
    * ``per_pixel``: True when the network answers per position of its input (a mask per
      image): ``add_head`` then ends with a 1x1 convolution at the input's resolution instead of
      a flatten and a dense layer, and encodings that cannot keep the resolution refuse the data.
    * ``generative``: True when the network generates samples instead of predicting targets
      (GANs): a candidate is a :class:`~evokit.netspec.GANSpec` trained by its own adversarial
      loop, and ``score(real, fake)`` compares *features* of real and generated samples (the
      trainer computes them) instead of targets and predictions. Only encodings that decode
      such pairs (``Encoding.generative``) accept the data.
    * Constructors take keywords only and store them (scikit-learn style); ``repr`` shows them and
      ``==``/``hash`` follow it, because a task enters cache keys (a traced graph is compiled
      with its loss).
    """

    name: str = "task"
    stratified: bool = False
    class_codes: bool = False
    per_pixel: bool = False
    generative: bool = False
    losses: tuple[str, ...] = ()

    def __init__(self) -> None:
        """A task without settings (the built-in ones); a task with settings takes them as keywords."""

    @abstractmethod
    def head(self, n_outputs: int) -> Head:
        """The output layer for ``n_outputs`` outputs (classes or targets)."""

    @abstractmethod
    def loss(self) -> Any:
        """The Keras 3 loss to compile with: a name (``"mse"``) or a ``keras.losses`` object."""

    def training_loss(self, name: str | None = None) -> Any:
        """The loss to compile with: :meth:`loss` for None, else ``name`` if it is one of
        :attr:`losses`; ConfigError naming ``loss`` otherwise."""
        if name is None:
            return self.loss()
        if name not in self.losses:
            allowed = (f"expected one of {', '.join(map(repr, self.losses))} for a {self.name} task"
                       if self.losses else f"a {self.name} task trains with its own loss only (loss=None)")
            raise invalid("loss", name, f"{allowed} (None: {self.loss()!r})")
        return name

    @abstractmethod
    def score(self, y_true: np.ndarray, y_pred: np.ndarray, prefix: str = "val_") -> dict[str, float]:
        """Metrics of ``y_pred`` (the model's outputs) against ``y_true``, keyed ``prefix + name``."""

    @property
    @abstractmethod
    def headline(self) -> Metric:
        """The metric the report and the CLI lead with."""

    @abstractmethod
    def targets(self, y: np.ndarray, y_test: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray | None, tuple]:
        """``y`` and ``y_test`` checked and encoded, and the class labels (``()`` without classes)."""

    @abstractmethod
    def n_outputs(self, y: np.ndarray, classes: tuple) -> int:
        """The head's width for targets ``y`` (encoded by :meth:`targets`) with these ``classes``."""

    def check_encoded(self, field: str, y: np.ndarray, classes: tuple) -> None:
        """Raise DataError naming ``field`` unless ``y`` holds targets as :meth:`targets` encodes
        them (``classes`` as a Dataset holds them, ``()`` when not known yet)."""

    def check_inputs(self, field: str, sample_shape: tuple[int, ...], y: np.ndarray, samples: str = "X") -> None:
        """Raise DataError naming ``field`` unless targets ``y`` fit samples of ``sample_shape``
        (one sample's shape, without the batch axis), or naming ``samples`` (the field of the
        samples, e.g. ``x_train``) when such samples do not suit the task. The default accepts
        any samples."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))
