"""Theorem 1 as a checkable object: exact recovery, the radius-r majority vote, and the identity.

Theorem 1 of McDermott et al. (2023): if the radius-r* graph of the
embeddings equals G_PT, the radius-r* majority-vote classifier is right on a
pre-training node exactly when the node's label is the majority label of its
graph neighbours. Over the pre-training nodes this is an identity: the
classifier's leave-one-out accuracy equals LC_G(y) under the same tie and
isolated-node policies. :func:`check_theorem1` computes both sides and the
hypothesis (the recovery margin) from embeddings, a graph and labels
(:mod:`._theorem1_check`); this module holds the pieces: the recovery report and
the radius vote.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._kernel import from_dissimilarity as to_user_radius
from .._kernel import to_dissimilarity as from_user_radius
from .._serialization import ToDictMixin
from .._validation import check_labels, check_one_of
from ._common import readonly, to_graph
from ._distances import METRICS, DistanceBlocks
from ._local_consistency import (
    ISOLATED_POLICIES,
    TIE_POLICIES,
    majority_credit,
)

__all__ = [
    "RadiusMajorityVote",
    "RadiusVoteScore",
    "RecoveryReport",
    "recovery_margin",
]


# --------------------------------------------------------------------------- recovery
@dataclass(frozen=True)
class RecoveryReport(ToDictMixin):
    """Whether some radius graph of the embeddings equals the graph, and how far from it.

    Attributes
    ----------
    metric : str
    n_pairs, n_edges : int
        Number of node pairs and of graph edges.
    max_linked, min_unlinked : float
        Largest dissimilarity over linked pairs (-inf without edges) and smallest
        over unlinked pairs (+inf for a complete graph). For ``metric="dot"`` the
        dissimilarity is the negative inner product.
    margin : float
        ``min_unlinked - max_linked``; the graph is a radius graph iff it is > 0.
    realized : bool
        Exact recovery: some radius r gives (i, j) in E <=> d_ij < r.
    radius : float
        A recovering radius when realized (the midpoint of the gap, or its upper end
        when the gap is one ulp wide), otherwise the best-F1 radius; in the strict
        convention of :func:`sip_theory.graphs.radius_graph`, which it rebuilds the graph
        with (for ``"dot"`` a similarity threshold). Distances are the exact values of
        :mod:`sip_theory._kernel`.
    min_violations : int
        Smallest number of misclassified pairs (edges with d >= r plus non-edges
        with d < r) over all radii r; 0 iff realized.
    min_violations_radius : float
        A radius attaining it.
    best_f1 : float
        Largest F1 of the radius graph's edge set against E over all radii
        (1 when realized; NaN when there are no edges and no exact recovery).
    best_f1_radius : float
    """

    metric: str
    n_pairs: int
    n_edges: int
    max_linked: float
    min_unlinked: float
    margin: float
    realized: bool
    radius: float
    min_violations: int
    min_violations_radius: float
    best_f1: float
    best_f1_radius: float


def _adjacency_rows(g, rows: slice, n: int) -> np.ndarray:
    """Dense boolean adjacency of a block of rows."""
    out = np.zeros((rows.stop - rows.start, n), dtype=bool)
    ptr = g.indptr
    for k, i in enumerate(range(rows.start, rows.stop)):
        out[k, g.indices[ptr[i] : ptr[i + 1]]] = True
    return out


def _gap_radius(lo: float, hi: float) -> float:
    """A radius r with lo < r <= hi (lo may be -inf, hi +inf): the midpoint, or ``hi``
    itself when the gap is too narrow for a midpoint (one ulp: it rounds onto ``lo``)."""
    if math.isinf(hi):
        return lo + max(abs(lo), 1.0) if not math.isinf(lo) else 1.0
    if math.isinf(lo):
        return hi
    mid = 0.5 * (lo + hi)
    return mid if lo < mid <= hi else hi


def _realized_radius(max_linked: float, min_unlinked: float, n_edges: int, metric: str) -> float:
    """The recovering radius of a realized graph, in the user's convention (for ``"dot"`` a
    similarity threshold): the gap radius, or with no edge one below every pair."""
    if n_edges:
        r = _gap_radius(max_linked, min_unlinked)
    else:
        r = _radius_below(min_unlinked, metric)
    return to_user_radius(r, metric)


def _radius_below(lowest: float, metric: str) -> float:
    """A dissimilarity threshold with no pair strictly below it (``lowest``: the smallest
    dissimilarity, +inf without pairs): 0 for distances, which are >= 0; for ``"dot"``,
    whose dissimilarities can be negative, one below ``lowest``."""
    if metric == "dot" and not math.isinf(lowest):
        return lowest - max(abs(lowest), 1.0)
    return 0.0


def _recovery(blocks: DistanceBlocks, g) -> RecoveryReport:
    n = blocks.n
    metric = blocks.metric
    # every value that decides the report is exact (the kernel's formula): the edges' own
    # distances, the nearest non-edge, and (below) the non-edges near an edge distance
    src = np.repeat(np.arange(n), np.diff(g.indptr))
    up = src < g.indices
    e_exact = blocks.exact(src[up], g.indices[up])
    max_linked = float(e_exact.max()) if e_exact.size else -math.inf
    min_unlinked = math.inf
    cols = np.arange(n)
    for rows in blocks.row_blocks():
        d = blocks.block(rows)
        upper = cols[None, :] > np.arange(rows.start, rows.stop)[:, None]
        nonedge = ~_adjacency_rows(g, rows, n) & upper
        if nonedge.any():
            min_unlinked = min(min_unlinked, float(blocks.exact_min(rows, d, nonedge).min()))
    m = g.n_edges
    n_pairs = n * (n - 1) // 2
    margin = min_unlinked - max_linked
    realized = bool(margin > 0) or (m == 0)  # no edges: any r <= min distance works
    if realized:
        r_user = _realized_radius(max_linked, min_unlinked, m, metric)
        return RecoveryReport(metric, n_pairs, m, max_linked, min_unlinked, margin, True,
                              r_user, 0, r_user, 1.0, r_user)

    e_sorted = np.sort(e_exact)
    counts = np.zeros(m + 1, dtype=np.int64)
    bin_min = np.full(m + 1, math.inf)
    for rows in blocks.row_blocks():
        d = blocks.exactify(rows, blocks.block(rows), e_sorted)
        upper = cols[None, :] > np.arange(rows.start, rows.stop)[:, None]
        ne = d[~_adjacency_rows(g, rows, n) & upper]
        if ne.size:
            idx = np.searchsorted(e_sorted, ne, side="left")
            counts += np.bincount(idx, minlength=m + 1)
            np.minimum.at(bin_min, idx, ne)
    cum = np.cumsum(counts)
    suffix_min = np.minimum.accumulate(bin_min[::-1])[::-1]
    values = np.unique(e_sorted)
    tp = np.searchsorted(e_sorted, values, side="right")
    fp = cum[tp - 1]
    violations = (m - tp) + fp
    f1 = 2.0 * tp / (2.0 * tp + fp + (m - tp))

    def radius_after(k: int) -> float:
        v = float(values[k])
        nxt_edge = float(e_sorted[tp[k]]) if tp[k] < m else math.inf
        nxt = min(nxt_edge, float(suffix_min[tp[k]]))
        return to_user_radius(_gap_radius(v, nxt), metric)

    # candidate "below every distance": no predicted links, m violations, F1 = 0
    kv = int(np.argmin(violations))
    if violations[kv] < m:
        min_viol, viol_r = int(violations[kv]), radius_after(kv)
    else:
        low = min(float(e_sorted[0]), float(suffix_min[0]))
        min_viol, viol_r = m, to_user_radius(_radius_below(low, metric), metric)
    kf = int(np.argmax(f1))
    best_f1, f1_r = float(f1[kf]), radius_after(kf)
    return RecoveryReport(metric, n_pairs, m, max_linked, min_unlinked, margin, False,
                          f1_r, min_viol, viol_r, best_f1, f1_r)


def _restrict_to_samples(graph, embeddings, labels=None):
    x = np.asarray(embeddings)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D array (n_samples, n_features), got {x.shape}")
    g = to_graph(graph, x.shape[0], sized_by="embeddings")
    aux = np.asarray(g.auxiliary)
    if aux.any():
        n_s = int((~aux).sum())
        if x.shape[0] == g.n_nodes:
            x = x[~aux]
            if labels is not None and len(labels) == g.n_nodes:
                labels = np.asarray(labels)[~aux]
        elif x.shape[0] != n_s:
            raise ValueError(
                f"embeddings has {x.shape[0]} rows; expected {g.n_nodes} nodes or {n_s} samples"
            )
        g = g.subgraph(~aux)
    elif x.shape[0] != g.n_nodes:
        raise ValueError(f"embeddings has {x.shape[0]} rows but the graph has {g.n_nodes} nodes")
    return g, x, labels


def recovery_margin(embeddings, graph, *, metric: str = "euclidean",
                    chunk_size: int | None = None) -> RecoveryReport:
    """The exact-recovery check: can a radius graph of the embeddings equal the graph?

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, d)
        One row per sample node (or per node; auxiliary rows are then dropped).
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
        ``"dot"`` uses the dissimilarity -x.y (radius reported as a similarity threshold).
    chunk_size : int, optional
        Rows per block of the O(n^2) pass.

    Returns
    -------
    RecoveryReport

    Raises
    ------
    ValueError
        Mismatched sizes, NaN/inf embeddings, unknown metric.

    Notes
    -----
    With the strict convention (i, j) in E <=> d_ij < r, a recovering r exists iff
    max_{E} d < min_{not E, i != j} d (McDermott et al.'s permissibility, P1); the
    gap is the recovery margin. Otherwise the minimum number of violating pairs
    over r and the best-F1 radius are found exactly by sorting the linked
    distances and counting, in blocks, the unlinked distances below each.
    Complexity O(n^2 d) time, O(chunk_size * n + m) memory.

    See Also
    --------
    sip_theory.geometry.recovery_margin : the margin alone, from the chunked torch
        engine (for large n or a GPU).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [1.0], [2.0], [5.0]])
    >>> rep = recovery_margin(x, [(0, 1), (1, 2)])
    >>> rep.realized, float(rep.margin), float(rep.radius)
    (True, 1.0, 1.5)
    >>> recovery_margin(x, [(0, 2)]).min_violations
    1
    """
    check_one_of(metric, METRICS, name="metric")
    g, x, _ = _restrict_to_samples(graph, embeddings)
    return _recovery(DistanceBlocks(x, metric=metric, chunk_size=chunk_size), g)


# ------------------------------------------------------------------ radius majority vote
@dataclass(frozen=True, eq=False)
class RadiusVoteScore(ToDictMixin):
    """Accuracy of the radius majority vote, with per-query credit.

    Attributes
    ----------
    value : float
        Mean credit over evaluated queries (NaN if none).
    credit : ndarray (n_query,)
        Credit in [0, 1] (see :func:`~sip_theory.theory.local_consistency`); NaN if not evaluated.
    n_evaluated, n_isolated : int
        Evaluated queries; queries with no training point within the radius.
    radius : float
    metric, ties, isolated : str
    """

    value: float
    credit: np.ndarray = field(repr=False)
    n_evaluated: int
    n_isolated: int
    radius: float
    metric: str
    ties: str
    isolated: str

    _to_dict_exclude = ("credit",)


class RadiusMajorityVote:
    """The radius-r majority-vote classifier of the proof of Theorem 1.

    A query is given the most frequent label among the training points strictly
    within distance r of it (for ``metric="dot"``: with inner product > r).

    Parameters
    ----------
    radius : float
        In the convention of :func:`sip_theory.graphs.radius_graph`.
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
    ties : {"strict", "random"}, default "strict"
        How :meth:`score` credits tied maxima (as in ``local_consistency``).
        :meth:`predict` returns the smallest tied label.
    chunk_size : int, optional
        Query rows per block.

    Examples
    --------
    >>> import numpy as np
    >>> clf = RadiusMajorityVote(1.5).fit([[0.0], [1.0], [2.0], [9.0]], [0, 0, 1, 1])
    >>> clf.predict([[0.5], [2.2]]).tolist()
    [0, 0]
    >>> float(clf.score().value)  # leave-one-out over the training points
    0.3333333333333333
    """

    def __init__(self, radius: float, *, metric: str = "euclidean", ties: str = "strict",
                 chunk_size: int | None = None):
        check_one_of(metric, METRICS, name="metric")
        check_one_of(ties, TIE_POLICIES, name="ties")
        radius = float(radius)
        if not math.isfinite(radius):
            raise ValueError(f"radius must be finite, got {radius}")
        self.radius = radius
        self.metric = metric
        self.ties = ties
        self.chunk_size = chunk_size
        self._blocks = None

    def fit(self, embeddings, labels) -> RadiusMajorityVote:
        """Store the training points and labels; returns ``self``."""
        self._blocks = DistanceBlocks(embeddings, metric=self.metric, chunk_size=self.chunk_size)
        lab = check_labels(labels, self._blocks.n)
        self._classes, codes = np.unique(lab, return_inverse=True)
        self._codes = codes.reshape(-1).astype(np.int64)
        return self

    def _check_fitted(self):
        if self._blocks is None:
            raise RuntimeError("RadiusMajorityVote is not fitted; call fit(embeddings, labels)")

    def _votes(self, query, own_codes, ties):
        """Credit/majority per query; query None = the training points, each without itself."""
        b = self._blocks
        r = from_user_radius(self.radius, self.metric)
        q = None if query is None else b.prepare_query(query)
        n_q = b.n if q is None else q.shape[0]
        credit = np.zeros(n_q)
        has = np.zeros(n_q, dtype=bool)
        majority = np.full(n_q, -1, dtype=np.int64)
        for rows in b.row_blocks(n_q):
            d = b.exactify(rows, b.block(rows, q), [r], q)
            within = d < r
            if q is None:
                k = np.arange(rows.stop - rows.start)
                within[k, k + rows.start] = False
            qi, ti = np.nonzero(within)
            c, h, _, maj = majority_credit(
                rows.stop - rows.start, qi, self._codes[ti], np.ones(qi.shape[0]),
                own_codes[rows], len(self._classes), ties,
            )
            credit[rows], has[rows], majority[rows] = c, h, maj
        return credit, has, majority

    def predict(self, query=None, *, missing=-1) -> np.ndarray:
        """Majority label per query (``missing`` where no training point lies within r).

        ``query=None`` predicts each training point from the others (leave-one-out).
        """
        self._check_fitted()
        n_q = self._blocks.n if query is None else np.asarray(query).shape[0]
        _, has, maj = self._votes(query, np.full(n_q, -1, dtype=np.int64), "strict")
        out = np.empty(n_q, dtype=object)
        out[has] = self._classes[maj[has]]
        out[~has] = missing
        try:
            return out.astype(np.result_type(self._classes.dtype, np.asarray(missing).dtype))
        except (TypeError, ValueError):  # pragma: no cover - mixed label kinds
            return out

    def score(self, query=None, labels=None, *, isolated: str = "exclude") -> RadiusVoteScore:
        """Accuracy (mean credit) on labelled queries; default leave-one-out on the training set.

        Parameters
        ----------
        query : array-like (n_query, d), optional
        labels : array-like (n_query,), optional
            Required with ``query``.
        isolated : {"exclude", "wrong"}
            Queries with no training point within r are left out or count as wrong.
        """
        self._check_fitted()
        check_one_of(isolated, ISOLATED_POLICIES, name="isolated")
        if query is None:
            own = self._codes
        else:
            if labels is None:
                raise ValueError("labels is required when query is given")
            lab = check_labels(labels, np.asarray(query).shape[0])
            pos = np.searchsorted(self._classes, lab)
            pos = np.clip(pos, 0, len(self._classes) - 1)
            own = np.where(self._classes[pos] == lab, pos, -1).astype(np.int64)
        credit, has, _ = self._votes(query, own, self.ties)
        evaluated = has.copy() if isolated == "exclude" else np.ones_like(has)
        credit = np.where(evaluated, credit, np.nan)
        value = float(np.nanmean(credit)) if evaluated.any() else float("nan")
        return RadiusVoteScore(value, readonly(credit), int(evaluated.sum()), int((~has).sum()),
                               self.radius, self.metric, self.ties, isolated)
