"""examples/swap_encodings.py: every encoding in the same search, one table."""


def test_swap_encodings_runs_every_encoding(load_example, capsys):
    module = load_example("swap_encodings")
    rows = module.main(population=2, generations=0, epochs=1)
    assert [r["encoding"] for r in rows] == list(module.encodings())
    assert all(r["trained"] >= 1 and r["failures"] == 0 and r["params"] > 0 for r in rows)
    assert "| encoding" in capsys.readouterr().out
