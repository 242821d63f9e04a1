"""Fault tolerance: one candidate per fault kind in a real run; the run completes and reports each."""
import json
import sys
from pathlib import Path

import evokit as ek

sys.path.insert(0, str(Path(__file__).parent))
from _faults import KINDS, FaultEncoding  # noqa: E402


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
