"""Weight mutation of many genomes in one NumPy draw (``mutWeightsBatch``, ``mutNEATBatch``) and the
toolbox's ``mutate_batch``: the distribution of ``mutWeights`` / ``mutNEAT``, every gene written
back as a plain float, and a user's own ``mutate`` still called genome by genome."""
import random

import numpy as np

import evokit as ek
from evokit.algorithms.neat import NEAT
from evokit.deap_toolbox import genotype_toolbox
from evokit.operators.neat import mutNEATBatch, mutWeightsBatch
from evokit.operators.neat_genome import check_genome


def _population(n, seed=0, n_inputs=3, n_outputs=2):
    tb = genotype_toolbox(ek.encodings.NEAT(n_inputs=n_inputs, n_outputs=n_outputs), (1.0,))
    random.seed(seed)
    return tb, tb.population(n=n)


def _weights(genomes):
    return np.array([[c.weight for c in g.connections.values()] + [n.bias for n in g.nodes.values()]
                     for g in genomes])


def test_perturbations_have_the_asked_spread_and_inputs_keep_their_bias():
    _, genomes = _population(400)
    before = _weights(genomes)
    mutWeightsBatch(genomes, perturb_std=0.3, replace_rate=0.0, rng=random.Random(1))
    change = _weights(genomes) - before
    inputs = [i for i, n in enumerate(genomes[0].nodes.values()) if n.kind == "input"]
    assert np.all(change[:, len(genomes[0].connections) + np.array(inputs)] == 0.0)  # input biases untouched
    moved = np.delete(change, len(genomes[0].connections) + np.array(inputs), axis=1).ravel()
    assert np.all(moved != 0.0) and abs(moved.mean()) < 0.03 and abs(moved.std() - 0.3) < 0.02
    for genome in genomes:
        check_genome(genome)
        assert all(type(c.weight) is float for c in genome.connections.values())


def test_replaced_weights_are_drawn_anew_at_the_replace_rate():
    _, genomes = _population(400)
    for genome in genomes:
        for gene in genome.connections.values():
            gene.weight = 100.0
    mutWeightsBatch(genomes, perturb_std=0.5, replace_rate=0.25, init_std=1.0, rng=random.Random(2))
    weights = np.array([c.weight for g in genomes for c in g.connections.values()])
    replaced = weights[np.abs(weights) < 50.0]
    assert abs(len(replaced) / len(weights) - 0.25) < 0.03
    assert abs(replaced.std() - 1.0) < 0.1


def test_the_same_rng_state_gives_the_same_weights():
    _, first = _population(20)
    _, second = _population(20)
    mutWeightsBatch(first, rng=random.Random(5))
    mutWeightsBatch(second, rng=random.Random(5))
    assert first == second


class RandomOnly:
    """An ``rng`` with what the structural mutations use (``random``, ``choice``, ``gauss``) but
    no ``getrandbits``, as some users' generators are."""

    def __init__(self, seed):
        self._rng = random.Random(seed)

    def random(self):
        return self._rng.random()

    def choice(self, seq):
        return self._rng.choice(seq)

    def gauss(self, mu, sigma):
        return self._rng.gauss(mu, sigma)


def test_an_rng_without_getrandbits_seeds_the_draw_from_random():
    _, first = _population(20)
    _, second = _population(20)
    before = [c.weight for g in first for c in g.connections.values()]
    mutWeightsBatch(first, rng=RandomOnly(7))
    mutNEATBatch(second, add_node_rate=0.5, weight_mutation_rate=1.0, rng=RandomOnly(7))
    assert all(a != b for a, b in zip(before, (c.weight for g in first for c in g.connections.values())))
    _, again = _population(20)
    mutWeightsBatch(again, rng=RandomOnly(7))
    assert again == first  # the same rng state, the same weights
    for genome in second:
        check_genome(genome)


def test_structural_rates_apply_to_every_genome():
    _, genomes = _population(30)
    mutNEATBatch(genomes, add_node_rate=1.0, add_connection_rate=0.0, weight_mutation_rate=0.0,
                 rng=random.Random(3))
    assert all(sum(n.kind == "hidden" for n in g.nodes.values()) == 1 for g in genomes)


def test_toolbox_mutate_batch_follows_the_registered_mutate():
    tb, genomes = _population(10)
    before = _weights(genomes)
    tb.mutate_batch(genomes)  # the encoding's mutNEAT: weights move (weight_mutation_rate 0.8)
    assert np.any(_weights(genomes) != before)
    seen = []
    tb.register("mutate", lambda ind: seen.append(ind) or (ind,))
    result = tb.mutate_batch(genomes)
    assert len(result) == len(seen) == len(genomes)
    assert all(r is g and s is g for r, s, g in zip(result, seen, genomes))  # each genome once, in order
    other = tb.population(n=len(genomes))
    tb.register("mutate", lambda ind: (other[genomes.index(ind)],))  # a mutate that returns new genomes
    assert all(r is o for r, o in zip(tb.mutate_batch(genomes), other))


def _sum_of_weights(individuals):
    """A cheap fitness for the NEAT steps below: the sum of a genome's weights."""
    for ind in individuals:
        if not ind.fitness.valid:
            ind.fitness.values = (float(sum(c.weight for c in ind.connections.values())),)


def test_neat_mutates_each_new_child_once_with_a_users_own_operator():
    tb, _ = _population(1, n_inputs=2, n_outputs=1)
    mutated = []
    tb.register("mutate", lambda ind: mutated.append(id(ind)) or (ind,))
    neat = NEAT(population=30)
    neat.configure(tb, 1)

    random.seed(0)
    state = neat.initialize(tb, _sum_of_weights)
    species = len(state.extra["species"])
    state = neat.step(state, tb, _sum_of_weights)
    offspring = {id(ind) for ind in state.population}
    assert len(mutated) == len(set(mutated)) and set(mutated) <= offspring  # each new child once
    assert len(offspring) - len(mutated) <= species  # the rest are the champions, copied unchanged


def test_neat_keeps_what_a_users_mutate_returns():
    tb, _ = _population(1, n_inputs=2, n_outputs=1)
    made = []

    def mutate_into_new(ind):  # not in place: returns a new individual, as some user operators do
        new = tb.clone(ind)
        made.append(id(new))
        return (new,)

    tb.register("mutate", mutate_into_new)
    neat = NEAT(population=30)
    neat.configure(tb, 1)

    random.seed(1)
    state = neat.step(neat.initialize(tb, _sum_of_weights), tb, _sum_of_weights)
    returned = [ind for ind in state.population if id(ind) in made]
    assert len(returned) == len(made) and all(ind.fitness.valid for ind in state.population)
