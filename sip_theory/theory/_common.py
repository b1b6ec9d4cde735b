"""Shared plumbing of :mod:`sip_theory.theory`: label encoding and auxiliary-node handling.

Every theory function that takes a graph and labels goes through
:func:`prepare_labels`, so that all of them read labels, auxiliary (non-sample)
nodes and undefined values the same way.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import check_labels, check_one_of
from ..graphs import SampleGraph, as_sample_graph

__all__ = ["AUXILIARY_POLICIES", "LabelledGraph", "prepare_labels", "readonly", "to_graph"]

AUXILIARY_POLICIES = ("exclude", "vote")


def to_graph(graph, n_nodes: int | None = None, *, name: str = "graph",
             sized_by: str = "labels") -> SampleGraph:
    """:func:`as_sample_graph`, sizing a bare edge array by the data (``n_nodes``).

    An (m, 2) edge array does not say how many nodes there are; the labels or
    embeddings do, so trailing isolated nodes are kept. Other graph inputs are
    converted as they are (their size is checked by the caller).
    """
    if isinstance(graph, SampleGraph) or sp.issparse(graph):
        return as_sample_graph(graph, name=name)
    if type(graph).__module__.startswith("networkx"):
        return as_sample_graph(graph, name=name)
    try:
        return as_sample_graph(graph, n_nodes=n_nodes, name=name)
    except ValueError as exc:
        raise ValueError(
            f"{name} does not fit {sized_by} of length {n_nodes} (an edge array is sized by "
            f"{sized_by}): {exc}"
        ) from exc


def readonly(arr) -> np.ndarray:
    """Return ``arr`` as a contiguous array that cannot be written to."""
    out = np.ascontiguousarray(arr)
    out.setflags(write=False)
    return out


class LabelledGraph:
    """A graph with labels encoded as integer codes 0..C-1 (-1: no label).

    Attributes
    ----------
    graph : SampleGraph
    codes : ndarray of int64, shape (n_nodes,)
        Class code per node; -1 for auxiliary nodes that were given no label.
    classes : ndarray, shape (C,)
        The distinct labels, sorted; ``classes[codes[i]]`` is node i's label.
    sample : ndarray of bool, shape (n_nodes,)
        True for sample (non-auxiliary) nodes.
    """

    __slots__ = ("graph", "codes", "classes", "sample")

    def __init__(self, graph: SampleGraph, codes: np.ndarray, classes: np.ndarray, sample):
        self.graph = graph
        self.codes = codes
        self.classes = classes
        self.sample = sample

    @property
    def n_classes(self) -> int:
        return int(self.classes.shape[0])

    def arcs(self, *, voters: str = "exclude", weighted: bool = False):
        """Both directions of every edge as ``(target, source, weight)`` arrays.

        ``voters="exclude"`` keeps only arcs whose source is a sample node;
        ``"vote"`` keeps every arc whose source has a label.
        """
        g = self.graph
        target = np.repeat(np.arange(g.n_nodes, dtype=np.int64), np.diff(g.indptr))
        source = np.asarray(g.indices, dtype=np.int64)
        weight = np.asarray(g.data, dtype=np.float64) if weighted else np.ones(source.shape[0])
        if voters == "exclude":
            keep = self.sample[source]
        else:
            keep = self.codes[source] >= 0
        if not keep.all():
            target, source, weight = target[keep], source[keep], weight[keep]
        return target, source, weight


def prepare_labels(graph, labels, *, auxiliary: str = "exclude", name: str = "labels"):
    """Convert ``graph`` and encode ``labels`` (the common entry of theory functions).

    Parameters
    ----------
    graph : anything :func:`~sip_theory.graphs.as_sample_graph` accepts
    labels : array-like
        One label per node (length ``n_nodes``), or, when the graph has
        auxiliary nodes, one label per sample node (length ``len(sample_nodes)``,
        in node order); auxiliary nodes then have no label.
    auxiliary : {"exclude", "vote"}
        With ``"vote"`` every auxiliary node needs a label.

    Returns
    -------
    LabelledGraph

    Raises
    ------
    ValueError
        Labels of the wrong length, or auxiliary nodes without labels under
        ``auxiliary="vote"``.
    """
    check_one_of(auxiliary, AUXILIARY_POLICIES, name="auxiliary")
    arr = check_labels(labels, None, name=name)
    g = to_graph(graph, arr.shape[0])
    aux = np.asarray(g.auxiliary, dtype=bool)
    sample = ~aux
    n_samples = int(sample.sum())
    if arr.shape[0] == g.n_nodes:
        classes, codes = np.unique(arr, return_inverse=True)
        codes = codes.astype(np.int64).reshape(-1)
        if auxiliary == "exclude" and aux.any():
            # auxiliary labels play no part; re-encode over sample nodes only
            classes, sub = np.unique(arr[sample], return_inverse=True)
            codes = np.full(g.n_nodes, -1, dtype=np.int64)
            codes[sample] = sub.reshape(-1)
    elif aux.any() and arr.shape[0] == n_samples:
        if auxiliary == "vote":
            raise ValueError(
                f"{name} covers only the {n_samples} sample nodes, but auxiliary='vote' needs a "
                f"label for each of the {g.n_nodes} nodes"
            )
        classes, sub = np.unique(arr, return_inverse=True)
        codes = np.full(g.n_nodes, -1, dtype=np.int64)
        codes[sample] = sub.reshape(-1)
    else:
        expected = f"{g.n_nodes}" + (f" (or {n_samples} sample nodes)" if aux.any() else "")
        raise ValueError(f"{name} has length {arr.shape[0]} but the graph has {expected} nodes")
    return LabelledGraph(g, codes, classes, sample)
