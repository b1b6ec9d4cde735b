"""When the k-NN vote equals LC: a per-node sufficient condition and the bound it gives.

Theorem 1 (McDermott et al. 2023) is about the radius vote; a k-NN vote can be
far from LC_G(y) even when G is realized as a radius graph (the book's 7-point
counterexample). This module states when the two agree node by node, and what
that proves about the accuracies.

Setting
-------
Points x_1..x_n (the sample nodes), the kernel's exact dissimilarity d, a graph
G with neighbourhoods N(i) and degrees deg_i = ``|N(i)|``, labels y, and
1 <= k <= n - 1. A *k-NN set* of i is any K of k nodes other than i with
d(i, j) <= d(i, l) for j in K and l outside K and i; :func:`knn_vs_lc` votes with
the one the kernel selects (ties by index), but everything below holds for every
k-NN set. With D_i the k-th smallest distance, B_i = {j : d(i, j) < D_i} and
T_i = {j != i : d(i, j) = D_i}, the k-NN sets are B_i plus any q_i = k - ``|B_i|``
nodes of T_i. Votes of N(i): c_N(c) = #{j in N(i) : y_j = c}; a_i = max_c c_N(c),
b_i the largest count of a class other than one maximiser w (0 with one class),
m_i = a_i - b_i (0 for an isolated node). Conservatively over the tie set,

    s_i = max_K ``|K Δ N(i)|``
        = ``|B_i \\ N| + |N \\ (B_i ∪ T_i)|`` + q + t_N - 2 max(0, q - t + t_N)

(t = ``|T_i|``, t_N = ``|T_i ∩ N(i)|``: the q tied picks avoid N(i) as far as they can),
and u_i = (s_i - k + deg_i) / 2, v_i = (s_i + k - deg_i) / 2. Since
``|K| - |N(i)|`` = k - deg_i is fixed, every k-NN set has ``|N \\ K|`` <= u_i and
``|K \\ N|`` <= v_i.

Lemma (uniform vote). If s_i = 0 or m_i > s_i, the k-NN majority vote at i gives
i the same credit as LC (ties "strict" or "random"), for every k-NN set.
Proof. s_i = 0: K = N(i), the same votes. Otherwise m_i >= 1, so w is LC's unique
winner, and for c != w: c_K(w) >= a_i - u_i and c_K(c) <= b_i + v_i, whose
difference is m_i - s_i > 0; w is also the k-NN vote's unique winner and both
credits are 1[y_i = w].

Lemma (distance weights 1/d; with a zero distance only the zero-distance points
vote, weight 1). With d1_i the nearest distance, if (a_i - u_i >= 1 and
b_i + v_i = 0) or (a_i - u_i) d1_i > (b_i + v_i) D_i (1 + (k + 2) 2^-51), the weighted
vote's credit equals LC's. Proof. In the first case every vote is for w. In the
second d1_i > 0, each weight lies in [1/D_i, 1/d1_i], so W(w) >= (a_i - u_i)/D_i >
(b_i + v_i)/d1_i >= W(c); the factor covers float64 rounding of the k weights, of
their sums in any order, and of the test itself. K = N(i) alone proves nothing here.

Bound. Let E be the nodes LC averages over (``isolated="exclude"``: deg_i >= 1;
``"wrong"``: all), U the nodes of E where the lemma's condition fails, l_i LC's
credit and kappa_i the k-NN credit, acc = sum_E kappa_i / ``|E|``. Then

    LC - sum_U l_i / ``|E|``  <=  acc  <=  LC + sum_U (1 - l_i) / ``|E|``,
    so ``|acc - LC|`` <= ``|U|/|E|``,

for every k-NN tie-break. Proof: acc - LC = sum_U (kappa_i - l_i) / ``|E|`` with
kappa_i in [0, 1]. Isolated nodes (m_i = 0, s_i = k) are always in U.

Corollary (realization). If G = {d < r}, every neighbour of i is strictly closer
than every non-neighbour, so every k-NN set is inside N(i) (k <= deg_i) or holds
it (k >= deg_i): s_i = ``|deg_i - k|``. Uniform vote: a node of degree k is never in
U; if every degree is k, acc = LC exactly; in general acc >= LC - sum l_i / ``|E|``
over the nodes of E with deg_i != k and m_i <= ``|deg_i - k|``. Distance weights are
not covered by this corollary: at deg_i = k the weighted vote can still overturn a
count majority.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._kernel import METRICS
from .._serialization import ToDictMixin
from .._validation import check_labels, check_one_of, check_positive_int
from ._common import prepare_labels, readonly
from ._distances import DistanceBlocks
from ._local_consistency import ISOLATED_POLICIES, TIE_POLICIES, local_consistency, majority_credit
from ._theorem1 import _adjacency_rows, _restrict_to_samples

__all__ = ["KNNvsLC", "knn_vs_lc"]

WEIGHTS = ("uniform", "distance")


@dataclass(frozen=True, eq=False)
class KNNvsLC(ToDictMixin):
    """The leave-one-out k-NN vote next to LC, with the nodes where they provably agree.

    Attributes
    ----------
    k, weights, metric, ties, isolated : int or str
        The vote and LC's policies (both sides use ``ties`` and ``isolated``).
    knn_accuracy : float
        Mean k-NN credit over LC's evaluated nodes E (NaN when E is empty).
    lc : float
        LC_G(y) under the same policies.
    lower, upper : float
        The proved range of ``knn_accuracy`` (module statement); ``bound`` =
        ``|U|/|E|``, so ``upper - lower == bound``.
    n_evaluated, n_unguaranteed, n_tied_at_k : int
        ``|E|``; ``|U|``; nodes whose k-th distance is shared by a point left out of K.
    neighbors : ndarray (n, k) of int
        K_i, the kernel's k nearest (by exact distance, then index).
    degree, top_votes, runner_up, margin, symdiff : ndarray (n,) of int
        deg_i, a_i, b_i, m_i = a_i - b_i, and s_i (the largest ``|K Δ N(i)|`` over tie-breaks).
    guaranteed, evaluated, tied_at_k : ndarray (n,) of bool
        The lemma's condition holds; i is in E; the k-th place is tied.
    knn_credit, lc_credit : ndarray (n,) of float
        Per-node credits (``lc_credit`` NaN outside E).
    """

    k: int
    weights: str
    metric: str
    ties: str
    isolated: str
    knn_accuracy: float
    lc: float
    lower: float
    upper: float
    bound: float
    n_evaluated: int
    n_unguaranteed: int
    n_tied_at_k: int
    neighbors: np.ndarray = field(repr=False)
    degree: np.ndarray = field(repr=False)
    top_votes: np.ndarray = field(repr=False)
    runner_up: np.ndarray = field(repr=False)
    margin: np.ndarray = field(repr=False)
    symdiff: np.ndarray = field(repr=False)
    guaranteed: np.ndarray = field(repr=False)
    evaluated: np.ndarray = field(repr=False)
    tied_at_k: np.ndarray = field(repr=False)
    knn_credit: np.ndarray = field(repr=False)
    lc_credit: np.ndarray = field(repr=False)

    _to_dict_exclude = ("neighbors", "degree", "top_votes", "runner_up", "margin", "symdiff",
                        "guaranteed", "evaluated", "tied_at_k", "knn_credit", "lc_credit")

    @property
    def gap(self) -> float:
        """``knn_accuracy - lc``."""
        return self.knn_accuracy - self.lc


def _top_two(n, target, codes, n_classes):
    """Per row, the largest and second-largest vote count over classes (0 if absent)."""
    top = np.zeros(n, dtype=np.int64)
    second = np.zeros(n, dtype=np.int64)
    if target.shape[0] == 0:
        return top, second
    keys, counts = np.unique(target * max(n_classes, 1) + codes, return_counts=True)
    row = keys // max(n_classes, 1)
    order = np.lexsort((-counts, row))
    row, counts = row[order], counts[order]
    first = np.ones(row.shape[0], dtype=bool)
    first[1:] = row[1:] != row[:-1]
    top[row[first]] = counts[first]
    nxt = np.flatnonzero(first) + 1  # the next group, if it is still the same row
    ok = nxt < row.shape[0]
    ok[ok] = ~first[nxt[ok]]
    second[row[nxt[ok]]] = counts[nxt[ok]]
    return top, second


def _sweep(blocks, g, k):
    """Per node: the kernel's k nearest with exact distances, s_i and whether the k-th
    place is tied (the tie set read off the block made exact at each row's k-th distance)."""
    n, space = blocks.n, blocks.space
    idx = np.empty((n, k), dtype=np.int64)
    dist = np.empty((n, k))
    symdiff = np.empty(n, dtype=np.int64)
    tied = np.empty(n, dtype=bool)
    for rows in blocks.row_blocks():
        d = space.fast_block(rows.start, rows.stop, exclude_self=True)
        nb, ex = space.k_nearest(d, rows.start, k)
        idx[rows], dist[rows] = nb, ex
        dk = ex[:, -1]
        local = np.arange(rows.stop - rows.start)
        d[local, local + rows.start] = 0.0  # a finite stand-in (an inf has no rounding band)
        d = blocks.exactify(rows, d, np.unique(dk))  # exact wherever d could equal some dk
        d[local, local + rows.start] = math.inf
        adj = _adjacency_rows(g, rows, n)
        less, eq = d < dk[:, None], d == dk[:, None]
        q = k - less.sum(1)
        t, t_n = eq.sum(1), (eq & adj).sum(1)
        fixed = (less & ~adj).sum(1) + (adj & ~less & ~eq).sum(1)
        symdiff[rows] = fixed + q + t_n - 2 * np.maximum(0, q - (t - t_n))
        tied[rows] = t > q
    return idx, dist, symdiff, tied


def knn_vs_lc(embeddings, graph, labels, k: int, *, weights: str = "uniform",
              metric: str = "euclidean", ties: str = "strict", isolated: str = "exclude",
              chunk_size: int | None = None) -> KNNvsLC:
    """Leave-one-out k-NN accuracy, LC, and the proved range of their gap.

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, d)
        One row per sample node (or per node; auxiliary rows are dropped).
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
    labels : array-like
        One label per sample node (or per node).
    k : int
        Neighbours, 1 <= k <= n_samples - 1.
    weights : {"uniform", "distance"}, default "uniform"
        The count vote, or 1/d weights (zero distances: only those points vote), as in
        :func:`sip_theory.geometry.knn_probe`; ``"distance"`` needs a distance metric.
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
    ties : {"strict", "random"}, default "strict"
    isolated : {"exclude", "wrong"}, default "exclude"
        LC's policies; the k-NN vote is credited by the same tie rule and averaged
        over the same nodes.
    chunk_size : int, optional
        Rows per block of the O(n^2 d) pass.

    Returns
    -------
    KNNvsLC

    Raises
    ------
    ValueError
        ``k`` outside [1, n - 1], unknown policy, ``weights="distance"`` with
        ``metric="dot"``, mismatched sizes, non-finite embeddings.

    Notes
    -----
    Proved (statement and proof in the module docstring of
    ``sip_theory.theory._knn_conditions`` and in the book's chapter on the theorem in
    action): at a node with s_i = 0 or m_i > s_i (uniform vote; for distance weights
    (a_i - u_i) d1_i > (b_i + v_i) D_i, up to a rounding guard) the k-NN credit equals
    LC's for every tie-break among equidistant points, hence
    ``lower <= knn_accuracy <= upper`` and ``|knn_accuracy - lc| <= bound``. Under a
    radius realization of G, s_i = ``|deg_i - k|``: with every degree equal to k the
    uniform k-NN accuracy equals LC. Neighbours are the kernel's exact selection
    (:meth:`sip_theory._kernel.PairSpace.k_nearest`), ties by index.

    Examples
    --------
    Two triangles far apart: every degree is 2, so every 2-NN set is the
    neighbourhood (s = 0) and 2-NN and LC agree at every node, also at nodes 0 and
    1, whose LC vote is tied (m = 0):

    >>> import numpy as np
    >>> x = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> edges = [(0, 1), (0, 2), (1, 2), (3, 4), (3, 5), (4, 5)]
    >>> r = knn_vs_lc(x, edges, [0, 0, 1, 1, 1, 1], k=2)
    >>> r.knn_accuracy == r.lc, r.n_unguaranteed, r.margin.tolist()
    (True, 0, [0, 0, 2, 2, 2, 2])

    With k = 3 every node is one off (s = 1), and only margins above 1 are guaranteed:

    >>> r = knn_vs_lc(x, edges, [0, 0, 1, 1, 1, 1], k=3)
    >>> r.guaranteed.tolist(), r.lower <= r.knn_accuracy <= r.upper
    ([False, False, True, True, True, True], True)
    """
    check_one_of(weights, WEIGHTS, name="weights")
    check_one_of(metric, METRICS, name="metric")
    check_one_of(ties, TIE_POLICIES, name="ties")
    check_one_of(isolated, ISOLATED_POLICIES, name="isolated")
    if weights == "distance" and metric == "dot":
        raise ValueError("weights='distance' needs non-negative distances; metric='dot' has none")
    g, x, labels = _restrict_to_samples(graph, embeddings, labels)
    lab = check_labels(labels, g.n_nodes)
    n = g.n_nodes
    k = check_positive_int(k, name="k")
    if k > n - 1:
        raise ValueError(f"k must be <= n_samples - 1 = {n - 1}, got {k}")
    lc = local_consistency(g, lab, ties=ties, isolated=isolated)
    lg = prepare_labels(g, lab)
    codes, n_classes = lg.codes, lg.n_classes
    target, source, _ = lg.arcs()
    top, second = _top_two(n, target, codes[source], n_classes)
    degree = np.diff(g.indptr).astype(np.int64)
    idx, dist, s, tied = _sweep(DistanceBlocks(x, metric=metric, chunk_size=chunk_size), g, k)
    u, v = (s - k + degree) // 2, (s + k - degree) // 2  # exact: s = k + deg (mod 2)
    if weights == "uniform":
        w = np.ones(idx.shape)
        guaranteed = (s == 0) | (top - second > s)
    else:
        zero = dist[:, :1] == 0
        with np.errstate(divide="ignore"):
            w = np.where(zero, (dist == 0).astype(float), 1.0 / dist)
        guard = 1.0 + (k + 2) * 2.0**-51
        guaranteed = ((top - u >= 1) & (second + v == 0)) | (
            (top - u) * dist[:, 0] > (second + v) * dist[:, -1] * guard)
    rows = np.repeat(np.arange(n), k)
    knn_credit, _, _, _ = majority_credit(n, rows, codes[idx.reshape(-1)], w.reshape(-1), codes,
                                          n_classes, ties)
    ev = lc.evaluated
    n_ev = int(ev.sum())
    unsure = ev & ~guaranteed
    if n_ev:
        # LC's own formula (unit sample weights), so that equal credits give equal values
        acc = float(np.dot(np.ones(n_ev), knn_credit[ev]) / float(n_ev))
        lower = lc.value - float(lc.credit[unsure].sum()) / n_ev
        upper = lc.value + float((1.0 - lc.credit[unsure]).sum()) / n_ev
        bound = int(unsure.sum()) / n_ev
    else:
        acc = lower = upper = bound = float("nan")
    return KNNvsLC(
        k, weights, metric, ties, isolated, acc, lc.value, lower, upper, bound, n_ev,
        int(unsure.sum()), int(tied.sum()), readonly(idx), readonly(degree), readonly(top),
        readonly(second), readonly(top - second), readonly(s), readonly(guaranteed),
        readonly(ev), readonly(tied), readonly(knn_credit), lc.credit,
    )
