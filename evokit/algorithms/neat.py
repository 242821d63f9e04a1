"""NEAT's search (Stanley & Miikkulainen 2002): speciation, explicit fitness sharing, stagnation.

The genome and its compatibility distance (``evokit.operators.neat_genome``), its operators
(``evokit.operators.neat``) and its encoding (``evokit.encodings.graph``) live elsewhere; this
module is the generational loop that protects innovation by speciation:

1. **Speciation.** Each genome joins the first species (in order of species id) whose
   representative is within ``compatibility_threshold`` of it (``toolbox.distance``, NEAT's
   ``c1 E / N + c2 D / N + c3 W`` for the graph encoding); a genome compatible with none founds a
   new species with itself as representative. As in the paper, each species' representative for
   the next generation is a random member of it in this generation.
2. **Stagnation.** A species whose best fitness has not improved for ``stagnation`` generations
   gets no offspring, except the species holding the population's best genome.
3. **Explicit fitness sharing.** A genome's adjusted fitness is its fitness divided by the size
   of its species; each species gets offspring in proportion to the sum of its members' adjusted
   fitness (its mean fitness), rounded by largest remainder so the population size stays fixed;
   the species holding the population's best genome gets at least one.
4. **Reproduction** within each species: the champion of a species with more than
   ``elitism_threshold`` members is kept unchanged; only the top ``survival_threshold``
   fraction breeds; on average ``crossover_rate`` of the offspring are children of a crossover
   of two parents (then mutated; each crossover gives both of its children), the others mutated
   copies of one parent; the second parent of a crossover comes from another species with
   probability ``interspecies_rate``.

Fitness that is negative, non-finite or failed. Sharing needs non-negative fitness. The
algorithm reads the weighted fitness (``fitness.wvalues[0]``: larger is better, so minimised
objectives work too). A non-finite value (a failed candidate: ``-inf`` for a maximised objective,
``+inf`` for a minimised one; NaN) counts as a failure: it ranks below every finite value and
its adjusted fitness is 0. When every finite value is >= 0 they are used as they are (the paper's
sharing, e.g. XOR's 4 - error or an accuracy); otherwise all are shifted by the population's
smallest finite value, so the worst genome counts 0 and the others by how much better they are.
If no species has a positive share, the offspring are split equally among them.

Two of the paper's rules are optional and off by default: only the two best species breed once
the population's best has stagnated (``population_stagnation``), and a dynamic compatibility
threshold that steps towards a target number of species (``target_species``).

All species bookkeeping, the dynamic threshold included, lives in ``SearchState.extra`` (see
:class:`NEAT`), so a search checkpointed between generations resumes exactly as if it had not
stopped. Speciation reads the toolbox's ``distances`` (one array of distances, registered by the
NEAT encoding) where there is one, crossover the toolbox's ``crossover`` (children without
copies of genes they replace), else ``distance`` and ``mate`` on clones, and a generation's new
children are mutated together, by the toolbox's ``mutate_batch`` where there is one (one NumPy
draw for all their weights), else by ``mutate`` one by one.
"""
from __future__ import annotations

import math
import random
from typing import Any, Callable, Sequence

import numpy as np
from deap import base

from evokit.algorithms.base import Algorithm, Evaluate, SearchState, check_population
from evokit.errors import ConfigError, check_float, check_int


class NEAT(Algorithm):
    """NEAT's speciated generational search over any encoding with a distance (NEAT genomes above all).

    Args:
        population: population size, constant over the run (the paper: 150).
        generations: default number of generations (a search's budget may stop it earlier).
        compatibility_threshold: delta_t, the distance below which a genome belongs to a species
            (the paper: 3.0 with c1 = c2 = 1.0, c3 = 0.4, which live on the encoding).
        stagnation: a species whose best fitness has not improved for this many generations gets
            no more offspring, unless it holds the population's best genome (the paper: 15).
        elitism_threshold: the champion of each species with more than this many members is
            kept in the next generation unchanged (the paper: 5; the same genome object, shared
            by both generations and with the species' representatives: NEAT never changes a
            genome in place once it is evaluated, and neither may what else sees the population:
            ``evolve``'s ``on_generation`` and :class:`evokit.Search`'s callbacks
            (``on_candidate_evaluated``, ``on_generation_end``) read genomes, never edit them).
        survival_threshold: the fraction of each species (best first, at least one genome)
            allowed to breed (0.2, neat-python's default; the paper does not give it).
        crossover_rate: the fraction of offspring made by crossover, on average (then mutated;
            the rest by mutation only; the paper: 25% by mutation only).
        interspecies_rate: the chance that a crossover takes its second parent from another
            species (the paper: 0.001).
        population_stagnation: if set, once the population's best fitness has not improved for
            this many generations only the two species with the best genomes breed, for one
            generation, and the count starts again (the paper's rule, with 20; as NEAT's C++
            code does it). None (the default) never restricts breeding.
        target_species: if set, the compatibility threshold is dynamic (the paper's option, as
            its C++ code does it): after each speciation it drops by ``threshold_step`` when
            there are fewer species than this, rises by it when there are more, and never goes
            below ``min_threshold``; ``compatibility_threshold`` is where it starts. None (the
            default) keeps the threshold fixed.
        threshold_step: how much the dynamic threshold moves per generation (NEAT's C++: 0.3).
        min_threshold: the floor of the dynamic threshold (NEAT's C++: 0.3).

    State kept in ``SearchState.extra`` (all of it is checkpointed):

    * ``"species"``: one dict per living species, by id: ``id``, ``members`` (indices into
      ``state.population``), ``representative`` (the genome new genomes are compared with in the
      next speciation: a member of the population, not a copy), ``best`` (its best weighted
      fitness so far), ``last_improved`` (the generation that best was reached) and ``created``
      (the generation it was founded).
    * ``"next_species_id"``: the id the next new species gets.
    * ``"species_counts"``: the number of species after each generation (index = generation).
    * with ``population_stagnation`` only: ``"population_best"`` (the best weighted fitness so
      far) and ``"population_improved"`` (the generation it was reached, or the rule last fired).
    * with ``target_species`` only: ``"compatibility_threshold"`` (the threshold the next
      speciation uses) and ``"thresholds"`` (the threshold used by each generation's speciation).
    """

    ADDED = {"population_stagnation": None, "target_species": None, "threshold_step": 0.3, "min_threshold": 0.3}
    population_stagnation: int | None = None
    target_species: int | None = None
    threshold_step: float = 0.3
    min_threshold: float = 0.3

    def __init__(self, population: int = 150, generations: int = 100, compatibility_threshold: float = 3.0,
                 stagnation: int = 15, elitism_threshold: int = 5, survival_threshold: float = 0.2,
                 crossover_rate: float = 0.75, interspecies_rate: float = 0.001,
                 population_stagnation: int | None = None, target_species: int | None = None,
                 threshold_step: float = 0.3, min_threshold: float = 0.3):
        self.population = check_population("population", population)
        self.generations = check_int("generations", generations, minimum=0)
        self.compatibility_threshold = check_float("compatibility_threshold", compatibility_threshold, minimum=0.0,
                                                   exclusive_minimum=True)
        if math.isinf(self.compatibility_threshold):
            raise ConfigError(f"compatibility_threshold={compatibility_threshold!r} is invalid: expected a finite "
                              "number > 0")
        self.stagnation = check_int("stagnation", stagnation, minimum=1)
        self.elitism_threshold = check_int("elitism_threshold", elitism_threshold, minimum=0)
        self.survival_threshold = check_float("survival_threshold", survival_threshold, minimum=0.0, maximum=1.0,
                                              exclusive_minimum=True)
        self.crossover_rate = check_float("crossover_rate", crossover_rate, minimum=0.0, maximum=1.0)
        self.interspecies_rate = check_float("interspecies_rate", interspecies_rate, minimum=0.0, maximum=1.0)
        self.population_stagnation = (None if population_stagnation is None
                                       else check_int("population_stagnation", population_stagnation, minimum=1))
        self.target_species = None if target_species is None else check_int("target_species", target_species,
                                                                              minimum=1)
        self.threshold_step = _finite_positive("threshold_step", threshold_step)
        self.min_threshold = _finite_positive("min_threshold", min_threshold)

    # -- the Algorithm contract ------------------------------------------------------------------

    def check_objectives(self, n_objectives: int) -> None:
        if n_objectives != 1:
            raise ConfigError(f"objectives has {n_objectives} objectives: NEAT needs exactly 1 (fitness sharing "
                              "divides one fitness; combine several into one, or use NSGA2)")

    def configure(self, toolbox: base.Toolbox, n_objectives: int) -> None:
        """Check the objectives and that ``toolbox`` has what NEAT uses: ``population``, ``mate``,
        ``mutate``, ``clone`` and a ``distance`` (the encoding's compatibility distance)."""
        self.check_objectives(n_objectives)
        missing = [name for name in ("population", "mate", "mutate", "clone", "distance")
                   if not hasattr(toolbox, name)]
        if missing:
            raise ConfigError(f"toolbox is invalid for NEAT: it has no {', '.join(missing)} (a toolbox from "
                              "evokit.deap_toolbox.genotype_toolbox has them all)")

    def initialize(self, toolbox: base.Toolbox, evaluate: Evaluate) -> SearchState:
        population = toolbox.population(n=self.population)
        evaluate(population)
        extra: dict[str, Any] = {"species": [], "next_species_id": 0, "species_counts": []}
        self._speciate(population, extra, 0, toolbox)
        return SearchState(population, 0, extra)

    def step(self, state: SearchState, toolbox: base.Toolbox, evaluate: Evaluate) -> SearchState:
        """One generation: drop stagnant species, share fitness, allocate and breed the offspring
        (champions first), evaluate them, and speciate them against last generation's
        representatives."""
        population, extra, generation = state.population, state.extra, state.generation
        species = extra["species"]
        scores = [score(ind) for ind in population]
        best_species = _best_species(species, scores)
        breeding = [s for s in species if s is best_species
                    or generation - s["last_improved"] < self.stagnation]
        restarted = self._population_stale(extra, generation)
        if restarted:
            breeding = sorted(breeding, key=lambda s: (-max(scores[i] for i in s["members"]), s["id"]))[:2]
            breeding.sort(key=lambda s: s["id"])
        shares = adjusted_fitness([[scores[i] for i in s["members"]] for s in breeding],
                                  shift=min((v for v in scores if math.isfinite(v)), default=0.0))
        counts = allocate_offspring(shares, self.population)
        if counts[breeding.index(best_species)] == 0:  # the best species always breeds
            counts[max(range(len(counts)), key=lambda k: (counts[k], -k))] -= 1
            counts[breeding.index(best_species)] = 1
        ranked = [sorted(s["members"], key=lambda i: (-scores[i], i)) for s in breeding]
        offspring = self._offspring(counts, ranked, population, toolbox)
        evaluate(offspring)
        survivors = [s for s, n in zip(breeding, counts) if n > 0]
        next_extra = {**extra, "species": survivors, "species_counts": list(extra["species_counts"])}
        if restarted:
            next_extra["population_improved"] = generation
        self._speciate(offspring, next_extra, generation + 1, toolbox)
        return SearchState(offspring, generation + 1, next_extra)

    # -- parts --------------------------------------------------------------------------------------

    def _offspring(self, counts: list[int], ranked: list[list[int]], population: list[Any],
                   toolbox: base.Toolbox) -> list[Any]:
        """The next generation, not yet evaluated: ``counts[k]`` genomes for the ``k``-th breeding
        species (its members ``ranked`` best first), its champion first where it is kept.

        A champion is the parent genome itself, not a clone: nothing changes a genome once it is
        evaluated (crossover and mutation act on new children only, and only the new children are
        evaluated), so the two generations can share it, as species share representatives."""
        parents = [r[:max(1, math.ceil(self.survival_threshold * len(r)))] for r in ranked]
        offspring: list[Any] = []
        new: list[int] = []  # where the children but the champions are: mutated together once all are made
        for k, n in enumerate(counts):
            if n == 0:
                continue
            children = []
            if len(ranked[k]) > self.elitism_threshold:
                children.append(population[ranked[k][0]])  # the champion itself (shared: see _offspring)
            start = len(offspring) + len(children)
            while len(children) < n:
                children += self._children(k, parents, population, toolbox)[:n - len(children)]
            offspring += children
            new += range(start, len(offspring))
        for i, child in zip(new, mutate_all(toolbox, [offspring[i] for i in new])):
            del child.fitness.values
            offspring[i] = child
        return offspring

    def _children(self, k: int, parents: list[list[int]], population: list[Any], toolbox: base.Toolbox) -> list[Any]:
        """New genomes of species ``k`` (by position in ``parents``), not yet mutated: the two
        children of one crossover (the caller keeps what it needs), or one copy of a parent."""
        own = parents[k]
        # a crossover yields two children, a mutation one: crossovers happen at the rate that
        # makes ``crossover_rate`` of the offspring crossover children, 2p / (1 + p) = rate
        if random.random() < self.crossover_rate / (2.0 - self.crossover_rate):
            mate = None
            if len(parents) > 1 and random.random() < self.interspecies_rate:
                others = [p for j, p in enumerate(parents) if j != k]
                first, mate = random.choice(own), random.choice(random.choice(others))
            elif len(own) > 1:
                first, mate = random.sample(own, 2)
            if mate is not None:
                return list(crossover(toolbox, population[first], population[mate]))
        return [toolbox.clone(population[random.choice(own)])]

    def _speciate(self, population: list[Any], extra: dict[str, Any], generation: int,
                  toolbox: base.Toolbox) -> None:
        """Assign ``population`` to species (updating ``extra`` in place): the records in
        ``extra["species"]`` keep their representatives from the last generation; empty species
        die out; best fitness and stagnation are updated; new representatives are drawn."""
        threshold = extra.get("compatibility_threshold", self.compatibility_threshold)
        species, next_id = speciate(population, [(s["id"], s["representative"]) for s in extra["species"]],
                                    toolbox.distance, threshold, extra["next_species_id"], batched_distances(toolbox))
        old = {s["id"]: s for s in extra["species"]}
        scores = [score(ind) for ind in population]
        records = []
        for sid, members in species:
            best = max((scores[i] for i in members), default=-math.inf)
            record = dict(old.get(sid) or {"id": sid, "best": -math.inf, "last_improved": generation,
                                           "created": generation})
            if best > record["best"]:
                record["best"], record["last_improved"] = best, generation
            record["members"] = list(members)
            record["representative"] = population[random.choice(members)]  # shared, as champions are
            records.append(record)
        extra["species"] = records
        extra["next_species_id"] = next_id
        extra["species_counts"] = [*extra["species_counts"], len(records)]
        if self.target_species is not None:
            extra["thresholds"] = [*extra.get("thresholds", []), threshold]
            extra["compatibility_threshold"] = self.next_threshold(threshold, len(records))
        if self.population_stagnation is not None:
            best = max(scores, default=-math.inf)
            if best > extra.get("population_best", -math.inf):
                extra["population_best"], extra["population_improved"] = best, generation

    def next_threshold(self, threshold: float, n_species: int) -> float:
        """The dynamic threshold after a speciation that made ``n_species`` species: one
        ``threshold_step`` towards ``target_species`` (lower makes more species), at least
        ``min_threshold``."""
        if self.target_species is None or n_species == self.target_species:
            return threshold
        step = self.threshold_step if n_species > self.target_species else -self.threshold_step
        return max(self.min_threshold, threshold + step)

    def _population_stale(self, extra: dict[str, Any], generation: int) -> bool:
        """Whether the population's best has not improved for ``population_stagnation`` generations."""
        return (self.population_stagnation is not None
                and generation - extra.get("population_improved", generation) >= self.population_stagnation)


# -- the pieces, as functions (tested on their own) -------------------------------------------------

def score(individual: Any) -> float:
    """The weighted first fitness value (larger is better); ``-inf`` if it is missing or not finite."""
    fitness = individual.fitness
    if not fitness.valid:
        return -math.inf
    value = fitness.wvalues[0]
    return value if math.isfinite(value) else -math.inf


def batched_distances(toolbox: base.Toolbox) -> Any:
    """The toolbox's ``distances`` (all genomes against many in one call), when its ``distance`` is
    the encoding's own: a user who registered another ``distance`` gets that one, genome by genome."""
    distances, encoding = getattr(toolbox, "distances", None), getattr(toolbox, "encoding", None)
    single = getattr(toolbox.distance, "func", toolbox.distance)
    if distances is None or encoding is None or single != getattr(encoding, "distance", None):
        return None
    return distances


def speciate(population: Sequence[Any], representatives: Sequence[tuple[int, Any]],
             distance: Callable[[Any, Any], float], threshold: float, next_id: int,
             distances: Callable[[list[Any], list[Any]], np.ndarray] | None = None
             ) -> tuple[list[tuple[int, list[int]]], int]:
    """NEAT's speciation of ``population``: each genome, in order, joins the first species whose
    representative (``representatives``: ``(species id, genome)`` pairs, in order) is closer than
    ``threshold``; a genome close to none founds species ``next_id`` (then ``next_id + 1`` ...)
    and represents it for the genomes after it.

    ``distances(rows, columns)``, if given, is ``distance`` of every row to every column as an
    array (the toolbox's ``distances``, registered by the NEAT encoding): the population is then
    compared with all representatives at once, and the genomes close to none of them with each other
    at once (only they may found a species or join a new one).

    Returns the non-empty species as ``(id, member indices)`` in id order, and the next free id.
    """
    reps = list(representatives)
    if distances is not None:
        return _speciate_batched(list(population), reps, distances, threshold, next_id)
    members: dict[int, list[int]] = {sid: [] for sid, _ in reps}
    for i, genome in enumerate(population):
        for sid, rep in reps:
            if distance(genome, rep) < threshold:
                members[sid].append(i)
                break
        else:
            reps.append((next_id, genome))
            members[next_id] = [i]
            next_id += 1
    return sorted((sid, m) for sid, m in members.items() if m), next_id


def _speciate_batched(population: list[Any], reps: list[tuple[int, Any]],
                      distances: Callable[[list[Any], list[Any]], np.ndarray], threshold: float,
                      next_id: int) -> tuple[list[tuple[int, list[int]]], int]:
    """:func:`speciate` with two distance tables: to the old representatives, and among the
    genomes close to none of them (the only ones that may found a species or join a new one)."""
    members: dict[int, list[int]] = {sid: [] for sid, _ in reps}
    close = (_table_in_blocks(distances, population, [rep for _, rep in reps]) < threshold) \
        if reps and population else None
    first = [-1] * len(population) if close is None else np.where(close.any(axis=1), close.argmax(axis=1), -1)
    loose = [i for i in range(len(population)) if first[i] < 0]
    genomes = [population[i] for i in loose]
    near = _table_in_blocks(distances, genomes, genomes) < threshold if loose else None  # near[a, b]: a close to b
    founded: list[tuple[int, int]] = []  # new species, and where its founder is in ``loose``
    for i in range(len(population)):
        if first[i] >= 0:
            members[reps[first[i]][0]].append(i)
    for a, i in enumerate(loose):
        sid = next((sid for sid, b in founded if near[a, b]), None)
        if sid is None:
            sid, next_id = next_id, next_id + 1
            founded.append((sid, a))
            members[sid] = []
        members[sid].append(i)
    return sorted((sid, m) for sid, m in members.items() if m), next_id


TABLE_ENTRIES = 20_000_000
"""At most this many (row genome, column genome, gene) triples in one ``distances`` call: a table
lines up the genes of every pair, so a population of image-sized genomes (thousands of genes each)
compared in one call would need gigabytes."""


def _table_in_blocks(distances: Callable[[list[Any], list[Any]], np.ndarray], rows: list[Any],
                     columns: list[Any]) -> np.ndarray:
    """``distances(rows, columns)``, asked for in blocks of rows of at most :data:`TABLE_ENTRIES`
    entries (one call when the genomes are small)."""
    genes = max(1, max((len(g.connections) for g in [*rows, *columns]), default=1))
    step = max(1, TABLE_ENTRIES // (len(columns) * genes))
    if step >= len(rows):
        return distances(rows, columns)
    return np.vstack([distances(rows[k:k + step], columns) for k in range(0, len(rows), step)])


def adjusted_fitness(species_scores: Sequence[Sequence[float]], shift: float = 0.0) -> list[float]:
    """Each species' sum of adjusted fitness (explicit fitness sharing): ``sum(f_i) / |S|`` with
    ``f_i`` its members' weighted fitness, less ``shift`` when ``shift`` is negative (so that the
    values are >= 0), and 0 for a non-finite value (a failure). An empty species sums to 0."""
    offset = min(shift, 0.0) if math.isfinite(shift) else 0.0
    sums = []
    for values in species_scores:
        shifted = [max(v - offset, 0.0) if math.isfinite(v) else 0.0 for v in values]
        sums.append(sum(shifted) / len(shifted) if shifted else 0.0)
    return sums


def allocate_offspring(shares: Sequence[float], total: int) -> list[int]:
    """Split ``total`` offspring among species in proportion to their ``shares`` (their summed
    adjusted fitness), rounding by largest remainder (ties to the earlier species) so that the
    counts add up to ``total``. Shares that are negative or not finite count as 0; when no share
    is positive the offspring are split equally."""
    check_int("total", total, minimum=0)
    if not shares:
        if total:
            raise ConfigError(f"shares=[] is invalid with total={total}: expected at least one species")
        return []
    clean = [s if math.isfinite(s) and s > 0 else 0.0 for s in shares]
    whole = sum(clean)
    if whole <= 0:
        clean, whole = [1.0] * len(clean), float(len(clean))
    exact = [total * s / whole for s in clean]
    counts = [math.floor(e) for e in exact]
    order = sorted(range(len(exact)), key=lambda k: (-(exact[k] - counts[k]), k))
    for k in order[:total - sum(counts)]:
        counts[k] += 1
    return counts


def crossover(toolbox: base.Toolbox, ind1: Any, ind2: Any) -> tuple[Any, Any]:
    """Two children of ``ind1`` and ``ind2``, the parents unchanged: ``toolbox.crossover`` if the
    toolbox has one (the NEAT encoding registers one that skips copying genes it would replace),
    else ``toolbox.mate`` on two clones, DEAP's way."""
    if hasattr(toolbox, "crossover"):
        return toolbox.crossover(ind1, ind2)
    return toolbox.mate(toolbox.clone(ind1), toolbox.clone(ind2))


def mutate_all(toolbox: base.Toolbox, individuals: list[Any]) -> list[Any]:
    """The mutated individuals (``toolbox.mutate``'s first result for each, in order): through
    ``toolbox.mutate_batch`` if the toolbox has one (the NEAT encoding registers one that draws
    all the weights' noise at once), else one call each."""
    batch = getattr(toolbox, "mutate_batch", None)
    if batch is not None:
        return list(batch(individuals))
    return [toolbox.mutate(individual)[0] for individual in individuals]


def _finite_positive(field: str, value: Any) -> float:
    value = check_float(field, value, minimum=0.0, exclusive_minimum=True)
    if math.isinf(value):
        raise ConfigError(f"{field}={value!r} is invalid: expected a finite number > 0")
    return value


def _best_species(species: list[dict[str, Any]], scores: list[float]) -> dict[str, Any]:
    """The species holding the population's best genome (the lowest id among ties)."""
    return max(species, key=lambda s: (max(scores[i] for i in s["members"]), -s["id"]))


__all__ = ["NEAT", "adjusted_fitness", "allocate_offspring", "crossover", "mutate_all", "score", "speciate"]
