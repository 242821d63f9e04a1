"""The conformance suite (:class:`evokit.testing.EncodingConformance`) run on every built-in
encoding: one generated ``TestConformance_<case>`` class per case.

Cases come from ``tests/encodings/cases/*.py``: each file defines ``CASES = {name: (factory,
dataset)}`` or ``{name: (factory, dataset, shapes)}``; adding an encoding to the suite means adding
one such file. ``shapes`` lists the ``(input_shape, n_outputs)`` or ``(input_shape, n_outputs,
task)`` the encoding is checked on (the first one for the single-shape checks; the task is
classification unless given); without it, an image and a tabular shape (``SHAPES``). ``dataset``
is the name of an embedded dataset or a zero-argument function returning a Dataset; the real GA
scores its networks by the data's task (``evokit.testing.objective``: validation accuracy, or Dice
for segmentation).
"""
import functools
import multiprocessing
import random
from pathlib import Path

import evokit as ek
from evokit.testing import conformance_class, objective

from _cases import load_cases  # noqa: E402 (tests/ is on the path: conftest.py lives there)

CASES = load_cases(Path(__file__).parent / "cases")

NAMES = sorted(CASES)
SHAPES = [((8, 8, 1), 10), ((30,), 2)]
PARITY_COUNTS = {"hyperparameters": 30, "unet": 30, "dcgan": 30}
"""Genotypes per shape of the Keras parity check, where not 100 (by case name prefix): a wrapper's
networks are its inner encoding's (checked at 100 on their own) plus a dropout layer; a U-Net has
10-30 layers to build (tests/encodings/test_unet.py checks 50 more per encoding and shape, slow); a
DCGAN pair two networks (tests/encodings/test_dcgan.py checks 303 genotypes on six shapes)."""
REFUSED = {"graph": [((16, 16, 1), 1, "segmentation"), ((8, 8, 1), 1, "gan"), ((256, 256, 1), 10)]}
"""Data a case must refuse, where more than its flags say (``EncodingConformance.refused``): NEAT
has one input neuron per feature, at most ``MAX_INPUTS``."""


@functools.lru_cache(maxsize=None)
def case_data(name):
    """The data of case ``name``'s real GA: a small split of its named dataset."""
    source = CASES[name][1]
    if source == "digits":
        return ek.datasets.load("digits", seed=0).subset(n_train=200, n_val=100)
    data = source() if callable(source) else ek.datasets.load(source, seed=0)
    return data.subset(n_train=300, n_val=150) if len(data.y_train) > 400 else data


def _suite(name):
    """The conformance class of case ``name``."""
    factory, _, *given = CASES[name]
    attributes = {"shapes": given[0] if given else SHAPES, "variation_count": 50, "json_count": 20,
                  "parity_count": next((n for prefix, n in PARITY_COUNTS.items() if name.startswith(prefix)), 100),
                  "data": lambda self: case_data(name)}
    if name in REFUSED:
        attributes["refused"] = REFUSED[name]
    class_name = "TestConformance_" + name.replace("-", "_")
    return class_name, conformance_class(class_name, factory, **attributes)


for _name in NAMES:
    _class_name, _class = _suite(_name)
    globals()[_class_name] = _class


def _evaluate(args):
    encoding, genotype, data = args
    from evokit.runtime.candidates.evaluator import CandidateEvaluator

    return CandidateEvaluator(encoding, objective(data), data)(genotype)


def test_every_encoding_evaluates_in_a_spawn_worker(small_digits):
    jobs = []
    for name in NAMES:
        data = small_digits if len(CASES[name]) < 3 else case_data(name).subset(n_train=60, n_val=30)
        encoding = CASES[name][0]()
        encoding.check_data(data)
        jobs.append((encoding, encoding.random(random.Random(3)), data))
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        remote = pool.map(_evaluate, jobs)
    assert remote == [_evaluate(job) for job in jobs]

