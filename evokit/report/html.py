"""The HTML report of a run directory: one self-contained page (``report.html``) a reader can open
offline or mail to a colleague.

It reads only the plain files a search leaves behind (``config.json``, ``generations.csv``,
``candidates.jsonl``, ``summary.json``; read by ``evokit.runtime.run.directory.read_run``, what to show
chosen by ``evokit.report.rundata``; a segmentation run's ``masks.npz``, drawn by
``evokit.report.masks``; a GAN run's ``samples/`` grids, chosen by ``evokit.report.samples``), so it works for finished runs, runs with failed
candidates, and runs that were killed before they finished (no ``summary.json``: the page shows
what exists and says the run is unfinished). Images are PNG/SVG data URIs, the CSS is inline,
there is no script and no external font; everything taken from the run is HTML-escaped.
"""
from __future__ import annotations

import base64
import io
import json
import math
import re
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from evokit.report.diagram import layer_rows, netspec_svg
from evokit.report.figure import detached, finish, png_bytes
from evokit.report.rundata import accuracy_front, accuracy_key, best_records, co2, cost, headline, is_finite, metric
from evokit.tasks import Metric
from evokit.runtime.run.directory import RunData, read_run

__all__ = ["write_report"]


# -- figures --------------------------------------------------------------------------------------


def _data_uri(mime: str, data: bytes) -> str:
    """``data`` inlined as a ``data:`` URI, so the page needs no other file."""
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _png(fig: Any) -> str:
    return _data_uri("image/png", png_bytes(fig, dpi=100))


def _svg(text: str) -> str:
    return _data_uri("image/svg+xml", text.encode("utf-8"))


def convergence_png(run: RunData) -> str:
    """Best / mean / worst of each objective per generation (``evokit.report.plots.plot_history``),
    as a PNG data URI."""
    from evokit.report.plots import plot_history

    rows = [{k: (v if is_finite(v) else math.nan) if k != "gen" else v for k, v in row.items()} for row in run.rows]
    buffer = io.BytesIO()  # a path-like target makes plot_history draw off-screen and close its figure
    plot_history(rows, run.names, buffer, title="Objectives over generations")
    return _data_uri("image/png", buffer.getvalue())


def _label(run: RunData, key: str) -> str:
    """How the page names a metric key: ``val accuracy``, ``val R²`` for the headline of the run's
    task, else the key with spaces."""
    metric = headline(run)
    return f"val {metric.title}" if key == metric.key("val_") else key.replace("_", " ")


def _value(metric: Metric, value: Any) -> str:
    """A value of ``metric`` as the page shows it: a percentage for a fraction (accuracy), else a number."""
    return _pct(value) if metric.percent else _fmt(value)


def front_figure(run: RunData) -> tuple[Any, list[dict[str, Any]], str]:
    """The headline metric of the run's task (accuracy, R² ...) against parameters of every
    trained candidate, coloured by CO2 (else generation), with the non-dominated ones (best for
    their size) joined by a step line. Returns the figure, the front's records and what the
    colour shows."""
    key, points, front = accuracy_front(run)
    co2s = [co2(r) for r, _, _ in points]
    by_co2 = bool(points) and all(c is not None for c in co2s)
    colour = co2s if by_co2 else [float(r.get("generation") or 0) for r, _, _ in points]
    fig, ax = detached((7.6, 4.2))
    if points:
        scatter = ax.scatter([p for _, _, p in points], [a for _, a, _ in points], c=colour, cmap="viridis",
                             s=28, alpha=0.85, edgecolors="none")
        ax.step([p for _, _, p in front], [a for _, a, _ in front], where="post", color="#d84315", lw=1.4,
                label=f"non-dominated ({headline(run).title} vs size)")
        ax.scatter([p for _, _, p in front], [a for _, a, _ in front], s=70, facecolors="none",
                   edgecolors="#d84315", lw=1.4)
        fig.colorbar(scatter, ax=ax, label="CO2 per candidate (kg CO2-eq)" if by_co2 else "generation")
        sizes = [p for _, _, p in points]
        if min(sizes) > 0 and max(sizes) / min(sizes) > 20:
            ax.set_xscale("log")
        ax.legend(fontsize=8, loc="lower right")
    else:
        ax.text(0.5, 0.5, "no trained candidate yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("parameters")
    ax.set_ylabel(_label(run, key))
    ax.grid(alpha=0.3)
    return finish(fig), [r for r, _, _ in front], "CO2" if by_co2 else "generation"


# -- HTML -----------------------------------------------------------------------------------------

CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;margin:0;background:#f4f6f8;
color:#212121;line-height:1.45}
main{max-width:1080px;margin:0 auto;padding:24px}
header{background:#263238;color:#eceff1;padding:22px 24px}
header .inner{max-width:1080px;margin:0 auto}
h1{margin:0 0 6px;font-size:24px}
h2{font-size:18px;margin:0 0 12px;color:#263238}
h3{font-size:15px;margin:0 0 8px}
section{background:#fff;border-radius:8px;padding:18px 20px;margin:0 0 18px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
.facts span{display:inline-block;margin:4px 18px 0 0;font-size:14px}
.facts b{color:#b0bec5;font-weight:normal;margin-right:4px}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-size:13px;font-weight:bold}
.finished{background:#2e7d32;color:#fff}.unfinished{background:#ef6c00;color:#fff}
.tiles{display:flex;flex-wrap:wrap;gap:12px}
.tile{flex:1 1 150px;background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
.tile .v{font-size:26px;font-weight:bold;color:#1565c0}.tile .k{font-size:13px;color:#607d8b}
img{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border-bottom:1px solid #e0e0e0;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#eceff1}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.arch{display:flex;flex-wrap:wrap;gap:20px;align-items:flex-start;border-top:1px solid #e0e0e0;padding-top:14px;
margin-top:14px}
.arch:first-of-type{border-top:none;margin-top:0;padding-top:0}
.row{display:flex;flex-wrap:wrap;gap:18px;margin:0 0 18px}.row section{margin:0}
.row .convergence{flex:1 1 520px}.row .cost{flex:1 1 300px}
table.layers td:nth-child(2){font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
.arch .diagram{flex:0 0 auto}.arch .detail{flex:1 1 380px;min-width:0}
code,pre{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
pre{background:#f5f5f5;padding:12px;border-radius:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
.note{background:#fff8e1;border-left:4px solid #ffb300;padding:8px 12px;margin:0 0 14px;font-size:14px}
.muted{color:#607d8b;font-size:13px}
.grids{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}.grids figure{margin:0}
.grids figcaption{font-size:12px;color:#607d8b;text-align:center;margin-top:4px}img.pixels{image-rendering:pixelated}
footer{color:#90a4ae;font-size:12px;text-align:center;padding:0 0 24px}
"""


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return escape(str(value))
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 1000):
        return f"{int(value):,}"
    return f"{value:.{digits}g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


def _seconds(value: Any) -> str:
    if not is_finite(value):
        return "–"
    minutes, seconds = divmod(float(value), 60)
    hours, minutes = divmod(int(minutes), 60)
    return (f"{hours} h {minutes} min" if hours else f"{minutes} min {seconds:.0f} s" if minutes
            else f"{seconds:.3g} s")


def _energy(kwh: Any) -> str:
    if not is_finite(kwh):
        return "–"
    return f"{kwh:.3g} kWh" if kwh >= 1 else f"{kwh * 1000:.3g} Wh"


def _mass(kg: Any) -> str:
    if not is_finite(kg):
        return "–"
    return f"{kg:.3g} kg CO2-eq" if kg >= 1 else f"{kg * 1000:.3g} g CO2-eq"


def _pct(value: Any) -> str:
    return f"{100 * value:.1f}%" if is_finite(value) else "–"


def _short(text: Any) -> str:
    """``GA(population=12, ...)`` -> ``GA``; a Dataset repr -> its name."""
    text = str(text or "–")
    found = re.match(r"Dataset\('([^']*)'", text)
    return found.group(1) if found else text.split("(", 1)[0]


def _table(header: list[str], rows: list[list[Any]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f'<th{" class=n" if i in numeric else ""}>{escape(h)}</th>' for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f'<td{" class=n" if i in numeric else ""}>{c}</td>' for i, c in enumerate(row))
                   + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _header(run: RunData) -> str:
    config, stats = run.config, run.stats
    status = ('<span class="badge finished">finished</span>' if run.finished
              else '<span class="badge unfinished">unfinished</span>')
    facts = [("dataset", _short(config.get("data")))] + ([("task", run.task)] if run.task else [])
    facts += [("encoding", _short(config.get("encoding"))),
              ("algorithm", _short(config.get("algorithm"))), ("objectives", ", ".join(run.names) or "–"),
              ("seed", config.get("seed", "–")), ("stopped by", stats.get("stopped_by") or "–")]
    times = [(label, (run.path / name).stat().st_mtime) for label, name in
             (("started", "config.json"), ("finished" if run.finished else "last update",
                                           "summary.json" if run.finished else "candidates.jsonl"))
             if (run.path / name).exists()]
    facts += [(label, datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")) for label, t in times]
    spans = "".join(f"<span><b>{escape(k)}</b>{escape(str(v))}</span>" for k, v in facts)
    return (f'<header><div class="inner"><h1>evokit run report {status}</h1>'
            f'<div class="muted" style="color:#b0bec5">{escape(str(run.path.resolve()))}</div>'
            f'<div class="facts">{spans}</div></div></header>')


def _headline(run: RunData, best: dict[str, Any] | None) -> str:
    summary_best = (run.summary or {}).get("best") or {}
    tests = (run.summary or {}).get("test_scores") or {}
    lead = headline(run)
    val = metric(best, lead.key("val_")) if best else None
    tiles = [(f"validation {lead.title} (best network)", _value(lead, val)),
             (f"test {lead.title} (best model)", _value(lead, tests.get(lead.key("test_")))),
             ("parameters", _fmt(summary_best.get("params", best.get("params") if best else None))),
             ("FLOPs per sample", _fmt(summary_best.get("flops", best.get("flops") if best else None)))]
    html = "".join(f'<div class="tile"><div class="v">{v}</div><div class="k">{escape(k)}</div></div>' for k, v in tiles)
    return f'<section class="tiles" style="background:none;box-shadow:none;padding:0">{html}</section>'


def _architecture(run: RunData, rank: int, record: dict[str, Any]) -> str:
    from evokit.netspec import NetSpec

    values = record.get("fitness") or {}
    lead = headline(run)
    shown = {"co2_kg": _mass, "energy_kwh": _energy}  # objectives repeated below or with a unit of their own
    facts = [f"{escape(n)} {shown[n](values.get(n)) if n in shown else _fmt(values.get(n))}" for n in run.names
             if n not in (lead.key("val_"), "params", "flops")]
    facts += [f"val {escape(lead.title)} {_value(lead, record.get(lead.key('val_')))}",
              f"{_fmt(record.get('params'))} parameters", f"{_fmt(record.get('flops'))} FLOPs",
              f"generation {_fmt(record.get('generation'))}"]
    head = (f"<h3>#{rank} &nbsp;<code>{escape(str(record.get('description') or ''))}</code></h3>"
            f"<div class=muted>{' · '.join(facts)}</div>")
    try:
        spec = NetSpec.from_dict(record["netspec"])
        rows = layer_rows(spec)
        svg = netspec_svg(spec)
    except Exception as exc:  # noqa: BLE001 - e.g. a layer type this process does not know
        return (f'<div class="arch"><div class="detail">{head}<p class="note">This network cannot be drawn here '
                f'({escape(type(exc).__name__)}: {escape(str(exc))}).</p><code>{escape(str(record.get("network")))}'
                "</code></div></div>")
    branched = any(r["inputs"] for r in rows)  # show where a layer reads from only when it is not the layer above
    body = [[r["index"], escape(r["layer"])] + ([escape(", ".join(map(str, r["inputs"] or [])))] if branched else [])
            + [escape(r["output_shape"]), _fmt(r["params"])] for r in rows]
    body.append(["", "<b>total</b>"] + ([""] if branched else []) + [f"FLOPs {_fmt(spec.flops)}",
                                                                     f"<b>{_fmt(spec.params)}</b>"])
    header = ["#", "layer"] + (["inputs"] if branched else []) + ["output shape", "params"]
    table = _table(header, body, numeric={len(header) - 1}).replace("<table>", '<table class="layers">', 1)
    return (f'<div class="arch"><div class="diagram"><img alt="diagram of network #{rank}" src="{_svg(svg)}"></div>'
            f'<div class="detail">{head}{table}</div></div>')


def _cost(run: RunData) -> str:
    c = cost(run)
    failures = c.get("failures") or {}
    rows = [("wall time", _seconds(c.get("wall_time_s"))), ("training time", _seconds(c.get("train_seconds"))),
            ("generations", _fmt(c.get("generations"))), ("candidates evaluated", _fmt(c.get("evaluated"))),
            ("trainings", _fmt(c.get("trained"))), ("cache hits", _fmt(c.get("cache_hits"))),
            ("failures", _fmt(sum(failures.values())) + (" (" + ", ".join(
                f"{escape(str(k))}: {v}" for k, v in sorted(failures.items())) + ")" if failures else "")),
            ("energy, estimated", _energy(c.get("energy_kwh_estimated"))),
            ("CO2, estimated", _mass(c.get("co2_kg_estimated")))]
    if "energy_kwh_measured" in c:
        rows += [("energy, measured", _energy(c.get("energy_kwh_measured"))),
                 ("CO2, measured", _mass(c.get("co2_kg_measured")))]
    html = "<table>" + "".join(f"<tr><td>{escape(k)}</td><td class=n>{v}</td></tr>" for k, v in rows) + "</table>"
    source = ("<p class=muted>As reported by the search (summary.json).</p>" if run.finished else "<p class=muted>Added up from the run's files so far; energy estimated with "
              "Green Algorithms' default constants.</p>")
    return f"<section class=cost><h2>Search cost</h2>{source}{html}</section>"


def _own_front(run: RunData) -> str:
    """The search's own Pareto front in its objectives (the run's ``pareto.png``), when it has one."""
    file = run.path / "pareto.png"
    if len(run.names) < 2 or not file.is_file():
        return ""
    return (f"<h3 style='margin-top:16px'>The search's own front: {escape(' vs '.join(run.names))}</h3>"
            f'<img alt="the search\'s Pareto front" src="{_data_uri("image/png", file.read_bytes())}">')


def _failures(run: RunData) -> str:
    failed = [r for r in run.records if r.get("status") == "failed" and not r.get("cached")]
    if not failed:
        return ""
    rows = [[escape(str(r.get("reason"))), _fmt(r.get("generation")),
             f"<code>{escape(str(r.get('network') or r.get('description') or ''))}</code>",
             escape(str(r.get("message") or "")[:300])] for r in failed[:10]]
    more = f"<p class=muted>… and {len(failed) - 10} more in candidates.jsonl.</p>" if len(failed) > 10 else ""
    return (f"<section><h2>Failed candidates ({len(failed)})</h2><p class=muted>Each failed candidate got its "
            "objectives' failure values (the worst possible, unless configured); the run went on.</p>"
            f"{_table(['reason', 'generation', 'network', 'message'], rows)}{more}</section>")


def _masks_section(run: RunData) -> str:
    """A segmentation run's validation images with the true masks outlined and the best model's
    predictions filled (from ``masks.npz``), and that model's test scores; nothing when the run
    has no masks file (another task, an older or an unfinished run)."""
    from evokit.report.masks import masks_figure
    from evokit.runtime.run.masks import read_masks

    try:
        masks = read_masks(run.path)
    except ValueError as exc:
        return f'<section><h2>Validation masks</h2><p class="note">{escape(str(exc))}</p></section>'
    if masks is None or not len(masks):
        return ""
    lead = headline(run)
    label = lead.title if lead.name == masks.metric else masks.metric
    tests = (run.summary or {}).get("test_scores") or {}
    scores = [f"{escape(lead.title)} {_value(lead, tests[lead.key('test_')])}"] if lead.key("test_") in tests else []
    scores += [f"{escape(k[5:].replace('_', ' '))} {_fmt(v)}" for k, v in tests.items()
               if k.startswith("test_") and k not in ("test_loss", lead.key("test_"))]
    test = f" On the test split it scores {' · '.join(scores)}." if scores else ""
    return (f"<section><h2>Validation masks: true and predicted</h2><p class=muted>{len(masks)} validation images; "
            f"the true mask outlined in green, the best model's prediction (best.keras) filled in colour, its "
            f"{escape(label)} on each image above it.{test}</p>"
            f'<img alt="validation images with true and predicted masks" src="{_png(masks_figure(masks, label))}">'
            "</section>")


def _grid_figure(path: Path, caption: str, alt: str) -> str:
    """One PNG grid of ``samples/``, inlined, with its caption ("" when it cannot be read)."""
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return (f'<figure><img class="pixels" alt="{escape(alt)}" src="{_data_uri("image/png", data)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _samples_section(run: RunData) -> str:
    """A GAN run's generated samples (``samples/``): the final model's grid, then the best
    generator's grid over up to eight generations; nothing when the run has no grids."""
    from evokit.report.samples import best_grid, shown_grids
    from evokit.runtime.run.samples import read_index

    best, grids = best_grid(run.path), shown_grids(run.path)
    if best is None and not grids:
        return ""
    parts = ["<section><h2>Generated samples</h2>"]
    if best is not None:
        parts.append("<h3>Best generator</h3><p class=muted>What the final model draws from the run's fixed latent "
                     "batch.</p><div class=grids>"
                     f"{_grid_figure(best, 'best generator', 'samples of the best generator')}</div>")
    if grids:
        total = len(read_index(run.path))
        parts.append("<h3 style='margin-top:16px'>Best generator over generations</h3><p class=muted>The same fixed "
                     "latent batch through the best generator so far, after "
                     + (f"{len(grids)} of {total} generations (evenly spaced)" if total > len(grids)
                        else f"each of {len(grids)} generation(s)") + ".</p><div class=grids>"
                     + "".join(_grid_figure(g.path, g.caption + (" (unchanged)" if g.unchanged else ""),
                                            f"samples of the best generator, {g.caption}") for g in grids)
                     + "</div>")
    parts.append("</section>")
    return "".join(parts)


def _front_section(run: RunData, fig: Any, front: list[dict[str, Any]], colour: str) -> str:
    """The front of the headline metric (accuracy, R² ...) against parameters: the figure, its
    non-dominated members as a table, and the search's own front when it has several objectives."""
    key, title = accuracy_key(run)[0], headline(run).title
    members = _table(["params", escape(_label(run, key)), "CO2 (kg)", "generation", "network"],
                     [[_fmt(r.get("params")), _fmt(metric(r, key)), _fmt(co2(r)), _fmt(r.get("generation")),
                       f"<code>{escape(str(r.get('network')))}</code>"] for r in front], numeric={0, 1, 2, 3})
    return (f"<section><h2>Pareto front: {escape(title)} vs parameters</h2><p class=muted>Every trained candidate, "
            f"coloured by {colour}; circled: no other candidate is both as good in {escape(title)} and "
            "smaller.</p>"
            f'<img alt="{escape(title)} vs parameters" src="{_png(fig)}"><details><summary>the {len(front)} '
            f"non-dominated candidates</summary>{members}</details>{_own_front(run)}</section>")


def render(run: RunData) -> str:
    """The report page of ``run`` as HTML text."""
    best = best_records(run)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>evokit report: {escape(run.path.resolve().name)}</title><style>{CSS}</style></head><body>",
             _header(run), "<main>"]
    notes = list(run.notes)
    if not run.finished:
        done = f"{len(run.rows)} generation(s)" if run.rows else "no complete generation"
        notes.insert(0, f"This run is unfinished (no summary.json): it was stopped or is still running after {done} "
                        f"and {len(run.records)} evaluated candidate(s). The page shows what exists so far; "
                        "`evokit resume` continues it.")
    parts += [f'<p class="note">{escape(n)}</p>' for n in notes]
    parts.append(_headline(run, best[0] if best else None))
    if run.rows and run.names:
        convergence = (f'<section class=convergence><h2>Convergence</h2><img alt="objectives over generations" '
                       f'src="{convergence_png(run)}"></section>')
    else:
        convergence = "<section class=convergence><h2>Convergence</h2><p class=muted>No generation has finished yet."\
                      "</p></section>"
    side_by_side = len(run.names) <= 1  # one panel: the plot and the cost table share a row
    parts.append(f"<div class=row>{convergence}{_cost(run)}</div>" if side_by_side else convergence)
    fig, front, colour = front_figure(run)
    parts.append(_front_section(run, fig, front, colour))
    archs = "".join(_architecture(run, i, r) for i, r in enumerate(best, 1))
    parts.append(f"<section><h2>Best architectures</h2>{archs or '<p class=muted>No trained network yet.</p>'}"
                 "</section>")
    parts.append(_masks_section(run))
    parts.append(_samples_section(run))
    parts.append("" if side_by_side else _cost(run))
    parts.append(_failures(run))
    if run.rows:
        columns = list(run.rows[0])
        parts.append("<section><h2>Generations</h2><details><summary>per-generation statistics "
                     f"(generations.csv)</summary>{_table(columns, [[_fmt(r.get(c)) for c in columns] for r in run.rows], set(range(len(columns))))}"
                     "</details></section>")
    config = json.dumps(run.config, indent=2) if run.config else "config.json is missing"
    parts.append(f"<section><h2>Configuration</h2><pre>{escape(config)}</pre></section>")
    parts.append("</main><footer>written by evokit.report.write_report from the files of this run directory"
                 "</footer></body></html>")
    return "\n".join(parts)


def write_report(run_dir: str | Path) -> Path:
    """Write ``<run_dir>/report.html``, a self-contained page about the run (convergence, Pareto
    front, best architectures with diagrams and layer tables, search cost, configuration), and
    return its path. Works on finished and unfinished runs; raises ConfigError if ``run_dir`` holds
    no run."""
    run = read_run(run_dir)
    html = render(run)
    target = run.path / "report.html"
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)
    return target
