"""examples/segmentation.py: NSGA-II over UNetTree cells on cells, the front and the threshold printed."""


def test_segmentation_example_prints_the_front_test_dice_and_the_threshold(load_example, tmp_path, capsys):
    result = load_example("segmentation").main(str(tmp_path / "run"), population=2, generations=0, epochs=1,
                                               n_train=100)
    out = capsys.readouterr().out
    assert result.stats["trained"] >= 2 and not result.stats["failures"]
    scores = result.test_scores
    assert {"test_dice", "test_iou", "test_pixel_accuracy"} <= set(scores)
    assert 0.0 <= scores["test_iou"] <= scores["test_dice"] <= 1.0  # IoU = Dice / (2 - Dice) per class
    assert f"test Dice {scores['test_dice']:.3f}, IoU {scores['test_iou']:.3f}" in out
    assert "best global threshold (chosen on the training images): test Dice 0.6" in out
    lines = [line for line in out.splitlines() if line.startswith("  Dice ")]
    assert 1 <= len(lines) <= len(result.pareto_front) and "accuracy" not in out
    assert (tmp_path / "run" / "masks.npz").is_file() and (tmp_path / "run" / "best.keras").is_file()
