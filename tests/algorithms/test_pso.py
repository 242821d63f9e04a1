"""PSO: DEAP's continuous swarm on the sphere benchmark and on the Real encoding (real Keras
training), psoCNN's discrete swarm on DeepGA layer lists, resume, budgets and bad arguments."""
import random

import pytest
from deap import base, benchmarks, creator, tools

import evokit as ek
from evokit.algorithms import evolve
from evokit.algorithms.pso import PSO
from evokit.encodings.deepga import check_genome
from evokit.errors import ConfigError
from evokit.runtime.run.checkpoint import load_checkpoint
from evokit.runtime.run.directory import read_candidates
from evokit.deap_toolbox import genotype_toolbox

BOUNDS = (-5.12, 5.12)


@pytest.fixture
def sphere():
    """DEAP's sphere benchmark on a plain toolbox: 5 genes drawn in [-5.12, 5.12], minimised."""
    if not hasattr(creator, "PSOFitnessMin"):
        creator.create("PSOFitnessMin", base.Fitness, weights=(-1.0,))
        creator.create("PSOParticle", list, fitness=creator.PSOFitnessMin)
    tb = base.Toolbox()
    tb.register("attr", random.uniform, *BOUNDS)
    tb.register("individual", tools.initRepeat, creator.PSOParticle, tb.attr, 5)
    tb.register("population", tools.initRepeat, list, tb.individual)
    return tb


# -- continuous PSO on DEAP's sphere ---------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sphere_converges(sphere, seed):
    # Measured over seeds 0-9 (swarm 20, 100 generations): final best <= 2.7e-6, initial best >= 0.3.
    run = evolve(PSO(population=20, generations=100, bounds=BOUNDS), sphere, benchmarks.sphere, seed=seed)
    assert run.stopped_by == "generations" and run.generations == 100
    assert run.history[0]["min"] > 0.1
    assert run.best.fitness.values[0] < 1e-3
    assert run.evaluations == 20 * 101  # the whole swarm, every generation, once


def test_deap_example_settings_also_improve(sphere):
    run = evolve(PSO(population=20, generations=50, inertia=1.0, phi1=2.0, phi2=2.0, smax=1.0, bounds=BOUNDS),
                 sphere, benchmarks.sphere, seed=0)
    assert run.best.fitness.values[0] < run.history[0]["min"] / 10


def test_sphere_is_reproducible_with_a_seed(sphere):
    def final(seed):
        run = evolve(PSO(population=8, generations=5, bounds=BOUNDS), sphere, benchmarks.sphere, seed=seed)
        return [list(p) for p in run.state.population], run.state.extra["speeds"]

    assert final(3) == final(3)
    assert final(3) != final(4)


def test_golden_sphere_history(sphere):
    """A seeded tiny run's per-generation best, stored: an accidental change of the update shows up."""
    run = evolve(PSO(population=5, generations=4, bounds=BOUNDS), sphere, benchmarks.sphere, seed=0)
    assert [r["min"] for r in run.history] == pytest.approx([14.236024, 20.611964, 17.328114, 6.536569, 4.581157],
                                                           abs=1e-6)


def test_positions_stay_in_bounds_and_speeds_within_smax(sphere):
    # bounds (0.5, 5.12): the constrained optimum is on the lower bound, so particles overshoot it.
    seen, on_bound = [], []

    def check(state):
        seen.append(state.generation)
        assert not any(hasattr(p, "speed") or hasattr(p, "best") for p in state.population)
        if state.generation:
            assert all(0.5 <= x <= 5.12 for p in state.population for x in p)
            assert all(0.05 <= abs(v) <= 0.5 for s in state.extra["speeds"] for v in s)
            on_bound.extend(x for p in state.population for x in p if x == 0.5)

    evolve(PSO(population=6, generations=20, smin=0.05, smax=0.5, bounds=(0.5, 5.12), phi1=3.0, phi2=3.0,
               inertia=1.0), sphere, benchmarks.sphere, seed=0, on_generation=check)
    assert seen == list(range(21)) and len(on_bound) > 10


def test_personal_and_global_bests_are_the_best_seen(sphere):
    history = []
    run = evolve(PSO(population=5, generations=10, bounds=BOUNDS), sphere, benchmarks.sphere, seed=2,
                 on_generation=lambda s: history.append([p.fitness.values[0] for p in s.population]))
    extra = run.state.extra
    for i, best in enumerate(extra["pbest"]):
        assert best.fitness.values[0] == min(gen[i] for gen in history)
        assert best.fitness.values == benchmarks.sphere(best)
    assert extra["gbest"].fitness.values[0] == min(map(min, history)) == run.best.fitness.values[0]


@pytest.mark.parametrize("budget,reason", [(ek.Budget(evaluations=50), "evaluations"),
                                           (ek.Budget(target=1e-2), "target")])
def test_evolve_budgets_are_respected(sphere, budget, reason):
    run = evolve(PSO(population=10, generations=1000, bounds=BOUNDS), sphere, benchmarks.sphere, budget=budget,
                 seed=0)
    assert run.stopped_by == reason
    if reason == "evaluations":
        assert run.evaluations == 50 and run.generations == 4
    else:
        assert run.best.fitness.values[0] <= 1e-2 and run.generations < 1000


# -- PSO in a Search ---------------------------------------------------------------------------------

def _search(data, encoding, algorithm, run_dir=None, objectives=None, **kw):
    return ek.Search(encoding=encoding, objectives=objectives or ek.fitness.ParameterCount(), data=data,
                     algorithm=algorithm, seed=0, run_dir=run_dir, progress=False, **kw)


def test_search_over_real_encoding_trains_real_models(small_digits, tmp_path):
    encoding = ek.encodings.Real(max_layers=3, filters=(4, 8), units=(16, 32))
    result = _search(small_digits, encoding, PSO(population=3, generations=1), tmp_path / "run",
                     ek.fitness.ValidationAccuracy(epochs=1)).run()
    records = read_candidates(tmp_path / "run")
    assert [r["gen"] for r in result.history] == [0, 1]
    assert [r["generation"] for r in records] == [0, 0, 0, 1, 1, 1]
    trained = [r for r in records if not r["cached"]]
    assert trained and all(r["status"] == "ok" and r["wall_time"] > 0 for r in trained)
    assert all(0.0 <= r["fitness"]["val_accuracy"] <= 1.0 for r in records)
    assert result.stats["trained"] == len({r["hash"] for r in records}) >= 3
    assert records[0]["genotype"] != records[3]["genotype"]  # the particles moved
    assert all(0.0 <= g <= 1.0 for r in records for g in r["genotype"])
    assert result.final_model is not None and 0.0 <= result.test_scores["test_accuracy"] <= 1.0
    assert result.best.values["val_accuracy"] == max(r["fitness"]["val_accuracy"] for r in records)


def test_discrete_pso_on_deepga_moves_towards_the_global_best(small_digits, tiny_encoding, tmp_path):
    result = _search(small_digits, tiny_encoding, PSO(population=5, generations=3), tmp_path / "run").run()
    state = load_checkpoint(tmp_path / "run")["state"]
    assert state.extra["mode"] == "layers" and "speeds" not in state.extra
    for ind in state.population + state.extra["pbest"]:
        check_genome(ind)
        assert len(ind.conv) <= tiny_encoding.max_conv_blocks and len(ind.dense) <= tiny_encoding.max_dense
    gbest = state.extra["gbest"]
    assert gbest.fitness.values[0] == result.best.values["params"] == min(
        r["fitness"]["params"] for r in read_candidates(tmp_path / "run"))
    assert all(p.fitness.values[0] >= gbest.fitness.values[0] for p in state.extra["pbest"])


def test_discrete_pso_with_cg_one_copies_the_global_best(tiny_encoding):
    tb = genotype_toolbox(tiny_encoding, (-1.0,))

    def params(ind):
        return (float(tiny_encoding.decode(ind, (8, 8, 1), 10).params),)

    run = evolve(PSO(population=6, generations=1, cg=1.0), tb, params, seed=5)
    assert all(p == run.state.extra["gbest"] for p in run.state.population)


@pytest.mark.parametrize("encoding", [ek.encodings.Real(max_layers=3), ek.encodings.DeepGA(max_conv_blocks=2,
                                                                                              max_dense=1)])
def test_resumed_run_ends_like_an_uninterrupted_one(small_digits, encoding, tmp_path):
    def final(run_dir):
        payload = load_checkpoint(run_dir)
        state = payload["state"]
        extra = state.extra
        return (state.generation, [(repr(p), p.fitness.values) for p in state.population],
                [(repr(p), p.fitness.values) for p in extra["pbest"]], repr(extra["gbest"]),
                extra.get("speeds"), [(repr(p), p.fitness.values) for p in payload["hof"]])

    _search(small_digits, encoding, PSO(population=4, generations=3), tmp_path / "a").run()
    _search(small_digits, encoding, PSO(population=4, generations=1), tmp_path / "b").run()
    assert load_checkpoint(tmp_path / "b")["state"].generation == 1
    resumed = _search(small_digits, encoding, PSO(population=4, generations=3), tmp_path / "b")
    resumed.run(resume=True)
    reference = final(tmp_path / "a")
    assert reference[0] == 3
    assert final(tmp_path / "b") == reference


def test_weights_mode_swarm_moves_unbounded_weights(small_digits):
    encoding = ek.encodings.Real(mode="weights")
    result = _search(small_digits, encoding, PSO(population=3, generations=2, smax=0.05),
                        objectives=ek.fitness.ValidationAccuracy(epochs=1)).run()
    assert [r["evaluated"] for r in result.history] == [3, 3, 3]
    assert all(0.0 <= r["val_accuracy_max"] <= 1.0 for r in result.history)
    assert result.final_model is not None


def test_search_target_budget_stops_early(small_digits, tiny_encoding):
    result = _search(small_digits, tiny_encoding, PSO(population=4, generations=50),
                     budget=ek.Budget(target=5000, generations=50)).run()
    assert result.stats["stopped_by"] == "target" and result.best.values["params"] <= 5000
    assert result.stats["generations"] < 50


# -- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kw,name", [(dict(population=1), "population"), (dict(generations=-1), "generations"),
                                     (dict(phi1=-1.0), "phi1"), (dict(phi2="2"), "phi2"),
                                     (dict(inertia=-0.1), "inertia"), (dict(smin=-1.0), "smin"),
                                     (dict(smax=0.0), "smax"), (dict(smin=2.0, smax=1.0), "smin"),
                                     (dict(cg=1.5), "cg"), (dict(bounds=(1.0, 0.0)), "bounds"),
                                     (dict(bounds="wide"), "bounds"), (dict(bounds=[(0, 1), (2,)]), "bounds")])
def test_bad_arguments_raise_config_error(kw, name):
    with pytest.raises(ConfigError, match=name):
        PSO(**kw)


def test_several_objectives_are_rejected(small_digits):
    with pytest.raises(ConfigError, match="objectives.*single-objective"):
        ek.Search(encoding=ek.encodings.Real(), data=small_digits, algorithm=PSO(),
                  objectives=[ek.fitness.ValidationAccuracy(epochs=1), ek.fitness.ParameterCount()])


def test_several_objectives_on_a_plain_toolbox_are_rejected(sphere):
    if not hasattr(creator, "PSOFitness2"):
        creator.create("PSOFitness2", base.Fitness, weights=(-1.0, -1.0))
        creator.create("PSOParticle2", list, fitness=creator.PSOFitness2)
    sphere.register("individual", tools.initRepeat, creator.PSOParticle2, sphere.attr, 5)
    sphere.register("population", tools.initRepeat, list, sphere.individual)
    with pytest.raises(ConfigError, match="objectives has 2"):
        evolve(PSO(population=4, generations=1, bounds=BOUNDS), sphere, lambda ind: (sum(ind), -sum(ind)), seed=0)


def test_unsupported_encoding_is_rejected_naming_algorithm(small_digits):
    with pytest.raises(ConfigError, match="algorithm=PSO.*Real.*DeepGA"):  # when the search is made
        _search(small_digits, ek.encodings.Binary(), PSO(population=2, generations=1))


def test_plain_toolbox_needs_bounds_and_matching_length(sphere):
    with pytest.raises(ConfigError, match="bounds=None"):
        evolve(PSO(population=4, generations=1), sphere, benchmarks.sphere, seed=0)
    with pytest.raises(ConfigError, match="bounds has 2"):
        evolve(PSO(population=4, generations=1, bounds=[(0, 1), (0, 1)]), sphere, benchmarks.sphere, seed=0)


def test_unbounded_weights_mode_needs_smax(small_digits):
    search = _search(small_digits, ek.encodings.Real(mode="weights"), PSO(population=2, generations=1))
    with pytest.raises(ConfigError, match="smax=None"):
        search.run()


def test_repr_shows_the_configuration():
    assert repr(PSO(population=3, cg=0.2)).startswith("PSO(population=3, generations=10, phi1=1.49618")
