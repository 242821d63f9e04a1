"""MapEvaluator and make_evaluator. What every evaluator does (results in order and equal to the
serial evaluator's, failures, start/close, pickling) is in ``test_evaluator_conformance.py``,
with builtin ``map`` and a spawn Pool's ``map``."""
import sys
from pathlib import Path

import pytest

import evokit as ek
from evokit.encodings.deepga import ConvBlock, DeepGAGenome, DenseBlock
from evokit.runtime.candidates.cache import FitnessCache
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.executors import Job, MapEvaluator, ProcessEvaluator, SerialEvaluator, make_evaluator

sys.path.insert(0, str(Path(__file__).parents[1]))
from _faults import FaultEncoding  # noqa: E402


def _genomes():
    return [DeepGAGenome([ConvBlock(f, 3, "max", 2, "relu")], [DenseBlock(8, "relu", 0.0)], []) for f in (4, 8)]


def test_a_failing_map_fails_the_candidates_it_did_not_return(small_digits, tiny_encoding):
    def breaks_after_one(fn, items):
        yield fn(items[0])
        raise ConnectionError("scheduler lost")

    ce = CandidateEvaluator(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits)
    jobs = [Job(ce.decode(g), seed=1) for g in _genomes()]
    seen = []
    evaluator = MapEvaluator(breaks_after_one).start(small_digits, ek.TrainingConfig(epochs=1))
    first, second = evaluator.train(jobs, on_result=lambda i, ev: seen.append(i))
    assert first.status == "ok" and first.metrics["val_accuracy"] > 0
    assert second.reason == "evaluator_error" and "the map failed: ConnectionError: scheduler lost" in second.message
    assert seen == [0, 1]


class FlakyMap:
    """Builtin ``map``, except that its first call raises ``ConnectionError`` (a lost scheduler)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, fn, items):
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("scheduler lost")
        return map(fn, items)


def test_a_fault_of_the_map_is_never_cached_and_the_network_trains_when_it_comes_back(small_digits, tiny_encoding,
                                                                                      counting_evaluator, tmp_path):
    genome = _genomes()[0]
    objective = ek.fitness.ValidationAccuracy(epochs=1)
    flaky = FlakyMap()
    ce = CandidateEvaluator(tiny_encoding, objective, small_digits, evaluator=MapEvaluator(flaky),
                            cache=FitnessCache(tmp_path / "cache.sqlite"))
    first = ce.evaluate_all([genome])[0]
    assert first.evaluation.reason == "evaluator_error"
    assert "ConnectionError: scheduler lost" in first.evaluation.message
    assert first.values == (0.0,) and ce.cached(genome) is None  # not the network's fitness: not cached
    again = ce.evaluate_all([genome])[0]  # the same run meets it again: trained, for real
    assert flaky.calls == 2 and not again.cached
    assert again.evaluation.status == "ok" and again.evaluation.metrics["val_accuracy"] > 0
    ce.close()
    ce.cache.close()
    # a later (or resumed) run on the same cache file serves the trained network, never the fault
    later = CandidateEvaluator(tiny_encoding, objective, small_digits, evaluator=counting_evaluator,
                               cache=FitnessCache(tmp_path / "cache.sqlite"))
    assert later.evaluate_all([genome])[0].evaluation.metrics == again.evaluation.metrics
    assert counting_evaluator.trained == []


def test_a_fault_before_anything_was_cached_is_trained_by_a_later_run(small_digits, tiny_encoding,
                                                                      counting_evaluator, tmp_path):
    genome = _genomes()[1]
    objective = ek.fitness.ValidationAccuracy(epochs=1)
    ce = CandidateEvaluator(tiny_encoding, objective, small_digits, evaluator=MapEvaluator(FlakyMap()),
                            cache=FitnessCache(tmp_path / "cache.sqlite"))
    assert ce.evaluate_all([genome])[0].evaluation.reason == "evaluator_error"
    ce.cache.close()
    cache = FitnessCache(tmp_path / "cache.sqlite")
    assert len(cache) == 0
    later = CandidateEvaluator(tiny_encoding, objective, small_digits, evaluator=counting_evaluator, cache=cache)
    out = later.evaluate_all([genome])[0]
    assert out.evaluation.status == "ok" and len(counting_evaluator.trained) == 1


def test_the_networks_own_exception_is_cached_and_served_to_a_later_run(small_digits, counting_evaluator, tmp_path):
    crash = FaultEncoding().random()
    crash[0] = "crash"  # raises inside its own training
    objective = ek.fitness.ValidationAccuracy(epochs=1)
    ce = CandidateEvaluator(FaultEncoding(), objective, small_digits, evaluator=MapEvaluator(map),
                            cache=FitnessCache(tmp_path / "cache.sqlite"))
    first = ce.evaluate_all([crash])[0]
    assert first.evaluation.reason == "exception" and "injected crash" in first.evaluation.message
    assert ce.cached(crash).reason == "exception"
    ce.cache.close()
    later = CandidateEvaluator(FaultEncoding(), objective, small_digits, evaluator=counting_evaluator,
                               cache=FitnessCache(tmp_path / "cache.sqlite"))
    again = later.evaluate_all([crash])[0]
    assert again.evaluation.reason == "exception" and counting_evaluator.trained == []  # from the cache


def test_an_item_that_is_not_an_evaluation_is_a_fault_of_the_map(small_digits, tiny_encoding):
    ce = CandidateEvaluator(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits)
    jobs = [Job(ce.decode(g), seed=1) for g in _genomes()]
    evaluator = MapEvaluator(lambda fn, items: [None for _ in items]).start(small_digits, ek.TrainingConfig(epochs=1))
    assert [e.reason for e in evaluator.train(jobs)] == ["evaluator_error", "evaluator_error"]
    short = MapEvaluator(lambda fn, items: []).start(small_digits, ek.TrainingConfig(epochs=1))
    assert [e.message for e in short.train(jobs)] == ["the map returned fewer results than candidates"] * 2


def test_make_evaluator_dispatch():
    assert isinstance(make_evaluator(None), SerialEvaluator) and isinstance(make_evaluator(1), SerialEvaluator)
    assert isinstance(make_evaluator(3), ProcessEvaluator) and make_evaluator(3).workers == 3
    mapped = make_evaluator(map)
    assert isinstance(mapped, MapEvaluator) and mapped.map_fn is map
    serial = SerialEvaluator()
    assert make_evaluator(serial) is serial


@pytest.mark.parametrize("workers", [0, -2, True, 2.5, "four", SerialEvaluator, [2]])
def test_make_evaluator_rejects_bad_workers(workers):
    with pytest.raises(ek.errors.ConfigError, match="^workers=.*'dask'"):
        make_evaluator(workers)


@pytest.mark.parametrize("kwargs, field", [({"map_fn": 3}, "map_fn"), ({"map_fn": SerialEvaluator}, "map_fn"),
                                            ({"map_fn": map, "threads_per_worker": 0}, "threads_per_worker")])
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(ek.errors.ConfigError, match=field):
        MapEvaluator(**kwargs)
