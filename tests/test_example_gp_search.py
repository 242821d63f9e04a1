"""examples/gp_search.py runs on a tiny budget and prints the best tree, its network and accuracy."""
import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).parent.parent / "examples" / "gp_search.py"


def _load():
    spec = importlib.util.spec_from_file_location("gp_search", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gp_search_prints_best_tree_network_and_accuracy(tmp_path, capsys):
    result = _load().main(str(tmp_path / "run"), population=2, generations=1, epochs=1)
    out = capsys.readouterr().out
    assert f"best tree: {result.best.description}" in out
    assert result.best.spec.summary() in out
    assert f"validation accuracy: {result.best.values['val_accuracy']:.3f}" in out
    assert f"test accuracy: {result.test_scores['test_accuracy']:.3f}" in out
    assert result.stats["generations"] == 1 and result.stats["failures"] == {}
    assert (tmp_path / "run" / "best.keras").is_file()
