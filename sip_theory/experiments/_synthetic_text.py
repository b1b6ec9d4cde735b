"""Node text of the synthetic experiments: words or characters, from the run's seed alone.

Run parameter ``text.kind`` chooses one of two generated texts; both come from
the run's seed streams alone (corpus from stream ``"corpus"``, node text from
stream ``"text"``), so the two arms of a seed read the same text.

``"words"`` (default; :data:`TEXT_SETTINGS`, decided before any SIPT run and
never tuned afterwards)
    The paper gave every node one Wikipedia sentence chosen through a 100-topic
    LDA, so a node's text is short and its words come from broad topics that
    share much of the vocabulary: the text only *partly* reflects the label.
    This kind mirrors both properties rather than a target accuracy, with one
    token per word:

    * topics are drawn from the flat Dirichlet (concentration 1.0) over 100
      words: every topic uses the whole vocabulary and topics overlap heavily,
      as LDA topics of real text do through common words (the corpus default
      0.1 makes each topic a handful of near-private keywords, i.e. a keyword
      label rather than text);
    * each node gets 16 words, about one sentence ([CLS] + 16 words + [SEP]).

    With these settings an ideal Bayesian reader that *knows* the topics
    recovers a CLIQUES node's dominant topic about 93% of the time, a
    mechanistic node's text class about 97% and a PLANE node's vertex label
    about 61% (its text mixes three vertex topics); measured on seed-0 datasets
    over three corpus seeds with ``/tmp`` scratch code before any training.
``"characters"`` (:data:`sip_theory.data.CHARACTER_TEXT_SETTINGS`)
    The faithful text: per-character tokens as in the official pipeline
    (:func:`sip_theory.data.make_character_corpus`): ``[CLS]`` followed by the
    characters of a sentence of about 120 characters, truncated to 349. As in
    the official code, the PT nodes are tokenized together (right-padded to
    the longest PT text + 1) and the FT nodes separately (padded to the longest
    FT text + 1). The character text settings were decided from the official
    protocol (the pipeline's tokenization and English text statistics, see
    :mod:`sip_theory.data._char_corpus`) before any SIPT run at them, and were
    not tuned on SIPT results. ``experiments/results/ideal_reader/`` compares
    what the two texts carry of the label.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["TEXT_KINDS", "TEXT_SETTINGS"]

#: Node-text settings of every synthetic experiment (see the module notes for why).
TEXT_SETTINGS = {"n_words": 100, "concentration": 1.0, "length": 16}

#: Values of the run parameter ``text.kind`` (the first is the default).
TEXT_KINDS = ("words", "characters")


def _text_params(text) -> tuple[str, dict]:
    """``(kind, settings overrides)`` of the run parameter ``text``."""
    text = dict(text or {})
    kind = text.pop("kind", TEXT_KINDS[0])
    if kind not in TEXT_KINDS:
        raise ValueError(f"text.kind must be one of {TEXT_KINDS}, got {kind!r}")
    return kind, text


def _node_text(kind: str, settings: Mapping, data, seeds):
    """``(corpus, tokens of the PT nodes, tokens of the FT nodes, text record)``.

    Words: every node's sequence has the same width, generated for all nodes at
    once (the runner's original behaviour, numerics unchanged). Characters: the
    texts of all nodes come from one draw of stream ``"text"``; the PT nodes
    are tokenized together and the FT nodes separately, each padded to its
    longest text + 1, as in the official pipeline.
    """
    import torch

    pt, ft = np.array(data.pt_nodes), np.array(data.ft_nodes)
    if kind == "words":
        from ..data import make_topic_corpus

        text = {**TEXT_SETTINGS, **settings}
        corpus = make_topic_corpus(data.n_topics, seed=seeds["corpus"], n_words=text["n_words"],
                                   concentration=text["concentration"])
        tokens = torch.as_tensor(corpus.sample_tokens(data.topic_mixtures,
                                                      length=text["length"],
                                                      seed=seeds["text"]))
        tok_pt = tokens[torch.as_tensor(pt)]
        tok_ft = tokens[torch.as_tensor(ft)]
        return corpus, tok_pt, tok_ft, {"kind": kind, **text}
    from ..data import make_character_corpus

    corpus = make_character_corpus(data.n_topics, seed=seeds["corpus"], **settings)
    texts = corpus.sample_text(data.topic_mixtures, seed=seeds["text"])
    tok_pt = torch.as_tensor(corpus.tokenize([texts[i] for i in pt.tolist()]))
    tok_ft = (torch.as_tensor(corpus.tokenize([texts[i] for i in ft.tolist()])) if ft.size
              else torch.zeros((0, tok_pt.shape[1]), dtype=torch.long))
    return corpus, tok_pt, tok_ft, {"kind": kind, **dict(corpus.settings)}


def _sequence_widths(corpus, tok_pt, tok_ft) -> dict:
    """Tokens per node before padding ([CLS]/[SEP] included) and the padded widths."""
    used_pt = (tok_pt != corpus.pad_id).sum(1).double()
    out = {"mean": float(used_pt.mean()), "max": int(used_pt.max()),
           "padded_pt": int(tok_pt.shape[1]), "mean_ft": None, "max_ft": None,
           "padded_ft": None}
    if tok_ft is not None and len(tok_ft):
        used_ft = (tok_ft != corpus.pad_id).sum(1).double()
        out.update(mean_ft=float(used_ft.mean()), max_ft=int(used_ft.max()),
                   padded_ft=int(tok_ft.shape[1]))
    out["widest"] = max(out["padded_pt"], out["padded_ft"] or 0)
    return out
