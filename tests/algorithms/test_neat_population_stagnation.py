"""NEAT's optional population-stagnation rule (the paper's "only the top two species breed after
20 generations without improvement of the population's best"): off by default, and when on it
restricts breeding to the two best species for one generation and restarts its count."""
import random

import numpy as np
import pytest

import evokit as ek
from evokit.algorithms.neat import NEAT, score
from evokit.deap_toolbox import genotype_toolbox
from evokit.encodings.graph import forward
from evokit.errors import ConfigError

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])


def xor_toolbox(**encoding):
    return genotype_toolbox(ek.encodings.NEAT(n_inputs=2, n_outputs=1, output_activation="sigmoid", **encoding),
                            (1.0,))


def evaluate_xor(individuals):
    for ind in individuals:
        if not ind.fitness.valid:
            ind.fitness.values = (4.0 - float(np.sum((forward(ind, XOR_X)[:, 0] - XOR_Y) ** 2)),)


def _state(**kw):
    tb = xor_toolbox(weight_init_std=2.0)
    neat = NEAT(population=40, compatibility_threshold=0.5, **kw)
    neat.configure(tb, 1)
    random.seed(0)
    np.random.seed(0)
    return tb, neat, neat.initialize(tb, evaluate_xor)


def test_off_by_default_and_checked():
    assert NEAT().population_stagnation is None
    tb, neat, state = _state()
    assert "population_best" not in state.extra and "population_improved" not in state.extra
    with pytest.raises(ConfigError, match="population_stagnation"):
        NEAT(population_stagnation=0)


def test_only_the_two_best_species_breed_once_the_population_stagnates():
    tb, neat, state = _state(population_stagnation=5)
    assert state.extra["population_improved"] == 0
    assert state.extra["population_best"] == max(score(i) for i in state.population)
    species = state.extra["species"]
    assert len(species) >= 4
    fresh = neat.step(state, tb, evaluate_xor)  # not stale yet: more than two species breed
    first_new = state.extra["next_species_id"]
    assert len({s["id"] for s in fresh.extra["species"]} - set(range(first_new, first_new + 40))) > 2
    state.extra["population_improved"] = -5  # 5 generations without improvement at generation 0
    scores = [score(i) for i in state.population]
    top_two = sorted(species, key=lambda s: (-max(scores[i] for i in s["members"]), s["id"]))[:2]
    stale = neat.step(state, tb, evaluate_xor)
    old = {s["id"] for s in stale.extra["species"]} - set(range(first_new, first_new + 40))
    assert old <= {s["id"] for s in top_two}
    assert len(stale.population) == 40
    assert stale.extra["population_improved"] >= 0  # the count started again
