import collections
import copy

import pytest

import evokit as ek
from evokit.encodings.deepga import ConvBlock, DeepGAGenome, DenseBlock
from evokit.runtime.candidates.evaluator import CandidateEvaluator


def _genome(filters=4, skips=()):
    return DeepGAGenome([ConvBlock(filters, 3, "max", 2, "relu")], [DenseBlock(8, "relu", 0.0)], list(skips))


def test_duplicate_networks_train_once(small_digits, tiny_encoding, counting_evaluator):
    evaluator = counting_evaluator
    ce = CandidateEvaluator(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits, evaluator=evaluator)
    a, b, c = _genome(4), _genome(4), _genome(8)
    outcomes = ce.evaluate_all([a, b, c, copy.deepcopy(a)])
    assert len(evaluator.trained) == len({spec.hash for spec in evaluator.trained}) == 2
    assert [o.cached for o in outcomes] == [False, True, False, True]
    assert outcomes[0].values == outcomes[1].values == outcomes[3].values
    again = ce.evaluate_all([_genome(8)])  # a later generation: a cache hit, no training
    assert again[0].cached and len(evaluator.trained) == 2
    assert ce.cache.hits == 3 and ce.evaluations == 2


def test_same_network_from_different_genotypes_shares_the_cache(small_digits, tiny_encoding):
    # conv blocks are ignored on tabular data only; here two genomes differ only in a skip bit that
    # has no effect -> use pool 'none' vs a pool that repair drops: both decode to the same network.
    a = DeepGAGenome([ConvBlock(4, 3, "none", 2, "relu")], [], [])
    b = DeepGAGenome([ConvBlock(4, 3, "max", 9, "relu")], [], [])  # 9 > 8: the pool is dropped
    ce = CandidateEvaluator(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits)
    assert ce.decode(a).hash == ce.decode(b).hash
    out = ce.evaluate_all([a, b])
    assert out[1].cached and out[0].values == out[1].values


def test_broken_genotype_is_a_scored_failure(small_digits, tiny_encoding):
    ce = CandidateEvaluator(tiny_encoding, [ek.fitness.ValidationAccuracy(epochs=1), ek.fitness.ParameterCount()],
                            small_digits)
    bad = DeepGAGenome([ConvBlock(0, 3, "max", 2, "relu")], [], [])
    out = ce.evaluate_all([bad, _genome()])
    assert out[0].evaluation.reason == "decode_error" and "filters" in out[0].evaluation.message
    assert out[0].values == (0.0, float("inf"))
    assert out[1].evaluation.status == "ok"


def test_untrained_objectives_skip_training(small_digits, tiny_encoding, counting_evaluator):
    evaluator = counting_evaluator
    ce = CandidateEvaluator(tiny_encoding, ek.fitness.ParameterCount(), small_digits, evaluator=evaluator)
    out = ce.evaluate_all([_genome()])
    assert evaluator.trained == [] and out[0].evaluation.status == "untrained"
    assert out[0].values == (float(ce.decode(_genome()).params),)


@pytest.mark.slow
def test_process_evaluator_matches_serial(small_digits, tiny_encoding):
    genomes = [_genome(4), _genome(8)]
    serial = CandidateEvaluator(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits)
    procs = CandidateEvaluator(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits,
                               evaluator=ek.runtime.ProcessEvaluator(workers=2))
    try:
        assert [o.values for o in serial.evaluate_all(genomes)] == [o.values for o in procs.evaluate_all(genomes)]
    finally:
        procs.close()


@pytest.mark.slow
def test_probes_run_in_worker_processes(small_digits, tiny_encoding):
    objectives = [ek.fitness.ValidationAccuracy(epochs=1), ek.fitness.CO2(mode="measured"), ek.fitness.Latency(repeats=3)]
    procs = CandidateEvaluator(tiny_encoding, objectives, small_digits, evaluator=ek.runtime.ProcessEvaluator(workers=2))
    try:
        outcomes = procs.evaluate_all([_genome(4), _genome(8)])
    finally:
        procs.close()
    for o in outcomes:
        assert o.evaluation.status == "ok"
        assert o.evaluation.metrics["energy_kwh_measured"] > 0 and o.evaluation.metrics["latency_ms"] > 0
        assert o.evaluation.extra["cores"] == 1  # one TensorFlow thread per worker


@pytest.mark.parametrize("limit, workers_seen", [(1e-3, 2), (None, 1)])
def test_process_workers_are_replaced_over_the_memory_limit(small_digits, tiny_encoding, limit, workers_seen):
    """Real worker processes: over the limit, a worker that has trained before is replaced (a
    fresh one would be no smaller): candidates land on workers two by two."""
    evaluator = ek.runtime.ProcessEvaluator(workers=1, memory_limit_gb=limit)
    procs = CandidateEvaluator(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits,
                               evaluator=evaluator)
    try:
        outcomes = procs.evaluate_all([_genome(4), _genome(8), _genome(5), _genome(6)])
    finally:
        procs.close()
    assert all(o.evaluation.status == "ok" for o in outcomes)
    pids = [o.evaluation.extra["pid"] for o in outcomes]
    assert len(set(pids)) == workers_seen
    if limit is not None:
        assert sorted(collections.Counter(pids).values()) == [2, 2]


def test_a_process_pool_starts_the_largest_networks_first(small_digits, tiny_encoding):
    """A batch should not end on a big network while the other workers idle."""
    from evokit.evaluation import TrainingConfig
    from evokit.runtime.executors import Job

    decode = CandidateEvaluator(tiny_encoding, ek.fitness.ParameterCount(), small_digits).decode
    specs = [decode(_genome(f)) for f in (4, 8, 5, 6)]
    jobs = [Job(spec, seed=1) for spec in specs] + [Job(specs[0], seed=1, epochs=3)]  # 3 epochs: the most work
    started: list[int] = []
    with ek.runtime.ProcessEvaluator(workers=1).start(small_digits, TrainingConfig(epochs=1)) as evaluator:
        evaluations = evaluator.train(jobs, on_result=lambda i, evaluation: started.append(i))
    assert all(e.status == "ok" for e in evaluations)
    assert started == [4, 1, 3, 2, 0]
