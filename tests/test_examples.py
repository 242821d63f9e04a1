"""The examples run (on a small budget) and print what they promise."""
import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nsga2_co2_prints_front_totals_and_comparison(tmp_path, capsys):
    _load("nsga2_co2").main(str(tmp_path / "run"), population=4, generations=1)
    out = capsys.readouterr().out
    assert "Pareto front" in out and "g CO2-eq" in out
    assert "measured (CodeCarbon):" in out and "estimated (Green Algorithms" in out
    assert "measured / estimated energy over the same" in out


def test_swap_encodings_runs_every_encoding(capsys):
    rows = _load("swap_encodings").main(population=2, generations=0, epochs=1)
    assert [r["encoding"] for r in rows] == list(_load("swap_encodings").encodings())
    assert all(r["trained"] >= 1 and r["failures"] == 0 and r["params"] > 0 for r in rows)
    assert "| encoding" in capsys.readouterr().out
