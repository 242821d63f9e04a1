"""The report of a GAN run shows its generated samples: the final model's grid first ("Best
generator"), then the best generator's grid over at most eight generations, evenly spaced with the
first and the last, each labelled ``gen N · FD value``, inlined; a run without ``samples/`` has no
such section. Run directories made by hand: nothing trains."""
import base64
import json
import re

import numpy as np

from evokit.report.html import write_report
from evokit.report.samples import SHOWN, caption, metric_label, shown_grids, spread
from evokit.runtime.run.samples import BEST, SAMPLES_DIR, record_generation, write_grid

GENERATIONS = 12


def _run(path, objective="val_frechet"):
    """A killed GAN run's files: config, statistics of GENERATIONS generations, no candidate record."""
    path.mkdir()
    (path / "config.json").write_text(json.dumps({"task": "gan", "seed": 0, "objectives": [
        f"FrechetDistance(name='{objective}', weight=-1.0)"]}))
    rows = ["gen,evaluated,%s_max,%s_avg,%s_min" % ((objective,) * 3)]
    rows += [f"{g},4,{40 - g},{30 - g},{20 - g}" for g in range(GENERATIONS)]
    (path / "generations.csv").write_text("\n".join(rows) + "\n")
    (path / "candidates.jsonl").write_text("")
    return path


def _samples(value):
    return np.full((4, 8, 8, 1), value, np.uint8)


def _with_grids(path, objective="val_frechet"):
    for g in range(GENERATIONS):  # the best generator changes every third generation
        record_generation(path, g, _samples(g // 3 * 30), value=20.0 - g / 3, objective=objective)
    return path


def _section(text):
    found = re.search(r"<section><h2>Generated samples</h2>(.*?)</section>", text, re.S)
    return found.group(1) if found else None


def _figures(section):
    """(image bytes, caption) of each figure of the section, in order."""
    return [(base64.b64decode(data), label) for data, label in re.findall(
        r'<figure><img class="pixels" alt="[^"]*" src="data:image/png;base64,([^"]+)"><figcaption>(.*?)</figcaption>',
        section)]


def test_a_gan_run_shows_its_best_generator_then_its_grids_over_generations(tmp_path):
    run = _with_grids(_run(tmp_path / "gan"))
    write_grid(run / SAMPLES_DIR / BEST, _samples(255))
    section = _section(write_report(run).read_text())
    assert section is not None
    assert section.index("<h3>Best generator</h3>") < section.index("Best generator over generations")
    assert "after 8 of 12 generations (evenly spaced)" in section
    figures = _figures(section)
    assert len(figures) == 1 + SHOWN
    assert figures[0] == ((run / SAMPLES_DIR / BEST).read_bytes(), "best generator")
    shown = [0, 2, 3, 5, 6, 8, 9, 11]
    assert [label.split(" · ")[0] for _, label in figures[1:]] == [f"gen {g}" for g in shown]
    assert figures[1][1] == "gen 0 · FD 20" and figures[-1][1] == "gen 11 · FD 16.33 (unchanged)"
    assert [data for data, _ in figures[1:]] == [(run / SAMPLES_DIR / f"gen_{g:04d}.png").read_bytes() for g in shown]
    assert [label.endswith("(unchanged)") for _, label in figures[1:]] == [
        False, True, False, True, False, True, False, True]  # 0-2, 3-5, 6-8, 9-11 share a generator


def test_a_run_without_samples_has_no_such_section(tmp_path):
    text = write_report(_run(tmp_path / "plain")).read_text()
    assert _section(text) is None and "Generated samples" not in text and 'class="pixels"' not in text
    (tmp_path / "plain" / SAMPLES_DIR).mkdir()  # an empty folder is no samples either
    assert "Generated samples" not in write_report(tmp_path / "plain").read_text()


def test_only_a_best_grid_or_only_few_generations(tmp_path):
    run = _run(tmp_path / "best")
    write_grid(run / SAMPLES_DIR / BEST, _samples(7))
    section = _section(write_report(run).read_text())
    assert len(_figures(section)) == 1 and "over generations" not in section
    run = _run(tmp_path / "few")
    record_generation(run, 0, _samples(1), value=float("inf"), objective="val_frechet")
    record_generation(run, 1, _samples(2), value=3.5, objective="val_frechet")
    section = _section(write_report(run).read_text())
    assert "<h3>Best generator</h3>" not in section and "after each of 2 generation(s)" in section
    assert [label for _, label in _figures(section)] == ["gen 0", "gen 1 · FD 3.5"]


def test_what_the_run_wrote_is_escaped(tmp_path):
    run = _with_grids(_run(tmp_path / "odd"), objective="<b>odd</b>")
    section = _section(write_report(run).read_text())
    assert "<b>odd" not in section and "&lt;b&gt;odd&lt;/b&gt;" in section


def test_which_generations_and_how_they_are_named():
    assert spread(list(range(12))) == [0, 2, 3, 5, 6, 8, 9, 11]
    assert spread(list(range(5))) == [0, 1, 2, 3, 4] and spread([], 8) == [] and spread([1, 2, 3], 1) == [3]
    many = spread(list(range(1000)))
    assert len(many) == SHOWN == len(set(many)) and many[0] == 0 and many[-1] == 999
    assert metric_label("val_frechet") == "FD" and metric_label("my_score") == "my score"
    assert caption({"generation": 3, "objective": "val_frechet", "value": 12.4}) == "gen 3 · FD 12.4"
    assert caption({"generation": 3, "objective": "val_frechet", "value": None}) == "gen 3"


def test_shown_grids_of_a_run_without_samples(tmp_path):
    assert shown_grids(tmp_path) == []
