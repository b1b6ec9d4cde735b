"""The estimated geometry report: every metric at n far past 10^5, each with its error.

:func:`estimated_geometry_report` replaces the O(n^2) sweep of
:func:`~sip_theory.geometry.geometry_report` by:

* sampled link retrieval (:func:`~sip_theory.geometry.sampled_link_retrieval`):
  OGB MRR and Hits@k, node and edge AUROC, sampled LRAP, each with a CI;
* k nearest neighbours from faiss (``approximate="ivf"`` or ``"hnsw"``), with the
  recall measured against the exact engine on a random subset of queries, or
  exact (``approximate=None``, the exact engine: O(n^2 d));
* the k-NN label vote (default 3-NN, distance weights as in
  :func:`~sip_theory.geometry.knn_probe`) from those neighbours: exact given the
  lists, so its only error is theirs (the recall is reported with it);
* LC of the labels on the graph (:func:`sip_theory.theory.local_consistency`, exact);
* uniformity and RankMe on a uniform random subset of ``spread_sample`` rows: the
  values *of that subset* (uniformity of a subset is an unbiased estimate of the
  population mean potential's U-statistic before the log; the log makes it a
  consistent estimate), stated with the subset size.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .._serialization import ToDictMixin
from .._validation import as_generator, check_embeddings, check_positive_int
from ..graphs import as_sample_graph
from ._common import label_codes
from ._faiss import RecallEstimate, approximate_knn
from ._probes import vote_proportions
from ._sampled import SampledRetrievalResult, sampled_link_retrieval

__all__ = ["EstimatedGeometryReport", "estimated_geometry_report"]


@dataclass(frozen=True, eq=False)
class EstimatedGeometryReport(ToDictMixin):
    """Estimated geometry of a large embedding; each estimate carries its CI or its recall.

    Attributes
    ----------
    n_samples, n_features : int
    metric : str
    seed : int or None
    retrieval : SampledRetrievalResult or None
        None without a graph.
    neighbors : str
        ``"ivf"``, ``"hnsw"`` (faiss, approximate) or ``"exact"``.
    k : int
        Neighbours searched per sample.
    recall : RecallEstimate or None
        Of the approximate lists (None when exact).
    knn_accuracy : float or None
        Vote of the ``vote_k`` nearest labelled samples in each list, over the labelled
        samples (None without labels).
    vote_k : int
    n_unlabeled : int
        Samples without a label: no vote of theirs is scored, none votes.
    n_short_votes : int
        Labelled samples with fewer than ``vote_k`` labelled samples in their list (they
        vote with those there are; none: not counted right).
    lc : float or None
        LC_G(y) (strict ties, isolated nodes excluded), exact.
    uniformity, rankme : float or None
        Of a random subset of ``spread_sample`` rows (None when skipped); uniformity
        (on normalised rows) leaves the subset's all-zero rows out.
    spread_sample : int
    n_spread_zero_rows : int
        All-zero rows of the subset, left out of uniformity.
    settings : dict
        The options used.
    timings : dict
        Seconds per stage.
    index_params : dict
        faiss's index parameters (empty when exact).
    """

    n_samples: int
    n_features: int
    metric: str
    seed: object
    retrieval: SampledRetrievalResult | None
    neighbors: str
    k: int
    recall: RecallEstimate | None
    knn_accuracy: float | None
    vote_k: int
    n_unlabeled: int
    n_short_votes: int
    lc: float | None
    uniformity: float | None
    rankme: float | None
    spread_sample: int
    n_spread_zero_rows: int
    settings: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    index_params: dict = field(default_factory=dict)


def _vote(dist, ind, codes, n_classes, vote_k):
    """Distance-weighted vote of the first ``vote_k`` labelled entries of each list."""
    lab = np.where(ind >= 0, codes[np.maximum(ind, 0)], -1)
    ok = lab >= 0
    rank = np.cumsum(ok, axis=1)
    use = ok & (rank <= vote_k)
    n_used = use.sum(1)
    b = ind.shape[0]
    # gather the used entries into (b, vote_k), padding with an unused class column
    pos = np.where(use, rank - 1, vote_k)
    d = np.full((b, vote_k + 1), np.inf)
    c = np.full((b, vote_k + 1), n_classes, dtype=np.int64)
    rr = np.repeat(np.arange(b), ind.shape[1])
    d[rr, pos.ravel()] = np.where(use, dist, np.inf).ravel()
    c[rr, pos.ravel()] = np.where(use, lab, n_classes).ravel()
    d, c = d[:, :vote_k], c[:, :vote_k]
    has = n_used > 0
    pred = np.full(b, -1, dtype=np.int64)
    if has.any():
        dd = np.where(np.isinf(d[has]), 1e300, d[has])  # a missing vote weighs ~0
        proba = vote_proportions(dd, c[has], n_classes + 1)[:, :n_classes]
        pred[has] = proba.argmax(1)
    return pred, n_used


def estimated_geometry_report(
    embeddings,
    graph=None,
    labels=None,
    *,
    approximate: str | None = "hnsw",
    k: int = 10,
    vote_k: int = 3,
    num_negatives: int = 100,
    n_queries: int | None = 10_000,
    n_pairs: int = 100_000,
    recall_sample: int = 1000,
    spread_sample: int = 10_000,
    metric: str = "euclidean",
    missing_label=None,
    confidence: float = 0.95,
    seed=0,
    threads: int | None = None,
    index_options: dict | None = None,
) -> EstimatedGeometryReport:
    """Geometry report for large n: sampled retrieval, approximate k-NN with recall, LC, spread.

    Parameters
    ----------
    embeddings : array-like of shape (n, d)
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array, optional
        Retrieval and LC need it (skipped without).
    labels : array-like of length n, optional
        The k-NN vote and LC need them; missing labels (NaN, None, masked or
        ``missing_label``) neither vote nor are scored, and are counted.
    approximate : {"hnsw", "ivf"} or None, default "hnsw"
        faiss index of :func:`~sip_theory.geometry.approximate_knn` (the ``faiss`` extra);
        None: the exact engine, O(n^2 d). HNSW's cost grows as about n log n, IVF's
        (``nlist`` = 4 sqrt(n) cells) as n^1.5: at n = 10^5, d = 128 on 2 cores we measured
        recall@10 0.90 for HNSW (defaults), 0.39 for IVF with ``nprobe`` 8 and 0.84 with 32.
    k : int, default 10
        Neighbours searched (the vote uses the first ``vote_k`` labelled ones).
    vote_k : int, default 3
    num_negatives, n_queries, n_pairs
        Of :func:`~sip_theory.geometry.sampled_link_retrieval`.
    recall_sample : int, default 1000
        Queries on which the approximate lists are checked against exact search.
    spread_sample : int, default 10000
        Rows for uniformity and RankMe (0 skips them).
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}
    missing_label : optional
    confidence : float, default 0.95
    seed : int or numpy.random.Generator, default 0
        One stream for every sample drawn.
    threads : int, optional
        faiss's threads.
    index_options : dict, optional
        More keywords of :func:`~sip_theory.geometry.approximate_knn` (``nlist``,
        ``nprobe``, ``hnsw_m``, ``ef_search`` ...).

    Returns
    -------
    EstimatedGeometryReport

    Raises
    ------
    ImportError
        ``approximate`` set and faiss missing (the message names the extra).
    ValueError
        Bad options, as in the functions it calls.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> r = estimated_geometry_report(X, [(0, 1), (1, 2), (3, 4), (4, 5)], [0, 0, 0, 1, 1, 1],
    ...                               approximate=None, k=2, vote_k=2, spread_sample=0)
    >>> r.knn_accuracy, r.lc, r.retrieval.mrr, r.recall is None
    (1.0, 1.0, 1.0, True)
    """
    from .. import theory
    from ._queries import knn
    from ._spread import rankme, uniformity

    if hasattr(embeddings, "detach"):
        embeddings = embeddings.detach().cpu().numpy()
    X = check_embeddings(embeddings)
    n, d = X.shape
    k = check_positive_int(k, name="k")
    if k > n - 1:
        raise ValueError(f"k must be <= n_samples - 1 = {n - 1}, got {k}")
    vote_k = check_positive_int(vote_k, name="vote_k")
    if vote_k > k:
        raise ValueError(f"vote_k must be <= k = {k}, got {vote_k}")
    spread_sample = check_positive_int(spread_sample, name="spread_sample", minimum=0)
    if approximate not in (None, "ivf", "hnsw"):
        raise ValueError(f"approximate must be one of ('ivf', 'hnsw', None), got {approximate!r}")
    rng = as_generator(seed)
    seed_out = None if isinstance(seed, np.random.Generator) else int(seed)
    g = None if graph is None else as_sample_graph(graph, n_nodes=n, name="graph")
    codes = None
    if labels is not None:
        classes, codes = label_codes(labels, n, missing_label=missing_label)
    timings = {}

    t = time.perf_counter()
    retrieval = None
    if g is not None:
        retrieval = sampled_link_retrieval(X, g, num_negatives=num_negatives, n_queries=n_queries,
                                           n_pairs=n_pairs, metric=metric,
                                           confidence=confidence, seed=rng)
    timings["retrieval"] = time.perf_counter() - t

    t = time.perf_counter()
    recall, params = None, {}
    if approximate is None:
        dist, ind = knn(X, k, metric=metric)
        dist, ind = np.asarray(dist, dtype=np.float64), np.asarray(ind)
    else:
        ap = approximate_knn(X, k, method=approximate, metric=metric,
                             recall_sample=recall_sample, seed=rng, confidence=confidence,
                             threads=threads, **(index_options or {}))
        dist, ind, recall, params = ap.distances, ap.indices, ap.recall, ap.params
    timings["neighbors"] = time.perf_counter() - t

    t = time.perf_counter()
    acc, n_unl, n_short = None, 0, 0
    if codes is not None:
        known = codes >= 0
        n_unl = int((~known).sum())
        pred, used = _vote(dist[known], ind[known], codes, int(classes.size), vote_k)
        n_short = int((used < vote_k).sum())
        acc = float(np.mean(pred == codes[known])) if known.any() else float("nan")
    timings["vote"] = time.perf_counter() - t

    t = time.perf_counter()
    lc = None
    if g is not None and codes is not None:
        lab = np.where(codes >= 0, codes, -1)
        lc = float(theory.local_consistency(g, lab, missing_label=-1).value)
    timings["lc"] = time.perf_counter() - t

    t = time.perf_counter()
    uni = rk = None
    n_zero = 0
    s = min(spread_sample, n)
    if s >= 2:
        rows = np.sort(rng.choice(n, size=s, replace=False))
        sub = X[rows]
        nonzero = np.einsum("ij,ij->i", sub, sub) > 0  # normalised rows: zero ones have none
        n_zero = int((~nonzero).sum())
        uni = float(uniformity(sub[nonzero])) if nonzero.sum() >= 2 else float("nan")
        rk = float(rankme(sub))
    timings["spread"] = time.perf_counter() - t
    settings = {"approximate": approximate, "k": k, "vote_k": vote_k,
                "num_negatives": int(num_negatives), "n_queries": n_queries,
                "n_pairs": int(n_pairs), "recall_sample": int(recall_sample),
                "spread_sample": int(spread_sample), "confidence": float(confidence),
                "missing_label": missing_label, "index_options": dict(index_options or {})}
    return EstimatedGeometryReport(
        n_samples=int(n), n_features=int(d), metric=metric, seed=seed_out,
        retrieval=retrieval, neighbors="exact" if approximate is None else approximate, k=k,
        recall=recall, knn_accuracy=acc, vote_k=vote_k, n_unlabeled=n_unl,
        n_short_votes=n_short, lc=lc, uniformity=uni, rankme=rk, spread_sample=s,
        n_spread_zero_rows=n_zero,
        settings=settings, timings=timings, index_params=params)
