"""Text tables of candidates (issue 21, item 7): ``result.table()`` and ``evokit run``'s tables
show each column once and parameter counts as whole numbers (35,790, never 3.579e+04)."""
import math

import evokit as ek
from evokit.report.text import column, table
from evokit.search import Candidate, Result


def test_whole_numbers_in_full_fractions_to_four_digits_tiny_values_in_e_notation():
    assert column([35790.0, 1443, 42.0]) == ["35,790", "1,443", "42"]
    assert column([1.0, 0.96551, 0.931]) == ["1.0000", "0.9655", "0.9310"]  # one format per column
    assert column([12.3456, 1.5]) == ["12.35", "1.50"]
    assert column([12345.67, 3.2]) == ["12,346", "3"]
    assert column([1.864e-06, 1.331e-06]) == ["1.864e-06", "1.331e-06"]
    assert column([math.inf, -math.inf, math.nan, None, 0.5]) == ["inf", "-inf", "nan", "-", "0.5000"]


def test_a_column_named_twice_is_shown_once():
    rows = [{"val_accuracy": 0.9655, "params": 35790, "network": "[C4k3] [D8]"}]
    text = table(rows, ["val_accuracy", "params", "params"], "network")
    header, line = text.splitlines()
    assert header.split() == ["rank", "val_accuracy", "params", "network"]
    assert line.split() == ["1", "0.9655", "35,790", "[C4k3]", "[D8]"]


def _candidate(accuracy: float, spec: ek.NetSpec) -> Candidate:
    evaluation = ek.Evaluation(spec, metrics={"val_accuracy": accuracy})
    return Candidate(None, spec, {"val_accuracy": accuracy, "params": float(spec.params)}, evaluation, "[D3]")


def test_result_table_has_no_duplicate_params_column_and_no_e_notation():
    g = ek.netspec.Graph((11929,))
    spec = g.finish(g.add(ek.netspec.Dense(3, "softmax"), g.input))  # 35,790 parameters
    front = [_candidate(0.9655, spec), _candidate(0.931, spec)]
    result = Result(best=front[0], hall_of_fame=front, pareto_front=front, history=[], test_scores={}, stats={},
                    objective_names=["val_accuracy", "params"])
    header, *lines = result.table().splitlines()
    assert header.split() == ["rank", "val_accuracy", "params", "network"]
    assert [line.split()[1:3] for line in lines] == [["0.9655", "35,790"], ["0.9310", "35,790"]]
    assert "e+" not in result.table()
