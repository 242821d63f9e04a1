"""The segmentation task's Keras loss: cross-entropy + soft Dice (see ``evokit.tasks.segmentation``).

The only module of ``evokit.tasks`` that imports Keras: :meth:`Segmentation.loss` imports it when
a model is compiled, so reading tasks stays framework-free.
"""
from __future__ import annotations

from typing import Any

import keras
from keras import ops

from evokit.tasks.classification import EPSILON
from evokit.tasks.overlap import SMOOTH


@keras.saving.register_keras_serializable(package="evokit")
class DiceCrossEntropy(keras.losses.Loss):
    """Cross-entropy + (1 - soft Dice) of per-pixel probabilities ``(batch, h, w, K)`` against
    class maps ``(batch, h, w)``; one sigmoid unit (K = 1) means binary masks, scored on the
    foreground. Both terms are per image (Dice averaged over the classes), so a sample's weight
    weighs its whole loss: the trainer's zero-weighted padding of a short last batch counts for
    nothing. Registered
    with Keras (``evokit>DiceCrossEntropy``), so a saved ``.keras`` model loads with it."""

    def __init__(self, name: str = "dice_crossentropy", **kwargs: Any):
        super().__init__(name=name, **kwargs)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.get_config() == self.get_config()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.name))

    def call(self, y_true: Any, y_pred: Any) -> Any:
        p = ops.clip(ops.cast(y_pred, "float32"), EPSILON, 1.0 - EPSILON)
        codes = ops.cast(ops.reshape(y_true, ops.shape(p)[:-1]), "int32")
        if p.shape[-1] == 1:
            truth = ops.expand_dims(ops.cast(ops.equal(codes, 1), "float32"), -1)
            ce = -(truth * ops.log(p) + (1.0 - truth) * ops.log(1.0 - p))
        else:
            truth = ops.one_hot(codes, p.shape[-1])
            ce = -ops.sum(truth * ops.log(p), axis=-1, keepdims=True)
        overlap = ops.sum(p * truth, axis=(1, 2))  # per image and class
        dice = (2.0 * overlap + SMOOTH) / (ops.sum(p, axis=(1, 2)) + ops.sum(truth, axis=(1, 2)) + SMOOTH)
        return ops.mean(ce, axis=(1, 2, 3)) + (1.0 - ops.mean(dice, axis=-1))
