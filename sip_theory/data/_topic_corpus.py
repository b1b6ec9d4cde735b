"""A generated topic corpus: node text without downloads.

The paper's synthetic experiments gave each node a Wikipedia sentence chosen by
a 100-topic LDA. Here the text is generated instead (experiments.md section 2):
K topics, each a Dirichlet-drawn distribution over a word vocabulary; a node
with topic mixture q gets words drawn independently from sum_k q_k * topic_k
(equivalently: each word first draws a topic z ~ q, then a word from topic z,
as in LDA's generative model). The text therefore only partly reflects a node's
label, as in the paper.

Token ids are ready for a BERT-style encoder: ids 0..3 are the special tokens
[PAD], [CLS], [SEP], [MASK]; word w has id 4 + w. A sequence is
``[CLS] w_1 ... w_L [SEP]``, right-padded with [PAD] when lengths vary.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from .._serialization import ToDictMixin
from .._validation import as_generator, check_positive_int

__all__ = [
    "CLS_ID",
    "MASK_ID",
    "PAD_ID",
    "SEP_ID",
    "SPECIAL_TOKENS",
    "TopicCorpus",
    "make_topic_corpus",
]

#: Reserved tokens, in id order.
SPECIAL_TOKENS = ("[PAD]", "[CLS]", "[SEP]", "[MASK]")
PAD_ID, CLS_ID, SEP_ID, MASK_ID = range(len(SPECIAL_TOKENS))
_N_SPECIAL = len(SPECIAL_TOKENS)


@dataclass(frozen=True, eq=False)
class TopicCorpus(ToDictMixin):
    """K topics over a word vocabulary, and a sampler of token sequences from topic mixtures.

    Build one with :func:`make_topic_corpus`.

    Parameters
    ----------
    topics : array-like of shape (n_topics, n_words)
        Row k is topic k's distribution over the words (non-negative, sums to 1).
    config : mapping, optional
        How the topics were drawn (recorded by :func:`make_topic_corpus`).

    Raises
    ------
    ValueError
        ``topics`` not 2-D, negative, or with rows not summing to 1.

    Examples
    --------
    >>> corpus = make_topic_corpus(3, n_words=20, seed=0)
    >>> corpus.vocab_size, corpus.mask_id
    (24, 3)
    >>> tokens = corpus.sample_tokens([[1.0, 0, 0], [0, 0.5, 0.5]], length=5, seed=1)
    >>> tokens.shape, tokens[:, 0].tolist(), tokens[:, -1].tolist()
    ((2, 7), [1, 1], [2, 2])
    """

    topics: np.ndarray
    config: MappingProxyType = field(default_factory=dict)

    def __post_init__(self):
        t = np.array(self.topics, dtype=np.float64)
        if t.ndim != 2 or t.shape[0] == 0 or t.shape[1] == 0:
            raise ValueError(f"topics must be a non-empty (n_topics, n_words) array, got {t.shape}")
        if not np.isfinite(t).all() or (t < 0).any() or not np.allclose(t.sum(1), 1.0):
            raise ValueError("topics rows must be probability distributions over the words")
        t.setflags(write=False)
        object.__setattr__(self, "topics", t)
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))

    n_special = _N_SPECIAL
    pad_id, cls_id, sep_id, mask_id = PAD_ID, CLS_ID, SEP_ID, MASK_ID
    special_tokens = SPECIAL_TOKENS

    @property
    def n_topics(self) -> int:
        return int(self.topics.shape[0])

    @property
    def n_words(self) -> int:
        """Number of ordinary words (the vocabulary without special tokens)."""
        return int(self.topics.shape[1])

    @property
    def vocab_size(self) -> int:
        """Number of token ids, special tokens included."""
        return self.n_words + _N_SPECIAL

    def vocabulary(self) -> list[str]:
        """Token strings by id: the special tokens, then ``w0``, ``w1``, ..."""
        return list(SPECIAL_TOKENS) + [f"w{i}" for i in range(self.n_words)]

    def _check_mixtures(self, mixtures) -> np.ndarray:
        q = np.asarray(mixtures, dtype=np.float64)
        if q.ndim != 2 or q.shape[1] != self.n_topics:
            raise ValueError(
                f"mixtures must have shape (n_nodes, {self.n_topics}), got {q.shape}"
            )
        if not np.isfinite(q).all() or (q < 0).any() or not np.allclose(q.sum(1), 1.0):
            raise ValueError("mixtures rows must be probability distributions over the topics")
        return q

    def word_distribution(self, mixtures) -> np.ndarray:
        """Each node's word distribution sum_k q_k * topic_k, shape (n_nodes, n_words).

        Examples
        --------
        >>> c = make_topic_corpus(2, n_words=4, seed=0)
        >>> bool(np.allclose(c.word_distribution([[0.5, 0.5]]).sum(), 1.0))
        True
        """
        return self._check_mixtures(mixtures) @ self.topics

    def sample_tokens(self, mixtures, *, length=32, seed, special: bool = True) -> np.ndarray:
        """Sample one token sequence per node from its topic mixture.

        Parameters
        ----------
        mixtures : array-like of shape (n_nodes, n_topics)
            Rows are distributions over the topics (e.g. ``SyntheticDataset.topic_mixtures``).
        length : int or (int, int), default 32
            Number of words per node, or an inclusive range from which each
            node's number of words is drawn uniformly.
        seed : int or numpy.random.Generator
        special : bool, default True
            Wrap each sequence as ``[CLS] words [SEP]``; without, only the word ids.

        Returns
        -------
        ndarray of int64, shape (n_nodes, max_words + 2) (or (n_nodes, max_words))
            Token ids; shorter sequences are right-padded with :attr:`pad_id`.

        Raises
        ------
        ValueError
            Mixtures of the wrong shape or not distributions; bad ``length``.
        """
        q = self._check_mixtures(mixtures)
        rng = as_generator(seed)
        if isinstance(length, numbers.Integral) and not isinstance(length, bool):
            lo = hi = check_positive_int(length, name="length")
        else:
            try:
                lo, hi = (check_positive_int(v, name="length") for v in length)
            except TypeError as exc:
                raise TypeError("length must be an int or a (min, max) pair of ints") from exc
            if lo > hi:
                raise ValueError(f"length range must have min <= max, got {(lo, hi)}")
        n = q.shape[0]
        cum = np.cumsum(q @ self.topics, axis=1)
        cum /= cum[:, -1:]  # exact 1 at the end of each row
        u = rng.random((n, hi))
        offset = np.arange(n, dtype=np.float64)[:, None]
        flat = np.searchsorted((cum + offset).ravel(), (u + offset).ravel(), side="right")
        words = flat.reshape(n, hi) - np.arange(n)[:, None] * self.n_words
        words = np.minimum(words, self.n_words - 1) + _N_SPECIAL
        lengths = rng.integers(lo, hi + 1, size=n) if hi > lo else np.full(n, hi)
        words[np.arange(hi)[None, :] >= lengths[:, None]] = PAD_ID
        if not special:
            return words.astype(np.int64)
        out = np.full((n, hi + 2), PAD_ID, dtype=np.int64)
        out[:, 0] = CLS_ID
        out[:, 1:-1] = words
        out[np.arange(n), lengths + 1] = SEP_ID
        return out

    def to_dict(self) -> dict:
        """JSON-serializable description (topics as nested lists, config, special tokens)."""
        return {**super().to_dict(), "special_tokens": list(SPECIAL_TOKENS)}


def make_topic_corpus(n_topics: int, *, seed, n_words: int = 100,
                      concentration: float = 0.1) -> TopicCorpus:
    """Draw ``n_topics`` topics, each Dirichlet(concentration) over ``n_words`` words.

    Parameters
    ----------
    n_topics : int
        Must equal the number of columns of the mixtures it will be sampled from.
    seed : int or numpy.random.Generator
    n_words : int, default 100
        Ordinary words (token ids 4..n_words+3).
    concentration : float > 0, default 0.1
        Symmetric Dirichlet parameter: small values give peaked topics with few
        words each, large ones nearly uniform, hardly distinguishable topics.

    Returns
    -------
    TopicCorpus
        ``config`` records the arguments (an int seed as given; ``None`` for a Generator).

    Notes
    -----
    The symmetric Dirichlet prior over topic-word distributions is LDA's
    (Blei, Ng and Jordan 2003); the default sizes are ours, chosen small for the
    tiny encoders of the synthetic experiments.

    Examples
    --------
    >>> c = make_topic_corpus(4, n_words=10, seed=0)
    >>> c.topics.shape, bool(np.allclose(c.topics.sum(1), 1))
    ((4, 10), True)
    """
    n_topics = check_positive_int(n_topics, name="n_topics")
    n_words = check_positive_int(n_words, name="n_words")
    if isinstance(concentration, bool) or not isinstance(concentration, numbers.Real) \
            or not concentration > 0 or not np.isfinite(concentration):
        raise ValueError(f"concentration must be a positive finite number, got {concentration!r}")
    rng = as_generator(seed)
    topics = rng.dirichlet(np.full(n_words, float(concentration)), size=n_topics)
    # guard against rows that underflow to all-zero for tiny concentrations
    topics = np.where(topics.sum(1, keepdims=True) > 0, topics, 1.0 / n_words)
    topics /= topics.sum(1, keepdims=True)
    config = {"n_topics": n_topics, "n_words": n_words, "concentration": float(concentration),
              "seed": seed if isinstance(seed, numbers.Integral) else None}
    return TopicCorpus(topics, config)
