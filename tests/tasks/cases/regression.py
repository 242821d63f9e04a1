import numpy as np
from sklearn.metrics import mean_squared_error

from evokit.tasks import Regression

# name -> the case every task gives the conformance suite (tests/tasks/test_tasks.py)
CASES = {"regression": {
    "factory": Regression,
    "head_activation": "linear",
    "headline": ("loss", False),
    "stratified": False,
    "raw": np.array([[0.5, 1.0], [1.5, -2.0], [2.0, 0.0], [3.0, 1.0], [0.0, 0.0], [1.0, 2.0]]),
    "encoded": np.array([[0.5, 1.0], [1.5, -2.0], [2.0, 0.0], [3.0, 1.0], [0.0, 0.0], [1.0, 2.0]], "float32"),
    "classes": (),
    "n_outputs": 2,
    "y_true": np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 0.0]], "float32"),
    "y_pred": np.array([[1.5, 0.0], [2.0, 0.0], [0.0, 1.0]], "float32"),
    "expected": {"loss": (0.5**2 + 0 + 0 + 1**2 + 0 + 1**2) / 6},
    "reference": lambda y, p: {"loss": mean_squared_error(y, p)},
    "bad": [(np.array([1.0, np.nan, 2.0]), "y"), (np.zeros((3, 2, 2)), "y"), (np.array(["a", "b", "c"]), "y")],
}}
