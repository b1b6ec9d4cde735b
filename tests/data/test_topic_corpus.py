"""The generated topic corpus: special tokens, sampling law, seeds, validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.data import (
    CLS_ID,
    MASK_ID,
    PAD_ID,
    SEP_ID,
    SPECIAL_TOKENS,
    TopicCorpus,
    make_topic_corpus,
)


def test_special_tokens_take_the_first_four_ids():
    assert SPECIAL_TOKENS == ("[PAD]", "[CLS]", "[SEP]", "[MASK]")
    assert (PAD_ID, CLS_ID, SEP_ID, MASK_ID) == (0, 1, 2, 3)
    c = make_topic_corpus(3, n_words=7, seed=0)
    assert c.vocab_size == 11 and c.vocabulary()[:4] == list(SPECIAL_TOKENS)
    assert len(c.vocabulary()) == c.vocab_size


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(1, 12), st.integers(1, 9), st.integers(0, 10**6))
def test_sequences_are_cls_words_sep_with_padding_only_after_sep(k, n, max_len, seed):
    rng = np.random.default_rng(seed)
    corpus = make_topic_corpus(k, n_words=15, seed=seed)
    mix = rng.dirichlet(np.ones(k), size=n)
    tok = corpus.sample_tokens(mix, length=(1, max_len), seed=seed)
    assert tok.shape == (n, max_len + 2)
    assert (tok[:, 0] == CLS_ID).all()
    assert ((tok == SEP_ID).sum(1) == 1).all() and not (tok == MASK_ID).any()
    sep_at = (tok == SEP_ID).argmax(1)
    positions = np.arange(tok.shape[1])[None, :]
    words = (positions > 0) & (positions < sep_at[:, None])
    assert (tok[words] >= 4).all() and (tok[words] < corpus.vocab_size).all()
    assert (tok[positions > sep_at[:, None]] == PAD_ID).all()
    assert ((sep_at - 1 >= 1) & (sep_at - 1 <= max_len)).all()


def test_word_frequencies_follow_the_mixture_of_topics():
    corpus = make_topic_corpus(3, n_words=12, concentration=0.5, seed=1)
    q = np.array([[0.2, 0.5, 0.3]])
    tok = corpus.sample_tokens(np.repeat(q, 400, axis=0), length=100, seed=2, special=False)
    freq = np.bincount(tok.ravel() - 4, minlength=12) / tok.size
    expected = (q @ corpus.topics)[0]
    assert 0.5 * np.abs(freq - expected).sum() < 0.01  # total variation, 40,000 draws


def test_one_hot_mixture_only_emits_its_topics_words():
    corpus = TopicCorpus([[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.25, 0.75]])
    tok = corpus.sample_tokens([[1.0, 0.0], [0.0, 1.0]], length=200, seed=0, special=False)
    assert set(np.unique(tok[0]).tolist()) == {4, 5}
    assert set(np.unique(tok[1]).tolist()) == {6, 7}


def test_same_seed_same_tokens_other_seed_differs():
    c = make_topic_corpus(4, seed=3)
    mix = np.full((5, 4), 0.25)
    a = c.sample_tokens(mix, seed=9)
    assert np.array_equal(a, c.sample_tokens(mix, seed=9))
    assert not np.array_equal(a, c.sample_tokens(mix, seed=10))
    assert np.array_equal(c.topics, make_topic_corpus(4, seed=3).topics)


def test_fixed_length_has_no_padding():
    c = make_topic_corpus(2, seed=0)
    tok = c.sample_tokens([[1.0, 0.0]] * 3, length=6, seed=0)
    assert tok.shape == (3, 8) and not (tok == PAD_ID).any() and (tok[:, -1] == SEP_ID).all()


def test_small_concentration_gives_peaked_topics():
    peaked = make_topic_corpus(20, n_words=100, concentration=0.05, seed=0).topics
    flat = make_topic_corpus(20, n_words=100, concentration=50.0, seed=0).topics
    assert peaked.max(1).mean() > 3 * flat.max(1).mean()


@pytest.mark.parametrize("mix", [[[0.5, 0.5]], [[0.5, 0.6, -0.1]], [[0.2, 0.2, 0.2]]])
def test_bad_mixtures_raise_naming_mixtures(mix):
    c = make_topic_corpus(3, seed=0)
    with pytest.raises(ValueError, match="mixtures"):
        c.sample_tokens(mix, seed=0)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan")])
def test_non_positive_concentration_raises(bad):
    with pytest.raises(ValueError, match="concentration"):
        make_topic_corpus(3, seed=0, concentration=bad)


def test_bad_length_and_missing_seed_raise():
    c = make_topic_corpus(2, seed=0)
    with pytest.raises(ValueError, match="length"):
        c.sample_tokens([[1.0, 0.0]], length=(5, 2), seed=0)
    with pytest.raises(ValueError, match="seed"):
        c.sample_tokens([[1.0, 0.0]], seed=None)


def test_topics_that_are_not_distributions_raise():
    with pytest.raises(ValueError, match="topics"):
        TopicCorpus([[0.5, 0.4]])
