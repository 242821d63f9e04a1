"""GANs end to end: the adversarial trainer's failure reasons, the objectives, a tiny PSO search."""
import json
import math

import numpy as np
import pytest

import evokit as ek
from evokit.errors import ConfigError
from evokit.netspec import Activation, Conv2D, Dense, Flatten, GANSpec, Graph, Reshape
from evokit.runtime.training import adversarial
from evokit.runtime.training.trainer import train


@pytest.fixture(scope="module")
def gan_digits():
    return ek.datasets.load("digits", task="gan").subset(n_train=256, n_val=96)


def _history(d_loss, g_loss, d_real, d_fake):
    return {"d_loss": [d_loss], "loss": [g_loss], "d_real": [d_real], "d_fake": [d_fake]}


def test_failure_rules_read_the_last_epoch():
    assert adversarial._failed(_history(1.3, 0.7, 0.6, 0.5)) is None
    reason, message = adversarial._failed(_history(math.nan, 0.7, 0.6, 0.5))
    assert reason == "nan_loss" and "nan" in message
    reason, message = adversarial._failed(_history(0.01, 9.0, 1.0, 0.995))
    assert reason == "diverged" and "won outright" in message
    assert adversarial._failed(_history(0.01, 9.0, 1.0, 0.9)) is None  # fooled now and then: still learning


def test_mode_collapse_compares_the_spread_of_generated_and_real_features():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(200, 8))
    assert adversarial._collapsed(real, rng.normal(size=(200, 8))) is None
    collapsed = real[:1] + 0.01 * rng.normal(size=(200, 8))
    assert "mode collapse" in adversarial._collapsed(real, collapsed)


def _weak_pair(generator_lr, discriminator_lr):
    g = Graph((4,))
    x = g.add(Reshape((2, 2, 1)), g.add(Dense(4, activation="linear"), g.input))
    generator = g.finish(g.add(Conv2D(1, 3, activation="tanh"),
                               g.add(ek.netspec.Upsample(4), x))).with_training({"learning_rate": generator_lr})
    d = Graph((8, 8, 1))
    y = d.add(Conv2D(32, 3, strides=2, activation="leaky_relu"), d.input)
    discriminator = d.finish(d.add(Dense(1, activation="linear"), d.add(Flatten(), d.add(Activation("relu"), y))))
    return GANSpec(generator, discriminator.with_training({"learning_rate": discriminator_lr}))


def test_a_pair_whose_discriminator_wins_outright_is_recorded_as_diverged(gan_digits):
    objective = ek.fitness.FrechetDistance(epochs=6, batch_size=32, features="random")
    objective.setup(gan_digits, objective.training)
    evaluation = train(_weak_pair(1e-7, 1e-2), gan_digits, objective.training, seed=0)
    assert evaluation.failed and evaluation.reason == "diverged", evaluation.message
    assert "discriminator won outright" in evaluation.message and math.isinf(objective(evaluation))


def test_objectives_refuse_other_data_and_bad_settings(small_digits):
    with pytest.raises(ConfigError, match="FrechetDistance needs gan data"):
        ek.fitness.FrechetDistance().setup(small_digits, None)
    with pytest.raises(ConfigError, match="^features='inception' is invalid"):
        ek.fitness.FrechetDistance(features="inception")
    with pytest.raises(ConfigError, match="^label_smoothing=0.7 is invalid"):
        ek.fitness.FrechetDistance(label_smoothing=0.7)
    with pytest.raises(ConfigError, match="encoding=DeepGA is invalid for gan data"):
        ek.Search(encoding=ek.encodings.DeepGA(), objectives=ek.fitness.FrechetDistance(),
                  data=ek.datasets.load("digits", task="gan"), progress=False).run()


def test_a_tiny_pso_search_runs_end_to_end_in_worker_processes_and_resumes(gan_digits, tmp_path):
    from evokit.export import export_models
    from evokit.runtime.training import generated

    run = tmp_path / "gan"
    encoding = ek.encodings.DCGAN(latent_sizes=(8, 16), generator_filters=(16, 32), discriminator_filters=(8, 16))
    objective = ek.fitness.FrechetDistance(epochs=3, features="random")
    result = ek.Search(encoding=encoding, objectives=[objective], algorithm=ek.algorithms.PSO(population=2, generations=1),
                       data=gan_digits, seed=0, workers=2, run_dir=run, progress=False).run()
    assert result.stats["trained"] == 4 and set(result.stats["failures"]) <= {"mode_collapse", "diverged"}
    assert result.best.evaluation.status == "ok"
    # the workers scored with the search's extractor (random features), as this process does
    again = generated.score(result.final_model, gan_digits, "val")[0]["val_frechet"]
    assert again == pytest.approx(result.best.values["val_frechet"], rel=1e-4)
    assert result.final_model.output_shape[1:] == gan_digits.input_shape
    assert result.test_scores["test_frechet"] >= 0 and (run / "best_discriminator.keras").is_file()
    assert (run / "samples" / "best.png").is_file()
    index = json.loads((run / "samples" / "index.json").read_text())
    assert [e["generation"] for e in index["generations"]] == [0, 1]
    paths = export_models(run, tmp_path / "out", discriminator=True)
    assert [p.name for p in paths] == ["best.keras", "best_discriminator.keras"]
    resumed = ek.resume(run, budget=ek.Budget(generations=2), progress=False)  # the run's identity holds
    assert resumed.stats["generations"] == 2 and resumed.stats["evaluated"] == 6 and resumed.stats["trained"] > 4


def test_label_smoothing_raises_the_loss_a_winning_discriminator_reaches():
    assert adversarial._failed(_history(0.34, 9.0, 1.0, 1.0), real_label=0.9)[0] == "diverged"  # entropy 0.325
    assert adversarial._failed(_history(0.5, 9.0, 1.0, 1.0), real_label=0.9) is None


def test_two_objectives_must_share_their_features(gan_digits):
    with pytest.raises(ConfigError, match="they ask for different features"):
        ek.Search(encoding=ek.encodings.DCGAN(), data=gan_digits, progress=False, algorithm=ek.algorithms.NSGA2(),
                  objectives=[ek.fitness.FrechetDistance(features="random"), ek.fitness.Coverage()]).run()


def test_the_default_search_for_gan_data_is_dcgan_pso(gan_digits):
    search = ek.presets.for_data(gan_digits, progress=False)
    assert type(search.encoding).__name__ == "DCGAN" and type(search.algorithm).__name__ == "PSO"
    assert [o.name for o in search.objectives] == ["val_frechet"] and search.final_training is None


def test_random_features_are_in_the_training_images_units_and_tell_noise_from_digits(gan_digits):
    from evokit.fitness import features

    extractor = features.fitted(gan_digits, "random")
    train = extractor(gan_digits.x_train)
    assert np.abs(train.mean(axis=0)).max() < 1e-6
    spread = train.std(axis=0)
    assert np.allclose(spread[spread > 0], 1.0, atol=1e-6)
    gan = ek.tasks.get("gan")
    real = extractor(gan_digits.x_val)
    noise = np.random.default_rng(0).normal(gan_digits.x_train.mean(), gan_digits.x_train.std(), gan_digits.x_val.shape)
    floor = gan.score(real, extractor(gan_digits.x_train[:len(real)]), "")["frechet"]
    assert gan.score(real, extractor(noise.astype("float32")), "")["frechet"] > 10 * floor
