"""The GAN scores of evokit.tasks.frechet against values worked out by hand: the Fréchet distance
of sets with known moments, precision, recall, density and coverage of tiny 1-D point sets, how
they react to a shift, a far cloud and mode collapse, and the errors on bad input."""
import numpy as np
import pytest

from evokit.errors import ConfigError, DataError
from evokit.tasks import frechet
from evokit.tasks.frechet import (
    density_coverage,
    frechet_distance,
    gaussian_frechet,
    precision_recall,
    scores,
)


def standardised(rng, n, mean, variance):
    """n samples of one feature with exactly this mean and sample variance (ddof=1)."""
    x = rng.normal(size=n)
    return ((x - x.mean()) / x.std(ddof=1) * np.sqrt(variance) + mean)[:, None]


def test_identical_sets_score_perfectly():
    real = np.random.default_rng(0).normal(size=(200, 8))
    result = scores(real, real.copy())
    assert result["val_frechet"] == pytest.approx(0.0, abs=1e-6)
    assert result["val_precision"] == result["val_recall"] == result["val_coverage"] == 1.0
    # each real ball holds its centre's copy and the copies of its k neighbours: (k + 1) / k
    assert result["val_density"] == pytest.approx(6 / 5)


def test_frechet_of_1d_sets_with_known_moments():
    rng = np.random.default_rng(1)
    real, fake = standardised(rng, 50, 2.0, 4.0), standardised(rng, 80, -1.0, 9.0)
    expected = (2.0 - -1.0) ** 2 + 4.0 + 9.0 - 2 * np.sqrt(4.0 * 9.0)  # 9 + 13 - 12 = 10
    assert frechet_distance(real, fake) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(real[:, 0], fake[:, 0]) == pytest.approx(10.0, rel=1e-9)  # 1-D arrays: one feature
    assert frechet_distance(fake, real) == pytest.approx(10.0, rel=1e-9)


def test_frechet_of_2d_sets_with_diagonal_covariances():
    def cross(a, b, centre):  # (±a, 0), (0, ±b): mean 0, variances 2a²/3 and 2b²/3 (ddof=1), no covariance
        return np.array([[a, 0], [-a, 0], [0, b], [0, -b]], dtype=float) + centre
    real, fake = cross(3.0, 1.5, [1.0, 2.0]), cross(1.5, 3.0, [0.0, 0.0])
    v_real, v_fake = np.array([6.0, 1.5]), np.array([1.5, 6.0])
    mean_term = 1.0 ** 2 + 2.0 ** 2
    expected = mean_term + np.sum(v_real + v_fake - 2 * np.sqrt(v_real * v_fake))  # 5 + 2 * (7.5 - 6) = 8
    assert frechet_distance(real, fake) == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(8.0)


def test_gaussian_frechet_matches_the_2x2_closed_form():
    mu1, mu2 = np.array([1.0, -2.0]), np.array([0.5, 0.0])
    s1, s2 = np.array([[2.0, 0.6], [0.6, 1.0]]), np.array([[1.5, -0.4], [-0.4, 0.8]])
    # for 2x2 SPD matrices the eigenvalues l1, l2 of s1 @ s2 are positive, so
    # Tr sqrtm(s1 @ s2) = sqrt(l1) + sqrt(l2) = sqrt(Tr(s1 @ s2) + 2 sqrt(det s1 * det s2))
    tr_sqrt = np.sqrt(np.trace(s1 @ s2) + 2 * np.sqrt(np.linalg.det(s1) * np.linalg.det(s2)))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt
    assert gaussian_frechet(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)
    assert gaussian_frechet(3.0, 4.0, 1.0, 1.0) == pytest.approx(2.0 ** 2 + 4 + 1 - 2 * 2)  # scalars: d = 1
    assert gaussian_frechet(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)


def test_frechet_grows_with_a_shift_and_is_shift_squared_times_d():
    rng = np.random.default_rng(2)
    d = 3
    real, base = rng.normal(size=(20000, d)), rng.normal(size=(20000, d))
    distances = [frechet_distance(real, base + shift) for shift in (0.5, 1.0, 2.0)]
    assert distances[0] < distances[1] < distances[2]
    for shift, distance in zip((0.5, 1.0, 2.0), distances):
        assert distance == pytest.approx(shift ** 2 * d, rel=0.05, abs=0.01)


def test_singular_covariances_still_give_a_finite_distance():
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(3, 6)), rng.normal(size=(4, 6))  # fewer samples than features
    assert np.isfinite(frechet_distance(real, fake)) and frechet_distance(real, fake) > 0
    assert frechet_distance(real, real.copy()) == pytest.approx(0.0, abs=1e-5)


def test_a_singular_product_is_retried_with_eps_on_the_diagonal(monkeypatch):
    roots = []
    sqrtm = frechet.linalg.sqrtm
    monkeypatch.setattr(frechet.linalg, "sqrtm", lambda a: roots.append(a) or sqrtm(a))
    # product diag(4, 0): SciPy finds it singular; 1 + 4 - 2 * sqrt(4) = 1, off by O(eps) after the retry
    assert gaussian_frechet([0.0, 0.0], np.diag([1.0, 0.0]), [0.0, 0.0], np.diag([4.0, 0.0])) == pytest.approx(
        1.0, abs=10 * frechet.EPS)
    assert len(roots) == 2 and roots[1][1, 1] == pytest.approx(frechet.EPS ** 2)


def test_precision_recall_density_coverage_counted_by_hand():
    real = np.array([0.0, 1.0, 3.0, 7.0])  # k=1 radii 1, 1, 2, 4: balls [-1,1] [0,2] [1,5] [3,11]
    fake = np.array([0.5, 2.5, 12.0, 13.0])  # radii 2, 2, 1, 1: balls [-1.5,2.5] [0.5,4.5] [11,13] [12,14]
    # fakes in real balls: 0.5 in two, 2.5 in one, 12 and 13 in none; real balls holding a fake: all but [3,11]
    # real samples in fake balls: 0, 1 and 3; 7 is in none
    assert precision_recall(real, fake, k=1) == (0.5, 0.75)
    assert density_coverage(real, fake, k=1) == (3 / 4, 0.75)
    assert scores(real, fake, prefix="test_", k=1) == {
        "test_frechet": pytest.approx(frechet_distance(real, fake)), "test_precision": 0.5, "test_recall": 0.75,
        "test_density": 0.75, "test_coverage": 0.75}


def test_k_counts_neighbours_beyond_the_sample_itself():
    real = np.array([0.0, 1.0, 3.0, 7.0])  # k=2 radii 3, 2, 3, 6: balls [-3,3] [-1,3] [0,6] [1,13]
    fake = np.array([-2.5, 6.5, 20.0])  # in balls: -2.5 in one, 6.5 in one, 20 in none
    precision, _ = precision_recall(real, fake, k=2)
    density, coverage = density_coverage(real, fake, k=2)
    assert precision == pytest.approx(2 / 3)
    assert density == pytest.approx((1 + 1) / (2 * 3))
    assert coverage == 0.5  # [-3,3] holds -2.5, [1,13] holds 6.5


def test_a_far_cloud_is_neither_precise_nor_covering():
    real = np.random.default_rng(4).normal(size=(100, 4))
    result = scores(real, real + 100.0)
    assert result["val_precision"] == result["val_coverage"] == result["val_density"] == 0.0
    assert result["val_recall"] == 0.0
    assert result["val_frechet"] == pytest.approx(100.0 ** 2 * 4, rel=1e-9)


def test_mode_collapse_keeps_precision_but_loses_recall_and_coverage():
    rng = np.random.default_rng(5)
    real = rng.normal(size=(200, 2))
    fake = real[0] + 1e-4 * rng.normal(size=(100, 2))  # many copies of one real sample
    precision, recall = precision_recall(real, fake)
    _, coverage = density_coverage(real, fake)
    assert precision == 1.0
    assert recall <= 0.02 and coverage <= 0.1


def test_chunked_distances_give_the_same_scores(monkeypatch):
    rng = np.random.default_rng(6)
    real, fake = rng.normal(size=(60, 3)), rng.normal(0.3, 1.2, size=(45, 3))
    whole = scores(real, fake, k=3)
    monkeypatch.setattr(frechet, "CHUNK_ENTRIES", 100)  # blocks of 1 or 2 rows
    assert scores(real, fake, k=3) == whole


def test_bad_input_is_refused_naming_the_argument():
    rng = np.random.default_rng(7)
    real = rng.normal(size=(10, 3))
    with pytest.raises(DataError, match="^fake=.*3"):
        frechet_distance(real, rng.normal(size=(10, 2)))
    with pytest.raises(DataError, match="^real=.*at least 2 samples"):
        frechet_distance(real[:1], real)
    with pytest.raises(DataError, match="^fake=.*at least 2 samples"):
        precision_recall(real, real[:1])
    with pytest.raises(DataError, match="^real=.*finite"):
        scores(np.where(real > 1, np.nan, real), real)
    with pytest.raises(DataError, match="^fake=.*shape"):
        frechet_distance(real, np.zeros((2, 3, 4)))
    with pytest.raises(ConfigError, match="^k=6 .*fake has 6"):
        density_coverage(real, real[:6], k=6)
    with pytest.raises(ValueError, match="^k="):
        precision_recall(real, real, k=0)
    with pytest.raises(ValueError, match="^k="):
        scores(real, real, k=2.0)
    with pytest.raises(DataError, match="^sigma2="):
        gaussian_frechet([0.0, 0.0], np.eye(2), [0.0, 0.0], np.eye(3))


def test_moments_that_are_not_covariances_are_refused():
    with pytest.raises(DataError, match="imaginary"):
        gaussian_frechet([0.0, 0.0], np.diag([1.0, -1.0]), [0.0, 0.0], np.eye(2))
    with pytest.raises(DataError, match="negative distance"):  # the product is I, but the traces cancel
        gaussian_frechet([0.0, 0.0], np.diag([1.0, -1.0]), [0.0, 0.0], np.diag([1.0, -1.0]))
