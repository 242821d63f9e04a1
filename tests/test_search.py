import csv
import json

import keras
import numpy as np
import pytest

import evokit as ek
from evokit.runtime.run.directory import read_candidates


def _search(data, encoding, tmp_path=None, seed=0, **kw):
    kw.setdefault("algorithm", ek.algorithms.GA(population=4, generations=2))
    return ek.Search(encoding=encoding, objectives=kw.pop("objectives", ek.fitness.ValidationAccuracy(epochs=1)),
                     data=data, seed=seed, run_dir=tmp_path, progress=False, **kw)


def test_tiny_run_writes_the_whole_run_directory(small_digits, tiny_encoding, tmp_path):
    result = _search(small_digits, tiny_encoding, tmp_path / "run").run()
    run = tmp_path / "run"
    for name in ("config.json", "candidates.jsonl", "generations.csv", "best.keras", "best.txt", "fitness.png",
                 "summary.json"):
        assert (run / name).is_file() and (run / name).stat().st_size > 0, name
    records = read_candidates(run)
    assert len(records) == result.stats["evaluated"] >= 4
    assert {"genotype", "network", "netspec", "fitness", "val_accuracy", "params", "wall_time", "cached"} <= set(records[0])
    assert ek.NetSpec.from_dict(records[0]["netspec"]).hash == records[0]["hash"]
    rows = list(csv.DictReader((run / "generations.csv").open()))
    assert [int(r["gen"]) for r in rows] == [0, 1, 2]
    model = keras.models.load_model(run / "best.keras")
    assert model.count_params() == result.best.params
    summary = json.loads((run / "summary.json").read_text())
    assert summary["test_scores"]["test_accuracy"] == pytest.approx(result.test_scores["test_accuracy"])
    preds = np.argmax(model.predict(small_digits.x_test, verbose=0), axis=1)
    assert np.mean(preds == small_digits.y_test) == pytest.approx(result.test_scores["test_accuracy"])
    assert result.best.values["val_accuracy"] == max(r["fitness"]["val_accuracy"] for r in records)


def test_same_seed_same_history_different_seed_differs(small_digits, tiny_encoding, tmp_path):
    def history(seed, name):
        _search(small_digits, tiny_encoding, tmp_path / name, seed=seed).run()
        return [(r["genotype"], r["fitness"], r["cached"]) for r in read_candidates(tmp_path / name)]

    first = history(1, "a")
    assert first == history(1, "b")
    assert first != history(2, "c")


def test_only_invalid_individuals_are_evaluated(small_digits, tiny_encoding):
    result = _search(small_digits, tiny_encoding, algorithm=ek.algorithms.GA(
        population=4, generations=2, cxpb=0.0, mutpb=0.0)).run()
    assert [r["evaluated"] for r in result.history] == [4, 0, 0]


def test_nsga2_two_objectives_keeps_a_pareto_front(small_digits, tiny_encoding):
    result = _search(small_digits, tiny_encoding, objectives=[ek.fitness.ValidationAccuracy(epochs=1),
                                                              ek.fitness.ParameterCount()],
                     algorithm=ek.algorithms.NSGA2(population=4, generations=1)).run()
    front = result.pareto_front
    assert front and result.best in front
    for a in front:  # no member dominates another
        for b in front:
            assert not (a.values["val_accuracy"] >= b.values["val_accuracy"] and a.params <= b.params
                        and (a.values["val_accuracy"], a.params) != (b.values["val_accuracy"], b.params))


def test_budget_on_evaluations_stops_the_search(small_digits, tiny_encoding):
    result = _search(small_digits, tiny_encoding, algorithm=ek.algorithms.GA(population=4, generations=50),
                     budget=ek.Budget(evaluations=6)).run()
    assert result.stats["stopped_by"] == "evaluations" and result.stats["generations"] < 50


def test_run_dir_with_a_run_is_not_overwritten(small_digits, tiny_encoding, tmp_path):
    _search(small_digits, tiny_encoding, tmp_path, algorithm=ek.algorithms.GA(population=2, generations=0)).run()
    with pytest.raises(ek.errors.ConfigError, match="run_dir.*resume"):
        _search(small_digits, tiny_encoding, tmp_path).run()


@pytest.mark.parametrize("kwargs, field", [
    ({"encoding": "deepga"}, "encoding"), ({"objectives": []}, "objectives"), ({"algorithm": "ga"}, "algorithm"),
    ({"seed": -1}, "seed"), ({"workers": 0}, "workers"), ({"budget": 10}, "budget"),
    ({"final_training": "long"}, "final_training"), ({"data": "mnist"}, "data")])
def test_bad_arguments_name_the_field(kwargs, field, tiny_encoding):
    args = {"encoding": tiny_encoding, "objectives": ek.fitness.ValidationAccuracy(), "progress": False} | kwargs
    with pytest.raises(ek.errors.ConfigError, match=field):
        ek.Search(**args).run()


def test_algorithm_arguments_are_checked():
    with pytest.raises(ek.errors.ConfigError, match="replacement"):
        ek.algorithms.GA(replacement="steady")
    with pytest.raises(ek.errors.ConfigError, match="population"):
        ek.algorithms.GA(population=1)
    with pytest.raises(ek.errors.ConfigError, match="cxpb"):
        ek.algorithms.NSGA2(cxpb=2)


def test_final_training_starts_from_the_weights_a_genotype_carries(small_digits):
    """A Lamarckian NEAT genome is retrained from its evolved weights, not from scratch; a genome
    scored with its weights as they are (NEAT without fine-tuning) is not retrained at all."""
    tuned = ek.Search(ek.encodings.NEAT(finetune=True, weight_init_std=0.1), ek.fitness.ValidationAccuracy(
        epochs=3, learning_rate=0.01), data=small_digits, algorithm=ek.algorithms.GA(population=3, generations=0),
        final_training=ek.TrainingConfig(epochs=1, learning_rate=1e-4), progress=False).run()
    # one epoch at a tiny learning rate barely moves the weights: from the carried ones it stays as good
    assert tuned.test_scores["final_val_accuracy"] == pytest.approx(tuned.best.values["val_accuracy"], abs=0.05)
    assert tuned.best.values["val_accuracy"] > 0.5
    plain = ek.Search(ek.encodings.NEAT(), ek.fitness.ValidationAccuracy(), data=small_digits,
                      algorithm=ek.algorithms.GA(population=3, generations=0), final_training=5, progress=False).run()
    assert "final_val_accuracy" not in plain.test_scores and "test_accuracy" in plain.test_scores


@pytest.mark.parametrize("encoding, algorithm, names", [
    (lambda: ek.encodings.DeepGA(), lambda: ek.algorithms.GP(), "encoding="),
    (lambda: ek.encodings.Tree(), lambda: ek.algorithms.PSO(), "algorithm=PSO"),
    (lambda: ek.encodings.Binary(), lambda: ek.algorithms.PSO(), "algorithm=PSO")])
def test_an_algorithm_that_cannot_search_the_encoding_fails_when_the_search_is_made(encoding, algorithm, names):
    with pytest.raises(ek.errors.ConfigError, match=names):
        ek.Search(encoding(), ek.fitness.ValidationAccuracy(), algorithm=algorithm())
