"""The encoding conformance suite, for users' encodings as for evokit's own.

Every :class:`~evokit.encodings.Encoding` must keep the contract written in
``evokit/encodings/base.py``; :class:`EncodingConformance` checks it with real parts (DEAP's
toolbox, Keras models, a seeded GA that trains). Subclass it in a test module under a name pytest
collects (``Test...``) and say which encoding to check::

    from evokit.testing import EncodingConformance

    class TestWidths(EncodingConformance):
        encoding = Widths                      # a zero-argument factory (or an Encoding instance)
        shapes = [((8, 8, 1), 10), ((30,), 2)]  # data the encoding is checked on

Each ``test_*`` method is one check; they use plain ``assert`` and no fixtures, so the class
runs under pytest (or unittest-style runners calling the methods) and this module does not
import pytest: ``import evokit`` never needs the test extra (nor does it import this module).

Choices, and why:

* A fresh encoding per check (``encoding`` is a factory): :meth:`Encoding.check_data` sizes an
  encoding to the data, and the same-seed check needs two that never met.
* Counts are class attributes (``parity_count``, ``variation_count`` ...): the Keras parity
  check builds a model per genotype, so a large encoding may want fewer.
* The real GA (:meth:`test_a_real_ga_trains_real_models`) trains on :meth:`data`, digits by
  default; override it for encodings of other data (text, segmentation, gan).
"""
from __future__ import annotations

import copy
import json
import pickle
import random
from typing import Any, Callable, NamedTuple, Sequence

import evokit as ek
from evokit.deap_toolbox import genotype_toolbox
from evokit.encodings import Encoding
from evokit.errors import ConfigError
from evokit.individual import attach_fitness

Shape = tuple  # (input_shape, n_outputs) or (input_shape, n_outputs, task)


class DataShape(NamedTuple):
    """What :meth:`Encoding.check_data` reads of a Dataset, without the data: its input shape,
    outputs and task (``vocab_size`` for encodings of token ids, which run to ``vocab_size - 1``)."""

    input_shape: tuple
    n_outputs: int
    task: str = "classification"
    vocab_size: int = 50


def output_shape(input_shape: tuple, n_outputs: int, task: str) -> tuple:
    """The output shape of a network for such data: the image for a generator, one value per
    class and pixel for a per-pixel task, else one per output."""
    kind = ek.tasks.get(task)
    if kind.generative:
        return tuple(input_shape)
    return (*input_shape[:-1], n_outputs) if kind.per_pixel else (n_outputs,)


def objective(data: Any) -> Any:
    """What the real GA scores networks of ``data`` by (one epoch): Dice for segmentation, a
    Fréchet distance on random features for gan data, validation accuracy otherwise."""
    kind = ek.tasks.get(data.task)
    if kind.generative:
        return ek.fitness.FrechetDistance(features="random", epochs=1)
    if kind.per_pixel:
        return ek.fitness.ValidationDice(epochs=1)
    return ek.fitness.ValidationAccuracy(epochs=1)


class EncodingConformance:
    """The checks every encoding passes; subclass it and set :attr:`encoding`.

    Attributes a subclass may set:

    * ``encoding``: a zero-argument factory of the encoding (its class, a lambda) or an
      Encoding instance (copied for each check). Required.
    * ``shapes``: the ``(input_shape, n_outputs[, task])`` the encoding is checked on; the
      first is used by the single-shape checks. Task: classification unless given.
    * ``refused``: shapes of data the encoding must refuse with a ConfigError when
      ``check_data`` sees them; by default a task its networks cannot serve (segmentation for
      a non-spatial encoding, gan for a non-generative one, classification for a generative one).
    * ``parity_count``, ``variation_count``, ``json_count``: genotypes per shape of the Keras
      parity check, pairs per shape of the variation check, genotypes of the JSON check;
      ``ga_population``, ``ga_generations``: the real GA's size.
    """

    encoding: Any = None
    shapes: Sequence[Shape] = (((8, 8, 1), 10), ((30,), 2))
    refused: Sequence[Shape] | None = None
    parity_count: int = 20
    variation_count: int = 30
    json_count: int = 20
    ga_population: int = 4
    ga_generations: int = 2
    seed: int = 0

    # -- what the checks are given ----------------------------------------------------------

    def make(self, shape: Shape | None = None) -> Encoding:
        """A fresh encoding, sized to data of ``shape`` (as a search does) when one is given."""
        factory = getattr(type(self), "encoding", None)  # on the class: a plain function, not a method
        if factory is None:
            raise ConfigError(f"{type(self).__name__}.encoding=None is invalid: set it to the encoding's class, a "
                              "zero-argument factory or an Encoding instance")
        encoding = copy.deepcopy(factory) if isinstance(factory, Encoding) else factory()
        if not isinstance(encoding, Encoding):
            raise ConfigError(f"{type(self).__name__}.encoding made {type(encoding).__name__}: expected an "
                              "evokit.encodings.Encoding")
        if shape is not None:
            input_shape, n_outputs, task = self.triple(shape)
            encoding.check_data(DataShape(input_shape, n_outputs, task))
        return encoding

    @staticmethod
    def triple(shape: Shape) -> tuple[tuple, int, str]:
        """``(input_shape, n_outputs, task)`` of one entry of :attr:`shapes`."""
        return tuple(shape[0]), shape[1], shape[2] if len(shape) > 2 else "classification"

    def triples(self) -> list[tuple[tuple, int, str]]:
        """Every entry of :attr:`shapes` as ``(input_shape, n_outputs, task)``."""
        return [self.triple(shape) for shape in self.shapes]

    def data(self) -> Any:
        """The Dataset of the real GA: 200 training and 100 validation digits by default."""
        return ek.datasets.load("digits", seed=0).subset(n_train=200, n_val=100)

    def refused_shapes(self) -> list[tuple[tuple, int, str]]:
        """:attr:`refused`, or the tasks this encoding's flags say it cannot serve."""
        if self.refused is not None:
            return [self.triple(shape) for shape in self.refused]
        encoding = self.make()
        if encoding.generative:
            return [((8, 8, 1), 10, "classification")]
        return ([] if encoding.spatial_output else [((16, 16, 1), 1, "segmentation")]) + [((8, 8, 1), 1, "gan")]

    # -- the checks -------------------------------------------------------------------------

    def test_random_genotypes_decode_to_valid_specs_with_keras_parity(self) -> None:
        import keras

        rng = random.Random(self.seed)
        for input_shape, n_outputs, task in self.triples():
            encoding = self.make((input_shape, n_outputs, task))
            for _ in range(self.parity_count):
                spec = encoding.decode(encoding.random(rng), input_shape, n_outputs, task).validate()
                assert spec.output_shape == output_shape(input_shape, n_outputs, task), spec.summary()
                model = ek.build(spec, seed=0)
                assert model.count_params() == spec.params, (input_shape, spec.summary())
                keras.backend.clear_session(free_memory=False)

    def test_variation_returns_valid_genotypes(self) -> None:
        random.seed(self.seed + 1)  # DEAP's operators draw from the random module
        for input_shape, n_outputs, task in self.triples():
            encoding = self.make((input_shape, n_outputs, task))
            toolbox = genotype_toolbox(encoding, (1.0,))
            for _ in range(self.variation_count):
                a, b = toolbox.individual(), toolbox.individual()
                a.fitness.values, b.fitness.values = (random.random(),), (random.random(),)
                a2, b2 = toolbox.mate(copy.deepcopy(a), copy.deepcopy(b))
                (m,) = toolbox.mutate(copy.deepcopy(a2))
                for child in (a2, b2, m):
                    encoding.decode(child, input_shape, n_outputs, task).validate()
                    assert hasattr(child, "fitness"), f"{type(child).__name__} lost its fitness in variation"

    def test_same_seed_same_genotypes_and_stable_hashes(self) -> None:
        shape = self.triples()[0]
        first = [self.make(shape).random(random.Random(self.seed + 5)) for _ in range(2)]
        assert first[0] == first[1], "two fresh encodings drew different genotypes from the same seed"
        encoding = self.make(shape)
        specs = [encoding.decode(first[0], *shape) for _ in range(2)]
        assert specs[0].hash == specs[1].hash, "decoding one genotype twice gave different hashes"
        again = pickle.loads(pickle.dumps(encoding))
        assert again.decode(first[0], *shape).hash == specs[0].hash, "a pickled encoding decodes differently"

    def test_distance_describe_and_pickling(self) -> None:
        shape = self.triples()[0]
        encoding = self.make(shape)
        rng = random.Random(self.seed + 6)
        a, b = encoding.random(rng), encoding.random(rng)
        assert encoding.distance(a, a) == 0
        assert encoding.distance(a, b) == encoding.distance(b, a) >= 0
        individual = attach_fitness(a, (1.0, -1.0))
        individual.fitness.values = (0.5, 3.0)
        back = pickle.loads(pickle.dumps(individual))
        assert back == individual and back.fitness.values == (0.5, 3.0)
        assert encoding.decode(back, *shape).hash == encoding.decode(individual, *shape).hash
        assert isinstance(encoding.describe(a), str) and encoding.describe(a)

    def test_json_round_trip(self) -> None:
        encoding = self.make(self.triples()[0])
        rng = random.Random(self.seed + 8)
        for _ in range(self.json_count):
            genotype = encoding.random(rng)
            again = encoding.from_json(json.loads(json.dumps(encoding.to_json(genotype))))
            assert again == genotype and type(again) is type(genotype), "from_json(to_json(g)) != g"

    def test_refuses_data_it_cannot_handle(self) -> None:
        for input_shape, n_outputs, task in self.refused_shapes():
            encoding = self.make()
            try:
                encoding.check_data(DataShape(input_shape, n_outputs, task))
            except ConfigError as exc:
                assert str(exc), "an empty error message"
            else:
                raise AssertionError(f"check_data accepted {task} data of shape {input_shape}: expected a ConfigError")

    def test_a_real_ga_trains_real_models(self) -> None:
        data = self.data()
        score = objective(data)
        result = ek.Search(encoding=self.make(), objectives=score, data=data, seed=self.seed, progress=False,
                           algorithm=ek.algorithms.GA(population=self.ga_population,
                                                      generations=self.ga_generations)).run()
        # a GAN pair trained one epoch may collapse or lose to its discriminator: a scored failure
        allowed = ("mode_collapse", "diverged") if ek.tasks.get(data.task).generative else ()
        assert result.stats["trained"] >= self.ga_population, result.stats
        assert not set(result.stats["failures"]) - set(allowed), result.stats["failures"]
        assert result.best.values[score.name] > 0
        assert result.best.model.count_params() == result.best.params


def conformance_class(name: str, encoding: Callable[[], Encoding] | Encoding, **attributes: Any) -> type:
    """A subclass of :class:`EncodingConformance` named ``name`` (begin it with ``Test`` for
    pytest to collect it) with ``encoding`` and any other attributes set; for a test module that
    checks many encodings: ``globals()[name] = conformance_class(name, factory, shapes=...)``."""
    body = {"encoding": encoding if isinstance(encoding, Encoding) else staticmethod(encoding), **attributes}
    return type(name, (EncodingConformance,), body)
