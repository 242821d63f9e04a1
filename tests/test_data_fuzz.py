"""Fuzzing of data files: 1,000 seeded random CSV and NPZ files, read as a config's ``[data]``
table reads them (``evokit.datafiles.read_data_file``), end as a Dataset or as a DataError /
ConfigError whose message names its field; no other exception, and no sample lost on the way.

CSV: delimiters ``, ; TAB |`` (sniffed, given, or given wrong), headers present / absent / short /
long / numeric, blank lines, quoting styles, NaN / inf / empty / text / huge cells, empty target
cells, labels as integers, whole floats, floats, text or bools, UTF-8, UTF-8 with a BOM or
Latin-1, CRLF, 0-50 rows of 1-10 columns, and a few junk files. NPZ: object arrays, wrong
shapes and dtypes, missing keys, mismatched lengths, test arrays, junk and truncated files.

The outcome counts are fixed by the seeds (``EXPECTED``); ``docs/guide/reliability.md`` quotes
them, so a change of the reading rules shows up here and there together. Nothing is trained.
"""
from __future__ import annotations

import csv
import io
import random
import re
import warnings
from collections import Counter

import numpy as np

from evokit.datafiles import read_data_file
from evokit.errors import ConfigError, DataError

N_CASES = 1000
FIELD = re.compile(r"^(?:data\.)?([A-Za-z_]\w*)(?:=|:)")
FIELDS = {"path", "header", "target", "delimiter", "task", "X", "y", "X_test", "y_test", "test_size", "val_size"}
EXPECTED = {"accepted": 180, "path": 245, "header": 160, "y": 143, "X": 104, "delimiter": 60, "target": 58,
            "X_test": 20, "task": 16, "val_size": 9, "test_size": 3, "y_test": 2}
"""The outcomes of the N_CASES seeded cases: ``accepted`` and one count per field named by an error."""


# --- CSV cases ------------------------------------------------------------------------------

def _label(rng: random.Random, kind: str, k: int) -> str:
    c = rng.randrange(k)
    return {"int": str(c), "whole": f"{c}.0", "float": f"{rng.uniform(-5, 5):.4f}", "text": ["cat", "dög", "émeu",
            "ant", "b c"][c % 5], "bool": ["true", "false"][c % 2]}[kind]


def _feature(rng: random.Random) -> str:
    return rng.choice([f"{rng.gauss(0, 10):.3f}", str(rng.randint(-100, 100)), f"{rng.gauss(0, 1):.2e}",
                       f" {rng.gauss(0, 1):.2f} "])


def _bad_feature(rng: random.Random, delimiter: str) -> str:
    return rng.choice(["", "nan", "inf", "-inf", "NaN", "abc", "1e39", "1,5", f"2{delimiter}5", "é", '"q"', "1_0"])


def _csv_case(rng: random.Random, case: int) -> tuple[bytes, dict, int | None]:
    """(file content, [data] table without path, samples expected if it loads; None: no check)."""
    if rng.random() < 0.03:
        junk = rng.choice([b"", b"\x00\x01\x02", bytes(rng.randrange(256) for _ in range(200)), "a,b\n".encode("utf-16")])
        return junk, {}, None
    n_rows, n_cols = rng.randint(0, 50), rng.randint(1, 10)
    delimiter = rng.choice(",;\t|")
    target = rng.choice([n_cols - 1, n_cols - 1, rng.randrange(n_cols)])
    label_kind = rng.choice(["int", "int", "whole", "float", "text", "text", "bool"])
    k = rng.randint(1, 4)
    names = [f"x{j}" if rng.random() < 0.9 else f"x {j}é" for j in range(n_cols)]
    names[target] = "label"
    header_mode = rng.choice(["present"] * 7 + ["absent"] * 3 + ["short", "long", "numeric"])
    rows = []
    for _ in range(n_rows):
        cells = [_feature(rng) for _ in range(n_cols)]
        cells[target] = _label(rng, label_kind, k)
        rows.append(cells)
    for _ in range(rng.choice([0] * 15 + [1] * 4 + [3])):  # defects: a bad cell, an empty target, a ragged row
        cells = rng.choice(rows) if rows else []
        if len(cells) == n_cols:
            roll, j = rng.random(), rng.randrange(n_cols)
            if roll < 0.6:
                cells[j] = _bad_feature(rng, delimiter) if j != target else ""
            elif roll < 0.8:
                cells[target] = ""
            else:
                cells.append("0") if roll < 0.9 else cells.pop()
    if header_mode != "absent":
        head = {"present": names, "short": names[:-1], "long": names + ["extra"],
                "numeric": [str(j) for j in range(n_cols)]}[header_mode]
        rows.insert(0, head)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=rng.choice(["\n", "\r\n"]),
                        quoting=rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    for cells in rows:
        writer.writerow(cells)
        if rng.random() < 0.03:
            buffer.write(rng.choice(["\n", "  \n", delimiter * (n_cols - 1) + "\n"]))
    encoding = rng.choice(["utf-8", "utf-8-sig", "latin-1"])
    content = buffer.getvalue().encode(encoding, errors="replace")
    section: dict = {}
    has_header = header_mode != "absent"
    header_key = "yes" if rng.random() < 0.03 else rng.choice([None] * 3 + [has_header] * 4 + [not has_header])
    if header_key is not None:
        section["header"] = header_key
    roll = rng.random()
    if roll < 0.25:
        section["delimiter"] = delimiter
    elif roll < 0.32:
        section["delimiter"] = rng.choice([d for d in ",;\t|" if d != delimiter] + [",,", '"', 1])
    roll = rng.random()
    if roll < 0.15:
        section["target"] = "label"
    elif roll < 0.22:
        section["target"] = rng.choice([target, target - n_cols, n_cols, "nope", True, 1.5])
    if rng.random() < 0.15:
        section["task"] = rng.choice(["classification", "regression", "ranking"])
    expected = n_rows if (section.get("header", True) is True) == has_header else None
    return content, section, expected


# --- NPZ cases ------------------------------------------------------------------------------

def _x(rng: random.Random, n: int) -> np.ndarray:
    f = rng.randint(1, 10)
    shape = rng.choice([(n, f)] * 16 + [(n,), (n, f, 2), (n, 2, 2, 2, 1), (n, 0), (n, 3, 3, 1)])
    data = np.random.default_rng(rng.randrange(2**32)).normal(size=shape)
    kind = rng.choice(["float"] * 10 + ["int", "bool", "str", "complex", "object", "float16"])
    if kind == "float" and rng.random() < 0.1 and data.size:
        data.flat[rng.randrange(data.size)] = rng.choice([np.nan, np.inf, 1e300])
    return {"float": data, "int": data.astype(int), "bool": data > 0, "str": data.astype(str),
            "complex": data + 1j, "object": data.astype(object), "float16": data.astype(np.float16)}[kind]


def _y(rng: random.Random, n: int) -> np.ndarray:
    g = np.random.default_rng(rng.randrange(2**32))
    k = rng.randint(1, 4)
    kind = rng.choice(["int"] * 8 + ["whole", "float", "float", "text", "object", "2d", "bool", "complex", "scalar",
                       "nan"])
    codes = g.integers(0, k, size=n)
    return {"int": codes, "whole": codes.astype(float), "float": g.normal(size=n),
            "text": np.array(["a", "b", "c", "", "d"])[codes], "object": codes.astype(object),
            "2d": g.normal(size=(n, 2)), "bool": codes > 0, "complex": codes + 1j, "scalar": np.array(3.0),
            "nan": np.where(codes > 0, np.nan, 1.0)}[kind]


def _npz_case(rng: random.Random, case: int) -> tuple[bytes, dict, int | None]:
    if rng.random() < 0.05:
        junk = rng.choice([b"", b"PK\x03\x04" + bytes(40), bytes(rng.randrange(256) for _ in range(100)),
                           b"\x93NUMPY\x01\x00"])
        return junk, {}, None
    n = rng.randint(0, 50)
    arrays = {"X": _x(rng, n), "y": _y(rng, n + (rng.choice([-2, 1]) if rng.random() < 0.05 else 0))}
    if rng.random() < 0.15:
        m = rng.randint(0, 12)
        arrays["X_test"], arrays["y_test"] = _x(rng, m), _y(rng, m)
    for key in list(arrays):
        if rng.random() < 0.03:
            del arrays[key]
    if rng.random() < 0.05:
        arrays["extra"] = np.arange(3)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    content = buffer.getvalue()
    if rng.random() < 0.03:
        content = content[: rng.randrange(len(content))]
    section: dict = {}
    if rng.random() < 0.1:
        section["task"] = rng.choice(["classification", "regression"])
    if rng.random() < 0.03:
        section["header"] = True
    sizes = [np.ndim(arrays[key]) and len(arrays[key]) for key in ("y", "y_test") if key in arrays]
    return content, section, sum(sizes) if "y" in arrays else None


# --- the run --------------------------------------------------------------------------------

def run_cases(tmp_path, n_cases: int = N_CASES) -> tuple[Counter, list[str]]:
    """Every case read once: the outcome counts, and what went wrong (uncaught, unnamed, lost)."""
    counts: Counter = Counter()
    problems: list[str] = []
    for case in range(n_cases):
        rng = random.Random(case)
        suffix = ".npz" if rng.random() < 0.3 else ".csv"
        with np.errstate(all="ignore"):  # casts to int and float16 of NaN and huge values, on purpose
            content, section, expected = (_npz_case if suffix == ".npz" else _csv_case)(rng, case)
        name = f"case{case}{suffix}"
        (tmp_path / name).write_bytes(content)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = read_data_file("data", {"path": name, **section}, tmp_path, {"seed": 0})
        except (DataError, ConfigError) as exc:
            match = FIELD.match(str(exc))
            field = match.group(1) if match else None
            if field not in FIELDS:
                problems.append(f"case {case}: message names no field: {exc}")
            counts[field] += 1
            continue
        except Exception as exc:  # noqa: BLE001 - what the fuzz test looks for
            problems.append(f"case {case}: {type(exc).__name__}: {exc}")
            continue
        counts["accepted"] += 1
        samples = len(data.y_train) + len(data.y_val) + len(data.y_test)
        if expected is not None and samples != expected:
            problems.append(f"case {case}: {samples} samples, expected {expected}")
        if not all(np.isfinite(getattr(data, f"x_{s}")).all() for s in ("train", "val", "test")):
            problems.append(f"case {case}: non-finite features accepted")
    return counts, problems


def test_random_data_files_fail_only_with_errors_naming_their_field(tmp_path):
    counts, problems = run_cases(tmp_path)
    assert not problems, "\n".join(problems[:20])
    assert sum(counts.values()) == N_CASES
    print(dict(sorted(counts.items())))
    assert dict(counts) == EXPECTED, "the outcomes changed: update EXPECTED and docs/guide/reliability.md"
