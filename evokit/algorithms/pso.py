"""Particle swarm optimisation: DEAP's continuous PSO, and psoCNN's discrete PSO on layer lists.

The mode follows the genotype. Real-valued vectors (``evokit.encodings.Real``, or a plain DEAP
toolbox of float lists such as DEAP's sphere benchmark) get DEAP's particle update
(:func:`evokit.operators.pso.updateParticle`): a speed per particle, pulled towards the
particle's own best and the swarm's best position, limited to ``smin``/``smax`` in magnitude,
positions clipped to the bounds. DeepGA layer lists (``evokit.encodings.DeepGA``) get psoCNN's
discrete update (:func:`evokit.operators.pso.updateLayerList`): each block position keeps,
replaces, adds or removes a block as the global best (probability ``cg``) or the personal best
differs from the particle, and the result is repaired to the encoding's limits.

The particles are the population (their current positions). Speeds, personal bests (with their
fitness) and the global best live in ``SearchState.extra``, so a checkpointed run resumes
exactly. The swarm is synchronous: every generation all particles move, then the moved swarm is
evaluated in one batch, then the bests are updated (a move that is not worse replaces the
personal best, as in psoCNN).
"""
from __future__ import annotations

import math
import random
from numbers import Real as _Number
from typing import Any

from deap import base

from evokit.algorithms.base import Algorithm, Evaluate, SearchState, check_population
from evokit.encodings.deepga import DeepGA, DeepGAGenome
from evokit.encodings.real import Real, RealGenome
from evokit.errors import ConfigError, check_float, check_int
from evokit.operators.pso import updateLayerList, updateParticle

CLERC_INERTIA = 0.7298
CLERC_PHI = 1.49618
"""Clerc & Kennedy's (2002) constriction, written as inertia and acceleration limits; a swarm
with them converges without relying on the speed limit (DEAP's example: inertia 1.0, phi 2.0)."""
PARTICLE_ATTRIBUTES = ("speed", "best", "smin", "smax")


class PSO(Algorithm):
    """Particle swarm optimisation for real vectors (DEAP's particles) or DeepGA layer lists (psoCNN).

    Args:
        population: swarm size.
        generations: default number of generations (moves of the swarm).
        phi1, phi2: cognitive and social acceleration limits: each move adds
            ``U(0, phi1) * (own best - x) + U(0, phi2) * (swarm best - x)`` per gene.
        inertia: weight of the previous speed. The default 0.7298 with phi 1.49618 is Clerc's
            constriction (converges); ``inertia=1.0, phi1=phi2=2.0`` is DEAP's example, which
            relies on ``smax`` alone to keep the swarm together.
        smin, smax: the smallest and largest speed magnitude per gene (DEAP's ``smin``/``smax``);
            ``smax=None`` is half the width of each gene's bounds (0.5 for ``Real`` genes in
            [0, 1]); initial speeds are drawn from ``U(-smax, smax)``.
        bounds: ``(low, high)`` for every gene, or one ``(low, high)`` per gene; positions are
            clipped to them. None takes ``toolbox.encoding.bounds`` (``Real``: [0, 1] per gene in
            the architecture mode, unbounded in the weights mode, which then needs ``smax``); a
            plain DEAP toolbox needs them.
        cg: psoCNN's probability that a block position follows the global best rather than the
            particle's own best (discrete mode only).

    Single objective only: several objectives raise ConfigError.
    """

    def __init__(self, population: int = 10, generations: int = 10, phi1: float = CLERC_PHI,
                 phi2: float = CLERC_PHI, inertia: float = CLERC_INERTIA, smin: float = 0.0,
                 smax: float | None = None, bounds: Any = None, cg: float = 0.5):
        self.population = check_population("population", population)
        self.generations = check_int("generations", generations, minimum=0)
        self.phi1 = check_float("phi1", phi1, minimum=0.0)
        self.phi2 = check_float("phi2", phi2, minimum=0.0)
        self.inertia = check_float("inertia", inertia, minimum=0.0)
        self.smin = check_float("smin", smin, minimum=0.0)
        self.smax = None if smax is None else check_float("smax", smax, minimum=0.0, exclusive_minimum=True)
        if self.smax is not None and self.smin > self.smax:
            raise ConfigError(f"smin={smin!r} is invalid: expected smin <= smax={smax!r}")
        if bounds is not None:
            _bound_pairs(bounds, None)
        self.bounds = bounds
        self.cg = check_float("cg", cg, minimum=0.0, maximum=1.0)

    # -- configuration ------------------------------------------------------------------------

    def check_objectives(self, n_objectives: int) -> None:
        if n_objectives != 1:
            raise ConfigError(f"objectives has {n_objectives} objectives: PSO is single-objective (multi-objective "
                              "PSO is not supported); combine them into one (e.g. evokit.fitness.DeepGAScore) or use "
                              "NSGA2")

    def configure(self, toolbox: base.Toolbox, n_objectives: int) -> None:
        """Check that the search has one objective and an encoding PSO can move."""
        self.check_objectives(n_objectives)
        encoding = getattr(toolbox, "encoding", None)
        if encoding is not None:
            self._mode(toolbox, encoding.random(random.Random(0)))

    def check_encoding(self, encoding: Any) -> None:
        if not isinstance(encoding, (Real, DeepGA)):
            raise self._unsupported(f"encoding={encoding!r}")

    def _mode(self, toolbox: base.Toolbox, genotype: Any) -> str:
        """``"real"`` (continuous PSO) or ``"layers"`` (psoCNN), from a genotype; else ConfigError."""
        encoding = getattr(toolbox, "encoding", None)
        if isinstance(genotype, DeepGAGenome):
            return "layers"
        if isinstance(genotype, RealGenome) or (encoding is None and _is_real_vector(genotype)):
            return "real"
        raise self._unsupported(f"encoding={encoding!r}" if encoding is not None
                                else f"genotype {type(genotype).__name__}")

    def _unsupported(self, what: str) -> ConfigError:
        return ConfigError(f"algorithm={self!r} is invalid for {what}: PSO supports real-valued vectors (evokit."
                           f"encodings.{Real.__name__}, or a toolbox of float lists: continuous PSO) and layer lists "
                           f"(evokit.encodings.{DeepGA.__name__}: psoCNN's discrete PSO); use GA for other encodings")

    def _limits(self, toolbox: base.Toolbox, n: int) -> tuple[list[float], list[float], list[float]]:
        """Per-gene lower and upper bounds and largest speed, for ``n`` genes."""
        if self.bounds is not None:
            pairs = _bound_pairs(self.bounds, n)
        elif getattr(toolbox, "encoding", None) is not None and hasattr(toolbox.encoding, "bounds"):
            pairs = [(float(lo), float(hi)) for lo, hi in toolbox.encoding.bounds]
        else:
            raise ConfigError("bounds=None is invalid for a toolbox without an encoding: pass bounds=(low, high) "
                              "for every gene or one (low, high) per gene")
        if len(pairs) != n:
            raise ConfigError(f"bounds has {len(pairs)} (low, high) pairs: expected {n}, one per gene")
        if self.smax is not None:
            smax = [self.smax] * n
        elif all(math.isfinite(lo) and math.isfinite(hi) for lo, hi in pairs):
            smax = [(hi - lo) / 2 for lo, hi in pairs]
        else:
            raise ConfigError("smax=None is invalid for unbounded genes (e.g. Real(mode='weights')): pass the "
                              "largest speed, e.g. smax=0.1")
        return [lo for lo, _ in pairs], [hi for _, hi in pairs], smax

    # -- the swarm ------------------------------------------------------------------------------

    def initialize(self, toolbox: base.Toolbox, evaluate: Evaluate) -> SearchState:
        population = toolbox.population(n=self.population)
        mode = self._mode(toolbox, population[0])
        self.check_objectives(len(population[0].fitness.weights))
        extra: dict[str, Any] = {"mode": mode}
        if mode == "real":
            _, _, smax = self._limits(toolbox, len(population[0]))
            extra["speeds"] = [[random.uniform(-s, s) for s in smax] for _ in population]
        evaluate(population)
        extra["pbest"] = [toolbox.clone(ind) for ind in population]
        extra["gbest"] = toolbox.clone(_best(extra["pbest"]))
        return SearchState(population, 0, extra)

    def step(self, state: SearchState, toolbox: base.Toolbox, evaluate: Evaluate) -> SearchState:
        extra = state.extra
        pbest, gbest = extra["pbest"], extra["gbest"]
        moved, speeds = [], []
        if extra["mode"] == "real":
            low, up, smax = self._limits(toolbox, len(gbest))
        space = getattr(toolbox, "encoding", None)
        for i, particle in enumerate(state.population):
            new = toolbox.clone(particle)
            if extra["mode"] == "real":
                new.speed, new.best, new.smin, new.smax = list(extra["speeds"][i]), pbest[i], self.smin, smax
                updateParticle(new, gbest, self.phi1, self.phi2, self.inertia, low, up)
                speeds.append(new.speed)
                for name in PARTICLE_ATTRIBUTES:  # the particle's state lives in extra, not on the genotype
                    delattr(new, name)
            else:
                updateLayerList(new, pbest[i], gbest, self.cg, space if isinstance(space, DeepGA) else None)
            del new.fitness.values
            moved.append(new)
        evaluate(moved)
        pbest = [toolbox.clone(new) if _not_worse(new, old) else old for new, old in zip(moved, pbest)]
        best = _best(pbest)
        extra = {**extra, "pbest": pbest, "gbest": toolbox.clone(best) if _not_worse(best, gbest) else gbest}
        if extra["mode"] == "real":
            extra["speeds"] = speeds
        return SearchState(moved, state.generation + 1, extra)


def _is_real_vector(genotype: Any) -> bool:
    try:
        return len(genotype) > 0 and all(isinstance(g, _Number) and not isinstance(g, bool) for g in genotype)
    except TypeError:
        return False


def _bound_pairs(bounds: Any, n: int | None) -> list[tuple[float, float]]:
    """``bounds`` as one (low, high) per gene (``n`` of them; None: as many as given)."""
    def pair(b: Any) -> tuple[float, float] | None:
        if isinstance(b, (tuple, list)) and len(b) == 2 and all(
                isinstance(v, _Number) and not isinstance(v, bool) and v == v for v in b) and b[0] < b[1]:
            return float(b[0]), float(b[1])
        return None

    single = pair(bounds)
    if single is not None:
        return [single] * (n or 1)
    pairs = [pair(b) for b in bounds] if isinstance(bounds, (tuple, list)) and bounds else [None]
    if any(p is None for p in pairs):
        raise ConfigError(f"bounds={bounds!r} is invalid: expected (low, high) with low < high, or a list of one "
                          "(low, high) per gene")
    return pairs  # type: ignore[return-value]


def _key(individual: Any) -> tuple[float, ...]:
    """Weighted fitness values for comparison (larger is better); NaN counts as the worst."""
    return tuple(w if w == w else -math.inf for w in individual.fitness.wvalues)


def _not_worse(a: Any, b: Any) -> bool:
    return _key(a) >= _key(b)


def _best(individuals: list[Any]) -> Any:
    """The best individual; among equals the last (psoCNN takes a new best on ties)."""
    best = individuals[0]
    for ind in individuals[1:]:
        if _not_worse(ind, best):
            best = ind
    return best
