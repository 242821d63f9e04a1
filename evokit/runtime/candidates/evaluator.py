"""From genotypes to fitness values: decode, look up the cache, train what is new, score.

``CandidateEvaluator`` is the one path every search (and ``evokit.toolbox``'s ``evaluate``) takes.
It is picklable, so DEAP users may also hand it to a process pool's ``map``; a search instead
calls ``evaluate_all`` with a whole generation, which trains each distinct network once through
the configured Evaluator (serial, process pool, ...).

Two opt-in ways to spend less training on a batch (both off by default, and then nothing here
changes):

* ``fidelity=SuccessiveHalving(...)`` (:mod:`evokit.runtime.candidates.fidelity`): all new networks of a
  batch train a few epochs, the best fraction train on.
* ``inherit_weights=True`` (:mod:`evokit.runtime.candidates.inheritance`): a new network starts from the
  trained weights of the evaluated network it shares the most unchanged layers with.

Either changes what a network's training produces, so it is part of the cache key: halving adds
the rung (``+sh<min>x<eta>@<epochs>``), inheritance the digest of the starting weights
(``+i<digest>``). The key a network was evaluated under in this search is then not computable
from its genotype alone; ``evaluation_key`` looks it up.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from evokit import tasks
from evokit.encodings.base import Encoding
from evokit.errors import ConfigError, EvokitError, check_int
from evokit.evaluation import FAILURE_REASONS, NETWORK_FAILURES, Evaluation, TrainingConfig, failure
from evokit.fitness.base import Objective, score
from evokit.fitness.combine import as_objectives, probes, training_config, walk, weights
from evokit.fitness.constraints import Constraint
from evokit.netspec import NetSpec
from evokit.runtime.candidates.cache import FitnessCache
from evokit.runtime.executors import Evaluator, Job, SerialEvaluator
from evokit.runtime.candidates.fidelity import SuccessiveHalving, best
from evokit.runtime.candidates.inheritance import WeightPool, inherit
from evokit.runtime.training.trainer import candidate_seed

TRANSIENT = tuple(r for r in FAILURE_REASONS if r not in NETWORK_FAILURES)
"""Failure reasons that say nothing certain about the network (a timeout, a worker that died, out
of memory, a fault of the evaluator or of an objective): not cached, so the network is tried
again if it returns. Only ``NETWORK_FAILURES`` are cached."""

LOG = logging.getLogger("evokit.runtime")


@dataclass
class Outcome:
    """What happened to one genotype: its network, evaluation, fitness values, and whether the
    evaluation came from the cache (or from an identical network earlier in the same batch)."""

    genotype: Any
    evaluation: Evaluation
    values: tuple[float, ...]
    cached: bool


@dataclass
class _NewNetwork:
    """One distinct network to train in a batch: the key stem (``name``) its results are cached
    under, its seed and starting weights (carried or inherited; None: seeded initial)."""

    spec: NetSpec
    name: str
    seed: int
    start: list[Any] | None
    fit: bool
    base: str
    carried: bool
    order: int = 0
    inherited: int = 0


@dataclass
class _Batch:
    """One call of ``evaluate_all``: the evaluation of each index known without training now
    (``known``), and the new networks to train, by cache key (``todo``: the first index that
    asked for it, ``waiting``: every index that did, ``networks``)."""

    known: dict[int, Evaluation] = field(default_factory=dict)
    todo: dict[str, int] = field(default_factory=dict)
    waiting: dict[str, list[int]] = field(default_factory=dict)
    networks: dict[str, _NewNetwork] = field(default_factory=dict)
    cached: set[int] = field(default_factory=set)  # indices served by the cache or by an equal network
    restored: list[tuple[int, str, str, NetSpec, bool]] = field(default_factory=list)  # found in a killed run's cache

    def add(self, key: str, i: int, network: _NewNetwork) -> None:
        self.todo[key] = i
        self.waiting[key] = [i]
        self.networks[key] = network


DECODE_ERRORS = (EvokitError, ValueError, TypeError, KeyError, IndexError, AttributeError)
"""What a broken genotype raises while it decodes: a ``decode_error`` failure of that candidate."""


def _digest(weights: list[Any] | None, prefix: str = "+w") -> str:
    """A short digest of carried weights ("" for none): part of the cache key."""
    if weights is None:
        return ""
    h = hashlib.sha256()
    for w in weights:
        h.update(np.ascontiguousarray(w).tobytes())
    return prefix + h.hexdigest()[:16]


class CandidateEvaluator:
    """Scores genotypes of one encoding on one dataset with a tuple of objectives.

    Args:
        encoding: decodes genotypes into NetSpecs.
        objectives: the objectives (their DEAP weights give the fitness weights).
        data: a :class:`evokit.datasets.Dataset`.
        seed: the run seed; each network trains under a seed derived from it and its hash.
        evaluator: where training happens (default: in this process).
        keep_weights: keep trained weights in the evaluations (needed to return trained models).
        constraints: limits checked on the NetSpec before training; a violating candidate is a
            failure with reason ``"infeasible"`` and is never trained.
        cache: the fitness cache (default: a new in-memory one; a search passes a persistent one).
        fidelity: a :class:`~evokit.runtime.candidates.fidelity.SuccessiveHalving` schedule applied to each
            batch's new networks; None trains every network fully.
        inherit_weights: start each new network from the trained weights of the kept network
            (one of the last ``donors`` evaluated) that shares the most unchanged layers with
            it. Networks whose genotype carries its own weights are not affected. With a
            persistent cache the donors are also kept in ``<cache>.donors.sqlite`` beside it, so
            that a resumed run inherits exactly as an uninterrupted one.
        donors: how many evaluated networks' weights are kept to inherit from.
        training: how candidates are trained when no objective says (default
            ``evokit.fitness.DEFAULT_TRAINING``); objectives that say otherwise are refused.

    ``seen`` holds the cache keys of every network this search has evaluated; ``evaluations``
    counts them (what budgets count), ``trainings`` counts the trainings run by this object
    (with halving, one per rung a network trains); ``training_stats()`` adds the epochs spent.
    """

    def __init__(self, encoding: Encoding, objectives: Any, data: Any, seed: int = 0,
                 evaluator: Evaluator | None = None, keep_weights: bool = True,
                 constraints: Sequence[Constraint] = (), cache: FitnessCache | None = None,
                 fidelity: SuccessiveHalving | None = None, inherit_weights: bool = False, donors: int = 16,
                 training: TrainingConfig | None = None):
        self.encoding = encoding
        self.objectives: list[Objective] = as_objectives(objectives)
        self.weights = weights(self.objectives)
        self.training = training_config(self.objectives, training)
        self.probes = probes(self.objectives)
        self.constraints = list(constraints)
        for i, constraint in enumerate(self.constraints):
            if not isinstance(constraint, Constraint):
                raise ConfigError(f"constraints[{i}]={constraint!r} is invalid: expected an evokit Constraint "
                                  "(MaxParams, MaxFLOPs, MaxPredictedCO2, ...)")
        if fidelity is not None and not isinstance(fidelity, SuccessiveHalving):
            raise ConfigError(f"fidelity={fidelity!r} is invalid: expected None or an "
                              "evokit.runtime.candidates.fidelity.SuccessiveHalving")
        if not isinstance(inherit_weights, bool):
            raise ConfigError(f"inherit_weights={inherit_weights!r} is invalid: expected True or False")
        if tasks.get(data.task).generative and (fidelity is not None or inherit_weights):
            raise ConfigError(f"{'fidelity' if fidelity is not None else 'inherit_weights'} is invalid for gan data: a "
                              "pair's discriminator would start afresh at each rung or inherited start; train pairs "
                              "fully (fidelity=None, inherit_weights=False)")
        for item in [*walk(self.objectives), *self.constraints]:
            item.setup(data, self.training)
        self.data = data
        self.seed = seed
        self.evaluator = evaluator if evaluator is not None else SerialEvaluator()
        self.keep_weights = keep_weights
        self.cache = cache if cache is not None else FitnessCache()
        self.fidelity = fidelity
        self.inherit_weights = inherit_weights
        self._rank_by = fidelity.ranking_objective(self.objectives) if fidelity is not None else 0
        self.donors: WeightPool | None = None
        if inherit_weights:
            path = self.cache.path
            path = None if path is None else path.with_name(path.stem + ".donors.sqlite")
            self.donors = WeightPool(check_int("donors", donors, minimum=1), path)
            if path is not None and len(self.cache) == 0:
                self.donors.clear_file()  # a run starting afresh: nothing it holds belongs to this run
        self.resolved: dict[str, str] = {}  # plain key -> the key its evaluation got (inheritance)
        self.seen: set[str] = set()
        self.inherited: dict[str, str] = {}  # key after a Lamarckian write-back -> the evaluation's key
        self.trainings = 0
        self.epochs_trained = 0
        self.epochs_full = 0
        self.stopped_early = 0
        self.inherited_starts = 0
        self._started = False
        self._context = "|".join([self.training.key() if self.training else "untrained", data.fingerprint, str(seed),
                                  *(p.key for p in self.probes)])

    @property
    def seen(self) -> set[str]:
        return self._seen

    @seen.setter
    def seen(self, keys: set[str]) -> None:
        # a search restoring a checkpoint sets this: the kept donors are brought back to match it
        self._seen = keys
        self._stale = True

    def prepare(self, genotype: Any) -> tuple[NetSpec, list[Any] | None, str]:
        """The network to build for ``genotype``, the weights it carries (or None) and its plain
        cache key (the key of a full training from its seeded or carried weights).

        Without carried weights the network is the canonical form; carried weights follow the
        decoded node order, so that network is built as decoded. Raises on a broken genotype.
        """
        raw = self.encoding.decode(genotype, self.data.input_shape, self.data.n_outputs, self.data.task)
        weights = self.encoding.weights(genotype, raw)
        spec = raw.canonical() if weights is None else raw.validate()
        return spec, weights, self.cache.key(spec.hash + _digest(weights), self._context)

    def decode(self, genotype: Any) -> NetSpec:
        """The NetSpec of ``genotype`` for this dataset (raises on a broken genotype)."""
        return self.prepare(genotype)[0]

    def evaluation_key(self, genotype: Any) -> str:
        """The cache key of ``genotype``'s evaluation (its key before a Lamarckian write-back;
        with halving or inheritance, the key it was evaluated under in this search)."""
        spec, weights, key = self.prepare(genotype)
        key = self.inherited.get(key, key)
        return self._earlier(key, spec.hash + _digest(weights)) or key

    def cached(self, genotype: Any) -> Evaluation | None:
        """The cached evaluation of ``genotype``'s network (and carried weights), if any."""
        return self.cache.peek(self.evaluation_key(genotype))

    def scores(self, evaluation: Evaluation) -> tuple[float, ...]:
        """The objectives' values of ``evaluation`` (every failure value if an objective fails on it)."""
        return self.scored(evaluation)[1]

    def scored(self, evaluation: Evaluation) -> tuple[Evaluation, tuple[float, ...]]:
        """The evaluation a candidate is reported with, and its objective values
        (:func:`evokit.fitness.base.score`): an objective that raises or gives NaN makes it that
        candidate's failure (reason ``"objective_error"``), logged the first time per objective.
        The training's own evaluation stays in the cache (the objectives run again on a hit)."""
        reported, values = score(self.objectives, evaluation)
        if reported.reason == "objective_error" and not evaluation.failed:
            which = reported.message.split(":", 1)[0]  # "objectives[k] 'name'"
            warned = self.__dict__.setdefault("_objectives_failed", set())
            if which not in warned:
                warned.add(which)
                LOG.warning("%s; the candidate fails with reason 'objective_error' and gets every objective's "
                            "failure value (later failures of this objective are counted, not logged)",
                            reported.message)
        return reported, values

    def _key(self, name: str, epochs: int | None = None) -> str:
        """The cache key of network ``name`` (spec hash and start digests), at rung ``epochs``."""
        suffix = "" if self.fidelity is None or epochs is None else self.fidelity.tag(epochs)
        return self.cache.key(name + suffix, self._context)

    def _top(self) -> int:
        assert self.fidelity is not None and self.training is not None
        return self.fidelity.rungs(self.training.epochs)[-1]

    def _earlier(self, base: str, name: str) -> str | None:
        """The key this search evaluated the network with plain key ``base`` under, if it did and
        that key differs from ``base`` (halving or inheritance)."""
        if base in self.resolved and self.resolved[base] in self.seen:
            return self.resolved[base]
        if self.fidelity is not None and self.training is not None and not self.inherit_weights:
            for epochs in reversed(self.fidelity.rungs(self.training.epochs)):
                if (key := self._key(name, epochs)) in self.seen:
                    return key
        return None

    def _sync(self) -> None:
        """After ``seen`` was replaced (a restored checkpoint), bring the donors back to match."""
        if not self._stale:
            return
        self._stale = False
        if self.donors is None:
            return
        if self.donors.path is not None:
            self.resolved = self.donors.reload(self.seen)
        else:
            for key in [k for k in self.donors.entries if k not in self.seen]:
                del self.donors.entries[key]
            self.resolved = {b: k for b, k in self.resolved.items() if k in self.seen}

    def _new_network(self, spec: NetSpec, carried: list[Any] | None, base: str) -> _NewNetwork:
        """A new network to train: with inheritance, its start from the best donor."""
        seed = candidate_seed(self.seed, spec.hash)
        name, start, count = spec.hash + _digest(carried), carried, 0
        if self.donors is not None and carried is None and self.encoding.trains:
            found = self.donors.donor(spec)
            if found is not None:
                start, count = inherit(spec, seed, found[0].spec, found[0].weights, found[1])
                name += _digest(start, "+i")
        return _NewNetwork(spec, name, seed, start, self.encoding.trains, base, carried is not None, inherited=count)

    def evaluate_all(self, genotypes: Sequence[Any]) -> list[Outcome]:
        """Evaluate genotypes, training each distinct uncached network once, in one batch."""
        self._sync()
        self._batch_start = len(self.seen)
        batch = _Batch()
        for i, genotype in enumerate(genotypes):
            self._place(batch, i, genotype)
        adds = [self._restored(i, base, key, spec, has_carried) for i, base, key, spec, has_carried in batch.restored]
        if batch.todo:
            adds += self._train_new(batch, genotypes)
        for order, base, key, spec, trained, has_carried in sorted(adds, key=lambda a: a[0]):
            self._remember(base, key, spec, trained, has_carried, order)
        if self.donors is not None and adds:
            self.donors.prune()
        return [Outcome(genotype, *self.scored(batch.known[i]), i in batch.cached)
                for i, genotype in enumerate(genotypes)]

    def _place(self, batch: "_Batch", i: int, genotype: Any) -> None:
        """Decide what genotype ``i`` of a batch gets: a failure or an evaluation known without
        training, a cache hit, or a place among the batch's new networks."""
        start = time.perf_counter()
        try:
            spec, carried, key = self.prepare(genotype)
        except DECODE_ERRORS as exc:
            batch.known[i] = failure(None, "decode_error", f"{type(exc).__name__}: {exc}", time.perf_counter() - start)
            return
        violations = [v for c in self.constraints if (v := c.violation(spec)) is not None]
        if violations:
            batch.known[i] = failure(spec, "infeasible", "; ".join(violations))
            return
        if self.training is None:
            batch.known[i] = Evaluation(spec=spec, status="untrained")
            self.seen.add(key)
            return
        base, network = key, None
        earlier = self._earlier(key, spec.hash + _digest(carried))
        if earlier is not None and earlier in self.cache:
            key = earlier  # evaluated before in this search: its evaluation, whatever its start or fidelity
        elif self.fidelity is not None or self.donors is not None:
            network = self._new_network(spec, carried, base)
            key = self._key(network.name, self._top() if self.fidelity is not None and network.fit else None)
        if key in batch.todo:
            batch.waiting[key].append(i)
            batch.cached.add(i)
            self.cache.hits += 1
        elif network is not None and network.fit and self.fidelity is not None:
            # new to this search: ranked with the batch's other new networks even if a killed run
            # cached its results (the rungs then come from the cache), so the batch halves as before
            batch.add(key, i, network)
        elif (hit := self.cache.peek(key)) is not None:
            batch.known[i] = hit
            if key in self.seen:  # else restored from a persistent cache: new to this search
                batch.cached.add(i)
                self.cache.hits += 1
            else:  # trained by a killed run after its checkpoint: a miss, as in the uninterrupted run
                self.cache.misses += 1
                if network is not None:
                    batch.restored.append((i, base, key, spec, network.carried))
            self.seen.add(key)
        else:
            self.cache.misses += 1
            batch.add(key, i, network or _NewNetwork(spec, spec.hash + _digest(carried),
                                                     candidate_seed(self.seed, spec.hash), carried,
                                                     self.encoding.trains, base, carried is not None))

    def _restored(self, i: int, base: str, key: str, spec: NetSpec, has_carried: bool) -> tuple:
        """What to remember of a network a killed run had evaluated (its weights, if the pool kept them)."""
        stored = self.donors.stored(key) if self.donors is not None else None
        return self._order(i), base, key, spec, None if stored is None else stored[1], has_carried

    def _train_new(self, batch: "_Batch", genotypes: Sequence[Any]) -> list[tuple]:
        """Train the batch's new networks; hand each result to the genotypes that wait for it
        (writing trained weights back into genotypes that carry them). Returns what to remember."""
        keys = list(batch.todo)
        for key in keys:
            batch.networks[key].order = self._order(batch.todo[key])
        adds = []
        for key, (final_key, evaluation) in zip(keys, self._train([batch.networks[key] for key in keys])):
            network = batch.networks[key]
            adds.append((network.order, network.base, final_key, network.spec, evaluation.weights, network.carried))
            if not self.keep_weights and evaluation.weights is not None:
                evaluation = evaluation.without_weights()
                if final_key in self.cache:
                    self.cache.put(final_key, evaluation)
            batch.known.update((i, evaluation) for i in batch.waiting[key])
            if evaluation.weights is not None:
                for i in batch.waiting[key]:
                    self.encoding.inherit(genotypes[i], evaluation)
                    if (written := self.prepare(genotypes[i])[2]) != network.base:
                        self.inherited[written] = network.base
            self.seen.add(final_key)
        return adds

    def _order(self, i: int) -> int:
        """The position in the run of the network first seen at index ``i`` of this batch: the same
        in a resumed run as in an uninterrupted one (the batch starts with the same ``seen``)."""
        return self._batch_start * 1_000_000 + i

    def _remember(self, base: str, key: str, spec: NetSpec, trained: list[Any] | None, has_carried: bool,
                  order: int) -> None:
        """Note the key network ``base`` was evaluated under, and keep its weights to inherit from."""
        if key != base:
            self.resolved[base] = key
            if self.donors is not None:
                self.donors.remember(base, key)
        if self.donors is not None and trained is not None and not has_carried and self.encoding.trains:
            self.donors.add(key, spec, trained, order)

    # -- training ---------------------------------------------------------------------------------

    def _start_evaluator(self) -> None:
        """Start the evaluator once with the training settings (rungs of successive halving set
        their epochs per task)."""
        assert self.training is not None
        if self._started:
            return
        keep = self.keep_weights or self.fidelity is not None or self.donors is not None
        self.evaluator.start(self.data, self.training, keep, self.probes)
        self._started = True

    def _train(self, jobs: list[_NewNetwork]) -> list[tuple[str, Evaluation]]:
        """Train new networks; returns each one's final cache key and evaluation."""
        self.inherited_starts += sum(job.start is not None and not job.carried for job in jobs)
        halving = [j for j, job in enumerate(jobs) if self.fidelity is not None and job.fit]
        plain = [j for j, job in enumerate(jobs) if not (self.fidelity is not None and job.fit)]
        results: dict[int, tuple[str, Evaluation]] = {}
        if plain:
            trained = self._rung(jobs, plain, 0, None, {})
            results.update((j, (self._key(jobs[j].name), trained[j])) for j in plain)
        if halving:
            results.update(self._halving(jobs, halving))
        return [results[j] for j in range(len(jobs))]

    def _rung(self, jobs: list[_NewNetwork], which: list[int], done: int, epochs: int | None,
              previous: dict[int, Evaluation], again: bool = False) -> dict[int, Evaluation]:
        """Train jobs ``which`` from epoch ``done`` (from their ``previous`` weights; at 0 from
        their start) to ``epochs`` in all (None: one plain full training). Each result is cached
        as it arrives, its weights first written for inheritance (so a killed run finds both).
        ``again``: these results were cached without weights and are trained again for them."""
        assert self.training is not None
        self._start_evaluator()
        rung = None if epochs is None else epochs - done
        tasks = []
        for j in which:
            job = jobs[j]
            if done == 0:
                tasks.append(Job(job.spec, job.seed, job.start, job.fit, epochs=rung))
            else:  # go on from the weights reached, with fresh shuffles for the new epochs
                tasks.append(Job(job.spec, candidate_seed(self.seed, f"{job.spec.hash}@{done}"), previous[j].weights,
                                 epochs=rung))

        def merged(t: int, evaluation: Evaluation) -> Evaluation:
            job = jobs[which[t]]
            if epochs is not None:
                evaluation = self._merge(previous.get(which[t]), evaluation, epochs)
            if job.inherited:  # how many weight arrays it started from inherited (in the candidate records)
                evaluation = dataclasses.replace(evaluation, extra={**evaluation.extra, "inherited": job.inherited})
            return evaluation

        def save(t: int, evaluation: Evaluation) -> None:
            if evaluation.failed and evaluation.reason not in NETWORK_FAILURES:
                return  # not the network's failure: tried again when it comes back
            job, key = jobs[which[t]], self._key(jobs[which[t]].name, epochs)
            if self.donors is not None and evaluation.weights is not None and not job.carried and job.fit:
                self.donors.store(key, job.spec, evaluation.weights, job.order)
            self.cache.put(key, merged(t, evaluation))

        trained = self.evaluator.train(tasks, on_result=save)
        self.trainings += len(trained)
        self.epochs_trained += sum(len(e.history.get("loss", ())) for e in trained)
        if done == 0 and not again:
            full = self.training.epochs if epochs is None else self._top()
            self.epochs_full += full * sum(jobs[j].fit for j in which)
        return {j: merged(t, evaluation) for t, (j, evaluation) in enumerate(zip(which, trained))}

    def _merge(self, previous: Evaluation | None, evaluation: Evaluation, epochs: int) -> Evaluation:
        """A rung's evaluation: the history and times of the earlier rungs, then this rung's, and
        the epochs reached (``extra["epochs"]``, ``extra["fidelity"]``). Probe metrics are this
        rung's own."""
        extra = {**evaluation.extra, "epochs": epochs, "fidelity": round(epochs / self._top(), 4)}
        if previous is None or evaluation.failed:
            return dataclasses.replace(evaluation, extra=extra)
        names = [*previous.history, *(k for k in evaluation.history if k not in previous.history)]
        history = {k: [*previous.history.get(k, []), *evaluation.history.get(k, [])] for k in names}
        return dataclasses.replace(evaluation, history=history, extra=extra, seed=previous.seed,
                                   wall_time=previous.wall_time + evaluation.wall_time,
                                   train_time=previous.train_time + evaluation.train_time)

    def _rank_score(self, evaluation: Evaluation) -> float:
        """Higher is better; failures and non-finite values rank last."""
        k = self._rank_by
        evaluation, values = self.scored(evaluation)
        if evaluation.failed:
            return -math.inf
        value = values[k] * self.weights[k]
        return value if math.isfinite(value) else -math.inf

    def _halving(self, jobs: list[_NewNetwork], which: list[int]) -> dict[int, tuple[str, Evaluation]]:
        """Successive halving of new networks ``which``: see :mod:`evokit.runtime.candidates.fidelity`."""
        assert self.fidelity is not None and self.training is not None
        rungs = self.fidelity.rungs(self.training.epochs)
        final: dict[int, tuple[str, Evaluation]] = {}
        alive: list[int] = list(which)
        previous: dict[int, Evaluation] = {}
        done = 0
        for r, epochs in enumerate(rungs):
            results: dict[int, Evaluation] = {}
            for j in alive:  # this rung already cached: a batch that a killed run got through
                key = self._key(jobs[j].name, epochs)
                if (hit := self.cache.peek(key)) is not None:
                    stored = self.donors.stored(key) if self.donors is not None and hit.weights is None else None
                    results[j] = hit if stored is None else dataclasses.replace(hit, weights=stored[1])
            results.update(self._rung(jobs, [j for j in alive if j not in results], done, epochs, previous))
            last = r == len(rungs) - 1
            scores = [self._rank_score(results[j]) for j in alive]
            chosen = [] if last else [alive[t] for t in best(scores, self.fidelity.promoted(len(alive)))]
            for j in alive:
                if j not in chosen:
                    final[j] = (self._key(jobs[j].name, epochs), results[j])
                    self.stopped_early += not last
            missing = [j for j in chosen if results[j].weights is None]  # cached without weights
            if missing:  # trained again for them (training is deterministic: the same result)
                results.update(self._rung(jobs, missing, done, epochs, previous, again=True))
            alive, previous, done = chosen, {j: results[j] for j in chosen}, epochs
            if not alive:
                break
        return final

    def training_stats(self) -> dict[str, Any]:
        """What training cost: trainings run, epochs trained, the epochs training every trained
        network fully would have taken, the fraction saved, networks stopped early by successive
        halving and networks started from inherited weights."""
        return {"trainings": self.trainings, "epochs_trained": self.epochs_trained, "epochs_full": self.epochs_full,
                "epochs_saved": round(1 - self.epochs_trained / self.epochs_full, 4) if self.epochs_full else 0.0,
                "stopped_early": self.stopped_early, "inherited_starts": self.inherited_starts}

    def __call__(self, genotype: Any) -> tuple[float, ...]:
        """DEAP's ``toolbox.evaluate``: the fitness values of one genotype."""
        return self.evaluate_all([genotype])[0].values

    @property
    def evaluations(self) -> int:
        """Distinct networks this search has evaluated (trained, or scored analytically when no objective
        needs training): what budgets count."""
        return len(self.seen)

    def close(self) -> None:
        self.evaluator.close()
        self._started = False
        if self.donors is not None:
            self.donors.close()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_started"] = False
        return state
