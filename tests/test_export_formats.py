"""Exports in every format (evokit.export): each artifact loaded with its own runtime, compared with
the Keras model on the run's test split, and described in NAME.json beside it."""
import json
import sys

import numpy as np
import pytest

import evokit as ek
from evokit.cli import main
from evokit.errors import ConfigError
from evokit.export import ATOL, FORMATS, ExportError, description_path, export_models
from evokit.export.checks import agreement, check_agreement

CARD_KEYS = {"format", "file", "size_bytes", "description", "params", "flops", "input_shape", "input_dtype",
             "output_shape", "fixed_batch", "agreement", "latency", "versions"}


def _run(tmp_path_factory, name, data, **search):
    """A finished tiny search (serial, no final training) in a fresh run directory."""
    run_dir = tmp_path_factory.mktemp(name) / "run"
    ek.Search(data=data, seed=0, run_dir=run_dir, progress=False, **search).run()
    return run_dir


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory, small_digits):
    """Two tiny DeepGA networks trained one epoch on digits (accuracy and parameters)."""
    encoding = ek.encodings.DeepGA(max_conv_blocks=1, max_dense=1, filters=(4,), units=(8,))
    return _run(tmp_path_factory, "digits", small_digits, encoding=encoding,
                objectives=[ek.fitness.ValidationAccuracy(epochs=1), ek.fitness.ParameterCount()],
                algorithm=ek.algorithms.NSGA2(population=2, generations=0))


def _runtime_predictions(fmt, path, x):
    """The artifact's outputs, loaded here with the format's runtime (not through evokit)."""
    if fmt == "savedmodel":
        import tensorflow as tf

        loaded = tf.saved_model.load(str(path))  # kept: its variables die with it
        return np.asarray(loaded.serve(tf.constant(x)))
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: x})[0]
    if fmt == "litert":
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(path))
        inp = interpreter.get_input_details()[0]
        interpreter.resize_tensor_input(inp["index"], list(x.shape))
        interpreter.allocate_tensors()
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    import keras

    return np.asarray(keras.models.load_model(path)(x, training=False))


def _check_card(path, fmt, model, x):
    card = json.loads(description_path(path).read_text())
    assert set(card) == CARD_KEYS and card["format"] == fmt and card["file"] == path.name
    assert card["size_bytes"] > 1000 and card["params"] == model.count_params() and card["flops"] > 0
    assert card["input_shape"] == list(model.input_shape[1:])
    agree = card["agreement"]
    assert agree["ok"] and agree["n_samples"] == len(x) and agree["atol"] == ATOL and agree["max_abs_diff"] <= ATOL
    latency = card["latency"]
    assert 0 < latency["batch_1_ms"] and 0 < latency["batch_ms"] and latency["batch"] == 32 and latency["runs"] > 1
    assert card["versions"]["keras"] and card["versions"]["tensorflow"]
    return card


@pytest.mark.parametrize("fmt", ["keras", "savedmodel", "litert"])
def test_the_best_model_exports_in_each_format_and_matches_keras_on_the_test_split(digits_run, small_digits,
                                                                                     tmp_path, fmt):
    import keras

    paths = export_models(digits_run, tmp_path, format=fmt)
    assert [p.name for p in paths] == ["best" + FORMATS[fmt].suffix]
    model = keras.models.load_model(digits_run / "best.keras")
    x = small_digits.x_test
    ours, theirs = np.asarray(model(x, training=False)), _runtime_predictions(fmt, paths[0], x)
    assert np.abs(ours - theirs).max() <= ATOL
    assert np.array_equal(ours.argmax(1), theirs.argmax(1))
    card = _check_card(paths[0], fmt, model, x)
    assert card["agreement"]["argmax_agreement"] == 1.0 and card["agreement"]["inputs"] == "test split"


def test_cli_exports_onnx_and_prints_the_agreement_and_latency_per_file(digits_run, small_digits, tmp_path, capsys):
    import keras

    assert main(["export", str(digits_run), "--format", "onnx", "--out", str(tmp_path), "-q"]) == 0
    out = capsys.readouterr().out
    assert f"model: {tmp_path / 'best.onnx'}" in out
    assert "agrees with Keras: max |diff|" in out and "ms at batch 1" in out and "onnxruntime" in out
    model = keras.models.load_model(digits_run / "best.keras")
    x = small_digits.x_test
    assert np.abs(_runtime_predictions("onnx", tmp_path / "best.onnx", x) - np.asarray(model(x))).max() <= ATOL
    _check_card(tmp_path / "best.onnx", "onnx", model, x)


def test_an_unknown_format_names_format_and_the_allowed_values(tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"^format='tflite' is invalid: expected one of 'keras', 'savedmodel', "
                                          r"'onnx', 'litert'"):
        export_models(tmp_path, format="tflite")
    assert main(["export", str(tmp_path), "--format", "pt"]) == 2
    assert "format='pt' is invalid" in capsys.readouterr().err


@pytest.mark.parametrize("fmt, module", [("onnx", "onnxruntime"), ("litert", "ai_edge_litert")])
def test_a_missing_package_names_the_format_and_the_pip_command(tmp_path, monkeypatch, fmt, module):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(ConfigError, match=rf"^format='{fmt}' needs .*, not installed here: "
                                          r'pip install "evokit\[export\]"'):
        export_models(tmp_path, format=fmt)


def test_outputs_beyond_the_tolerance_are_an_error_not_a_warning():
    reference = np.random.default_rng(0).random((20, 3)).astype(np.float32)
    close = agreement(reference, reference + 5e-5, class_scores=True)
    assert close["ok"] and close["argmax_agreement"] == 1.0 and close["n_samples"] == 20
    check_agreement("best.onnx", close)
    far = agreement(reference, reference + 1e-3, class_scores=True)
    assert not far["ok"] and far["max_abs_diff"] == pytest.approx(1e-3, rel=1e-2)
    with pytest.raises(ExportError, match=r"^best.onnx disagrees with the Keras model: max \|difference\| = 0.001"):
        check_agreement("best.onnx", far)
    assert not agreement(reference, np.full_like(reference, np.nan), class_scores=False)["ok"]


def test_no_check_writes_the_file_only(digits_run, tmp_path):
    paths = export_models(digits_run, tmp_path, format="keras", check=False)
    assert paths[0].is_file() and not description_path(paths[0]).exists()


def _save_shifted(model, path):
    """A converter that gets the numbers wrong: every weight written 1% larger."""
    import keras

    shifted = keras.models.clone_model(model)
    shifted.set_weights([w * 1.01 for w in model.get_weights()])
    shifted.save(path)


def test_a_disagreeing_export_is_removed_and_no_earlier_json_outlives_a_new_export(digits_run, tmp_path,
                                                                                   monkeypatch, capsys):
    from evokit.export import formats

    first = export_models(digits_run, tmp_path, format="keras")[0]
    assert description_path(first).is_file()
    export_models(digits_run, tmp_path, format="keras", check=False)
    assert first.is_file() and not description_path(first).exists()  # the card described the earlier file
    export_models(digits_run, tmp_path, format="keras")
    monkeypatch.setitem(FORMATS, "shifted", formats.ExportFormat("shifted", ".keras", _save_shifted,
                                                                 formats._load_keras, lambda: "keras"))
    assert main(["export", str(digits_run), "--format", "shifted", "--out", str(tmp_path), "-q"]) == 1
    captured = capsys.readouterr()
    assert "best.keras disagrees with the Keras model" in captured.err and f"{first} was removed" in captured.err
    assert "model:" not in captured.out
    assert not first.exists() and not description_path(first).exists()  # nothing deployable-looking is left
    assert (digits_run / "best.keras").is_file()  # the run's own model is never touched


def _recorded_training(run_dir, key):
    config = json.loads((run_dir / "config.json").read_text())
    config["identity"]["training"] = key
    (run_dir / "config.json").write_text(json.dumps(config))


def test_networks_are_retrained_with_the_training_the_run_recorded_not_todays_default(digits_run, tmp_path):
    import pickle
    import shutil

    from evokit import unpickle
    from evokit.export.models import RunModels

    older, changed = tmp_path / "older", tmp_path / "changed"
    shutil.copytree(digits_run, older)
    shutil.copytree(digits_run, changed)
    search = unpickle.loads((older / "search.pkl").read_bytes())
    object.__setattr__(search.objectives[0], "training", None)  # left to the default, which evokit has changed since
    (older / "search.pkl").write_bytes(pickle.dumps(search))
    models = RunModels(older)
    member = models.summary["hall_of_fame"][0]
    rebuilt = models.evaluation(models.find(member))  # trained 1 epoch as recorded, not up to 20
    assert rebuilt.metrics["val_accuracy"] == pytest.approx(member["values"]["val_accuracy"], abs=0.02)
    assert models.data is not None and "epochs=1," in json.loads((older / "config.json").read_text())["identity"][
        "training"]
    _recorded_training(changed, "epochs=2,batch_size=32,optimizer=adam,learning_rate=0.001,early_stopping=None")
    with pytest.raises(ConfigError, match=r"trained with training='epochs=2,.*export with the evokit that made"):
        export_models(changed, tmp_path / "out", pareto=True, check=False)  # its objectives ask for epochs=1 now
    _recorded_training(changed, "epochs=2,momentum=0.9")
    with pytest.raises(ConfigError, match=r"training='epochs=2,momentum=0.9' \(config.json\), which cannot be"):
        export_models(changed, tmp_path / "out", pareto=True, check=False)
    assert not list((tmp_path / "out").glob("pareto*"))


def test_a_training_key_reads_back_as_the_same_setting():
    from evokit.evaluation import TrainingConfig
    from evokit.export.models import training_from_key
    from evokit.fitness import DEFAULT_TRAINING

    for config in (DEFAULT_TRAINING, TrainingConfig(epochs=1, learning_rate=0.01, trace_once=True, loss="mae",
                                                    label_smoothing=0.1)):
        assert training_from_key(config.key()) == config
    assert training_from_key("epochs=0") is None and training_from_key("epochs=1,depth=2") is None


# --- other tasks and the Pareto front (slow: a search each, four conversions each) ----------------

@pytest.mark.slow
def test_pareto_front_in_onnx_from_the_cli(digits_run, tmp_path, capsys):
    assert main(["export", str(digits_run), "--format", "onnx", "--pareto", "--out", str(tmp_path), "-q"]) == 0
    manifest = json.loads((tmp_path / "pareto-onnx.json").read_text())
    assert len(manifest) >= 1 and capsys.readouterr().out.count("agrees with Keras") == len(manifest)
    for entry in manifest:
        card = json.loads(description_path(tmp_path / entry["file"]).read_text())
        assert card["agreement"]["ok"] and card["params"] == entry["params"]


def _every_format(run_dir, tmp_path, **kwargs):
    cards = {}
    for fmt in FORMATS:
        for path in export_models(run_dir, tmp_path / fmt, format=fmt, **kwargs):
            cards[path.name] = json.loads(description_path(path).read_text())
    return cards


@pytest.mark.slow
def test_regression_exports_in_every_format(tmp_path_factory, tmp_path):
    data = ek.datasets.load("diabetes", seed=0)
    encoding = ek.encodings.DeepGA(min_conv_blocks=0, max_conv_blocks=1, min_dense=1)
    run_dir = _run(tmp_path_factory, "diabetes", data, encoding=encoding, objectives=ek.fitness.ValidationR2(epochs=2),
                   algorithm=ek.algorithms.GA(population=2, generations=0))
    cards = _every_format(run_dir, tmp_path)
    assert len(cards) == 4 and all(c["agreement"]["ok"] and c["agreement"]["argmax_agreement"] is None
                                   for c in cards.values())


@pytest.mark.slow
def test_text_embedding_models_export_in_every_format(tmp_path_factory, tmp_path):
    data = ek.datasets.load("languages", seed=0)
    run_dir = _run(tmp_path_factory, "text", data, encoding=ek.encodings.TextCNN(),
                   objectives=ek.fitness.ValidationAccuracy(epochs=1),
                   algorithm=ek.algorithms.GA(population=2, generations=0))
    cards = _every_format(run_dir, tmp_path)
    assert len(cards) == 4
    assert all(c["input_shape"] == [data.x_test.shape[1]] and c["agreement"]["argmax_agreement"] == 1.0
               for c in cards.values())


@pytest.mark.slow
def test_segmentation_unets_export_in_every_format(tmp_path_factory, tmp_path):
    data = ek.datasets.load("cells", seed=0).subset(n_train=64, n_val=32, seed=0)
    run_dir = _run(tmp_path_factory, "cells", data, encoding=ek.encodings.UNetTree(base_filters=2),
                   objectives=ek.fitness.ValidationDice(epochs=1),
                   algorithm=ek.algorithms.GA(population=2, generations=0))
    cards = _every_format(run_dir, tmp_path)
    assert all(c["agreement"]["ok"] and c["output_shape"][:2] == [32, 32] for c in cards.values())


@pytest.mark.slow
def test_gan_generator_and_discriminator_export_in_every_format(tmp_path_factory, tmp_path):
    data = ek.datasets.load("digits", task="gan").subset(n_train=256, n_val=96)
    encoding = ek.encodings.DCGAN(latent_sizes=(8,), generator_filters=(16,), discriminator_filters=(8,))
    run_dir = _run(tmp_path_factory, "gan", data, encoding=encoding,
                   objectives=ek.fitness.FrechetDistance(epochs=1, features="random"),
                   algorithm=ek.algorithms.PSO(population=2, generations=0))
    cards = _every_format(run_dir, tmp_path, discriminator=True)
    assert len(cards) == 8 and all(c["agreement"]["ok"] for c in cards.values())
    generator, critic = cards["best.onnx"], cards["best_discriminator.onnx"]
    assert generator["input_shape"] == [8] and "latent vectors" in generator["agreement"]["inputs"]
    assert critic["output_shape"] == [1] and critic["agreement"]["inputs"].startswith("generator images")
    # the generator's upsampling leaves shapes unknown with a free batch: LiteRT gets a batch of 1
    assert cards["best.tflite"]["fixed_batch"] == 1 and cards["best.onnx"]["fixed_batch"] is None
