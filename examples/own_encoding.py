"""Your own encoding, from scratch: a genotype that is a list of dense-layer widths.

``Widths`` is a complete evokit encoding in about a hundred lines: a genotype class (a list, so
DEAP's conventions hold), ``random`` and ``decode`` to a NetSpec, two DEAP-style operators
(``cxCutAndSplice``, ``mutWidths``), a distance and a JSON form. ``main`` registers it for config
files, searches digits with it and prints the best network; ``tests/test_own_encoding.py`` runs
evokit's conformance suite (``evokit.testing.EncodingConformance``) on it. About 10 seconds on
2 CPU cores. docs/guide/own_encoding.md walks through it.
"""
from __future__ import annotations

import random
from typing import Any, Sequence

from deap import base

import evokit as ek
from evokit.encodings import Encoding, add_head
from evokit.errors import GenotypeError, check_choices, check_float, check_int
from evokit.netspec import Dense, Graph, NetSpec, add_flatten


class WidthsGenome(list):
    """A Widths genotype: the widths of the hidden dense layers, input side first. A list, so
    DEAP's list operators work on it in place; its ``fitness`` (set by the toolbox) is an
    attribute, not an element: equality is the list's."""

    fitness: Any = None

    def __repr__(self) -> str:
        return f"WidthsGenome({list.__repr__(self)})"


def cxCutAndSplice(ind1: list, ind2: list, max_layers: int) -> tuple[list, list]:
    """One cut point in each parent, after at least one gene, and the tails swapped (so lengths
    change); children longer than ``max_layers`` are cut back. In place, DEAP's contract."""
    i, j = random.randint(1, len(ind1)), random.randint(1, len(ind2))
    ind1[i:], ind2[j:] = ind2[j:], ind1[i:]
    del ind1[max_layers:], ind2[max_layers:]
    return ind1, ind2


def mutWidths(individual: list, widths: Sequence[int], max_layers: int, indpb: float) -> tuple[list]:
    """Each width redrawn from ``widths`` with probability ``indpb``; then, with probability
    ``indpb`` each, a layer of a random width inserted (if there is room) and one removed (if
    more than one is left). In place, DEAP's contract."""
    for i in range(len(individual)):
        if random.random() < indpb:
            individual[i] = random.choice(widths)
    if random.random() < indpb and len(individual) < max_layers:
        individual.insert(random.randint(0, len(individual)), random.choice(widths))
    if random.random() < indpb and len(individual) > 1:
        del individual[random.randrange(len(individual))]
    return (individual,)


class Widths(Encoding):
    """A multilayer perceptron: one to ``max_layers`` dense layers (relu), each of a width drawn
    from ``widths``. Images are flattened first (a large one pooled down: ``add_flatten``)."""

    name = "widths"

    def __init__(self, max_layers: int = 3, widths: Sequence[int] = (8, 16, 32, 64), indpb: float = 0.3):
        self.max_layers = check_int("max_layers", max_layers, minimum=1)
        self.widths = check_choices("widths", widths)
        self.indpb = check_float("indpb", indpb, minimum=0.0, maximum=1.0)

    def random(self, rng: Any = None) -> WidthsGenome:
        rng = rng if rng is not None else random
        return WidthsGenome(rng.choice(self.widths) for _ in range(rng.randint(1, self.max_layers)))

    def decode(self, genotype: Sequence[int], input_shape: tuple[int, ...], n_outputs: int,
               task: str = "classification") -> NetSpec:
        self.check_genome(genotype)
        g = Graph(tuple(input_shape))
        x = g.input
        for width in genotype:
            x = g.add(Dense(width, activation="relu"), add_flatten(g, x))
        return add_head(g, x, n_outputs, task)

    def register(self, toolbox: base.Toolbox) -> None:
        toolbox.register("mate", cxCutAndSplice, max_layers=self.max_layers)
        toolbox.register("mutate", mutWidths, widths=self.widths, max_layers=self.max_layers, indpb=self.indpb)

    def distance(self, a: Sequence[int], b: Sequence[int]) -> float:
        """Layers whose widths differ, a layer only one genotype has counting as different."""
        return float(sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b)))

    def describe(self, genotype: Sequence[int]) -> str:
        return " > ".join(f"D{width}" for width in genotype)

    def to_json(self, genotype: Sequence[int]) -> list[int]:
        return [int(width) for width in genotype]

    def from_json(self, data: Any) -> WidthsGenome:
        self.check_genome(data)
        return WidthsGenome(int(width) for width in data)

    def check_genome(self, genotype: Any) -> None:
        """GenotypeError unless ``genotype`` is 1 to ``max_layers`` widths from ``widths``."""
        if not isinstance(genotype, list) or not 1 <= len(genotype) <= self.max_layers \
                or any(width not in self.widths for width in genotype):
            raise GenotypeError(f"genotype={genotype!r} is invalid: expected 1 to {self.max_layers} widths "
                                f"from {self.widths}")


CONFIG = """
seed = 0

[encoding]
type = "widths"
max_layers = 2

[[objectives]]
type = "accuracy"
epochs = 1

[algorithm]
type = "ga"
population = 4
generations = 1
"""
"""A config file naming the encoding by the name ``main`` registers."""


def main(population: int = 6, generations: int = 3, epochs: int = 2, seed: int = 0, data: Any = None,
         progress: bool = True) -> ek.Result:
    """Register Widths for config files, search digits with it and print the best network."""
    ek.config.register_encoding("widths", Widths)
    print("from the config:", ek.config.loads(CONFIG).encoding)
    data = data if data is not None else ek.datasets.load("digits", seed=seed)
    search = ek.Search(encoding=Widths(max_layers=3), objectives=ek.fitness.ValidationAccuracy(epochs=epochs),
                       data=data, algorithm=ek.algorithms.GA(population=population, generations=generations),
                       seed=seed, progress=progress)
    result = search.run()
    best = result.best
    print(f"best network: {best.description}  params: {best.params:,}  "
          f"validation accuracy {best.values['val_accuracy']:.3f}")
    return result


if __name__ == "__main__":
    main()
