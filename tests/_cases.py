"""Case files of the conformance suites: each ``*.py`` file of a folder defines ``CASES = {name:
...}``; a suite loads them all (adding an implementation to a suite means adding one file)."""
import importlib.util
from pathlib import Path


def load_cases(folder: Path) -> dict:
    """The ``CASES`` of every ``*.py`` file in ``folder``, merged (files in name order)."""
    cases = {}
    for path in sorted(Path(folder).glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"cases_{Path(folder).name}_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases.update(module.CASES)
    return cases
