import math

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, jaccard_score

from evokit.tasks import Segmentation

# Two 2x2 masks of three classes; the prediction puts 0.6 on its class and 0.2 on the others.
# Pixels (true, predicted): (0,0) (1,1) (2,2) (2,1) | (0,0) (0,1) (1,1) (2,2)
_TRUE = np.array([[[0, 1], [2, 2]], [[0, 0], [1, 2]]])
_GUESS = np.array([[[0, 1], [2, 1]], [[0, 1], [1, 2]]])
_PRED = np.where(np.eye(3)[_GUESS] == 1, 0.6, 0.2).astype("float32")
# per class (true, predicted, both) pixels: 0: (3, 2, 2), 1: (2, 4, 2), 2: (3, 2, 2)
_DICE = (4 / 5 + 4 / 6 + 4 / 5) / 3
_IOU = (2 / 3 + 2 / 4 + 2 / 3) / 3
# soft Dice per image and class: (2 * sum(p * truth) + 1) / (sum(p) + sum(truth) + 1); the two
# images have the same three values: (0.6 + 1) / (1.2 + 1 + 1), 2.2 / 3.6 and 2.6 / 4.2
_SOFT = (2.2 / 3.2 + 2.2 / 3.6 + 2.6 / 4.2) / 3
_CE = -(6 * math.log(0.6) + 2 * math.log(0.2)) / 8


def _reference(y, p):
    truth, guess = y.ravel(), p.argmax(-1).ravel()
    flat = p.reshape(len(p), -1, p.shape[-1]).astype("float64")  # (images, pixels, classes)
    onehot = np.eye(p.shape[-1])[y.reshape(len(y), -1)]
    soft = np.mean((2 * (flat * onehot).sum(1) + 1) / (flat.sum(1) + onehot.sum(1) + 1))
    ce = -np.mean(np.log((flat * onehot).sum(-1)))
    return {"dice": f1_score(truth, guess, average="macro"), "iou": jaccard_score(truth, guess, average="macro"),
            "pixel_accuracy": accuracy_score(truth, guess), "loss": ce + 1 - soft}


# name -> the case every task gives the conformance suite (tests/tasks/test_tasks.py)
CASES = {"segmentation": {
    "factory": Segmentation,
    "head_activation": "softmax",
    "headline": ("dice", True),
    "stratified": False,
    # masks as a user gives them (any whole values), and as the task encodes them
    "raw": np.array([[[0, 5, 9], [9, 9, 0]], [[5, 0, 0], [9, 5, 5]]] * 3),
    "encoded": np.array([[[0, 1, 2], [2, 2, 0]], [[1, 0, 0], [2, 1, 1]]] * 3, "int32"),
    "classes": (0, 5, 9),
    "n_outputs": 3,
    "sample_shape": (2, 3, 1),  # one image per mask, of the mask's size
    "y_true": _TRUE,
    "y_pred": _PRED,
    "expected": {"dice": _DICE, "iou": _IOU, "pixel_accuracy": 0.75, "loss": _CE + 1 - _SOFT},
    "reference": _reference,
    "bad": [(np.zeros((3, 4)), "y"), (np.zeros((3, 2, 2)), "y"), (np.full((3, 2, 2), 0.5), "y"),
            (np.array([["a", "b"], ["b", "a"]] * 3).reshape(3, 2, 2), "y")],
}}
