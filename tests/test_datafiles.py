"""Tests of evokit.datafiles: CSV and NPZ files as a config's [data] table reads them.

One test per symptom of issue 16 item 9; each failed on the reader before the fix (noted in
its docstring: what the old reader did)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from evokit.cli import main
from evokit.datafiles import read_data_file
from evokit.errors import ConfigError, DataError

OPTIONS = {"seed": 0}


def _read(tmp_path, text: str | bytes, name: str = "data.csv", **keys):
    file = tmp_path / name
    file.write_bytes(text if isinstance(text, bytes) else text.encode())
    return read_data_file("data", {"path": name, **keys}, tmp_path, dict(OPTIONS))


def _rows(n: int = 30, labels=("cat", "dog", "eel"), sep: str = ",", label_format: str = "{}") -> list[str]:
    """``n`` rows of 3 numeric features and a label, cycling through ``labels``."""
    return [_features(i, sep) + sep + label_format.format(labels[i % len(labels)]) for i in range(n)]


def _features(i: int, sep: str = ",") -> str:
    return sep.join(f"{v:.3f}" for v in np.random.default_rng(i).normal(size=3))


def _n_samples(data) -> int:
    return len(data.y_train) + len(data.y_val) + len(data.y_test)


# --- the symptoms of item 9 -----------------------------------------------------------------

def test_a_file_without_a_header_read_with_header_true_is_refused_naming_header(tmp_path):
    """Old: the first data row became the header and one sample was lost without a word."""
    text = "\n".join(_rows(labels=(0, 1, 2))) + "\n"
    with pytest.raises(DataError, match=r"^data\.header=true is invalid: the first row \(line 1: .*reads like data"):
        _read(tmp_path, text)
    data = _read(tmp_path, text, header=False)
    assert _n_samples(data) == 30 and data.classes == (0, 1, 2)
    named = _read(tmp_path, "a,b,c,label\n" + text)  # a real header still reads as one
    assert _n_samples(named) == 30


def test_a_header_shorter_than_the_rows_is_refused_naming_header(tmp_path):
    """Old: 'label' named the third column, a feature, so the targets were floats (regression) and
    the real labels a feature; without target the last column was taken, under no name."""
    text = "a,b,label\n" + "\n".join(_rows(labels=(0, 1, 2))) + "\n"
    with pytest.raises(DataError, match=r"^data\.header=true is invalid: the header \(line 1\) has 3 names but the "
                                        r"rows have 4 fields; expected one name per column"):
        _read(tmp_path, text, target="label")
    with pytest.raises(DataError, match=r"^data\.header=true is invalid: the header \(line 1\) has 3 names"):
        _read(tmp_path, text)


def test_a_header_longer_than_the_rows_is_refused_naming_header(tmp_path):
    text = "a,b,c,d,label\n" + "\n".join(_rows()) + "\n"
    with pytest.raises(DataError, match=r"^data\.header=true is invalid: the header \(line 1\) has 5 names"):
        _read(tmp_path, text)


def test_empty_target_cells_are_refused_naming_target(tmp_path):
    """Old: each empty cell became a class '' (with 3 or more of them the dataset loaded)."""
    rows = _rows()
    for i in (4, 9, 14):
        rows[i] = rows[i].rsplit(",", 1)[0] + ","
    text = "a,b,c,label\n" + "\n".join(rows) + "\n"
    with pytest.raises(DataError, match=r"^data\.target='label' is invalid: 3 row\(s\) have an empty target cell "
                                        r"\(line 6, 11, 16\)"):
        _read(tmp_path, text, target="label")
    with pytest.raises(DataError, match=r"^data\.target='label' is invalid: 3 row"):  # the default target, by name
        _read(tmp_path, text)
    with pytest.raises(DataError, match=r"^data\.target=3 is invalid: 3 row"):
        _read(tmp_path, "\n".join(rows) + "\n", header=False)


def test_labels_written_as_whole_floats_are_classes(tmp_path):
    """Old: '1.0', '2.0' parsed as floats and the task became regression."""
    text = "a,b,c,label\n" + "\n".join(_rows(labels=(1, 2, 3), label_format="{}.0")) + "\n"
    data = _read(tmp_path, text)
    assert data.task == "classification" and data.classes == (1, 2, 3) and _n_samples(data) == 30
    forced = _read(tmp_path, text, task="regression")
    assert forced.task == "regression" and forced.y_train.dtype == np.float32
    many = "a,b,c,y\n" + "\n".join(f"{_features(i)},{i}.0" for i in range(30)) + "\n"
    assert _read(tmp_path, many).task == "regression"  # 30 distinct whole values: targets, not classes
    fractions = "a,b,c,y\n" + "\n".join(_rows(labels=(0.5, 1.5, 2.5))) + "\n"
    assert _read(tmp_path, fractions).task == "regression"


def test_a_semicolon_file_is_sniffed_and_a_wrong_delimiter_is_named(tmp_path):
    """Old: ',' split nothing, every row was one field, and the error was about y's classes."""
    text = "a;b;c;label\n" + "\n".join(_rows(sep=";")) + "\n"
    data = _read(tmp_path, text)
    assert data.input_shape == (3,) and data.classes == ("cat", "dog", "eel") and _n_samples(data) == 30
    with pytest.raises(DataError, match=r"^data\.delimiter=',' is invalid: every row is a single field, but the "
                                        r"rows hold ';'"):
        _read(tmp_path, text, delimiter=",")
    tabs = "a\tb\tc\tlabel\n" + "\n".join(_rows(sep="\t")) + "\n"
    assert _read(tmp_path, tabs).input_shape == (3,)


def test_an_npz_object_array_is_refused_naming_the_array(tmp_path):
    """Old: np.load raised a plain ValueError ('Object arrays cannot be loaded...'), exit code 1."""
    x = np.random.default_rng(0).normal(size=(30, 3))
    np.savez(tmp_path / "objects.npz", X=x, y=np.array([1, "a", None] * 10, dtype=object))
    with pytest.raises(DataError, match=r"^y=<object array in 'objects.npz'> is invalid: expected an array of "
                                        r"numbers .*object arrays are refused"):
        read_data_file("data", {"path": "objects.npz"}, tmp_path, dict(OPTIONS))


def test_bad_data_files_exit_2_from_the_cli_naming_the_field(tmp_path, capsys):
    x = np.random.default_rng(0).normal(size=(30, 3))
    np.savez(tmp_path / "objects.npz", X=x, y=np.array([1, "a", None] * 10, dtype=object))
    (tmp_path / "npz.toml").write_text('[data]\npath = "objects.npz"\n')
    (tmp_path / "plain.csv").write_text("\n".join(_rows(labels=(0, 1, 2))) + "\n")
    (tmp_path / "csv.toml").write_text('[data]\npath = "plain.csv"\n')
    assert main(["run", str(tmp_path / "npz.toml"), "-q"]) == 2
    assert "y=<object array in 'objects.npz'> is invalid" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "csv.toml"), "-q"]) == 2
    assert "header=true is invalid" in capsys.readouterr().err


# --- the rules around them ------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1"])
def test_encodings_and_a_byte_order_mark(tmp_path, encoding):
    text = "a,b,c,étiquette\n" + "\n".join(_rows(labels=("café", "thé", "eau"))) + "\n"
    data = _read(tmp_path, text.encode(encoding), target="étiquette")
    assert data.classes == ("café", "eau", "thé")


def test_blank_lines_quotes_crlf_and_spaces(tmp_path):
    rows = [",".join(f'"{cell.strip()}"' for cell in row.split(",")) for row in _rows()]
    text = "\r\n".join(["a, b, c, label", ""] + rows[:10] + [" ", ",,,"] + rows[10:]) + "\r\n\r\n"
    data = _read(tmp_path, text, target="label")
    assert _n_samples(data) == 30 and data.classes == ("cat", "dog", "eel")


def test_a_ragged_row_names_its_line_and_the_delimiter(tmp_path):
    rows = _rows()
    rows[6] += ",9"
    with pytest.raises(DataError, match=r"^data\.path='data.csv' is invalid: line 8 has 5 fields, expected 4 like "
                                        r"most rows \(fields split at ',' \(sniffed"):
        _read(tmp_path, "a,b,c,label\n" + "\n".join(rows))


@pytest.mark.parametrize("cell", ["", "nan", "inf", "-inf", "1e39", "abc"])
def test_a_feature_that_is_not_a_finite_number_names_line_and_column(tmp_path, cell):
    rows = _rows()
    rows[3] = f"0.1,{cell},0.3,cat"
    with pytest.raises(DataError, match=rf"^data\.path='data.csv' is invalid: line 5, column 'b' holds "
                                        rf"'{cell}'; expected a finite number"):
        _read(tmp_path, "a,b,c,label\n" + "\n".join(rows))


def test_a_header_read_as_data_gets_a_hint(tmp_path):
    with pytest.raises(DataError, match=r"line 1, column index 0 holds 'a'.*set header = true"):
        _read(tmp_path, "a,b,c,label\n" + "\n".join(_rows()), header=False)


@pytest.mark.parametrize("text, field", [
    ("", "path"), ("a,b,label\n", "path"), ("\n\n  \n", "path"), ("1\n2\n3\n", "path"),
    ("a,b\x00,c\n", "path"), ("a,b,label\n1,2,a\n1,2,a,b\n1,2,b\n", "path"),
])
def test_files_without_usable_rows_name_path(tmp_path, text, field):
    with pytest.raises(DataError, match=rf"^data\.{field}="):
        _read(tmp_path, text)


@pytest.mark.parametrize("keys, message", [
    ({"delimiter": ",,"}, r"data\.delimiter=',,' is invalid: expected one character"),
    ({"delimiter": '"'}, r"data\.delimiter='\"' is invalid"),
    ({"header": "yes"}, r"data\.header='yes' is invalid: expected true or false"),
    ({"target": "nope"}, r"data\.target='nope' is invalid: expected one of the columns 'a', 'b', 'c', 'label'"),
    ({"target": 4}, r"data\.target=4 is invalid: expected a column name or an index in \[-4, 3\]"),
    ({"target": True}, r"data\.target=True is invalid"),
])
def test_bad_keys_are_config_errors_naming_the_key(tmp_path, keys, message):
    with pytest.raises(ConfigError, match=f"^{message}"):
        _read(tmp_path, "a,b,c,label\n" + "\n".join(_rows()), **keys)


def test_a_duplicated_target_name_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"^data\.target='a' is invalid: 2 columns have that name"):
        _read(tmp_path, "a,b,a,label\n" + "\n".join(_rows()), target="a")


@pytest.mark.parametrize("content, field", [
    (b"", "path"), (b"not a zip file at all", "path"), (b"PK\x03\x04 truncated", "path"),
])
def test_unreadable_npz_files_name_path(tmp_path, content, field):
    (tmp_path / "bad.npz").write_bytes(content)
    with pytest.raises(DataError, match=rf"^data\.{field}='bad.npz' is invalid"):
        read_data_file("data", {"path": "bad.npz"}, tmp_path, dict(OPTIONS))


def test_npz_shapes_and_keys_name_the_array(tmp_path):
    x = np.random.default_rng(0).normal(size=(30, 3))
    y = np.arange(30) % 3
    cases = {
        "missing.npz": ({"X": x}, r"^data\.path='missing.npz' is invalid: expected arrays named X and y"),
        "short.npz": ({"X": x, "y": y[:20]}, r"^y=<array of shape \(20,\)> is invalid"),
        "flat.npz": ({"X": x[:, 0], "y": y}, r"^X=<array of shape \(30,\)> is invalid"),
        "test.npz": ({"X": x, "y": y, "X_test": x}, r"^y_test=None is invalid"),
        "complex.npz": ({"X": x, "y": y + 1j}, r"^y=<array of dtype complex128> is invalid"),
        "nofeatures.npz": ({"X": x[:, :0], "y": y}, r"^X=<array of shape \(30, 0\)> is invalid: expected at least"),
    }
    for name, (arrays, message) in cases.items():
        np.savez(tmp_path / name, **arrays)
        with pytest.raises(DataError, match=message):
            read_data_file("data", {"path": name}, tmp_path, dict(OPTIONS))
    np.save(tmp_path / "single.npy", x)
    (tmp_path / "single.npy").rename(tmp_path / "single.npz")
    with pytest.raises(DataError, match=r"^data\.path='single.npz' is invalid: expected an NPZ archive"):
        read_data_file("data", {"path": "single.npz"}, tmp_path, dict(OPTIONS))


def test_npz_float_labels_with_few_whole_values_warn_naming_y(tmp_path):
    x = np.random.default_rng(0).normal(size=(30, 3))
    np.savez(tmp_path / "floats.npz", X=x, y=(np.arange(30) % 3).astype(float))
    with pytest.warns(UserWarning, match=r'^y=<floats with only 3 distinct whole values: 0.0, 1.0, 2.0>.*'
                                         r'task="classification"'):
        data = read_data_file("data", {"path": "floats.npz"}, tmp_path, dict(OPTIONS))
    assert data.task == "regression"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        data = read_data_file("data", {"path": "floats.npz", "task": "classification"}, tmp_path, dict(OPTIONS))
    assert data.classes == (0.0, 1.0, 2.0)


# --- texts (issue 19): kind = "text_csv" / "text_folder" ------------------------------------

def _texts(n: int = 30) -> list[tuple[str, str]]:
    """``n`` (text, label) pairs: each class has words of its own, and a comma inside the text."""
    words = {"pos": ("great", "fun", "loved"), "neg": ("dull", "slow", "boring")}
    rng = np.random.default_rng(0)
    return [(", ".join(rng.choice(words[label], size=3)) + " film", label)
            for label in ("pos", "neg") for _ in range(n // 2)]


def test_a_text_csv_becomes_a_token_dataset(tmp_path):
    text = "id,review,label\n" + "".join(f'{i},"{t}",{lab}\n' for i, (t, lab) in enumerate(_texts()))
    data = _read(tmp_path, text, name="reviews.csv", text_column="review", vocab_size=5, sequence_length=3)
    assert data.name == "reviews" and data.classes == ("neg", "pos") and data.vocab_size == 5
    assert data.input_shape == (3,) and data.x_train.dtype == np.int32 and _n_samples(data) == 30
    tab = _read(tmp_path, text.replace(",", "\t").replace('"great\t ', '"great, '), name="tab.csv",
                text_column="review", target="label", delimiter="\t")
    assert tab.vocab_size == 9  # 7 words + padding + [UNK]: the vocabulary is not cut


def test_a_text_folder_becomes_a_token_dataset(tmp_path):
    for i, (t, label) in enumerate(_texts()):
        (tmp_path / "corpus" / label).mkdir(parents=True, exist_ok=True)
        (tmp_path / "corpus" / label / f"{i}.txt").write_text(t)
    data = read_data_file("data", {"path": "corpus", "kind": "text_folder"}, tmp_path, {"seed": 1, "test_size": 0.3})
    assert data.name == "corpus" and data.classes == ("neg", "pos") and len(data.y_test) == 9
    with pytest.raises(ConfigError, match=r"^data\.path='corpus' is invalid: a folder, not a file; set kind = "
                                          r"\"text_folder\""):
        read_data_file("data", {"path": "corpus"}, tmp_path, dict(OPTIONS))
    (tmp_path / "corpus" / "neg" / "15.txt").write_text(" ")
    with pytest.raises(DataError, match=r"^data\.path='corpus' is invalid: neg/15.txt is empty"):
        read_data_file("data", {"path": "corpus", "kind": "text_folder"}, tmp_path, dict(OPTIONS))


@pytest.mark.parametrize("keys, error, message", [
    ({"text_column": "body"}, ConfigError, r"data\.text_column='body' is invalid: expected one of the columns "
                                           r"'review', 'label'"),
    ({"text_column": "review", "target": "y"}, ConfigError, r"data\.target='y' is invalid: expected one of"),
    ({"kind": "text_csv"}, ConfigError, r"data\.text_column='text' is invalid"),  # the default column
    ({"kind": "texts"}, ConfigError, r"data\.kind='texts' is invalid: expected one of 'table', 'text_csv', "
                                     r"'text_folder'"),
    ({"kind": "table", "vocab_size": 9}, ConfigError, r"data\.vocab_size: applies to texts only"),
    ({"text_column": "review", "scale": False}, ConfigError, r"data\.scale: does not apply to kind = 'text_csv'"),
    ({"text_column": "review", "header": True}, ConfigError, r"data\.header: does not apply"),
    ({"kind": "text_folder"}, ConfigError, r"data\.path='data.csv' is invalid: no such folder"),
    ({"text_column": "review", "delimiter": ";;"}, ConfigError, r"data\.delimiter=';;' is invalid"),
])
def test_bad_text_keys_name_the_key(tmp_path, keys, error, message):
    text = "review,label\n" + "".join(f'"{t}",{lab}\n' for t, lab in _texts())
    with pytest.raises(error, match=f"^{message}"):
        _read(tmp_path, text, **keys)


def test_an_empty_text_cell_names_the_text_column_and_line(tmp_path):
    text = "review,label\n" + "".join(f'"{t}",{lab}\n' for t, lab in _texts()[:5]) + '"",pos\n'
    with pytest.raises(DataError, match=r"^data\.text_column='review' is invalid: line 7 .* has an empty text cell"):
        _read(tmp_path, text, text_column="review")


def _class_folder(root) -> None:
    """Two classes of four 4x4 grey PNGs each under ``root``."""
    from PIL import Image

    for k, name in enumerate(("a", "b")):
        (root / name).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(np.full((4, 4), 40 * k + i, np.uint8)).save(root / name / f"{i}.png")


@pytest.mark.parametrize("stream", ["/tmp/evokit-elsewhere", "../out", "disk/../../out", "~/out", "~", "", 1,
                                    "link/out"])
def test_a_config_stream_folder_outside_the_config_directory_is_refused(tmp_path, stream):
    _class_folder(tmp_path / "cfg" / "images")
    (tmp_path / "outside").mkdir()
    (tmp_path / "cfg" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(ConfigError, match=r"^data\.stream=.* is invalid: expected true .* relative to the config "
                                          r"file's directory"):
        read_data_file("data", {"kind": "image_folder", "path": "images", "stream": stream}, tmp_path / "cfg", {})
    assert list(tmp_path.rglob("x_train.npy")) == []


def test_a_config_stream_folder_inside_the_config_directory_is_written_there(tmp_path):
    _class_folder(tmp_path / "images")
    data = read_data_file("data", {"kind": "image_folder", "path": "images", "stream": "cache/one"}, tmp_path,
                          {"val_size": 0.25, "test_size": 0.25})
    assert data.x_train.path == tmp_path / "cache" / "one" / "x_train.npy"
    memory = read_data_file("data", {"kind": "image_folder", "path": "images", "stream": False}, tmp_path,
                            {"val_size": 0.25, "test_size": 0.25})
    assert not memory.streaming
