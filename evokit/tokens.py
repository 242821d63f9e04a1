"""Text as token ids: the tokenizer and the :class:`Vocabulary` of a text dataset.

A text becomes a row of integer token ids of a fixed length, ready for an embedding layer:
``encode`` looks each token up, pads the end with ``0`` and cuts what is longer; ``decode``
gives the tokens back. :func:`evokit.datasets.from_texts` fits one vocabulary on the training
texts of a dataset and keeps it (``Dataset.vocabulary``).

Choices, and why
----------------
* **Tokenizer.** scikit-learn's analyzer (``CountVectorizer(...).build_analyzer()``) with
  ``TOKEN_PATTERN``: runs of word characters, so punctuation separates words and single letters
  (``"a"``, ``"y"``, ``"e"``) are tokens too (sklearn's default drops them, but they tell
  languages apart). It is deterministic, Unicode-aware and needs no TensorFlow.
* **Reserved ids.** ``0`` is padding (``""``) and ``1`` the out-of-vocabulary token
  (``"[UNK]"``), as Keras's ``TextVectorization`` numbers them, so an ``Embedding`` with
  ``mask_zero=True`` masks the padding.
* **Which tokens.** The ``vocab_size - 2`` most frequent tokens of the texts it is fitted on
  (the training split only, so validation and test words do not leak in), ties in alphabetical
  order so that the same texts give the same ids on every machine.
* **Padding at the end, cut at the end.** The start of a text is kept; a recurrent or
  convolutional network reads it first.

This module imports neither TensorFlow nor Keras.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from evokit.errors import check_int, invalid, invalid_data

__all__ = ["PAD", "UNK", "TOKEN_PATTERN", "Vocabulary", "tokenize", "check_texts", "default_length",
           "check_sequence_length"]

PAD = ""
"""Token of id 0: padding after the end of a text."""

UNK = "[UNK]"
"""Token of id 1: a token that is not in the vocabulary."""

TOKEN_PATTERN = r"(?u)\b\w+\b"
"""What a token is: a run of word characters (letters, digits, underscore), one letter or more."""

LENGTH_PERCENTILE = 95
"""A text dataset's default sequence length covers this percentile of its training texts' lengths."""


def analyzer(lowercase: bool = True) -> Callable[[str], list[str]]:
    """scikit-learn's analyzer: one text -> its list of tokens (lowercased if asked)."""
    from sklearn.feature_extraction.text import CountVectorizer

    if not isinstance(lowercase, (bool, np.bool_)):
        raise invalid("lowercase", lowercase, "expected True or False")
    return CountVectorizer(lowercase=bool(lowercase), token_pattern=TOKEN_PATTERN).build_analyzer()


def tokenize(texts: Sequence[str], *, lowercase: bool = True) -> list[list[str]]:
    """Each text's tokens, in order (the tokenizer of every text dataset)."""
    analyze = analyzer(lowercase)
    return [analyze(text) for text in texts]


def check_texts(field: str, texts: Any) -> list[str]:
    """``texts`` as a list of str, or DataError naming ``field``: not a sequence of str, empty,
    or a text that is blank or holds no word (the message gives its index)."""
    if isinstance(texts, (str, bytes)) or not isinstance(texts, (Sequence, np.ndarray)):
        raise invalid_data(field, type(texts).__name__, "expected a list of texts (str), one per sample")
    texts = list(texts)
    if not texts:
        raise invalid_data(field, "empty list", "expected at least one text")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise invalid_data(field, f"list whose item {i} is a {type(text).__name__}",
                               "expected a list of texts (str), one per sample")
    analyze = analyzer(False)
    blank = [i for i, text in enumerate(texts) if not analyze(text)]
    if blank:
        shown = ", ".join(map(str, blank[:5])) + (", ..." if len(blank) > 5 else "")
        raise invalid_data(field, f"texts where text {blank[0]} is {texts[blank[0]][:40]!r}",
                           f"expected every text to hold at least one word; {len(blank)} text(s) are "
                           f"empty, blank or punctuation only (index {shown}): drop them or fill them in")
    return texts


def default_length(token_lists: Sequence[Sequence[str]]) -> int:
    """The sequence length that covers ``LENGTH_PERCENTILE`` % of these texts (at least 1): long
    enough for nearly all of them without letting a few long outliers set the width for all."""
    counts = [len(tokens) for tokens in token_lists]
    if not counts:
        return 1
    return max(1, math.ceil(float(np.percentile(counts, LENGTH_PERCENTILE))))


class Vocabulary:
    """Token ids of one text dataset: ``tokens[i]`` is the token of id ``i``.

    * ``tokens[0]`` is :data:`PAD` and ``tokens[1]`` is :data:`UNK`; the rest are distinct,
      non-empty tokens.
    * ``lowercase`` says whether texts are lowercased before lookup (as when it was fitted).

    Build one with :meth:`fit`; ``Vocabulary(tokens)`` rebuilds a stored one
    (``Dataset.vocabulary``).
    """

    def __init__(self, tokens: Sequence[str], *, lowercase: bool = True) -> None:
        tokens = tuple(tokens)
        if tokens[:2] != (PAD, UNK) or len(tokens) < 3:
            raise invalid("tokens", tokens[:4], f"expected {PAD!r}, {UNK!r} and at least one token")
        rest = tokens[2:]
        if not all(isinstance(t, str) and t for t in rest) or len(set(rest)) != len(rest) or UNK in rest:
            raise invalid("tokens", tokens[:4], "expected distinct non-empty tokens after padding and [UNK]")
        self.tokens = tokens
        self.lowercase = bool(lowercase)
        self._ids = {token: i for i, token in enumerate(tokens) if i >= 2}
        self._analyze = analyzer(lowercase)

    @classmethod
    def fit(cls, texts: Sequence[str], vocab_size: int, *, lowercase: bool = True) -> Vocabulary:
        """The ``vocab_size - 2`` most frequent tokens of ``texts`` (ties alphabetical) after
        padding and [UNK]; fewer if the texts hold fewer distinct tokens. ``vocab_size`` is at
        least 3; texts with no token at all raise DataError naming ``texts``."""
        vocab_size = check_int("vocab_size", vocab_size, minimum=3)
        counts = Counter(token for tokens in tokenize(texts, lowercase=lowercase) for token in tokens)
        if not counts:
            raise invalid_data("texts", "texts without a single token", "expected texts with words")
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:vocab_size - 2]
        return cls((PAD, UNK, *(token for token, _ in ranked)), lowercase=lowercase)

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens, lowercase={self.lowercase})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Vocabulary) and self.tokens == other.tokens
                and self.lowercase == other.lowercase)

    def __hash__(self) -> int:
        return hash((self.tokens, self.lowercase))

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text's tokens, as :meth:`encode` reads them."""
        return [self._analyze(text) for text in texts]

    def encode(self, texts: Sequence[str], sequence_length: int) -> np.ndarray:
        """int32 ids of shape ``(len(texts), sequence_length)``: tokens in order, unknown ones
        as 1, padded with 0 at the end, cut after ``sequence_length`` tokens."""
        return self.encode_tokens(self.tokenize(texts), sequence_length)

    def encode_tokens(self, token_lists: Sequence[Sequence[str]], sequence_length: int) -> np.ndarray:
        """:meth:`encode` of texts already tokenized (:meth:`tokenize`)."""
        sequence_length = check_int("sequence_length", sequence_length, minimum=1)
        out = np.zeros((len(token_lists), sequence_length), dtype=np.int32)
        for row, tokens in enumerate(token_lists):
            ids = [self._ids.get(token, 1) for token in tokens[:sequence_length]]
            out[row, :len(ids)] = ids
        return out

    def decode(self, ids: Any, *, join: bool = False) -> list[list[str]] | list[str]:
        """The tokens of each row of ``ids`` without the padding (``[UNK]`` for id 1); with
        ``join=True`` each row as one string, tokens separated by spaces."""
        ids = np.asarray(ids)
        if ids.ndim == 1:
            ids = ids[None, :]
        if ids.ndim != 2 or ids.dtype.kind not in "iu" or (ids.size and not 0 <= ids.min() <= ids.max() < len(self)):
            raise invalid_data("ids", f"array of shape {ids.shape} and dtype {ids.dtype}",
                               f"expected integer token ids 0..{len(self) - 1} of shape (n, length)")
        rows = [[self.tokens[i] for i in row if i != 0] for row in ids.tolist()]
        return [" ".join(row) for row in rows] if join else rows


def check_sequence_length(value: Any) -> int | None:
    """``sequence_length``: None (the default length of the training texts) or an int >= 1."""
    if value is None:
        return None
    return check_int("sequence_length", value, minimum=1)

