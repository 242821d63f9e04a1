"""Run directories written by older evokit code still resume, and end where they ended then.

``tests/fixtures/pre_split_run`` was written by the code before the runtime split
(``tests/fixtures/make_pre_split_run.py``): its ``search.pkl`` and ``checkpoint.pkl`` name classes
by their old module paths (``evokit.runtime.evaluators.ProcessEvaluator``, ...).
``pre_split_run_resumed.json`` is the state that code reached when it resumed that run for one
more generation (the same as its uninterrupted two-generation run).
"""
import json
import pickle
import shutil
from pathlib import Path

import evokit as ek
from evokit import unpickle
from evokit.runtime.run.checkpoint import load_checkpoint

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _state(run_dir):
    payload = load_checkpoint(Path(run_dir))
    population = sorted([repr(ind), list(ind.fitness.values)] for ind in payload["state"].population)
    return {"generation": payload["state"].generation, "population": population,
            "hof": [[repr(ind), list(ind.fitness.values)] for ind in payload["hof"]]}


def test_the_fixture_names_classes_by_their_old_module_paths():
    raw = (FIXTURES / "pre_split_run" / "search.pkl").read_bytes()
    assert b"evokit.runtime.evaluators" in raw  # so the test below exercises the old paths
    search = unpickle.loads(raw)
    assert isinstance(search.evaluator, ek.runtime.ProcessEvaluator)
    assert type(search.evaluator).__module__.startswith("evokit.runtime.executors")


def test_a_run_written_before_the_split_resumes_to_the_same_end(tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURES / "pre_split_run", run_dir)
    result = ek.resume(run_dir, budget=ek.Budget(generations=2), workers=1, progress=False)
    expected = json.loads((FIXTURES / "pre_split_run_resumed.json").read_text())
    assert _state(run_dir) == expected
    assert result.stats["generations"] == 2
    assert len(ek.runtime.read_candidates(run_dir)) == sum(row["evaluated"] for row in result.history)


def test_moved_classes_pickled_by_old_paths_unpickle():
    # a pickle that names SuccessiveHalving's old home
    data = pickle.dumps(ek.runtime.SuccessiveHalving(min_epochs=1, eta=3), protocol=0)  # module paths as text
    data = data.replace(b"evokit.runtime.candidates.fidelity", b"evokit.runtime.fidelity")
    assert unpickle.loads(data) == ek.runtime.SuccessiveHalving(min_epochs=1, eta=3)
