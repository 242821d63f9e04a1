"""MapEvaluator and make_evaluator. What every evaluator does (results in order and equal to the
serial evaluator's, failures, start/close, pickling) is in ``test_evaluator_conformance.py``,
with builtin ``map`` and a spawn Pool's ``map``."""
import pytest

import evokit as ek
from evokit.encodings.deepga import ConvBlock, DeepGAGenome, DenseBlock
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.executors import Job, MapEvaluator, ProcessEvaluator, SerialEvaluator, make_evaluator


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
    assert second.reason == "exception" and "ConnectionError: scheduler lost" in second.message
    assert seen == [0, 1]


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
