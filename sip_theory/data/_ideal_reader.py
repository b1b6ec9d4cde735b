"""The ideal reader: naive Bayes that knows a corpus's generative model but not the mixture.

It is the ceiling of what any reader of the node text alone can achieve on a
label that is a topic (or a function of the topic): given a node's text it
predicts ``argmax_k log P(text | pure topic k)``. For a :class:`TopicCorpus`
that is the sum of ``log topic_k(w)`` over the words. For a
:class:`CharacterTopicCorpus` the text is split on spaces, each spelling is its
word type, and a token has probability ``0.45 bg(w) + 0.55 topic_k(w)`` (the
corpus's ``background_share``); the last fragment of a text cut at
``max_chars`` counts by the exact marginal of the words it starts.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_labels
from ._char_corpus import CharacterTopicCorpus
from ._topic_corpus import TopicCorpus

__all__ = ["ideal_reader_accuracy", "topic_log_likelihoods"]


def _character_log_likelihoods(corpus: CharacterTopicCorpus, texts) -> np.ndarray:
    """Each word token has probability ``share * bg(w) + (1 - share) * topic_k(w)``.

    A text of ``max_chars`` characters may end inside a word: its last fragment
    s contributes the exact marginal, the total probability of the words that
    start with s (nothing when s is empty, i.e. the cut fell after a space).
    """
    share, max_chars = corpus.settings["background_share"], corpus.settings["max_chars"]
    words = corpus.words
    index = {w: i for i, w in enumerate(words)}
    prob = np.concatenate([np.repeat(share * corpus.background[:, None], corpus.n_topics, 1),
                           (1.0 - share) * corpus.topics.T])  # (n_word_types, n_topics)
    with np.errstate(divide="ignore"):
        logp = np.log(prob)
    out = np.zeros((len(texts), corpus.n_topics))
    for i, text in enumerate(texts):
        if not isinstance(text, str) or len(text) > max_chars:
            raise ValueError(f"texts[{i}] must be a string of at most {max_chars} characters")
        tokens = text.split(" ")
        if len(text) == max_chars:
            last = tokens.pop()
            if last:
                hits = [j for j, w in enumerate(words) if w.startswith(last)]
                if not hits:
                    raise ValueError(f"texts[{i}] ends with {last!r}, not the start of a word")
                with np.errstate(divide="ignore"):
                    out[i] += np.log(prob[hits].sum(0))
        try:
            idx = [index[w] for w in tokens]
        except KeyError as exc:
            raise ValueError(f"texts[{i}] has the word {exc.args[0]!r}, not in the "
                             "lexicon") from None
        out[i] += logp[idx].sum(0)
    return out


def topic_log_likelihoods(corpus, text) -> np.ndarray:
    """log P(text | pure topic k) for each text, shape (n_texts, n_topics).

    Parameters
    ----------
    corpus : TopicCorpus or CharacterTopicCorpus
    text : array-like of int or sequence of str
        Token ids (special ids are ignored), or, for a character corpus, the
        texts themselves (token ids are decoded first).

    Returns
    -------
    ndarray of float64
        Up to a per-text constant (the same for every topic); ``-inf`` where a
        topic cannot produce the text.

    Raises
    ------
    ValueError
        Token ids out of range; texts that the corpus cannot have produced (a
        text longer than ``max_chars``, a word outside the lexicon other than
        the last fragment of a full-length text).
    TypeError
        ``corpus`` of another type.

    Examples
    --------
    >>> corpus = TopicCorpus([[0.9, 0.1], [0.2, 0.8]])
    >>> ll = topic_log_likelihoods(corpus, [[1, 4, 4, 2], [1, 5, 5, 2]])
    >>> ll.argmax(1).tolist()
    [0, 1]
    >>> from sip_theory.data import make_character_corpus
    >>> c = make_character_corpus(3, seed=0)
    >>> topic_log_likelihoods(c, c.sample_text(np.eye(3), seed=1)).argmax(1).tolist()
    [0, 1, 2]
    """
    if isinstance(corpus, CharacterTopicCorpus):
        if isinstance(text, np.ndarray) and text.dtype.kind in "iu":
            text = corpus.decode(text)
        if isinstance(text, str):
            raise ValueError("text must be a sequence of texts, not one string")
        return _character_log_likelihoods(corpus, list(text))
    if not isinstance(corpus, TopicCorpus):
        raise TypeError(f"corpus must be a TopicCorpus or CharacterTopicCorpus, "
                        f"got {type(corpus).__name__}")
    tok = np.asarray(text)
    if tok.ndim != 2 or tok.dtype.kind not in "iu":
        raise ValueError(f"text must be a 2-D integer token array, got shape {tok.shape}")
    if (tok < 0).any() or (tok >= corpus.vocab_size).any():
        raise ValueError(f"text has token ids outside [0, {corpus.vocab_size})")
    with np.errstate(divide="ignore"):
        logp = np.log(corpus.topics.T)  # (n_words, n_topics)
    word = tok >= corpus.n_special
    out = np.zeros((tok.shape[0], corpus.n_topics))
    rows = np.nonzero(word)[0]
    np.add.at(out, rows, logp[tok[word] - corpus.n_special])
    return out


def ideal_reader_accuracy(corpus, text, labels, *, label_of_topic=None) -> float:
    """Accuracy of the ideal naive-Bayes reader of the node text on a label set.

    Parameters
    ----------
    corpus : TopicCorpus or CharacterTopicCorpus
    text : array-like of int or sequence of str
        One token sequence (or text) per node.
    labels : array-like of int, shape (n_texts,)
        The nodes' labels.
    label_of_topic : array-like of int, shape (n_topics,), optional
        The label whose pure topic is topic k (default: the topic index itself).
        Topics mapped to a negative value are no label's topic and are never
        predicted (e.g. the unused topics of a mechanistic dataset).

    Returns
    -------
    float
        Fraction of nodes whose label is ``label_of_topic[argmax_k log P(text | k)]``
        (ties go to the first topic).

    Raises
    ------
    ValueError
        Labels of the wrong length, a bad ``label_of_topic``, bad text.

    Examples
    --------
    >>> from sip_theory.data import make_character_corpus
    >>> import numpy as np
    >>> c = make_character_corpus(3, seed=0, words_median=60.0)
    >>> y = np.array([0, 1, 2, 2])
    >>> ideal_reader_accuracy(c, c.sample_text(np.eye(3)[y], seed=0), y)
    1.0
    >>> ideal_reader_accuracy(c, c.sample_tokens(np.eye(3)[y], seed=0), [1, 0, 2, 2],
    ...                       label_of_topic=[1, 0, 2])
    1.0
    """
    ll = topic_log_likelihoods(corpus, text)
    y = check_labels(labels, ll.shape[0])
    k = corpus.n_topics
    lot = np.arange(k) if label_of_topic is None else np.asarray(label_of_topic)
    if lot.shape != (k,) or lot.dtype.kind not in "iu" or not (lot >= 0).any():
        raise ValueError(f"label_of_topic must be {k} integer labels, not all negative")
    allowed = np.flatnonzero(lot >= 0)
    pred = lot[allowed[ll[:, allowed].argmax(1)]]
    return float(np.mean(pred == y))
