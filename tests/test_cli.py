import subprocess
import sys

from evokit.cli import main


def test_run_prints_table_test_accuracy_and_run_dir(tmp_path, capsys):
    code = main(["run", "--population", "3", "--generations", "1", "--epochs", "1", "--final-epochs", "2",
                 "--run-dir", str(tmp_path / "r"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "best candidates" in out and "params" in out
    assert "test accuracy: 0." in out
    assert f"run directory: {tmp_path / 'r'}" in out
    assert (tmp_path / "r" / "best.keras").is_file()


def test_bad_input_exits_2_with_a_message_naming_the_field(capsys):
    out = subprocess.run([sys.executable, "-m", "evokit", "run", "--dataset", "imagenet"], capture_output=True,
                         text=True)
    assert out.returncode == 2 and "--dataset" in out.stderr and "imagenet" in out.stderr
    assert main(["run", "--population", "1", "--quiet"]) == 2
    assert "population=1" in capsys.readouterr().err


def test_help_shows_examples():
    out = subprocess.run([sys.executable, "-m", "evokit", "run", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "examples:" in out.stdout and "evokit run" in out.stdout


def test_resume_continues_a_run_for_more_generations(tmp_path, capsys):
    run_dir = tmp_path / "r"
    assert main(["run", "--population", "3", "--generations", "1", "--epochs", "1", "--final-epochs", "0",
                 "--run-dir", str(run_dir), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["resume", str(run_dir), "--generations", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy: 0." in out and "run directory" in out
    rows = (run_dir / "generations.csv").read_text().splitlines()
    assert len(rows) == 1 + 3  # header + generations 0, 1, 2


def test_resume_of_a_directory_without_a_run_exits_2(tmp_path, capsys):
    assert main(["resume", str(tmp_path)]) == 2
    assert "saved search" in capsys.readouterr().err
