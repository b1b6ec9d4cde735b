"""Edge splits: hold out test and validation edges of a graph (numpy only).

:func:`split_edges` removes a uniformly drawn set of edges for testing and
another for validation; what is left is the pre-training graph G_PT. The Cora
case study (:mod:`sip_theory.experiments`) splits the citations this way, and
the held-out edges are then ranked with the known ones excluded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from .._serialization import ToDictMixin, to_jsonable
from .._validation import as_generator
from ._graph import SampleGraph, as_sample_graph

__all__ = ["EdgeSplit", "split_edges"]


@dataclass(frozen=True, eq=False)
class EdgeSplit(ToDictMixin):
    """Citations split into a pre-training graph and held-out test and validation edges.

    Attributes
    ----------
    pt_graph : SampleGraph
        The pre-training graph: every edge not held out (same nodes).
    test_edges, val_edges : ndarray of shape (m, 2)
        Held-out edges, ``i < j``, sorted; disjoint from each other and from ``pt_graph``.
    seed : int
    test_fraction, val_fraction : float
    keep_every_node : bool
        Whether the split kept at least one G_PT edge at every node that had one.
    """

    pt_graph: object
    test_edges: np.ndarray = field(repr=False)
    val_edges: np.ndarray = field(repr=False)
    seed: int
    test_fraction: float
    val_fraction: float
    keep_every_node: bool = False

    _to_dict_exclude = ("pt_graph", "test_edges", "val_edges")

    def to_dict(self, *, edges: bool = True) -> dict:
        """JSON-ready record (with the held-out edge lists unless ``edges=False``).

        Examples
        --------
        >>> s = split_edges([(0, 1), (1, 2), (2, 3), (3, 0)], test_fraction=0.25,
        ...                 val_fraction=0.25, seed=0)
        >>> d = s.to_dict(); d["n_test_edges"], d["n_val_edges"], d["n_pt_edges"]
        (1, 1, 2)
        """
        out = {
            **super().to_dict(),
            "n_test_edges": int(self.test_edges.shape[0]),
            "n_val_edges": int(self.val_edges.shape[0]),
            "n_pt_edges": int(self.pt_graph.n_edges),
            "n_pt_isolated": int((self.pt_graph.degrees() == 0).sum()),
            "pt_graph_hash": self.pt_graph.content_hash(),
            "test_edges_sha256": _edges_hash(self.test_edges),
            "val_edges_sha256": _edges_hash(self.val_edges),
        }
        if edges:
            out["test_edges"] = to_jsonable(self.test_edges)
            out["val_edges"] = to_jsonable(self.val_edges)
        return out


def _edges_hash(edges: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(edges, dtype="<i8").tobytes()).hexdigest()


def split_edges(graph, *, test_fraction: float = 0.10, val_fraction: float = 0.05,
                seed=0, keep_every_node: bool = False) -> EdgeSplit:
    """Hold out a uniformly drawn set of edges for testing and another for validation.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array
    test_fraction, val_fraction : float
        Fractions of the edges held out (rounded to the nearest count); their sum
        must be below 1.
    seed : int or numpy.random.Generator, default 0
    keep_every_node : bool, default False
        Never hold out an edge whose removal would leave one of its end points
        without an edge in G_PT (see Notes).

    Returns
    -------
    EdgeSplit

    Raises
    ------
    ValueError
        Fractions outside [0, 1) or summing to 1 or more, or a graph without edges.

    Notes
    -----
    One uniform permutation of the edge list. Without ``keep_every_node`` the
    first ``round(test_fraction m)`` edges are the test set, the next
    ``round(val_fraction m)`` the validation set; nodes are kept even when they
    lose all their edges (they still take part in L_M and are counted in
    ``n_pt_isolated``).

    With ``keep_every_node=True`` the permutation is scanned in order and an
    edge is held out only while both of its end points still have another
    G_PT edge; the first ``round(test_fraction m)`` held-out edges are the test
    set, the next ``round(val_fraction m)`` the validation set. Guaranteed: every
    node with at least one edge in ``graph`` keeps at least one in G_PT, and
    each held-out set has at most its rounded count, exactly that count when the
    scan finds enough removable edges. It always does when the minimum degree
    exceeds the number k of edges to hold out (a node has lost at most k - 1
    edges before any removal, so both end points of every edge have another
    one); it never can on a perfect matching or a star, where no edge is
    removable. The validation set is the one left
    short first. Either way no edge is both held out and in G_PT, and the split
    is a function of the graph and the seed alone.

    Examples
    --------
    >>> s = split_edges([(0, 1), (1, 2), (2, 3), (3, 4)], test_fraction=0.25,
    ...                 val_fraction=0.25, seed=1)
    >>> s.pt_graph.n_edges, s.test_edges.shape, s.val_edges.shape
    (2, (1, 2), (1, 2))

    On the path 0-1-2-3-4 only the inner edges (1, 2) and (2, 3) are removable,
    and removing one makes the other the last edge of node 2:

    >>> s = split_edges([(0, 1), (1, 2), (2, 3), (3, 4)], test_fraction=0.25,
    ...                 val_fraction=0.25, seed=1, keep_every_node=True)
    >>> s.test_edges.shape[0] + s.val_edges.shape[0], int((s.pt_graph.degrees() == 0).sum())
    (1, 0)
    """
    g = as_sample_graph(graph, name="graph")
    for name, v in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        if not 0.0 <= float(v) < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {v!r}")
    if float(test_fraction) + float(val_fraction) >= 1.0:
        raise ValueError("test_fraction + val_fraction must be < 1, got "
                         f"{float(test_fraction) + float(val_fraction)}")
    if not isinstance(keep_every_node, (bool, np.bool_)):
        raise ValueError(f"keep_every_node must be a bool, got {keep_every_node!r}")
    edges = g.edges()
    m = edges.shape[0]
    if m == 0:
        raise ValueError("graph must have at least one edge")
    rng = as_generator(seed)
    seed_record = int(seed) if isinstance(seed, (int, np.integer)) else None
    perm = rng.permutation(m)
    n_test = int(round(float(test_fraction) * m))
    n_val = int(round(float(val_fraction) * m))
    if keep_every_node:
        held = _removable_prefix(edges, perm, n_test + n_val, g.n_nodes)
        test_idx = np.sort(held[:n_test])
        val_idx = np.sort(held[n_test:])
        keep_mask = np.ones(m, dtype=bool)
        keep_mask[held] = False
        keep = np.flatnonzero(keep_mask)
    else:
        test_idx = np.sort(perm[:n_test])
        val_idx = np.sort(perm[n_test:n_test + n_val])
        keep = np.sort(perm[n_test + n_val:])
    pt = SampleGraph.from_edges(edges[keep], n_nodes=g.n_nodes)
    return EdgeSplit(pt, edges[test_idx], edges[val_idx], seed_record,
                     float(test_fraction), float(val_fraction), bool(keep_every_node))


def _removable_prefix(edges: np.ndarray, order: np.ndarray, count: int, n: int) -> np.ndarray:
    """The first ``count`` edges of ``order`` removable while both end points keep an edge.

    A sequential scan (each removal changes which later edges are removable);
    it stops as soon as ``count`` edges are taken.
    """
    deg = np.bincount(edges.ravel(), minlength=n).astype(np.int64)
    taken = []
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    for e in order.tolist():
        u, v = int(edges[e, 0]), int(edges[e, 1])
        if deg[u] > 1 and deg[v] > 1:
            deg[u] -= 1
            deg[v] -= 1
            taken.append(e)
            if len(taken) == count:
                break
    return np.asarray(taken, dtype=np.int64)
