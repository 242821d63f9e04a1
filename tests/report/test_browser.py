"""The report in a real headless Chromium: it loads with no error, requests nothing outside the
file, and every image renders.

Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package. When the CI
environment variable is set, a missing browser fails the test; elsewhere it is skipped.
"""
import shutil
import struct
import sys
from pathlib import Path

import pytest

import evokit as ek
from evokit.report.html import write_report

sys.path.insert(0, str(Path(__file__).parent))
from browser import check_page, require_browser  # noqa: E402
from test_html import tiny_run  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def browser():
    require_browser("the browser test")


@pytest.fixture(scope="module")
def runs(small_digits, tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    return {"single": tiny_run(root / "single", small_digits, [ek.fitness.ValidationAccuracy(epochs=1)]),
            "two": tiny_run(root / "two", small_digits, [ek.fitness.ValidationAccuracy(epochs=1),
                                                         ek.fitness.ParameterCount()])}


def _png_size(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("kind", ["single", "two"])
def test_report_loads_cleanly_and_every_image_renders(runs, kind, tmp_path):
    report = write_report(runs[kind])
    shot = tmp_path / "report.png"
    page = check_page(report, screenshot=shot, selectors=[".arch table.layers", ".arch img", "section h2"])
    assert page.console_errors == [] and page.failed_requests == [] and page.external_requests == []
    assert len(page.images) >= 3 and page.broken_images == []
    assert all(i["naturalWidth"] > 50 and i["naturalHeight"] > 50 for i in page.images)
    assert page.counts[".arch table.layers"] == page.counts[".arch img"] >= 1  # a layer table beside each diagram
    assert page.counts["section h2"] >= 6
    assert "Best architectures" in page.text and "output shape" in page.text and page.title.startswith("evokit report")
    width, height = _png_size(shot)
    assert width == 1280 and height > 1500  # the whole page, not just the window


def test_unfinished_report_loads_cleanly(runs, tmp_path):
    run_dir = tmp_path / "killed"
    shutil.copytree(runs["single"], run_dir)
    (run_dir / "summary.json").unlink()
    page = check_page(write_report(run_dir))
    assert page.ok and len(page.images) >= 3
    assert "unfinished" in page.text


def test_the_checker_sees_broken_images_and_errors(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="data:image/png;base64,AAAA">'
                   '<img src="missing.png"><script>console.error("boom")</script></body></html>')
    page = check_page(bad)
    assert not page.ok
    assert len(page.broken_images) == 2
    assert any("boom" in e for e in page.console_errors)
    assert any("missing.png" in r for r in page.failed_requests), (page.failed_requests, page.console_errors)
