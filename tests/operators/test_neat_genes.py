"""NEAT's genes have ``__slots__`` (cheaper to make and copy), yet they read, write, copy and pickle
as they did: user operators set ``.weight`` / ``.enabled`` / ``.bias``, ``vars(gene)`` lists the
fields, and genomes pickled before the slots (saved runs) still load."""
import base64
import copy
import pickle
import random
import zlib

import pytest

import evokit as ek
from evokit.deap_toolbox import genotype_toolbox
from evokit.operators.neat import mutAddNode
from evokit.operators.neat_genome import TRACKER, ConnectionGene, NEATGenome, NodeGene, check_genome, gene_state

# A genome (2 inputs, a sigmoid output, one split connection, fitness 3.25) pickled with the
# default protocol by evokit before the genes had slots (their state was their __dict__).
OLD_PICKLE = (
    "eNpVUjFPGzEYvRzJJUpCaJdKQNRKDSBYsrI1rVB0w4WoVAxs0SVnYivBjs6+dEKilRpB+g2V+pWJoVL/RNQBVvov+gMYkNqp6oAvuRw5T5/t9773vWef"
    "pb99No3pgjIZih5TVTEgvquEL6ucuKrVJVycEIR8s/7m0J5tvuLOBzzFbchw4REZlo5BDcg19VZjFhAm89AxIN1j3EPIMD4IlG7mdhQbuooJjmD1mVby"
    "EdJt5kq0jWgFbSdFc7M+tKDrIl2mJbpCnyxCzAWISYtgiUCFGrQEWcm6J0IPkGCMrcnHP1eNhdbxiWZT5nmEh+y0cjlNUgModATnpBMOHtl2zBFq66W9"
    "+CIZwJL0O2ECS55U6JhgvSesSxXatcmrX7vl69+QJdxt94mHF5BnnIsol7H1r3H3/P80hqnIi2jelzqKiva6Ydf+GqtfbvZv6eY53RpnjtZ/XPY13Jgb"
    "SpAMWomNaur9zNSMah28hbVnqcdwkoIxL5KNJo+4a/Xaz++pMJ3sMVOcSInwNPpM+tXZkHmB20fItXwi9ccKw4n1P6H9Oj8vR/gOg3b1AYMl5cU="
)
HIDDEN = 1428562346680


def test_a_genome_pickled_before_the_slots_still_loads_and_pickles_again():
    genome = pickle.loads(zlib.decompress(base64.b64decode(OLD_PICKLE)))
    assert isinstance(genome, NEATGenome) and genome.fitness.values == (3.25,)
    assert genome.nodes[HIDDEN] == NodeGene(HIDDEN, "hidden", "tanh", 0.0)
    assert genome.connections[(0, 2)] == ConnectionGene(0, 2, 0.09470803828730423, False, TRACKER.innovation(0, 2))
    assert genome.connections[(HIDDEN, 2)].weight == 0.09470803828730423
    check_genome(genome)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(genome, protocol=protocol))
        assert again == genome and again.fitness.values == (3.25,)


def test_user_code_reads_and_writes_genes_through_the_genome():
    tb = genotype_toolbox(ek.encodings.NEAT(n_inputs=2, n_outputs=1), (1.0,))
    genome = tb.population(n=1)[0]
    mutAddNode(genome, rng=random.Random(0))
    key = next(iter(genome.connections))
    genome.connections[key].weight = 0.125
    genome.connections[key].enabled = False
    genome.nodes[2].bias = -0.5
    clone = tb.clone(genome)
    assert clone.connections[key].weight == 0.125 and clone.connections[key].enabled is False
    assert clone.nodes[2].bias == -0.5 and clone.connections[key] is not genome.connections[key]
    assert vars(clone.connections[key]) == {"src": key[0], "dst": key[1], "weight": 0.125, "enabled": False,
                                            "innovation": TRACKER.innovation(*key)}
    assert vars(clone.nodes[2]) == {"id": 2, "kind": "output", "activation": "linear", "bias": -0.5}
    with pytest.raises(AttributeError):
        genome.connections[key].wieght = 1.0  # a typo fails loudly instead of adding an attribute
    check_genome(clone)


class TaggedConnection(ConnectionGene):
    """A user's gene subclass with attributes of its own (no ``__slots__``: it has a ``__dict__``)."""


class SlottedConnection(ConnectionGene):
    """A user's gene subclass that declares slots of its own."""

    __slots__ = ("tag", "origin")


def test_a_subclassed_gene_keeps_its_type_and_attributes_through_its_own_copies_and_pickles():
    """Copies and pickles of the gene itself. A genome's clone (``toolbox.clone``, ``deepcopy``)
    rebuilds its genes as plain ``NodeGene`` / ``ConnectionGene``, subclass or not."""
    gene = TaggedConnection(0, 2, 0.5, True, TRACKER.innovation(0, 2))
    gene.tag = "mine"
    for other in (copy.copy(gene), copy.deepcopy(gene), pickle.loads(pickle.dumps(gene, protocol=0)),
                  pickle.loads(pickle.dumps(gene))):
        assert type(other) is TaggedConnection and other.tag == "mine" and other == gene
        assert gene_state(other) == {**gene_state(ConnectionGene(0, 2, 0.5, True, TRACKER.innovation(0, 2))),
                                     "tag": "mine"}


def test_a_subclass_with_slots_of_its_own_keeps_them_through_copies_and_pickles():
    gene = SlottedConnection(0, 2, 0.5, True, 3)
    gene.tag = ["mine"]  # "origin" stays unset, and unset after a copy
    copies = [copy.copy(gene), copy.deepcopy(gene)]
    copies += [pickle.loads(pickle.dumps(gene, protocol=p)) for p in range(pickle.HIGHEST_PROTOCOL + 1)]
    for other in copies:
        assert type(other) is SlottedConnection and other.tag == ["mine"] and other == gene
        assert not hasattr(other, "origin")
    assert copies[1].tag is not gene.tag  # a deep copy copies the slot's value
    assert vars(gene) == gene_state(gene) == {"src": 0, "dst": 2, "weight": 0.5, "enabled": True,
                                              "innovation": 3, "tag": ["mine"]}


def test_to_json_writes_every_field_of_a_subclassed_gene_and_its_own_attributes():
    encoding = ek.encodings.NEAT(n_inputs=2, n_outputs=1)
    genome = genotype_toolbox(encoding, (1.0,)).population(n=1)[0]
    key = min(genome.connections)
    plain = encoding.to_json(genome)
    tagged = TaggedConnection(*key, genome.connections[key].weight, True, TRACKER.innovation(*key))
    tagged.tag = "mine"
    genome.connections[key] = tagged
    slotted = SlottedConnection(*key, 0.25, False, TRACKER.innovation(*key))
    slotted.origin = "user"
    data = encoding.to_json(genome)
    assert data["nodes"] == plain["nodes"]
    # what evokit wrote before genes had slots (vars(gene): the fields, then the extra attribute)
    assert data["connections"][0] == {**plain["connections"][0], "tag": "mine"}
    assert list(data["connections"][0]) == ["src", "dst", "weight", "enabled", "innovation", "tag"]
    assert data["connections"][1:] == plain["connections"][1:]
    genome.connections[key] = slotted
    assert encoding.to_json(genome)["connections"][0] == {"src": key[0], "dst": key[1], "weight": 0.25,
                                                          "enabled": False, "innovation": TRACKER.innovation(*key),
                                                          "origin": "user"}


# [ConnectionGene(0, 2, 0.25, True, 7), NodeGene(2, "output", "sigmoid", 0.5)], each with a ``note``
# a user's operator set, pickled (default protocol) by evokit before the genes had slots.
OLD_GENES_WITH_NOTES = (
    "eNpVjj1uwkAQRvmxcESkVJQpXELjK6RIQWEpN4iiNTuxV+AZtDtLqkiho5guw704AmfICVhkUjD1N++9n+z4N+jvXefyDDtaOy5pC94w+VAiGP5oAKkD"
    "ladXQoQVO8IlIOivLvb6nf7Gwa+0GsjYBtZqJJMvcE3Lunw59XDJAU29AasHmTpE2pkrRatcMiRO7Nmnp64wRQzgi3+/xrodysMbWbgXjpy9erK1Q6syocjb"
    "yCpTk+JuaMmDazpKQ8lqZ0KKOfcx7WM1jDWUF7zFXBI="
)


def test_an_old_pickled_gene_with_an_extra_attribute_loads_without_it_and_says_so():
    with pytest.warns(UserWarning, match=r"\['note'\].*dropped") as record:
        gene, node = pickle.loads(zlib.decompress(base64.b64decode(OLD_GENES_WITH_NOTES)))
    assert sorted(str(w.message).rsplit(" ", 1)[1] for w in record) == ["ConnectionGene.", "NodeGene."]
    assert gene == ConnectionGene(0, 2, 0.25, True, 7) and node == NodeGene(2, "output", "sigmoid", 0.5)
    assert not hasattr(gene, "note") and not hasattr(node, "note")
    again = ConnectionGene.__new__(ConnectionGene)
    with pytest.warns(UserWarning, match="note"):
        again.__setstate__({"src": 0, "dst": 2, "weight": 0.25, "enabled": True, "innovation": 7, "note": 1})
    assert again == gene
