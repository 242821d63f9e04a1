"""Texts as data: the tokenizer and vocabulary (evokit.tokens), text datasets
(evokit.datasets.from_texts), the corpus readers and the embedded ``languages`` set (evokit.corpora)."""
from __future__ import annotations

import random
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evokit import corpora
from evokit.datasets import Dataset, from_text_csv, from_text_folder, from_texts, load
from evokit.errors import ConfigError, DataError
from evokit.tokens import PAD, UNK, Vocabulary, check_texts, default_length, tokenize

FILLER = ("the", "a", "of", "and", "to", "in", "is", "it", "that", "was", "for", "on", "with", "as", "at")
PLANTED = {"sport": "goal scored", "film": "plot twist", "food": "crispy crust"}


def planted(n_per_class: int = 40, seed: int = 0) -> tuple[list[str], list[str]]:
    """Texts of 4 to 9 filler words with their class's planted bigram at a random place."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label, bigram in PLANTED.items():
        for _ in range(n_per_class):
            words = list(rng.choice(FILLER, size=int(rng.integers(4, 10))))
            words.insert(int(rng.integers(0, len(words) + 1)), bigram)
            texts.append(" ".join(words).capitalize() + ".")
            labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def texts_labels() -> tuple[list[str], list[str]]:
    return planted()


@pytest.fixture(scope="module")
def languages() -> Dataset:
    return load("languages")


def _bag(x: np.ndarray, vocab_size: int) -> np.ndarray:
    """Token counts per row, padding left out."""
    counts = np.zeros((len(x), vocab_size))
    np.add.at(counts, (np.repeat(np.arange(len(x)), x.shape[1]), x.ravel()), 1)
    counts[:, 0] = 0
    return counts


# --- tokens ---------------------------------------------------------------------------------

def test_tokenize_splits_at_non_word_characters_and_keeps_single_letters():
    assert tokenize(["Hello, World! It's a día-2 test."]) == [["hello", "world", "it", "s", "a", "día", "2", "test"]]
    assert tokenize(["Hello World"], lowercase=False) == [["Hello", "World"]]


def test_vocabulary_ranks_by_training_frequency_then_alphabet():
    vocab = Vocabulary.fit(["b a c", "a b", "d a", "e"], vocab_size=5)
    assert vocab.tokens == (PAD, UNK, "a", "b", "c")  # a:3, b:2, then c, d, e tie (1): alphabetical
    assert len(Vocabulary.fit(["b a c"], vocab_size=100)) == 5  # an upper bound: 2 + distinct tokens
    assert Vocabulary(vocab.tokens) == vocab and "5 tokens" in repr(vocab)
    with pytest.raises(ConfigError, match="vocab_size=2 is invalid: expected an integer >= 3"):
        Vocabulary.fit(["a b"], vocab_size=2)


def test_encode_pads_the_end_cuts_the_end_and_marks_unknown_tokens():
    vocab = Vocabulary.fit(["one two three four", "two three"], vocab_size=10)
    ids = vocab.encode(["Two ONE", "one two three four", "two zebra"], sequence_length=3)
    assert ids.dtype == np.int32 and ids.shape == (3, 3)
    two, one, three = (vocab.tokens.index(t) for t in ("two", "one", "three"))
    assert ids.tolist() == [[two, one, 0], [one, two, three], [two, 1, 0]]
    assert vocab.decode(ids) == [["two", "one"], ["one", "two", "three"], ["two", UNK]]
    assert vocab.decode(ids, join=True)[1] == "one two three"
    with pytest.raises(DataError, match=r"^ids=.* is invalid: expected integer token ids 0\.\.5"):
        vocab.decode([[0, 6]])


def test_tokenization_round_trip_for_in_vocabulary_texts(texts_labels):
    texts, _ = texts_labels
    vocab = Vocabulary.fit(texts, vocab_size=1000)
    length = max(len(t) for t in tokenize(texts))
    assert vocab.decode(vocab.encode(texts, length)) == tokenize(texts)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["ab", "Cd", "e", "f1", "gü", "h_i"]), min_size=1, max_size=8),
                min_size=1, max_size=6), st.integers(1, 10))
def test_round_trip_property(word_lists, length):
    """decode(encode(texts)) is each text's first ``length`` tokens, whatever the texts."""
    texts = [" ,".join(words) for words in word_lists]
    vocab = Vocabulary.fit(texts, vocab_size=50)
    assert vocab.decode(vocab.encode(texts, length)) == [t[:length] for t in tokenize(texts)]


@pytest.mark.parametrize("texts, message", [
    ("one text", "texts=<str> is invalid: expected a list of texts"),
    ([], "texts=<empty list> is invalid"),
    (["fine", 3], "texts=<list whose item 1 is a int> is invalid"),
    (["fine", "  \n", "ok", "?!"], r"texts=<texts where text 1 is '  \\n'> is invalid: .*2 text\(s\) are empty, "
                                   r"blank or punctuation only \(index 1, 3\)"),
])
def test_bad_texts_are_data_errors_naming_the_field_and_index(texts, message):
    with pytest.raises(DataError, match=message):
        check_texts("texts", texts)


def test_default_length_covers_the_95th_percentile():
    assert default_length([["w"] * n for n in range(1, 101)]) == 96  # np.percentile(1..100, 95) = 95.05
    assert default_length([[]]) == 1


# --- from_texts -----------------------------------------------------------------------------

def test_from_texts_makes_token_id_splits(texts_labels):
    texts, labels = texts_labels
    ds = from_texts(texts, labels, vocab_size=12, sequence_length=6, name="planted")
    assert ds.task == "classification" and ds.classes == ("film", "food", "sport") and ds.name == "planted"
    assert ds.vocab_size == 12 == len(ds.vocabulary) and ds.vocabulary[:2] == (PAD, UNK)
    assert ds.input_shape == (6,) and (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (76, 20, 24)
    for x in (ds.x_train, ds.x_val, ds.x_test):
        assert x.dtype == np.int32 and x.min() >= 0 and x.max() < 12
    assert (ds.x_train == 1).any()  # 15 filler + 6 planted words, 10 ids: the rarest are unknown
    assert "vocab_size=12" in repr(ds)
    again = from_texts(texts, labels, vocab_size=12, sequence_length=6, name="planted")
    assert again.fingerprint == ds.fingerprint
    assert from_texts(texts, labels, vocab_size=12, sequence_length=6, seed=1).fingerprint != ds.fingerprint


def test_from_texts_ids_carry_the_planted_class_signal(texts_labels):
    from sklearn.linear_model import LogisticRegression

    ds = from_texts(*texts_labels)
    model = LogisticRegression(max_iter=1000).fit(_bag(ds.x_train, ds.vocab_size), ds.y_train)
    assert model.score(_bag(ds.x_test, ds.vocab_size), ds.y_test) == 1.0
    vocab = Vocabulary(ds.vocabulary)
    planted_words = {w for bigram in PLANTED.values() for w in bigram.split()}
    assert planted_words <= set(vocab.tokens)
    decoded = vocab.decode(ds.x_train)
    assert all(planted_words & set(tokens) for tokens in decoded)


def test_the_vocabulary_comes_from_the_training_texts_only(texts_labels):
    texts, labels = texts_labels
    test_texts = ["goal scored zebra", "plot twist zebra", "crispy crust zebra"] * 2
    ds = from_texts(texts, labels, texts_test=test_texts, labels_test=list(PLANTED) * 2, vocab_size=500)
    assert "zebra" not in ds.vocabulary and len(ds.y_test) == 6
    assert (ds.x_test[:, 2] == 1).all()  # zebra is unknown
    assert ds.vocab_size == 2 + 21  # 15 filler + 6 planted words: the bound of 500 is not reached


def test_default_sequence_length_is_the_training_95th_percentile(texts_labels):
    texts, labels = texts_labels
    ds = from_texts(texts, labels)
    vocab = Vocabulary(ds.vocabulary)
    train = [" ".join(tokens) for tokens in vocab.decode(ds.x_train)]  # rows not cut: a 95th percentile
    counts = sorted(len(t.split()) for t in train)
    assert ds.input_shape == (int(np.ceil(np.percentile(counts, 95))),)
    assert (ds.x_train[:, -1] == 0).mean() >= 0.5  # padded at the end


@pytest.mark.parametrize("kwargs, error, message", [
    ({"texts": ["ok text"] * 5 + [""]}, DataError, r"texts=<texts where text 5 is ''> is invalid"),
    ({"labels": ["a", "b"]}, DataError, r"labels=<array of shape \(2,\)> is invalid: expected one label per text "
                                        r"of texts \(120\)"),
    ({"texts": ["spam"] * 30, "labels": ["a", "b"] * 15}, DataError,
     "texts=<training texts whose only token is 'spam'> is invalid: .*a vocabulary of one"),
    ({"labels": ["a"] * 119 + ["b"]}, DataError, r"labels=<labels where class 'b' has 1 sample\(s\)>"),
    ({"vocab_size": 2}, ConfigError, "vocab_size=2 is invalid: expected an integer >= 3"),
    ({"sequence_length": 0}, ConfigError, "sequence_length=0 is invalid: expected an integer >= 1"),
    ({"lowercase": "yes"}, ConfigError, "lowercase='yes' is invalid"),
    ({"texts_test": ["a b"]}, DataError, "labels_test=None is invalid: texts_test was given"),
])
def test_bad_text_inputs_name_the_field(texts_labels, kwargs, error, message):
    texts, labels = texts_labels
    args = {"texts": texts, "labels": labels, **kwargs}
    if len(args["texts"]) != len(texts) and "labels" not in kwargs:
        args["labels"] = (labels * 2)[:len(args["texts"])]
    with pytest.raises(error, match=message):
        from_texts(args.pop("texts"), args.pop("labels"), **args)


# --- corpus readers -------------------------------------------------------------------------

def _folder(tmp_path, files: dict[str, bytes | str]):
    root = tmp_path / "corpus"
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def test_read_text_folder_reads_one_class_per_sub_folder(tmp_path):
    root = _folder(tmp_path, {"pos/b.txt": "Great fun", "pos/a.txt": "Loved it", "neg/x.txt": "Caf\xe9 bad".encode("latin-1"),
                              "neg/y.TXT": "\ufeffDull", "neg/notes.md": "ignored", ".cache/z.txt": "hidden",
                              "README.txt": "top level"})
    texts, labels = corpora.read_text_folder(root)
    assert texts == ["Café bad", "Dull", "Loved it", "Great fun"] and labels == ["neg", "neg", "pos", "pos"]
    numbered = _folder(tmp_path / "n", {"10/a.txt": "x y", "9/a.txt": "y z"})
    assert corpora.read_text_folder(numbered)[1] == [10, 9]  # integer labels when every folder name is one


@pytest.mark.parametrize("files, error, message", [
    ({}, ConfigError, r"path='.*nope' is invalid: no such folder"),
    ({"pos/a.txt": "fine"}, DataError, r"found 1 \('pos'\)"),
    ({"pos/a.txt": "fine", "neg/a.txt": " \n"}, DataError, "neg/a.txt is empty"),
    ({"pos/a.txt": "fine", "neg/a.md": "x"}, DataError, "class folder 'neg' holds no .txt files"),
    ({"pos/a.txt": "fine", "neg/a.txt": b"a\0b"}, DataError, "a.txt is not a text file"),
])
def test_read_text_folder_errors_name_path_and_file(tmp_path, files, error, message):
    root = _folder(tmp_path, files) if files else tmp_path / "nope"
    with pytest.raises(error, match=message):
        corpora.read_text_folder(root)


def test_read_text_csv_reads_quoted_fields_and_names_columns(tmp_path):
    file = tmp_path / "reviews.csv"
    file.write_text('id,text,label\n1,"Good, really good",1\n2,"Two\nlines ""quoted""",0\n\n3,plain,10\n')
    texts, labels = corpora.read_text_csv(file)
    assert texts == ["Good, really good", 'Two\nlines "quoted"', "plain"] and labels == [1, 0, 10]
    with pytest.raises(ConfigError, match=r"^text='body' is invalid: expected one of the columns 'id', 'text', 'label'"):
        corpora.read_text_csv(file, text="body")
    with pytest.raises(ConfigError, match=r"^label='y' is invalid: expected one of the columns"):
        corpora.read_text_csv(file, label="y")
    file.write_text('text,label\nfine,a\n,b\n')
    with pytest.raises(DataError, match=r"^text='text' is invalid: line 3 .* has an empty text cell"):
        corpora.read_text_csv(file)
    file.write_text('text,label\nfine,a,extra\n')
    with pytest.raises(DataError, match=r"^path=.* is invalid: line 2 has 3 fields, the header 2"):
        corpora.read_text_csv(file)
    file.write_text('text,label\n')
    with pytest.raises(DataError, match="header row but no data rows"):
        corpora.read_text_csv(file)
    with pytest.raises(ConfigError, match="no such file"):
        corpora.read_text_csv(tmp_path / "missing.csv")


def test_from_text_folder_and_csv_make_datasets(tmp_path):
    texts, labels = planted(10)
    root = _folder(tmp_path, {f"{label}/{i:03d}.txt": text for i, (text, label) in enumerate(zip(texts, labels))})
    ds = from_text_folder(root, vocab_size=30)
    assert ds.name == "corpus" and ds.classes == ("film", "food", "sport") and ds.vocab_size <= 30
    rows = ["text,label"] + [f'"{t}",{lab}' for t, lab in zip(texts, labels)]
    (tmp_path / "planted.csv").write_text("\n".join(rows) + "\n")
    from_csv = from_text_csv(tmp_path / "planted.csv", sequence_length=4)
    assert from_csv.name == "planted" and from_csv.input_shape == (4,) and from_csv.classes == ds.classes


# --- languages ------------------------------------------------------------------------------

def test_language_sentences_are_seeded_and_leave_global_random_state_alone():
    random.seed(5)
    np.random.seed(6)
    before = (random.getstate(), np.random.get_state()[1].copy())
    texts, labels = corpora.language_sentences(per_language=50, seed=3)
    assert random.getstate() == before[0] and np.array_equal(np.random.get_state()[1], before[1])
    assert (texts, labels) == corpora.language_sentences(per_language=50, seed=3)
    assert texts != corpora.language_sentences(per_language=50, seed=4)[0]
    assert labels == [lang for lang in corpora.LANGUAGES for _ in range(50)]
    low, high = corpora.SENTENCE_WORDS
    for text in texts:
        words = text.rstrip(".").split()
        assert low <= len(words) <= high and all(w.isalpha() for w in words) and text[0].isupper()


def test_languages_dataset_is_real_text_and_not_trivial(languages):
    from sklearn.naive_bayes import MultinomialNB  # as good as a logistic regression here, and 400x faster

    ds = languages
    assert ds.classes == corpora.LANGUAGES and ds.vocab_size == 2000 and ds.input_shape == (corpora.SENTENCE_WORDS[1],)
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 700 * len(corpora.LANGUAGES)
    vocab = set(ds.vocabulary)
    assert {"the", "und", "que", "est", "non", "não"} <= vocab  # real words of each language
    first = [Vocabulary(ds.vocabulary).decode(ds.x_train[ds.y_train == k]) for k in range(len(ds.classes))]
    shared = [w for w in ("a", "de", "in", "no") if sum(any(w in row for row in rows) for rows in first) >= 2]
    assert len(shared) >= 3  # function words shared by languages keep it from being trivial
    model = MultinomialNB().fit(_bag(ds.x_train, ds.vocab_size), ds.y_train)
    accuracy = model.score(_bag(ds.x_test, ds.vocab_size), ds.y_test)
    assert 0.85 <= accuracy <= 0.97, accuracy  # learnable, yet far from perfect (0.932 at seed 0)


def test_languages_without_pyspellchecker_is_a_config_error(monkeypatch):
    monkeypatch.setattr(corpora, "_WORDS_CACHE", {})
    monkeypatch.setitem(sys.modules, "spellchecker", None)  # import fails
    with pytest.raises(ConfigError, match=r"name='languages' is invalid: it needs the pyspellchecker package"):
        load("languages")
