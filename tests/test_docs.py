"""The documentation builds offline (MkDocs, strict: no broken links, anchors or references, no
docstring warnings) and its API reference is generated from the docstrings of the public names;
every page is in the navigation, every example is linked from the guide, and the guide's
runnable snippets run."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
GUIDE = ("concepts", "encodings", "objectives", "searches", "runtime", "reliability", "cli", "compare", "service",
         "segmentation", "gan", "data", "export", "callbacks", "own_encoding")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = tmp_path_factory.mktemp("docs") / "site"
    # no -q: it silences the warnings, and strict mode only fails on warnings it sees
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("WARNING")]
    assert not warnings, warnings
    return site


def page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text()


def test_api_reference_renders_the_public_names_from_their_docstrings(site):
    api = page(site, "api/evokit")
    for name in ("evokit.search.Search", "evokit.search.Budget", "evokit.search.Result", "evokit.deap_toolbox.toolbox",
                 "evokit.builder.build"):
        assert f'id="{name}"' in api, name
    assert "When a search stops: after whichever limit is reached first" in api  # from the docstring
    encodings = page(site, "api/encodings")
    assert "hybrid encoding (conv blocks + dense blocks + skip-connection bits)" in encodings


def test_compare_report_config_and_presets_have_api_pages(site):
    compare = page(site, "api/compare")
    for name in ("evokit.comparison.compare", "evokit.comparison.Comparison", "evokit.comparison.Comparison.table",
                 "evokit.comparison.RunSummary"):
        assert f'id="{name}"' in compare, name
    assert "Run every search with every seed on the same data and budget and compare them." in compare
    assert "Best validation accuracy so far vs networks trained" in compare  # Comparison.plot_convergence
    report = page(site, "api/report")
    assert 'id="evokit.report.write_report"' in report
    assert "a self-contained page about the run" in report  # write_report's docstring
    config = page(site, "api/config")
    assert 'id="evokit.config.load"' in config and 'id="evokit.config.from_dict"' in config
    presets = page(site, "api/presets")
    assert 'id="evokit.presets.deepga"' in presets
    assert "The defaults are <code>evokit run</code>" in presets  # deepga's docstring


def test_every_guide_page_is_built_and_every_page_is_in_the_navigation(site):
    for name in GUIDE:
        assert (site / "guide" / name / "index.html").exists(), name
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def files(nav):
        for item in nav:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            yield from files(value) if isinstance(value, list) else [value]

    in_nav = set(files(config["nav"]))
    on_disk = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert on_disk - in_nav == set(), "pages missing from the mkdocs.yml nav"
    assert in_nav - on_disk == set(), "nav entries without a page"


def test_every_example_is_linked_from_the_docs():
    text = "\n".join(p.read_text() for p in DOCS.rglob("*.md"))
    examples = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "examples").glob("*.py"))
    assert examples
    missing = [e for e in examples if e not in text]
    assert not missing, missing


def snippets():
    for path in sorted(DOCS.rglob("*.md")):
        for i, match in enumerate(re.finditer(r"<!-- doctest -->\n```python\n(.*?)```", path.read_text(), re.S)):
            yield pytest.param(path, match.group(1), id=f"{path.relative_to(DOCS)}-{i}")


@pytest.mark.parametrize("path,code", list(snippets()))
def test_guide_snippet_runs(path, code, capsys):
    """Snippets marked ``<!-- doctest -->`` (cheap ones: evolve on toy problems) run as written."""
    exec(compile(code, str(path), "exec"), {"__name__": "docs_snippet"})
    assert capsys.readouterr().out.strip()  # each prints its result


def test_snippets_are_found():
    assert len(list(snippets())) >= 2
