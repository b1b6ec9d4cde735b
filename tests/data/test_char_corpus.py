"""The generated character corpus: lexicon, text law, tokenization, validation, ideal reader."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.data import (
    CHARACTER_TEXT_SETTINGS,
    CLS_ID,
    PAD_ID,
    CharacterTopicCorpus,
    ideal_reader_accuracy,
    make_character_corpus,
    make_topic_corpus,
    topic_log_likelihoods,
)

TEXT = re.compile(r"^[a-z]+( [a-z]+)* ?$")


@pytest.fixture(scope="module")
def corpus():
    return make_character_corpus(5, seed=11)


def test_ids_and_vocabulary_match_the_word_corpus_specials(corpus):
    vocab = corpus.vocabulary()
    assert vocab[:4] == ["[PAD]", "[CLS]", "[SEP]", "[MASK]"] and vocab[4] == " "
    assert vocab[5:] == list("abcdefghijklmnopqrstuvwxyz")
    assert corpus.vocab_size == len(vocab) == 31
    assert (corpus.pad_id, corpus.cls_id, corpus.sep_id, corpus.mask_id, corpus.n_special) \
        == (0, 1, 2, 3, 4)
    assert corpus.n_topics == 5


def test_lexicon_sizes_lengths_and_distinct_spellings(corpus):
    s = CHARACTER_TEXT_SETTINGS
    assert len(corpus.background_words) == s["n_background_words"]
    assert len(corpus.content_words) == s["n_content_words"]
    assert len(set(corpus.words)) == len(corpus.words)
    assert all(re.fullmatch("[a-z]+", w) for w in corpus.words)
    assert max(map(len, corpus.content_words)) <= s["content_max_length"]
    assert min(map(len, corpus.content_words)) >= s["content_min_length"]
    bg_len = np.mean([len(w) for w in corpus.background_words])
    assert bg_len < np.mean([len(w) for w in corpus.content_words])
    # Zipf background, topics are permutations of one Zipf law
    assert np.all(np.diff(corpus.background) < 0)
    assert np.allclose(np.sort(corpus.topics, axis=1), np.sort(corpus.topics[0]))
    assert not np.array_equal(corpus.topics[0], corpus.topics[1])


def test_same_seed_same_corpus_and_text_independent_of_global_state():
    np.random.seed(0)  # noqa: NPY002 (the global state must neither matter nor move)
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    a = make_character_corpus(3, seed=5)
    ta = a.sample_text(np.full((6, 3), 1 / 3), seed=7)
    assert np.array_equal(state, np.random.get_state()[1])  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    b = make_character_corpus(3, seed=5)
    assert a.words == b.words and np.array_equal(a.topics, b.topics)
    assert ta == b.sample_text(np.full((6, 3), 1 / 3), seed=7)
    assert ta != b.sample_text(np.full((6, 3), 1 / 3), seed=8)
    assert make_character_corpus(3, seed=6).words != a.words
    assert a.config["seed"] == 5 and a.to_dict()["config"]["n_topics"] == 3


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 4), st.integers(1, 15), st.integers(0, 10**6))
def test_texts_are_letters_and_single_spaces_and_padding_follows_the_rule(k, n, seed):
    corpus = make_character_corpus(k, seed=seed % 1000)
    mix = np.random.default_rng(seed).dirichlet(np.ones(k), size=n)
    texts = corpus.sample_text(mix, seed=seed)
    assert len(texts) == n
    assert all(TEXT.match(t) and len(t) <= 349 for t in texts)
    assert all(len(t.split()) >= 3 or len(t) == 349 for t in texts)
    tok = corpus.sample_tokens(mix, seed=seed)
    lengths = np.array([len(t) for t in texts])
    assert tok.dtype == np.int64 and tok.shape == (n, lengths.max() + 1)
    assert (tok[:, 0] == CLS_ID).all()
    pos = np.arange(tok.shape[1])[None, :]
    body = (pos >= 1) & (pos <= lengths[:, None])
    assert (tok[body] >= 4).all() and (tok[body] < corpus.vocab_size).all()
    assert (tok[pos > lengths[:, None]] == PAD_ID).all()
    assert corpus.decode(tok) == texts


def test_single_topic_corpus():
    c = make_character_corpus(1, seed=0)
    texts = c.sample_text(np.ones((4, 1)), seed=0)
    assert len(texts) == 4 and c.topics.shape == (1, 2000)
    assert ideal_reader_accuracy(c, texts, np.zeros(4, dtype=int)) == 1.0


def test_mean_words_per_sentence_matches_the_lognormal():
    c = make_character_corpus(2, seed=1)
    texts = c.sample_text(np.full((4000, 2), 0.5), seed=2)
    s = CHARACTER_TEXT_SETTINGS
    expected = s["words_median"] * np.exp(s["words_sigma"] ** 2 / 2)  # about 20.4
    n_words = [len(t.split()) for t in texts if len(t) < s["max_chars"]]
    assert abs(np.mean(n_words) - expected) < 1.0
    # background share of word tokens
    bg = set(c.background_words)
    words = [w for t in texts[:500] for w in t.split()[:-1]]
    assert abs(np.mean([w in bg for w in words]) - s["background_share"]) < 0.03


@pytest.mark.parametrize("mix", [[[0.5, 0.5]], [[0.5, 0.6, -0.1]], [[0.2, 0.2, 0.2]],
                                 [[np.nan, 0.5, 0.5]]])
def test_bad_mixtures_raise_naming_mixtures(mix):
    c = make_character_corpus(3, seed=0)
    with pytest.raises(ValueError, match="mixtures"):
        c.sample_text(mix, seed=0)
    with pytest.raises(ValueError, match="mixtures"):
        c.sample_tokens(mix, seed=0)


@pytest.mark.parametrize("name, value", [
    ("n_topics", 0), ("n_background_words", 0), ("n_content_words", -3),
    ("background_min_length", 0), ("content_min_length", 0), ("content_max_length", 0),
    ("background_extra_length", -1.0), ("content_extra_length", float("nan")),
    ("zipf_exponent", -0.5), ("background_share", 1.5), ("words_median", 0.0),
    ("words_sigma", float("inf")), ("min_words", 0), ("max_chars", 0),
])
def test_bad_settings_raise_naming_the_argument(name, value):
    with pytest.raises(ValueError, match=name):
        if name == "n_topics":
            make_character_corpus(value, seed=0)
        else:
            make_character_corpus(2, seed=0, **{name: value})


def test_impossible_lexicon_and_unknown_setting_and_missing_seed():
    with pytest.raises(ValueError, match="content_max_length"):
        make_character_corpus(2, seed=0, content_min_length=5, content_max_length=4)
    with pytest.raises(ValueError, match="n_background_words"):
        make_character_corpus(2, seed=0, n_background_words=30, background_extra_length=0.0)
    with pytest.raises(TypeError, match="unknown"):
        make_character_corpus(2, seed=0, n_words=10)
    with pytest.raises(ValueError, match="seed"):
        make_character_corpus(2, seed=None)


def test_tokenize_errors_name_texts(corpus):
    for bad in ([], ["ab", ""], ["Ab"], ["a,b"], ["caf\u00e9"], "abc", [3]):
        with pytest.raises(ValueError, match="texts"):
            corpus.tokenize(bad)


def test_settings_are_recorded_and_overridable():
    c = make_character_corpus(2, seed=0, n_background_words=10, n_content_words=50,
                              words_median=5.0, max_chars=40)
    assert c.settings["max_chars"] == 40 and len(c.words) == 60
    texts = c.sample_text(np.full((50, 2), 0.5), seed=0)
    assert max(map(len, texts)) <= 40
    with pytest.raises(TypeError):
        c.settings["max_chars"] = 10
    with pytest.raises(ValueError, match="distinct"):
        CharacterTopicCorpus(("ab", "ab"), ("cd",), [0.5, 0.5], [[1.0]])


# ------------------------------------------------------------------ ideal reader
def test_ideal_reader_reads_pure_long_texts_and_guesses_on_uniform_ones():
    k = 8
    c = make_character_corpus(k, seed=3, words_median=60.0, words_sigma=0.1)
    y = np.random.default_rng(0).integers(k, size=400)
    assert ideal_reader_accuracy(c, c.sample_text(np.eye(k)[y], seed=1), y) > 0.99
    texts = c.sample_text(np.full((400, k), 1 / k), seed=2)
    assert abs(ideal_reader_accuracy(c, texts, y) - 1 / k) < 0.07
    # token arrays are decoded
    tok = c.sample_tokens(np.eye(k)[y], seed=1)
    assert ideal_reader_accuracy(c, tok, y) > 0.99


def test_ideal_reader_on_the_word_corpus():
    k = 5
    c = make_topic_corpus(k, n_words=100, concentration=1.0, seed=0)
    y = np.random.default_rng(1).integers(k, size=300)
    assert ideal_reader_accuracy(c, c.sample_tokens(np.eye(k)[y], length=200, seed=0), y) > 0.99
    tok = c.sample_tokens(np.full((300, k), 1 / k), length=16, seed=0)
    assert abs(ideal_reader_accuracy(c, tok, y) - 1 / k) < 0.08
    with pytest.raises(ValueError, match="text"):
        topic_log_likelihoods(c, [[1, 999]])
    with pytest.raises(TypeError, match="corpus"):
        topic_log_likelihoods(object(), [[1]])


def test_label_of_topic_maps_and_excludes_topics():
    c = make_character_corpus(4, seed=2, words_median=60.0)
    topic = np.array([1, 3, 3, 1])
    texts = c.sample_text(np.eye(4)[topic], seed=0)
    label_of_topic = [-1, 0, -1, 1]
    assert ideal_reader_accuracy(c, texts, [0, 1, 1, 0], label_of_topic=label_of_topic) == 1.0
    with pytest.raises(ValueError, match="label_of_topic"):
        ideal_reader_accuracy(c, texts, [0, 1, 1, 0], label_of_topic=[-1, -1, -1, -1])
    with pytest.raises(ValueError, match="labels"):
        ideal_reader_accuracy(c, texts, [0, 1])


def test_truncated_last_word_counts_by_its_prefix():
    c = make_character_corpus(2, seed=4)
    long_word = max(c.content_words, key=len)
    short = min(c.background_words, key=len)
    head = ""
    while len(head) < 349 - len(long_word) + 3:  # the long word is cut after a few letters
        head += short + " "
    text = (head + long_word)[:349]
    assert len(text) == 349 and text.split(" ")[-1] not in c.words
    fragment = text.split(" ")[-1]
    ll = topic_log_likelihoods(c, [text])
    ll_head = topic_log_likelihoods(c, [head.rstrip()])
    share = c.settings["background_share"]
    hits = [i for i, w in enumerate(c.content_words) if w.startswith(fragment)]
    hits_bg = [i for i, w in enumerate(c.background_words) if w.startswith(fragment)]
    p = (1 - share) * c.topics[:, hits].sum(1) + share * c.background[hits_bg].sum()
    assert np.allclose(ll - ll_head, np.log(p))
    # a short text must consist of lexicon words only
    with pytest.raises(ValueError, match="texts"):
        topic_log_likelihoods(c, [text[:300] + "qqqqq"])
    with pytest.raises(ValueError, match="texts"):
        topic_log_likelihoods(c, ["a" * 350])
