import math

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score, root_mean_squared_error

from evokit.tasks import Regression

# name -> the case every task gives the conformance suite (tests/tasks/test_tasks.py)
CASES = {"regression": {
    "factory": Regression,
    "head_activation": "linear",
    "headline": ("r2", True),
    "stratified": False,
    "raw": np.array([[0.5, 1.0], [1.5, -2.0], [2.0, 0.0], [3.0, 1.0], [0.0, 0.0], [1.0, 2.0]]),
    "encoded": np.array([[0.5, 1.0], [1.5, -2.0], [2.0, 0.0], [3.0, 1.0], [0.0, 0.0], [1.0, 2.0]], "float32"),
    "classes": (),
    "n_outputs": 2,
    "y_true": np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 0.0]], "float32"),
    "y_pred": np.array([[1.5, 0.0], [2.0, 0.0], [0.0, 1.0]], "float32"),
    # per output: squared errors (0.25, 0, 0) and (0, 1, 1); variances of y_true 2/3 and 2/9
    "expected": {"loss": (0.5**2 + 0 + 0 + 1**2 + 0 + 1**2) / 6, "mse": 0.375, "mae": (0.5 + 1 + 1) / 6,
                 "rmse": (math.sqrt(1 / 12) + math.sqrt(2 / 3)) / 2,
                 "r2": ((1 - (1 / 12) / (2 / 3)) + (1 - (2 / 3) / (2 / 9))) / 2},
    "reference": lambda y, p: {"loss": mean_squared_error(y, p), "mse": mean_squared_error(y, p),
                               "mae": mean_absolute_error(y, p), "rmse": root_mean_squared_error(y, p),
                               "r2": r2_score(y, p)},
    "bad": [(np.array([1.0, np.nan, 2.0]), "y"), (np.zeros((3, 2, 2)), "y"), (np.array(["a", "b", "c"]), "y")],
}}
