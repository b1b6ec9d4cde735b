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

The distances are computed exactly pair by pair (differences, not a Gram
expansion), in float64, so a translation of the embedding changes them only by
the rounding of the translated input itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._serialization import ToDictMixin
from .._validation import check_labels
from ._common import readonly
from ._theorem1 import _restrict_to_samples

__all__ = ["RobustTheorem1", "pairwise_euclidean", "robust_theorem1"]

#: Largest number of sample nodes :func:`robust_theorem1` accepts (dense n x n distances).
MAX_NODES = 5_000


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
        T / n' >= |vote_accuracy - lc|.
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


def pairwise_euclidean(x) -> np.ndarray:
    """Exact pairwise Euclidean distances in float64, from coordinate differences.

    Examples
    --------
    >>> pairwise_euclidean([[0.0, 0.0], [3.0, 4.0]])
    array([[0., 5.],
           [5., 0.]])
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    out = np.empty((n, n), dtype=np.float64)
    step = max(1, 2 ** 22 // max(1, n * max(1, x.shape[1])))
    for s in range(0, n, step):
        diff = x[s:s + step, None, :] - x[None, :, :]
        out[s:s + step] = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    return out


def _midpoint(lo: float, hi: float) -> float:
    """A radius r with lo < r <= hi, so that {d < r} = {d <= lo} when no distance lies between."""
    r = lo + 0.5 * (hi - lo)
    return r if lo < r <= hi else hi


def _min_violation_radius(dist, adj):
    """The radius with fewest violating pairs (the smallest such radius on ties)."""
    n = dist.shape[0]
    iu = np.triu_indices(n, 1)
    d = dist[iu]
    e = adj[iu]
    m = int(e.sum())
    if d.size == 0:
        return 1.0
    order = np.argsort(d, kind="stable")
    d, e = d[order], e[order]
    # group boundaries: after index k the prefix holds every pair with d <= d[k]
    last = np.flatnonzero(np.r_[d[1:] != d[:-1], True])
    tp = np.cumsum(e)[last]
    fp = (last + 1) - tp
    viol = fp + (m - tp)
    k = int(np.argmin(viol))
    if m <= viol[k]:  # the empty radius graph is at least as good
        return float(d[0]) * 0.5 if d[0] > 0 else 0.0
    hi = float(d[last[k] + 1]) if last[k] + 1 < d.size else float(d[last[k]]) * 2 + 1.0
    return _midpoint(float(d[last[k]]), hi)


def _credits(adj, codes, n_classes):
    """Per node: own-label vote margin m_v and whether it has a neighbour."""
    votes = adj.astype(np.int64) @ np.eye(n_classes, dtype=np.int64)[codes]
    own = votes[np.arange(len(codes)), codes]
    votes[np.arange(len(codes)), codes] = np.iinfo(np.int64).min
    other = np.maximum(votes.max(axis=1), 0)  # 0 when there is no other label
    return own - other, adj.any(axis=1)


def robust_theorem1(embeddings, graph, labels, *, radius: float | None = None) -> RobustTheorem1:
    """Radius vote vs LC with the finite-sample bounds of the module statement.

    Parameters
    ----------
    embeddings : array-like of shape (n_nodes, d)
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
        G_PT; auxiliary nodes are dropped (the vote sees sample nodes only).
    labels : array-like of shape (n_nodes,)
    radius : float, optional
        The radius r of G_r = {d < r}. Default: the radius with the fewest
        violating pairs (a realizing radius when there is one).

    Returns
    -------
    RobustTheorem1

    Raises
    ------
    ValueError
        Shapes that do not match, non-finite embeddings, more than
        :data:`MAX_NODES` sample nodes, or a radius that is not a finite number > 0.

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
    g, x, labels = _restrict_to_samples(graph, embeddings, labels)
    n = g.n_nodes
    if n > MAX_NODES:
        raise ValueError(f"graph has {n} sample nodes; robust_theorem1 is dense and takes at "
                         f"most {MAX_NODES}")
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError("embeddings must be finite")
    lab = check_labels(labels, n)
    _, codes = np.unique(lab, return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    n_classes = int(codes.max()) + 1 if n else 1
    adj = g.to_dense() != 0
    np.fill_diagonal(adj, False)
    dist = pairwise_euclidean(x)
    if radius is None:
        radius = _min_violation_radius(dist, adj)
    elif isinstance(radius, bool) or not np.isfinite(radius) or not radius > 0:
        raise ValueError(f"radius must be a finite number > 0, got {radius!r}")
    radius = float(radius)
    adj_r = dist < radius
    np.fill_diagonal(adj_r, False)
    viol = adj ^ adj_r
    k = viol.sum(axis=1).astype(np.int64)
    margin_g, has_g = _credits(adj, codes, n_classes)
    margin_r, _ = _credits(adj_r, codes, n_classes)
    ev = has_g
    n_ev = int(ev.sum())
    credit_g = (margin_g >= 1) & ev
    credit_r = (margin_r >= 1) & adj_r.any(axis=1) & ev
    can_lose = ev & (margin_g >= 1) & (k >= margin_g)
    can_gain = ev & (margin_g <= 0) & (k >= 1 - margin_g)
    touched = ev & (k >= 1)
    nan = float("nan")
    iu = np.triu_indices(n, 1)
    d_e, d_ne = dist[iu][adj[iu]], dist[iu][~adj[iu]]
    max_e = float(d_e.max()) if d_e.size else -math.inf
    min_ne = float(d_ne.min()) if d_ne.size else math.inf
    def frac(count):
        return float(count) / n_ev if n_ev else nan

    return RobustTheorem1(
        radius=radius, n_violating_pairs=int(np.triu(viol, 1).sum()),
        realized=bool(not viol.any()), margin=min_ne - max_e, n_evaluated=n_ev,
        n_touched=int(touched.sum()), n_can_lose=int(can_lose.sum()),
        n_can_gain=int(can_gain.sum()), lc=frac(credit_g.sum()),
        vote_accuracy=frac(credit_r.sum()), lower=-frac(can_lose.sum()),
        upper=frac(can_gain.sum()), touched_bound=frac(touched.sum()),
        node_violations=readonly(k), node_margin=readonly(np.where(ev, margin_g, 0)))
