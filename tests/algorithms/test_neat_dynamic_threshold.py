"""NEAT's optional dynamic compatibility threshold (the paper's option, as its C++ code does it):
off by default; when on, the threshold steps towards ``target_species`` each generation, never
below its floor, and it is part of the checkpointed state."""
import itertools
import pickle
import random

import numpy as np
import pytest

import evokit as ek
from evokit.algorithms.neat import NEAT
from evokit.deap_toolbox import genotype_toolbox
from evokit.encodings.graph import forward
from evokit.errors import ConfigError

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])


def evaluate_xor(individuals):
    for ind in individuals:
        if not ind.fitness.valid:
            ind.fitness.values = (4.0 - float(np.sum((forward(ind, XOR_X)[:, 0] - XOR_Y) ** 2)),)


def _run(generations, seed=0, **kw):
    tb = genotype_toolbox(ek.encodings.NEAT(n_inputs=2, n_outputs=1, output_activation="sigmoid"), (1.0,))
    neat = NEAT(population=60, **kw)
    neat.configure(tb, 1)
    random.seed(seed)
    np.random.seed(seed)
    state = neat.initialize(tb, evaluate_xor)
    for _ in range(generations):
        state = neat.step(state, tb, evaluate_xor)
    return tb, neat, state


def test_off_by_default_keeps_the_threshold_and_no_state():
    neat = NEAT()
    assert neat.target_species is None and (neat.threshold_step, neat.min_threshold) == (0.3, 0.3)
    _, _, state = _run(2)
    assert "compatibility_threshold" not in state.extra and "thresholds" not in state.extra


@pytest.mark.parametrize("name, value", [("target_species", 0), ("threshold_step", 0.0),
                                         ("threshold_step", float("inf")), ("min_threshold", -1.0)])
def test_bad_settings_raise_config_error_naming_them(name, value):
    with pytest.raises(ConfigError, match=name):
        NEAT(**{name: value})


def test_next_threshold_steps_towards_the_target_and_keeps_the_floor():
    neat = NEAT(target_species=5, threshold_step=0.5, min_threshold=1.0)
    assert neat.next_threshold(3.0, 2) == 2.5  # too few species: lower the threshold
    assert neat.next_threshold(3.0, 9) == 3.5  # too many: raise it
    assert neat.next_threshold(3.0, 5) == 3.0
    assert neat.next_threshold(1.2, 1) == 1.0  # never below the floor


def test_too_few_species_lower_the_threshold_until_the_count_nears_the_target():
    # at the paper's 3.0 XOR genomes form one or two species; a target of 8 pulls the threshold down
    _, _, fixed = _run(8, compatibility_threshold=3.0)
    _, _, state = _run(8, compatibility_threshold=3.0, target_species=8)
    thresholds, counts = state.extra["thresholds"], state.extra["species_counts"]
    assert len(thresholds) == len(counts) == 9 and thresholds[0] == 3.0
    assert all(b < a for a, b in itertools.pairwise(thresholds[:4]))  # steps down while too few
    assert max(fixed.extra["species_counts"][-3:]) < 4
    assert max(counts[-3:]) >= 4 and max(counts[-3:]) > max(fixed.extra["species_counts"][-3:])


def test_too_many_species_raise_the_threshold():
    _, _, state = _run(3, compatibility_threshold=0.3, target_species=2, threshold_step=0.5)
    assert state.extra["species_counts"][0] > 2
    assert state.extra["thresholds"] == [0.3, 0.8, 1.3, 1.8]


def test_the_threshold_is_checkpointed_and_a_resumed_run_continues_identically():
    tb, neat, state = _run(3, compatibility_threshold=3.0, target_species=8)
    saved = pickle.dumps((state, random.getstate(), np.random.get_state()))
    a = neat.step(neat.step(state, tb, evaluate_xor), tb, evaluate_xor)
    restored, py_state, np_state = pickle.loads(saved)
    random.setstate(py_state)
    np.random.set_state(np_state)
    again = NEAT(population=60, compatibility_threshold=3.0, target_species=8)  # a new process's algorithm
    b = again.step(again.step(restored, tb, evaluate_xor), tb, evaluate_xor)
    assert restored.extra["compatibility_threshold"] < 3.0  # the moved threshold came back, not the start
    assert a.extra["thresholds"] == b.extra["thresholds"]
    assert a.extra["species_counts"] == b.extra["species_counts"]
    assert [i.fitness.values for i in a.population] == [i.fitness.values for i in b.population]
