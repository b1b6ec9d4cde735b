"""Edge-list files: read and write TSV/CSV edge lists with integer or string ids."""

from __future__ import annotations

import csv
import gzip
import os
from pathlib import Path

import numpy as np

from .._atomic import atomic_write_text
from ._graph import SampleGraph

__all__ = ["read_edgelist", "write_edgelist"]


def text_suffix(path: Path) -> str:
    """The suffix that names a text file's format, under a ``.gz`` if there is one."""
    suffixes = [x.lower() for x in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        return suffixes[-2] if len(suffixes) > 1 else ""
    return suffixes[-1] if suffixes else ""


def open_text(path: Path):
    """Open a UTF-8 text file for reading, gzip-compressed when its name ends in ``.gz``."""
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def edge_list_stats(edges: np.ndarray) -> dict:
    """What reading an (m, 2) list of node-index lines as an undirected graph does to it.

    ``n_lines = self_loops_dropped + duplicate_lines_merged + 2 reverse_pairs_merged +
    one_direction_made_undirected`` and ``n_edges = reverse_pairs_merged +
    one_direction_made_undirected``.

    Examples
    --------
    >>> st = edge_list_stats(np.array([[0, 1], [1, 0], [1, 2], [1, 2], [3, 3]]))
    >>> st["self_loops_dropped"], st["duplicate_lines_merged"], st["reverse_pairs_merged"]
    (1, 1, 1)
    >>> st["one_direction_made_undirected"], st["n_edges"]
    (1, 2)
    """
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    loops = e[:, 0] == e[:, 1]
    d = np.unique(e[~loops], axis=0)  # distinct directed lines
    lo, hi = np.minimum(d[:, 0], d[:, 1]), np.maximum(d[:, 0], d[:, 1])
    _, per_pair = np.unique(np.stack([lo, hi], axis=1), axis=0, return_counts=True)
    both = int((per_pair == 2).sum())
    return {"n_lines": int(e.shape[0]), "self_loops_dropped": int(loops.sum()),
            "duplicate_lines_merged": int((~loops).sum() - d.shape[0]),
            "reverse_pairs_merged": both,
            "one_direction_made_undirected": int((per_pair == 1).sum()),
            "n_edges": int(per_pair.shape[0])}


def _sniff_delimiter(path: Path, delimiter: str | None) -> str:
    if delimiter is not None:
        return delimiter
    suffix = text_suffix(path)
    if suffix == ".csv":
        return ","
    if suffix in (".tsv", ".tab"):
        return "\t"
    with open_text(path) as fh:
        for line in fh:
            if line.strip() and not line.lstrip().startswith("#"):
                for cand in ("\t", ",", " "):
                    if cand in line.strip():
                        return cand
                break
    return "\t"


def read_edgelist(
    path,
    *,
    delimiter: str | None = None,
    node_ids=None,
    n_nodes: int | None = None,
    header: bool | None = None,
    weighted: bool | None = None,
    duplicates: str = "error",
    self_loops: str = "drop",
    return_stats: bool = False,
) -> SampleGraph:
    """Read an undirected edge list from a TSV/CSV file (gzip-compressed if named ``*.gz``).

    Each non-comment line holds ``source, target`` and optionally a third
    column, the weight. Lines starting with ``#`` are comments.

    Parameters
    ----------
    path : str or path-like
    delimiter : str, optional
        Default from the suffix (``.csv`` -> ``,``, ``.tsv`` -> tab), else sniffed.
    node_ids : sequence, optional
        The node ids in row order (e.g. from an ids file). Every id in the file
        must be among them, else ``ValueError``. Without ``node_ids``, integer
        tokens are taken as row indices when every token is an integer, and
        otherwise distinct string ids are numbered in order of first appearance
        (recorded as the graph's :attr:`~SampleGraph.node_ids`).
    n_nodes : int, optional
        Node count for integer ids (adds isolated trailing nodes).
    header : bool, optional
        Whether the first line is a header; default: detected (a first line
        whose weight column is not numeric, or whose names are ``source/target``).
    weighted : bool, optional
        Read the third column as weights; default: when a third column exists.
    duplicates, self_loops
        As in :meth:`SampleGraph.from_edges`.
    return_stats : bool, default False
        Also return a dict of what reading did: lines read, self-loops dropped,
        repeated lines merged, pairs listed in both directions merged into one edge,
        edges listed in one direction only (made undirected), edges kept.

    Returns
    -------
    SampleGraph, or (SampleGraph, dict) with ``return_stats=True``

    Raises
    ------
    ValueError
        A line without two fields, an id absent from ``node_ids``, a weight that
        is not a number, and every error of :meth:`SampleGraph.from_edges`.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "g.tsv")
    >>> _ = open(p, "w").write("a\\tb\\nb\\tc\\n")
    >>> g = read_edgelist(p)
    >>> g.n_edges, g.node_ids.tolist()
    (2, ['a', 'b', 'c'])
    """
    path = Path(os.fspath(path))
    if not path.exists():
        raise FileNotFoundError(f"path {str(path)!r} does not exist")
    delim = _sniff_delimiter(path, delimiter)
    rows = []
    with open_text(path) as fh:
        lines = (ln for ln in fh if ln.strip() and not ln.lstrip().startswith("#"))
        if delim == " ":
            reader = (ln.split() for ln in lines)
        else:
            reader = csv.reader(lines, delimiter=delim)
        for lineno, fields in enumerate(reader, start=1):
            fields = [f.strip() for f in fields]
            if len(fields) < 2:
                raise ValueError(f"path: line {lineno} has fewer than two fields: {fields!r}")
            rows.append(fields)
    if rows and header is None:
        first = rows[0]
        header = first[0].lower() in ("source", "src", "u", "from", "node1") or (
            len(first) > 2 and not _is_number(first[2])
        )
    if header and rows:
        rows = rows[1:]
    n_cols = min((len(r) for r in rows), default=2)
    if weighted is None:
        weighted = n_cols >= 3
    src = [r[0] for r in rows]
    dst = [r[1] for r in rows]
    weights = None
    if weighted:
        if n_cols < 3:
            raise ValueError("weighted=True but some line has no third (weight) column")
        try:
            weights = np.array([float(r[2]) for r in rows])
        except ValueError as exc:
            raise ValueError(f"path: weight column is not numeric ({exc})") from exc

    tokens = src + dst
    if node_ids is not None:
        ids = [str(v) for v in np.asarray(node_ids).tolist()]
        lookup = {v: i for i, v in enumerate(ids)}
        if len(lookup) != len(ids):
            raise ValueError("node_ids must be unique")
        missing = [t for t in tokens if t not in lookup]
        if missing:
            raise ValueError(
                f"path: {len(missing)} edge endpoint(s) not found in node_ids, e.g. {missing[0]!r}"
            )
        idx = np.array([lookup[t] for t in tokens], dtype=np.int64)
        n = len(ids)
        ids_out = np.asarray(node_ids)
    elif all(_is_int(t) for t in tokens):  # (an empty file keeps n_nodes)
        idx = np.array([int(t) for t in tokens], dtype=np.int64)
        n = n_nodes
        ids_out = None
    else:
        lookup = {}
        for t in tokens:
            lookup.setdefault(t, len(lookup))
        idx = np.array([lookup[t] for t in tokens], dtype=np.int64)
        n = len(lookup)
        ids_out = list(lookup)
    edges = idx.reshape(2, -1).T if idx.size else np.zeros((0, 2), dtype=np.int64)
    g = SampleGraph.from_edges(
        edges,
        n_nodes=n,
        weights=weights,
        node_ids=ids_out,
        duplicates=duplicates,
        self_loops=self_loops,
    )
    return (g, edge_list_stats(edges)) if return_stats else g


def write_edgelist(graph: SampleGraph, path, *, delimiter: str | None = None,
                   use_ids: bool = True) -> None:
    """Write ``graph`` as an edge list (one ``i<TAB>j[<TAB>w]`` line per edge), atomically.

    Parameters
    ----------
    graph : SampleGraph
    path : str or path-like
        ``.csv`` gets commas, anything else tabs (unless ``delimiter`` is given).
    use_ids : bool, default True
        Write node ids instead of indices when the graph has them.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "g.csv")
    >>> g = SampleGraph.from_edges([(0, 1)], node_ids=["x", "y"])
    >>> write_edgelist(g, p)
    >>> read_edgelist(p) == g
    True
    """
    if not isinstance(graph, SampleGraph):
        raise TypeError(f"graph must be a SampleGraph, got {type(graph).__name__}")
    path = Path(os.fspath(path))
    delim = delimiter or ("," if path.suffix.lower() == ".csv" else "\t")
    e = graph.edges()
    names = graph.node_ids if (use_ids and graph.node_ids is not None) else None
    lines = []
    w = graph.edge_weights() if graph.weighted else None
    for k, (a, b) in enumerate(e.tolist()):
        fields = [str(names[a]), str(names[b])] if names is not None else [str(a), str(b)]
        if w is not None:
            fields.append(repr(float(w[k])))
        lines.append(delim.join(fields))
    atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))


def _is_int(token: str) -> bool:
    try:
        int(token)
    except ValueError:
        return False
    return True


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
