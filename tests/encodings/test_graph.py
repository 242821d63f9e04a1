"""The NEAT graph encoding: sizing, sampling, decoding, NumPy vs Keras forward parity, the
compatibility distance, validation, JSON, Lamarckian fine-tuning; and the ``NeuronGraph`` layer
spec with its Keras layer (weights, ``.keras`` round trip, gradient training)."""
from __future__ import annotations

import json
import pickle
import random

import keras
import numpy as np
import pytest

import evokit as ek
from evokit.builder import build
import evokit.encodings.graph as graph_module
from evokit.encodings.graph import NEAT, forward
from evokit.errors import ArchitectureError, ConfigError, GenotypeError
from evokit.netspec import INPUT, Activation, Graph, NetSpec
from evokit.netspec.neurons import NODE_ACTIVATIONS, NUMPY_ACTIVATIONS, NeuronGraph, kahn_levels
from evokit.operators import neat_genome
from evokit.operators.neat import mutAddConnection, mutAddNode, mutWeights
from evokit.operators.neat_genome import (TRACKER, ConnectionGene, InnovationTracker, NEATGenome, NodeGene, check_genome,
                                          compatibility)
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.executors import SerialEvaluator


def make_genome(n_in: int, n_out: int, weights: dict, hidden: dict | None = None, disabled=(),
                output_activation: str = "linear") -> NEATGenome:
    """A genome from ``{(src, dst): weight}`` and ``{hidden_id: activation}``."""
    nodes = {i: NodeGene(i, "input") for i in range(n_in)}
    nodes.update({n_in + k: NodeGene(n_in + k, "output", output_activation) for k in range(n_out)})
    nodes.update({h: NodeGene(h, "hidden", act) for h, act in (hidden or {}).items()})
    conns = {(s, d): ConnectionGene(s, d, w, (s, d) not in disabled, TRACKER.innovation(s, d))
             for (s, d), w in weights.items()}
    return NEATGenome(nodes, conns)


def evolved(enc: NEAT, seed: int, steps: int = 12) -> NEATGenome:
    """A random genome grown by structural and weight mutations, hidden activations mixed."""
    rng = random.Random(seed)
    g = enc.random(rng)
    for _ in range(steps):
        mutAddNode(g, TRACKER, rng.choice(NODE_ACTIVATIONS), rng=rng)
        mutAddConnection(g, TRACKER, rng=rng)
        mutWeights(g, 0.3, 0.1, 1.0, rng=rng)
    check_genome(g)
    return g


def reference(genome: NEATGenome, x: np.ndarray) -> np.ndarray:
    """A naive neuron-by-neuron evaluation of the genome (the definition of its function)."""
    memo: dict[int, np.ndarray] = {}

    def value(n: int) -> np.ndarray:
        if n not in memo:
            node = genome.nodes[n]
            if node.kind == "input":
                memo[n] = x[:, n] if n < x.shape[1] else np.zeros(len(x))
            else:
                z = node.bias + sum((g.weight * value(g.src) for g in genome.connections.values()
                                     if g.enabled and g.dst == n), np.zeros(len(x)))
                memo[n] = NUMPY_ACTIVATIONS[node.activation](z)
        return memo[n]

    return np.stack([value(o) for o in genome.ids("output")], axis=1)


@pytest.fixture
def enc():
    return NEAT(n_inputs=6, n_outputs=3)


# -- configuration and sizing -------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field", [
    ({"c1": -1}, "c1"), ({"c3": "x"}, "c3"), ({"add_node_rate": 1.5}, "add_node_rate"),
    ({"add_connection_rate": -0.1}, "add_connection_rate"), ({"weight_mutation_rate": 2}, "weight_mutation_rate"),
    ({"weight_replace_rate": None}, "weight_replace_rate"), ({"weight_perturb_std": -1}, "weight_perturb_std"),
    ({"weight_init_std": float("nan")}, "weight_init_std"), ({"hidden_activation": "softmax"}, "hidden_activation"),
    ({"output_activation": "bogus"}, "output_activation"), ({"initial_connection": "none"}, "initial_connection"),
    ({"finetune": 1}, "finetune"), ({"n_inputs": 0}, "n_inputs"), ({"n_outputs": 2.5}, "n_outputs")])
def test_constructor_errors_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        NEAT(**kwargs)


def test_random_needs_sizes_and_check_input_sets_them():
    enc = NEAT()
    with pytest.raises(ConfigError, match="check_input"):
        enc.random(random.Random(0))
    enc.check_input((8, 8, 1), 10, "classification")
    g = enc.random(random.Random(0))
    assert (g.n_inputs, g.n_outputs, len(g.connections)) == (64, 10, 640)
    assert enc.get_params()["n_inputs"] is None  # the constructor's argument is kept as given
    assert pickle.loads(pickle.dumps(enc)).random(random.Random(0)) == g
    with pytest.raises(ConfigError, match="data"):
        NEAT(n_outputs=3).check_input((4,), 2, "classification")
    with pytest.raises(ConfigError, match="task"):
        enc.check_input((4,), 2, "ranking")


def test_random_genomes_are_minimal_seeded_and_from_rng_only():
    full, sparse = NEAT(n_inputs=5, n_outputs=2), NEAT(n_inputs=5, n_outputs=2, initial_connection="sparse")
    random.seed(1)
    a = full.random(random.Random(3))
    random.seed(2)
    assert full.random(random.Random(3)) == a
    assert sorted(a.connections) == [(i, o) for i in range(5) for o in (5, 6)]
    assert not a.ids("hidden") and all(g.enabled for g in a.connections.values())
    for seed in range(20):
        g = sparse.random(random.Random(seed))
        check_genome(g)
        assert sorted(d for _, d in g.connections) == [5, 6]  # one input per output
    weights = [g.weight for s in range(200) for g in full.random(random.Random(s)).connections.values()]
    assert abs(np.std(weights) - 1.0) < 0.05 and abs(np.mean(weights)) < 0.05


# -- innovation numbers -------------------------------------------------------------------------

def test_innovations_are_a_pure_function_of_structure():
    t1, t2 = InnovationTracker(), pickle.loads(pickle.dumps(InnovationTracker()))
    assert t1.innovation(3, 7) == t2.innovation(3, 7) != t1.innovation(7, 3)
    h = t1.node_id(3, 7)
    assert h == t2.node_id(3, 7) and t1.level(h) == 1 and t1.level(t1.node_id(h, 7)) == 2
    # connections of later (deeper) splits get larger numbers: NEAT's excess genes
    assert t1.innovation(h, 7) > max(t1.innovation(a, b) for a in range(50) for b in range(50))
    assert h < 2**53 and t1.innovation(h, 7) < 2**53  # exact in JSON everywhere


# -- decoding and forward passes ------------------------------------------------------------------

def test_decode_image_and_tabular_heads(enc):
    g = evolved(enc, 0)
    spec = enc.decode(g, (6,), 3, "classification")
    assert [n.layer.kind for n in spec.nodes] == ["neuron_graph", "activation"] and spec.output_shape == (3,)
    layer = spec.nodes[0].layer
    assert layer.params([(6,)]) == sum(c.enabled for c in g.connections.values()) + len(g.ids("hidden")) + 3
    regression = enc.decode(g, (6,), 3, "regression")
    assert [n.layer.kind for n in regression.nodes] == ["neuron_graph"]
    image = NEAT().decode(NEAT(n_inputs=64, n_outputs=10).random(random.Random(0)), (8, 8, 1), 10)
    assert [n.layer.kind for n in image.nodes] == ["flatten", "neuron_graph", "activation"]
    with pytest.raises(GenotypeError, match="output"):
        enc.decode(g, (6,), 4)
    assert enc.decode(g, (6,), 3).hash == enc.decode(pickle.loads(pickle.dumps(g)), (6,), 3).hash



# -- the genome vocabulary's old home ------------------------------------------------------------

def test_the_encoding_re_exports_the_genome_vocabulary():
    for name in ("NodeGene", "ConnectionGene", "NEATGenome", "InnovationTracker", "TRACKER", "check_genome",
                 "compatibility", "reachable", "find_cycle_edge", "copy_genome"):
        assert getattr(graph_module, name) is getattr(neat_genome, name)


def test_a_genome_pickled_under_the_old_module_path_still_loads():
    enc = NEAT(n_inputs=3, n_outputs=2)
    g = evolved(enc, 0)
    new_path, old_path = b"evokit.operators.neat_genome", b"evokit.encodings.graph"
    data = pickle.dumps(g, protocol=0)
    assert new_path in data
    old = data.replace(new_path, old_path)
    assert new_path not in old
    back = pickle.loads(old)
    assert isinstance(back, NEATGenome) and back == g
    assert all(isinstance(n, NodeGene) for n in back.nodes.values())
    assert all(isinstance(c, ConnectionGene) for c in back.connections.values())
    check_genome(back)

@pytest.mark.parametrize("seed", range(4))
def test_numpy_forward_equals_keras_and_the_naive_definition(enc, seed):
    g = evolved(enc, seed)
    x = np.random.default_rng(seed).normal(size=(17, 6)).astype(np.float32)
    np.testing.assert_allclose(forward(g, x), reference(g, x.astype(np.float64)), rtol=1e-10, atol=1e-10)
    for task in ("classification", "regression"):
        spec = enc.decode(g, (6,), 3, task)
        model = build(spec, seed=0)
        model.set_weights(enc.weights(g, spec))
        assert model.count_params() == spec.params
        expected = enc.forward(g, x, task=task if task == "classification" else None)
        np.testing.assert_allclose(np.asarray(model(x)), expected, rtol=1e-4, atol=1e-5)
    keras.backend.clear_session(free_memory=False)


def test_forward_on_image_inputs_and_other_feature_counts(enc):
    g = evolved(enc, 5)
    x = np.random.default_rng(0).normal(size=(9, 2, 2, 1))  # 4 features: inputs 4 and 5 read 0
    padded = np.concatenate([x.reshape(9, 4), np.zeros((9, 2))], axis=1)
    np.testing.assert_allclose(forward(g, x), forward(g, padded), rtol=1e-12)
    spec = enc.decode(g, (2, 2, 1), 3, "regression")
    model = build(spec)
    model.set_weights(enc.weights(g, spec))
    np.testing.assert_allclose(np.asarray(model(x.astype(np.float32))), forward(g, x), rtol=1e-4, atol=1e-5)
    wide = np.concatenate([padded, np.ones((9, 3))], axis=1)  # extra features are ignored
    np.testing.assert_allclose(forward(g, wide), forward(g, padded), rtol=1e-12)


# -- distance -----------------------------------------------------------------------------------

def test_compatibility_distance_hand_computed():
    h = TRACKER.node_id(1, 2)
    a = make_genome(2, 1, {(0, 2): 0.5, (1, 2): 1.0})
    b = make_genome(2, 1, {(0, 2): -0.5, (1, 2): 3.0, (1, h): 1.0, (h, 2): 3.0}, {h: "tanh"}, disabled={(1, 2)})
    # matching (0,2) and (1,2): |0.5 - -0.5| = 1 and |1 - 3| = 2, W = 1.5; b's two level-1 genes are
    # excess (beyond a's newest number); nothing is disjoint; N = 1 (small genomes)
    assert compatibility(a, b) == compatibility(b, a) == (2, 0, 1.5)
    enc = NEAT(c1=1.0, c2=2.0, c3=0.4)
    assert enc.distance(a, b) == pytest.approx(2 * 1.0 + 0.4 * 1.5)
    c = make_genome(2, 1, {(0, 2): 0.5, (1, h): 1.0, (h, 2): 1.0}, {h: "tanh"})
    # a's (1,2) is below c's newest number: disjoint; c's level-1 genes are excess; W = 0
    assert compatibility(a, c) == (2, 1, 0.0)
    assert enc.distance(a, c) == pytest.approx(1.0 * 2 + 2.0 * 1)
    # N = the larger genome's gene count from SMALL_GENOME (20) genes up
    big = NEAT(n_inputs=10, n_outputs=2).random(random.Random(0))
    other = NEAT(n_inputs=10, n_outputs=2).random(random.Random(1))
    del other.connections[(0, 10)]
    diff = np.mean([abs(big.connections[k].weight - other.connections[k].weight) for k in other.connections])
    assert enc.distance(big, other) == pytest.approx(2.0 * 1 / 20 + 0.4 * diff)
    assert enc.distance(big, big) == 0 and enc.distance(NEATGenome({}, {}), NEATGenome({}, {})) == 0


# -- validation and JSON ------------------------------------------------------------------------

def bad_genomes():
    h = TRACKER.node_id(0, 2)
    good = lambda: make_genome(2, 1, {(0, 2): 1.0, (0, h): 1.0, (h, 2): 0.5}, {h: "tanh"})  # noqa: E731

    def edit(fn):
        g = good()
        fn(g)
        return g

    def cycle(g):
        g.nodes[h + 1] = NodeGene(h + 1, "hidden", "relu")
        for s, d in ((h, h + 1), (h + 1, h)):
            g.connections[(s, d)] = ConnectionGene(s, d, 1.0, False, TRACKER.innovation(s, d))

    return [
        (edit(lambda g: setattr(g.nodes[h], "activation", "softmax")), rf"nodes\[{h}\]\.activation"),
        (edit(lambda g: setattr(g.nodes[2], "bias", float("nan"))), r"nodes\[2\]\.bias"),
        (edit(lambda g: setattr(g.nodes[h], "kind", "bias")), rf"nodes\[{h}\]\.kind"),
        (edit(lambda g: g.nodes.pop(h)), rf"connections\[\(0, {h}\)\]\.dst"),
        (edit(lambda g: g.nodes.pop(0)), "inputs"),
        (edit(lambda g: g.connections.__setitem__((2, 1), ConnectionGene(2, 1, 1.0, True, TRACKER.innovation(2, 1)))),
         r"connections\[\(2, 1\)\]\.dst.*input"),
        (edit(lambda g: setattr(g.connections[(0, 2)], "innovation", 7)), r"connections\[\(0, 2\)\]\.innovation"),
        (edit(lambda g: setattr(g.connections[(0, 2)], "weight", float("inf"))), r"connections\[\(0, 2\)\]\.weight"),
        (edit(lambda g: setattr(g.connections[(0, 2)], "enabled", 1)), r"connections\[\(0, 2\)\]\.enabled"),
        (edit(cycle), "cycle"),
        ([0, 1], "NEATGenome"),
    ]


@pytest.mark.parametrize("genome, pattern", bad_genomes())
def test_validator_names_the_gene(enc, genome, pattern):
    with pytest.raises(GenotypeError, match=pattern):
        check_genome(genome)
    with pytest.raises(GenotypeError):
        enc.decode(genome, (2,), 1)


def test_json_round_trip_and_describe(enc):
    g = evolved(enc, 3)
    data = json.loads(json.dumps(enc.to_json(g)))
    assert enc.from_json(data) == g
    data["connections"][0]["dst"] = 0
    with pytest.raises(GenotypeError, match="connections"):
        enc.from_json(data)
    hidden, enabled = len(g.ids("hidden")), sum(c.enabled for c in g.connections.values())
    assert enc.describe(g) == f"NEAT {hidden} hidden / {enabled} enabled connections"


# -- Lamarckian fine-tuning ---------------------------------------------------------------------

class RecordingEvaluator(SerialEvaluator):
    """A real serial evaluator that records the weights each task starts from."""

    def __init__(self):
        self.starts = []

    def train(self, tasks, on_result=None):
        self.starts += [task.weights for task in tasks]
        return super().train(tasks, on_result)


def test_finetune_writes_trained_weights_back_and_the_next_evaluation_starts_from_them():
    data = ek.datasets.load("breast_cancer", seed=0).subset(n_train=120, n_val=60)
    enc = NEAT(finetune=True)
    assert enc.trains
    enc.check_input(data.input_shape, data.n_outputs, data.task)
    g = enc.random(random.Random(0))
    before = enc.weights(g, enc.decode(g, data.input_shape, 2))
    recorder = RecordingEvaluator()
    candidates = CandidateEvaluator(enc, ek.fitness.ValidationAccuracy(epochs=2, learning_rate=0.05), data,
                                    evaluator=recorder)
    (first,) = candidates.evaluate_all([g])
    trained = first.evaluation.weights
    assert not np.allclose(trained[0], before[0])  # training moved the weights...
    after = enc.weights(g, enc.decode(g, data.input_shape, 2))
    for got, want in zip(after, trained):  # ...and the genes now hold them
        np.testing.assert_allclose(got, want, rtol=1e-6)
    candidates.evaluate_all([g])
    for got, want in zip(recorder.starts[1], trained):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    # without finetune nothing is trained and nothing is written back
    plain = NEAT()
    plain.check_input(data.input_shape, data.n_outputs, data.task)
    g2 = plain.random(random.Random(0))
    snapshot = pickle.loads(pickle.dumps(g2))
    (outcome,) = CandidateEvaluator(plain, ek.fitness.ValidationAccuracy(epochs=1), data).evaluate_all([g2])
    assert g2 == snapshot and not plain.trains
    assert outcome.evaluation.train_time == 0 and outcome.values[0] == pytest.approx(
        np.mean(np.argmax(forward(g2, data.x_val), axis=1) == data.y_val))
    keras.backend.clear_session(free_memory=False)


# -- the NeuronGraph layer spec and its Keras layer -----------------------------------------------

def small_graph() -> NeuronGraph:
    return NeuronGraph(3, 2, [[10, "tanh"], [11, "relu"]],
                       [[0, 10], [1, 10], [10, 11], [11, 3], [2, 4], [10, 4], [0, 3]], "linear")


def test_neuron_graph_spec_counts_and_json():
    layer = small_graph()
    assert layer.hidden == ((10, "tanh"), (11, "relu")) and isinstance(layer.connections[0], tuple)
    assert layer.output_shape([(3,)]) == (2,)
    assert layer.params([(3,)]) == 7 + 4 and layer.flops([(3,)], (2,)) == 2 * 7 + 4
    g = Graph((3,))
    spec = g.finish(g.add(layer, g.input))
    back = NetSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert back.nodes[0].layer == layer and back.hash == spec.hash
    with pytest.raises(ArchitectureError, match="neuron_graph"):
        Graph((4,)).add(layer, INPUT)


@pytest.mark.parametrize("kwargs, pattern", [
    ({"n_inputs": 0}, "n_inputs"), ({"hidden": [[1, "tanh"]]}, r"hidden\[0\]"),
    ({"hidden": [[9, "tanh"], [9, "relu"]]}, "twice"), ({"hidden": [[9, "softmax"]]}, "activation"),
    ({"connections": [[0, 7]]}, r"connections\[0\]"), ({"connections": [[3, 0]]}, "into input"),
    ({"connections": [[0, 3], [0, 3]]}, "twice"), ({"connections": [[0]]}, r"connections\[0\]"),
    ({"hidden": [[9, "tanh"], [10, "tanh"]], "connections": [[9, 10], [10, 9]]}, "cycle"),
    ({"output_activation": "softmax"}, "output_activation")])
def test_neuron_graph_spec_errors_name_the_field(kwargs, pattern):
    args = {"n_inputs": 3, "n_outputs": 2, **kwargs}
    with pytest.raises(ConfigError, match=pattern):
        NeuronGraph(**args)


def test_kahn_levels_schedule_units_by_their_deepest_source_and_name_a_cycle():
    # 0 reads only inputs; 1 reads 0; 2 reads 0 and 1; 3 reads 2; 4 reads nothing
    assert kahn_levels([[], [0], [0, 1], [2], []]) == ([1, 2, 3, 4, 1], [])
    level, stuck = kahn_levels([[], [2], [1], [1]])  # 1 and 2 read each other; 3 sits behind them
    assert level[0] == 1 and stuck == [1, 2, 3]


def test_keras_layer_weights_save_reload_and_config(tmp_path):
    import evokit.layers  # noqa: F401 - registers the layer for loading
    from evokit.layers.neuron_graph import NeuronGraph as KerasNeuronGraph

    layer = small_graph()
    g = Graph((3,))
    spec = g.finish(g.add(Activation("softmax"), g.add(layer, g.input)))
    model = build(spec, seed=3)
    assert model.count_params() == spec.params == 11
    assert [w.shape for w in model.get_weights()] == [(7,), (4,)]
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    kernel, bias = model.get_weights()
    raw = keras.Model(model.input, model.layers[1].output)
    np.testing.assert_allclose(np.asarray(raw(x)), layer.forward(x, kernel, bias), rtol=1e-5, atol=1e-6)
    path = tmp_path / "graph.keras"
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(model(x)))
    config = model.layers[1].get_config()
    assert KerasNeuronGraph.from_config(config).get_config() == config
    with pytest.raises(ConfigError, match="input_shape"):
        KerasNeuronGraph(4, 1)(keras.Input((3,)))
    with pytest.raises(ConfigError, match="connections"):
        KerasNeuronGraph(2, 1, connections=[[2, 2]])
    keras.backend.clear_session(free_memory=False)


def test_gradient_training_fits_the_neuron_graph():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype(np.float32)
    g = Graph((3,))
    spec = g.finish(g.add(NeuronGraph(3, 1, [[9, "linear"]], [[0, 9], [1, 9], [9, 3], [2, 3]]), g.input))
    keras.utils.set_random_seed(0)
    model = build(spec, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    start = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.05 * start
    keras.backend.clear_session(free_memory=False)


def test_finetuned_search_returns_its_trained_best_model():
    import evokit as ek

    data = ek.datasets.load("breast_cancer", seed=0)
    result = ek.Search(encoding=NEAT(finetune=True), objectives=ek.fitness.ValidationAccuracy(epochs=1), data=data,
                       algorithm=ek.algorithms.GA(population=4, generations=1), progress=False).run()
    assert result.best.evaluation.status == "ok" and result.best.evaluation.weights is not None
    assert result.best.model.count_params() == result.best.params and "test_accuracy" in result.test_scores
