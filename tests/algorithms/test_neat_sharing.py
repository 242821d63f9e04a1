"""NEAT shares genomes between generations (champions) and with its species (representatives)
instead of cloning them: safe only because nothing changes a genome once it is evaluated. These
tests run real searches and check that every genome a generation held, and every representative,
is still gene for gene what it was, on the NEAT encoding's own path (batched mutation, crossover
without copies) and on DEAP's generic one (``mate`` on clones, ``mutate`` one by one)."""
import copy

import numpy as np
import pytest

import evokit as ek
from evokit.algorithms import evolve
from evokit.algorithms.neat import NEAT
from evokit.encodings.graph import forward
from evokit.operators.neat_genome import gene_state
from evokit.deap_toolbox import genotype_toolbox

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])


def xor_fitness(genome):
    return (4.0 - float(np.sum((forward(genome, XOR_X)[:, 0] - XOR_Y) ** 2)),)


def snapshot(genome):
    """What must never change: every gene's fields, and the fitness."""
    return (sorted((k, gene_state(n)) for k, n in genome.nodes.items()),
            sorted((k, gene_state(c)) for k, c in genome.connections.items()), genome.fitness.values)


def watched_run(toolbox, seed):
    """A 12-generation search (frequent structural mutations, species of all sizes); returns the
    genomes of every generation and every representative with the snapshot taken when they were
    first seen, and how many of them were seen in more than one place."""
    seen: dict[int, tuple] = {}
    shared = {"champions": 0, "representatives": 0}
    previous: set[int] = set()

    def watch(state):
        ids = {id(ind) for ind in state.population}
        shared["champions"] += len(ids & previous)
        previous.clear()
        previous.update(ids)
        for ind in state.population:
            seen.setdefault(id(ind), (ind, copy.deepcopy(snapshot(ind))))
        for record in state.extra["species"]:
            rep = record["representative"]
            shared["representatives"] += id(rep) in ids
            seen.setdefault(id(rep), (rep, copy.deepcopy(snapshot(rep))))

    evolve(NEAT(population=40, compatibility_threshold=1.0, elitism_threshold=2), toolbox, xor_fitness,
           budget=ek.Budget(generations=12), seed=seed, on_generation=watch)
    return seen, shared


def toolbox(generic: bool):
    tb = genotype_toolbox(ek.encodings.NEAT(n_inputs=2, n_outputs=1, output_activation="sigmoid",
                                            add_node_rate=0.3, add_connection_rate=0.3), (1.0,))
    if generic:  # DEAP's way: mate on clones, mutate one genome at a time
        tb.unregister("crossover")
        tb.unregister("mutate_batch")
    return tb


@pytest.mark.parametrize("generic", [False, True], ids=["encoding's operators", "generic toolbox"])
def test_shared_champions_and_representatives_never_change(generic):
    seen, shared = watched_run(toolbox(generic), seed=4)
    assert shared["champions"] > 0 and shared["representatives"] > 0  # the sharing this guards happened
    changed = [ind for ind, before in seen.values() if snapshot(ind) != before]
    assert not changed


def test_a_champion_is_kept_once_per_generation():
    tb = toolbox(generic=False)
    populations = []
    evolve(NEAT(population=40, compatibility_threshold=1.0, elitism_threshold=2), tb, xor_fitness,
           budget=ek.Budget(generations=8), seed=2, on_generation=lambda s: populations.append(list(s.population)))
    for population in populations:
        assert len({id(ind) for ind in population}) == len(population)  # no genome twice in one generation
