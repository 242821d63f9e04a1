"""TextCNN: Kim's block as decoded, the weights mode's aligned weights (DeepNEWT), Lamarckian
write-back, and tiny searches in each mode on token sequences with planted class bigrams."""
import random

import numpy as np
import pytest

import evokit as ek
from evokit.encodings import TextCNN, TextCNNGenome
from evokit.errors import ConfigError, GenotypeError
from evokit.netspec import Concat, Conv1D, Embedding, GlobalPool
from evokit.netspec.inference import predict
from evokit.netspec.weights import weight_shapes
from evokit.runtime.run.checkpoint import load_checkpoint

VOCAB, LENGTH, CLASSES = 40, 16, 3


def planted_tokens(n: int = 360, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Token ids where class k's sequences hold the bigram (2k + 2, 2k + 3) somewhere among
    random filler ids 10..39 (ids 0 and 1 are padding and out-of-vocabulary)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % CLASSES
    x = rng.integers(10, VOCAB, size=(n, LENGTH))
    at = rng.integers(0, LENGTH - 1, size=n)
    x[np.arange(n), at], x[np.arange(n), at + 1] = 2 * y + 2, 2 * y + 3
    return x, y


@pytest.fixture(scope="module")
def tokens():
    x, y = planted_tokens()
    return ek.datasets.from_arrays(x, y, vocab_size=VOCAB, name="planted")


def sized(mode="architecture", **kwargs):
    encoding = TextCNN(mode=mode, vocab_size=VOCAB, embedding_dims=(4, 8), widths=(2, 3), filters=(4, 8), **kwargs)
    encoding.check_input((LENGTH,), CLASSES, "classification")
    return encoding


def test_decodes_kims_block():
    encoding = sized()
    genome = TextCNNGenome([1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0])  # E8; branches w2/f8, (off), w3/f8; no dropout
    spec = encoding.decode(genome, (LENGTH,), CLASSES).validate()
    layers = [node.layer for node in spec.nodes]
    assert layers[0] == Embedding(VOCAB, 8)
    convs = [layer for layer in layers if isinstance(layer, Conv1D)]
    assert [(c.filters, c.kernel[0], c.padding) for c in convs] == [(8, 2, "valid"), (8, 3, "valid")]
    assert sum(isinstance(layer, GlobalPool) and layer.pool == "max" for layer in layers) == 2
    assert any(isinstance(layer, Concat) for layer in layers) and spec.output_shape == (CLASSES,)
    assert spec.params == VOCAB * 8 + (2 * 8 * 8 + 8) + (3 * 8 * 8 + 8) + 16 * CLASSES + CLASSES


def test_every_branch_off_keeps_the_first_and_wide_windows_fit_short_inputs():
    encoding = TextCNN(vocab_size=VOCAB, widths=(5,), filters=(4,), max_branches=2)
    encoding.check_input((3,), 2, "classification")
    spec = encoding.decode(TextCNNGenome([0, 0, 0, 0, 0, 0, 0, 0, 0]), (3,), 2).validate()
    convs = [n.layer for n in spec.nodes if isinstance(n.layer, Conv1D)]
    assert len(convs) == 1 and convs[0].kernel == (3,)


def test_weights_mode_slices_keep_their_place_when_a_branch_goes():
    encoding = sized("weights")
    genome = encoding.random(random.Random(0))
    genome.arch[:8] = [1, 1, 1, 1, 1, 0, 0, 0]  # E8; branch 0 w3/f8; branch 1 w2/f4; branch 2 off
    spec = encoding.decode(genome, (LENGTH,), CLASSES)
    both = encoding.weights(genome, spec)
    assert [w.shape for w in both] == weight_shapes(spec)
    genome.arch[4] = 0  # branch 1 off: branch 0's kernel and its head rows are unchanged
    one_spec = encoding.decode(genome, (LENGTH,), CLASSES)
    one = encoding.weights(genome, one_spec)
    kernel = next(w for w in both if w.shape == (3, 8, 8))
    assert np.array_equal(next(w for w in one if w.ndim == 3), kernel)
    assert both[-2].shape == (12, CLASSES) and np.array_equal(one[-2], both[-2][:8])  # branch 0's head rows


def test_weights_round_trip_through_keras(tokens):
    encoding = sized("weights")
    genome = encoding.random(random.Random(1))
    spec = encoding.decode(genome, (LENGTH,), CLASSES)
    model = ek.build(spec, seed=0)
    model.set_weights(encoding.weights(genome, spec))
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), encoding.weights(genome, spec)))


def test_bad_settings_and_genotypes_name_the_field(digits):
    with pytest.raises(ConfigError, match="lamarckian"):
        TextCNN(lamarckian=True)
    with pytest.raises(ConfigError, match="units"):
        TextCNN(mode="weights", units=(0, 16))
    with pytest.raises(ConfigError, match="data="):
        TextCNN().check_data(digits)
    with pytest.raises(ConfigError, match="vocab_size"):
        TextCNN(vocab_size=10).check_input((12,), 2, "classification") or \
            TextCNN(vocab_size=10).check_data(ek.datasets.from_arrays(*planted_tokens(), vocab_size=VOCAB))
    encoding = sized("weights")
    genome = encoding.random(random.Random(2))
    genome.weights = genome.weights[:-1]
    with pytest.raises(GenotypeError, match="weights"):
        encoding.decode(genome, (LENGTH,), CLASSES)
    with pytest.raises(GenotypeError, match=r"arch\[0\]"):
        encoding.decode(TextCNNGenome([9] + [0] * 11), (LENGTH,), CLASSES)


def _search(data, encoding, run_dir=None, epochs=2, generations=3):
    return ek.Search(encoding=encoding, objectives=ek.fitness.ValidationAccuracy(epochs=epochs), data=data,
                     algorithm=ek.algorithms.GA(population=6, generations=generations), seed=0, progress=False,
                     run_dir=run_dir).run()


def test_architecture_search_learns_the_bigrams(tokens):
    result = _search(tokens, TextCNN(embedding_dims=(8,), widths=(2, 3), filters=(8, 16), units=(0,)), epochs=4)
    assert not result.stats["failures"] and result.stats["trained"] >= 6
    assert result.best.values["val_accuracy"] > 0.6  # chance is 1/3


def _accuracy(encoding, genome, data):
    """Validation accuracy of the network ``genome`` carries, rebuilt in Keras from its genes."""
    spec = encoding.decode(genome, data.input_shape, data.n_outputs)
    model = ek.build(spec, seed=0)
    model.set_weights(encoding.weights(genome, spec))
    return float(np.mean(np.argmax(np.asarray(model(data.x_val, training=False)), axis=1) == data.y_val))


def test_deepnewt_search_scores_without_training_and_its_weights_survive_the_checkpoint(tokens, tmp_path):
    encoding = TextCNN(mode="weights", embedding_dims=(4,), widths=(2,), filters=(4,))
    result = _search(tokens, encoding, run_dir=tmp_path / "newt", generations=4)
    assert not result.stats["failures"] and not result.best.evaluation.history  # scored as carried, untrained
    assert result.best.values["val_accuracy"] > 1 / CLASSES
    best = load_checkpoint(tmp_path / "newt")["hof"][0]
    assert best == result.best.genotype
    assert _accuracy(encoding, best, tokens) == pytest.approx(result.best.values["val_accuracy"])


def test_lamarckian_writes_trained_weights_back(tokens):
    encoding = TextCNN(mode="weights", lamarckian=True, embedding_dims=(4,), widths=(2,), filters=(4,))
    tb = ek.toolbox(encoding=encoding, objectives=ek.fitness.ValidationLoss(epochs=3), data=tokens, seed=0)
    genome = tb.individual()
    spec = encoding.decode(genome, tokens.input_shape, tokens.n_outputs)
    task = ek.tasks.get(tokens.task)
    before = task.score(tokens.y_val, predict(spec, encoding.weights(genome, spec), tokens.x_val))["val_loss"]
    carried = genome.weights.copy()
    (loss,) = tb.evaluate(genome)
    assert not np.array_equal(carried, genome.weights)  # trained from its own weights, written back
    after = predict(spec, encoding.weights(genome, spec), tokens.x_val)
    assert task.score(tokens.y_val, after)["val_loss"] == pytest.approx(loss, rel=1e-4) and loss < before


def test_a_fixed_embedding_is_one_table_that_variation_leaves_alone():
    from evokit.deap_toolbox import genotype_toolbox

    encoding = sized("weights", trainable_embedding=False)
    table = VOCAB * 8
    random.seed(3)
    tb = genotype_toolbox(encoding, (1.0,))
    a, b = tb.individual(), tb.individual()
    assert np.array_equal(a.weights[:table], b.weights[:table])
    before = a.weights.copy()
    a, b = tb.mate(a, b)
    (a,) = tb.mutate(a)
    assert np.array_equal(a.weights[:table], before[:table]) and not np.array_equal(a.weights[table:], before[table:])
    assert not encoding.decode(a, (LENGTH,), CLASSES).nodes[0].layer.trainable
