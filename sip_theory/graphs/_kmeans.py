"""A small seeded k-means (k-means++ seeding, Lloyd iterations) in numpy.

Private: it derives the NEIGHBORHOOD and STRUCTURAL label sets of the mechanistic
datasets (:func:`sip_theory.data.make_mechanistic_dataset`) without making
scikit-learn a runtime dependency.
"""

from __future__ import annotations

import numpy as np

from .._kernel import PairSpace
from .._validation import as_generator, check_positive_int

__all__ = ["kmeans"]


def _sq_dists(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared distances of the rows to the centres: the kernel's fast block (Lloyd's
    argmin needs no exact decision; its ties fall to the lower centre index)."""
    return PairSpace(x, centers, "sqeuclidean").fast_block(0, x.shape[0], exclude_self=False)


def _plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    n = x.shape[0]
    idx = [int(rng.integers(n))]
    closest = _sq_dists(x, x[idx])[:, 0]
    for _ in range(1, k):
        total = closest.sum()
        if total <= 0:  # every point coincides with a chosen centre
            candidates = np.setdiff1d(np.arange(n), idx)
            nxt = int(rng.choice(candidates))
        else:
            nxt = int(rng.choice(n, p=closest / total))
        idx.append(nxt)
        closest = np.minimum(closest, _sq_dists(x, x[[nxt]])[:, 0])
    return x[idx].copy()


def _lloyd(x, centers, max_iter, tol):
    labels = np.zeros(x.shape[0], dtype=np.int64)
    for _ in range(max_iter):
        d = _sq_dists(x, centers)
        labels = d.argmin(1)
        new = centers.copy()
        for c in range(centers.shape[0]):
            members = labels == c
            if members.any():
                new[c] = x[members].mean(0)
            else:  # re-seed an empty cluster at the point farthest from its centre
                far = int(d[np.arange(x.shape[0]), labels].argmax())
                new[c] = x[far]
        shift = float(((new - centers) ** 2).sum())
        centers = new
        if shift <= tol:
            break
    d = _sq_dists(x, centers)
    labels = d.argmin(1)
    inertia = float(d[np.arange(x.shape[0]), labels].sum())
    return labels, centers, inertia


def kmeans(x, k: int, *, seed, n_init: int = 10, max_iter: int = 300, tol: float = 1e-10):
    """Cluster the rows of ``x`` into ``k`` groups (k-means++ then Lloyd; best of ``n_init``).

    Parameters
    ----------
    x : array-like of shape (n, d)
    k : int
        Number of clusters; needs at least ``k`` distinct rows.
    seed : int or numpy.random.Generator
    n_init : int, default 10
        Independent restarts; the one with the lowest inertia is kept.
    max_iter : int, default 300
    tol : float, default 1e-10
        Stop when the squared centre shift falls to ``tol``.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        Cluster ids renumbered in order of first appearance (row 0 is in cluster 0),
        so equal partitions give equal arrays.
    inertia : float
        Sum of squared distances of the rows to their centres.

    Raises
    ------
    ValueError
        ``x`` not 2-D or not finite, or fewer than ``k`` distinct rows.

    Examples
    --------
    >>> labels, _ = kmeans([[0.0], [0.1], [5.0], [5.2]], 2, seed=0)
    >>> labels.tolist()
    [0, 0, 1, 1]
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-D array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("x contains NaN or infinite values")
    k = check_positive_int(k, name="k")
    n_init = check_positive_int(n_init, name="n_init")
    n_distinct = np.unique(x, axis=0).shape[0]
    if n_distinct < k:
        raise ValueError(f"x has {n_distinct} distinct rows, fewer than k={k}")
    rng = as_generator(seed)
    best = None
    for _ in range(n_init):
        labels, _, inertia = _lloyd(x, _plus_plus(x, k, rng), max_iter, tol)
        if best is None or inertia < best[1] - 1e-12:
            best = (labels, inertia)
    labels, inertia = best
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    remap = np.empty(order.shape[0], dtype=np.int64)
    remap[np.unique(labels)[order]] = np.arange(order.shape[0])
    return remap[labels], float(inertia)
