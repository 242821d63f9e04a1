"""How candidates train when a user's Objective is the one that needs training (issue 21, item 7):
the setting is an explicit keyword of the objective (or of ``ek.toolbox``), with a documented
default, and it merges with the other objectives' settings as theirs do."""
import dataclasses

import pytest

import evokit as ek
from evokit import config
from evokit.errors import ConfigError
from evokit.fitness.combine import training_config


def val_acc(evaluation):
    return evaluation.metrics["val_accuracy"]


def test_a_plain_objective_trains_with_the_documented_default():
    assert training_config([ek.fitness.Objective(val_acc)]) == ek.fitness.DEFAULT_TRAINING
    assert ek.fitness.DEFAULT_TRAINING.epochs == 20 and ek.fitness.DEFAULT_TRAINING.early_stopping == 3
    assert training_config([ek.fitness.ModelObjective(lambda model, data: 0.0)]) == ek.fitness.DEFAULT_TRAINING
    assert training_config([ek.fitness.Objective(val_acc, needs_training=False)]) is None


def test_objective_training_keywords_are_a_training_configs():
    objective = ek.fitness.Objective(val_acc, epochs=7, learning_rate=0.01)
    assert objective.training == ek.TrainingConfig(epochs=7, learning_rate=0.01)
    # the same keywords as ValidationAccuracy's give the same setting: the two combine
    both = [ek.fitness.ValidationAccuracy(epochs=7, learning_rate=0.01), objective]
    assert training_config(both) == objective.training
    assert ek.fitness.ModelObjective(lambda m, d: 0.0, name="m", epochs=4).training.epochs == 4


def test_an_objective_without_keywords_takes_the_others_setting_and_different_ones_are_refused():
    plain = ek.fitness.Objective(val_acc)
    assert training_config([ek.fitness.ValidationAccuracy(epochs=2), plain]).epochs == 2
    with pytest.raises(ConfigError, match="different training settings"):
        training_config([ek.fitness.ValidationAccuracy(epochs=2), ek.fitness.Objective(val_acc, epochs=9)])


@pytest.mark.parametrize("kwargs, field", [({"epochs": 0}, "epochs"), ({"optimizer": "sgdx"}, "optimizer"),
                                           ({"needs_training": False, "epochs": 5}, "epochs=5")])
def test_bad_training_keywords_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        ek.fitness.Objective(val_acc, **kwargs)


def test_toolbox_takes_a_training_setting_that_must_agree_with_the_objectives(small_digits, tiny_encoding):
    setting = ek.TrainingConfig(epochs=1, batch_size=64)
    tb = ek.toolbox(tiny_encoding, [ek.fitness.Objective(val_acc), ek.fitness.ParameterCount()], small_digits,
                    seed=0, training=setting)
    assert tb.candidates.training == setting
    assert ek.toolbox(tiny_encoding, [ek.fitness.Objective(val_acc)], small_digits).candidates.training \
        == ek.fitness.DEFAULT_TRAINING
    with pytest.raises(ConfigError, match="training=epochs=1"):
        ek.toolbox(tiny_encoding, [ek.fitness.ValidationAccuracy(epochs=3)], small_digits, training=setting)
    with pytest.raises(ConfigError, match="training=3 is invalid"):
        ek.toolbox(tiny_encoding, [ek.fitness.ValidationAccuracy(epochs=3)], small_digits, training=3)


def test_a_user_objective_trains_as_its_keywords_say(small_digits, tiny_encoding):
    tb = ek.toolbox(tiny_encoding, [ek.fitness.Objective(val_acc, epochs=2)], small_digits, seed=0)
    individual = tb.individual()
    tb.evaluate(individual)
    evaluation = tb.candidates.cached(individual)
    assert evaluation.status == "ok" and len(evaluation.history["loss"]) == 2


def test_a_config_gives_a_user_function_its_training_keys(tmp_path, monkeypatch):
    (tmp_path / "my_fitness.py").write_text("def val_acc(evaluation):\n    return evaluation.metrics['val_accuracy']\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    doc = {"objectives": [{"type": "my_fitness:val_acc", "epochs": 6, "early_stopping": 2}, "params"]}
    search = config.from_dict(doc, allow_imports=True)
    assert search.objectives[0].training == dataclasses.replace(ek.TrainingConfig(), epochs=6, early_stopping=2)
    with pytest.raises(ConfigError, match=r"objectives\[0\]\.epochs=0 is invalid"):
        config.from_dict({"objectives": [{"type": "my_fitness:val_acc", "epochs": 0}]}, allow_imports=True)
