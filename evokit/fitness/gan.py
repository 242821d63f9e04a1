"""The GAN objectives: how close a generator's images come to the data's.

:class:`FrechetDistance` (minimised) reads ``val_frechet``: the Fréchet distance between
Gaussians fitted to features of the validation images and of as many generated ones (FID's
formula, on the features of a small classifier evokit trains once on the same data, not
Inception's: see :mod:`evokit.fitness.features`). :class:`Coverage`, :class:`Precision` and
:class:`Recall` (maximised) read the share of real images a generator's images come near, and
the converse (:mod:`evokit.tasks.frechet`). Pair them with :class:`~evokit.fitness.ParameterCount`
(the generator's parameters) or :class:`~evokit.fitness.CO2`::

    ek.Search(encoding=ek.encodings.DCGAN(), objectives=[ek.fitness.FrechetDistance(epochs=5)],
              algorithm=ek.algorithms.PSO(), data=ek.datasets.load("digits", task="gan"))

Their arguments say how every pair is trained (the same for all, like ValidationAccuracy's):
epochs, batch size, the optimizer and a learning rate for networks whose genotype carries none,
and one-sided ``label_smoothing``. A failed pair (``nan_loss``, ``diverged``, ``mode_collapse``)
gets the worst value.
"""
from __future__ import annotations

from typing import Any, Callable

from evokit import tasks
from evokit.errors import ConfigError
from evokit.evaluation import Evaluation, TrainingConfig
from evokit.fitness import features as feature_extractors
from evokit.fitness.probes import Probe
from evokit.fitness.validation import ValidationMetric


class FeaturesProbe(Probe):
    """Makes every process that trains a pair score it with the search's feature extractor.

    Made with the objective, filled by its ``setup`` (the extractor fitted to the search's data),
    so that its ``key`` (the extractor's settings, part of the cache key and of a run's identity)
    is the same before and after the fit, and after a resume.
    """

    slot = "features"

    def __init__(self, features: Any):
        self.features = features
        self.extractor: Callable[[Any], Any] | None = None
        self.fingerprint: str | None = None

    @property
    def key(self) -> str:
        return f"FeaturesProbe({feature_extractors.key(self.features)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FeaturesProbe) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def fit(self, data: Any) -> None:
        """Fit the extractor to ``data`` (unless this probe holds one fitted to it already: a
        resumed search keeps the one it scored with) and score with it in this process."""
        if self.extractor is None or self.fingerprint != data.fingerprint:
            self.extractor = feature_extractors.fitted(data, self.features)
            self.fingerprint = data.fingerprint
        feature_extractors.install(self.fingerprint, self.extractor)

    def begin(self) -> None:
        if self.extractor is not None and self.fingerprint is not None:
            feature_extractors.install(self.fingerprint, self.extractor)


class _GeneratedMetric(ValidationMetric):
    """A metric of a generator's validation images; trains pairs with these settings."""

    needs = "gan"
    instead = "load the data with task='gan' (e.g. ek.datasets.load('digits', task='gan'))"

    def __init__(self, epochs: int = 5, batch_size: int = 64, optimizer: str = "adam", learning_rate: float = 2e-4,
                 label_smoothing: float = 0.0, features: Any = "auto"):
        super().__init__()
        self.training = TrainingConfig(epochs=epochs, batch_size=batch_size, optimizer=optimizer,
                                       learning_rate=learning_rate, label_smoothing=label_smoothing)
        self.features = features
        self._probe = FeaturesProbe(feature_extractors.resolve(features))

    def check(self, data: Any, training: TrainingConfig | None) -> None:
        """Refuse data of another task (ConfigError naming this objective)."""
        if getattr(data, "task", None) is not None and not tasks.get(data.task).generative:
            raise ConfigError(f"{type(self).__name__} needs gan data: it scores a generator's images, and "
                              f"{data.name!r} is {data.task} data; {self.instead}")

    def setup(self, data: Any, training: TrainingConfig | None) -> None:
        """:meth:`check`, then fit the feature extractor here, once, for every worker."""
        self.check(data, training)
        if getattr(data, "task", None) is not None:
            self._probe.fit(data)

    def probes(self) -> tuple[Probe, ...]:
        return (self._probe,)

    def compute(self, evaluation: Evaluation) -> float:
        if self.metric not in evaluation.metrics:
            raise ConfigError(f"{type(self).__name__} needs gan data: the evaluation has no {self.metric} ({self.instead})")
        return evaluation.metrics[self.metric]

    def __repr__(self) -> str:
        t = self.training
        return (f"{type(self).__name__}(epochs={t.epochs}, batch_size={t.batch_size}, optimizer={t.optimizer!r}, "
                f"learning_rate={t.learning_rate}, label_smoothing={t.label_smoothing}, features={self.features!r})")


class FrechetDistance(_GeneratedMetric):
    """Fréchet distance between features of the validation images and of as many generated
    images (lower is better; 0 for identical feature statistics). The GAN task's headline.

    Args:
        epochs, batch_size, optimizer, learning_rate, label_smoothing: how every pair trains
            (a pair whose genotype carries learning rates uses those).
        features: ``"auto"`` (the default: ``"classifier"`` for data with classes, ``"random"``
            otherwise), ``"classifier"`` (a small CNN trained once on the data's labels),
            ``"random"`` (the same network untrained), a :class:`~evokit.fitness.features.ClassifierFeatures`,
            or a picklable callable ``images -> (n, d)`` features of your own (images as the data
            holds them).
    """

    name = "val_frechet"
    metric = "val_frechet"
    weight = -1.0
    failure = None


class Coverage(_GeneratedMetric):
    """Share of validation images with a generated image among their nearest neighbours'
    ball (Naeem et al. 2020, k=5; in [0, 1], higher is better): low when modes are missed."""

    name = "val_coverage"
    metric = "val_coverage"
    weight = 1.0
    failure = 0.0


class Precision(_GeneratedMetric):
    """Share of generated images inside the real images' k-NN balls (Kynkäänniemi et al. 2019):
    how many look like some real image. Higher is better."""

    name = "val_precision"
    metric = "val_precision"
    weight = 1.0
    failure = 0.0


class Recall(_GeneratedMetric):
    """Share of real images inside the generated images' k-NN balls: how much of the data's
    variety the generator reaches. Higher is better."""

    name = "val_recall"
    metric = "val_recall"
    weight = 1.0
    failure = 0.0
