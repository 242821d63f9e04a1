"""A Pareto front (and a hall of fame) lists each distinct network once, however many genotypes
decode to it: in the API, the table, pareto.csv, summary.json and the front's export."""
import csv
import json
import sys
from pathlib import Path

import pytest

import evokit as ek
from evokit.export.exporting import _distinct
from evokit.search import distinct_networks

sys.path.insert(0, str(Path(__file__).parent.parent / "examples"))
from own_encoding import Widths  # noqa: E402


class InertWidths(Widths):
    """Widths where a width of 1 means "no layer": ``[8, 1]``, ``[1, 8]`` and ``[8]`` are one network."""

    def decode(self, genotype, input_shape, n_outputs, task="classification"):
        return super().decode([w for w in genotype if w > 1] or [8], input_shape, n_outputs, task)


def hidden_layers(evaluation: ek.Evaluation) -> float:
    return float(evaluation.spec.describe().count("dense("))


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("front") / "run"
    search = ek.Search(encoding=InertWidths(max_layers=3, widths=(1, 8, 16)),
                       objectives=[ek.fitness.ParameterCount(),
                                   ek.fitness.Objective(hidden_layers, weight=1.0, needs_training=False)],
                       data=ek.datasets.load("iris"), algorithm=ek.algorithms.NSGA2(population=12, generations=4),
                       seed=0, progress=False, run_dir=str(run_dir), final_training=None)
    return search.run()


def test_the_front_holds_each_network_once(result):
    hashes = [c.spec.hash for c in result.pareto_front]
    assert len(hashes) == len(set(hashes)) >= 2
    # the genotypes that decode to the smallest network were on DEAP's front too: one of them is kept
    assert result.pareto_front[0].values["params"] == min(c.values["params"] for c in result.pareto_front)
    networks = [c.spec.describe() for c in result.hall_of_fame]
    assert len(networks) == len(set(networks))


def test_table_csv_and_summary_list_each_network_once(result):
    run_dir = Path(result.run_dir)
    rows = list(csv.DictReader(open(run_dir / "pareto.csv")))
    assert len(rows) == len(result.pareto_front)
    summary = json.loads((run_dir / "summary.json").read_text())
    hashes = [m["hash"] for m in summary["hall_of_fame"]]
    assert len(hashes) == len(set(hashes)) == len(result.hall_of_fame)
    assert len(result.table().strip().splitlines()) == len(result.hall_of_fame) + 1  # a header, a row each


def test_distinct_networks_keeps_the_first_of_each(result):
    first = result.pareto_front[0]
    twin = ek.Candidate([99], first.spec, dict(first.values), first.evaluation, "another genotype")
    assert distinct_networks([first, twin, *result.pareto_front[1:]]) == result.pareto_front
    broken = [ek.Candidate([1], None, {}, first.evaluation), ek.Candidate([1], None, {}, first.evaluation)]
    assert len(distinct_networks(broken)) == 1


class Records:
    """What ``_distinct`` asks of the run's records: the record of a summary entry."""

    def __init__(self, hashes):
        self.hashes = hashes

    def find(self, member):
        return {"hash": self.hashes[member["description"]]}


def test_an_older_runs_front_is_exported_once_per_network():
    entries = [{"description": "D8", "values": {}}, {"description": "D8 > D1", "values": {}},
               {"description": "D16", "values": {}}]
    kept = _distinct(Records({"D8": "a", "D8 > D1": "a", "D16": "b"}), entries)
    assert [m["description"] for m in kept] == ["D8", "D16"]
    with_hashes = [{"description": "x", "hash": "h"}, {"description": "y", "hash": "h"}]
    assert len(_distinct(Records({}), with_hashes)) == 1
