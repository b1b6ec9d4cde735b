"""Neighbour queries on the engine: kNN lists, radius neighbourhoods, raw distance blocks."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch

from .._kernel import PairSpace, to_dissimilarity
from .._validation import check_one_of, check_positive_int
from ._arrays import DEFAULT_MEMORY_BUDGET, as_tensor2d, parse_memory
from ._distributed import Comm, resolve_comm
from ._engine import (
    _KNN,
    BACKENDS,
    _check_metric,
    _chunk,
    _faiss_available,
    _Radius,
    _sweep,
    cpu_workers,
)

__all__ = ["iter_distance_blocks", "knn", "radius_neighbors"]


def knn(
    queries,
    k: int,
    *,
    reference=None,
    metric: str = "euclidean",
    exclude_self: bool | None = None,
    device=None,
    dtype=None,
    chunk_size: int | None = None,
    memory_budget=DEFAULT_MEMORY_BUDGET,
    backend: str = "torch",
    progress: bool = False,
    distributed="auto",
):
    """Exact k nearest neighbours, ordered by (distance, index).

    Parameters
    ----------
    queries : array-like or torch.Tensor of shape (n, d)
    k : int
    reference : array-like or torch.Tensor of shape (n_ref, d), optional
        Points to search; default the queries themselves.
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
    exclude_self : bool, optional
        Never return a query as its own neighbour (by index). Default: True
        without ``reference``; with a reference set it must be False.
    device, dtype, chunk_size, memory_budget, backend, progress, distributed
        As in :func:`compute_neighbors`.

    Returns
    -------
    distances : (n, k) array or tensor
    indices : (n, k) int64 array or tensor
        numpy in -> numpy out, torch in -> torch out.

    Examples
    --------
    >>> import numpy as np
    >>> d, i = knn(np.array([[0.0], [1.0], [1.0], [5.0]]), 2)
    >>> i.tolist(), d.tolist()
    ([[1, 2], [2, 0], [1, 0], [1, 2]], [[1.0, 1.0], [0.0, 1.0], [0.0, 1.0], [4.0, 4.0]])
    """
    metric = _check_metric(metric)
    check_one_of(backend, BACKENDS, name="backend")
    Q = as_tensor2d(queries, name="queries", device=device, dtype=dtype)
    R = None
    if reference is not None:
        R = as_tensor2d(reference, name="reference", device=Q.device, dtype=Q.dtype)
        if R.shape[1] != Q.shape[1]:
            raise ValueError(
                f"reference has {R.shape[1]} features but queries have {Q.shape[1]}"
            )
        if exclude_self:
            raise ValueError("exclude_self=True needs reference=None (self is the query set)")
    exclude = R is None if exclude_self is None else bool(exclude_self)
    n_ref = Q.shape[0] if R is None else R.shape[0]
    k = check_positive_int(k, name="k")
    limit = n_ref - 1 if exclude else n_ref
    if k > limit:
        raise ValueError(f"k must be <= {limit} here, got {k}")
    comm = resolve_comm(distributed)
    if backend == "faiss" or (backend == "auto" and _faiss_available()):
        from ._faiss import faiss_knn

        dist, ind = faiss_knn(Q, k, metric=metric, reference=R, exclude_self=exclude)
    else:
        space = PairSpace(Q, R, metric)
        c = _KNN(Q.shape[0], k, space)
        workers = cpu_workers()
        chunk = _chunk(chunk_size, parse_memory(memory_budget) // workers, n_ref,
                       Q.element_size(), n_rows=Q.shape[0], workers=workers)
        _sweep(space, [c], chunk_size=chunk, comm=comm, progress=progress, workers=workers,
           exclude_self=exclude)
        dist, ind = c.distances, c.indices
    if isinstance(queries, torch.Tensor):
        return torch.as_tensor(dist).to(queries.device), torch.as_tensor(ind).to(queries.device)
    return (np.asarray(dist.cpu()) if isinstance(dist, torch.Tensor) else dist,
            np.asarray(ind.cpu()) if isinstance(ind, torch.Tensor) else ind)


def radius_neighbors(
    queries,
    radius: float,
    *,
    reference=None,
    metric: str = "euclidean",
    exclude_self: bool | None = None,
    strict: bool = True,
    device=None,
    dtype=None,
    chunk_size: int | None = None,
    memory_budget=DEFAULT_MEMORY_BUDGET,
    progress: bool = False,
    distributed="auto",
):
    """All neighbours within ``radius`` (distance < radius), as CSR arrays.

    The convention of :func:`sip_theory.graphs.radius_graph`, so that the radius
    every API returns (e.g. :class:`~sip_theory.theory.RecoveryReport`'s) gives the
    same pairs here.

    Parameters
    ----------
    queries : array-like or torch.Tensor of shape (n, d)
    radius : float
        Strict by default: a pair at distance exactly ``radius`` is not returned.
        For ``metric="dot"`` a similarity threshold t: the pairs with x.y > t.
    strict : bool, default True
        ``False`` includes the boundary (d <= r; for ``"dot"`` x.y >= t), the
        convention of scikit-learn's ``radius_neighbors``.
    reference, metric, exclude_self, device, dtype, chunk_size, memory_budget, progress
        As in :func:`knn`.
    distributed : {"auto", True, False}, default "auto"
        Under torch.distributed every rank computes its blocks and the lists are
        gathered so that each rank returns the full result.

    Returns
    -------
    indptr : (n + 1,) int64
    indices : (nnz,) int64
        Row i's neighbours are ``indices[indptr[i]:indptr[i + 1]]``, ordered by (distance, index).
    distances : (nnz,)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [3.0]])
    >>> ptr, ind, dist = radius_neighbors(X, 1.5)
    >>> ptr.tolist(), ind.tolist(), dist.tolist()
    ([0, 1, 2, 2], [1, 0], [1.0, 1.0])
    >>> radius_neighbors(X, 1.0)[0].tolist(), radius_neighbors(X, 1.0, strict=False)[0].tolist()
    ([0, 0, 0, 0], [0, 1, 2, 2])
    """
    metric = _check_metric(metric)
    if isinstance(radius, bool) or not isinstance(radius, (int, float, np.floating, np.integer)):
        raise TypeError(f"radius must be a real number, got {type(radius).__name__}")
    if not math.isfinite(float(radius)):
        raise ValueError(f"radius must be finite, got {radius}")
    Q = as_tensor2d(queries, name="queries", device=device, dtype=dtype)
    R = None
    if reference is not None:
        R = as_tensor2d(reference, name="reference", device=Q.device, dtype=Q.dtype)
        if R.shape[1] != Q.shape[1]:
            raise ValueError(
                f"reference has {R.shape[1]} features but queries have {Q.shape[1]}"
            )
        if exclude_self:
            raise ValueError("exclude_self=True needs reference=None (self is the query set)")
    exclude = R is None if exclude_self is None else bool(exclude_self)
    space = PairSpace(Q, R, metric)
    n_ref = space.n_columns
    workers = cpu_workers()
    chunk = _chunk(chunk_size, parse_memory(memory_budget) // workers, n_ref, Q.element_size(),
                   n_rows=Q.shape[0], workers=workers)
    comm = resolve_comm(distributed)
    c = _Radius(to_dissimilarity(float(radius), metric), space, strict=bool(strict))
    _sweep(space, [c], chunk_size=chunk, comm=comm, progress=progress, workers=workers,
           exclude_self=exclude)
    n = Q.shape[0]
    parts = sorted(c.parts, key=lambda p: p[0])  # workers finish blocks in any order
    if parts:
        rows = torch.cat([p[1] for p in parts])
        cols = torch.cat([p[2] for p in parts])
        vals = torch.cat([p[3] for p in parts])
    else:
        rows = torch.zeros(0, dtype=torch.int64, device=Q.device)
        cols = rows.clone()
        vals = torch.zeros(0, dtype=Q.dtype, device=Q.device)
    if comm.active:
        rows, cols, vals = _gather_triplets(rows, cols, vals, comm)
        order = torch.sort(rows, stable=True).indices  # blocks arrive rank by rank
        rows, cols, vals = rows[order], cols[order], vals[order]
    counts = torch.bincount(rows, minlength=n)
    indptr = torch.zeros(n + 1, dtype=torch.int64, device=rows.device)
    indptr[1:] = torch.cumsum(counts, 0)
    if isinstance(queries, torch.Tensor):
        return indptr.to(queries.device), cols.to(queries.device), vals.to(queries.device)
    return indptr.cpu().numpy(), cols.cpu().numpy(), vals.cpu().numpy()


def _gather_triplets(rows, cols, vals, comm: Comm):
    import torch.distributed as dist

    size = torch.tensor([rows.shape[0]], dtype=torch.int64, device=comm.device)
    sizes = [torch.zeros_like(size) for _ in range(comm.world)]
    dist.all_gather(sizes, size)
    top = int(max(int(s) for s in sizes))

    def gather(t, fill):
        pad = torch.full((top,), fill, dtype=t.dtype, device=comm.device)
        pad[: t.shape[0]] = t.to(comm.device)
        out = [torch.empty_like(pad) for _ in range(comm.world)]
        dist.all_gather(out, pad)
        return torch.cat([o[: int(s)] for o, s in zip(out, sizes, strict=True)]).to(t.device)

    return gather(rows, 0), gather(cols, 0), gather(vals, 0)


def iter_distance_blocks(
    queries,
    *,
    reference=None,
    metric: str = "euclidean",
    exclude_self: bool | None = None,
    device=None,
    dtype=None,
    chunk_size: int | None = None,
    memory_budget=DEFAULT_MEMORY_BUDGET,
) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Yield ``(start, stop, D)``: the exact distances of query rows [start, stop) to all points.

    The building block for custom reductions: ``D`` is a torch tensor of shape
    (stop - start, n_ref) with the same conventions as the rest of the engine
    (self entries +inf when ``exclude_self``; ``"dot"`` gives -x.y).

    Examples
    --------
    >>> import numpy as np
    >>> [(a, b, D.tolist()) for a, b, D in iter_distance_blocks(
    ...     np.eye(2), metric="sqeuclidean", chunk_size=1)]
    [(0, 1, [[inf, 2.0]]), (1, 2, [[2.0, inf]])]
    """
    metric = _check_metric(metric)
    Q = as_tensor2d(queries, name="queries", device=device, dtype=dtype)
    R = None if reference is None else as_tensor2d(
        reference, name="reference", device=Q.device, dtype=Q.dtype)
    if R is not None and R.shape[1] != Q.shape[1]:
        raise ValueError(f"reference has {R.shape[1]} features but queries have {Q.shape[1]}")
    exclude = R is None if exclude_self is None else bool(exclude_self)
    if exclude and R is not None:
        raise ValueError("exclude_self=True needs reference=None (self is the query set)")
    space = PairSpace(Q, R, metric)
    chunk = _chunk(chunk_size, memory_budget, space.n_columns, Q.element_size())
    with torch.no_grad():
        for r0 in range(0, space.n_queries, chunk):
            r1 = min(r0 + chunk, space.n_queries)
            yield r0, r1, space.fast_block(r0, r1, exclude_self=exclude)
