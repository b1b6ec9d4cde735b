"""Generic file loaders: embedding matrices, labels, sample ids and graphs over samples.

These are what ``sip-theory geometry`` reads. Every loader names the file and
the offending row or id in its errors, and nothing here writes anything; what
a loader changes on the way (a sparse matrix densified) it says with a
:class:`UserWarning`.

Formats
-------
Every text format may be gzip-compressed (a name ending in ``.gz``, e.g. ``emb.csv.gz``).

* embeddings: ``.npy``; ``.npz`` (key ``embeddings``, or the only array, or a
  scipy sparse matrix saved with ``scipy.sparse.save_npz``, densified);
  ``.pt``/``.pth`` (a tensor, or a dict holding one; loaded with
  ``weights_only=True``); ``.csv``/``.tsv``/``.txt`` (numbers; an optional header
  line; an optional first column of non-numeric sample ids).
* labels: ``.npy``; ``.npz`` (key ``labels``, or the only array); text with one
  label per line, or ``id,label`` lines matched to the sample ids. Missing labels
  (an empty cell, NaN in a float array, or a ``missing_label`` marker) come back
  masked (:class:`numpy.ma.MaskedArray`).
* ids: text with one id per line (or the first column of a CSV/TSV), or ``.npy``.
* graphs: edge lists (TSV/CSV/whitespace, see
  :func:`sip_theory.graphs.read_edgelist`) with integer row indices or string
  ids matched against the sample ids; ``.npz`` holding an ``edges`` (m, 2)
  array or a scipy sparse matrix saved with ``scipy.sparse.save_npz``.
"""

from __future__ import annotations

import csv
import os
import warnings
from pathlib import Path

import numpy as np

from ..graphs._io import edge_list_stats, open_text, text_suffix

__all__ = ["load_embeddings", "load_graph", "load_ids", "load_labels"]

_TEXT = (".csv", ".tsv", ".txt", ".tab", ".dat")
_LABEL_HEADERS = {"label", "labels", "y", "class", "target", "topic", "category"}
_ID_HEADERS = {"id", "ids", "node", "node_id", "sample", "sample_id", "name", "index"}


def _path(path, what: str) -> Path:
    p = Path(os.fspath(path))
    if not p.exists():
        raise FileNotFoundError(f"{what} file {str(p)!r} does not exist")
    if p.is_dir():
        raise ValueError(f"{what} path {str(p)!r} is a directory, expected a file")
    return p


def _delimiter(p: Path) -> str | None:
    suffix = text_suffix(p)
    if suffix == ".csv":
        return ","
    if suffix in (".tsv", ".tab"):
        return "\t"
    with open_text(p) as fh:
        for line in fh:
            if line.strip() and not line.startswith("#"):
                for cand in ("\t", ","):
                    if cand in line:
                        return cand
                return None  # whitespace
    return None


def _rows(p: Path) -> list[list[str]]:
    delim = _delimiter(p)
    with open_text(p) as fh:
        lines = [ln for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
    if delim is None:
        return [ln.split() for ln in lines]
    return [[f.strip() for f in row] for row in csv.reader(lines, delimiter=delim)]


def _format(p: Path, what: str) -> str:
    """The format suffix of ``p``; a ``.gz`` is read for text formats only."""
    if p.suffix.lower() != ".gz":
        return p.suffix.lower()
    fmt = text_suffix(p)
    if fmt not in _TEXT:
        raise ValueError(f"{what} file {p.name}: gzip is read for text files (.csv.gz, "
                         f".tsv.gz, .txt.gz, ...), not for {fmt or 'no suffix'!r}")
    return fmt


def _is_sparse_npz(p: Path) -> bool:
    with np.load(p, allow_pickle=False) as z:
        return {"format", "shape", "data"} <= set(z.keys())


def _dense_from_sparse(p: Path) -> np.ndarray:
    """A ``scipy.sparse.save_npz`` matrix as a dense array, with a warning of its size.

    The exact sweep needs dense rows; the warning says what densifying costs.
    """
    import scipy.sparse as sp

    m = sp.load_npz(p)
    dtype = np.float32 if m.dtype == np.float32 else np.float64
    n, d = m.shape
    size = n * d * np.dtype(dtype).itemsize
    warnings.warn(
        f"embeddings file {p.name} holds a scipy sparse {n} x {d} matrix with {m.nnz} stored "
        f"values ({m.nnz / max(n * d, 1):.2%} dense); densified to {_size(size)} "
        f"({np.dtype(dtype).name}) for the exact distance sweep",
        UserWarning, stacklevel=3)
    return m.astype(dtype).toarray()


def _size(n_bytes: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes} bytes"


def _is_number(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


def _npz_array(p: Path, key: str | None, default: str, what: str) -> np.ndarray:
    with np.load(p, allow_pickle=False) as z:
        keys = list(z.keys())
        if key is not None:
            if key not in keys:
                raise ValueError(f"{what} file {p.name}: no array {key!r} (arrays: {keys})")
            return z[key]
        if default in keys:
            return z[default]
        if len(keys) == 1:
            return z[keys[0]]
        raise ValueError(
            f"{what} file {p.name} holds several arrays {keys}; name one (key=...) or "
            f"store it as {default!r}"
        )


def load_embeddings(path, *, key: str | None = None, return_ids: bool = False):
    """Load an (n, d) embedding matrix from .npy, .npz, .pt/.pth or a CSV/TSV text file.

    Parameters
    ----------
    path : str or path-like
        Text formats may be gzip-compressed (``emb.csv.gz``). An ``.npz`` saved with
        ``scipy.sparse.save_npz`` is densified (the exact sweep needs dense rows),
        with a :class:`UserWarning` of the dense size.
    key : str, optional
        Array name inside an ``.npz`` or key of a dict saved in a ``.pt`` file.
    return_ids : bool, default False
        Also return the sample ids found in a text file's first column (None otherwise).

    Returns
    -------
    embeddings : ndarray of shape (n, d), float32 or float64
    ids : ndarray of str or None
        Only with ``return_ids=True``.

    Raises
    ------
    FileNotFoundError
    ValueError
        Unknown suffix, not 2-D, ragged text rows, non-numeric values, NaN or
        infinite values (the rows are named).

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "emb.csv")
    >>> _ = open(p, "w").write("id,x,y\\na,0.5,1\\nb,2,3\\n")
    >>> X, ids = load_embeddings(p, return_ids=True)
    >>> X.tolist(), ids.tolist()
    ([[0.5, 1.0], [2.0, 3.0]], ['a', 'b'])
    """
    from .._validation import check_embeddings

    p = _path(path, "embeddings")
    suffix = _format(p, "embeddings")
    ids = None
    if suffix == ".npy":
        arr = np.load(p, allow_pickle=False)
    elif suffix == ".npz" and key is None and _is_sparse_npz(p):
        arr = _dense_from_sparse(p)
    elif suffix == ".npz":
        arr = _npz_array(p, key, "embeddings", "embeddings")
    elif suffix in (".pt", ".pth"):
        import torch

        obj = torch.load(p, map_location="cpu", weights_only=True)
        if isinstance(obj, dict):
            tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
            if key is not None:
                if key not in tensors:
                    raise ValueError(f"embeddings file {p.name}: no tensor {key!r} "
                                     f"(tensors: {sorted(tensors)})")
                obj = tensors[key]
            elif "embeddings" in tensors:
                obj = tensors["embeddings"]
            elif len(tensors) == 1:
                obj = next(iter(tensors.values()))
            else:
                raise ValueError(f"embeddings file {p.name} holds tensors {sorted(tensors)}; "
                                 "name one with key=...")
        if not isinstance(obj, torch.Tensor):
            raise ValueError(f"embeddings file {p.name} does not hold a tensor "
                             f"(got {type(obj).__name__})")
        arr = obj.detach().cpu().numpy()
    elif suffix in _TEXT:
        rows = _rows(p)
        if not rows:
            raise ValueError(f"embeddings file {p.name} is empty")
        first = rows[0]
        if any(not _is_number(t) for t in first[1:]) or (
                not _is_number(first[0]) and len(rows) > 1 and _is_number(rows[1][0])):
            rows = rows[1:]  # a header line
        if not rows:
            raise ValueError(f"embeddings file {p.name} has a header but no rows")
        width = {len(r) for r in rows}
        if len(width) != 1:
            raise ValueError(f"embeddings file {p.name} has rows of different lengths {width}")
        if not all(_is_number(r[0]) for r in rows):
            ids = np.array([r[0] for r in rows])
            rows = [r[1:] for r in rows]
        try:
            arr = np.array([[float(t) for t in r] for r in rows], dtype=np.float64)
        except ValueError as exc:
            raise ValueError(f"embeddings file {p.name}: non-numeric value ({exc})") from exc
    else:
        raise ValueError(
            f"embeddings file {p.name}: unknown format {suffix!r} "
            "(expected .npy, .npz, .pt, .pth, .csv, .tsv or .txt, text optionally .gz)"
        )
    if arr.ndim != 2:
        raise ValueError(f"embeddings file {p.name} holds an array of shape {arr.shape}; "
                         "expected 2-D (n_samples, n_features)")
    arr = check_embeddings(arr, name=f"embeddings file {p.name}")
    return (arr, ids) if return_ids else arr


def load_ids(path) -> np.ndarray:
    """Load sample ids (one per line, or the first column of a CSV/TSV, or ``.npy``).

    Returns a 1-D array of strings; duplicates raise ``ValueError``.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "ids.txt")
    >>> _ = open(p, "w").write("p1\\np2\\np3\\n")
    >>> load_ids(p).tolist()
    ['p1', 'p2', 'p3']
    """
    p = _path(path, "ids")
    if _format(p, "ids") == ".npy":
        ids = np.load(p, allow_pickle=False).astype(str)
        if ids.ndim != 1:
            raise ValueError(f"ids file {p.name} must hold a 1-D array, got shape {ids.shape}")
    else:
        rows = _rows(p)
        if rows and rows[0][0].lower() in _ID_HEADERS and len(rows) > 1:
            rows = rows[1:]
        ids = np.array([r[0] for r in rows])
    if ids.size == 0:
        raise ValueError(f"ids file {p.name} is empty")
    uniq, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"ids file {p.name} repeats ids, e.g. {str(uniq[counts > 1][0])!r}")
    return ids


def load_labels(path, *, ids=None, n_samples: int | None = None, key: str | None = None,
                missing_label=None):
    """Load one label per sample from ``.npy``, ``.npz`` or a text file.

    A text file holds one label per line (row order), or ``id<sep>label`` lines,
    which are matched to ``ids`` (every sample needs exactly one line). A
    first line ``label``/``class``/... or ``id,label`` is a header. Labels
    that are all integers are returned as int64, otherwise as strings.

    Parameters
    ----------
    path : str or path-like
        Text files may be gzip-compressed (``y.csv.gz``).
    ids : sequence of str, optional
        Sample ids in embedding row order (needed for ``id,label`` files).
    n_samples : int, optional
        Expected number of labels.
    key : str, optional
        Array name inside an ``.npz``.
    missing_label : int, float or str, optional
        A value that marks a missing label, e.g. ``-1`` (CiteSeer's marker); in a
        text file the token written the same way (``"-1"``). An empty cell and NaN
        in a float array are always missing.

    Returns
    -------
    ndarray of shape (n_samples,), or :class:`numpy.ma.MaskedArray` with the
    missing labels masked when some are missing; the label metrics of
    :mod:`sip_theory.geometry` read the mask (:func:`sip_theory._validation.known_labels`).

    Raises
    ------
    ValueError
        Wrong count, ids missing from or unknown to the file, repeated ids, every
        label missing.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "y.csv")
    >>> _ = open(p, "w").write("id,label\\nb,1\\na,0\\nc,\\n")
    >>> y = load_labels(p, ids=["a", "b", "c"])
    >>> y.tolist(), int(y.mask.sum())
    ([0, 1, None], 1)
    """
    from .._validation import known_labels

    p = _path(path, "labels")
    suffix = _format(p, "labels")
    name = f"labels file {p.name}"
    if suffix == ".npy":
        y = np.load(p, allow_pickle=False)
    elif suffix == ".npz":
        y = _npz_array(p, key, "labels", "labels")
    elif suffix in _TEXT:
        y = _text_labels(p, ids, missing_label)
        missing_label = None  # applied to the tokens
    else:
        raise ValueError(f"labels file {p.name}: unknown format {suffix!r} "
                         "(expected .npy, .npz, .csv, .tsv or .txt, text optionally .gz)")
    if np.ndim(y) != 1:
        raise ValueError(f"labels file {p.name} must hold a 1-D array, got shape "
                         f"{np.shape(y)}")
    if n_samples is not None and y.shape[0] != n_samples:
        raise ValueError(f"labels file {p.name} has {y.shape[0]} labels but the embeddings "
                         f"have {n_samples} rows")
    values, known = known_labels(y, missing_label=missing_label, name=name)
    if not known.any():
        raise ValueError(f"{name}: every label is missing")
    if known.all():
        return values
    full = np.empty(known.shape[0], dtype=values.dtype)
    full[known] = values
    full[~known] = values[0]  # under the mask; never read as a label
    return np.ma.MaskedArray(full, mask=~known)


def _text_labels(p: Path, ids, missing_label):
    """The labels of a text file, missing ones (empty cells, the marker) masked."""
    rows = _rows(p)
    if not rows:
        raise ValueError(f"labels file {p.name} is empty")
    width = {len(r) for r in rows}
    if len(width) != 1:
        hint = (" (an empty label cell needs a comma- or tab-separated file)"
                if _delimiter(p) is None else "")
        raise ValueError(f"labels file {p.name} has rows of different lengths {width}{hint}")
    first = [t.lower() for t in rows[0]]
    if first[-1] in _LABEL_HEADERS or (len(first) > 1 and first[0] in _ID_HEADERS):
        rows = rows[1:]
    if rows and len(rows[0]) >= 2:
        file_ids = [r[0] for r in rows]
        values = [r[-1] for r in rows]
        if ids is None:
            raise ValueError(
                f"labels file {p.name} has id,label lines; pass the sample ids "
                "(--ids, or ids in the embeddings file) to match them"
            )
        lookup: dict[str, str] = {}
        for i, v in zip(file_ids, values, strict=True):
            if i in lookup:
                raise ValueError(f"labels file {p.name} repeats id {i!r}")
            lookup[i] = v
        want = [str(i) for i in np.asarray(ids).tolist()]
        missing = [i for i in want if i not in lookup]
        if missing:
            raise ValueError(f"labels file {p.name} has no line for {len(missing)} "
                             f"sample id(s), e.g. {missing[0]!r} (write the id with an "
                             "empty label for a sample without one)")
        extra = set(lookup) - set(want)
        if extra:
            raise ValueError(f"labels file {p.name} has {len(extra)} id(s) that are not "
                             f"samples, e.g. {sorted(extra)[0]!r}")
        tokens = [lookup[i] for i in want]
    else:
        tokens = [r[0] for r in rows]
    marker = None if missing_label is None else str(missing_label)
    gone = np.array([t == "" or t == marker for t in tokens], dtype=bool)
    kept = [t for t, g in zip(tokens, gone, strict=True) if not g]
    try:
        vals = np.array([int(t) for t in kept], dtype=np.int64)
    except ValueError:
        vals = np.array(kept)
    if not gone.any():
        return vals
    if not kept:
        raise ValueError(f"labels file {p.name}: every label is missing")
    full = np.empty(len(tokens), dtype=vals.dtype)
    full[~gone] = vals
    full[gone] = vals[0]  # under the mask
    return np.ma.MaskedArray(full, mask=gone)


def load_graph(path, *, n_nodes: int | None = None, ids=None, return_stats: bool = False):
    """Load a graph over the samples from an edge list or an ``.npz`` file.

    The graph is undirected: a pair listed in both directions, or listed again, is
    one edge (the largest weight is kept); a pair listed in one direction only is
    made undirected; self-loops are dropped. ``return_stats`` says how often each
    happened.

    Parameters
    ----------
    path : str or path-like
        Edge lists may be gzip-compressed (``g.tsv.gz``).
    n_nodes : int, optional
        Number of samples (embedding rows); integer ids must lie in [0, n_nodes).
    ids : sequence of str, optional
        Sample ids in row order; edge-list tokens are then looked up among them.
        Without ids, tokens must be integer row indices.
    return_stats : bool, default False
        Also return a dict: for an edge list or an ``edges`` array ``n_lines``,
        ``self_loops_dropped``, ``duplicate_lines_merged`` (a line repeating an
        earlier one), ``reverse_pairs_merged`` (pairs listed in both directions),
        ``one_direction_made_undirected`` and ``n_edges``
        (:func:`sip_theory.graphs._io.edge_list_stats`); for a sparse matrix
        ``n_stored``, ``self_loops_dropped``, ``one_direction_made_undirected`` and
        ``n_edges``.

    Returns
    -------
    SampleGraph, or (SampleGraph, dict) with ``return_stats=True``

    Raises
    ------
    ValueError
        Tokens that are not sample ids, string ids without ``ids``, indices out of
        range, a node count different from ``n_nodes``, a file with no edge (after
        dropping self-loops).

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "g.tsv")
    >>> _ = open(p, "w").write("a\\tb\\nb\\ta\\nb\\tc\\nc\\tc\\n")
    >>> g, st = load_graph(p, ids=["a", "b", "c", "d"], return_stats=True)
    >>> g.edges().tolist(), st["reverse_pairs_merged"], st["self_loops_dropped"]
    ([[0, 1], [1, 2]], 1, 1)
    """
    import scipy.sparse as sp

    from ..graphs import SampleGraph, read_edgelist

    p = _path(path, "graph")
    suffix = _format(p, "graph")
    if suffix == ".npz":
        with np.load(p, allow_pickle=False) as z:
            keys = set(z.keys())
            if "edges" in keys:
                edges = z["edges"]
                try:
                    g = SampleGraph.from_edges(edges, n_nodes=n_nodes, duplicates="merge")
                except (ValueError, TypeError) as exc:
                    raise ValueError(f"graph file {p.name}: {exc}") from exc
                stats = edge_list_stats(edges)
            elif {"format", "shape", "data"} <= keys:
                m = sp.load_npz(p).tocsr()
                g = SampleGraph(m, symmetrize=True)
                stats = _matrix_stats(m, g)
            else:
                raise ValueError(f"graph file {p.name} holds {sorted(keys)}; expected an "
                                 "'edges' (m, 2) array or a scipy.sparse.save_npz matrix")
    else:
        try:
            if ids is not None:
                g, stats = read_edgelist(p, node_ids=[str(i) for i in np.asarray(ids).tolist()],
                                         duplicates="merge", return_stats=True)
            else:
                g, stats = read_edgelist(p, n_nodes=n_nodes, duplicates="merge",
                                         return_stats=True)
        except ValueError as exc:
            raise ValueError(f"graph file {p.name}: {exc}") from exc
        if ids is None and g.node_ids is not None:
            raise ValueError(
                f"graph file {p.name} uses non-integer node ids (e.g. {str(g.node_ids[0])!r}); "
                "pass the sample ids (--ids) to match them to embedding rows"
            )
    if g.n_edges == 0:
        loops = stats.get("self_loops_dropped", 0)
        raise ValueError(f"graph file {p.name} has no edges"
                         + (f" (only {loops} self-loop(s), which are dropped)" if loops else ""))
    if n_nodes is not None and g.n_nodes != n_nodes:
        raise ValueError(f"graph file {p.name} has {g.n_nodes} nodes but the embeddings have "
                         f"{n_nodes} rows")
    return (g, stats) if return_stats else g


def _matrix_stats(m, g) -> dict:
    """What reading a sparse adjacency matrix as an undirected graph did to it."""
    m = m.copy()
    m.eliminate_zeros()
    loops = int(np.count_nonzero(m.diagonal()))
    m.setdiag(0)
    m.eliminate_zeros()
    stored = (m != 0).astype(np.int8)
    diff = (stored - stored.T).tocsr()
    return {"n_stored": int(m.nnz) + loops, "self_loops_dropped": loops,
            "one_direction_made_undirected": int((diff.data > 0).sum()),
            "n_edges": int(g.n_edges)}
