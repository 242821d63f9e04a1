"""NEAT's search: XOR, speciation, fitness sharing, stagnation, elitism, checkpoints and resume."""
import copy
import math
import pickle
import random

import numpy as np
import pytest

import evokit as ek
from evokit.algorithms import evolve
from evokit.algorithms.base import SearchState
from evokit.algorithms.neat import NEAT, adjusted_fitness, allocate_offspring, score, speciate
from evokit.encodings.graph import forward
from evokit.errors import ConfigError
from evokit.operators.neat_genome import gene_state
from evokit.runtime.run.checkpoint import load_checkpoint
from evokit.deap_toolbox import genotype_toolbox

Graph = ek.encodings.NEAT  # the graph (NEAT genome) encoding

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])


def xor_fitness(genome):
    """4 - sum of squared errors over the four patterns (the genome's biases serve as NEAT's bias input)."""
    return (4.0 - float(np.sum((forward(genome, XOR_X)[:, 0] - XOR_Y) ** 2)),)


def xor_toolbox(**encoding):
    return genotype_toolbox(Graph(n_inputs=2, n_outputs=1, output_activation="sigmoid", **encoding), (1.0,))


def evaluate_xor(individuals):
    for ind in individuals:
        if not ind.fitness.valid:
            ind.fitness.values = xor_fitness(ind)


def counting(evaluate):
    """``evaluate`` that also records how many individuals it scored."""
    def run(individuals):
        run.count += sum(not ind.fitness.valid for ind in individuals)
        evaluate(individuals)
    run.count = 0
    return run


def genes(ind):
    return (sorted((k, gene_state(n)) for k, n in ind.nodes.items()),
            sorted((k, gene_state(c)) for k, c in ind.connections.items()))


# -- XOR ----------------------------------------------------------------------------------------

def test_neat_solves_xor_in_10_of_10_seeds():
    solved = []
    for seed in range(10):
        run = evolve(NEAT(population=60), xor_toolbox(), xor_fitness,
                     budget=ek.Budget(generations=150, target=3.9), seed=seed)
        solved.append(run.stopped_by == "target" and run.best.fitness.values[0] >= 3.9)
        outputs = forward(run.best, XOR_X)[:, 0]
        assert np.all(np.abs(outputs - XOR_Y) < 0.5)  # a real XOR: every pattern on the right side
        counts = run.state.extra["species_counts"]
        assert len(counts) == run.generations + 1 and all(c >= 1 for c in counts)
    assert solved == [True] * 10


def test_xor_runs_are_reproducible():
    a = evolve(NEAT(population=30), xor_toolbox(), xor_fitness, budget=ek.Budget(generations=5), seed=4)
    b = evolve(NEAT(population=30), xor_toolbox(), xor_fitness, budget=ek.Budget(generations=5), seed=4)
    assert [genes(i) for i in a.state.population] == [genes(i) for i in b.state.population]
    assert a.state.extra["species_counts"] == b.state.extra["species_counts"]


# -- speciation ---------------------------------------------------------------------------------

def test_speciate_joins_the_first_compatible_species_and_founds_new_ones():
    distance = lambda a, b: abs(a - b)  # noqa: E731
    species, next_id = speciate([0.2, 5.0, 0.9, 5.5, 20.0, 9.0], [(3, 0.0), (7, 9.5)], distance, 1.0, 10)
    assert species == [(3, [0, 2]), (7, [5]), (10, [1, 3]), (11, [4])]
    assert next_id == 12
    # a species whose representative attracts nobody dies out
    species, next_id = speciate([0.0], [(0, 50.0)], distance, 1.0, 1)
    assert species == [(1, [0])] and next_id == 2


def test_a_diverse_population_splits_into_species_within_the_threshold():
    tb = genotype_toolbox(Graph(n_inputs=4, n_outputs=2, weight_init_std=2.0), (1.0,))
    random.seed(0)
    neat = NEAT(population=30, compatibility_threshold=1.0)
    neat.configure(tb, 1)
    state = neat.initialize(tb, lambda inds: [setattr(i.fitness, "values", (1.0,)) for i in inds])
    species = state.extra["species"]
    assert len(species) >= 3 and state.extra["species_counts"] == [len(species)]
    assert sorted(i for s in species for i in s["members"]) == list(range(30))
    founders = [state.population[s["members"][0]] for s in species]
    for s, founder in zip(species, founders):
        assert all(tb.distance(state.population[i], founder) < 1.0 for i in s["members"])
        assert any(tb.distance(s["representative"], state.population[i]) == 0 for i in s["members"])
    for j, founder in enumerate(founders):  # each founder was incompatible with the earlier ones
        assert all(tb.distance(founder, earlier) >= 1.0 for earlier in founders[:j])
    assert state.extra["next_species_id"] == len(species)
    # one big species with a generous threshold
    random.seed(0)
    state = NEAT(population=30, compatibility_threshold=1000.0).initialize(
        tb, lambda inds: [setattr(i.fitness, "values", (1.0,)) for i in inds])
    assert state.extra["species_counts"] == [1]


# -- fitness sharing and allocation -------------------------------------------------------------

def test_allocate_offspring_is_proportional_and_keeps_the_total():
    assert allocate_offspring([1.0, 2.0, 3.0, 4.0], 100) == [10, 20, 30, 40]
    assert allocate_offspring([1.0, 1.0, 1.0], 10) == [4, 3, 3]  # largest remainder, ties to the first
    assert allocate_offspring([0.1, 0.25, 0.65], 7) == [1, 2, 4]
    assert allocate_offspring([0.0, 0.0], 5) == [3, 2]  # no positive share: equal split
    assert allocate_offspring([math.nan, -1.0, math.inf, 2.0], 6) == [0, 0, 0, 6]  # not finite / negative: 0
    assert allocate_offspring([5.0], 0) == [0] and allocate_offspring([], 0) == []
    rng = random.Random(1)
    for _ in range(200):
        shares = [rng.random() * 10 for _ in range(rng.randint(1, 12))]
        total = rng.randint(0, 200)
        counts = allocate_offspring(shares, total)
        assert sum(counts) == total
        assert all(abs(c - total * s / sum(shares)) < 1 for c, s in zip(counts, shares))


def test_allocate_offspring_rejects_bad_input():
    with pytest.raises(ConfigError, match="total"):
        allocate_offspring([1.0], -1)
    with pytest.raises(ConfigError, match="shares"):
        allocate_offspring([], 3)


def test_adjusted_fitness_divides_by_species_size_and_handles_bad_values():
    # explicit sharing: a species' sum of f / |S| is its mean fitness, whatever its size
    assert adjusted_fitness([[4.0, 4.0, 4.0, 4.0], [4.0], [1.0, 3.0]]) == [4.0, 4.0, 2.0]
    # negative fitness (e.g. a minimised objective): shifted so the population's worst counts 0
    assert adjusted_fitness([[-1.0, -3.0], [-2.0]], shift=-3.0) == [1.0, 1.0]
    # non-negative fitness is used as it is (the paper's sharing), a positive shift is ignored
    assert adjusted_fitness([[2.0, 6.0]], shift=2.0) == [4.0]
    # failures (non-finite) count 0 but still take a place in the species
    assert adjusted_fitness([[3.0, -math.inf], [math.nan], []]) == [1.5, 0.0, 0.0]


def test_score_reads_the_weighted_fitness_and_fails_non_finite():
    tb = genotype_toolbox(Graph(n_inputs=2, n_outputs=1), (-1.0,))
    ind = tb.individual()
    assert score(ind) == -math.inf  # not evaluated
    ind.fitness.values = (2.5,)
    assert score(ind) == -2.5  # minimised: larger weighted value is better
    ind.fitness.values = (math.inf,)  # a failed candidate of a minimised objective
    assert score(ind) == -math.inf


def test_offspring_follow_the_shared_fitness_of_species():
    """A step gives each species offspring in proportion to its mean fitness."""
    tb = xor_toolbox()
    neat = NEAT(population=40, compatibility_threshold=1000.0, elitism_threshold=100)
    random.seed(2)
    pop = tb.population(n=40)
    for i, ind in enumerate(pop):
        ind.fitness.values = (3.0 if i < 10 else 1.0,)
    extra = {"species": [], "next_species_id": 0, "species_counts": []}
    # two species by hand: 10 genomes of fitness 3 and 30 of fitness 1 -> shares 3 : 1 -> 30 : 10
    extra["species"] = [
        {"id": 0, "members": list(range(10)), "representative": tb.clone(pop[0]), "best": 3.0,
         "last_improved": 0, "created": 0},
        {"id": 1, "members": list(range(10, 40)), "representative": tb.clone(pop[10]), "best": 1.0,
         "last_improved": 0, "created": 0}]
    parents_of = {}
    original, original_crossover = tb.clone, tb.crossover

    def tracking_clone(ind):
        child = original(ind)
        parents_of[id(child)] = next((i for i, p in enumerate(pop) if p is ind), None)
        return child

    def tracking_crossover(a, b):  # crossover children are new genomes, not clones
        children = original_crossover(a, b)
        for child, parent in zip(children, (a, b)):
            parents_of[id(child)] = next((i for i, p in enumerate(pop) if p is parent), None)
        return children

    tb.clone, tb.crossover = tracking_clone, tracking_crossover
    next_state = neat.step(SearchState(pop, 0, extra), tb, evaluate_xor)
    tb.clone, tb.crossover = original, original_crossover
    from_first = [c for c in next_state.population if parents_of.get(id(c)) is not None and parents_of[id(c)] < 10]
    assert len(next_state.population) == 40
    assert len(from_first) == 30


# -- stagnation and elitism ---------------------------------------------------------------------

def _fresh_state(population=40, threshold=1.0, seed=0, **kw):
    tb = xor_toolbox(weight_init_std=2.0)
    neat = NEAT(population=population, compatibility_threshold=threshold, **kw)
    neat.configure(tb, 1)
    random.seed(seed)
    np.random.seed(seed)
    return tb, neat, neat.initialize(tb, evaluate_xor)


def test_stagnant_species_get_no_offspring_except_the_best():
    tb, neat, state = _fresh_state(stagnation=3)
    species = state.extra["species"]
    assert len(species) >= 3
    scores = [score(i) for i in state.population]
    best = max(species, key=lambda s: max(scores[i] for i in s["members"]))
    stale = [s["id"] for s in species if s is not best][:2]
    for s in species:
        if s["id"] in stale:
            s["last_improved"] = -3  # 3 generations without improvement at generation 0
    next_state = neat.step(state, tb, evaluate_xor)
    ids = {s["id"] for s in next_state.extra["species"]}
    assert not ids & set(stale)
    assert len(next_state.population) == 40
    # every species stagnant: only the best one breeds (plus new species its offspring found)
    for s in next_state.extra["species"]:
        s["last_improved"] = -100
    scores = [score(i) for i in next_state.population]
    best = max(next_state.extra["species"], key=lambda s: (max(scores[i] for i in s["members"]), -s["id"]))
    first_new = next_state.extra["next_species_id"]
    last = neat.step(next_state, tb, evaluate_xor)
    assert {s["id"] for s in last.extra["species"]} <= {best["id"]} | set(range(first_new, first_new + 40))
    assert len(last.population) == 40


def test_stagnation_counts_generations_since_the_species_best_improved():
    tb, neat, state = _fresh_state(threshold=1000.0)  # one species
    record = state.extra["species"][0]
    assert record["last_improved"] == 0 and record["created"] == 0
    assert record["best"] == max(score(i) for i in state.population)
    for _ in range(3):
        state = neat.step(state, tb, evaluate_xor)
        record = state.extra["species"][0]
        best_now = max(score(state.population[i]) for i in record["members"])
        assert record["best"] >= best_now  # the best so far, never forgotten
    assert state.extra["species_counts"] == [1, 1, 1, 1]


def test_champions_of_species_larger_than_the_threshold_survive_unchanged():
    tb, neat, state = _fresh_state(population=30, threshold=1000.0, elitism_threshold=5)
    champion = max(state.population, key=score)
    evaluate = counting(evaluate_xor)
    next_state = neat.step(state, tb, evaluate)
    copies = [ind for ind in next_state.population if genes(ind) == genes(champion)
              and ind.fitness.values == champion.fitness.values]
    assert copies and copies[0] is champion  # kept itself, not a copy: nothing changes it in place
    assert evaluate.count == 29  # the champion keeps its fitness: not evaluated again
    assert max(score(i) for i in next_state.population) >= score(champion)
    # species of at most elitism_threshold genomes keep no champion: everything is new
    tb, neat, state = _fresh_state(population=30, threshold=1000.0, elitism_threshold=30)
    evaluate = counting(evaluate_xor)
    neat.step(state, tb, evaluate)
    assert evaluate.count == 30


def test_only_the_top_fraction_breeds():
    tb, neat, state = _fresh_state(population=20, threshold=1000.0, survival_threshold=0.1, crossover_rate=0.0,
                                   elitism_threshold=100)
    top = sorted(range(20), key=lambda i: (-score(state.population[i]), i))[:2]
    used = []
    original = tb.clone
    tb.clone = lambda ind: used.append(next((i for i, p in enumerate(state.population) if p is ind), None)) \
        or original(ind)
    neat.step(state, tb, evaluate_xor)
    tb.clone = original
    parents = [i for i in used if i is not None]  # (None: the new representatives, drawn from the children)
    assert len(parents) == 20 and set(parents) <= set(top)


# -- checkpoint, resume, Search -----------------------------------------------------------------

def test_state_survives_pickling_and_continues_identically():
    tb, neat, state = _fresh_state(population=30, threshold=1.0, seed=5)
    state = neat.step(state, tb, evaluate_xor)
    saved = pickle.dumps((state, random.getstate(), np.random.get_state()))
    a = neat.step(neat.step(state, tb, evaluate_xor), tb, evaluate_xor)
    restored, py_state, np_state = pickle.loads(saved)
    random.setstate(py_state)
    np.random.set_state(np_state)
    b = neat.step(neat.step(restored, tb, evaluate_xor), tb, evaluate_xor)
    assert [genes(i) for i in a.population] == [genes(i) for i in b.population]
    assert [i.fitness.values for i in a.population] == [i.fitness.values for i in b.population]
    def strip(st):
        return [{k: v for k, v in s.items() if k != "representative"} for s in st.extra["species"]]

    assert strip(a) == strip(b) and a.extra["species_counts"] == b.extra["species_counts"]
    assert [genes(s["representative"]) for s in a.extra["species"]] == \
        [genes(s["representative"]) for s in b.extra["species"]]


def _search(small_digits, run_dir, generations):
    return ek.Search(encoding=Graph(), objectives=ek.fitness.ValidationAccuracy(epochs=1), data=small_digits,
                     algorithm=NEAT(population=5, compatibility_threshold=0.45),
                     budget=ek.Budget(generations=generations), seed=3, run_dir=run_dir, progress=False)


def _final(run_dir):
    payload = load_checkpoint(run_dir)
    state = payload["state"]
    enc = Graph()
    species = [({k: v for k, v in s.items() if k != "representative"}, enc.to_json(s["representative"]))
               for s in state.extra["species"]]
    return (state.generation, [(enc.to_json(i), i.fitness.values) for i in state.population], species,
            state.extra["species_counts"], state.extra["next_species_id"])


def test_search_on_digits_and_resume_matches_an_uninterrupted_run(small_digits, tmp_path):
    result = _search(small_digits, tmp_path / "full", 3).run()
    assert result.stats["generations"] == 3 and result.stats["failures"] == {}
    assert result.stats["trained"] >= 5 and 0.0 <= result.best.values["val_accuracy"] <= 1.0
    assert result.best.description.startswith("NEAT")
    _search(small_digits, tmp_path / "split", 1).run()
    assert load_checkpoint(tmp_path / "split")["state"].generation == 1
    resumed = _search(small_digits, tmp_path / "split", 3).run(resume=True)
    assert resumed.stats["generations"] == 3
    final = _final(tmp_path / "full")
    assert max(final[3]) > 1  # several species: their state had to survive the checkpoint
    assert _final(tmp_path / "split") == final


def test_search_with_several_objectives_is_refused(small_digits):
    with pytest.raises(ConfigError, match="objectives"):
        ek.Search(encoding=Graph(), objectives=[ek.fitness.ValidationAccuracy(), ek.fitness.ParameterCount()],
                  data=small_digits, algorithm=NEAT())
    with pytest.raises(ConfigError, match="NEAT needs exactly 1"):
        NEAT().check_objectives(2)
    NEAT().check_objectives(1)


# -- arguments ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name,value", [
    ("population", 1), ("population", 2.5), ("generations", -1), ("compatibility_threshold", 0.0),
    ("compatibility_threshold", -1.0), ("compatibility_threshold", math.inf), ("compatibility_threshold", "3"),
    ("stagnation", 0), ("elitism_threshold", -1), ("survival_threshold", 0.0), ("survival_threshold", 1.5),
    ("crossover_rate", -0.1), ("crossover_rate", 1.1), ("interspecies_rate", 2.0), ("interspecies_rate", math.nan),
    ("stagnation", True)])
def test_bad_arguments_raise_config_error_naming_them(name, value):
    with pytest.raises(ConfigError, match=name):
        NEAT(**{name: value})


def test_defaults_are_the_papers_and_repr_shows_them():
    neat = NEAT()
    assert (neat.population, neat.compatibility_threshold, neat.stagnation, neat.elitism_threshold,
            neat.crossover_rate, neat.interspecies_rate) == (150, 3.0, 15, 5, 0.75, 0.001)
    enc = Graph()
    assert (enc.c1, enc.c2, enc.c3) == (1.0, 1.0, 0.4)
    assert repr(neat).startswith("NEAT(population=150, generations=100, compatibility_threshold=3.0")
    assert eval(repr(neat), {"NEAT": NEAT}).get_params() == neat.get_params()


def test_configure_refuses_a_toolbox_without_a_distance():
    from deap import base

    with pytest.raises(ConfigError, match="distance"):
        NEAT().configure(base.Toolbox(), 1)
    with pytest.raises(ConfigError, match="objectives"):
        NEAT().configure(xor_toolbox(), 2)


def test_a_failed_candidate_is_ranked_last_and_never_breaks_a_step():
    tb, neat, state = _fresh_state(population=20, threshold=1000.0)
    for ind in state.population[:5]:
        ind.fitness.values = (-math.inf,)  # failed
    state.population[5].fitness.values = (math.nan,)
    next_state = neat.step(state, tb, evaluate_xor)
    assert len(next_state.population) == 20
    assert all(ind.fitness.valid for ind in next_state.population)
    assert copy.deepcopy(next_state.extra)["species_counts"] == next_state.extra["species_counts"]
