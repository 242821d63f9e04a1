"""examples/text_search.py: the backprop TextCNN search and DeepNEWT, each on a tiny budget."""
import pytest

import evokit as ek


@pytest.fixture(scope="module")
def small_languages():
    return ek.datasets.load("languages", seed=0).subset(n_train=300, n_val=150)


def test_both_modes_run_and_print_their_results(load_example, small_languages, capsys):
    budget = {"backprop": {"population": 2, "generations": 1, "epochs": 1},
              "deepnewt": {"population": 6, "generations": 2}}
    results = load_example("text_search").main("both", data=small_languages, **budget)
    out = capsys.readouterr().out
    backprop, newt = results["backprop"], results["deepnewt"]
    assert backprop.stats["trained"] >= 2 and not backprop.stats["failures"]
    assert type(backprop.best.spec.nodes[0].layer).__name__ == "Embedding"
    assert f"test accuracy of the best: {backprop.test_scores['test_accuracy']:.3f}" in out
    assert newt.stats["evaluated"] >= 6 and not newt.stats["failures"]
    assert "DeepNEWT (gradient-free):" in out and "/s)" in out
    assert f"test accuracy {newt.test_scores['test_accuracy']:.3f}" in out
