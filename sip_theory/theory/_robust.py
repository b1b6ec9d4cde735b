"""Theorem 1 off its premise: how far the radius vote can move from LC when G_PT is almost realized.

Theorem 1 (McDermott et al. 2023) needs the radius-r graph of the embeddings to
*be* G_PT; then the radius-r majority vote and LC count the same votes at every
node and are equal. A trained embedding rarely meets that premise exactly. This
module bounds the gap for any radius r, from the pairs the radius graph gets
wrong.

Statement (finite sample, any embedding, any r)
-----------------------------------------------
Let V' be the nodes with at least one neighbour in G (the nodes LC averages
over, ties strict), n' = |V'|; let G_r be the radius graph {i ~ j : d_ij < r};
let k_v be the number of violating pairs at v (pairs {v, u} that are an edge of
exactly one of G and G_r). For v in V' let c_v(y) be the votes of G-neighbours
for label y, m_v = c_v(y_v) - max_{y != y_v} c_v(y) the vote margin of its own
label. Then, with acc_r the radius vote's accuracy over V' (a node without a
radius neighbour counts as wrong) and LC = LC_G(y),

    -A / n'  <=  acc_r - LC  <=  B / n',
    A = #{v in V' : m_v >= 1 and k_v >= m_v},   B = #{v in V' : m_v <= 0 and k_v >= 1 - m_v},

and A + B <= T = #{v in V' : k_v >= 1}, so |acc_r - LC| <= T / n'.

Proof. Node v's credit is 1 iff m_v >= 1 (its label is the unique majority).
Adding or removing one neighbour changes c_v(y_v) - c_v(y) by at most 1 for
every y, so it changes the margin by at most 1, and k_v changes of the
neighbourhood change it by at most k_v. A credit-1 node (m_v >= 1) can lose its
credit only if k_v >= m_v; a credit-0 node (m_v <= 0) can gain it only if
k_v >= 1 - m_v. A node left with no radius neighbour counts as wrong, which
needs every neighbour removed, k_v >= deg_v >= m_v. So acc_r - LC =
(#gains - #losses) / n' with #gains <= B and #losses <= A. When G_r = G every
k_v = 0, A = B = 0 and the identity of Theorem 1 follows.

Every decision d < r is taken on the kernel's exact value of the pair
(:mod:`sip_theory._kernel`: fast blocks, exact recomputation near r), blocked,
so memory is O(chunk x n) and a translation of the embedding costs no precision
(the Euclidean points are centred before the products). The statement holds
for any of the four metrics (for ``"dot"``, r is a similarity threshold and
G_r = {x_i . x_j > r}).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._kernel import METRICS, to_dissimilarity
from .._serialization import ToDictMixin
from .._validation import check_labels, check_one_of
from ._common import readonly
from ._distances import DistanceBlocks
from ._theorem1 import _adjacency_rows, _recovery, _restrict_to_samples

__all__ = ["RobustTheorem1", "robust_theorem1"]


@dataclass(frozen=True)
class RobustTheorem1(ToDictMixin):
    """The radius vote next to LC, with the finite-sample bounds on their gap.

    Attributes
    ----------
    radius : float
        The radius r of G_r = {d < r} (strict, as :func:`sip_theory.graphs.radius_graph`).
    n_violating_pairs : int
        Pairs that are an edge of exactly one of G and G_r (0: G is realized at r).
    realized : bool
        ``n_violating_pairs == 0``.
    margin : float
        Smallest non-edge distance minus largest edge distance (> 0 iff some
        radius realizes G; +inf when G has no edges or no non-edges).
    n_evaluated : int
        n' = nodes with a G-neighbour (LC's average).
    n_touched : int
        T = evaluated nodes incident to a violating pair.
    n_can_lose, n_can_gain : int
        A and B of the module statement.
    lc, vote_accuracy : float
        LC_G(y) (ties strict, isolated nodes excluded) and the radius-r vote's
        accuracy on the same nodes (NaN when n' = 0).
    lower, upper : float
        -A / n' and B / n': the proved range of ``vote_accuracy - lc``.
    touched_bound : float
        ``T / n' >= |vote_accuracy - lc|``.
    node_violations : ndarray of int
        k_v for every node.
    node_margin : ndarray of int
        m_v for every node (0 for nodes without G-neighbours).
    """

    radius: float
    n_violating_pairs: int
    realized: bool
    margin: float
    n_evaluated: int
    n_touched: int
    n_can_lose: int
    n_can_gain: int
    lc: float
    vote_accuracy: float
    lower: float
    upper: float
    touched_bound: float
    node_violations: np.ndarray
    node_margin: np.ndarray

    @property
    def gap(self) -> float:
        """``vote_accuracy - lc``."""
        return self.vote_accuracy - self.lc

    @property
    def touched_fraction(self) -> float:
        """T / n': the distance from realization the bound charges (0 when realized)."""
        return self.touched_bound

    _to_dict_exclude = ("node_violations", "node_margin")
    _to_dict_extra = ("gap",)


def _margins(votes, codes):
    """Per node: the own-label vote margin m_v = c_v(y_v) - max_{y != y_v} c_v(y)."""
    rows = np.arange(codes.shape[0])
    own = votes[rows, codes].copy()
    votes = votes.copy()
    votes[rows, codes] = np.iinfo(np.int64).min
    other = np.maximum(votes.max(axis=1), 0) if votes.shape[1] > 1 else np.zeros_like(own)
    return own - other


def robust_theorem1(embeddings, graph, labels, *, radius: float | None = None,
                    metric: str = "euclidean", chunk_size: int | None = None) -> RobustTheorem1:
    """Radius vote vs LC with the finite-sample bounds of the module statement.

    Parameters
    ----------
    embeddings : array-like of shape (n_nodes, d)
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
        G_PT; auxiliary nodes are dropped (the vote sees sample nodes only).
    labels : array-like of shape (n_nodes,)
    radius : float, optional
        The radius r of G_r = {d < r} (for ``"dot"`` a similarity threshold). Default:
        the radius with the fewest violating pairs (the recovering radius when there
        is one; :attr:`RecoveryReport.min_violations_radius`).
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
    chunk_size : int, optional
        Rows per distance block (memory ``chunk_size * n`` floats); the result does
        not depend on it.

    Returns
    -------
    RobustTheorem1

    Raises
    ------
    ValueError
        Shapes that do not match, non-finite embeddings, or a radius that is not a
        finite number (>= 0 for a distance; 0 gives the empty radius graph).

    Examples
    --------
    A realization: the identity of Theorem 1.

    >>> import numpy as np
    >>> x = np.array([[0.0], [0.1], [0.2], [5.0], [5.1]])
    >>> res = robust_theorem1(x, [(0, 1), (0, 2), (1, 2), (3, 4)], [0, 0, 1, 1, 1])
    >>> res.realized, res.vote_accuracy == res.lc, res.touched_bound
    (True, True, 0.0)

    One edge missing from the radius graph: the vote moves, inside the bound.

    >>> res = robust_theorem1(x, [(0, 1), (0, 2), (1, 2), (3, 4)], [0, 0, 1, 1, 1], radius=0.15)
    >>> res.n_violating_pairs, res.n_touched, res.lower <= res.gap <= res.upper
    (1, 2, True)
    """
    check_one_of(metric, METRICS, name="metric")
    g, x, labels = _restrict_to_samples(graph, embeddings, labels)
    n = g.n_nodes
    lab = check_labels(labels, n)
    blocks = DistanceBlocks(x, metric=metric, chunk_size=chunk_size)
    if radius is not None:
        bad = isinstance(radius, bool) or not isinstance(radius, (int, float, np.floating,
                                                                   np.integer))
        if bad or not math.isfinite(radius) or (metric != "dot" and not radius >= 0):
            need = "a finite number" if metric == "dot" else "a finite number >= 0"
            raise ValueError(f"radius must be {need}, got {radius!r}")
    return _robust_on_blocks(blocks, g, lab, _recovery(blocks, g), radius)


def _robust_on_blocks(blocks: DistanceBlocks, g, lab, rec, radius) -> RobustTheorem1:
    """The module statement at ``radius`` (user units; None: ``rec.min_violations_radius``),
    one blocked pass over the exact decisions d < r."""
    n = g.n_nodes
    _, codes = np.unique(lab, return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    n_classes = int(codes.max()) + 1 if n else 1
    radius = float(rec.min_violations_radius if radius is None else radius)
    r = to_dissimilarity(radius, blocks.metric)
    onehot = np.eye(n_classes, dtype=np.int64)[codes]
    src = np.repeat(np.arange(n), np.diff(g.indptr))
    votes_g = np.zeros((n, n_classes), dtype=np.int64)
    np.add.at(votes_g, (src[src != g.indices], codes[g.indices[src != g.indices]]), 1)
    votes_r = np.zeros((n, n_classes), dtype=np.int64)
    k = np.zeros(n, dtype=np.int64)
    has_r = np.zeros(n, dtype=bool)
    n_violating = 0
    cols = np.arange(n)
    for rows in blocks.row_blocks():
        within = blocks.exactify(rows, blocks.block(rows), [r]) < r
        local = np.arange(rows.stop - rows.start)
        within[local, local + rows.start] = False  # a node is not its own neighbour
        adj = _adjacency_rows(g, rows, n)
        adj[local, local + rows.start] = False
        viol = adj ^ within
        k[rows] = viol.sum(axis=1)
        n_violating += int((viol & (cols[None, :] > (local + rows.start)[:, None])).sum())
        votes_r[rows] = within.astype(np.int64) @ onehot
        has_r[rows] = within.any(axis=1)
    ev = votes_g.sum(axis=1) > 0  # nodes with a G-neighbour (LC's average)
    margin_g = np.where(ev, _margins(votes_g, codes), 0)
    credit_g = ev & (margin_g >= 1)
    credit_r = ev & has_r & (_margins(votes_r, codes) >= 1)
    can_lose = ev & (margin_g >= 1) & (k >= margin_g)
    can_gain = ev & (margin_g <= 0) & (k >= 1 - margin_g)
    touched = ev & (k >= 1)
    n_ev = int(ev.sum())

    def frac(count):
        return float(count) / n_ev if n_ev else float("nan")

    return RobustTheorem1(
        radius=radius, n_violating_pairs=n_violating, realized=n_violating == 0,
        margin=rec.margin, n_evaluated=n_ev, n_touched=int(touched.sum()),
        n_can_lose=int(can_lose.sum()), n_can_gain=int(can_gain.sum()),
        lc=frac(credit_g.sum()), vote_accuracy=frac(credit_r.sum()),
        lower=-frac(can_lose.sum()), upper=frac(can_gain.sum()),
        touched_bound=frac(touched.sum()),
        node_violations=readonly(k), node_margin=readonly(margin_g))
