"""examples/custom_ga.py: DEAP's eaSimple on an evokit toolbox, with HallOfFame, Statistics and Logbook."""

import pytest


def test_custom_ga_prints_the_logbook_and_the_best_network(load_example, small_digits, capsys):
    out = load_example("custom_ga").main(population=4, generations=2, epochs=1, data=small_digits)
    printed = capsys.readouterr().out
    logbook = out["logbook"]
    assert logbook.header == ["gen", "nevals", "avg", "std", "min", "max"]
    assert [r["gen"] for r in logbook] == [0, 1, 2] and logbook[0]["nevals"] == 4
    for record in logbook:
        assert 0 <= record["min"] <= record["avg"] <= record["max"] <= 1
    # the hall of fame holds the best ever seen, which the logbook's maxima show
    assert out["val_accuracy"] == pytest.approx(max(logbook.select("max")))
    assert out["hall_of_fame"][0].fitness.values[0] == out["val_accuracy"]
    assert 1 <= out["trained"] <= sum(logbook.select("nevals"))  # identical networks train once
    assert 0 < out["test_accuracy"] <= 1 and out["params"] > 0
    assert "logbook (validation accuracy):" in printed and "gen\tnevals\tavg" in printed
    assert "best network: S1[" in printed and f"params: {out['params']:,}" in printed
    assert f"test accuracy {out['test_accuracy']:.3f}" in printed
