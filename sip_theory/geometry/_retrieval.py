"""Link retrieval: rank every other sample by distance; the relevant ones are the graph neighbours.

This is the paper's protocol for choosing lambda_SI without fine-tuning labels
(McDermott et al. 2023, "Structure-inducing pre-training", real-data
experiments): embed every node, rank all *other* nodes by distance, call a
node relevant when it is linked. Each metric is computed per query row from
the rank of each neighbour in that row, which the engine finds by sorting one
block of rows at a time, so no n x n matrix is ever held.

Ties between distances follow scikit-learn: LRAP uses the pessimistic ("max")
rank, nDCG averages the gain over each group of tied scores
(McSherry & Najork 2008), AP counts every pair tied with a threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._serialization import ToDictMixin
from ..graphs import as_sample_graph
from ._arrays import like_input
from ._common import check_isolated, engine_options, get_neighbors, prepare

__all__ = [
    "LinkRetrievalResult",
    "link_average_precision",
    "link_lrap",
    "link_mrr",
    "link_ndcg",
    "link_precision_at_k",
    "link_recall_at_k",
    "link_retrieval",
]



@dataclass(frozen=True, eq=False)
class LinkRetrievalResult(ToDictMixin):
    """Link-retrieval scores of an embedding against a graph.

    Attributes
    ----------
    lrap, ndcg, mrr : float
        Means over the query nodes (see ``isolated``) of the per-node values.
    ap_micro : float
        Average precision over all n(n-1)/2 pairs ranked by distance (micro AP).
    precision_at, recall_at : dict[int, float]
        P@k and R@k for each requested k.
    n_queries : int
        Nodes averaged over.
    n_isolated : int
        Nodes without a graph neighbour.
    isolated, metric : str
        Policies used.
    per_node : dict[str, ndarray]
        ``lrap``, ``ndcg``, ``reciprocal_rank`` per node (NaN for isolated nodes).
    curve_k, curve_precision, curve_recall : ndarray
        P@k and R@k for k = 1..K (K = the number of neighbours available).
    """

    lrap: float
    ndcg: float
    ap_micro: float
    mrr: float
    precision_at: dict
    recall_at: dict
    n_queries: int
    n_isolated: int
    isolated: str
    metric: str
    per_node: dict = field(repr=False, default_factory=dict)
    curve_k: np.ndarray = field(repr=False, default=None)
    curve_precision: np.ndarray = field(repr=False, default=None)
    curve_recall: np.ndarray = field(repr=False, default=None)

    _to_dict_exclude = ("per_node", "curve_k", "curve_precision", "curve_recall")


def _discount_cumsum(n: int) -> np.ndarray:
    """cd[r] = sum_{s=1..r} 1 / log2(s + 1), with cd[0] = 0."""
    out = np.zeros(n + 1)
    out[1:] = np.cumsum(1.0 / np.log2(np.arange(2, n + 2, dtype=np.float64)))
    return out


def _per_node(nb, n: int) -> dict:
    e = nb.edges
    deg = np.diff(e.indptr)
    rows = np.repeat(np.arange(n), deg)
    d, r_lt, r_le = e.distance, e.rank_lt.astype(np.float64), e.rank_le.astype(np.float64)
    has = deg > 0
    out = {k: np.full(n, np.nan) for k in ("lrap", "ndcg", "reciprocal_rank")}
    if rows.size == 0:
        return out
    # L = number of this row's neighbours at distance <= d (max-rank among the positives)
    order = np.lexsort((d, rows))
    rs, ds = rows[order], d[order]
    new = np.ones(rs.shape[0], dtype=bool)
    new[1:] = (rs[1:] != rs[:-1]) | (ds[1:] != ds[:-1])
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:] - 1, rs.shape[0] - 1]
    last = ends[np.cumsum(new) - 1]
    L = np.empty(rs.shape[0])
    L[order] = last - e.indptr[rs] + 1
    degf = deg[has].astype(np.float64)
    out["lrap"][has] = np.bincount(rows, weights=L / r_le, minlength=n)[has] / degf
    cd = _discount_cumsum(n)
    gain = (cd[e.rank_le] - cd[e.rank_lt]) / (r_le - r_lt)
    out["ndcg"][has] = np.bincount(rows, weights=gain, minlength=n)[has] / cd[deg[has]]
    # rank of the nearest neighbour: every point strictly closer, plus the non-neighbours
    # tied with it (ties broken against the neighbour, but not among neighbours)
    first = e.indptr[:-1][has]  # sorted position of each row's nearest neighbour
    n_tied_pos = last[first] - first + 1
    rank_first = r_le[order][first] - n_tied_pos + 1
    out["reciprocal_rank"][has] = 1.0 / rank_first
    return out


def _hits(nb, n: int) -> np.ndarray:
    """(n, K) bool: is the j-th nearest neighbour of i a graph neighbour of i."""
    e = nb.edges
    keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(e.indptr)) * n + e.indices
    q = np.arange(n, dtype=np.int64)[:, None] * n + nb.indices
    if keys.size == 0:
        return np.zeros(q.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(keys, q), keys.size - 1)
    return keys[pos] == q


def _aggregate(values: np.ndarray, has: np.ndarray, isolated: str) -> float:
    if isolated == "exclude":
        v = values[has]
        return float(v.mean()) if v.size else float("nan")
    fill = 0.0 if isolated == "zero" else 1.0
    return float(np.where(has, values, fill).mean())


def _micro_ap(nb) -> float:
    p = nb.pairs
    if p.thresholds.size == 0:
        return float("nan")
    tp_le = np.searchsorted(p.thresholds, p.thresholds, side="right")
    return float(np.mean(tp_le / p.n_le))


def link_retrieval(
    embeddings,
    graph,
    *,
    ks=(1, 5, 10),
    metric: str | None = None,
    isolated: str = "exclude",
    micro_ap: bool = True,
    exclude=None,
    neighbors=None,
    **engine,
) -> LinkRetrievalResult:
    """Link retrieval as the paper defines it: LRAP, nDCG, micro AP, MRR, P@k, R@k.

    Parameters
    ----------
    embeddings : array-like or torch.Tensor of shape (n, d)
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array
        Relevant items of query i = its graph neighbours (weights ignored).
    ks : sequence of int, default (1, 5, 10)
        Cut-offs for P@k and R@k (each 1 <= k < n).
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, optional
        Default: that of ``neighbors``, else ``"euclidean"`` (the paper's).
    isolated : {"exclude", "zero", "one"}, default "exclude"
        Per-node scores of nodes without a neighbour are undefined: leave them out
        of the means, or count them as 0 or 1. scikit-learn's LRAP counts them as
        1 and its nDCG as 0. Micro AP always ranks all pairs.
    micro_ap : bool, default True
        Compute micro AP, which needs counts over all n(n-1)/2 pairs (one more sort
        of all pair distances); ``False`` leaves ``ap_micro`` NaN.
    exclude : same types as ``graph``, optional
        Known links removed from the candidates (the "filtered" protocol of link
        prediction): to score held-out edges, pass them as ``graph`` and the
        training edges as ``exclude``, so a training link is not counted against
        the model for being close. Every score is then computed over the
        candidates alone (ranks, the k nearest, micro AP's pairs). Must share no
        edge with ``graph``. Masked inside the sweep: memory stays ``O(n k + m + |exclude|)``.
    neighbors : Neighbors, optional
        From :func:`compute_neighbors` with this graph, this ``exclude`` and
        ``k >= max(ks)``.
    **engine
        ``device``, ``dtype``, ``chunk_size``, ``memory_budget``, ``progress``,
        ``distributed`` as in :func:`compute_neighbors`.

    Returns
    -------
    LinkRetrievalResult

    Raises
    ------
    ValueError
        A graph with another node count, a k out of range, ``exclude`` sharing an
        edge with ``graph``, neighbours computed for another embedding, graph,
        exclude or metric.

    Notes
    -----
    For query i with neighbour set N(i) (``deg_i = |N(i)|``) and candidates C(i) (every
    l != i not excluded for i), let rank(j) = #{l in C(i) : d(i, l) <= d(i, j)} and
    L(j) = #{j' in N(i) : d(i, j') <= d(i, j)}.

    * LRAP_i = (1/deg_i) sum_{j in N(i)} L(j) / rank(j) (equal to the per-query AP);
    * nDCG_i = DCG_i / IDCG_i with discount 1/log2(1 + position), the gain of a
      group of tied distances spread evenly over its positions, IDCG_i = sum_{r<=deg_i} 1/log2(1+r);
    * RR_i = 1 / rank of the nearest neighbour j*, counting every point closer than
      j* and every non-neighbour at the same distance (MRR is the mean of RR_i);
    * ``P@k_i = |kNN_k(i) & N(i)| / k`` and ``R@k_i = |kNN_k(i) & N(i)| / deg_i`` with kNN
      ordered by (distance, index);
    * micro AP ranks all n(n-1)/2 candidate pairs by distance, relevant = linked:
      AP = (1/m) sum_{edges e} TP(<= d_e) / #pairs(<= d_e).

    Invariances (Euclidean metric): sample permutation (with the graph permuted
    alike), rotation, translation, isotropic scaling, and any increasing
    transform of the distances; not anisotropic scaling.

    Reference: McDermott et al., "Structure-inducing pre-training", Nature
    Machine Intelligence 5 (2023); scikit-learn's
    ``label_ranking_average_precision_score``, ``ndcg_score``, ``average_precision_score``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [3.0], [4.0]])
    >>> r = link_retrieval(X, [(0, 2), (1, 3)], ks=(1, 2))
    >>> round(r.lrap, 4), round(r.mrr, 4), r.precision_at
    (0.4167, 0.4167, {1: 0.0, 2: 0.25})

    Held-out edge (0, 2) among the candidates left once links (0, 1), (1, 2) are known:

    >>> X = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> link_retrieval(X, [(0, 2)], ks=(1,)).lrap
    0.5
    >>> link_retrieval(X, [(0, 2)], exclude=[(0, 1), (1, 2)], ks=(1,)).lrap
    1.0
    """
    engine = engine_options(engine)
    X = prepare(embeddings, device=engine.get("device"), dtype=engine.get("dtype"))
    n = int(X.shape[0])
    g = as_sample_graph(graph, n_nodes=n, name="graph")
    ex = None if exclude is None else as_sample_graph(exclude, n_nodes=n, name="exclude")
    isolated = check_isolated(isolated)
    ks = tuple(int(k) for k in ks)
    if any(k < 1 or k > n - 1 for k in ks):
        raise ValueError(f"ks must be integers in [1, {n - 1}], got {ks}")
    kmax = max(ks, default=1)
    nb, metric = get_neighbors(X, neighbors=neighbors, metric=metric, k=kmax, graph=g,
                               need_edges=True, need_pairs=bool(micro_ap), exclude=ex,
                               engine=engine)
    per = _per_node(nb, n)
    deg = np.diff(nb.edges.indptr)
    has = deg > 0
    hits = _hits(nb, n)
    cum = np.cumsum(hits, axis=1)
    kk = np.arange(1, nb.k + 1)
    prec_rows = cum / kk
    rec_rows = np.where(has[:, None], cum / np.maximum(deg, 1)[:, None], np.nan)
    curve_p = np.array([_aggregate(prec_rows[:, j], has, isolated) for j in range(nb.k)])
    curve_r = np.array([_aggregate(rec_rows[:, j], has, isolated) for j in range(nb.k)])
    return LinkRetrievalResult(
        lrap=_aggregate(per["lrap"], has, isolated),
        ndcg=_aggregate(per["ndcg"], has, isolated),
        ap_micro=_micro_ap(nb) if micro_ap else float("nan"),
        mrr=_aggregate(per["reciprocal_rank"], has, isolated),
        precision_at={k: float(curve_p[k - 1]) for k in ks},
        recall_at={k: float(curve_r[k - 1]) for k in ks},
        n_queries=int(has.sum()) if isolated == "exclude" else n,
        n_isolated=int((~has).sum()),
        isolated=isolated,
        metric=metric,
        per_node=per,
        curve_k=kk,
        curve_precision=curve_p,
        curve_recall=curve_r,
    )


def _scalar(embeddings, graph, key, *, k=None, metric=None, isolated="exclude",
            neighbors=None, engine=None):
    ks = (k,) if k is not None else (1,)
    r = link_retrieval(embeddings, graph, ks=ks, metric=metric, isolated=isolated,
                       micro_ap=(key == "ap_micro"), neighbors=neighbors, **(engine or {}))
    value = getattr(r, key) if k is None else getattr(r, key)[k]
    return like_input(value, embeddings)


def link_lrap(embeddings, graph, *, metric=None, isolated="exclude", neighbors=None, **engine):
    """Label-ranking average precision of graph neighbours among all other samples.

    See :func:`link_retrieval` for the definition, options and invariances.
    numpy in -> ``numpy.float64`` out; torch in -> 0-d tensor out.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(link_lrap(np.array([[0.0], [1.0], [3.0], [4.0]]), [(0, 2), (1, 3)])), 4)
    0.4167
    """
    return _scalar(embeddings, graph, "lrap", metric=metric, isolated=isolated,
                   neighbors=neighbors, engine=engine)


def link_ndcg(embeddings, graph, *, metric=None, isolated="exclude", neighbors=None, **engine):
    """nDCG over full rows (all other samples ranked), relevant = graph neighbour.

    See :func:`link_retrieval`.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(link_ndcg(np.array([[0.0], [1.0], [3.0], [4.0]]), [(0, 2), (1, 3)])), 4)
    0.5655
    """
    return _scalar(embeddings, graph, "ndcg", metric=metric, isolated=isolated,
                   neighbors=neighbors, engine=engine)


def link_mrr(embeddings, graph, *, metric=None, isolated="exclude", neighbors=None, **engine):
    """Mean reciprocal rank of the nearest graph neighbour (non-neighbour ties counted first).

    See :func:`link_retrieval`.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(link_mrr(np.array([[0.0], [1.0], [3.0], [4.0]]), [(0, 2), (1, 3)])), 4)
    0.4167
    """
    return _scalar(embeddings, graph, "mrr", metric=metric, isolated=isolated,
                   neighbors=neighbors, engine=engine)


def link_average_precision(embeddings, graph, *, metric=None, neighbors=None, **engine):
    """Micro average precision: all n(n-1)/2 pairs ranked by distance, relevant = linked.

    Equal to scikit-learn's ``average_precision_score`` on the flattened
    off-diagonal matrices. See :func:`link_retrieval`.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(link_average_precision(np.array([[0.0], [1.0], [3.0], [4.0]]),
    ...                                    [(0, 2), (1, 3)])), 4)
    0.4
    """
    return _scalar(embeddings, graph, "ap_micro", metric=metric, neighbors=neighbors,
                   engine=engine)


def link_precision_at_k(embeddings, graph, k: int = 10, *, metric=None, isolated="exclude",
                        neighbors=None, **engine):
    """Mean fraction of the k nearest samples that are graph neighbours (P@k).

    See :func:`link_retrieval`.

    Examples
    --------
    >>> import numpy as np
    >>> float(link_precision_at_k(np.array([[0.0], [1.0], [3.0], [4.0]]), [(0, 2), (1, 3)], 2))
    0.25
    """
    return _scalar(embeddings, graph, "precision_at", k=int(k), metric=metric,
                   isolated=isolated, neighbors=neighbors, engine=engine)


def link_recall_at_k(embeddings, graph, k: int = 10, *, metric=None, isolated="exclude",
                     neighbors=None, **engine):
    """Mean fraction of each node's graph neighbours among its k nearest samples (R@k).

    See :func:`link_retrieval`.

    Examples
    --------
    >>> import numpy as np
    >>> float(link_recall_at_k(np.array([[0.0], [1.0], [3.0], [4.0]]), [(0, 2), (1, 3)], 2))
    0.5
    """
    return _scalar(embeddings, graph, "recall_at", k=int(k), metric=metric,
                   isolated=isolated, neighbors=neighbors, engine=engine)
