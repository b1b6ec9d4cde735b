"""Optional faiss backend for exact kNN lists (used only when faiss is importable).

faiss's flat indexes are exact; we search one extra neighbour to drop the
query itself by index, and re-order each list by (distance, index). Unlike the
torch engine, ties that straddle the k-th place are resolved by faiss, not by
index. faiss computes in float32.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["faiss_knn"]


def faiss_knn(X: torch.Tensor, k: int, *, metric: str, reference: torch.Tensor | None = None,
              exclude_self: bool = True):
    """Return ``(distances, indices)`` as numpy arrays of shape (n, k)."""
    try:
        import faiss
    except ImportError as exc:
        raise ImportError(
            "backend='faiss' needs the faiss package (pip install faiss-cpu); "
            "use backend='torch' otherwise"
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
    raw = np.asarray(raw, dtype=np.float64)
    ind = np.asarray(ind, dtype=np.int64)
    if metric == "euclidean":
        dist = np.sqrt(np.maximum(raw, 0.0))
    elif metric == "sqeuclidean":
        dist = np.maximum(raw, 0.0)
    elif metric == "cosine":
        dist = np.clip(1.0 - raw, 0.0, 2.0)
    else:
        dist = -raw
    if exclude_self:
        rows = np.arange(q.shape[0])[:, None]
        is_self = ind == rows
        # drop the query itself, or the last entry when the query was not returned
        drop = np.where(is_self.any(1), is_self.argmax(1), k)
        keep = np.ones_like(is_self)
        keep[np.arange(q.shape[0]), drop] = False
        ind = ind[keep].reshape(-1, k)
        dist = dist[keep].reshape(-1, k)
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
