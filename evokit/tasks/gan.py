"""GAN: learn to generate images like the data's, scored by a Fréchet distance on features.

A candidate is a generator (latent vector -> image) and a discriminator (image -> one real/fake
logit) trained against each other (:class:`evokit.netspec.GANSpec`, trained by
:mod:`evokit.runtime.training.adversarial`). Nothing predicts the targets: the labels a dataset
carries (digits' classes) only train the small classifier whose features the Fréchet distance
compares (:mod:`evokit.fitness.features`); a set without classes is fine.

``score(real, fake)`` takes *features* of real and of generated images, not targets and
predictions: the Fréchet distance between Gaussians fitted to them (lower is better: the
headline), improved precision and recall, density and coverage (:mod:`evokit.tasks.frechet`).
Its ``loss`` is the Fréchet distance, the quantity a GAN search minimises. Splits are
stratified when there are classes.
"""
from __future__ import annotations


import numpy as np

from evokit.errors import invalid_data
from evokit.tasks.base import Head, Metric, Task
from evokit.tasks.classification import Classification
from evokit.tasks.frechet import scores as feature_scores


NEIGHBOURS = 5
"""k of the k-nearest-neighbour balls of precision, recall, density and coverage (fewer for
smaller sets)."""


class GAN(Task):
    """Image generation: a generator and its discriminator, trained adversarially.

    The discriminator's head is one linear unit (a logit), trained with binary cross-entropy on
    logits; the generator ends in ``tanh`` (images are scaled to [-1, 1] for training and back to
    the data's range for scoring). Targets are optional class labels (``y=None`` or any one
    value: one class) kept for the feature classifier.
    """

    name = "gan"
    stratified = True
    class_codes = True
    generative = True

    def head(self, n_outputs: int) -> Head:
        return Head("linear", 1)

    def loss(self) -> str:
        """Binary cross-entropy: the adversarial trainer applies it to the discriminator's logits."""
        return "binary_crossentropy"

    def score(self, y_true: np.ndarray, y_pred: np.ndarray, prefix: str = "val_") -> dict[str, float]:
        """Features of real images (``y_true``) against features of generated ones (``y_pred``):
        ``frechet`` (also ``loss``), ``precision``, ``recall``, ``density``, ``coverage``."""
        real, fake = np.asarray(y_true), np.asarray(y_pred)
        out = feature_scores(real, fake, prefix, k=max(1, min(NEIGHBOURS, len(real) - 1, len(fake) - 1)))
        out[f"{prefix}loss"] = out[f"{prefix}frechet"]
        return out

    @property
    def headline(self) -> Metric:
        return Metric("frechet", higher_is_better=False, label="Fréchet distance", short="FD")

    def targets(self, y: np.ndarray, y_test: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray | None, tuple]:
        """Class labels as classification encodes them; one class (or ``y`` all equal) is allowed."""
        y = np.asarray(y)
        if y.ndim != 1:
            raise invalid_data("y", f"array of shape {y.shape}", "expected 1-D class labels (or None) for a "
                               "gan task: images need no targets")
        if len(np.unique(y)) < 2:
            codes = np.zeros(len(y), np.int64)
            test_codes = None if y_test is None else np.zeros(len(y_test), np.int64)
            return codes, test_codes, (y[0].item() if len(y) and hasattr(y[0], "item") else 0,)
        return Classification().targets(y, y_test)

    def n_outputs(self, y: np.ndarray, classes: tuple) -> int:
        return 1

    def check_encoded(self, field: str, y: np.ndarray, classes: tuple) -> None:
        Classification().check_encoded(field, y, classes)

    def check_inputs(self, field: str, sample_shape: tuple[int, ...], y: np.ndarray, samples: str = "X") -> None:
        if len(sample_shape) != 3:
            raise invalid_data(samples, f"samples of shape {tuple(sample_shape)}", "a gan task generates images: "
                               "expected (n, height, width, channels)")
