import numpy as np
from scipy.linalg import sqrtm

from evokit.tasks import GAN

# "Predictions" of a gan task are features of generated images, scored against features of real
# ones. Real: four 2-D points; generated: the same points shifted by (1, 0) and squeezed on y.
_REAL = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
_FAKE = np.array([[1.0, 0.5], [3.0, 0.5], [1.0, 1.5], [3.0, 1.5]])
# means (1, 1) and (2, 1); covariances (ddof=1) diag(4/3, 4/3) and diag(4/3, 1/3):
# FD = |(1, 0)|^2 + (4/3 + 4/3 - 2 * 4/3) + (4/3 + 1/3 - 2 * sqrt(4/9)) = 1 + 0 + 1/3
_FD = 1.0 + 1.0 / 3.0


def _reference(real, fake):
    """The Fréchet distance with SciPy's matrix square root, written out separately."""
    m1, m2 = real.mean(0), fake.mean(0)
    s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    fd = float(((m1 - m2) ** 2).sum() + np.trace(s1 + s2 - 2 * np.real(sqrtm(s1 @ s2))))
    return {"frechet": fd, "loss": fd}  # the k-NN shares are checked by hand (tests/tasks/test_frechet.py too)


# name -> the case every task gives the conformance suite (tests/tasks/test_tasks.py)
CASES = {"gan": {
    "factory": GAN,
    "head_activation": "linear",  # the discriminator's one logit
    "headline": ("frechet", False),
    "stratified": True,
    "raw": np.array(["b", "a", "c", "a", "b", "c", "a", "b", "c"]),  # optional labels, for the feature classifier
    "encoded": np.array([1, 0, 2, 0, 1, 2, 0, 1, 2]),
    "classes": ("a", "b", "c"),
    "n_outputs": 1,
    "sample_shape": (2, 3, 1),  # images
    "inferred": False,  # labels alone read as classification: a gan task is asked for by name
    "y_true": _REAL,
    "y_pred": _FAKE,
    # k-NN balls with k=3 (four points each): every point lies in a ball of the other set; the
    # generated points in 4, 2, 4 and 2 real balls: density 12 / (3 * 4)
    "expected": {"frechet": _FD, "loss": _FD, "precision": 1.0, "recall": 1.0, "density": 1.0, "coverage": 1.0},
    "reference": _reference,
    "bad": [(np.array([[0, 1], [1, 0]] * 3), "y")],
}}
