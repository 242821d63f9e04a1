"""Text corpora: the user's (a folder of text files per class, a CSV with a text column) and an
embedded one (``languages``), each as ``(texts, labels)`` for :func:`evokit.datasets.from_texts`.

* :func:`read_text_folder`: ``path/<class>/<anything>.txt``, one text per file, the sub-folder's
  name its label (the layout of the IMDB and 20-newsgroups downloads).
* :func:`read_text_csv`: one text per row, in a column named ``text``; the label in ``label``.
* :func:`language_sentences`: sentences in six languages sampled from real word frequencies.

Bad input raises :class:`evokit.errors.ConfigError` (an argument: a missing path, a column name
the file lacks) or :class:`evokit.errors.DataError` (the files' content), naming ``path``,
``text`` or ``label`` and the file or line.

Choices, and why
----------------
* **Text encoding.** UTF-8 (a byte-order mark is dropped); a file that is not UTF-8 is read as
  Latin-1, where every byte is a character, so an old export still loads. A file with NUL bytes
  (UTF-16, binary) is refused: guessing further would give garbage text. :func:`decode_text` is
  the one rule, which ``evokit.datafiles`` uses for CSV files too.
* **Strict layout.** Every visible sub-folder is a class and must hold ``.txt`` files; an empty
  file or cell is an error naming it, not a silently dropped sample. Files are read in sorted
  order, so the same folder gives the same dataset everywhere.
* **Labels.** Text as found; integers if every label is one (so ``"10"`` sorts after ``"9"``).
* **languages.** Real vocabulary without a download: ``pyspellchecker`` ships word -> frequency
  lists counted in film subtitles. Each sentence is 2 to 6 words drawn from one language's
  1,000 most frequent alphabetic words with probability proportional to frequency^0.75, so
  short sentences of shared words (``a``, ``de``, ``la``, ``in``, ``no``) stay ambiguous: a
  logistic regression on the bag of token ids of ``load("languages")`` gets 90 to 93 % of the
  test split right (seeds 0 to 2), naive Bayes 93 to 94 %, not 100 %.
  Word order is random, so the set rewards word identity, not grammar.
"""
from __future__ import annotations

import csv
import gzip
import heapq
import io
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from evokit.errors import ConfigError, DataError, check_int

__all__ = ["read_text_folder", "read_text_csv", "decode_text", "language_sentences", "LANGUAGES"]

LANGUAGES = ("de", "en", "es", "fr", "it", "pt")
"""The languages of the ``languages`` dataset (ISO 639-1 codes, its class labels)."""

SENTENCE_WORDS = (2, 6)
"""The fewest and most words of a ``languages`` sentence."""

TOP_WORDS = 1000
"""How many of a language's most frequent alphabetic words its sentences draw from."""

FREQUENCY_POWER = 0.75
"""Words are drawn with probability proportional to frequency to this power (flatter than the
raw counts, so that rarer words, which tell languages apart, appear too)."""

NOT_TEXT = "not a text file (it holds NUL bytes: UTF-16 or binary?)"
"""Why :func:`decode_text` refuses bytes."""

# Each language's top words, kept so that a second load in the same process is quick.
_WORDS_CACHE: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}
_WORDS_LOCK = threading.Lock()


def decode_text(raw: bytes) -> str:
    """``raw`` as text: UTF-8 without a byte-order mark, else Latin-1; ValueError (saying
    :data:`NOT_TEXT`) for bytes with NUL in them."""
    if b"\0" in raw:
        raise ValueError(NOT_TEXT)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _read_file(field: str, shown: str, file: Path) -> str:
    """The text of ``file``, or DataError naming ``field`` (=``shown``) and why it cannot be read."""
    try:
        return decode_text(file.read_bytes())
    except OSError as exc:
        raise DataError(f"{field}={shown!r} is invalid: {file} cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise DataError(f"{field}={shown!r} is invalid: {file} is {exc}; expected UTF-8 or Latin-1 text") from None


def _labels(labels: list[str]) -> list[Any]:
    """Integers if every label is one, else the strings as they are."""
    try:
        return [int(label) for label in labels]
    except ValueError:
        return labels


def read_text_folder(path: str | Path) -> tuple[list[str], list[Any]]:
    """Texts and labels of a folder with one sub-folder per class of ``.txt`` files.

    The sub-folder's name is the label of each of its files (integers if every name is one).
    Hidden sub-folders (``.git``) and files directly in ``path`` are ignored. ConfigError naming
    ``path`` if it is not a folder; DataError naming ``path`` and the file for fewer than two
    class folders, a class folder without ``.txt`` files, an empty file or one that is not text.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ConfigError(f"path={str(path)!r} is invalid: no such folder; expected a folder with one "
                          "sub-folder of .txt files per class")
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        found = ", ".join(repr(p.name) for p in classes) or "none"
        raise DataError(f"path={str(path)!r} is invalid: expected one sub-folder of .txt files per class, at "
                        f"least 2; found {len(classes)} ({found})")
    texts: list[str] = []
    labels: list[str] = []
    for sub in classes:
        files = sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() == ".txt")
        if not files:
            raise DataError(f"path={str(path)!r} is invalid: class folder {sub.name!r} holds no .txt files")
        for file in files:
            text = _read_file("path", str(path), file)
            if not text.strip():
                raise DataError(f"path={str(path)!r} is invalid: {sub.name}/{file.name} is empty; expected "
                                "a text in every file (delete empty files)")
            texts.append(text)
            labels.append(sub.name)
    return texts, _labels(labels)


def read_text_csv(path: str | Path, text: str = "text", label: str = "label", *,
                  delimiter: str = ",") -> tuple[list[str], list[Any]]:
    """Texts and labels of a CSV file with a header row: the texts in column ``text``, the labels
    in column ``label`` (integers if every label is one).

    Fields may be quoted to hold the delimiter, quotes (doubled) and line breaks; other columns
    are ignored. ConfigError naming ``path`` for a missing file, naming ``text`` / ``label`` for
    a column the header lacks (the message lists the columns found); DataError naming ``path``
    for a file that is not CSV text or has no rows, naming ``text`` / ``label`` and the line for
    an empty cell.
    """
    file = Path(path)
    for field, value in (("text", text), ("label", label)):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{field}={value!r} is invalid: expected a column name")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n\0':
        raise ConfigError(f"delimiter={delimiter!r} is invalid: expected one character (not a quote or line break)")
    if not file.is_file():
        raise ConfigError(f"path={str(path)!r} is invalid: no such file")
    rows = _csv_rows(str(path), _read_file("path", str(path), file), delimiter)
    (_, header), rows = rows[0], rows[1:]
    columns = [name.strip() for name in header]
    if not rows:
        raise DataError(f"path={str(path)!r} is invalid: the file has a header row but no data rows")
    where = {}
    for field, name in (("text", text), ("label", label)):
        if name.strip() not in columns:
            found = ", ".join(map(repr, columns))
            raise ConfigError(f"{field}={name!r} is invalid: expected one of the columns {found} (line 1 of "
                              f"{str(path)!r}, split at {delimiter!r})")
        where[field] = columns.index(name.strip())
    texts, labels = [], []
    for line, cells in rows:
        if len(cells) != len(columns):
            raise DataError(f"path={str(path)!r} is invalid: line {line} has {len(cells)} fields, the header "
                            f"{len(columns)} (quote fields that hold {delimiter!r} or line breaks)")
        for field, name in (("text", text), ("label", label)):
            if not cells[where[field]].strip():
                raise DataError(f"{field}={name!r} is invalid: line {line} of {str(path)!r} has an empty "
                                f"{field} cell; expected one in every row")
        texts.append(cells[where["text"]])
        labels.append(cells[where["label"]].strip())
    return texts, _labels(labels)


def csv_rows(content: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(line where the row ends, cells) of every CSV row of ``content`` that is not blank;
    ValueError saying which line is not valid CSV (its callers name their field)."""
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    rows = []
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise ValueError(f"line {reader.line_num + 1} is not valid CSV ({exc})") from None
    return rows


def _csv_rows(shown: str, content: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """:func:`csv_rows`, with DataError naming ``path`` for a file that is not valid CSV or has no rows."""
    try:
        rows = csv_rows(content, delimiter)
    except ValueError as exc:
        raise DataError(f"path={shown!r} is invalid: {exc}") from None
    if not rows:
        raise DataError(f"path={shown!r} is invalid: the file has no rows; expected a header row and a text per row")
    return rows


# --- languages ------------------------------------------------------------------------------

def _word_frequencies(language: str) -> tuple[list[str], np.ndarray]:
    """The ``TOP_WORDS`` most frequent alphabetic words of ``language`` (ties alphabetical) and
    their counts, from pyspellchecker's word list."""
    from importlib import resources

    try:
        import spellchecker
    except ImportError as exc:
        raise ConfigError("name='languages' is invalid: it needs the pyspellchecker package "
                          "(pip install pyspellchecker)") from exc
    raw = (resources.files(spellchecker) / "resources" / f"{language}.json.gz").read_bytes()
    counts = json.loads(gzip.decompress(raw))
    alphabetic = [(w, c) for w, c in counts.items() if w.isalpha()]
    cutoff = heapq.nlargest(TOP_WORDS, (c for _, c in alphabetic))[-1]  # sort only the top, not 300k words
    top = sorted((wc for wc in alphabetic if wc[1] >= cutoff), key=lambda wc: (-wc[1], wc[0]))[:TOP_WORDS]
    return [w for w, _ in top], np.array([c for _, c in top], dtype=np.float64)


def language_sentences(per_language: int = 700, seed: int = 0) -> tuple[list[str], list[str]]:
    """``per_language`` sentences in each of :data:`LANGUAGES` and their language codes.

    A sentence is 2 to 6 words (:data:`SENTENCE_WORDS`, uniform) drawn with replacement from the
    language's :data:`TOP_WORDS` most frequent alphabetic words, with probability proportional
    to frequency^:data:`FREQUENCY_POWER`; the first word is capitalised and a full stop ends it.
    The same arguments give the same sentences (a generator of its own; the global random state
    is not touched); the word lists are read once per process.
    """
    per_language = check_int("per_language", per_language, minimum=1)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    texts: list[str] = []
    for language in LANGUAGES:
        words, counts = _top_words(language)
        p = counts ** FREQUENCY_POWER
        lengths = rng.integers(SENTENCE_WORDS[0], SENTENCE_WORDS[1] + 1, size=per_language)
        drawn = rng.choice(len(words), size=int(lengths.sum()), p=p / p.sum())
        for chunk in np.split(drawn, np.cumsum(lengths)[:-1]):
            sentence = " ".join(words[i] for i in chunk)
            texts.append(sentence[:1].upper() + sentence[1:] + ".")
    return texts, [language for language in LANGUAGES for _ in range(per_language)]


def _top_words(language: str) -> tuple[tuple[str, ...], np.ndarray]:
    """:func:`_word_frequencies` of ``language``, read once per process (reading and parsing a
    word list takes a tenth of a second or more) and then shared read-only."""
    with _WORDS_LOCK:
        if language not in _WORDS_CACHE:
            words, counts = _word_frequencies(language)
            counts.setflags(write=False)
            _WORDS_CACHE[language] = (tuple(words), counts)
        return _WORDS_CACHE[language]
