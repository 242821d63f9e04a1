"""examples/gp_search.py runs on a tiny budget and prints the best tree, its network and accuracy."""


def test_gp_search_prints_best_tree_network_and_accuracy(load_example, tmp_path, capsys):
    result = load_example("gp_search").main(str(tmp_path / "run"), population=2, generations=1, epochs=1)
    out = capsys.readouterr().out
    assert f"best tree: {result.best.description}" in out
    assert result.best.spec.summary() in out
    assert f"validation accuracy: {result.best.values['val_accuracy']:.3f}" in out
    assert f"test accuracy: {result.test_scores['test_accuracy']:.3f}" in out
    assert result.stats["generations"] == 1 and result.stats["failures"] == {}
    assert (tmp_path / "run" / "best.keras").is_file()
