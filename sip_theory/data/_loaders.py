"""Generic file loaders: embedding matrices, labels, sample ids and graphs over samples.

These are what ``sip-theory geometry`` reads. Every loader names the file and
the offending row or id in its errors, and nothing here writes anything.

Formats
-------
* embeddings: ``.npy``; ``.npz`` (key ``embeddings``, or the only array);
  ``.pt``/``.pth`` (a tensor, or a dict holding one; loaded with
  ``weights_only=True``); ``.csv``/``.tsv``/``.txt`` (numbers; an optional header
  line; an optional first column of non-numeric sample ids).
* labels: ``.npy``; ``.npz`` (key ``labels``, or the only array); text with one
  label per line, or ``id,label`` lines matched to the sample ids.
* ids: text with one id per line (or the first column of a CSV/TSV), or ``.npy``.
* graphs: edge lists (TSV/CSV/whitespace, see
  :func:`sip_theory.graphs.read_edgelist`) with integer row indices or string
  ids matched against the sample ids; ``.npz`` holding an ``edges`` (m, 2)
  array or a scipy sparse matrix saved with ``scipy.sparse.save_npz``.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

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
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return ","
    if suffix in (".tsv", ".tab"):
        return "\t"
    with open(p, encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and not line.startswith("#"):
                for cand in ("\t", ","):
                    if cand in line:
                        return cand
                return None  # whitespace
    return None


def _rows(p: Path) -> list[list[str]]:
    delim = _delimiter(p)
    with open(p, encoding="utf-8", newline="") as fh:
        lines = [ln for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
    if delim is None:
        return [ln.split() for ln in lines]
    return [[f.strip() for f in row] for row in csv.reader(lines, delimiter=delim)]


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
    suffix = p.suffix.lower()
    ids = None
    if suffix == ".npy":
        arr = np.load(p, allow_pickle=False)
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
            "(expected .npy, .npz, .pt, .pth, .csv, .tsv or .txt)"
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
    if p.suffix.lower() == ".npy":
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


def load_labels(path, *, ids=None, n_samples: int | None = None, key: str | None = None):
    """Load one label per sample from ``.npy``, ``.npz`` or a text file.

    A text file holds one label per line (row order), or ``id<sep>label`` lines,
    which are matched to ``ids`` (every sample needs exactly one label). A
    first line ``label``/``class``/... or ``id,label`` is a header. Labels
    that are all integers are returned as int64, otherwise as strings.

    Parameters
    ----------
    path : str or path-like
    ids : sequence of str, optional
        Sample ids in embedding row order (needed for ``id,label`` files).
    n_samples : int, optional
        Expected number of labels.
    key : str, optional
        Array name inside an ``.npz``.

    Raises
    ------
    ValueError
        Wrong count, ids missing from or unknown to the file, repeated ids.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "y.csv")
    >>> _ = open(p, "w").write("id,label\\nb,1\\na,0\\n")
    >>> load_labels(p, ids=["a", "b"]).tolist()
    [0, 1]
    """
    from .._validation import check_labels

    p = _path(path, "labels")
    suffix = p.suffix.lower()
    if suffix == ".npy":
        y = np.load(p, allow_pickle=False)
    elif suffix == ".npz":
        y = _npz_array(p, key, "labels", "labels")
    elif suffix in _TEXT:
        rows = _rows(p)
        if not rows:
            raise ValueError(f"labels file {p.name} is empty")
        width = {len(r) for r in rows}
        if len(width) != 1:
            raise ValueError(f"labels file {p.name} has rows of different lengths {width}")
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
                raise ValueError(f"labels file {p.name} has no label for {len(missing)} "
                                 f"sample id(s), e.g. {missing[0]!r}")
            extra = set(lookup) - set(want)
            if extra:
                raise ValueError(f"labels file {p.name} has {len(extra)} id(s) that are not "
                                 f"samples, e.g. {sorted(extra)[0]!r}")
            tokens = [lookup[i] for i in want]
        else:
            tokens = [r[0] for r in rows]
        try:
            y = np.array([int(t) for t in tokens], dtype=np.int64)
        except ValueError:
            y = np.array(tokens)
    else:
        raise ValueError(f"labels file {p.name}: unknown format {suffix!r} "
                         "(expected .npy, .npz, .csv, .tsv or .txt)")
    if y.ndim != 1:
        raise ValueError(f"labels file {p.name} must hold a 1-D array, got shape {y.shape}")
    if n_samples is not None and y.shape[0] != n_samples:
        raise ValueError(f"labels file {p.name} has {y.shape[0]} labels but the embeddings "
                         f"have {n_samples} rows")
    return check_labels(y, name=f"labels file {p.name}")


def load_graph(path, *, n_nodes: int | None = None, ids=None):
    """Load a graph over the samples from an edge list or an ``.npz`` file.

    Parameters
    ----------
    path : str or path-like
    n_nodes : int, optional
        Number of samples (embedding rows); integer ids must lie in [0, n_nodes).
    ids : sequence of str, optional
        Sample ids in row order; edge-list tokens are then looked up among them.
        Without ids, tokens must be integer row indices.

    Returns
    -------
    SampleGraph

    Raises
    ------
    ValueError
        Tokens that are not sample ids, string ids without ``ids``, indices out of
        range, a node count different from ``n_nodes``, duplicate edges (merged
        silently only when identical in both directions).

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "g.tsv")
    >>> _ = open(p, "w").write("a\\tb\\nb\\tc\\n")
    >>> load_graph(p, ids=["a", "b", "c", "d"]).edges().tolist()
    [[0, 1], [1, 2]]
    """
    import scipy.sparse as sp

    from ..graphs import SampleGraph, read_edgelist

    p = _path(path, "graph")
    suffix = p.suffix.lower()
    if suffix == ".npz":
        with np.load(p, allow_pickle=False) as z:
            keys = set(z.keys())
            if "edges" in keys:
                edges = z["edges"]
                g = SampleGraph.from_edges(edges, n_nodes=n_nodes, duplicates="merge")
            elif {"indices", "indptr", "shape"} <= keys:
                g = SampleGraph(sp.load_npz(p), symmetrize=False)
            else:
                raise ValueError(f"graph file {p.name} holds {sorted(keys)}; expected an "
                                 "'edges' (m, 2) array or a scipy.sparse.save_npz matrix")
    else:
        try:
            if ids is not None:
                g = read_edgelist(p, node_ids=[str(i) for i in np.asarray(ids).tolist()],
                                  duplicates="merge")
            else:
                g = read_edgelist(p, n_nodes=n_nodes, duplicates="merge")
        except ValueError as exc:
            raise ValueError(f"graph file {p.name}: {exc}") from exc
        if ids is None and g.node_ids is not None:
            raise ValueError(
                f"graph file {p.name} uses non-integer node ids (e.g. {str(g.node_ids[0])!r}); "
                "pass the sample ids (--ids) to match them to embedding rows"
            )
    if n_nodes is not None and g.n_nodes != n_nodes:
        raise ValueError(f"graph file {p.name} has {g.n_nodes} nodes but the embeddings have "
                         f"{n_nodes} rows")
    return g
