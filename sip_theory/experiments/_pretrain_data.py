"""Inputs of ``sip-theory pretrain``: features or text, a graph over them, optional ids and labels.

:func:`load_pretrain_inputs` reads the files with the loaders of ``sip-theory
geometry`` (:mod:`sip_theory.data._loaders`) and checks everything the run needs
before any training: the ids match the rows, the graph and labels match the ids,
no feature row is all zero, no text line is empty. :class:`PretrainData` is what
the run consumes; :meth:`PretrainData.from_arrays` builds one from arrays in
memory (the route of a study such as Cora's, which holds its data already).

Decisions
---------
* An all-zero feature row is an **error**: such samples all get one identical
  input (the MLP maps them to one point whatever it learns) and the cosine
  distance of the raw-feature baseline is undefined for them. Drop them or add
  a feature.
* Text: one sample per line (a trailing newline is no sample); an empty or
  whitespace-only line is an error naming its line number. ``tokens="char"``
  makes every character a token, ``"word"`` every whitespace-separated word.
  The vocabulary is the sorted set of tokens seen, after the special tokens
  [PAD] 0, [CLS] 1, [SEP] 2, [MASK] 3 (the ids :class:`TransformerEncoder`
  expects); a sequence is ``[CLS] tokens [SEP]`` padded, truncated to
  ``max_len`` tokens (how many lines were cut is recorded and warned about).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import warnings
from pathlib import Path

import numpy as np

__all__ = ["PretrainData", "load_pretrain_inputs", "tokenize_lines"]

SPECIAL_TOKENS = ("[PAD]", "[CLS]", "[SEP]", "[MASK]")


@dataclasses.dataclass(frozen=True, eq=False)
class PretrainData:
    """The samples, the graph over them and optional labels, checked.

    Attributes
    ----------
    kind : {"features", "text"}
    inputs : numpy.ndarray
        ``"features"``: float32 (n, d), dense; ``"text"``: int64 token ids (n, L).
    graph : SampleGraph
        Over the n samples, in row order.
    labels : numpy.ndarray or numpy.ma.MaskedArray or None
        Used only to evaluate.
    vocabulary : tuple of str or None
        Token strings by id (text only).
    raw : numpy.ndarray or None
        The raw-feature space: the features themselves, or the token counts of
        each text (bag of tokens); the space of the ``raw`` baseline and of the
        ``knn-band`` sampler. None when the counts would exceed 1 GiB.
    source : dict
        Where the data came from (paths, sha256, what loading did).
    """

    kind: str
    inputs: np.ndarray
    graph: object
    labels: object = None
    vocabulary: tuple | None = None
    raw: np.ndarray | None = None
    source: dict = dataclasses.field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return int(self.inputs.shape[0])

    def fingerprint(self) -> str:
        """SHA-256 of everything training reads: kind, inputs, vocabulary and graph.

        Labels are not part of it (they never enter training).
        """
        h = hashlib.sha256()
        h.update(self.kind.encode() + b"\0")
        a = np.ascontiguousarray(self.inputs)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
        h.update(repr(self.vocabulary).encode())
        h.update(self.graph.content_hash().encode())
        return h.hexdigest()

    @classmethod
    def from_arrays(cls, features, graph, labels=None, *, source=None) -> PretrainData:
        """Checked data from a feature matrix (dense or scipy sparse) and a graph.

        Examples
        --------
        >>> d = PretrainData.from_arrays(np.eye(3), [(0, 1), (1, 2)])
        >>> d.kind, d.inputs.dtype, d.graph.n_edges
        ('features', dtype('float32'), 2)
        """
        from ..graphs import as_sample_graph

        x = _dense_features(features, "features")
        g = as_sample_graph(graph, name="graph")
        if g.n_nodes != x.shape[0]:
            raise ValueError(f"graph has {g.n_nodes} nodes but features has {x.shape[0]} rows")
        y = _check_labels(labels, x.shape[0])
        return cls("features", x, g, y, None, x, dict(source or {}))


def _dense_features(x, name: str) -> np.ndarray:
    """A finite float32 dense matrix without all-zero rows (else ValueError naming ``name``)."""
    import scipy.sparse as sp

    from .._validation import check_embeddings

    if sp.issparse(x):
        x = sp.csr_matrix(x)
        if x.ndim != 2:
            raise ValueError(f"{name} must be 2-D")
        if not np.isfinite(x.data).all():
            raise ValueError(f"{name} holds NaN or infinite values")
        nnz = np.diff(x.indptr)
        x = x.astype(np.float32).toarray()
    else:
        x = check_embeddings(np.asarray(x), name=name).astype(np.float32)
        nnz = np.count_nonzero(x, axis=1)
    if x.shape[0] < 3:
        raise ValueError(f"{name} must have at least 3 samples, got {x.shape[0]}")
    zero = np.flatnonzero(nnz == 0)
    if zero.size:
        raise ValueError(f"{name} has {zero.size} all-zero row(s) (first: row {int(zero[0])}); "
                         "they would all get one identical input and have no cosine "
                         "distance: drop those samples or add a feature")
    return x


def _check_labels(labels, n):
    if labels is None:
        return None
    y = labels if isinstance(labels, np.ma.MaskedArray) else np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"labels must hold one label per sample ({n}), got shape {y.shape}")
    return y


def tokenize_lines(lines, *, tokens: str = "char", max_len: int = 128, name: str = "text"):
    """Token ids of text lines: ``[CLS] tokens [SEP]`` padded with [PAD] (0).

    Parameters
    ----------
    lines : sequence of str
    tokens : {"char", "word"}, default "char"
    max_len : int, default 128
        Longest sequence, [CLS] and [SEP] included; longer lines are cut.
    name : str
        How errors name the input.

    Returns
    -------
    ids : numpy.ndarray of int64, shape (n, L)
    vocabulary : tuple of str
        Token strings by id (the four special tokens first).
    n_truncated : int

    Examples
    --------
    >>> ids, vocab, cut = tokenize_lines(["ab a", "b", "a a a"], tokens="word", max_len=4)
    >>> ids.tolist(), vocab[4:], cut
    ([[1, 5, 4, 2], [1, 6, 2, 0], [1, 4, 4, 2]], ('a', 'ab', 'b'), 1)
    """
    from .._validation import check_one_of, check_positive_int

    check_one_of(tokens, ("char", "word"), name="tokens")
    max_len = check_positive_int(max_len, name="max_len", minimum=3)
    split = [list(ln) if tokens == "char" else ln.split() for ln in lines]
    for i, (ln, toks) in enumerate(zip(lines, split, strict=True)):
        if not ln.strip() or not toks:
            raise ValueError(f"{name} line {i + 1} is empty (every line is one sample)")
    if len(split) < 3:
        raise ValueError(f"{name} must have at least 3 lines (samples), got {len(split)}")
    vocab = tuple(SPECIAL_TOKENS) + tuple(sorted({t for toks in split for t in toks}))
    index = {t: i for i, t in enumerate(vocab)}
    width = min(max(len(t) for t in split) + 2, max_len)
    out = np.zeros((len(split), width), dtype=np.int64)
    n_cut = 0
    for i, toks in enumerate(split):
        body = [index[t] for t in toks]
        if len(body) > width - 2:
            body = body[: width - 2]
            n_cut += 1
        out[i, 0] = 1
        out[i, 1:len(body) + 1] = body
        out[i, len(body) + 1] = 2
    return out, vocab, n_cut


def _token_counts(ids: np.ndarray, vocab_size: int) -> np.ndarray | None:
    """Per text, the count of each regular token (float32), None when over 1 GiB."""
    n = ids.shape[0]
    if n * vocab_size * 4 > 2**30:
        return None
    counts = np.zeros((n, vocab_size), dtype=np.float32)
    rows = np.repeat(np.arange(n), ids.shape[1])
    np.add.at(counts, (rows, ids.ravel()), 1.0)
    return np.ascontiguousarray(counts[:, len(SPECIAL_TOKENS):])


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_text(p: Path) -> list[str]:
    from ..graphs._io import open_text

    with open_text(p) as fh:
        text = fh.read()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]  # the final newline ends the last line
    return [ln.rstrip("\r") for ln in lines]


def _load_features(p: Path):
    """Dense float32 features of a .npy, a scipy sparse .npz or a numeric text file."""
    import scipy.sparse as sp

    from ..data._loaders import _format, _is_sparse_npz, load_embeddings

    fmt = _format(p, "features")
    if fmt == ".npz" and _is_sparse_npz(p):
        return sp.load_npz(p), "sparse"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return load_embeddings(p), "dense"


def load_pretrain_inputs(features, graph, *, ids=None, labels=None, tokens: str | None = None,
                         max_len: int = 128, missing_label=None) -> PretrainData:
    """Read and check the files of one ``sip-theory pretrain`` call (nothing is written).

    Parameters
    ----------
    features : path
        ``.npy``, scipy sparse ``.npz`` or a numeric CSV/TSV (the formats of
        :func:`sip_theory.data.load_embeddings`); with ``tokens`` a text file,
        one sample per line (optionally ``.gz``).
    graph : path
        An edge list or ``.npz``, as ``sip-theory geometry`` reads it
        (:func:`sip_theory.data.load_graph`); string ids need ``ids``.
    ids : path, optional
        Sample ids in row order (:func:`sip_theory.data.load_ids`).
    labels : path, optional
        One label per sample (:func:`sip_theory.data.load_labels`), only evaluated.
    tokens : {"char", "word"}, optional
        Read ``features`` as text, tokenized per character or per word.
    max_len : int, default 128
    missing_label : optional
        Marker of a missing label.

    Returns
    -------
    PretrainData

    Raises
    ------
    ValueError
        One line naming the argument (``FEATURES``, ``--graph``, ``--ids``,
        ``--labels``) and what is wrong.
    FileNotFoundError
        A file that does not exist.
    """
    from ..data import load_graph, load_ids, load_labels
    from ..data._loaders import _path

    src: dict = {}
    p = _path(features, "FEATURES")
    src["features"] = {"path": os.fspath(p), "sha256": _sha256(p)}
    if tokens is not None:
        lines = _read_text(p)
        x, vocab, n_cut = tokenize_lines(lines, tokens=tokens, max_len=max_len,
                                         name=f"FEATURES {p.name}")
        src["features"].update(kind="text", tokens=tokens, max_len=int(max_len),
                               n_truncated=int(n_cut), vocab_size=len(vocab))
        if n_cut:
            warnings.warn(f"FEATURES {p.name}: {n_cut} line(s) longer than --max-len "
                          f"{max_len} tokens were cut", UserWarning, stacklevel=2)
        raw = _token_counts(x, len(vocab))
        kind = "text"
    else:
        try:
            m, fmt = _load_features(p)
            x = _dense_features(m, f"FEATURES {p.name}")
        except ValueError as exc:
            msg = str(exc)
            raise ValueError(msg if msg.startswith("FEATURES") else
                             f"FEATURES {p.name}: {msg}") from exc
        src["features"].update(kind="features", format=fmt, shape=list(x.shape))
        vocab, raw, kind = None, x, "features"
    n = x.shape[0]
    id_arr = None
    if ids is not None:
        ip = _path(ids, "--ids")
        id_arr = load_ids(ip)
        src["ids"] = {"path": os.fspath(ip), "sha256": _sha256(ip)}
        if id_arr.shape[0] != n:
            raise ValueError(f"--ids {ip.name} has {id_arr.shape[0]} ids but FEATURES has "
                             f"{n} samples")
    gp = _path(graph, "--graph")
    try:
        g, stats = load_graph(gp, n_nodes=n, ids=id_arr, return_stats=True)
    except ValueError as exc:
        raise ValueError(f"--graph: {exc}") from exc
    src["graph"] = {"path": os.fspath(gp), "sha256": _sha256(gp), "loading": stats}
    y = None
    if labels is not None:
        lp = _path(labels, "--labels")
        try:
            y = load_labels(lp, ids=id_arr, n_samples=n, missing_label=missing_label)
        except ValueError as exc:
            raise ValueError(f"--labels: {exc}") from exc
        src["labels"] = {"path": os.fspath(lp), "sha256": _sha256(lp)}
    return PretrainData(kind, x, g, y, vocab, raw, src)
