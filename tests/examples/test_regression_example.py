"""examples/regression.py: a GA on validation R² for diabetes, printed beside RidgeCV."""


def test_regression_example_prints_r2_mae_and_ridge(load_example, tmp_path, capsys):
    result = load_example("regression").main(str(tmp_path / "run"), population=2, generations=1, epochs=3)
    out = capsys.readouterr().out
    assert result.stats["trained"] >= 2 and not result.stats["failures"]
    scores = result.test_scores
    assert {"test_r2", "test_mae", "test_rmse"} <= set(scores)
    assert f"test R²: {scores['test_r2']:.3f}, MAE {scores['test_mae']:.1f}" in out
    assert "RidgeCV (same split): test R²" in out and "accuracy" not in out
    assert (tmp_path / "run" / "summary.json").is_file()
