"""MapEvaluator: any DEAP-style map trains the candidates, with the serial evaluator's results."""
import multiprocessing

import pytest

import evokit as ek
from evokit.encodings.deepga import ConvBlock, DeepGAGenome, DenseBlock
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.executors.process import ProcessEvaluator, SerialEvaluator, Task, make_evaluator
from evokit.runtime.executors.map import MapEvaluator


def _genomes():
    return [DeepGAGenome([ConvBlock(f, 3, "max", 2, "relu")], [DenseBlock(8, "relu", 0.0)], []) for f in (4, 8)]


def _values(small_digits, tiny_encoding, evaluator=None):
    ce = CandidateEvaluator(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits, seed=5,
                            evaluator=evaluator)
    try:
        return [(o.values, o.evaluation.metrics) for o in ce.evaluate_all(_genomes())]
    finally:
        ce.close()


@pytest.fixture(scope="module")
def serial(small_digits):
    return _values(small_digits, _tiny())


def _tiny():
    return ek.encodings.DeepGA(max_conv_blocks=2, max_dense=1, filters=(4, 8), units=(8, 16))


def test_builtin_map_matches_serial(small_digits, serial):
    assert _values(small_digits, _tiny(), MapEvaluator(map)) == serial


def test_spawn_pool_map_matches_serial(small_digits, serial):
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pooled = _values(small_digits, _tiny(), MapEvaluator(pool.map, threads_per_worker=1))
    assert pooled == serial  # exact: same seeds, seeded initializers


def test_a_failing_map_fails_the_candidates_it_did_not_return(small_digits, tiny_encoding):
    def breaks_after_one(fn, items):
        yield fn(items[0])
        raise ConnectionError("scheduler lost")

    ce = CandidateEvaluator(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits)
    tasks = [Task(ce.decode(g), seed=1) for g in _genomes()]
    seen = []
    evaluator = MapEvaluator(breaks_after_one).start(small_digits, ek.TrainingConfig(epochs=1))
    first, second = evaluator.train(tasks, on_result=lambda i, ev: seen.append(i))
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
