"""examples/gan_pso.py: PSO over DCGAN pairs on digits, the best generator's test scores beside the baselines."""
import pytest


@pytest.mark.slow  # trains the feature classifier and a few pairs (~25 s); tests/test_gan.py runs a search by default
def test_gan_example_prints_the_best_generators_scores_and_the_baselines(load_example, tmp_path, capsys):
    result = load_example("gan_pso").main(str(tmp_path / "run"), population=3, generations=0, epochs=3)
    out = capsys.readouterr().out
    assert result.stats["trained"] == 3 and set(result.stats["failures"]) <= {"mode_collapse", "diverged"}
    assert f"test Fréchet distance {result.test_scores['test_frechet']:.2f} (real images" in out
    assert (tmp_path / "run" / "samples" / "best.png").is_file()
    assert (tmp_path / "run" / "samples" / "gen_0000.png").is_file()
