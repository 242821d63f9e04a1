"""Search(initial_population=...): population seeding, and the compact preset that uses it."""
import warnings

import pytest

import evokit as ek
from evokit.encodings.deepga import ConvBlock, DeepGAGenome, DenseBlock


class FirstGeneration(ek.callbacks.Callback):
    def __init__(self):
        self.genotypes = []

    def on_candidate_evaluated(self, event):
        if event.generation == 0:
            self.genotypes.append(event.individual)


@pytest.fixture(scope="module")
def data():
    return ek.datasets.load("digits", seed=0).subset(n_train=80, n_val=40)


def seeds():
    return [DeepGAGenome([ConvBlock(4, 3, "max", 2, "relu")], [], []),
            DeepGAGenome([ConvBlock(8, 3, "none", 2, "relu")], [DenseBlock(8, "relu", 0.0)], [])]


def test_the_first_population_starts_with_the_given_genotypes(data):
    given = seeds()
    first = FirstGeneration()
    search = ek.Search(ek.encodings.DeepGA(max_conv_blocks=2, filters=(4,), units=(8,)),
                       ek.fitness.ValidationAccuracy(epochs=1), data,
                       algorithm=ek.algorithms.GA(population=3, generations=1), seed=1, progress=False,
                       callbacks=[first], initial_population=given)
    search.run()
    assert len(first.genotypes) == 3
    assert list(first.genotypes[:2]) == given
    assert first.genotypes[2] not in given  # the rest is random (filters=(4,) and no 8 filters)
    assert given[0].fitness is None  # the caller's genotypes are copied, not evaluated in place
    assert "initial_population" in search.identity(data)


def test_a_genotype_the_encoding_cannot_decode_is_named(data):
    bad = DeepGAGenome([ConvBlock(4, 3, "max", 2, "relu")], [], [1, 1])  # skips for 1 block: none
    search = ek.Search(ek.encodings.DeepGA(), ek.fitness.ValidationAccuracy(epochs=1), data,
                       algorithm=ek.algorithms.GA(population=3, generations=1), progress=False,
                       initial_population=[seeds()[0], bad])
    with pytest.raises(ek.errors.ConfigError, match=r"initial_population\[1\]"):
        search.run()
    with pytest.raises(ek.errors.ConfigError, match="initial_population"):
        ek.Search(ek.encodings.DeepGA(), ek.fitness.ValidationAccuracy(), data, initial_population=seeds()[0])


def test_compact_preset_searches_small_networks(data):
    search = ek.presets.compact(data, population=8, generations=1, progress=False, final_training=None,
                                training=ek.TrainingConfig(epochs=1, learning_rate=1e-2, schedule="cosine"))
    seeds = ek.presets.compact_seeds()
    assert len(seeds) == 12 and search.initial_population == [seeds[i] for i in (0, 2, 3, 5, 6, 8, 9, 11)]
    for shape in ((8, 8, 1), (40, 1)):  # every seed fits digits and MNIST-1D, from tiny to thousands
        sizes = [search.encoding.decode(genotype, shape, 10).params for genotype in seeds]
        assert min(sizes) < 50 and max(sizes) > 2_000 and max(sizes) < 20_000
    assert ek.presets.compact(data, population=24).initial_population == seeds
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a population smaller than the ladder takes a spread of it, silently
        result = search.run()
    assert result.objective_names == ["val_accuracy", "params"]
    assert result.pareto_front and all(c.params < 20_000 for c in result.pareto_front)


class Generations(ek.callbacks.Callback):
    def __init__(self):
        self.by_generation = {}

    def on_candidate_evaluated(self, event):
        self.by_generation.setdefault(event.generation, []).append(event.individual)


def test_seeds_go_into_the_first_population_only(data):
    given = seeds()
    seen = Generations()
    ek.Search(ek.encodings.DeepGA(max_conv_blocks=2, filters=(4,), units=(8,)), ek.fitness.ValidationAccuracy(epochs=1),
              data, algorithm=ek.algorithms.RandomSearch(batch=3, generations=2), seed=2, progress=False,
              callbacks=[seen], initial_population=given).run()
    assert seen.by_generation[0][:2] == given
    later = [g for gen, genotypes in seen.by_generation.items() if gen > 0 for g in genotypes]
    assert later and not any(g == s for g in later for s in given)


def test_a_population_smaller_than_the_seeds_holds_the_first_and_warns(data):
    first = FirstGeneration()
    search = ek.Search(ek.encodings.DeepGA(max_conv_blocks=2, filters=(4,), units=(8,)),
                       ek.fitness.ValidationAccuracy(epochs=1), data,
                       algorithm=ek.algorithms.GA(population=2, generations=0), seed=1, progress=False,
                       callbacks=[first], initial_population=[*seeds(), seeds()[0]])
    expected = "initial_population has 3 genotypes .* holds 2: the last 1 are left out"
    with pytest.warns(UserWarning, match=expected) as record:
        search.run()
    assert {w.filename for w in record if "left out" in str(w.message)} == {__file__}  # the user's line, not evokit's
    assert list(first.genotypes) == seeds()
