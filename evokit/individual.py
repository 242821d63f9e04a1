"""DEAP fitness classes made from objective weights, picklable in any process.

DEAP's ``creator.create`` defines classes inside ``deap.creator`` at run time; a process started
with ``spawn`` (a worker, a Dask node, a resumed run) does not have them, so individuals carrying
them fail to unpickle. evokit's genotype classes are ordinary module-level classes, and their
fitness is an instance of ``fitness_class(weights)``: a cached subclass of ``deap.base.Fitness``
that pickles as (weights, values) and is recreated on the other side.
"""
from __future__ import annotations

import functools
from typing import Any, Sequence

from deap import base

from evokit.errors import ConfigError


class Fitness(base.Fitness):
    """``deap.base.Fitness`` whose instances pickle without a module-level class per weights."""

    weights: tuple[float, ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        # Extra attributes (e.g. NSGA-II's crowding_dist, read by selTournamentDCD) travel too.
        extra = {k: v for k, v in self.__dict__.items() if k != "wvalues"}
        return (_restore, (self.weights, self.values), extra or None)


@functools.lru_cache(maxsize=None)
def fitness_class(weights: tuple[float, ...]) -> type[Fitness]:
    """The Fitness subclass for these DEAP weights (+1 maximise, -1 minimise, or any scale)."""
    weights = tuple(float(w) for w in weights)
    if not weights or any(w == 0 or w != w for w in weights):
        raise ConfigError(f"weights={weights!r} is invalid: expected one or more non-zero numbers")
    name = "Fitness" + "".join("Max" if w > 0 else "Min" for w in weights)
    return type(name, (Fitness,), {"weights": weights, "__module__": __name__})


def _restore(weights: tuple[float, ...], values: tuple[float, ...]) -> Fitness:
    fitness = fitness_class(tuple(weights))()
    if values:
        fitness.values = values
    return fitness


def attach_fitness(genotype: Any, weights: Sequence[float]) -> Any:
    """Give ``genotype`` an empty fitness with these weights and return it."""
    genotype.fitness = fitness_class(tuple(weights))()
    return genotype
