"""Golden results: a seeded tiny search must keep producing exactly the stored history.

The objective is the parameter count (no training), so the history depends only on evokit's
operators, selection, decoding and seeding, not on TensorFlow's numerics. If a change alters it
on purpose, regenerate with ``python tests/test_golden.py`` and say why in the commit.
"""
import json
from pathlib import Path

import evokit as ek

GOLDEN = Path(__file__).parent / "golden" / "deepga_params_seed0.json"


def golden_run(data):
    search = ek.Search(encoding=ek.encodings.DeepGA(), objectives=ek.fitness.ParameterCount(), data=data,
                       algorithm=ek.algorithms.GA(population=6, generations=4), seed=0, progress=False)
    result = search.run()
    return {"history": [{k: r[k] for k in ("gen", "evaluated", "cache_hits", "params_min", "params_avg",
                                           "params_max")} for r in result.history],
            "hall_of_fame": [[c.params, c.description] for c in result.hall_of_fame]}


def test_seeded_search_matches_the_golden_history(digits):
    assert golden_run(digits) == json.loads(GOLDEN.read_text())


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(golden_run(ek.datasets.load("digits", seed=0)), indent=1) + "\n")
