"""examples/neat_xor.py solves XOR and prints the winner's structure and outputs."""


def test_neat_xor_example_solves_xor_and_prints_the_winner(load_example, capsys):
    result = load_example("neat_xor").main(seed=0, generations=150, population=100)
    out = capsys.readouterr().out
    assert result["solved"] and result["fitness"] >= 3.9
    assert result["hidden"] >= 1  # XOR is not linearly separable: NEAT had to add a neuron
    assert [round(o) for o in result["outputs"]] == [0, 1, 1, 0]
    assert len(result["species"]) == result["generations"] + 1
    assert "solved at generation" in out and f"{result['hidden']} hidden neuron(s)" in out
    assert f"{result['enabled']} enabled connection(s)" in out
    assert "1 xor 0 = 1   network:" in out and out.count(" -> ") == result["enabled"]


def test_neat_xor_example_reports_an_unsolved_run_honestly(load_example, capsys):
    result = load_example("neat_xor").main(seed=1, generations=0, population=10)
    assert result["generations"] == 0 and result["evaluations"] == 10
    assert result["solved"] == (result["fitness"] >= 3.9)
    out = capsys.readouterr().out
    assert ("not solved" in out) == (not result["solved"])
