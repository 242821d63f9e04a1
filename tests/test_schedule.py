"""TrainingConfig.schedule: the learning rate per epoch, set on the optimizer as training goes."""
import math
import random

import pytest

import evokit as ek
from evokit.errors import ConfigError
from evokit.runtime.training.loop import epoch_learning_rate
from evokit.runtime.training.trainer import train


def test_cosine_decays_from_the_rate_towards_zero():
    config = ek.TrainingConfig(epochs=4, learning_rate=0.01, schedule="cosine")
    rates = [epoch_learning_rate(config, e) for e in range(4)]
    assert rates[0] == pytest.approx(0.01)
    assert rates[2] == pytest.approx(0.005)
    assert rates == sorted(rates, reverse=True) and rates[-1] > 0
    assert epoch_learning_rate(ek.TrainingConfig(epochs=4, learning_rate=0.01), 3) == 0.01


def test_constant_keeps_the_cache_key_and_bad_names_are_refused():
    assert "schedule" not in ek.TrainingConfig().key()
    assert "schedule=cosine" in ek.TrainingConfig(schedule="cosine").key()
    with pytest.raises(ConfigError, match="schedule='linear'"):
        ek.TrainingConfig(schedule="linear")
    assert ek.fitness.ValidationAccuracy(schedule="cosine").training.schedule == "cosine"
    assert ek.fitness.Objective(lambda e: 1.0, schedule="cosine").training.schedule == "cosine"


def test_training_sets_the_optimizers_rate_each_epoch():
    from evokit import tasks
    from evokit.builder import build
    from evokit.runtime.training.compiling import compile_model
    from evokit.runtime.training.loop import train_batches

    data = ek.datasets.load("digits", seed=0).subset(n_train=64, n_val=32)
    enc = ek.encodings.DeepGA()
    spec = enc.decode(enc.random(random.Random(0)), data.input_shape, data.n_outputs)
    config = ek.TrainingConfig(epochs=2, learning_rate=0.02, schedule="cosine")
    model = build(spec)
    compile_model(model, config, tasks.get(data.task))
    history = train_batches(model, data, config, seed=0)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.02 * 0.5 * (1 + math.cos(math.pi / 2)))
    assert len(history["loss"]) == 2
    constant = train(spec, data, ek.TrainingConfig(epochs=2, learning_rate=0.02), seed=0)
    cosine = train(spec, data, config, seed=0)
    assert cosine.history["loss"][0] == pytest.approx(constant.history["loss"][0])  # same first epoch
    assert cosine.history["loss"][1] != constant.history["loss"][1]  # a different rate in the second
