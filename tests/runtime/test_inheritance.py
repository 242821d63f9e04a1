"""Weight inheritance: real Keras training on small digits; resume exactness with both options on."""
import shutil

import numpy as np

import evokit as ek
from evokit.builder import build
from evokit.encodings.deepga import ConvBlock, DeepGAGenome, DenseBlock
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.run.checkpoint import load_checkpoint
from evokit.runtime.candidates.fidelity import SuccessiveHalving
from evokit.runtime.candidates.inheritance import WeightPool, kept_layers
from evokit.runtime.run.directory import read_candidates
from evokit.netspec.weights import weight_arrays



def _genome(second=8, units=8):
    return DeepGAGenome([ConvBlock(4, 3, "max", 2, "relu"), ConvBlock(second, 3, "none", 2, "relu")],
                        [DenseBlock(units, "relu", 0.0)], [])


def test_kept_layers_are_the_unchanged_prefix(small_digits, tiny_encoding):
    ce = CandidateEvaluator(tiny_encoding, ek.fitness.ParameterCount(), small_digits)
    parent, child = ce.decode(_genome(8)), ce.decode(_genome(4))
    assert [n.layer.kind for n in child.nodes] == ["conv2d", "pool", "conv2d", "flatten", "dense", "dense"]
    # the first conv block is kept; the second changed, and nothing after it is kept although the
    # hidden dense layer has the same configuration (it reads something else now)
    assert kept_layers(child, parent) == {0: 0, 1: 1}
    assert kept_layers(parent, parent) == {i: i for i in range(len(parent.nodes))}


def test_child_starts_from_the_parents_trained_first_conv_block(small_digits, tiny_encoding, counting_evaluator):
    ce = CandidateEvaluator(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits,
                            evaluator=counting_evaluator,
                            inherit_weights=True)
    parent = ce.evaluate_all([_genome(8)])[0].evaluation
    assert counting_evaluator.jobs[0].weights is None  # nothing to inherit from yet
    child_outcome = ce.evaluate_all([_genome(4)])[0]
    job = counting_evaluator.jobs[1]
    child = job.spec
    start = job.weights
    fresh = build(child, seed=job.seed).get_weights()  # what it would start from without inheritance
    mapping = kept_layers(child, parent.spec)
    parent_arrays = {(a.node, a.name): w for a, w in zip(weight_arrays(parent.spec), parent.weights)}
    inherited = 0
    for k, array in enumerate(weight_arrays(child)):
        if array.node in mapping:  # the first conv block: the parent's trained kernel and bias
            trained = parent_arrays[(mapping[array.node], array.name)]
            np.testing.assert_array_equal(start[k], trained)
            assert not np.array_equal(trained, fresh[k])
            inherited += 1
        else:  # the rest: its own seeded initial weights
            np.testing.assert_array_equal(start[k], fresh[k])
    assert inherited == 2 and ce.inherited_starts == 1
    assert child_outcome.evaluation.extra["inherited"] == 2
    # the inherited start is part of the cache key: a search without inheritance does not take it
    key = ce.evaluation_key(_genome(4))
    assert "+i" in key and key != ce.prepare(_genome(4))[2]
    plain = CandidateEvaluator(tiny_encoding, ek.fitness.ValidationAccuracy(epochs=1), small_digits, cache=ce.cache)
    assert not plain.evaluate_all([_genome(4)])[0].cached
    # the same network again in this search is a cache hit of its inherited evaluation
    again = ce.evaluate_all([_genome(4)])[0]
    assert again.cached and again.values == child_outcome.values and len(counting_evaluator.jobs) == 2


def test_pool_keeps_the_most_recent_and_picks_the_most_shared(small_digits, tiny_encoding):
    ce = CandidateEvaluator(tiny_encoding, ek.fitness.ParameterCount(), small_digits)
    a, b, c = ce.decode(_genome(8)), ce.decode(_genome(4)), ce.decode(_genome(4, 16))
    pool = WeightPool(capacity=2)
    for order, spec in enumerate([a, b, c]):
        pool.add(spec.hash, spec, build(spec, seed=order).get_weights(), order)
    assert list(pool.entries) == [b.hash, c.hash]  # the oldest was dropped
    donor, mapping = pool.donor(ce.decode(_genome(4, 32)))
    assert donor.key == b.hash or donor.key == c.hash
    assert len(mapping) == 2  # both conv layers have weights and are kept; the dense one differs
    assert pool.donor(ce.decode(DeepGAGenome([ConvBlock(8, 5, "max", 2, "relu")], [], []))) is None


def _search(run_dir, generations, workers=1):
    encoding = ek.encodings.DeepGA(max_conv_blocks=2, max_dense=1, filters=(4, 8), units=(8, 16))
    data = ek.datasets.load("digits", seed=0).subset(n_train=240, n_val=100, seed=0)
    return ek.Search(encoding, ek.fitness.ValidationAccuracy(epochs=2), data,
                     algorithm=ek.algorithms.GA(population=4, generations=generations), seed=3, run_dir=run_dir,
                     workers=workers, progress=False, fidelity=SuccessiveHalving(min_epochs=1, eta=2), inherit_weights=True)


def _final(run_dir):
    payload = load_checkpoint(run_dir)
    population = sorted((repr(ind), ind.fitness.values) for ind in payload["state"].population)
    rows = [{k: v for k, v in row.items() if k != "elapsed_s"} for row in payload["rows"]]
    return population, [(repr(ind), ind.fitness.values) for ind in payload["hof"]], rows


def test_resume_is_exact_with_halving_and_inheritance(tmp_path, counting_evaluator):
    _search(tmp_path / "whole", 2).run()
    _search(tmp_path / "parts", 1).run()
    search = _search(tmp_path / "parts", 1)
    search.budget = ek.Budget(generations=2)
    search.run(resume=True)
    assert _final(tmp_path / "parts") == _final(tmp_path / "whole")
    whole, parts = read_candidates(tmp_path / "whole"), read_candidates(tmp_path / "parts")
    keys = ("generation", "description", "cached", "fitness", "epochs", "inherited")
    assert [tuple(r.get(k) for k in keys) for r in parts] == [tuple(r.get(k) for k in keys) for r in whole]
    assert any(r.get("inherited") for r in whole if r["generation"] > 0)  # inheritance did happen
    # killed after a batch but before its checkpoint: the caches hold what the lost batch trained
    _search(tmp_path / "killed", 1).run()
    for name in ("cache.sqlite", "cache.donors.sqlite"):
        shutil.copyfile(tmp_path / "whole" / name, tmp_path / "killed" / name)
    search = _search(tmp_path / "killed", 1, workers=counting_evaluator)
    search.budget = ek.Budget(generations=2)
    search.run(resume=True)
    assert counting_evaluator.jobs == []  # every network of the lost batch, and the donors, came from the files
    assert _final(tmp_path / "killed") == _final(tmp_path / "whole")
