import math

import numpy as np
from sklearn.metrics import accuracy_score, log_loss

from evokit.tasks import Classification

# name -> the case every task gives the conformance suite (tests/tasks/test_tasks.py)
CASES = {"classification": {
    "factory": Classification,
    "head_activation": "softmax",
    "headline": ("accuracy", True),
    "stratified": True,
    # targets as a user gives them, and as the task encodes them
    "raw": np.array(["b", "a", "c", "a", "b", "c", "a", "b", "c"]),
    "encoded": np.array([1, 0, 2, 0, 1, 2, 0, 1, 2]),
    "classes": ("a", "b", "c"),
    "n_outputs": 3,
    # predictions (softmax outputs) and their scores, computed by hand and by scikit-learn
    "y_true": np.array([0, 2, 1, 2]),
    "y_pred": np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6]], "float32"),
    "expected": {"accuracy": 0.75, "loss": -(math.log(0.7) + 2 * math.log(0.6) + math.log(0.4)) / 4},
    "reference": lambda y, p: {"accuracy": accuracy_score(y, p.argmax(1)), "loss": log_loss(y, p, labels=[0, 1, 2])},
    # targets the task refuses, and the field its DataError names
    "bad": [(np.array([[0, 1], [1, 0]] * 3), "y"), (np.array([0] * 6), "y")],
}}
