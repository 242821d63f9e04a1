"""Genetic programming over GP trees of network builders (NASGP-Net / CGP-CNN style).

``GP`` is the generational loop of :class:`~evokit.algorithms.GA` (tournament selection, DEAP's
``varAnd`` with the Tree encoding's ``cxOnePointTyped`` and ``mutTree``; ``eaSimple`` or elitist
(mu + lambda) replacement) with GP's bloat control on top:

* the encoding's height limit (``Tree(max_height=...)``, already around ``mate``/``mutate``);
* a size limit: ``gp.staticLimit(key=len, max_value=max_size)`` around ``mate`` and ``mutate``
  (a child with more nodes is replaced by a copy of a parent);
* optionally, double-tournament parsimony pressure (``tools.selDoubleTournament``, Luke &
  Panait 2002): of two fitness-tournament winners, the smaller tree wins with probability
  ``parsimony / 2``.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from deap import base, tools

from evokit.algorithms.ga import GA
from evokit.encodings.tree import HeightLimited, Tree
from evokit.errors import ConfigError, check_choice, check_float, check_int, invalid

REPLACEMENTS = ("plus", "simple")


class SizeLimited(HeightLimited):
    """A DEAP tree operator under ``gp.staticLimit(key=len, max_value=max_size)``: a child with
    more than ``max_size`` nodes is replaced by a copy of a parent, drawn at random (see the Tree
    encoding's ``HeightLimited``, whose contract it shares)."""

    key = staticmethod(len)
    limit_name = "max_size"

    @property
    def max_size(self) -> int:
        return self.limit


class GP(GA):
    """Genetic programming on ``evokit.encodings.Tree`` genotypes, with bloat control.

    Each generation: ``offspring`` parents by tournament (or double tournament, with
    ``parsimony``), varied by DEAP's ``varAnd`` (``cxOnePointTyped`` with probability ``cxpb`` per
    pair, the encoding's ``mutTree`` with probability ``mutpb``), then survival by
    ``replacement``. Bloat is held by the encoding's ``max_height``, by ``max_size`` and,
    optionally, by parsimony pressure in selection.

    Args:
        population: mu, the population size.
        generations: default number of generations (a search's budget may stop it earlier).
        offspring: lambda, offspring per generation with ``"plus"`` (default: ``population``).
        cxpb, mutpb: probability that a pair is mated / an individual mutated.
        tournament_size: size of the fitness tournaments.
        replacement: ``"plus"`` (default): the best mu of parents + offspring survive, so no
            trained network better than the rest is lost (elitist (mu + lambda), as DeepGA and
            most NAS GP use, since every evaluation is a training); ``"simple"``: the offspring
            replace the population (DEAP's ``eaSimple``, classic Koza-style GP).
        max_size: most nodes (primitives and terminals, hyper-parameter terminals included) a
            child of ``mate``/``mutate`` may have; None: no size limit. Default 64: about 15-20
            layers, far above the initial trees of ``Tree()`` (median 7 nodes, at most ~30), so it
            only stops runaway growth.
        parsimony: None (default: selection by fitness alone), or the ``parsimony_size`` of
            ``tools.selDoubleTournament``, in [1, 2]: the smaller of two candidates wins with
            probability ``parsimony / 2`` (1: no size pressure; 1.4 is Luke & Panait's
            recommendation).
        fitness_first: with ``parsimony``, whether the fitness tournaments come first (their
            winners then meet in size tournaments) or the size tournaments do.

    The defaults (``mutpb=0.8``, ``tournament_size=2``; GA has 0.5 and 3) keep more distinct
    networks: many GP variations give back a network already trained (a free cache hit), and
    unvaried copies of the best fill an elitist population quickly. On digits (the Tree of
    ``examples/gp_search.py``, population 12, 8 generations, 3 epochs, ``max_size=40``,
    ``parsimony=1.4``, seed 0, one run each) GA's settings trained 26 distinct networks, the
    whole population one network from generation 4 on; these trained 44.

    Works on the toolbox of a Search whose encoding is a ``Tree`` (ConfigError otherwise), or,
    through ``evokit.algorithms.evolve``, on a plain DEAP GP toolbox (one without ``encoding``)
    whose ``mate`` and ``mutate`` are GP operators.
    """

    def __init__(self, population: int = 12, generations: int = 10, offspring: int | None = None,
                 cxpb: float = 0.5, mutpb: float = 0.8, tournament_size: int = 2, replacement: str = "plus",
                 max_size: int | None = 64, parsimony: float | None = None, fitness_first: bool = True):
        check_choice("replacement", replacement, REPLACEMENTS)
        super().__init__(population=population, generations=generations, offspring=offspring, cxpb=cxpb,
                         mutpb=mutpb, tournament_size=tournament_size, replacement=replacement)
        self.max_size = max_size if max_size is None else check_int("max_size", max_size, minimum=1)
        self.parsimony = parsimony if parsimony is None else check_float("parsimony", parsimony, minimum=1.0,
                                                                         maximum=2.0)
        if not isinstance(fitness_first, bool):
            raise invalid("fitness_first", fitness_first, "expected True or False")
        self.fitness_first = fitness_first

    def check_encoding(self, encoding: Any) -> None:
        if not isinstance(encoding, Tree):
            raise ConfigError(f"encoding={encoding!r} is invalid: GP evolves GP trees, it needs "
                              "evokit.encodings.Tree (for other encodings use GA)")

    def configure(self, toolbox: base.Toolbox, n_objectives: int) -> None:
        """Register ``select`` (tournament or double tournament) and ``survive``, and put the
        size limit around the toolbox's ``mate`` and ``mutate``."""
        if getattr(toolbox, "encoding", None) is not None:
            self.check_encoding(toolbox.encoding)
        super().configure(toolbox, n_objectives)
        if self.parsimony is not None:
            toolbox.register("select", tools.selDoubleTournament, fitness_size=self.tournament_size,
                             parsimony_size=self.parsimony, fitness_first=self.fitness_first)
        for name in ("mate", "mutate"):
            operator = getattr(toolbox, name, None)
            if operator is None:
                raise ConfigError(f"toolbox is invalid: GP needs '{name}' registered on it (a GP operator such as "
                                  f"{'gp.cxOnePoint' if name == 'mate' else 'gp.mutUniform'})")
            operator = _unlimited(operator)
            if self.max_size is not None:
                operator = SizeLimited(operator, self.max_size)
            toolbox.register(name, operator)


def _unlimited(operator: Callable[..., Any]) -> Callable[..., Any]:
    """The operator without a size limit this class put on it (configuring twice must not stack
    limits, and must be able to lift one)."""
    inner = operator.func if isinstance(operator, functools.partial) and not operator.args \
        and not operator.keywords else operator
    return inner.func if isinstance(inner, SizeLimited) else operator
