"""examples/nsga2_co2.py: NSGA-II over accuracy, parameters and CO2, with measured and estimated footprints."""


def test_nsga2_co2_prints_front_totals_and_comparison(load_example, tmp_path, capsys):
    load_example("nsga2_co2").main(str(tmp_path / "run"), population=4, generations=1)
    out = capsys.readouterr().out
    assert "Pareto front" in out and "g CO2-eq" in out
    assert "measured (CodeCarbon):" in out and "estimated (Green Algorithms" in out
    assert "measured / estimated energy over the same" in out
