"""Shared fixtures: small real datasets and seeds, so that tests train real models quickly."""
from __future__ import annotations

import pytest

import evokit as ek
from evokit.runtime.executors import SerialEvaluator


class CountingEvaluator(SerialEvaluator):
    """A real serial evaluator that also records the jobs it runs (``jobs``, their networks in
    ``trained``) and how often it was started."""

    def __init__(self):
        self.trained = []
        self.jobs = []
        self.starts = 0

    def start(self, *args, **kwargs):
        self.starts += 1
        return super().start(*args, **kwargs)

    def train(self, jobs, on_result=None):
        self.trained += [job.spec for job in jobs]
        self.jobs += list(jobs)
        return super().train(jobs, on_result)


@pytest.fixture
def counting_evaluator():
    return CountingEvaluator()


@pytest.fixture(scope="session")
def digits():
    """The full digits dataset (8x8x1 images, 10 classes)."""
    return ek.datasets.load("digits", seed=0)


@pytest.fixture(scope="session")
def small_digits(digits):
    """A small stratified subset of digits for fast end-to-end tests."""
    return digits.subset(n_train=240, n_val=100, seed=0)


@pytest.fixture
def tiny_encoding():
    """A DeepGA encoding whose networks are small and quick to train."""
    return ek.encodings.DeepGA(max_conv_blocks=2, max_dense=1, filters=(4, 8), units=(8, 16))


@pytest.fixture(scope="session")
def load_example():
    """Import ``examples/<name>.py`` as a module (the examples are scripts, not a package)."""
    import importlib.util
    from pathlib import Path

    examples = Path(__file__).parent.parent / "examples"

    def load(name):
        spec = importlib.util.spec_from_file_location(f"example_{name}", examples / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
