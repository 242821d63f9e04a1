"""The adversarial training loop of a GAN candidate (a :class:`~evokit.netspec.GANSpec`).

Each step alternates: the discriminator learns to tell a batch of real images (label 1, or
``1 - label_smoothing``) from a batch of generated ones (label 0); then the generator learns, on
new latent vectors, to make the updated discriminator call its images real (the usual
non-saturating loss, ``-log D(G(z))``). Both use binary cross-entropy on logits and Adam with
``beta_1 = 0.5`` (DCGAN's setting) when the training config names Adam. Real images are scaled to
the generator's ``tanh`` range [-1, 1]; batches and latent vectors come from NumPy generators
seeded with the candidate's seed, full batches only (one traced step per pair).

A GAN that fails is recorded, not raised, with its reason:

* ``nan_loss``: a loss became NaN or infinite;
* ``diverged``: the discriminator won outright over the last epoch (it told real from generated
  on at least :data:`WIN_ACCURACY` of both and its loss fell under :data:`WIN_LOSS`): the
  generator then gets no useful gradient and its images stop improving;
* ``mode_collapse``: the generated images are far less varied than the real ones (their mean
  pairwise feature distance under :data:`COLLAPSE_RATIO` of the real images'): the generator
  draws a few images whatever its input.

The step uses TensorFlow's ``GradientTape`` (Keras 3 has no backend-neutral way to train two
models against each other); on another backend a GAN candidate fails with a message saying so.
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from evokit.evaluation import Evaluation, TrainingConfig, exception_failure, failure
from evokit.netspec import GANSpec
from evokit.runtime.training import generated
from evokit.runtime.training.compiling import optimizer
from evokit.runtime.training.seeds import seed_candidate

WIN_ACCURACY = 0.99
"""The discriminator's accuracy on real and on generated images over the last epoch at or above
which (with a loss under :data:`WIN_LOSS`) a pair counts as ``diverged``."""
WIN_LOSS = 0.05
"""(Above the smoothed real label's entropy with label smoothing.)"""
COLLAPSE_RATIO = 0.1
"""Generated images whose mean pairwise feature distance is under this share of the real
images' count as ``mode_collapse``."""


def fit(spec: GANSpec, data: Any, config: TrainingConfig, seed: int, start: float,
        weights: list[Any] | None = None, train: bool = True) -> tuple[Evaluation, Any]:
    """Build and train the pair, score the generator on the validation split: its Evaluation
    (``weights``: the generator's, ``companion_weights``: the discriminator's) and the generator
    (None when it failed)."""
    import keras

    from evokit.builder import build

    if keras.config.backend() != "tensorflow":
        return failure(spec, "exception", f"GAN training needs the TensorFlow backend (KERAS_BACKEND="
                       f"{keras.config.backend()!r})", time.perf_counter() - start), None
    try:
        seed_candidate(seed)
        spec.validate()
        generator = build(spec.generator, seed=seed, name="generator")
        discriminator = build(spec.discriminator, seed=(seed + 7919) % 2**31, name="discriminator")
        if weights is not None:
            generator.set_weights(weights)
    except Exception as exc:  # noqa: BLE001 - a pair that cannot be built fails alone
        return exception_failure(spec, exc, "build_error", time.perf_counter() - start), None
    history: dict[str, list[float]] = {}
    fit_start = time.perf_counter()
    if train:
        history = _train(generator, discriminator, spec, data, config, seed)
        _recalibrate(generator, spec.latent_size, seed)
        reason = _failed(history, 1.0 - config.label_smoothing)
        if reason is not None:
            return failure(spec, reason[0], reason[1], time.perf_counter() - start), None
    train_time = time.perf_counter() - fit_start if train else 0.0
    try:
        metrics, real_features, fake_features = generated.score(generator, data, "val")
    except ValueError as exc:  # non-finite images give features the scores refuse
        if np.isfinite(generated.generate(generator, 8, generated.SCORING_LATENT_SEED)).all():
            raise
        return failure(spec, "nan_loss", f"generated images are not finite ({exc})", time.perf_counter() - start), None
    if not all(math.isfinite(v) for v in metrics.values()):
        return failure(spec, "nan_loss", f"validation metrics not finite: {metrics}", time.perf_counter() - start), None
    collapse = _collapsed(real_features, fake_features)
    if collapse is not None:
        return failure(spec, "mode_collapse", collapse, time.perf_counter() - start), None
    if history:
        metrics.update(loss=history["loss"][-1], d_loss=history["d_loss"][-1],
                       d_accuracy=history["d_accuracy"][-1])
    evaluation = Evaluation(spec=spec, metrics=metrics, history=history, wall_time=time.perf_counter() - start,
                            train_time=train_time, seed=seed)
    evaluation.companion_weights = [np.asarray(w) for w in discriminator.get_weights()]
    evaluation.extra[generated.SAMPLES_KEY] = generated.grid_samples(generator)
    return evaluation, generator


def _optimizer(config: TrainingConfig, learning_rate: float) -> Any:
    import dataclasses

    import keras

    if config.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.5)
    return optimizer(dataclasses.replace(config, learning_rate=learning_rate))


def _train(generator: Any, discriminator: Any, spec: GANSpec, data: Any, config: TrainingConfig,
           seed: int) -> dict[str, list[float]]:
    """Alternating steps for ``config.epochs`` epochs; the history per epoch: ``d_loss``,
    ``loss`` (the generator's), ``d_accuracy`` (real and generated together), ``d_real``,
    ``d_fake`` (the discriminator's accuracy on each). Stops at the first non-finite loss."""
    import keras
    import tensorflow as tf

    real_images = generated.to_unit(data, data.x_train)
    size = min(config.batch_size, len(real_images))
    g_opt = _optimizer(config, config.learning_rate)
    d_opt = _optimizer(config, float(spec.discriminator.training.get("learning_rate", config.learning_rate)))
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    real_label = 1.0 - config.label_smoothing

    @tf.function
    def step(real: Any, z_d: Any, z_g: Any) -> Any:
        with tf.GradientTape() as tape:
            real_logits = discriminator(real, training=True)
            fake_logits = discriminator(generator(z_d, training=True), training=True)
            d_loss = (bce(tf.fill(tf.shape(real_logits), real_label), real_logits)
                      + bce(tf.zeros_like(fake_logits), fake_logits))
        d_opt.apply_gradients(zip(tape.gradient(d_loss, discriminator.trainable_variables),
                                  discriminator.trainable_variables))
        with tf.GradientTape() as tape:
            logits = discriminator(generator(z_g, training=True), training=True)
            g_loss = bce(tf.ones_like(logits), logits)
        g_opt.apply_gradients(zip(tape.gradient(g_loss, generator.trainable_variables),
                                  generator.trainable_variables))
        return (d_loss, g_loss, tf.reduce_mean(tf.cast(real_logits > 0, tf.float32)),
                tf.reduce_mean(tf.cast(fake_logits < 0, tf.float32)))

    rng = np.random.default_rng(seed)
    latent = spec.latent_size
    history: dict[str, list[float]] = {k: [] for k in ("d_loss", "loss", "d_accuracy", "d_real", "d_fake")}
    for _ in range(config.epochs):
        order = rng.permutation(len(real_images))
        sums = np.zeros(4)
        steps = 0
        for i in range(0, len(order) - size + 1, size):
            z = rng.standard_normal((2, size, latent)).astype(np.float32)
            out = np.array([float(v) for v in step(real_images[order[i:i + size]], z[0], z[1])])
            sums += out
            steps += 1
            if not np.isfinite(out[:2]).all():
                break
        d_loss, g_loss, d_real, d_fake = sums / max(steps, 1)
        history["d_loss"].append(float(d_loss))
        history["loss"].append(float(g_loss))
        history["d_real"].append(float(d_real))
        history["d_fake"].append(float(d_fake))
        history["d_accuracy"].append(float((d_real + d_fake) / 2))
        if not (math.isfinite(d_loss) and math.isfinite(g_loss)):
            break
    return history


def _recalibrate(generator: Any, latent: int, seed: int, n: int = 1024) -> None:
    """Set the generator's batch-norm moving statistics to those of ``n`` generated samples.

    Keras keeps moving averages (momentum 0.99): after the few hundred steps a search trains a
    pair, a good part of them is still their initial value, and the generator would be scored
    (and exported) with statistics it never trained with. One forward pass at momentum 0 over a
    large batch replaces them with what the trained generator actually produces."""
    layers = [layer for layer in generator.layers if hasattr(layer, "moving_mean") and hasattr(layer, "momentum")]
    if not layers:
        return
    momenta = [layer.momentum for layer in layers]
    try:
        for layer in layers:
            layer.momentum = 0.0
        generator(generated.latent(n, latent, seed), training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum


def _failed(history: dict[str, list[float]], real_label: float = 1.0) -> tuple[str, str] | None:
    """``(reason, message)`` when the training diverged, else None. With label smoothing the
    discriminator's loss cannot fall under the entropy of the smoothed label: the threshold is
    :data:`WIN_LOSS` above it."""
    d_loss, g_loss = history["d_loss"][-1], history["loss"][-1]
    if not (math.isfinite(d_loss) and math.isfinite(g_loss)):
        return "nan_loss", (f"training loss became {g_loss if not math.isfinite(g_loss) else d_loss} in epoch "
                            f"{len(history['loss'])} (discriminator {d_loss:.4g}, generator {g_loss:.4g})")
    floor = 0.0 if real_label >= 1.0 else -(real_label * math.log(real_label)
                                            + (1 - real_label) * math.log(1 - real_label))
    if history["d_real"][-1] >= WIN_ACCURACY and history["d_fake"][-1] >= WIN_ACCURACY and d_loss < floor + WIN_LOSS:
        return "diverged", (f"the discriminator won outright: over the last epoch it told {history['d_real'][-1]:.1%} "
                            f"of the real and {history['d_fake'][-1]:.1%} of the generated images apart (loss "
                            f"{d_loss:.3g}; the generator's {g_loss:.3g}), so the generator learned nothing more")
    return None


def _spread(x: np.ndarray, n: int = 256) -> float:
    """Mean pairwise Euclidean distance among the first ``n`` rows of ``x``."""
    x = np.asarray(x[:n], np.float64)
    squared = (x * x).sum(1)
    d2 = np.maximum(squared[:, None] + squared[None, :] - 2.0 * x @ x.T, 0.0)
    m = len(x)
    return float(np.sqrt(d2).sum() / max(m * (m - 1), 1))


def _collapsed(real: np.ndarray, fake: np.ndarray) -> str | None:
    """A message when the generated features are far less spread than the real ones, else None."""
    real_spread, fake_spread = _spread(real), _spread(fake)
    if real_spread > 0 and fake_spread < COLLAPSE_RATIO * real_spread:
        return (f"mode collapse: the generated images' mean pairwise feature distance is {fake_spread:.3g}, "
                f"{fake_spread / real_spread:.1%} of the real images' {real_spread:.3g} (under "
                f"{COLLAPSE_RATIO:.0%}): the generator draws nearly the same image whatever its input")
    return None
