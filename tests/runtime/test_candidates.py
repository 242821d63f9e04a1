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


def test_out_of_memory_is_its_own_reason_and_the_network_is_trained_again(small_digits, tiny_encoding, monkeypatch):
    """A transient out-of-memory error in training says nothing about the network: not cached."""
    from evokit.runtime.training import trainer

    build_and_fit, calls = trainer._build_and_fit, []

    def short_of_memory_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError("Unable to allocate 12.0 GiB for an array")
        return build_and_fit(*args, **kwargs)

    monkeypatch.setattr(trainer, "_build_and_fit", short_of_memory_once)
    ce = CandidateEvaluator(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits)
    first = ce.evaluate_all([_genome()])[0]
    assert first.evaluation.reason == "out_of_memory" and "MemoryError: Unable" in first.evaluation.message
    assert ce.cached(_genome()) is None
    again = ce.evaluate_all([_genome()])[0]
    assert len(calls) == 2 and not again.cached and again.evaluation.status == "ok"
    assert ce.cached(_genome()).status == "ok"


def test_out_of_memory_errors_are_recognised_by_their_class():
    import tensorflow as tf

    from evokit.evaluation import exception_failure, out_of_memory

    assert out_of_memory(MemoryError()) and out_of_memory(tf.errors.ResourceExhaustedError(None, None, "OOM"))
    assert not out_of_memory(RuntimeError("injected crash during training"))
    assert exception_failure(None, MemoryError("x"), "build_error").reason == "out_of_memory"
    assert exception_failure(None, ValueError("x"), "build_error").reason == "build_error"


def test_an_objective_that_raises_or_gives_nan_fails_its_candidate_only(small_digits, tiny_encoding, caplog):
    """No training: the objectives read the NetSpec. Each failure names its objective; the
    candidate gets every objective's failure value (ParameterCount's is the network's size)."""
    sizes = {CandidateEvaluator(tiny_encoding, ek.fitness.ParameterCount(), small_digits).decode(_genome(f)).params: f
             for f in (4, 8, 6)}

    def kilo_params(evaluation):
        filters = sizes[evaluation.params]
        return {4: lambda: 1 / 0, 8: lambda: float("nan"), 6: lambda: evaluation.params / 1000}[filters]()

    objectives = [ek.fitness.ParameterCount(), ek.fitness.Objective(kilo_params, weight=-1.0, needs_training=False)]
    ce = CandidateEvaluator(tiny_encoding, objectives, small_digits)
    with caplog.at_level("WARNING", logger="evokit.runtime"):
        raised, nan, fine = ce.evaluate_all([_genome(4), _genome(8), _genome(6)])
        ce.evaluate_all([_genome(4)])
    assert raised.evaluation.reason == nan.evaluation.reason == "objective_error"
    assert raised.evaluation.message == "objectives[1] 'kilo_params': ZeroDivisionError: division by zero"
    assert nan.evaluation.message == "objectives[1] 'kilo_params': returned NaN"
    assert raised.values == (raised.evaluation.params, float("inf")) and nan.values[1] == float("inf")
    assert fine.evaluation.status == "untrained" and fine.values == (fine.evaluation.params,
                                                                       fine.evaluation.params / 1000)
    assert len([r for r in caplog.records if "kilo_params" in r.getMessage()]) == 1  # logged once, then counted


def test_a_configuration_error_of_an_objective_still_ends_the_search(small_digits, tiny_encoding):
    def misconfigured(evaluation):
        raise ek.errors.ConfigError("threshold=-1 is invalid: expected a number >= 0")

    ce = CandidateEvaluator(tiny_encoding, ek.fitness.Objective(misconfigured, needs_training=False), small_digits)
    with pytest.raises(ek.errors.ConfigError, match="threshold"):
        ce.evaluate_all([_genome()])
