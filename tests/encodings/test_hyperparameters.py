"""Training hyper-parameters as genes: the Hyperparameters wrapper, NetSpec.training (its part in
the canonical hash and in serialisation), and the trainer training each candidate with its genes.

The wrapper's Encoding contract (random, decode, variation, pickling, JSON, a real GA, a spawn
worker) is checked by the conformance suite (``tests/encodings/cases/hyperparameters.py``)."""
import json
import math
import pickle
import random
import statistics
from pathlib import Path

import pytest

import evokit as ek
from evokit import config
from evokit.deap_toolbox import genotype_toolbox
from evokit.encodings import Binary, DeepGA, Hyperparameters, HyperparametersGenome, Real
from evokit.encodings.graph import NEAT
from evokit.errors import ConfigError, GenotypeError
from evokit.evaluation import TrainingConfig
from evokit.netspec import Conv2D, Dense, Dropout, Flatten, Graph, NetSpec
from evokit.runtime.training import loop
from evokit.runtime.training.trainer import train

FIXTURE_RUN = Path(__file__).parent.parent / "fixtures" / "pre_split_run" / "candidates.jsonl"


def tiny(**kwargs):
    """A wrapper around a DeepGA of small networks (one conv block, no hidden dense layer)."""
    architecture = DeepGA(min_conv_blocks=1, max_conv_blocks=1, max_dense=0, filters=(4,), kernel_sizes=(3,),
                          pools=("max",), pool_sizes=(2,), activations=("relu",))
    return Hyperparameters(architecture, **kwargs)


def conv_net(shape=(8, 8, 1), n_out=10, filters=4):
    g = Graph(shape)
    x = g.add(Flatten(), g.add(Conv2D(filters, 3), g.input))
    return g.finish(g.add(Dense(n_out, "softmax"), x))


# -- genes --------------------------------------------------------------------------------------------

def test_genes_and_values_stay_in_range_after_many_rounds_of_variation():
    enc = Hyperparameters(Binary(stages=1, nodes_per_stage=2, dense_layers=1), learning_rate=(1e-4, 1e-1),
                          batch_size=(16, 32, 64), optimizer=("adam", "sgd"), dropout=(0.1, 0.5), eta=2.0, indpb=1.0)
    tb = genotype_toolbox(enc, (1.0,))
    random.seed(0)
    population = tb.population(n=8)
    seen = {name: set() for name in enc.evolved}
    for _ in range(150):
        a, b = random.sample(population, 2)
        a.fitness.values, b.fitness.values = (random.random(),), (random.random(),)
        a, b = tb.mate(a, b)
        (m,) = tb.mutate(a)
        for child in (a, b, m):
            assert isinstance(child, HyperparametersGenome) and len(child.genes) == 4
            assert all(0.0 <= g <= 1.0 for g in child.genes)
            values = enc.values(child)
            assert 1e-4 <= values["learning_rate"] <= 1e-1 and 0.1 <= values["dropout"] <= 0.5
            assert values["batch_size"] in (16, 32, 64) and values["optimizer"] in ("adam", "sgd")
            assert child.architecture.fitness is None  # the fitness lent to the inner operators is taken back
            for name, value in values.items():
                seen[name].add(value)
    assert seen["batch_size"] == {16, 32, 64} and seen["optimizer"] == {"adam", "sgd"}  # choices do change
    assert len(seen["learning_rate"]) > 20


def test_learning_rate_is_drawn_log_uniformly():
    enc = tiny(learning_rate=(1e-4, 1e-1), batch_size=None, optimizer=None)
    rng = random.Random(1)
    rates = [enc.values(enc.random(rng))["learning_rate"] for _ in range(2000)]
    assert math.log10(statistics.median(rates)) == pytest.approx(math.log10(math.sqrt(1e-4 * 1e-1)), abs=0.15)
    for decade in (1e-3, 1e-2):  # a third of the draws in each decade
        assert sum(r < decade for r in rates) / len(rates) == pytest.approx(math.log10(decade / 1e-4) / 3, abs=0.05)
    assert enc.values(HyperparametersGenome(None, [0.0]))["learning_rate"] == 1e-4
    assert enc.values(HyperparametersGenome(None, [1.0]))["learning_rate"] == 1e-1


def test_decode_attaches_training_values_and_a_dropout_before_the_head():
    enc = tiny(batch_size=(16, 64), optimizer=("sgd",), dropout=(0.0, 0.5))
    genotype = HyperparametersGenome(enc.encoding.random(random.Random(0)), [0.5, 0.9, 0.0, 0.5])
    spec = enc.decode(genotype, (8, 8, 1), 10)
    assert dict(spec.training) == {"learning_rate": 0.00316, "batch_size": 64, "optimizer": "sgd"}
    assert spec.nodes[-2].layer == Dropout(0.25) and spec.nodes[-1].inputs == (len(spec) - 2,)
    assert spec.params == enc.encoding.decode(genotype.architecture, (8, 8, 1), 10).params
    assert enc.describe(genotype).endswith("| lr=3.16e-03 bs=64 sgd dropout=0.25")
    genotype.genes[3] = 0.0  # rate 0: no dropout layer
    assert not any(isinstance(n.layer, Dropout) for n in enc.decode(genotype, (8, 8, 1), 10).nodes)
    genotype.genes[0] = 1.5  # outside [0, 1] (a foreign operator's doing): read as the nearest end
    assert enc.decode(genotype, (8, 8, 1), 10).training["learning_rate"] == 0.1
    genotype.genes[0] = math.nan  # not a gene at all
    with pytest.raises(GenotypeError, match=r"genes\.learning_rate=nan"):
        enc.decode(genotype, (8, 8, 1), 10)


def test_json_errors_name_the_gene():
    enc = tiny()
    data = enc.to_json(enc.random(random.Random(0)))
    assert set(data["genes"]) == {"learning_rate", "batch_size", "optimizer"}
    with pytest.raises(GenotypeError, match=r"genes\.batch_size='16'"):
        enc.from_json({**data, "genes": {**data["genes"], "batch_size": "16"}})
    with pytest.raises(GenotypeError, match="genes="):
        enc.from_json({**data, "genes": {"learning_rate": 0.5}})
    with pytest.raises(GenotypeError, match="architecture"):
        enc.from_json(data["architecture"])


# -- NetSpec.training -----------------------------------------------------------------------------------

def test_the_hash_covers_training_values_and_is_unchanged_without_them():
    spec = conv_net()
    assert spec.with_training(None).hash == spec.with_training({}).hash == spec.hash
    fast = spec.with_training({"learning_rate": 0.01, "batch_size": 32, "optimizer": "sgd"})
    hashes = {spec.hash, fast.hash, spec.with_training({"learning_rate": 0.02, "batch_size": 32, "optimizer": "sgd"}).hash,
              spec.with_training({"learning_rate": 0.01, "batch_size": 64, "optimizer": "sgd"}).hash,
              spec.with_training({"learning_rate": 0.01, "batch_size": 32, "optimizer": "adam"}).hash}
    assert len(hashes) == 5 and fast != spec
    assert spec.with_training({"learning_rate": 1, "optimizer": "sgd"}).hash == \
        spec.with_training({"optimizer": "sgd", "learning_rate": 1.0}).hash  # order and spelling do not matter
    assert fast.canonical().training == fast.training and fast.canonical().hash == fast.hash
    assert pickle.loads(pickle.dumps(fast)).hash == fast.hash
    again = NetSpec.from_dict(json.loads(json.dumps(fast.to_dict())))
    assert again.hash == fast.hash and dict(again.training) == dict(fast.training)
    assert "training" not in spec.to_dict() and "training: " in fast.summary()
    # networks recorded by an earlier version (before NetSpec.training existed) keep their hashes
    records = [json.loads(line) for line in FIXTURE_RUN.read_text().splitlines()]
    assert records and all(NetSpec.from_dict(r["netspec"]).hash == r["hash"] for r in records)


@pytest.mark.parametrize("training, match", [
    ({"epochs": 3}, r"training\.epochs: unknown key"),
    ({"learning_rate": 0}, r"training\.learning_rate=0"),
    ({"learning_rate": math.inf}, r"training\.learning_rate=inf"),
    ({"batch_size": 0}, r"training\.batch_size=0"),
    ({"batch_size": 2.0}, r"training\.batch_size=2\.0"),
    ({"optimizer": "adamax"}, r"training\.optimizer='adamax'"),
    ("sgd", r"training='sgd'"),
])
def test_bad_training_values_name_the_field(training, match):
    with pytest.raises(ConfigError, match=match):
        conv_net().with_training(training)


def test_training_config_for_network():
    base = TrainingConfig(epochs=2, batch_size=32, learning_rate=1e-3)
    assert base.for_network(conv_net()) is base and base.for_network(None) is base
    own = base.for_network(conv_net().with_training({"batch_size": 8, "optimizer": "sgd"}))
    assert own == TrainingConfig(epochs=2, batch_size=8, optimizer="sgd", learning_rate=1e-3)


# -- training with the genes ----------------------------------------------------------------------------

@pytest.fixture
def trainings(monkeypatch):
    """Every training loop run in this process: the config it got, the Keras optimizer it ran
    (class and learning rate) and how many steps it took."""
    seen = []
    original, make_step = loop.train_batches, loop.train_step
    steps = [0]

    def counting_step(model):
        step = make_step(model)

        def counted(*args):
            steps[0] += 1
            return step(*args)

        return counted

    def spy(model, data, config, seed, timer=None):
        steps[0] = 0
        try:
            return original(model, data, config, seed, timer)
        finally:
            seen.append({"config": config, "optimizer": type(model.optimizer).__name__.lower(),
                         "learning_rate": float(model.optimizer.learning_rate), "steps": steps[0],
                         "samples": len(data.x_train)})

    monkeypatch.setattr(loop, "train_batches", spy)
    monkeypatch.setattr(loop, "train_step", counting_step)
    return seen


def test_a_ga_trains_each_candidate_with_its_own_genes(digits, trainings):
    data = digits.subset(n_train=96, n_val=40, seed=0)
    final = TrainingConfig(epochs=1, batch_size=7, learning_rate=0.5, optimizer="adam")
    result = ek.Search(encoding=tiny(learning_rate=(1e-3, 1e-1), batch_size=(8, 16, 32, 48), optimizer=("adam", "sgd")),
                       objectives=ek.fitness.ValidationAccuracy(epochs=1), data=data, final_training=final,
                       algorithm=ek.algorithms.GA(population=4, generations=1), seed=0, progress=False).run()
    assert not result.stats["failures"] and len(trainings) >= 5
    for run in trainings:  # what the optimizer and the batch loop really used is what the genes say
        c = run["config"]
        assert run["optimizer"] == c.optimizer and run["learning_rate"] == pytest.approx(c.learning_rate, rel=1e-6)
        assert run["steps"] == math.ceil(run["samples"] / c.batch_size)
    searched = trainings[:-1]
    assert len({r["config"].learning_rate for r in searched}) >= 3 and len({r["steps"] for r in searched}) >= 2
    best = dict(result.best.spec.training)
    assert set(best) == {"learning_rate", "batch_size", "optimizer"} and "| lr=" in result.best.description
    last = trainings[-1]["config"]  # the final retraining: final_training's epochs, the best network's genes
    assert (last.learning_rate, last.batch_size, last.optimizer) == (best["learning_rate"], best["batch_size"],
                                                                    best["optimizer"])


def test_trace_once_honours_the_genes(small_digits, trainings):
    data = small_digits.subset(n_train=64, n_val=32, seed=0)
    shared = TrainingConfig(epochs=1, batch_size=32, trace_once=True)
    discrete = train(conv_net().with_training({"batch_size": 16, "optimizer": "sgd"}), data, shared, seed=0)
    assert discrete.extra.get("trace_once") is True  # choices only: a shared graph per optimizer serves it
    continuous = train(conv_net().with_training({"learning_rate": 0.02}), data, shared, seed=0)
    assert "trace_once" not in continuous.extra  # its own learning rate: trained standalone
    assert [(r["optimizer"], r["steps"]) for r in trainings] == [("sgd", 4), ("adam", 2)]
    assert trainings[1]["learning_rate"] == pytest.approx(0.02)


def test_other_algorithms_search_the_genes_and_pso_and_gp_refuse_them():
    for algorithm, objectives in [(ek.algorithms.NSGA2(population=4, generations=2), [ek.fitness.ParameterCount(),
                                                                                       ek.fitness.FLOPs()]),
                                  (ek.algorithms.RandomSearch(batch=4, generations=1), ek.fitness.ParameterCount()),
                                  (ek.algorithms.AgingEvolution(population=4, generations=2), ek.fitness.ParameterCount()),
                                  (ek.algorithms.NEAT(population=6, generations=2), ek.fitness.ParameterCount())]:
        result = ek.Search(encoding=tiny(dropout=(0.0, 0.5)), objectives=objectives, data="digits", algorithm=algorithm,
                           seed=0, progress=False).run()
        assert set(result.best.spec.training) == {"learning_rate", "batch_size", "optimizer"}, algorithm
    for algorithm in (ek.algorithms.PSO(), ek.algorithms.GP()):
        with pytest.raises(ConfigError, match="encoding=Hyperparameters"):
            ek.Search(encoding=tiny(), objectives=ek.fitness.ValidationAccuracy(), algorithm=algorithm)


# -- arguments and config files ------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    ({"learning_rate": (0, 0.1)}, r"^learning_rate=\(0, 0\.1\) is invalid"),
    ({"learning_rate": (0.1, 0.01)}, r"^learning_rate=\(0\.1, 0\.01\) is invalid: .*0 < low < high"),
    ({"learning_rate": 0.01}, r"^learning_rate=0\.01 is invalid"),
    ({"batch_size": (0, 16)}, r"^batch_size=\(0, 16\) is invalid"),
    ({"batch_size": (16, 16)}, r"^batch_size=\(16, 16\) is invalid: .*distinct"),
    ({"batch_size": ()}, r"^batch_size=\(\) is invalid"),
    ({"optimizer": ("adam", "adamax")}, r"^optimizer=\('adam', 'adamax'\) is invalid: .*'sgd'"),
    ({"optimizer": "sgd"}, r"^optimizer='sgd' is invalid"),
    ({"dropout": (0.2, 1.0)}, r"^dropout=\(0\.2, 1\.0\) is invalid: .*high < 1"),
    ({"dropout": (-0.1, 0.5)}, r"^dropout=\(-0\.1, 0\.5\) is invalid"),
    ({"eta": 0}, r"^eta=0"),
    ({"indpb": 2}, r"^indpb=2"),
    ({"learning_rate": None, "batch_size": None, "optimizer": None}, r"at least one hyper-parameter"),
])
def test_bad_arguments_name_the_field(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        tiny(**kwargs)


def test_false_leaves_a_hyper_parameter_out():
    enc = tiny(learning_rate=False, optimizer=False, dropout=False)
    assert enc.evolved == ("batch_size",) and enc.learning_rate is None and enc.optimizer is None
    assert set(enc.decode(enc.random(random.Random(0)), (8, 8, 1), 10).training) == {"batch_size"}


@pytest.mark.parametrize("encoding", ["deepga", Real(mode="weights"), NEAT(), tiny()])
def test_encodings_it_cannot_wrap_are_refused(encoding):
    with pytest.raises(ConfigError, match=r"^encoding="):
        Hyperparameters(encoding)


def test_config_names_the_wrapper_and_its_keys():
    # the class's full name works as well as the short one ("hyperparameters", see the TOML test below)
    kind = "evokit.encodings.hyper:Hyperparameters"
    search = config.from_dict({"encoding": {"type": kind, "encoding": DeepGA(max_conv_blocks=2),
                                            "learning_rate": [1e-3, 1e-2], "optimizer": ["sgd"], "dropout": [0.0, 0.3]}})
    enc = search.encoding
    assert isinstance(enc, Hyperparameters) and enc.encoding.max_conv_blocks == 2
    assert (enc.learning_rate, enc.batch_size, enc.optimizer, enc.dropout) == ((1e-3, 1e-2), (16, 32, 64, 128),
                                                                               ("sgd",), (0.0, 0.3))
    with pytest.raises(ConfigError, match=r"^encoding\.batch_size=\[16, 0\] is invalid"):
        config.from_dict({"encoding": {"type": kind, "encoding": DeepGA(), "batch_size": [16, 0]}})


TOML = """
[encoding]
type = "hyperparameters"
learning_rate = [1e-4, 1e-2]
batch_size = [32, 64]
optimizer = ["adam", "sgd"]
encoding = { type = "deepga", max_conv_blocks = 2 }
"""


def test_toml_config_with_a_nested_encoding_table():
    enc = config.loads(TOML).encoding
    assert isinstance(enc, Hyperparameters) and isinstance(enc.encoding, DeepGA) and enc.encoding.max_conv_blocks == 2
    assert (enc.learning_rate, enc.batch_size, enc.optimizer) == ((1e-4, 1e-2), (32, 64), ("adam", "sgd"))
    with pytest.raises(ConfigError, match=r"^encoding\.encoding\.max_conv_blocks=0 is invalid"):
        config.loads(TOML.replace("max_conv_blocks = 2", "max_conv_blocks = 0"))
    with pytest.raises(ConfigError, match=r"^encoding\.encoding\.type='os:system' is invalid"):
        config.loads(TOML.replace('type = "deepga"', 'type = "os:system"'))
