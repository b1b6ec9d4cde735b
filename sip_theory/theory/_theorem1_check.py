"""Theorem 1 checked on finite data: the hypothesis, both sides of the identity, and the
finite-sample bound on their gap when the hypothesis fails.

:func:`check_theorem1` runs one exact blocked pass for the recovery report (is the
radius graph of the embeddings G?), one for the radius vote, and one for the robust
statement of :mod:`._robust` (how far the vote can be from LC, charged to the nodes
that violating pairs touch), all on the same kernel-exact distances.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._serialization import ToDictMixin
from .._validation import check_labels, check_one_of
from ._distances import METRICS, DistanceBlocks
from ._local_consistency import ISOLATED_POLICIES, TIE_POLICIES, local_consistency
from ._robust import RobustTheorem1, _robust_on_blocks
from ._theorem1 import RadiusMajorityVote, RecoveryReport, _recovery, _restrict_to_samples

__all__ = ["Theorem1Check", "check_theorem1"]


# --------------------------------------------------------------------------- Theorem 1
@dataclass(frozen=True)
class Theorem1Check(ToDictMixin):
    """Both sides of Theorem 1's identity and its hypothesis, for one embedding.

    Attributes
    ----------
    recovery : RecoveryReport
        The hypothesis: whether the radius graph of the embeddings equals G.
    radius : float
        The radius used by the vote (the recovering radius if realized, else the best-F1 one).
    local_consistency : float
        LC_G(y) over the sample nodes (the prediction).
    rnn_accuracy : float
        Leave-one-out accuracy of the radius majority vote at ``radius`` (the measurement).
    identity_holds : bool or None
        Whether the two are equal (to 1e-12); None when the hypothesis fails
        (then the theorem says nothing and the numbers are reported for reference).
    ties, isolated, metric : str
    robust : RobustTheorem1
        Off the premise: the vote at ``radius`` next to LC with the proved range of
        their gap, -A/n' <= vote - LC <= B/n' and ``|vote - LC| <= T/n'`` (T: nodes touched
        by a violating pair). It uses the statement's own conventions (ties strict, a
        node without a radius neighbour counts as wrong, n' = nodes with a G-neighbour),
        so its ``vote_accuracy`` equals ``rnn_accuracy`` only under those policies.
    """

    recovery: RecoveryReport
    radius: float
    local_consistency: float
    rnn_accuracy: float
    identity_holds: bool | None
    ties: str
    isolated: str
    metric: str
    robust: RobustTheorem1

    @property
    def realized(self) -> bool:
        """Shortcut for ``recovery.realized``."""
        return self.recovery.realized


def check_theorem1(
    embeddings,
    graph,
    labels,
    *,
    metric: str = "euclidean",
    ties: str = "strict",
    isolated: str = "exclude",
    chunk_size: int | None = None,
) -> Theorem1Check:
    """Check Theorem 1 on finite data: recovery margin, r*-NN accuracy and LC side by side.

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, d)
        Pre-training embeddings (one row per sample node, or per node).
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
        G_PT; auxiliary nodes are dropped (the classifier sees samples only).
    labels : array-like
        Fine-tuning labels of the sample nodes (or of all nodes).
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
    ties : {"strict", "random"}, default "strict"
    isolated : {"exclude", "wrong"}, default "exclude"
        The same policies are used for LC and for the classifier.
    chunk_size : int, optional

    Returns
    -------
    Theorem1Check

    Notes
    -----
    If the radius-r* graph of the embeddings is G, the points strictly within r* of
    a pre-training point are exactly its graph neighbours, so the radius vote
    (leaving the point itself out) and the neighbourhood majority of LC count the
    same votes: the accuracy *equals* LC_G(y) (McDermott et al. 2023, Theorem 1,
    whose asymptotic statement is a lower bound on fresh data). When the graph is
    not realized, the vote runs at the best-F1 radius and ``identity_holds`` is None;
    ``robust`` then says how far the vote can be from LC at that radius.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [0.1], [0.2], [5.0], [5.1]])
    >>> edges = [(0, 1), (0, 2), (1, 2), (3, 4)]
    >>> chk = check_theorem1(x, edges, [0, 0, 1, 1, 1])
    >>> chk.realized, chk.identity_holds, round(chk.rnn_accuracy, 4)
    (True, True, 0.4)
    >>> chk.robust.touched_bound  # realized: no node is charged
    0.0

    Off the premise (the two clusters touch), the gap stays inside the proved range:

    >>> far = check_theorem1(np.array([[0.0], [0.1], [0.2], [0.3], [0.4]]), edges,
    ...                      [0, 0, 1, 1, 1])
    >>> far.realized, far.robust.lower <= far.robust.gap <= far.robust.upper
    (False, True)
    """
    check_one_of(ties, TIE_POLICIES, name="ties")
    check_one_of(isolated, ISOLATED_POLICIES, name="isolated")
    check_one_of(metric, METRICS, name="metric")
    g, x, labels = _restrict_to_samples(graph, embeddings, labels)
    lab = check_labels(labels, g.n_nodes)
    blocks = DistanceBlocks(x, metric=metric, chunk_size=chunk_size)
    rec = _recovery(blocks, g)
    lc = local_consistency(g, lab, ties=ties, isolated=isolated).value
    clf = RadiusMajorityVote(rec.radius, metric=metric, ties=ties, chunk_size=chunk_size)
    clf._blocks = blocks
    clf._classes, codes = np.unique(lab, return_inverse=True)
    clf._codes = codes.reshape(-1).astype(np.int64)
    acc = clf.score(isolated=isolated).value
    if rec.realized:
        both_nan = math.isnan(lc) and math.isnan(acc)
        holds = bool(both_nan or abs(lc - acc) <= 1e-12)
    else:
        holds = None
    robust = _robust_on_blocks(blocks, g, lab, rec, rec.radius)
    return Theorem1Check(rec, rec.radius, lc, acc, holds, ties, isolated, metric, robust)
