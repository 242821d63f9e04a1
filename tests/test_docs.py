"""The documentation builds offline (MkDocs, strict: no broken links or references) and its API
reference is generated from the docstrings of the public names."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_docs_build_strict_with_api_reference(tmp_path):
    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    api = (site / "api" / "evokit" / "index.html").read_text()
    for name in ("evokit.search.Search", "evokit.search.Budget", "evokit.search.Result", "evokit.toolbox.toolbox",
                 "evokit.builder.build"):
        assert f'id="{name}"' in api, name
    assert "When a search stops: after whichever limit is reached first" in api  # from the docstring
    encodings = (site / "api" / "encodings" / "index.html").read_text()
    assert "hybrid encoding (conv blocks + dense blocks + skip-connection bits)" in encodings
    for page in ("concepts", "encodings", "objectives", "searches", "runtime", "reliability"):
        assert (site / "guide" / page / "index.html").exists()
