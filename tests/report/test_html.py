"""The HTML report of real (tiny) runs: single- and two-objective, with failures, unfinished; and
the NetSpec diagram."""
import json
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

import evokit as ek
from evokit.runtime.run.directory import RunDirectory
from evokit.netspec import Add, Concat, Conv2D, Dense, Flatten, Graph
from evokit.report.diagram import layer_rows, netspec_svg
from evokit.report.html import write_report
from evokit.report.rundata import best_records
from evokit.runtime.run.directory import read_run

sys.path.insert(0, str(Path(__file__).parents[1]))
from _faults import FaultEncoding  # noqa: E402


def tiny_run(path, data, objectives, algorithm=None, encoding=None):
    """A real search, as small as it gets: population 3, one generation, one epoch."""
    encoding = encoding or ek.encodings.DeepGA(max_conv_blocks=2, max_dense=1, filters=(4, 8), units=(8, 16))
    algorithm = algorithm or (ek.algorithms.GA(population=3, generations=1) if len(objectives) == 1
                              else ek.algorithms.NSGA2(population=3, generations=1))
    ek.Search(encoding=encoding, objectives=objectives, data=data, algorithm=algorithm, seed=0, run_dir=path,
              progress=False).run()
    return Path(path)


@pytest.fixture(scope="module")
def single_run(small_digits, tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("single") / "run", small_digits, [ek.fitness.ValidationAccuracy(epochs=1)])


@pytest.fixture(scope="module")
def two_objective_run(small_digits, tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("two") / "run", small_digits,
                    [ek.fitness.ValidationAccuracy(epochs=1), ek.fitness.CO2(mode="estimated")])


class Page(HTMLParser):
    """The parts of a page the tests look at: images, scripts/links/styles, section titles, tables."""

    def __init__(self, text):
        super().__init__()
        self.images, self.external, self.h2, self.tables, self._in, self.cells = [], [], [], 0, None, []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag in ("script", "link", "iframe") or (tag in ("img", "a") and re.match(
                r"(https?:|//)", attrs.get("src") or attrs.get("href") or "")):
            self.external.append((tag, attrs))
        if tag == "table":
            self.tables += 1
        self._in = tag

    def handle_data(self, data):
        if self._in == "h2":
            self.h2.append(data.strip())
        if self._in in ("td", "code", "b"):
            self.cells.append(data.strip())

    def handle_endtag(self, tag):
        self._in = None


def test_single_objective_report_has_every_section(single_run):
    path = write_report(single_run)
    assert path == single_run / "report.html"
    text = path.read_text()
    page = Page(text)
    assert page.external == [] and "@import" not in text and "url(" not in text  # self-contained
    assert page.h2 == ["Convergence", "Search cost", "Pareto front: accuracy vs parameters", "Best architectures",
                       "Generations", "Configuration"]
    assert all(src.startswith(("data:image/png;base64,", "data:image/svg+xml;base64,")) for src in page.images)
    summary = json.loads((single_run / "summary.json").read_text())
    config = json.loads((single_run / "config.json").read_text())
    assert '<span class="badge finished">finished</span>' in text and "badge unfinished" not in text
    assert f"{100 * summary['test_scores']['test_accuracy']:.1f}%" in text
    assert f"{summary['best']['params']:,}" in text and f"{summary['best']['flops']:,}" in text
    for fact in ("digits", "DeepGA", "GA", "generations"):  # header: dataset, encoding, algorithm, stopped by
        assert f"</b>{fact}</span>" in text, fact
    assert json.dumps(config["encoding"])[1:-1].replace("'", "&#x27;") in text  # the configuration, escaped
    # best architectures: the run's best first, each with a diagram and its layer table
    best = best_records(read_run(single_run))
    assert best[0]["description"] == summary["best"]["description"]
    assert len(best) == min(3, len({r["hash"] for r in ek.runtime.read_candidates(single_run) if r["status"] == "ok"}))
    assert len(page.images) == 2 + len(best)  # convergence, front, one diagram each
    spec = ek.NetSpec.from_dict(best[0]["netspec"])
    for row in layer_rows(spec):
        assert row["layer"] in page.cells and row["output_shape"] in page.cells
    assert f"{spec.params:,}" in page.cells
    assert "coloured by generation" in text  # single objective, no CO2 objective


def test_search_cost_matches_the_summary(single_run):
    text = write_report(single_run).read_text()
    stats = json.loads((single_run / "summary.json").read_text())["stats"]
    cost = re.search(r"<h2>Search cost</h2>(.*?)</section>", text, re.S).group(1)
    cells = dict(re.findall(r"<tr><td>(.*?)</td><td class=n>(.*?)</td></tr>", cost))
    assert cells["trainings"] == str(stats["trained"]) and cells["cache hits"] == str(stats["cache_hits"])
    assert cells["candidates evaluated"] == str(stats["evaluated"]) and cells["failures"] == "0"
    wh = stats["search_cost"]["energy_kwh_estimated"] * 1000
    assert cells["energy, estimated"] == f"{wh:.3g} Wh"
    assert cells["CO2, estimated"] == f"{stats['search_cost']['co2_kg_estimated'] * 1000:.3g} g CO2-eq"


def test_two_objective_report_colours_the_front_by_co2(two_objective_run):
    text = write_report(two_objective_run).read_text()
    assert "coloured by CO2" in text and "co2_kg" in text
    run = read_run(two_objective_run)
    assert run.names == ["val_accuracy", "co2_kg"] and run.weights == [1.0, -1.0]
    summary = json.loads((two_objective_run / "summary.json").read_text())
    best = best_records(run)
    assert [r["description"] for r in best] == [m["description"] for m in summary["hall_of_fame"][:3]]
    # the front table lists exactly the candidates no other is both as accurate as and smaller than
    ok = {r["hash"]: r for r in ek.runtime.read_candidates(two_objective_run) if r["status"] == "ok"}
    front = [r for r in ok.values() if not any(o["val_accuracy"] >= r["val_accuracy"] and o["params"] <= r["params"]
                                               and (o["val_accuracy"], o["params"]) != (r["val_accuracy"], r["params"])
                                               for o in ok.values())]
    assert f"the {len(front)} non-dominated candidates" in text
    for r in front:
        assert f"<code>{escape(r['network'])}</code>" in text


def test_unfinished_run_reports_what_exists(single_run, tmp_path):
    run_dir = tmp_path / "killed"
    shutil.copytree(single_run, run_dir)
    (run_dir / "summary.json").unlink()  # as if killed after its last checkpoint
    with (run_dir / "candidates.jsonl").open("a") as f:
        f.write('{"generation": 2, "genotype": {"conv"')  # a record cut short by the kill
    records = ek.runtime.read_candidates(single_run)
    text = write_report(run_dir).read_text()
    assert "badge unfinished" in text and "no summary.json" in text and "1 line(s) of candidates.jsonl" in text
    cost = dict(re.findall(r"<tr><td>(.*?)</td><td class=n>(.*?)</td></tr>",
                           re.search(r"<h2>Search cost</h2>(.*?)</section>", text, re.S).group(1)))
    assert cost["candidates evaluated"] == str(len(records))
    assert cost["trainings"] == str(sum(not r["cached"] for r in records))
    assert float(cost["energy, estimated"].split()[0]) > 0
    assert len(Page(text).images) >= 3 and "Best architectures" in text


def test_run_killed_before_its_first_generation(small_digits, tmp_path):
    search = ek.Search(encoding=ek.encodings.DeepGA(), objectives=ek.fitness.ValidationAccuracy(), data=small_digits,
                       run_dir=tmp_path, progress=False)
    RunDirectory(tmp_path).start()
    RunDirectory(tmp_path, resume=True).write_json("config.json", search.config())
    text = write_report(tmp_path).read_text()
    assert "badge unfinished" in text and "no complete generation" in text and "No trained network yet" in text
    assert "No generation has finished yet" in text and "no trained candidate yet" not in text  # front: an image
    assert len(Page(text).images) == 1


def test_failed_candidates_are_listed(small_digits, tmp_path):
    run_dir = tiny_run(tmp_path / "faults", small_digits, [ek.fitness.ValidationAccuracy(epochs=1)],
                       algorithm=ek.algorithms.GA(population=4, generations=0, cxpb=0.0, mutpb=0.0),
                       encoding=FaultEncoding())  # ok, NaN loss, crash in training, cannot be built
    text = write_report(run_dir).read_text()
    assert "Failed candidates (3)" in text
    assert "failures</td><td class=n>3 (build_error: 1, exception: 1, nan_loss: 1)" in text
    assert "injected crash during training" in text
    best = best_records(read_run(run_dir))
    assert [r["genotype"][0] for r in best] == ["ok"]


def test_everything_from_the_run_is_escaped(single_run, tmp_path):
    run_dir = tmp_path / "<b>run</b>"
    shutil.copytree(single_run, run_dir)
    config = json.loads((run_dir / "config.json").read_text())
    config["encoding"] = "<script>alert(1)</script>(x)"
    config["seed"] = "<img src=x onerror=alert(2)>"
    (run_dir / "config.json").write_text(json.dumps(config))
    records = [json.loads(line) for line in (run_dir / "candidates.jsonl").read_text().splitlines()]
    for r in records:
        r["description"] = "<i>evil</i>"
        r["network"] = "<svg onload=alert(3)>"
    (run_dir / "candidates.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (run_dir / "summary.json").unlink()
    text = write_report(run_dir).read_text()
    assert "<script" not in text and "<img src=x" not in text and "<svg onload" not in text and "<i>evil" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&lt;i&gt;evil&lt;/i&gt;" in text
    assert "&lt;b&gt;run&lt;/b&gt;" in text


@pytest.mark.parametrize("make", ["missing", "file", "empty"])
def test_a_path_without_a_run_is_rejected(tmp_path, make):
    path = tmp_path / "x"
    if make == "file":
        path.write_text("not a run")
    elif make == "empty":
        path.mkdir()
    with pytest.raises(ek.errors.ConfigError, match=r"run_dir=.*is invalid"):
        write_report(path)


def test_diagram_draws_every_layer_and_every_connection():
    g = Graph((8, 8, 1))
    a = g.add(Conv2D(4), g.input)
    b = g.add(Conv2D(4), a)
    c = g.add(Conv2D(4), b)
    d = g.add(Add(), a, c)  # a skip over two layers
    e = g.add(Concat(), g.input, d, b)  # three branches meet
    spec = g.finish(g.add(Dense(10, "softmax"), g.add(Flatten(), e)))
    svg = netspec_svg(spec, title="<net>")
    root = ET.fromstring(svg)  # well-formed XML, title escaped
    ns = "{http://www.w3.org/2000/svg}"
    assert int(root.get("width")) > 0 and int(root.get("height")) > 0
    boxes = root.findall(f"{ns}rect")[1:]  # the first is the background
    assert len(boxes) == len(spec) + 1  # the input and one box per layer
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert texts[0] == "<net>"
    for i, node in enumerate(spec.nodes):
        assert node.layer.describe() in texts and "(" + ", ".join(map(str, spec.shapes[i])) + ")" in texts
    short = root.findall(f"{ns}line")
    arcs = root.findall(f"{ns}path")  # the arrow head is in <defs>, not a child of the root
    edges = sum(len(n.inputs) for n in spec.nodes)
    assert len(short) + len(arcs) == edges
    assert len(arcs) == 3  # a -> add, input -> concat, b -> concat
    # arcs that share a box meet it at different heights
    ends = [tuple(re.findall(r"[-\d.]+", p.get("d"))[-2:]) for p in arcs]
    assert len(set(ends)) == len(ends)
    rows = layer_rows(spec)
    assert [r["inputs"] for r in rows] == [None, None, None, [0, 2], ["input", 3, 1], None, None]
    assert sum(r["params"] for r in rows) == spec.params
