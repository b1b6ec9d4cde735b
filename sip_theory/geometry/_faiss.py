"""faiss backends: exact kNN lists (flat indexes) and approximate ones (HNSW, IVF) with recall.

faiss is an optional extra (``pip install 'sip-theory[faiss]'``); every function
here imports it on call and, without it, raises an ImportError naming the extra.

* :func:`faiss_knn` (flat indexes, exact): we search one extra neighbour to drop
  the query itself by index, and re-order each list by (distance, index). Unlike
  the torch engine, ties that straddle the k-th place are resolved by faiss, not
  by index. faiss computes in float32.
* :func:`approximate_knn` (``IndexHNSWFlat`` or ``IndexIVFFlat``): approximate lists
  for n far past 10^5, each returned with its recall measured by
  :func:`measure_recall` against the exact engine on a random subset of queries.
  :func:`measure_recall` needs no faiss: it checks any neighbour list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import torch

from .._kernel import check_metric, exact_dissimilarities, inverse_norms
from .._serialization import ToDictMixin
from .._validation import as_generator, check_embeddings, check_one_of, check_positive_int

__all__ = ["APPROXIMATE_METHODS", "ApproximateNeighbors", "RecallEstimate", "approximate_knn",
           "faiss_knn", "measure_recall"]


def faiss_knn(X: torch.Tensor, k: int, *, metric: str, reference: torch.Tensor | None = None,
              exclude_self: bool = True):
    """Return ``(distances, indices)`` as numpy arrays of shape (n, k)."""
    try:
        import faiss
    except ImportError as exc:
        raise ImportError(
            "backend='faiss' needs the faiss package (pip install 'sip-theory[faiss]' or "
            "pip install faiss-cpu); use backend='torch' otherwise"
        ) from exc
    q = np.ascontiguousarray(X.detach().cpu().numpy(), dtype=np.float32)
    r = q if reference is None else np.ascontiguousarray(
        reference.detach().cpu().numpy(), dtype=np.float32)
    if metric == "cosine":
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        r = q if reference is None else r / np.linalg.norm(r, axis=1, keepdims=True)
    if metric in ("euclidean", "sqeuclidean"):
        index = faiss.IndexFlatL2(r.shape[1])
    else:
        index = faiss.IndexFlatIP(r.shape[1])
    index.add(r)
    extra = 1 if exclude_self else 0
    raw, ind = index.search(q, k + extra)
    dist = _from_faiss(raw, metric)
    ind = np.asarray(ind, dtype=np.int64)
    if exclude_self:
        dist, ind = _drop_self(dist, ind, k)
    order = _order(dist, ind)
    dist = np.take_along_axis(dist, order, 1)
    ind = np.take_along_axis(ind, order, 1)
    dtype = np.float64 if X.dtype == torch.float64 else np.float32
    return dist.astype(dtype), ind


def _order(dist: np.ndarray, ind: np.ndarray) -> np.ndarray:
    """Row-wise permutation sorting by (distance, index)."""
    first = np.argsort(ind, axis=1, kind="stable")
    second = np.argsort(np.take_along_axis(dist, first, 1), axis=1, kind="stable")
    return np.take_along_axis(first, second, 1)


# --------------------------------------------------------------------------- approximate search
APPROXIMATE_METHODS = ("hnsw", "ivf")


def _import_faiss():
    try:
        import faiss
    except ImportError as exc:
        raise ImportError(
            "approximate neighbours need faiss: install the extra with "
            "pip install 'sip-theory[faiss]' (or pip install faiss-cpu); "
            "approximate=None uses the exact engine instead"
        ) from exc
    return faiss


def _drop_self(dist, ind, k, row0=0):
    """Drop each row's own index (rows row0, row0 + 1, ...) from a (n, k + 1) search
    result, or the row's last entry when the index did not return it."""
    n = ind.shape[0]
    is_self = ind == (row0 + np.arange(n))[:, None]
    drop = np.where(is_self.any(1), is_self.argmax(1), k)
    keep = np.ones_like(is_self)
    keep[np.arange(n), drop] = False
    return dist[keep].reshape(n, k), ind[keep].reshape(n, k)


def _from_faiss(raw, metric):
    raw = np.asarray(raw, dtype=np.float64)
    if metric == "euclidean":
        return np.sqrt(np.maximum(raw, 0.0))
    if metric == "sqeuclidean":
        return np.maximum(raw, 0.0)
    if metric == "cosine":
        return np.clip(1.0 - raw, 0.0, 2.0)
    return -raw


@dataclass(frozen=True, eq=False)
class RecallEstimate(ToDictMixin):
    """Recall@k of a neighbour list against exact search on a random subset of queries.

    Attributes
    ----------
    recall : float
        Mean over the sampled queries of the fraction of the k returned neighbours whose
        exact distance is at most the exact k-th nearest distance (a neighbour tied
        with the k-th counts as found).
    half_width : float
        Normal half-width of its ``confidence`` interval (CLT over the sampled queries;
        it covers the sampling of queries, not a change of data).
    k, n_sampled, n_queries : int
        Cut-off, queries checked, queries in all.
    seed : int or None
    confidence : float
    metric : str
    """

    recall: float
    half_width: float
    k: int
    n_sampled: int
    n_queries: int
    seed: object
    confidence: float
    metric: str


def measure_recall(X, indices, *, sample: int = 1000, seed=0, metric: str = "euclidean",
                   confidence: float = 0.95, exact=None) -> RecallEstimate:
    """Recall@k of a self-excluding k-NN list of ``X`` (rows = queries), on a random subset.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    indices : int ndarray of shape (n, k)
        The neighbour lists to check (-1 marks a missing entry: never found).
    sample : int, default 1000
        Queries drawn uniformly without replacement (all when ``sample >= n``).
    seed : int or numpy.random.Generator, default 0
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}
    confidence : float, default 0.95
    exact : callable, optional
        ``exact(rows, k) -> (n_rows, k)`` exact k-th distances reference; default the
        exact engine (:func:`sip_theory.geometry.knn` against ``X``).

    Returns
    -------
    RecallEstimate

    Examples
    --------
    Row 0's list misses its nearest neighbour (1) and holds point 3 instead:

    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.5], [9.0]])
    >>> ind = np.array([[3], [0], [1], [2]])
    >>> r = measure_recall(X, ind, sample=4)
    >>> r.recall, r.n_sampled
    (0.75, 4)
    """
    X = check_embeddings(X)
    metric = check_metric(metric)
    ind = np.asarray(indices)
    n = X.shape[0]
    if ind.ndim != 2 or ind.shape[0] != n or ind.shape[1] < 1:
        raise ValueError(f"indices must have shape (n, k) with n = {n}, got {ind.shape}")
    k = ind.shape[1]
    if k > n - 1:
        raise ValueError(f"indices hold k = {k} neighbours but n - 1 = {n - 1} exist")
    sample = check_positive_int(sample, name="sample")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    rng = as_generator(seed)
    rows = np.arange(n) if sample >= n else np.sort(rng.choice(n, size=sample, replace=False))
    if exact is None:
        kth = _exact_kth(X, rows, k, metric)
    else:
        kth = np.asarray(exact(rows, k), dtype=np.float64)
    got = ind[rows].astype(np.int64)
    valid = (got >= 0) & (got != rows[:, None])
    rr, cc = np.nonzero(valid)
    dist = np.full(got.shape, np.inf)
    dist[rr, cc] = exact_dissimilarities(X, rows[rr], got[rr, cc], metric)
    # distinct found neighbours only: a repeated index counts once
    srt = np.sort(np.where(valid, got, -1 - np.arange(k)[None, :]), axis=1)
    distinct = np.ones_like(valid)
    distinct[:, 1:] = srt[:, 1:] != srt[:, :-1]
    n_distinct_valid = (distinct & (srt >= 0)).sum(1)
    found = np.minimum((dist <= kth[:, None]).sum(1), n_distinct_valid)
    per = found / k
    z = NormalDist().inv_cdf(0.5 + float(confidence) / 2.0)
    hw = 0.0 if rows.size == n else (
        float(z * per.std(ddof=1) / np.sqrt(rows.size)) if rows.size > 1 else float("nan"))
    return RecallEstimate(recall=float(per.mean()), half_width=hw, k=int(k),
                          n_sampled=int(rows.size), n_queries=int(n),
                          seed=None if isinstance(seed, np.random.Generator) else int(seed),
                          confidence=float(confidence), metric=metric)


def _exact_kth(X, rows, k, metric):
    """Exact k-th nearest distance of each query row among the other rows of X (the
    exact engine, with the query itself dropped by index)."""
    from ._queries import knn

    d, i = knn(X[rows], k + 1, reference=X, metric=metric, exclude_self=False)
    d, i = np.asarray(d, dtype=np.float64), np.asarray(i)
    is_self = i == rows[:, None]
    # drop the query itself; when it is not listed (ties at 0), drop the last entry
    drop = np.where(is_self.any(1), is_self.argmax(1), k)
    keep = np.ones_like(is_self)
    keep[np.arange(rows.size), drop] = False
    return d[keep].reshape(rows.size, k)[:, -1]


@dataclass(frozen=True, eq=False)
class ApproximateNeighbors(ToDictMixin):
    """Approximate k nearest neighbours from faiss, with their measured recall.

    Attributes
    ----------
    distances : ndarray (n, k)
        faiss's float32 distances converted to the metric (not the kernel's exact values).
    indices : ndarray (n, k)
        Neighbour indices (the query itself excluded), ordered by (distance, index); -1
        where the index returned fewer than k.
    recall : RecallEstimate
    method : str
    params : dict
        The index parameters used.
    k : int
    metric : str
    """

    distances: np.ndarray = field(repr=False)
    indices: np.ndarray = field(repr=False)
    recall: RecallEstimate
    method: str
    params: dict
    k: int
    metric: str

    _to_dict_exclude = ("distances", "indices")


def approximate_knn(X, k: int, *, method: str = "ivf", metric: str = "euclidean",
                    recall_sample: int = 1000, seed=0, confidence: float = 0.95,
                    nlist: int | None = None, nprobe: int = 8, hnsw_m: int = 32,
                    ef_construction: int = 64, ef_search: int = 64,
                    train_size: int = 100_000, threads: int | None = None,
                    batch: int = 65536) -> ApproximateNeighbors:
    """k nearest neighbours of every row of ``X`` by a faiss HNSW or IVF index, with recall.

    Parameters
    ----------
    X : array-like of shape (n, d)
    k : int
        Neighbours per row (the row itself excluded), ``1 <= k <= n - 1``.
    method : {"ivf", "hnsw"}, default "ivf"
        ``IndexIVFFlat`` (``nlist`` k-means cells trained on ``train_size`` rows drawn
        with ``seed``, ``nprobe`` searched) or ``IndexHNSWFlat`` (``hnsw_m`` links,
        ``ef_construction``, ``ef_search``).
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}
        cosine searches the normalised rows by inner product.
    recall_sample, seed, confidence
        For :func:`measure_recall` against the exact engine.
    nlist : int, optional
        Default ``round(4 sqrt(n))`` clipped to [1, n // 39] (faiss wants 39 training
        points per cell).
    threads : int, optional
        faiss's OpenMP threads (default: faiss's own).
    batch : int
        Query rows searched at once.

    Returns
    -------
    ApproximateNeighbors

    Raises
    ------
    ImportError
        faiss is not installed (the message names the ``faiss`` extra).
    ValueError
        A bad k, method, metric or index parameter.
    """
    method = check_one_of(method, APPROXIMATE_METHODS, name="method")
    metric = check_metric(metric)
    X = check_embeddings(X)
    n, d = X.shape
    k = check_positive_int(k, name="k")
    if k > n - 1:
        raise ValueError(f"k must be <= n_samples - 1 = {n - 1}, got {k}")
    faiss = _import_faiss()
    if threads is not None:
        faiss.omp_set_num_threads(check_positive_int(threads, name="threads"))
    q = np.ascontiguousarray(X, dtype=np.float32)
    if metric == "cosine":
        q = np.ascontiguousarray(q * inverse_norms(X).astype(np.float32)[:, None])
    fm = faiss.METRIC_L2 if metric in ("euclidean", "sqeuclidean") else faiss.METRIC_INNER_PRODUCT
    rng = as_generator(seed)
    if method == "ivf":
        nlist = (max(1, min(int(round(4 * np.sqrt(n))), n // 39)) if nlist is None
                 else check_positive_int(nlist, name="nlist"))
        nprobe = check_positive_int(nprobe, name="nprobe")
        quantizer = faiss.IndexFlatL2(d) if fm == faiss.METRIC_L2 else faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quantizer, d, nlist, fm)
        tr = q if n <= train_size else q[np.sort(rng.choice(n, size=train_size, replace=False))]
        index.cp.seed = int(rng.integers(2**31 - 1))  # faiss's k-means, seeded from ours
        index.train(tr)
        index.nprobe = min(nprobe, nlist)
        params = {"nlist": nlist, "nprobe": int(index.nprobe), "train_size": int(tr.shape[0])}
    else:
        index = faiss.IndexHNSWFlat(d, check_positive_int(hnsw_m, name="hnsw_m"), fm)
        index.hnsw.efConstruction = check_positive_int(ef_construction, name="ef_construction")
        index.hnsw.efSearch = check_positive_int(ef_search, name="ef_search")
        params = {"hnsw_m": int(hnsw_m), "ef_construction": int(ef_construction),
                  "ef_search": int(ef_search)}
    index.add(q)
    dist = np.empty((n, k))
    ind = np.empty((n, k), dtype=np.int64)
    for s in range(0, n, batch):
        raw, got = index.search(q[s:s + batch], k + 1)
        ddd, iii = _drop_self(_from_faiss(raw, metric), np.asarray(got, dtype=np.int64), k, s)
        missing = iii < 0
        ddd[missing] = np.inf
        order = _order(ddd, np.where(missing, np.iinfo(np.int64).max, iii))
        dist[s:s + iii.shape[0]] = np.take_along_axis(ddd, order, 1)
        ind[s:s + iii.shape[0]] = np.take_along_axis(iii, order, 1)
    recall = measure_recall(X, ind, sample=recall_sample, seed=rng, metric=metric,
                            confidence=confidence)
    recall = RecallEstimate(**{**recall.__dict__, "seed": None if isinstance(
        seed, np.random.Generator) else int(seed)})
    return ApproximateNeighbors(distances=dist, indices=ind, recall=recall, method=method,
                                params=params, k=int(k), metric=metric)
