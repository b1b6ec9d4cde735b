"""Held-out evaluation of the Cora case study: rank held-out edges, vote for held-out papers.

* :func:`heldout_link_retrieval` (:class:`HeldoutRetrievalResult`): link retrieval
  of held-out edges with the known edges (e.g. the pre-training graph) removed
  from the candidates, the "filtered" link-prediction protocol;
* ``_knn_split``: the paper's distance-weighted k-NN vote of a set of papers
  among another set only (the planetoid split's test papers among its training
  papers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ._summary_tools import finite

__all__ = ["HeldoutRetrievalResult", "heldout_link_retrieval"]


@dataclass(frozen=True, eq=False)
class HeldoutRetrievalResult:
    """Ranking of held-out edges among the candidates left after excluding known edges.

    Attributes
    ----------
    lrap, ndcg, mrr : float
        Means over the query nodes (every node with a held-out edge).
    ap_micro : float
        Average precision of the held-out edges among all candidate node pairs.
    precision_at, recall_at : dict[int, float]
    n_queries, n_heldout_edges, n_excluded_edges : int
    metric : str
    per_node : dict[str, ndarray]
        ``lrap``, ``ndcg``, ``reciprocal_rank`` per query node (NaN elsewhere).
    """

    lrap: float
    ndcg: float
    ap_micro: float
    mrr: float
    precision_at: dict
    recall_at: dict
    n_queries: int
    n_heldout_edges: int
    n_excluded_edges: int
    metric: str
    per_node: dict = field(repr=False, default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-friendly summary (NaN -> None).

        Examples
        --------
        >>> import numpy as np
        >>> r = heldout_link_retrieval(np.array([[0.0], [1.0], [5.0]]), [(0, 1)], ks=(1,))
        >>> r.to_dict()["lrap"], r.to_dict()["recall_at"]
        (1.0, {'1': 1.0})
        """
        return {
            "lrap": finite(self.lrap),
            "ndcg": finite(self.ndcg),
            "ap_micro": finite(self.ap_micro),
            "mrr": finite(self.mrr),
            "precision_at": {str(k): finite(v) for k, v in self.precision_at.items()},
            "recall_at": {str(k): finite(v) for k, v in self.recall_at.items()},
            "n_queries": self.n_queries,
            "n_heldout_edges": self.n_heldout_edges,
            "n_excluded_edges": self.n_excluded_edges,
            "metric": self.metric,
        }


def _as_array(embeddings) -> np.ndarray:
    try:
        import torch

        if isinstance(embeddings, torch.Tensor):
            embeddings = embeddings.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be 2-D (n, d), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("embeddings must be finite")
    return x


def heldout_link_retrieval(
    embeddings,
    heldout,
    *,
    known=None,
    ks: Sequence[int] = (1, 10, 50),
    metric: str = "euclidean",
    chunk_size: int | None = None,
) -> HeldoutRetrievalResult:
    """Link retrieval of held-out edges, with the known edges removed from the candidates.

    For every node i with a held-out edge, rank all other nodes except i's
    *known* neighbours by distance to i; the relevant ones are i's held-out
    neighbours. This is the "filtered" link-prediction protocol: a training
    citation is not counted against the model for being close.

    Parameters
    ----------
    embeddings : array-like or torch.Tensor of shape (n, d)
    heldout : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array
        The held-out edges (the relevant items).
    known : same types, optional
        Edges excluded from the candidates (e.g. the pre-training graph); must
        share no edge with ``heldout``.
    ks : sequence of int, default (1, 10, 50)
        Cut-offs for P@k and R@k.
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
    chunk_size : int, optional
        Query rows per distance block.

    Returns
    -------
    HeldoutRetrievalResult

    Raises
    ------
    ValueError
        Non-finite embeddings, graphs with another node count, an edge both held
        out and known, a k out of range, no held-out edge.

    Notes
    -----
    With candidates C(i) = V minus i and its known neighbours, relevant set
    R(i) (held-out neighbours), rank(j) = #{l in C(i) : d(i, l) <= d(i, j)} and
    L(j) = #{j' in R(i) : d(i, j') <= d(i, j)}, the per-node scores are those of
    :func:`sip_theory.geometry.link_retrieval` computed over C(i): LRAP_i =
    mean_j L(j) / rank(j) (pessimistic ties, as scikit-learn); nDCG with the gain
    of tied distances spread over their positions; RR_i = 1 / (1 + #closer
    candidates + #non-relevant candidates tied with the nearest relevant one);
    P@k and R@k over the k nearest candidates ordered by (distance, index). Micro
    AP ranks every candidate pair {i, j} (not known, i != j) by distance, relevant
    = held out. With ``known=None`` and ``heldout`` the whole graph, every number
    equals :func:`~sip_theory.geometry.link_retrieval`'s.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> r = heldout_link_retrieval(X, [(0, 2)], known=[(0, 1), (1, 2)], ks=(1,))
    >>> r.lrap, r.recall_at[1]
    (1.0, 1.0)
    >>> float(heldout_link_retrieval(X, [(0, 2)], ks=(1,)).lrap)
    0.5
    """
    from ..geometry import iter_distance_blocks
    from ..graphs import SampleGraph, as_sample_graph

    x = _as_array(embeddings)
    n = x.shape[0]
    h = as_sample_graph(heldout, n_nodes=n, name="heldout")
    kg = (SampleGraph.from_edges(np.zeros((0, 2), dtype=np.int64), n_nodes=n) if known is None
          else as_sample_graph(known, n_nodes=n, name="known"))
    if h.n_edges == 0:
        raise ValueError("heldout must have at least one edge")
    both = h.to_scipy().multiply(kg.to_scipy())
    if both.nnz:
        raise ValueError(f"heldout and known share {both.nnz // 2} edge(s); an edge cannot be "
                         "both relevant and excluded")
    ks = tuple(int(k) for k in ks)
    if any(k < 1 or k > n - 1 for k in ks):
        raise ValueError(f"ks must be integers in [1, {n - 1}], got {ks}")
    kmax = max(ks, default=1)

    deg_h = np.diff(h.indptr)
    queries = np.flatnonzero(deg_h > 0)
    cd = np.zeros(n + 1)
    cd[1:] = np.cumsum(1.0 / np.log2(np.arange(2, n + 2, dtype=np.float64)))
    per = {k: np.full(n, np.nan) for k in ("lrap", "ndcg", "reciprocal_rank")}
    hits = np.zeros((queries.size, kmax))
    # micro AP: held-out edge distances (thresholds) and pair counts below each
    he = h.edges()
    he_dist = np.empty(he.shape[0])
    pair_le = np.zeros(he.shape[0])
    edge_row = {}  # query node -> positions of its held-out edges (as the smaller endpoint)
    for pos, (a, _) in enumerate(he):
        edge_row.setdefault(int(a), []).append(pos)
    he_sorted = None
    block_rows = []
    for r0, r1, block in iter_distance_blocks(x, metric=metric, chunk_size=chunk_size,
                                              device="cpu", dtype="float64"):
        D = block.numpy().copy()
        rows = np.arange(r0, r1)
        # exclude self (already +inf) and the known neighbours
        for t, i in enumerate(rows):
            D[t, kg.indices[kg.indptr[i]:kg.indptr[i + 1]]] = np.inf
        block_rows.append((r0, r1))
        for t, i in enumerate(rows):
            for pos in edge_row.get(int(i), ()):
                he_dist[pos] = D[t, he[pos, 1]]
        # upper-triangle candidate pairs of this block, for micro AP (counted below)
        tri = D.copy()
        tri[np.arange(r1 - r0)[:, None] >= (np.arange(n)[None, :] - r0)] = np.inf
        if he_sorted is None:
            he_sorted = []
        he_sorted.append(np.sort(tri[np.isfinite(tri)]))
        qmask = deg_h[rows] > 0
        for t in np.flatnonzero(qmask):
            i = rows[t]
            d = D[t]
            rel = h.indices[h.indptr[i]:h.indptr[i + 1]]
            drel = d[rel]
            ds = np.sort(d)
            r_le = np.searchsorted(ds, drel, side="right").astype(np.float64)
            r_lt = np.searchsorted(ds, drel, side="left").astype(np.float64)
            srel = np.sort(drel)
            L = np.searchsorted(srel, drel, side="right")
            per["lrap"][i] = float(np.mean(L / r_le))
            gain = (cd[r_le.astype(np.int64)] - cd[r_lt.astype(np.int64)]) / (r_le - r_lt)
            per["ndcg"][i] = float(gain.sum() / cd[rel.size])
            dmin = srel[0]
            n_rel_tied = int(np.searchsorted(srel, dmin, side="right"))
            n_le = int(np.searchsorted(ds, dmin, side="right"))
            per["reciprocal_rank"][i] = 1.0 / (n_le - n_rel_tied + 1)
            top = np.argsort(d, kind="stable")[:kmax]
            q = int(np.searchsorted(queries, i))
            hits[q] = np.isin(top, rel)
    pairs = np.concatenate(he_sorted) if he_sorted else np.zeros(0)
    pairs.sort()
    pair_le = np.searchsorted(pairs, he_dist, side="right").astype(np.float64)
    tp_le = np.searchsorted(np.sort(he_dist), he_dist, side="right")
    ap_micro = float(np.mean(tp_le / pair_le))
    cum = np.cumsum(hits, axis=1)
    deg_q = deg_h[queries].astype(np.float64)
    prec = {k: float(np.mean(cum[:, k - 1] / k)) for k in ks}
    rec = {k: float(np.mean(cum[:, k - 1] / deg_q)) for k in ks}
    return HeldoutRetrievalResult(
        lrap=float(np.nanmean(per["lrap"][queries])),
        ndcg=float(np.nanmean(per["ndcg"][queries])),
        ap_micro=ap_micro,
        mrr=float(np.nanmean(per["reciprocal_rank"][queries])),
        precision_at=prec,
        recall_at=rec,
        n_queries=int(queries.size),
        n_heldout_edges=int(h.n_edges),
        n_excluded_edges=int(kg.n_edges),
        metric=metric,
        per_node=per,
    )


def _knn_split(emb, labels, ref_index, query_index, *, k, metric, n_classes):
    """The paper's distance-weighted k-NN vote of ``query_index`` among ``ref_index`` only."""
    from ..geometry import knn, macro_ovr_auroc, vote_proportions

    dist, idx = knn(emb[query_index], k, reference=emb[ref_index], metric=metric,
                    exclude_self=False)
    proba = vote_proportions(np.asarray(dist, dtype=np.float64),
                             labels[ref_index][np.asarray(idx)], n_classes, "distance")
    y = labels[query_index]
    return {"accuracy": float((proba.argmax(1) == y).mean()),
            "auroc": finite(macro_ovr_auroc(y, proba))}
