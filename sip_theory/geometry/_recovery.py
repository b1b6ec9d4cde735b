"""Graph recovery: can a radius (or kNN) graph of the embedding reproduce G?

Theorem 1's setting (McDermott et al. 2023) asks for an embedding whose
radius graph {(i, j) : d(i, j) < r} is G itself. These metrics measure how far
an embedding is from that: the recovery margin (positive iff some radius
recovers G exactly), the best F1 over radii, the AUROC of "small distance
means edge" over all pairs, and the precision and recall of the kNN graph.
All are exact over the n(n-1)/2 pairs, from counts gathered block by block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._kernel import from_dissimilarity
from .._validation import check_one_of, check_positive_int
from ..theory import RecoveryReport
from ..theory._theorem1 import _radius_below, _realized_radius
from ._arrays import like_input
from ._common import engine_options, get_neighbors, prepare

__all__ = [
    "GraphRecoveryResult",
    "best_f1_radius",
    "edge_auroc",
    "graph_recovery",
    "knn_graph_precision_recall",
    "recovery_margin",
]

KNN_MODES = ("union", "mutual", "directed")



@dataclass(frozen=True)
class GraphRecoveryResult(RecoveryReport):
    """Theory's recovery report of G, plus the ranking scores of its pairs and its kNN graph.

    The fields shared with :class:`sip_theory.theory.RecoveryReport` (``metric``,
    ``n_pairs``, ``n_edges``, ``max_linked``, ``min_unlinked``, ``margin``, ``realized``,
    ``radius``, ``min_violations``, ``min_violations_radius``, ``best_f1``,
    ``best_f1_radius``) mean the same and take the same values, from the kernel's
    exact distances, with one difference: when G is not realized, the two radii
    here are the smallest float above the chosen edge distance, where theory's are
    gap midpoints. Both are strict (``radius_graph(embeddings, r)`` rebuilds the graph
    they describe); the midpoint would need the next distance above each threshold,
    one more exact pass over the pairs. For ``metric="dot"`` distances are negative
    inner products and radii are similarity thresholds, as in ``radius_graph``.

    Attributes
    ----------
    precision, recall : float
        Of the best-F1 radius graph against G (NaN without edges).
    auroc : float
        P(d(edge) < d(non-edge)) + P(tie) / 2 over all pairs.
    average_precision : float
        Micro AP of pairs ranked by increasing distance (= link_retrieval's ``ap_micro``).
    knn_precision, knn_recall : float or None
        Of the kNN graph (``knn_k`` neighbours, ``knn_mode``) against G.
    knn_k : int or None
    knn_mode : str
    """

    precision: float
    recall: float
    auroc: float
    average_precision: float
    knn_precision: float | None
    knn_recall: float | None
    knn_k: int | None
    knn_mode: str


def _pair_summary(nb, g, metric: str) -> dict:
    """Every field of the report that comes from the exact pair counts, radii in the
    user's convention."""
    e, p = nb.edges, nb.pairs
    m = g.n_edges
    n_neg = p.n_pairs - m
    max_linked = float(e.distance.max()) if e.distance.size else -np.inf
    min_unlinked = float(e.min_nonedge.min()) if e.min_nonedge.size else np.inf
    margin = min_unlinked - max_linked
    out = {"max_linked": max_linked, "min_unlinked": min_unlinked, "margin": margin,
           "realized": bool(margin > 0) or m == 0}
    T = p.thresholds
    if m:
        tp_le = np.searchsorted(T, T, side="right").astype(np.float64)
        neg_le = p.n_le - tp_le
        f1 = 2.0 * tp_le / (p.n_le + m)
        best = int(np.argmax(f1))
        out.update(best_f1=float(f1[best]), precision=float(tp_le[best] / p.n_le[best]),
                   recall=float(tp_le[best] / m),
                   average_precision=float(np.mean(tp_le / p.n_le)))
        auroc = float("nan")
        if n_neg:
            tp_lt = np.searchsorted(T, T, side="left").astype(np.float64)
            neg_lt = p.n_lt - tp_lt
            auroc = float(np.sum((n_neg - neg_le) + 0.5 * (neg_le - neg_lt))
                          / (m * float(n_neg)))
        out["auroc"] = auroc
    else:
        out.update(best_f1=1.0, precision=float("nan"), recall=float("nan"),
                   average_precision=float("nan"), auroc=float("nan"))
    if out["realized"]:
        r = _realized_radius(max_linked, min_unlinked, m, metric)
        out.update(radius=r, min_violations=0, min_violations_radius=r, best_f1_radius=r)
        return out
    # {d <= T} = {d < nextafter(T)}: the strict convention of radius_graph
    def above(t: float) -> float:
        return from_dissimilarity(float(np.nextafter(t, np.inf)), metric)

    best_r = above(T[best])
    violations = (m - tp_le) + neg_le
    kv = int(np.argmin(violations))
    if violations[kv] < m:
        min_viol, viol_r = int(violations[kv]), above(T[kv])
    else:  # predict no link at all: m violations
        lowest = min(float(T[0]), min_unlinked)
        min_viol, viol_r = m, from_dissimilarity(_radius_below(lowest, metric), metric)
    out.update(radius=best_r, min_violations=min_viol, min_violations_radius=viol_r,
               best_f1_radius=best_r)
    return out


def _knn_pr(nb, g, k: int, mode: str):
    n = g.n_nodes
    keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(g.indptr)) * n + g.indices
    ind = nb.indices[:, :k]
    src = np.repeat(np.arange(n, dtype=np.int64), k)
    dst = ind.reshape(-1)
    if mode == "directed":
        q = src * n + dst
        pos = np.minimum(np.searchsorted(keys, q), max(keys.size - 1, 0))
        hit = (keys[pos] == q) if keys.size else np.zeros(q.shape, bool)
        tp = int(hit.sum())
        prec = tp / q.size
        rec = tp / keys.size if keys.size else float("nan")
        return prec, rec
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    uniq, counts = np.unique(lo * n + hi, return_counts=True)
    if mode == "mutual":
        uniq = uniq[counts == 2]
    up = keys[(keys // n) < (keys % n)]
    tp = int(np.isin(uniq, up).sum())
    prec = tp / uniq.size if uniq.size else float("nan")
    rec = tp / up.size if up.size else float("nan")
    return prec, rec


def graph_recovery(
    embeddings,
    graph,
    *,
    knn_k: int | None = None,
    knn_mode: str = "union",
    metric: str | None = None,
    neighbors=None,
    **engine,
) -> GraphRecoveryResult:
    """Theory's recovery report from the engine, with AUROC, AP and kNN-graph P/R.

    Parameters
    ----------
    embeddings : array-like or torch.Tensor of shape (n, d)
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array
    knn_k : int, optional
        Also score the kNN graph with this many neighbours (default: the
        rounded mean degree of G, at least 1).
    knn_mode : {"union", "mutual", "directed"}, default "union"
        kNN graph: symmetrised by union or by mutual selection, or the n*k
        directed pairs (recall then counts each edge in both directions).
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, optional
    neighbors : Neighbors, optional
        From :func:`compute_neighbors` with this graph (and ``pairs=True``).
    **engine
        ``device``, ``dtype``, ``chunk_size``, ``memory_budget``, ``progress``, ``distributed``.

    Returns
    -------
    GraphRecoveryResult
        Its :class:`~sip_theory.theory.RecoveryReport` fields equal
        :func:`sip_theory.theory.recovery_margin`'s, radii of a non-realized graph
        aside (see :class:`GraphRecoveryResult`).

    Notes
    -----
    margin = min_{(i,j) not in E} d(i,j) - max_{(i,j) in E} d(i,j). The F1 of
    the radius graph {d <= r} is maximal at some edge distance r (between two
    edge distances only false positives are added), so scanning the m edge
    distances with the number of pairs at or below each is exact; the radius is
    reported in the strict convention, just above that edge distance. AUROC is the
    Mann-Whitney statistic of -d with edges as positives over all pairs
    (scikit-learn's ``roc_auc_score`` on the flattened upper triangle).
    Invariances: margin and radius are equivariant (they scale with the
    embedding); F1, precision, recall, AUROC, AP and the kNN scores are
    invariant under sample permutation, rotation, translation and isotropic
    scaling.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.5], [6.0]])
    >>> r = graph_recovery(X, [(0, 1), (1, 2)])
    >>> r.margin, r.realized, r.radius, r.auroc
    (1.0, True, 2.0, 1.0)
    >>> from sip_theory.graphs import radius_graph
    >>> radius_graph(X, r.radius).edges().tolist()
    [[0, 1], [1, 2]]
    """
    engine = engine_options(engine)
    from ..graphs import as_sample_graph

    X = prepare(embeddings, device=engine.get("device"), dtype=engine.get("dtype"))
    n = int(X.shape[0])
    g = as_sample_graph(graph, n_nodes=n, name="graph")
    check_one_of(knn_mode, KNN_MODES, name="knn_mode")
    if knn_k is None:
        knn_k = max(1, int(round(2 * g.n_edges / n)))
        knn_k = min(knn_k, n - 1)
    knn_k = check_positive_int(knn_k, name="knn_k")
    if knn_k > n - 1:
        raise ValueError(f"knn_k must be <= n_samples - 1 = {n - 1}, got {knn_k}")
    nb, metric = get_neighbors(X, neighbors=neighbors, metric=metric, k=knn_k, graph=g,
                               need_edges=True, need_pairs=True, engine=engine)
    kp, kr = _knn_pr(nb, g, knn_k, knn_mode)
    return GraphRecoveryResult(
        metric=metric, n_pairs=n * (n - 1) // 2, n_edges=g.n_edges,
        **_pair_summary(nb, g, metric),
        knn_precision=float(kp), knn_recall=float(kr), knn_k=knn_k, knn_mode=knn_mode,
    )


def recovery_margin(embeddings, graph, *, metric=None, neighbors=None, **engine):
    """min non-edge distance - max edge distance (> 0 iff a radius graph equals G).

    The ``margin`` field of :class:`~sip_theory.theory.RecoveryReport`, alone. See
    :func:`graph_recovery`. This returns the margin only, from the chunked torch
    engine (scales to large n, CPU or GPU); :func:`sip_theory.theory.recovery_margin`
    returns the full exact-recovery report (minimum violating pairs over all radii,
    best-F1 radius) used by the Theorem 1 check.

    Examples
    --------
    >>> import numpy as np
    >>> float(recovery_margin(np.array([[0.0], [1.0], [5.0], [6.0]]), [(0, 1), (2, 3)]))
    3.0
    """
    from ..graphs import as_sample_graph

    engine = engine_options(engine)
    X = prepare(embeddings, device=engine.get("device"), dtype=engine.get("dtype"))
    g = as_sample_graph(graph, n_nodes=int(X.shape[0]), name="graph")
    nb, _ = get_neighbors(X, neighbors=neighbors, metric=metric, k=1, graph=g,
                          need_edges=True, engine=engine)
    e = nb.edges
    max_edge = float(e.distance.max()) if e.distance.size else -np.inf
    return like_input(float(e.min_nonedge.min()) - max_edge, embeddings)


def edge_auroc(embeddings, graph, *, metric=None, neighbors=None, **engine):
    """AUROC of "small distance means edge" over all n(n-1)/2 pairs; see :func:`graph_recovery`.

    Examples
    --------
    >>> import numpy as np
    >>> float(edge_auroc(np.array([[0.0], [1.0], [5.0], [6.0]]), [(0, 2)]))
    0.3
    """
    r = graph_recovery(embeddings, graph, knn_k=1, metric=metric, neighbors=neighbors,
                       **engine)
    return like_input(r.auroc, embeddings)


def best_f1_radius(embeddings, graph, *, metric=None, neighbors=None, **engine) -> dict:
    """The radius whose graph {d < r} has the best F1 against G, with its precision and recall.

    Returns a dict ``{"radius", "f1", "precision", "recall"}`` of floats.

    Examples
    --------
    >>> import numpy as np
    >>> best_f1_radius(np.array([[0.0], [1.0], [5.0], [6.0]]), [(0, 1), (2, 3)])
    {'radius': 2.5, 'f1': 1.0, 'precision': 1.0, 'recall': 1.0}
    """
    r = graph_recovery(embeddings, graph, knn_k=1, metric=metric, neighbors=neighbors,
                       **engine)
    return {"radius": r.best_f1_radius, "f1": r.best_f1, "precision": r.precision,
            "recall": r.recall}


def knn_graph_precision_recall(embeddings, graph, *, k: int = 5, mode: str = "union",
                               metric=None, neighbors=None, **engine) -> dict:
    """Precision and recall of the embedding's kNN graph against G.

    Returns ``{"precision", "recall"}``; see :func:`graph_recovery` for ``mode``.

    Examples
    --------
    >>> import numpy as np
    >>> knn_graph_precision_recall(np.array([[0.0], [1.0], [5.0], [6.0]]), [(0, 1), (2, 3)], k=1)
    {'precision': 1.0, 'recall': 1.0}
    """
    from ..graphs import as_sample_graph

    engine = engine_options(engine)
    check_one_of(mode, KNN_MODES, name="mode")
    X = prepare(embeddings, device=engine.get("device"), dtype=engine.get("dtype"))
    n = int(X.shape[0])
    g = as_sample_graph(graph, n_nodes=n, name="graph")
    k = check_positive_int(k, name="k")
    if k > n - 1:
        raise ValueError(f"k must be <= n_samples - 1 = {n - 1}, got {k}")
    nb, _ = get_neighbors(X, neighbors=neighbors, metric=metric, k=k, engine=engine)
    prec, rec = _knn_pr(nb, g, k, mode)
    return {"precision": float(prec), "recall": float(rec)}
