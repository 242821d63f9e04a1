"""The conformance suite every encoding passes (one parametrised module, Optuna-style).

Cases come from ``tests/encodings/cases/*.py``: each file defines ``CASES = {name: (factory,
dataset)}`` or ``{name: (factory, dataset, shapes)}``; adding an encoding to the suite means adding
one such file. ``shapes`` lists the ``(input_shape, n_outputs)`` or ``(input_shape, n_outputs,
task)`` the encoding is checked on (the first one for the single-shape checks; the task is
classification unless given); without it, an image and a tabular shape (``SHAPES``). ``dataset``
is the name of an embedded dataset or a zero-argument function returning a Dataset; the real GA
scores its networks by the data's task (``OBJECTIVES``: validation accuracy, or Dice for
segmentation).
"""
import copy
import functools
import json
import multiprocessing
import pickle
import random
from pathlib import Path
from typing import NamedTuple

import keras
import pytest

import evokit as ek
from evokit.individual import attach_fitness

from _cases import load_cases  # noqa: E402 (tests/ is on the path: conftest.py lives there)

CASES = load_cases(Path(__file__).parent / "cases")

NAMES = sorted(CASES)
SHAPES = [((8, 8, 1), 10), ((30,), 2)]
WEIGHTS = (1.0,)
PARITY_COUNTS = {"hyperparameters": 30, "unet": 30, "dcgan": 30}
"""Genotypes per shape of the Keras parity check, where not 100 (by case name prefix): a wrapper's
networks are its inner encoding's (checked at 100 on their own) plus a dropout layer; a U-Net has
10-30 layers to build (tests/encodings/test_unet.py checks 50 more per encoding and shape, slow); a
DCGAN pair two networks (tests/encodings/test_dcgan.py checks 303 genotypes on six shapes)."""
OBJECTIVES = {"segmentation": ek.fitness.ValidationDice,
              "gan": functools.partial(ek.fitness.FrechetDistance, features="random")}
"""The objective of a real GA on data of a task (ValidationAccuracy for any other task)."""


def shapes(name):
    """The (input_shape, n_outputs, task) triples case ``name`` is checked on."""
    given = CASES[name][2] if len(CASES[name]) > 2 else SHAPES
    return [(tuple(s[0]), s[1], s[2] if len(s) > 2 else "classification") for s in given]


def output_shape(shape, n_out, task):
    """The output shape of a network for this data: one value per pixel for a per-pixel task."""
    if ek.tasks.get(task).generative:  # a generator draws images of the data's shape
        return tuple(shape)
    return (*shape[:-1], n_out) if ek.tasks.get(task).per_pixel else (n_out,)


def objective(data):
    """What the real GA and the spawn worker score networks on this data by (epochs=1)."""
    return OBJECTIVES.get(data.task, ek.fitness.ValidationAccuracy)(epochs=1)


class _Data(NamedTuple):
    """What ``Encoding.check_data`` reads of a Dataset (token ids run to ``vocab_size - 1``)."""

    input_shape: tuple
    n_outputs: int
    task: str = "classification"
    vocab_size: int = 50


def make(name, shape=None, n_out=None, task="classification"):
    """A fresh encoding, sized to the data (as a search does) when a shape is given."""
    encoding = CASES[name][0]()
    if shape is not None:
        encoding.check_data(_Data(tuple(shape), n_out, task))
    return encoding


def case_data(name, digits):
    """The data of case ``name``'s real GA: a small split of its named dataset."""
    if CASES[name][1] == "digits":
        return digits.subset(n_train=200, n_val=100)
    source = CASES[name][1]
    data = source() if callable(source) else ek.datasets.load(source, seed=0)
    return data.subset(n_train=300, n_val=150) if len(data.y_train) > 400 else data


@pytest.mark.parametrize("name", NAMES)
def test_random_genotypes_decode_to_valid_specs_with_keras_parity(name):
    rng = random.Random(0)
    count = next((n for prefix, n in PARITY_COUNTS.items() if name.startswith(prefix)), 100)
    for shape, n_out, task in shapes(name):
        encoding = make(name, shape, n_out, task)
        for _ in range(count):
            genotype = encoding.random(rng)
            spec = encoding.decode(genotype, shape, n_out, task).validate()
            assert spec.output_shape == output_shape(shape, n_out, task)
            model = ek.build(spec, seed=0)
            assert model.count_params() == spec.params, (name, shape, spec.summary())
            keras.backend.clear_session(free_memory=False)


@pytest.mark.parametrize("name", NAMES)
def test_variation_returns_valid_genotypes(name):
    from evokit.deap_toolbox import genotype_toolbox

    random.seed(1)
    for shape, n_out, task in shapes(name):
        encoding = make(name, shape, n_out, task)
        tb = genotype_toolbox(encoding, WEIGHTS)
        for _ in range(50):
            a, b = tb.individual(), tb.individual()
            a.fitness.values, b.fitness.values = (random.random(),), (random.random(),)
            a2, b2 = tb.mate(copy.deepcopy(a), copy.deepcopy(b))
            (m,) = tb.mutate(copy.deepcopy(a2))
            for child in (a2, b2, m):
                encoding.decode(child, shape, n_out, task).validate()
                assert hasattr(child, "fitness")


@pytest.mark.parametrize("name", NAMES)
def test_seeded_genotypes_pickle_and_distance(name):
    shape, n_out, task = shapes(name)[0]
    encoding = make(name, shape, n_out, task)
    first = [make(name, shape, n_out, task).random(random.Random(5)) for _ in range(2)]
    assert first[0] == first[1]  # same seed, same genotype (fresh encodings)
    rng = random.Random(6)
    a, b = encoding.random(rng), encoding.random(rng)
    assert encoding.distance(a, a) == 0
    assert encoding.distance(a, b) == encoding.distance(b, a) >= 0
    ind = attach_fitness(a, (1.0, -1.0))
    ind.fitness.values = (0.5, 3.0)
    back = pickle.loads(pickle.dumps(ind))
    assert back == ind and back.fitness.values == (0.5, 3.0)
    assert encoding.decode(back, shape, n_out, task).hash == encoding.decode(ind, shape, n_out, task).hash
    assert isinstance(encoding.describe(a), str) and encoding.describe(a)
    again = pickle.loads(pickle.dumps(encoding))
    assert again.decode(a, shape, n_out, task).hash == encoding.decode(a, shape, n_out, task).hash


@pytest.mark.parametrize("name", NAMES)
def test_json_round_trip(name):
    encoding = make(name, *shapes(name)[0])
    rng = random.Random(8)
    for _ in range(20):
        genotype = encoding.random(rng)
        again = encoding.from_json(json.loads(json.dumps(encoding.to_json(genotype))))
        assert again == genotype and type(again) is type(genotype)


@pytest.mark.parametrize("name", NAMES)
def test_a_real_ga_trains_real_models(name, digits):
    data = case_data(name, digits)
    score = objective(data)
    result = ek.Search(encoding=make(name), objectives=score, data=data,
                       algorithm=ek.algorithms.GA(population=4, generations=2), seed=0, progress=False).run()
    # a GAN pair trained one epoch may collapse or lose to its discriminator: a scored failure
    gan_failures = ("mode_collapse", "diverged") if ek.tasks.get(data.task).generative else ()
    assert result.stats["trained"] >= 4 and not set(result.stats["failures"]) - set(gan_failures)
    assert result.best.values[score.name] > 0 and result.best.model.count_params() == result.best.params


def _evaluate(args):
    encoding, genotype, data = args
    from evokit.runtime.candidates.evaluator import CandidateEvaluator

    return CandidateEvaluator(encoding, objective(data), data)(genotype)


def test_every_encoding_evaluates_in_a_spawn_worker(small_digits):
    jobs = []
    for name in NAMES:
        data = small_digits if len(CASES[name]) < 3 else case_data(name, small_digits).subset(n_train=60, n_val=30)
        encoding = CASES[name][0]()
        encoding.check_data(data)
        jobs.append((encoding, encoding.random(random.Random(3)), data))
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        remote = pool.map(_evaluate, jobs)
    assert remote == [_evaluate(job) for job in jobs]
