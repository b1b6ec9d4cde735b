"""The :class:`Neighbors` object: one exact sweep whose summaries every metric accepts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .._kernel import PairSpace
from .._validation import check_one_of, check_positive_int
from ._arrays import (
    DEFAULT_MEMORY_BUDGET,
    as_tensor2d,
    fingerprint,
    parse_memory,
    single_thread_if_small,
)
from ._distributed import resolve_comm
from ._engine import (
    _KNN,
    BACKENDS,
    _check_metric,
    _chunk,
    _Consumer,
    _EdgeRanks,
    _faiss_available,
    _PairCounts,
    _sweep,
    _Uniformity,
    cpu_workers,
)

__all__ = ["EdgeStats", "Neighbors", "PairStats", "compute_neighbors"]

# smallest pair buffer (values); tests lower it to force many flushes
_MIN_PAIR_CAPACITY = 1 << 16


@dataclass(frozen=True, eq=False)
class EdgeStats:
    """Per graph-neighbour statistics from one sweep (graph in CSR order, both directions).

    Attributes
    ----------
    indptr, indices : ndarray
        The graph's CSR structure (row i's neighbours are ``indices[indptr[i]:indptr[i+1]]``).
    distance : ndarray, shape (2m,)
        Distance of each (row, neighbour) entry, computed from the coordinates.
    rank_lt, rank_le : ndarray of int64, shape (2m,)
        Number of *other* points strictly closer to / at most as close to the row
        as this neighbour (the neighbour itself is counted in ``rank_le``).
    min_nonedge : ndarray, shape (n,)
        Smallest distance from each row to a point that is not its neighbour
        (``inf`` when every other point is a neighbour).
    """

    indptr: np.ndarray = field(repr=False)
    indices: np.ndarray = field(repr=False)
    distance: np.ndarray = field(repr=False)
    rank_lt: np.ndarray = field(repr=False)
    rank_le: np.ndarray = field(repr=False)
    min_nonedge: np.ndarray = field(repr=False)

    @property
    def degrees(self) -> np.ndarray:
        return np.diff(self.indptr)


@dataclass(frozen=True, eq=False)
class PairStats:
    """Counts over all candidate unordered pairs at each edge distance (from one sweep).

    The candidates are the n(n-1)/2 pairs, less those of ``exclude``.

    Attributes
    ----------
    thresholds : ndarray, shape (m,)
        Distances of the m graph edges, sorted ascending.
    n_le, n_lt : ndarray of int64, shape (m,)
        Number of unordered pairs (edges included) at distance <= / < each threshold.
    n_pairs : int
        Number of candidate pairs: n(n-1)/2 less the excluded pairs.
    hist_edges : ndarray or None
        Bin edges of the all-pairs histogram; ``hist_le[b]`` pairs are <= ``hist_edges[b]``.
    hist_le : ndarray or None
    """

    thresholds: np.ndarray = field(repr=False)
    n_le: np.ndarray = field(repr=False)
    n_lt: np.ndarray = field(repr=False)
    n_pairs: int
    hist_edges: np.ndarray | None = field(default=None, repr=False)
    hist_le: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True, eq=False)
class Neighbors:
    """Precomputed neighbourhood summaries of an embedding; every geometry metric accepts one.

    Build with :func:`compute_neighbors`. Holds the k nearest neighbours of
    every point (self excluded, ordered by (distance, index)), and, when a graph
    was given, the ranks of every graph neighbour within its row
    (:class:`EdgeStats`) and counts over all pairs at each edge distance
    (:class:`PairStats`); optionally uniformity values. All arrays are numpy.

    Attributes
    ----------
    indices : ndarray of int64, shape (n, k)
    distances : ndarray, shape (n, k)
    metric : str
    n_samples, n_features, k : int
    fingerprint : str
        Content hash of the embeddings the sweep ran on; metrics compare it with
        the embeddings they are given.
    graph_hash : str or None
        :meth:`SampleGraph.content_hash` of the graph, if any.
    exclude_hash : str or None
        :meth:`SampleGraph.content_hash` of the excluded pairs, if any.
    edges : EdgeStats or None
    pairs : PairStats or None
    uniformity : dict
        ``{(t, normalize): value}`` computed in the same sweep.
    chunk_size, n_blocks, world_size : int
        How the sweep ran.
    """

    indices: np.ndarray = field(repr=False)
    distances: np.ndarray = field(repr=False)
    metric: str
    n_samples: int
    n_features: int
    k: int
    fingerprint: str = field(repr=False)
    graph_hash: str | None = field(default=None, repr=False)
    exclude_hash: str | None = field(default=None, repr=False)
    edges: EdgeStats | None = field(default=None, repr=False)
    pairs: PairStats | None = field(default=None, repr=False)
    uniformity: dict = field(default_factory=dict)
    chunk_size: int = 0
    n_blocks: int = 0
    world_size: int = 1

    def check_embeddings(self, X: torch.Tensor, *, name: str = "embeddings") -> None:
        """Raise ``ValueError`` unless ``X`` is the matrix these neighbours were computed on."""
        if tuple(X.shape) != (self.n_samples, self.n_features):
            raise ValueError(
                f"neighbors were computed on an embedding of shape "
                f"({self.n_samples}, {self.n_features}), but {name} has shape {tuple(X.shape)}"
            )
        if fingerprint(X) != self.fingerprint:
            raise ValueError(f"neighbors were computed on a different {name} matrix")

    def check_exclude(self, exclude) -> None:
        """Raise ``ValueError`` unless these neighbours excluded exactly ``exclude`` (a
        SampleGraph, or None for no exclusion)."""
        want = None if exclude is None else exclude.content_hash()
        if want != self.exclude_hash:
            raise ValueError(
                "neighbors were computed with a different exclude= graph; pass the same "
                "exclude to compute_neighbors and to the metric"
            )

    def check_graph(self, graph, *, name: str = "graph") -> None:
        """Raise ``ValueError`` unless edge statistics exist for this graph."""
        if self.edges is None:
            raise ValueError(
                "neighbors were computed without a graph; pass graph= to compute_neighbors"
            )
        if graph is not None and graph.content_hash() != self.graph_hash:
            raise ValueError(f"neighbors were computed for a different {name}")


def _hist_edges(space: PairSpace, bins: int) -> torch.Tensor:
    """Fixed bin edges covering every possible pair distance (bounds from the norms)."""
    X = space.Q
    if space.metric == "cosine":
        lo, hi = 0.0, 2.0
    elif space.metric == "dot":
        r = float((X * X).sum(1).max())
        lo, hi = -r, r
    else:
        c = X.mean(0, keepdim=True)
        r = float(torch.linalg.vector_norm(X - c, dim=1).max())
        hi = 2.0 * r * (1 + 1e-9) + 1e-300
        lo = 0.0
        if space.metric == "sqeuclidean":
            hi = hi * hi
    return torch.linspace(lo, hi, bins + 1, dtype=torch.float64).to(space.dtype)


def compute_neighbors(
    embeddings,
    *,
    k: int = 10,
    graph=None,
    exclude=None,
    metric: str = "euclidean",
    pairs: bool | None = None,
    uniformity_t: Sequence[float] = (),
    uniformity_normalize: bool = True,
    histogram_bins: int = 0,
    device=None,
    dtype=None,
    chunk_size: int | None = None,
    memory_budget=DEFAULT_MEMORY_BUDGET,
    backend: str = "torch",
    progress: bool = False,
    distributed="auto",
) -> Neighbors:
    """One exact sweep over all pairs; returns the summaries every metric needs.

    Parameters
    ----------
    embeddings : array-like or torch.Tensor of shape (n, d)
    k : int, default 10
        Neighbours kept per point (1 <= k < n).
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array, optional
        A graph over the n samples; enables link retrieval and graph recovery.
    exclude : same types as ``graph``, optional
        Pairs that are not candidates (e.g. the known links when ranking held-out
        ones, the "filtered" link-prediction protocol): they are never kNN
        neighbours, never counted in edge ranks, non-edge minima or pair counts,
        and ``pairs.n_pairs`` leaves them out. Must share no edge with ``graph``;
        each row keeps at least ``k`` candidates. Memory ``O(m + |exclude|)``.
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
    pairs : bool, optional
        Count all pairs at each edge distance (AUROC, AP, best-F1 radius).
        Default: True when a graph is given.
    uniformity_t : sequence of float
        Also compute :func:`uniformity` at these t in the same sweep.
    uniformity_normalize : bool, default True
    histogram_bins : int, default 0
        Also keep a histogram of all pair distances with this many bins.
    device : str or torch.device, optional
        Default: the input tensor's device, else CPU.
    dtype : {"float32", "float64"}, optional
        Compute dtype; default keeps float32/float64 input.
    chunk_size : int, optional
        Query rows per block; default from ``memory_budget``. Results do not depend on it.
    memory_budget : int or str, default "512MiB"
        Scratch memory of the sweep: with pair counts, at most half of it buffers
        pair distances for sorting and half holds the distance blocks.
    backend : {"torch", "faiss", "auto"}, default "torch"
        ``"faiss"`` (only when importable) computes the kNN lists and nothing else.
    progress : bool, default False
        Show a tqdm progress bar over blocks.
    distributed : {"auto", True, False}, default "auto"
        Shard query blocks over the ranks of an initialised torch.distributed group.

    Returns
    -------
    Neighbors

    Raises
    ------
    ValueError
        NaN/inf rows, k out of range, a graph whose node count differs from n,
        ``exclude`` sharing an edge with ``graph`` or leaving a row fewer than k
        candidates, ``exclude`` with ``uniformity_t``, unknown metric/backend, CUDA
        requested but unavailable.

    Notes
    -----
    Time O(n^2 d / p) for p ranks, memory O(chunk_size * n + n k + m). Counts
    over pairs use the unordered pairs i < j, which equals counting the
    flattened n x n matrix off its diagonal, because distances are symmetric.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [3.0], [7.0]])
    >>> nb = compute_neighbors(X, k=2, graph=[(0, 1), (2, 3)])
    >>> nb.indices.tolist()
    [[1, 2], [0, 2], [1, 0], [2, 1]]
    >>> nb.edges.rank_le.tolist()  # ranks of 1 in row 0, 0 in row 1, 3 in row 2, 2 in row 3
    [1, 1, 3, 1]
    """
    from ..graphs import as_sample_graph

    metric = _check_metric(metric)
    check_one_of(backend, BACKENDS, name="backend")
    X = as_tensor2d(embeddings, name="embeddings", device=device, dtype=dtype)
    n = int(X.shape[0])
    if n < 2:
        raise ValueError(f"embeddings must have at least 2 rows, got {n}")
    k = check_positive_int(k, name="k")
    if k > n - 1:
        raise ValueError(f"k must be <= n_samples - 1 = {n - 1}, got {k}")
    g = None if graph is None else as_sample_graph(graph, n_nodes=n, name="graph")
    ex = None if exclude is None else _check_exclude(exclude, g, n, k)
    if pairs is None:
        pairs = g is not None
    if pairs and g is None:
        raise ValueError("pairs=True needs a graph")
    uniformity_t = tuple(float(t) for t in uniformity_t)
    if any(not math.isfinite(t) or t <= 0 for t in uniformity_t):
        raise ValueError(f"uniformity_t must hold positive finite numbers, got {uniformity_t}")
    histogram_bins = check_positive_int(histogram_bins, name="histogram_bins", minimum=0)
    if ex is not None and uniformity_t:
        raise ValueError("exclude does not apply to uniformity_t (a sum over all pairs); "
                         "compute uniformity without exclude")
    comm = resolve_comm(distributed)

    use_faiss = backend == "faiss" or (backend == "auto" and _faiss_available())
    only_knn = g is None and ex is None and not uniformity_t and not histogram_bins
    if use_faiss and only_knn:
        from ._faiss import faiss_knn

        dist, ind = faiss_knn(X, k, metric=metric)
        return Neighbors(
            indices=ind, distances=dist, metric=metric, n_samples=n,
            n_features=int(X.shape[1]), k=k, fingerprint=fingerprint(X),
        )
    if backend == "faiss":
        raise ValueError(
            "backend='faiss' computes kNN lists only; graph statistics, exclude, uniformity "
            "and histograms need backend='torch'"
        )

    workers = cpu_workers() if X.device.type == "cpu" else 1
    # setup works on O(n + m) arrays: one thread (the sweep runs `workers` block workers)
    with single_thread_if_small(0.0, X.device):
        return _sweep_neighbors(X, g, ex, k=k, metric=metric, pairs=pairs,
                                uniformity_t=uniformity_t,
                                uniformity_normalize=uniformity_normalize,
                                histogram_bins=histogram_bins, chunk_size=chunk_size,
                                memory_budget=memory_budget, progress=progress, comm=comm,
                                workers=workers)


def _check_exclude(exclude, g, n: int, k: int):
    from ..graphs import as_sample_graph

    ex = as_sample_graph(exclude, n_nodes=n, name="exclude")
    if g is not None and ex.n_edges and g.n_edges:
        both = g.to_scipy().multiply(ex.to_scipy()).nnz // 2
        if both:
            raise ValueError(f"exclude shares {both} edge(s) with graph; an edge cannot be "
                             "both relevant and excluded")
    deg = np.diff(np.asarray(ex.indptr))
    worst = int(deg.max()) if deg.size else 0
    if k > n - 1 - worst:
        raise ValueError(f"k must be <= {n - 1 - worst} (n_samples - 1 - the largest number of "
                         f"excluded pairs of a sample), got {k}")
    return ex


def _sweep_neighbors(X, g, ex, *, k, metric, pairs, uniformity_t, uniformity_normalize,
                     histogram_bins, chunk_size, memory_budget, progress, comm,
                     workers) -> Neighbors:
    n = int(X.shape[0])
    out_dtype, print_ = X.dtype, fingerprint(X)
    if g is not None and X.dtype == torch.float32:
        # pair counts compare every pair with every edge distance: in float32 the rounding
        # bands of the edge distances cover almost all pairs (bench_geometry's data at
        # n = 8,000, 78,607 edges: 94% of pairs lie within the float32 band of some edge
        # distance), so the exact formula would redo nearly every pair; in float64 the bands
        # hold only near-ties (measured at n = 8,000: 3.6 s vs 2.9 s of CPU). The edge ranks
        # then sort float32 keys of the float64 block (_EdgeRanks)
        X = X.double()
    space = PairSpace(X, None, metric,
                   exclude=None if ex is None else (ex.indptr, ex.indices))
    budget = parse_memory(memory_budget)
    counting = g is not None and (pairs or histogram_bins) or bool(histogram_bins)
    pair_capacity = 0
    if counting:
        # a flush costs O(m log capacity) and sorting O(capacity log capacity): a buffer of
        # ~64 m values keeps flushes cheap; never more than half the budget
        m_thr = (g.n_edges if g is not None else 0) + histogram_bins
        pair_capacity = max(_MIN_PAIR_CAPACITY,
                            min(budget // 2 // X.element_size(), max(1 << 20, 64 * m_thr)))
    block_budget = budget // 2 if counting else budget
    chunk = _chunk(chunk_size, max(block_budget // workers, 1), n, X.element_size(),
                   n_rows=n, workers=workers)
    n_blocks = math.ceil(n / chunk)
    knn_c = _KNN(n, k, space)
    # the kNN consumer first: the edge-rank consumer reads each block's exact kNN lists
    consumers: list[_Consumer] = [knn_c]
    edge_c = pair_c = uni_c = None
    if uniformity_t:
        uni_c = _Uniformity(space, uniformity_t, bool(uniformity_normalize), n_blocks)
        consumers.append(uni_c)
    if g is not None:
        indptr = np.asarray(g.indptr, dtype=np.int64)
        cols = torch.as_tensor(np.array(g.indices, dtype=np.int64), device=X.device)
        rows = torch.as_tensor(np.repeat(np.arange(n), np.diff(indptr)), device=X.device)
        # exact distances of the upper-triangle entries, mirrored to the lower ones (the
        # exact formula is symmetric; computing each pair once halves the work)
        upper = rows < cols
        d_up = space.exact(rows[upper], cols[upper])
        vals = torch.empty(cols.shape[0], dtype=torch.float64, device=X.device)
        vals[upper] = d_up
        key_up = rows[upper] * n + cols[upper]
        key_low = cols[~upper] * n + rows[~upper]
        # CSR order is row-major with sorted columns, so key_up is already sorted
        vals[~upper] = d_up[torch.searchsorted(key_up, key_low)]
        edge_c = _EdgeRanks(indptr, cols, vals, space)
        consumers.append(edge_c)
        if pairs or histogram_bins:
            thresholds = torch.sort(d_up).values
            hist = _hist_edges(space, histogram_bins) if histogram_bins else None
            pair_c = _PairCounts(thresholds, hist, pair_capacity, workers, space,
                                 edges=(indptr, cols, vals))
            consumers.append(pair_c)
    elif histogram_bins:
        pair_c = _PairCounts(torch.zeros(0, dtype=X.dtype, device=X.device),
                             _hist_edges(space, histogram_bins), pair_capacity, workers)
        consumers.append(pair_c)
    _sweep(space, consumers, chunk_size=chunk, comm=comm, progress=progress, workers=workers)

    def np_(t):
        return t.detach().cpu().numpy()

    edges = pairs_stats = None
    if edge_c is not None:
        edges = EdgeStats(
            indptr=indptr, indices=np_(cols), distance=np_(vals),
            rank_lt=np_(edge_c.rank_lt), rank_le=np_(edge_c.rank_le),
            min_nonedge=np_(edge_c.min_nonedge),
        )
    if pair_c is not None:
        pairs_stats = PairStats(
            thresholds=pair_c.t64,
            n_le=np_(pair_c.le), n_lt=np_(pair_c.lt),
            n_pairs=n * (n - 1) // 2 - (0 if ex is None else ex.n_edges),
            hist_edges=None if pair_c.h is None else np.asarray(
                pair_c.h if pair_c.on_cpu else np_(pair_c.h)),
            hist_le=None if pair_c.h is None else np_(pair_c.h_le),
        )
    uni = {}
    if uni_c is not None:
        uni = {(t, bool(uniformity_normalize)): v for t, v in uni_c.values(n).items()}
    return Neighbors(
        indices=np_(knn_c.indices), distances=np_(knn_c.distances.to(out_dtype)), metric=metric,
        n_samples=n, n_features=int(X.shape[1]), k=k, fingerprint=print_,
        graph_hash=None if g is None else g.content_hash(),
        exclude_hash=None if ex is None else ex.content_hash(), edges=edges, pairs=pairs_stats,
        uniformity=uni, chunk_size=chunk, n_blocks=n_blocks, world_size=comm.world,
    )
