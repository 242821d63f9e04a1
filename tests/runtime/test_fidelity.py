"""Successive halving inside a batch: real Keras training on small digits, tiny budgets."""
import json

import pytest

import evokit as ek
from evokit.encodings.deepga import ConvBlock, DeepGAGenome, DenseBlock
from evokit.errors import ConfigError
from evokit.runtime.candidates.cache import FitnessCache
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.candidates.fidelity import SuccessiveHalving, best
from evokit.runtime.run.directory import read_candidates


def _genome(filters=4, units=8, kernel=3):
    return DeepGAGenome([ConvBlock(filters, kernel, "max", 2, "relu")], [DenseBlock(units, "relu", 0.0)], [])


GENOMES = [_genome(4, 8), _genome(8, 8), _genome(4, 16), _genome(8, 16), _genome(4, 8, 5), _genome(8, 16, 5)]


def _rung_key(key, epochs):
    """The same network's key at another rung (keys end their network part with ``+sh1x3@E``)."""
    head, context = key.split("|", 1)
    return head.rsplit("@", 1)[0] + f"@{epochs}|{context}"


def test_schedule_and_selection():
    assert SuccessiveHalving(min_epochs=1, eta=3).rungs(9) == [1, 3, 9]
    assert SuccessiveHalving(min_epochs=1, eta=3).rungs(4) == [1, 3, 4]
    assert SuccessiveHalving(min_epochs=2, eta=2, max_epochs=5).rungs(99) == [2, 4, 5]
    assert SuccessiveHalving(min_epochs=3).rungs(3) == [3]
    assert [SuccessiveHalving(eta=3).promoted(n) for n in (1, 2, 3, 8, 9)] == [1, 1, 1, 2, 3]
    assert best([0.5, float("-inf"), 0.9, 0.5], 3) == [2, 0, 3]  # ties: the earlier; failures never


@pytest.mark.parametrize("kwargs, field", [({"min_epochs": 0}, "min_epochs"), ({"eta": 1}, "eta"),
                                           ({"min_epochs": 3, "max_epochs": 2}, "max_epochs"),
                                           ({"objective": -1}, "objective"), ({"eta": 2.5}, "eta")])
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        SuccessiveHalving(**kwargs)


def test_bad_objective_index_and_search_arguments(small_digits, tiny_encoding):
    with pytest.raises(ConfigError, match="objective=1"):
        CandidateEvaluator(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits,
                           fidelity=SuccessiveHalving(objective=1))
    with pytest.raises(ConfigError, match="fidelity"):
        ek.Search(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits, fidelity=3)
    with pytest.raises(ConfigError, match="inherit_weights"):
        ek.Search(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits, inherit_weights="yes")


def test_all_train_min_epochs_and_only_the_best_third_go_on(small_digits, tiny_encoding, counting_evaluator):
    ce = CandidateEvaluator(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=3), small_digits,
                            evaluator=counting_evaluator, fidelity=SuccessiveHalving(min_epochs=1, eta=3))
    outcomes = ce.evaluate_all(GENOMES)
    epochs = [len(o.evaluation.history["loss"]) for o in outcomes]
    assert sorted(epochs) == [1, 1, 1, 1, 3, 3]  # 6 at rung 1, the best 6 // 3 = 2 to 3 epochs
    assert [o.evaluation.extra["epochs"] for o in outcomes] == epochs
    assert all(o.evaluation.extra["fidelity"] == round(e / 3, 4) for o, e in zip(outcomes, epochs))
    assert len(counting_evaluator.trained) == 8  # 6 first-rung trainings, 2 continued
    assert counting_evaluator.starts == 1  # rungs set epochs per job: worker processes keep their settings
    assert ce.training_stats() == {"trainings": 8, "epochs_trained": 10, "epochs_full": 18, "epochs_saved": 0.4444,
                                   "stopped_early": 4, "inherited_starts": 0}
    # the promoted ones were the best after one epoch; the best of the batch ends at full fidelity
    first = [ce.cache.peek(_rung_key(ce.evaluation_key(g), 1)).metrics["val_accuracy"] for g in GENOMES]
    promoted = {i for i, e in enumerate(epochs) if e == 3}
    assert min(first[i] for i in promoted) >= max(first[i] for i in range(6) if i not in promoted)
    assert epochs[max(range(6), key=lambda i: outcomes[i].values[0])] == 3
    summary = outcomes[0].evaluation.summary()
    assert summary["epochs"] == epochs[0] and "fidelity" in summary  # marked in the candidate records


def test_low_fidelity_results_never_count_as_full_ones(small_digits, tiny_encoding, counting_evaluator):
    objective = ek.fitness.ValidationAccuracy(epochs=3)
    cache = FitnessCache()
    halving = CandidateEvaluator(tiny_encoding, objective, small_digits, cache=cache,
                                 fidelity=SuccessiveHalving(min_epochs=1, eta=3))
    outcomes = halving.evaluate_all(GENOMES)
    stopped = next(g for g, o in zip(GENOMES, outcomes) if o.evaluation.extra["epochs"] == 1)
    full = next(g for g, o in zip(GENOMES, outcomes) if o.evaluation.extra["epochs"] == 3)
    assert all("+sh1x3@" in halving.evaluation_key(g) for g in GENOMES)
    # a search without halving sharing the cache trains both: neither result is its full training
    plain = CandidateEvaluator(tiny_encoding, objective, small_digits, cache=cache, evaluator=counting_evaluator)
    again = plain.evaluate_all([stopped, full])
    assert len(counting_evaluator.trained) == 2 and not any(o.cached for o in again)
    assert all(len(o.evaluation.history["loss"]) == 3 and "epochs" not in o.evaluation.extra for o in again)
    # the halving search itself: a network evaluated before is a hit, at the fidelity it reached, marked
    trainings = halving.trainings
    later = halving.evaluate_all([full, stopped])
    assert [o.cached for o in later] == [True, True] and halving.trainings == trainings
    assert [o.evaluation.extra["epochs"] for o in later] == [3, 1]
    # a batch of one new network (toolbox.evaluate) is evaluated at full fidelity
    single = halving.evaluate_all([_genome(8, 8, 5)])[0]
    assert single.evaluation.extra["epochs"] == 3 and len(single.evaluation.history["loss"]) == 3


def test_search_with_halving_marks_its_records(small_digits, tiny_encoding, tmp_path):
    search = ek.Search(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=2), small_digits,
                       algorithm=ek.algorithms.GA(population=4, generations=1), seed=1, run_dir=tmp_path,
                       progress=False, fidelity=SuccessiveHalving(min_epochs=1, eta=2))
    result = search.run()
    records = read_candidates(tmp_path)
    trained = [r for r in records if r["status"] == "ok" and not r["cached"]]
    assert trained and all(r["epochs"] in (1, 2) for r in trained)
    assert {r["epochs"] for r in records if r["generation"] == 0} == {1, 2}  # 4 -> 2 go on
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["fidelity"] == repr(SuccessiveHalving(min_epochs=1, eta=2)) and config["inherit_weights"] is False
    assert result.best.evaluation.status == "ok"


@pytest.mark.slow
def test_halving_in_worker_processes_matches_serial(small_digits, tiny_encoding):
    objective, halving = ek.fitness.ValidationAccuracy(epochs=2), SuccessiveHalving(min_epochs=1, eta=2)
    serial = CandidateEvaluator(tiny_encoding, objective, small_digits, fidelity=halving)
    procs = CandidateEvaluator(tiny_encoding, objective, small_digits, fidelity=halving,
                               evaluator=ek.runtime.ProcessEvaluator(workers=2))
    try:
        expected = [(o.values, o.evaluation.extra["epochs"]) for o in serial.evaluate_all(GENOMES[:4])]
        assert [(o.values, o.evaluation.extra["epochs"]) for o in procs.evaluate_all(GENOMES[:4])] == expected
    finally:
        procs.close()
