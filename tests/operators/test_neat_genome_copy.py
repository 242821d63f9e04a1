"""Copies of NEAT genomes (``copy.deepcopy``, the toolbox's ``clone`` and crossover's children)
set their attributes one by one instead of assigning a new ``__dict__``: they keep every
attribute, extra ones included, and share nothing mutable with the original."""
import copy
import pickle

import evokit as ek
from evokit.deap_toolbox import genotype_toolbox


def _toolbox():
    return genotype_toolbox(ek.encodings.NEAT(n_inputs=2, n_outputs=1), (1.0,))


def test_a_copy_keeps_extra_attributes_and_shares_no_genes():
    genome = _toolbox().population(n=1)[0]
    genome.fitness.values = (0.5,)
    genome.age = [3]  # an attribute a user's operator added
    clone = copy.deepcopy(genome)
    assert clone == genome and clone.fitness.values == (0.5,) and clone.age == [3]
    assert clone.age is not genome.age and clone.fitness is not genome.fitness
    assert all(clone.connections[k] is not g for k, g in genome.connections.items())
    assert vars(clone).keys() == vars(genome).keys()


def test_copies_and_children_pickle_and_compare_as_genomes():
    tb = _toolbox()
    a, b = tb.population(n=2)
    a.fitness.values, b.fitness.values = (1.0,), (2.0,)
    for genome in (tb.clone(a), *tb.crossover(a, b)):
        back = pickle.loads(pickle.dumps(genome))
        assert back == genome and vars(back).keys() == {"nodes", "connections", "fitness"}
        assert back.fitness.values == genome.fitness.values
