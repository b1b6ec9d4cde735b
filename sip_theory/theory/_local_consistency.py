"""Local consistency LC_G(y): how often a node's label is the majority label of its neighbours.

This is the quantity Theorem 1 of McDermott et al. (2023) promises as a
nearest-neighbour accuracy. The paper leaves ties, isolated nodes, weights and
auxiliary nodes open; here each is a named option (see :func:`local_consistency`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._serialization import ToDictMixin, to_jsonable
from .._validation import check_one_of
from ._common import prepare_labels, readonly

__all__ = ["LocalConsistencyResult", "local_consistency"]

TIE_POLICIES = ("strict", "random")
ISOLATED_POLICIES = ("exclude", "wrong")
VOTE_POLICIES = ("count", "weight")


def majority_credit(n_rows, target, voter_codes, weight, own_codes, n_classes, ties):
    """Credit of each row's own label under a (weighted) majority vote.

    Parameters
    ----------
    n_rows : int
    target : int array (a,)
        Row receiving each vote.
    voter_codes : int array (a,)
        Class code carried by each vote (0..n_classes-1).
    weight : float array (a,)
        Positive weight of each vote.
    own_codes : int array (n_rows,)
        The row's own class code (-1: none, credit 0).
    ties : {"strict", "random"}

    Returns
    -------
    credit : float array (n_rows,)
        1 if the own label is the unique maximum; 1/|argmax| (``"random"``) or 0
        (``"strict"``) if it is one of several maxima; 0 otherwise or with no vote.
    has_vote : bool array (n_rows,)
        Whether the row received any positive vote weight.
    status : int array (n_rows,)
        0 no vote, 1 unique majority, 2 tied majority, 3 own label not a maximum.
    majority : int array (n_rows,)
        Smallest class code among the maxima (-1 with no vote).
    """
    n_classes = max(int(n_classes), 1)
    total = np.zeros(n_rows)
    np.add.at(total, target, weight)
    has_vote = total > 0
    maxv = np.zeros(n_rows)
    n_max = np.zeros(n_rows, dtype=np.int64)
    own = np.zeros(n_rows)
    majority = np.full(n_rows, -1, dtype=np.int64)
    if target.shape[0]:
        key = target.astype(np.int64) * n_classes + voter_codes.astype(np.int64)
        uniq, inverse = np.unique(key, return_inverse=True)
        gsum = np.bincount(inverse.reshape(-1), weights=weight, minlength=uniq.shape[0])
        grow, gcls = uniq // n_classes, uniq % n_classes
        np.maximum.at(maxv, grow, gsum)
        at_max = (gsum == maxv[grow]) & (gsum > 0)
        np.add.at(n_max, grow[at_max], 1)
        # groups are sorted by (row, class), so the first maximum of a row has the smallest class
        first = np.ones(at_max.sum(), dtype=bool)
        rows_at_max = grow[at_max]
        first[1:] = rows_at_max[1:] != rows_at_max[:-1]
        majority[rows_at_max[first]] = gcls[at_max][first]
        mine = gcls == np.where(own_codes[grow] >= 0, own_codes[grow], -1)
        own[grow[mine]] = gsum[mine]
    is_max = has_vote & (own_codes >= 0) & (own == maxv) & (own > 0)
    unique = is_max & (n_max == 1)
    tied = is_max & (n_max > 1)
    credit = unique.astype(np.float64)
    if ties == "random":
        credit[tied] = 1.0 / n_max[tied]
    status = np.where(~has_vote, 0, np.where(unique, 1, np.where(tied, 2, 3)))
    return credit, has_vote, status, majority


@dataclass(frozen=True, eq=False)
class LocalConsistencyResult(ToDictMixin):
    """The value of LC_G(y) with its per-node breakdown.

    Attributes
    ----------
    value : float
        Weighted mean credit over the evaluated nodes (NaN if none is evaluated).
    credit : ndarray of float, shape (n_nodes,)
        Per-node credit in [0, 1] (1: the node's label is the unique majority of
        its neighbours; under ``ties="random"`` 1/k if it is one of k tied
        maxima); NaN for nodes that are not evaluated (auxiliary nodes, and
        isolated nodes under ``isolated="exclude"``).
    evaluated : ndarray of bool, shape (n_nodes,)
        The nodes over which ``value`` averages.
    n_evaluated, n_isolated, n_unique, n_tied, n_wrong : int
        Counts over labelled sample nodes: evaluated; isolated (no voting
        neighbour); own label the unique maximum; own label one of several maxima;
        own label not a maximum (isolated nodes not included).
    ties, isolated, vote, auxiliary : str
        The policies used.
    n_unlabeled : int
        Sample nodes whose label is missing: never evaluated, never voting.
    """

    value: float
    credit: np.ndarray = field(repr=False)
    evaluated: np.ndarray = field(repr=False)
    n_evaluated: int
    n_isolated: int
    n_unique: int
    n_tied: int
    n_wrong: int
    ties: str
    isolated: str
    vote: str
    auxiliary: str
    n_unlabeled: int = 0

    @property
    def correct(self) -> np.ndarray:
        """Boolean mask of nodes with full credit (their label is the unique majority)."""
        return np.nan_to_num(self.credit, nan=0.0) == 1.0

    _to_dict_exclude = ("credit", "evaluated")

    def to_dict(self, *, per_node: bool = False) -> dict:
        """Plain-Python summary (JSON-serialisable); ``per_node=True`` adds the credit list.

        Examples
        --------
        >>> r = local_consistency([(0, 1), (1, 2)], [0, 0, 1])
        >>> r.to_dict()["n_wrong"]
        1
        """
        out = super().to_dict()
        if per_node:
            out["credit"] = to_jsonable(self.credit)
        return out


def _sample_weights(weights, lg, name="weights"):
    n = lg.graph.n_nodes
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64)
    n_samples = int(lg.sample.sum())
    if w.ndim != 1 or w.shape[0] not in (n, n_samples):
        raise ValueError(
            f"{name} must have shape ({n},) or ({n_samples},) (one weight per sample node), "
            f"got {w.shape}"
        )
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise ValueError(f"{name} must be finite and non-negative")
    if w.shape[0] != n:
        full = np.zeros(n)
        full[lg.sample] = w
        w = full
    return w


def local_consistency(
    graph,
    labels,
    *,
    ties: str = "strict",
    isolated: str = "exclude",
    weights=None,
    vote: str = "count",
    auxiliary: str = "exclude",
    missing_label=None,
) -> LocalConsistencyResult:
    """Local consistency LC_G(y) of a labelling with a graph.

    LC_G(y) = P_x[ y(x) = argmax_c sum_{x' ~ x} 1{y(x') = c} ]: the probability,
    over sample nodes x, that x's label is the majority label among its graph
    neighbours (McDermott et al. 2023, the quantity of Theorem 1).

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
        The pre-training graph G_PT. Self-loops never count: a node is not its own neighbour.
    labels : array-like
        One label per node; for a graph with auxiliary nodes also one label per sample node.
    ties : {"strict", "random"}, default "strict"
        ``"strict"``: a node counts as right only if its label is the *unique*
        majority. ``"random"``: the expected credit under uniform tie-breaking,
        1/k when its label is one of k tied maxima.
    isolated : {"exclude", "wrong"}, default "exclude"
        Nodes without a voting neighbour are left out of the average, or count as wrong.
    weights : array-like of shape (n_nodes,) or (n_sample_nodes,), optional
        Non-negative *sample* weights: the distribution of x (default uniform over
        sample nodes). They do not change the votes.
    vote : {"count", "weight"}, default "count"
        ``"count"`` counts neighbours (the paper's definition; the edge weights are
        ignored); ``"weight"`` sums *edge* weights per class. Equal on unweighted graphs.
        Weighted ties are exact float equalities.
    auxiliary : {"exclude", "vote"}, default "exclude"
        Auxiliary (non-sample) nodes, e.g. label nodes, are never evaluated. With
        ``"exclude"`` they also do not vote (they carry no fine-tuning label);
        with ``"vote"`` they vote with the label given to them.
    missing_label : int, float or str, optional
        A value that marks a missing label (e.g. ``-1``). Masked entries, NaN and
        None are always missing (:func:`sip_theory._validation.known_labels`). A
        node with a missing label stays in the graph, but it is never evaluated
        and, having no label, never votes (as an auxiliary node under
        ``"exclude"``).

    Returns
    -------
    LocalConsistencyResult
        ``value`` and the per-node ``credit``; ``value`` is NaN when no node is evaluated.

    Raises
    ------
    ValueError
        Unknown policy names, labels or weights of the wrong length, negative weights.

    Notes
    -----
    With credit c_x in [0, 1] and sample weights s_x,

    .. math:: \\mathrm{LC} = \\sum_{x \\in V_e} s_x c_x / \\sum_{x \\in V_e} s_x,

    where V_e is the set of evaluated sample nodes. LC differs from node
    homophily (the mean *fraction* of same-label neighbours): a node with 3 of 5
    neighbours in its class scores 1 here and 0.6 there. An auxiliary-node
    graph (e.g. samples linked to task-label nodes) whose samples have no sample
    neighbours has LC = NaN under ``auxiliary="exclude"``; project it onto the
    samples first (two samples linked when they share a label node) to analyse it.

    Reference: McDermott, Yap, Szolovits, Zitnik, "Structure-inducing
    pre-training", Nature Machine Intelligence 5 (2023), Theorem 1.

    Examples
    --------
    >>> edges = [(0, 1), (1, 2), (2, 0), (2, 3)]
    >>> r = local_consistency(edges, [0, 0, 0, 1])
    >>> float(r.value), r.n_wrong
    (0.75, 1)
    >>> float(local_consistency([(0, 1), (0, 2)], [0, 0, 1], ties="random").value)
    0.5

    Node 3's label is missing: node 2 is then voted by nodes 0 and 1 alone.

    >>> r = local_consistency(edges, [0, 0, 0, -1], missing_label=-1)
    >>> float(r.value), r.n_evaluated, r.n_unlabeled
    (1.0, 3, 1)
    """
    check_one_of(ties, TIE_POLICIES, name="ties")
    check_one_of(isolated, ISOLATED_POLICIES, name="isolated")
    check_one_of(vote, VOTE_POLICIES, name="vote")
    lg = prepare_labels(graph, labels, auxiliary=auxiliary, missing_label=missing_label,
                        allow_missing=True)
    n = lg.graph.n_nodes
    s = _sample_weights(weights, lg)
    target, source, w = lg.arcs(voters=auxiliary, weighted=(vote == "weight"))
    credit, has_vote, status, _ = majority_credit(
        n, target, lg.codes[source], w, lg.codes, lg.n_classes, ties
    )
    sample = lg.labelled
    iso = sample & ~has_vote
    evaluated = sample.copy()
    if isolated == "exclude":
        evaluated &= has_vote
    credit = np.where(evaluated, credit, np.nan)
    denom = float(s[evaluated].sum())
    value = float(np.dot(s[evaluated], credit[evaluated]) / denom) if denom > 0 else float("nan")
    return LocalConsistencyResult(
        value=value,
        credit=readonly(credit),
        evaluated=readonly(evaluated),
        n_evaluated=int(evaluated.sum()),
        n_isolated=int(iso.sum()),
        n_unique=int((sample & (status == 1)).sum()),
        n_tied=int((sample & (status == 2)).sum()),
        n_wrong=int((sample & (status == 3)).sum()),
        ties=ties,
        isolated=isolated,
        vote=vote,
        auxiliary=auxiliary,
        n_unlabeled=int((lg.sample & (lg.codes < 0)).sum()),
    )
