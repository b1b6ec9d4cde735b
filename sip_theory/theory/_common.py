"""Shared plumbing of :mod:`sip_theory.theory`: label encoding and auxiliary-node handling.

Every theory function that takes a graph and labels goes through
:func:`prepare_labels`, so that all of them read labels, auxiliary (non-sample)
nodes and undefined values the same way.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import check_labels, check_one_of, known_labels
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
        Class code per node; -1 for auxiliary nodes that were given no label and
        for sample nodes whose label is missing.
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

    @property
    def labelled(self) -> np.ndarray:
        """Sample nodes with a label: the nodes that are scored and that vote."""
        return self.sample & (self.codes >= 0)

    def arcs(self, *, voters: str = "exclude", weighted: bool = False):
        """Both directions of every edge as ``(target, source, weight)`` arrays.

        ``voters="exclude"`` keeps only arcs whose source is a labelled sample node;
        ``"vote"`` keeps every arc whose source has a label.
        """
        g = self.graph
        target = np.repeat(np.arange(g.n_nodes, dtype=np.int64), np.diff(g.indptr))
        source = np.asarray(g.indices, dtype=np.int64)
        weight = np.asarray(g.data, dtype=np.float64) if weighted else np.ones(source.shape[0])
        if voters == "exclude":
            keep = self.labelled[source]
        else:
            keep = self.codes[source] >= 0
        if not keep.all():
            target, source, weight = target[keep], source[keep], weight[keep]
        return target, source, weight


def prepare_labels(graph, labels, *, auxiliary: str = "exclude", name: str = "labels",
                   missing_label=None, allow_missing: bool = False):
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
    missing_label, allow_missing
        With ``allow_missing=True`` labels may be missing (masked, NaN, None or equal
        to ``missing_label``, see :func:`sip_theory._validation.known_labels`); those
        nodes get code -1. Otherwise a missing label raises.

    Returns
    -------
    LabelledGraph

    Raises
    ------
    ValueError
        Labels of the wrong length, or auxiliary nodes without labels under
        ``auxiliary="vote"``, missing labels without ``allow_missing``.
    """
    check_one_of(auxiliary, AUXILIARY_POLICIES, name="auxiliary")
    if allow_missing:
        values, known = known_labels(labels, None, missing_label=missing_label, name=name)
    else:
        if missing_label is not None:
            raise ValueError("missing_label needs allow_missing=True")
        values = check_labels(labels, None, name=name)
        known = np.ones(values.shape[0], dtype=bool)
    g = to_graph(graph, known.shape[0])
    aux = np.asarray(g.auxiliary, dtype=bool)
    sample = ~aux
    n_samples = int(sample.sum())
    positions = np.flatnonzero(known)  # index into the label array of each known value
    if known.shape[0] == g.n_nodes:
        node_of = positions
    elif aux.any() and known.shape[0] == n_samples:
        if auxiliary == "vote":
            raise ValueError(
                f"{name} covers only the {n_samples} sample nodes, but auxiliary='vote' needs a "
                f"label for each of the {g.n_nodes} nodes"
            )
        node_of = np.flatnonzero(sample)[positions]
    else:
        expected = f"{g.n_nodes}" + (f" (or {n_samples} sample nodes)" if aux.any() else "")
        raise ValueError(f"{name} has length {known.shape[0]} but the graph has {expected} "
                         "nodes")
    if auxiliary == "exclude" and aux.any():
        # auxiliary labels play no part; encode over sample nodes only
        keep = sample[node_of]
        node_of, values = node_of[keep], values[keep]
    classes, sub = np.unique(values, return_inverse=True)
    codes = np.full(g.n_nodes, -1, dtype=np.int64)
    codes[node_of] = sub.reshape(-1)
    return LabelledGraph(g, codes, classes, sample)
