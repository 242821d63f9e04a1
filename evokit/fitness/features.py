"""Feature extractors for scoring generated images: what the Fréchet distance compares.

FID compares Inception-v3 features, but those weights cannot be downloaded here and were trained
on photographs, not on 8x8 digits or microscope crops. evokit instead trains a small classifier
once on the data's own labelled training split and reads its penultimate layer
(:class:`ClassifierFeatures`, ``features="classifier"``): features that separate the data's
classes, so a generator that draws the wrong shapes, too few kinds of them or blurry ones is
told apart. Data without classes can use the same network untrained (``features="random"``:
random convolutional features, a weaker but label-free yardstick). A user may pass any
picklable callable ``images -> (n, d) features``.

An extractor sees images as the data holds them (``x_train``'s scale). A fitted extractor is a
small picklable object (a NetSpec and NumPy weights): a search fits it once in its own process
(:func:`fitted`, cached per data and settings) and sends it to worker processes, which build its
Keras model once each (:func:`install` / :func:`for_data`).
"""
from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from evokit.errors import ConfigError, check_choice, check_int
from evokit.netspec import Conv2D, Dense, Graph, GlobalPool, NetSpec

KINDS = ("auto", "classifier", "random")
FEATURE_UNITS = 64
"""Width of the feature layer (the classifier's penultimate layer)."""


def _network(input_shape: tuple[int, ...], n_classes: int, width: int) -> NetSpec:
    """conv(w) > conv(w, stride 2) > conv(2w, stride 2) > global average > dense(64) > softmax."""
    g = Graph(tuple(input_shape))
    x = g.add(Conv2D(width, 3), g.input)
    x = g.add(Conv2D(width, 3, strides=2), x)
    x = g.add(Conv2D(2 * width, 3, strides=2), x)
    x = g.add(GlobalPool("avg"), x)
    x = g.add(Dense(FEATURE_UNITS, activation="relu"), x)
    return g.finish(g.add(Dense(max(n_classes, 2), activation="softmax"), x))


@dataclass(frozen=True)
class ClassifierFeatures:
    """A small CNN trained on the data's labelled training split (or left untrained:
    ``trained=False``); its 64-unit penultimate layer gives the features (an untrained
    network's standardised with the training images' feature means and deviations: its raw
    features vary by thousandths).

    Args:
        epochs: training epochs (Adam, batch 64).
        width: filters of the first convolutions (the last has twice as many).
        seed: fixes the initial weights and the batches.
        trained: False for random features (the network as initialised), for data without classes.
    """

    epochs: int = 10
    width: int = 16
    seed: int = 0
    trained: bool = True

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, minimum=1)
        check_int("width", self.width, minimum=1)
        check_int("seed", self.seed, minimum=0)

    def fit(self, data: Any) -> "FittedFeatures":
        """Train on ``data.x_train``/``y_train`` (labels as class codes) and return the extractor."""
        import keras

        from evokit.builder import build

        classes = int(data.n_classes or 1)
        if self.trained and classes < 2:
            raise ConfigError(f"features='classifier' is invalid for {data.name!r}: it has {classes} class, and a "
                              "classifier needs labels of 2 or more; use features='random' or your own extractor")
        spec = _network(data.input_shape, classes, self.width)
        model = build(spec, seed=self.seed)
        if self.trained:
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
            x, y = data.x_train, data.y_train
            order = np.random.default_rng(self.seed)
            for _ in range(self.epochs):  # seeded shuffles: the same weights in every process
                idx = order.permutation(len(x))
                model.fit(x[idx], y[idx], batch_size=64, epochs=1, shuffle=False, verbose=0)
        fitted = FittedFeatures(spec, [np.asarray(w) for w in model.get_weights()], f"{self!r}@{data.fingerprint}")
        if not self.trained:  # an untrained network's features are tiny: put them in the training images' units
            raw = fitted(data.x_train)
            std = raw.std(axis=0)
            fitted.center, fitted.scale = raw.mean(axis=0), np.where(std > 1e-12, std, 1.0)
        return fitted


@dataclass(eq=False)
class FittedFeatures:
    """A fitted extractor: ``extractor(images) -> (n, 64)`` features. Picklable; its Keras model is
    built once per process, on first use."""

    spec: NetSpec
    weights: list[np.ndarray]
    key: str
    center: np.ndarray | None = field(default=None, repr=False)
    scale: np.ndarray | None = field(default=None, repr=False)
    _model: Any = field(default=None, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_model": None}

    def __call__(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        if self._model is None:
            self._model = _MODELS.get(self.key)
            if self._model is None:
                import keras

                from evokit.builder import build

                full = build(self.spec)
                full.set_weights(self.weights)
                self._model = keras.Model(full.input, full.layers[-2].output)
                _MODELS[self.key] = self._model
        x = np.asarray(images, dtype=np.float32)
        out = np.concatenate([np.asarray(self._model(x[i:i + batch_size], training=False), dtype=np.float64)
                              for i in range(0, len(x), batch_size)])
        return out if self.center is None else (out - self.center) / self.scale


_MODELS: dict[str, Any] = {}
"""This process's Keras models of fitted extractors, by key."""
_FITTED: dict[str, FittedFeatures] = {}
"""Extractors fitted in this process, by settings and data fingerprint."""
_INSTALLED: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
"""The extractor each dataset (by fingerprint) is scored with in this process."""


def resolve(features: Any) -> Any:
    """``"auto"`` (kept: decided by the data), ``"classifier"``, ``"random"``, a
    :class:`ClassifierFeatures` or a callable; ConfigError naming ``features`` otherwise."""
    if isinstance(features, str):
        check_choice("features", features, KINDS)
        return "auto" if features == "auto" else ClassifierFeatures(trained=features == "classifier")
    if isinstance(features, ClassifierFeatures) or callable(features):
        return features
    raise ConfigError(f"features={features!r} is invalid: expected one of {', '.join(map(repr, KINDS))}, a "
                      "ClassifierFeatures or a callable images -> (n, d) features")


def fitted(data: Any, features: Any = "auto") -> Callable[[np.ndarray], np.ndarray]:
    """The extractor ``features`` names, fitted to ``data`` (once per process and settings);
    ``"auto"``: the classifier for data with classes, random features otherwise."""
    features = resolve(features)
    if features == "auto":
        features = ClassifierFeatures(trained=(data.n_classes or 1) >= 2)
    if not isinstance(features, ClassifierFeatures):
        return features
    key = f"{features!r}@{data.fingerprint}"
    if key not in _FITTED:
        _FITTED[key] = features.fit(data)
    return _FITTED[key]


def key(extractor: Any) -> str:
    """A stable name of an extractor's settings, for cache keys: the settings of the built-in
    ones, a digest of a user's pickled callable (two callables differ unless they pickle alike)."""
    if isinstance(extractor, FittedFeatures):
        return extractor.key
    if isinstance(extractor, (str, ClassifierFeatures)):
        return repr(extractor)
    name = f"{getattr(extractor, '__module__', '')}.{getattr(extractor, '__qualname__', type(extractor).__name__)}"
    try:
        digest = hashlib.sha256(pickle.dumps(extractor)).hexdigest()[:12]
    except Exception:  # noqa: BLE001 - an unpicklable callable serves this process only: its identity names it
        digest = f"local{id(extractor)}"
    return f"{name}:{digest}"


def install(fingerprint: str, extractor: Callable[[np.ndarray], np.ndarray]) -> None:
    """Score the generated images of the dataset of this ``fingerprint`` with ``extractor`` in
    this process."""
    _INSTALLED[fingerprint] = extractor


def for_data(data: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The extractor installed for ``data`` in this process, else the default one fitted now:
    the classifier for data with classes, random features otherwise."""
    extractor = _INSTALLED.get(data.fingerprint)
    if extractor is None:
        extractor = fitted(data, "auto")
        _INSTALLED[data.fingerprint] = extractor
    return extractor
