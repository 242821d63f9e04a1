"""``toolbox.crossover`` (registered by the NEAT encoding) gives the children ``mate`` gives on two
clones, leaves the parents untouched, and falls back to clones when ``mate`` is another operator."""
import copy
import random

import evokit as ek
from evokit.deap_toolbox import genotype_toolbox
from evokit.operators.neat import mutNEAT
from evokit.operators.neat_genome import gene_state


def _genes(genome):
    return (sorted((k, gene_state(n)) for k, n in genome.nodes.items()),
            sorted((k, gene_state(c)) for k, c in genome.connections.items()))


def _parents(tb, seed):
    rng = random.Random(seed)
    a, b = tb.population(n=2)
    for genome, steps in ((a, 6), (b, 9)):
        for _ in range(steps):
            mutNEAT(genome, add_node_rate=0.5, add_connection_rate=0.5, rng=rng)
    a.fitness.values, b.fitness.values = (1.0,), (1.0,)  # equal: children take genes of both
    return a, b


def test_crossover_equals_mate_on_clones_and_keeps_the_parents():
    tb = genotype_toolbox(ek.encodings.NEAT(n_inputs=3, n_outputs=2), (1.0,))
    for seed in range(5):
        a, b = _parents(tb, seed)
        before = (_genes(a), _genes(b))
        random.seed(seed)
        expected = tb.mate(tb.clone(a), tb.clone(b))
        random.seed(seed)
        children = tb.crossover(a, b)
        assert [_genes(c) for c in children] == [_genes(c) for c in expected]
        assert (_genes(a), _genes(b)) == before
        for child, parent in zip(children, (a, b)):
            assert child is not parent and child.fitness is not parent.fitness
            assert child.connections is not parent.connections and child.fitness.values == (1.0,)
            child.fitness.values = (2.0,)
            next(iter(child.connections.values())).weight += 1.0  # changing a child leaves the parent alone
        assert (_genes(a), _genes(b)) == before and a.fitness.values == (1.0,)


def test_another_mate_gets_deep_clones():
    tb = genotype_toolbox(ek.encodings.NEAT(n_inputs=2, n_outputs=1), (1.0,))

    def mate_in_place(x, y):  # changes its arguments' genes in place, as DEAP operators may
        for genome in (x, y):
            for gene in genome.connections.values():
                gene.weight = 99.0
        return x, y

    tb.register("mate", mate_in_place)
    a, b = _parents(tb, 0)
    before = copy.deepcopy((_genes(a), _genes(b)))
    children = tb.crossover(a, b)
    assert all(g.weight == 99.0 for c in children for g in c.connections.values())
    assert (_genes(a), _genes(b)) == before
