"""Fault tolerance: one candidate per fault kind in a real run; the run completes and reports each."""
import json
import sys
from collections import Counter
from pathlib import Path

import evokit as ek
from evokit.runtime.candidates.cache import FitnessCache

sys.path.insert(0, str(Path(__file__).parent))
from _faults import KINDS, FaultEncoding, FaultGenome  # noqa: E402


def test_every_fault_kind_fails_one_candidate_and_the_run_completes(small_digits, tmp_path):
    search = ek.Search(encoding=FaultEncoding(), objectives=[ek.fitness.ValidationAccuracy(epochs=1),
                                                             ek.fitness.ParameterCount()],
                       data=small_digits, algorithm=ek.algorithms.GA(population=len(KINDS), generations=1, cxpb=0.0,
                                                                      mutpb=0.0),
                       workers=ek.runtime.ProcessEvaluator(workers=2, timeout=5),
                       constraints=[ek.fitness.MaxParams(100_000), ek.fitness.MaxMemory(500)],
                       run_dir=tmp_path, progress=False)
    result = search.run()
    assert result.stats["failures"] == {"nan_loss": 1, "exception": 1, "build_error": 1, "timeout": 1,
                                        "worker_died": 1, "infeasible": 1}
    records = {r["genotype"][0]: r for r in ek.runtime.read_candidates(tmp_path)}
    assert records["ok"]["status"] == "ok" and records["ok"]["val_accuracy"] > 0
    expected = {"nan": "nan_loss", "crash": "exception", "build": "build_error", "hang": "timeout",
                "die": "worker_died", "huge": "infeasible"}
    for kind, reason in expected.items():
        assert records[kind]["reason"] == reason, (kind, records[kind])
        assert records[kind]["message"], kind
    assert "injected crash" in records["crash"]["message"] and "limit" in records["huge"]["message"]
    assert result.best.genotype[0] == "ok"
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["stats"]["failures"]["timeout"] == 1


def test_max_memory_estimate_grows_with_the_network():
    small, large = (FaultEncoding().decode([k, units], (8, 8, 1), 10) for k, units in (("ok", 8), ("ok", 4096)))
    budget = ek.fitness.MaxMemory(2)  # the 4096-unit network needs about 5 MB
    assert budget.estimate_mb(large) > budget.estimate_mb(small) > 0
    assert budget.violation(small) is None and "limit" in budget.violation(large)


class MapLosingItsScheduler:
    """Builtin ``map`` whose first call returns ``good`` results, then raises ConnectionError."""

    def __init__(self, good):
        self.good, self.calls = good, 0

    def __call__(self, fn, items):
        self.calls += 1
        for j, item in enumerate(items):
            if self.calls == 1 and j == self.good:
                raise ConnectionError("lost the scheduler")
            yield fn(item)


class SafeFaults(FaultEncoding):
    """Only the fault kinds a plain map survives (none hangs or kills its process)."""

    def random(self, rng=None):
        kind = ("ok", "nan", "crash", "build")[self._next % 4]
        self._next += 1
        return FaultGenome([kind, 8])


def test_faults_outside_the_network_are_counted_apart_and_never_cached(small_digits, tmp_path):
    """Three candidates come back from the map, the fourth is lost with it: the networks' own
    results and failures are cached, the map's fault is not (a resumed or later run trains it)."""
    search = ek.Search(encoding=SafeFaults(), objectives=[ek.fitness.ValidationAccuracy(epochs=1),
                                                          ek.fitness.ParameterCount()],
                       data=small_digits, algorithm=ek.algorithms.GA(population=4, generations=0, cxpb=0.0,
                                                                      mutpb=0.0),
                       workers=ek.runtime.MapEvaluator(MapLosingItsScheduler(good=3)), run_dir=tmp_path,
                       progress=False)
    result = search.run()
    records = ek.runtime.read_candidates(tmp_path)
    lost = [r for r in records if r["reason"] == "evaluator_error"]
    assert len(records) == 4 and len(lost) == 1
    assert lost[0]["message"] == "the map failed: ConnectionError: lost the scheduler"
    own = Counter(r["reason"] for r in records if r["reason"] not in (None, "evaluator_error"))
    assert result.stats["failures"] == {**own, "evaluator_error": 1}  # counted apart
    cache = FitnessCache(tmp_path / "cache.sqlite")
    try:
        assert len(cache) == 3  # the three networks that came back; never the one lost with the map
    finally:
        cache.close()
