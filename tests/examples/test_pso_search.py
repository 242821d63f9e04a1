"""The PSO example runs on a tiny budget and prints the best network and its accuracy."""


def test_pso_search_example_prints_best_network_and_accuracy(load_example, small_digits, tmp_path, capsys):
    result = load_example("pso_search").main(str(tmp_path / "run"), population=3, generations=1, epochs=1, data=small_digits)
    out = capsys.readouterr().out
    assert "PSO: 1 generations of 3 particles" in out
    assert f"best network ({result.best.params:,} parameters)" in out
    assert f"validation accuracy: {result.best.values['val_accuracy']:.3f}" in out
    assert f"test accuracy: {result.test_scores['test_accuracy']:.3f}" in out
    assert result.stats["trained"] >= 3 and (tmp_path / "run" / "best.keras").is_file()
