"""A generated character-level text corpus with the official synthetic pipeline's statistics.

The paper's official synthetic runner gives every node one Wikipedia sentence
(chosen through a 100-topic LDA), removes punctuation, lower-cases it, keeps its
first 349 characters (``s[:max_len - 1]`` with ``max_len = 350``) and tokenizes
it *per character*: a sequence is ``[CLS]`` followed by the characters,
right-padded with ``[PAD]`` to the longest sequence plus one. This module
generates such text without downloads: a lexicon of pseudo-words over the
English alphabet, topics over the content words, and sentences whose words are
function words or words of a topic drawn from the node's topic mixture.

Settings (decided from the official protocol before any SIPT run at them)
-------------------------------------------------------------------------
* Alphabet: the 26 lower-case letters and the space. The official code strips
  punctuation and lower-cases; digits are a small share of Wikipedia
  characters, so digits, accents and punctuation are left out. The letters of a
  pseudo-word are drawn i.i.d. from the standard English letter-frequency table
  (:data:`LETTER_FREQUENCIES`, normalised).
* Lexicon: 150 background ("function") word types of length 1 + Poisson(1.6)
  letters and 2000 content word types of length 2 + Poisson(4.5) letters,
  capped at 15; all spellings are distinct across the lexicon (a duplicate is
  redrawn, length and letters). Background frequencies are Zipf (exponent 1.0)
  over the 150 types.
* Topics: topic k is Zipf (exponent 1.0) over its own random permutation of the
  2000 content words, so every topic has its own head words and all topics share
  the long tail, as LDA topics of a large corpus do.
* A word token is a background word with probability 0.45 (roughly the share of
  function words in English running text; the official CountVectorizer
  (max_df=0.7) removed only the commonest words from the LDA, every word stays in
  the text), otherwise a content word: a topic z ~ q (the node's mixture), then a
  word of topic z.
* Words per sentence: max(3, round(LogNormal(median 18, sigma 0.5))); modern
  English prose averages about 20 words a sentence, right-skewed.
* Text: the words joined by single spaces, truncated to 349 characters (so a
  truncated text may end inside a word, or with a space).
* Token ids: [PAD] 0, [CLS] 1, [SEP] 2 (unused; kept so that the ids match the
  word corpus and the encoder defaults), [MASK] 3, the space 4 and 'a'..'z'
  5..30; vocab_size 31. The official code builds its vocabulary from the
  characters seen; only the id order differs, which has no effect.
* Sequence: ``[CLS]`` + character ids, right-padded with [PAD] to the longest
  text tokenized together plus one. No [SEP].
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from .._serialization import ToDictMixin
from .._validation import as_generator, check_positive_int, check_probability
from ._topic_corpus import CLS_ID, MASK_ID, PAD_ID, SEP_ID, SPECIAL_TOKENS

__all__ = [
    "ALPHABET",
    "CHARACTER_TEXT_SETTINGS",
    "LETTER_FREQUENCIES",
    "CharacterTopicCorpus",
    "make_character_corpus",
]

#: The characters of the text, in id order (ids 4..30).
ALPHABET = " abcdefghijklmnopqrstuvwxyz"

#: English letter frequencies in percent (the usual published table, Lewand 2000).
LETTER_FREQUENCIES = MappingProxyType({
    "a": 8.167, "b": 1.492, "c": 2.782, "d": 4.253, "e": 12.702, "f": 2.228, "g": 2.015,
    "h": 6.094, "i": 6.966, "j": 0.153, "k": 0.772, "l": 4.025, "m": 2.406, "n": 6.749,
    "o": 7.507, "p": 1.929, "q": 0.095, "r": 5.987, "s": 6.327, "t": 9.056, "u": 2.758,
    "v": 0.978, "w": 2.360, "x": 0.150, "y": 1.974, "z": 0.074,
})

#: The settings of the module notes (defaults of :func:`make_character_corpus`).
CHARACTER_TEXT_SETTINGS = MappingProxyType({
    "n_background_words": 150,
    "background_min_length": 1,
    "background_extra_length": 1.6,
    "n_content_words": 2000,
    "content_min_length": 2,
    "content_extra_length": 4.5,
    "content_max_length": 15,
    "zipf_exponent": 1.0,
    "background_share": 0.45,
    "words_median": 18.0,
    "words_sigma": 0.5,
    "min_words": 3,
    "max_chars": 349,
})

_N_SPECIAL = len(SPECIAL_TOKENS)
_VOCAB = tuple(SPECIAL_TOKENS) + tuple(ALPHABET)
_LUT = np.full(128, -1, dtype=np.int64)
_LUT[np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)] = np.arange(len(ALPHABET)) + 4
_MAX_DRAW_ROUNDS = 1000


def _real(value, name, *, minimum=0.0, strict=False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    ok = np.isfinite(value) and (value > minimum if strict else value >= minimum)
    if not ok:
        raise ValueError(f"{name} must be a finite number {'>' if strict else '>='} {minimum}, "
                         f"got {value}")
    return value


def _check_settings(settings) -> dict:
    """The full settings (defaults filled in), each validated; errors name the setting."""
    unknown = sorted(set(settings) - set(CHARACTER_TEXT_SETTINGS))
    if unknown:
        raise TypeError(f"unknown setting(s) {unknown}; known: {sorted(CHARACTER_TEXT_SETTINGS)}")
    s = {**CHARACTER_TEXT_SETTINGS, **settings}
    out = {}
    for key in ("n_background_words", "n_content_words", "background_min_length",
                "content_min_length", "content_max_length", "min_words", "max_chars"):
        out[key] = check_positive_int(s[key], name=key)
    if out["content_max_length"] < out["content_min_length"]:
        raise ValueError(f"content_max_length must be >= content_min_length "
                         f"({out['content_min_length']}), got {out['content_max_length']}")
    for key in ("background_extra_length", "content_extra_length", "zipf_exponent",
                "words_sigma"):
        out[key] = _real(s[key], key)
    out["words_median"] = _real(s["words_median"], "words_median", strict=True)
    out["background_share"] = check_probability(s["background_share"], name="background_share")
    return out


def _zipf(n: int, exponent: float) -> np.ndarray:
    p = np.arange(1, n + 1, dtype=np.float64) ** -exponent
    return p / p.sum()


def _draw_spellings(rng, n, min_len, extra, max_len, taken: set, name: str) -> list[str]:
    """``n`` new distinct spellings (none in ``taken``); duplicates are redrawn whole."""
    letters = np.array(list(LETTER_FREQUENCIES))
    freq = np.array(list(LETTER_FREQUENCIES.values()))
    freq /= freq.sum()
    out: list[str] = []
    for _ in range(_MAX_DRAW_ROUNDS):
        need = n - len(out)
        if need == 0:
            return out
        lengths = min_len + rng.poisson(extra, size=need)
        if max_len is not None:
            lengths = np.minimum(lengths, max_len)
        chars = letters[rng.choice(26, size=int(lengths.sum()), p=freq)]
        for word in np.split(chars, np.cumsum(lengths)[:-1]):
            spelling = "".join(word)
            if spelling not in taken:
                taken.add(spelling)
                out.append(spelling)
    raise ValueError(f"{name}={n} distinct spellings could not be drawn at these lengths; "
                     f"lower {name} or allow longer words")


def _sample_rows(cum: np.ndarray, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws: for each i, a column of ``cum[rows[i]]`` at uniform ``u[i]``."""
    n_cols = cum.shape[1]
    offset = np.arange(cum.shape[0], dtype=np.float64)[:, None]
    flat = np.searchsorted((cum + offset).ravel(), u + rows, side="right")
    return np.minimum(flat - rows * n_cols, n_cols - 1)


def _cumulative(p: np.ndarray) -> np.ndarray:
    cum = np.cumsum(p, axis=-1)
    return cum / cum[..., -1:]  # exact 1 at the end of each row


def _readonly(a, dtype=np.float64) -> np.ndarray:
    a = np.array(a, dtype=dtype)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class CharacterTopicCorpus(ToDictMixin):
    """A lexicon, K topics over its content words, and a sampler of per-character sequences.

    Build one with :func:`make_character_corpus`.

    Parameters
    ----------
    background_words, content_words : sequence of str
        Spellings of the background and the content word types (distinct, letters only).
    background : array-like of shape (n_background_words,)
        Background word frequencies (a distribution).
    topics : array-like of shape (n_topics, n_content_words)
        Row k is topic k's distribution over the content words.
    settings : mapping, optional
        :data:`CHARACTER_TEXT_SETTINGS` keys (missing ones take the defaults).
    config : mapping, optional
        How the corpus was drawn (recorded by :func:`make_character_corpus`).

    Raises
    ------
    ValueError
        Shapes that disagree, repeated or non-letter spellings, rows that are not
        distributions, bad settings.

    Examples
    --------
    >>> corpus = make_character_corpus(3, seed=0)
    >>> corpus.vocab_size, corpus.mask_id, corpus.vocabulary()[4:7]
    (31, 3, [' ', 'a', 'b'])
    >>> tok = corpus.tokenize(["ab c", "a"])
    >>> tok.tolist()
    [[1, 5, 6, 4, 7], [1, 5, 0, 0, 0]]
    >>> texts = corpus.sample_text([[1.0, 0.0, 0.0]], seed=1)
    >>> len(texts[0]) <= 349 and set(texts[0]) <= set(ALPHABET)
    True
    """

    background_words: tuple
    content_words: tuple
    background: np.ndarray
    topics: np.ndarray
    settings: MappingProxyType = field(default_factory=dict)
    config: MappingProxyType = field(default_factory=dict)

    n_special = _N_SPECIAL
    pad_id, cls_id, sep_id, mask_id = PAD_ID, CLS_ID, SEP_ID, MASK_ID
    special_tokens = SPECIAL_TOKENS
    vocab_size = len(_VOCAB)

    def __post_init__(self):
        bg_words = tuple(str(w) for w in self.background_words)
        ct_words = tuple(str(w) for w in self.content_words)
        words = bg_words + ct_words
        if not bg_words or not ct_words:
            raise ValueError("background_words and content_words must be non-empty")
        if any(not w or not w.isascii() or not w.isalpha() or not w.islower() for w in words):
            raise ValueError("word spellings must be non-empty strings of letters a-z")
        if len(set(words)) != len(words):
            raise ValueError("word spellings must be distinct across the lexicon")
        bg = _readonly(self.background)
        if bg.shape != (len(bg_words),) or not np.isfinite(bg).all() or (bg < 0).any() \
                or not np.isclose(bg.sum(), 1.0):
            raise ValueError(f"background must be a distribution over the {len(bg_words)} "
                             "background words")
        t = _readonly(self.topics)
        if t.ndim != 2 or t.shape[0] == 0 or t.shape[1] != len(ct_words):
            raise ValueError(f"topics must have shape (n_topics, {len(ct_words)}), got {t.shape}")
        if not np.isfinite(t).all() or (t < 0).any() or not np.allclose(t.sum(1), 1.0):
            raise ValueError("topics rows must be probability distributions over the words")
        for name, value in (("background_words", bg_words), ("content_words", ct_words),
                            ("background", bg), ("topics", t)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "settings", MappingProxyType(_check_settings(self.settings)))
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))

    @property
    def n_topics(self) -> int:
        return int(self.topics.shape[0])

    @property
    def words(self) -> tuple:
        """All spellings: the background words, then the content words."""
        return self.background_words + self.content_words

    def vocabulary(self) -> list[str]:
        """Token strings by id: the special tokens, the space, then ``a``..``z``."""
        return list(_VOCAB)

    def _check_mixtures(self, mixtures) -> np.ndarray:
        q = np.asarray(mixtures, dtype=np.float64)
        if q.ndim != 2 or q.shape[1] != self.n_topics:
            raise ValueError(
                f"mixtures must have shape (n_nodes, {self.n_topics}), got {q.shape}"
            )
        if not np.isfinite(q).all() or (q < 0).any() or not np.allclose(q.sum(1), 1.0):
            raise ValueError("mixtures rows must be probability distributions over the topics")
        return q

    def sample_text(self, mixtures, *, seed) -> list[str]:
        """One sentence per node, drawn from its topic mixture (see the module notes).

        Parameters
        ----------
        mixtures : array-like of shape (n_nodes, n_topics)
            Rows are distributions over the topics.
        seed : int or numpy.random.Generator

        Returns
        -------
        list of str
            Words joined by single spaces, truncated to ``settings["max_chars"]``.

        Examples
        --------
        >>> c = make_character_corpus(2, seed=0)
        >>> a = c.sample_text([[0.5, 0.5]] * 3, seed=4)
        >>> a == c.sample_text([[0.5, 0.5]] * 3, seed=4), len(a)
        (True, 3)
        """
        q = self._check_mixtures(mixtures)
        rng = as_generator(seed)
        s = self.settings
        n = q.shape[0]
        drawn = np.rint(rng.lognormal(np.log(s["words_median"]), s["words_sigma"], size=n))
        # words from position ceil((max_chars + 1) / 2) on start past max_chars: never seen
        cap = (s["max_chars"] + 2) // 2
        n_words = np.clip(drawn, s["min_words"], max(cap, s["min_words"])).astype(np.int64)
        node = np.repeat(np.arange(n), n_words)
        u_bg, u_topic, u_word, u_which = rng.random((4, node.size))
        bg = _sample_rows(_cumulative(self.background)[None, :], np.zeros_like(node), u_bg)
        z = _sample_rows(_cumulative(q), node, u_topic)
        content = _sample_rows(_cumulative(self.topics), z, u_word)
        idx = np.where(u_which < s["background_share"], bg, len(self.background_words) + content)
        words = self.words
        out, start = [], 0
        for m in n_words.tolist():
            out.append(" ".join(words[i] for i in idx[start:start + m].tolist())[:s["max_chars"]])
            start += m
        return out

    def tokenize(self, texts) -> np.ndarray:
        """Character ids: ``[CLS]`` + characters, right-padded to the longest text + 1.

        Raises
        ------
        ValueError
            ``texts`` empty, not a sequence of strings, or with an empty string
            or a character outside :data:`ALPHABET`.

        Examples
        --------
        >>> make_character_corpus(1, seed=0).tokenize(["z", "a b"]).tolist()
        [[1, 30, 0, 0], [1, 5, 4, 6]]
        """
        if isinstance(texts, str):
            raise ValueError("texts must be a sequence of strings, not one string")
        texts = list(texts)
        if not texts:
            raise ValueError("texts must hold at least one text")
        codes = []
        for i, t in enumerate(texts):
            if not isinstance(t, str) or not t:
                raise ValueError(f"texts[{i}] must be a non-empty string, got {t!r}")
            ids = _LUT[np.frombuffer(t.encode("ascii"), dtype=np.uint8)] if t.isascii() else None
            if ids is None or (ids < 0).any():
                bad = next(ch for ch in t if ch not in ALPHABET)
                raise ValueError(f"texts[{i}] has the character {bad!r} outside the alphabet "
                                 "(lower-case letters and the space)")
            codes.append(ids)
        out = np.full((len(codes), max(map(len, codes)) + 1), PAD_ID, dtype=np.int64)
        out[:, 0] = CLS_ID
        for i, ids in enumerate(codes):
            out[i, 1:1 + ids.size] = ids
        return out

    def decode(self, tokens) -> list[str]:
        """The texts back from :meth:`tokenize` output (special tokens are dropped).

        Examples
        --------
        >>> c = make_character_corpus(1, seed=0)
        >>> c.decode(c.tokenize(["ab c", "d"]))
        ['ab c', 'd']
        """
        tok = np.asarray(tokens)
        if tok.ndim != 2 or tok.dtype.kind not in "iu" or (tok < 0).any() \
                or (tok >= self.vocab_size).any():
            raise ValueError(f"tokens must be a 2-D integer array of ids in [0, "
                             f"{self.vocab_size})")
        chars = np.array(["", "", "", ""] + list(ALPHABET))
        return ["".join(chars[row].tolist()) for row in tok]

    def sample_tokens(self, mixtures, *, seed) -> np.ndarray:
        """``tokenize(sample_text(mixtures, seed=seed))``.

        Examples
        --------
        >>> c = make_character_corpus(2, seed=0)
        >>> tok = c.sample_tokens([[1.0, 0.0], [0.0, 1.0]], seed=0)
        >>> tok[:, 0].tolist(), int(tok.max()) < c.vocab_size
        ([1, 1], True)
        """
        return self.tokenize(self.sample_text(mixtures, seed=seed))

    def to_dict(self) -> dict:
        """JSON-serializable description: lexicon, frequencies, topics, settings, config."""
        return {**super().to_dict(), "vocabulary": list(_VOCAB)}


def make_character_corpus(n_topics: int, *, seed, **settings) -> CharacterTopicCorpus:
    """Draw the lexicon and ``n_topics`` topics of a :class:`CharacterTopicCorpus` from ``seed``.

    Parameters
    ----------
    n_topics : int
        Must equal the number of columns of the mixtures it will be sampled from.
    seed : int or numpy.random.Generator
        The only source of randomness (numpy's global state is never used).
    **settings
        Overrides of :data:`CHARACTER_TEXT_SETTINGS` (see the module notes).

    Returns
    -------
    CharacterTopicCorpus
        ``config`` records ``n_topics`` and the seed (an int as given; ``None``
        for a Generator).

    Raises
    ------
    ValueError
        A setting out of range (the message names it), or a lexicon too large
        for its word lengths to have distinct spellings.
    TypeError
        An unknown setting or a value of the wrong type.

    Examples
    --------
    >>> c = make_character_corpus(4, seed=0)
    >>> c.topics.shape, len(c.background_words), len(set(c.words))
    ((4, 2000), 150, 2150)
    >>> make_character_corpus(4, seed=0).words == c.words
    True
    """
    n_topics = check_positive_int(n_topics, name="n_topics")
    s = _check_settings(settings)
    rng = as_generator(seed)
    taken: set = set()
    bg_words = _draw_spellings(rng, s["n_background_words"], s["background_min_length"],
                               s["background_extra_length"], None, taken, "n_background_words")
    ct_words = _draw_spellings(rng, s["n_content_words"], s["content_min_length"],
                               s["content_extra_length"], s["content_max_length"], taken,
                               "n_content_words")
    n_ct = s["n_content_words"]
    zipf = _zipf(n_ct, s["zipf_exponent"])
    topics = np.zeros((n_topics, n_ct))
    for k in range(n_topics):
        topics[k, rng.permutation(n_ct)] = zipf
    config = {"n_topics": n_topics,
              "seed": int(seed) if isinstance(seed, numbers.Integral) else None}
    return CharacterTopicCorpus(bg_words, ct_words, _zipf(s["n_background_words"],
                                                          s["zipf_exponent"]),
                                topics, s, config)
