"""Radius and k-nearest-neighbour graphs of point sets, computed in blocks.

Both constructors sweep the kernel's :class:`~sip_theory._kernel.PairSpace`
(numpy backend; never an n x n matrix): fast dissimilarities block by block
with one BLAS matrix product each (on centred points for the Euclidean
metrics), then the kernel's exact selectors. The fast expanded forms (e.g.
|x|^2 + |y|^2 - 2 x.y) lose accuracy through cancellation, so every pair whose
fast value lies within a rigorous rounding-error band of the decision is
re-evaluated with the direct float64 formula. The result is therefore exactly
the graph that the direct formulas below give, whatever the chunk size or the
input dtype (float32 input is multiplied in float32, which is faster, and only
the band grows).

Direct formulas: those of :func:`sip_theory._kernel.exact_dissimilarities`
(rows cast to float64, features summed in order), the one definition that
``theory`` and ``geometry`` decide on too:

* ``"euclidean"``: ``sqrt(sum((x - y)**2))``
* ``"sqeuclidean"``: ``sum((x - y)**2)``
* ``"cosine"``: ``sum((u - v)**2) / 2`` with ``u = x / sqrt(sum(x**2))``, likewise
  ``v`` (equal to ``1 - u.v``, and exactly 0 for duplicate rows)
* ``"dot"``: the similarity ``sum(x * y)`` (larger = closer)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._kernel import METRICS, PairSpace, to_dissimilarity
from .._validation import check_one_of, check_positive_int
from ._graph import SampleGraph

__all__ = ["knn_graph", "radius_graph"]

_TILE_BYTES = 16 * 2**20  # fast-score block of the radius graph
_ROW_BLOCK_BYTES = 64 * 2**20  # fast-score row block of the kNN graph


def _check_points(points) -> np.ndarray:
    arr = np.asarray(points)
    if arr.ndim != 2:
        raise ValueError(
            f"points must be a 2-D array (n_points, n_features), got shape {arr.shape}"
        )
    if arr.shape[1] == 0:
        raise ValueError(f"points must have at least one feature column, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"points must be numeric, got dtype {arr.dtype}")
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise ValueError(
            f"points has {int(bad.sum())} row(s) with NaN or inf values "
            f"(first: row {int(np.flatnonzero(bad)[0])})"
        )
    return arr


def _check_chunk(chunk_size, default: int) -> int:
    if chunk_size is None:
        return max(int(default), 1)
    return check_positive_int(chunk_size, name="chunk_size")


def _check_radius(radius, metric: str) -> float:
    if isinstance(radius, (bool, np.bool_)) or not isinstance(radius, numbers.Real):
        raise TypeError(f"radius must be a real number, got {type(radius).__name__}")
    r = float(radius)
    if not math.isfinite(r):
        raise ValueError(f"radius must be finite, got {r}")
    if metric != "dot" and r < 0:
        raise ValueError(f"radius must be >= 0 for metric={metric!r}, got {r}")
    return r


def radius_graph(points, radius: float, *, metric: str = "euclidean", strict: bool = True,
                 chunk_size: int | None = None) -> SampleGraph:
    """The radius-neighbour graph of a point set, computed in blocks.

    For a distance metric d, (i, j) with i != j is an edge iff d(x_i, x_j) < r
    (``strict=True``, the convention of the permissibility definition, P1 in
    McDermott et al. 2023) or d <= r (``strict=False``). For ``metric="dot"``
    the radius is a similarity *threshold* t and (i, j) is an edge iff
    x_i . x_j > t (``strict``) or >= t: larger similarity means closer, and the
    strictness mirrors the distance case (cosine distance 1 - s < r is the same
    as cosine similarity s > 1 - r).

    Parameters
    ----------
    points : array-like of shape (n, d)
        Finite coordinates; float32 input is multiplied in float32.
    radius : float
        Radius r (>= 0) for the distances, similarity threshold t for ``"dot"``.
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
        ``"cosine"`` is the cosine distance 1 - cos(x, y); ``"sqeuclidean"``
        compares the squared distance with r itself.
    strict : bool, default True
        Strict or non-strict comparison (see above).
    chunk_size : int, optional
        Side of the square blocks of pairs scored at once; memory per block is
        about ``chunk_size**2 * (itemsize + 1)`` bytes (plus the edges found).
        Default: blocks of about 16 MiB. The result does not depend on it.

    Returns
    -------
    SampleGraph
        Unweighted graph on n nodes.

    Raises
    ------
    ValueError
        ``points`` not 2-D, with NaN/inf, or (cosine) with a zero row;
        negative or non-finite ``radius``; unknown ``metric``.

    Notes
    -----
    Each square block of pairs gets its fast dissimilarities from one matrix
    product (for the Euclidean metric ``|x_i|^2 + |x_j|^2 - 2 x_i . x_j`` on
    centred points). Every pair whose fast value can lie at or below the radius
    (the radius plus a rigorous floating-point error bound, a few hundred
    machine epsilons times the squared norms) is re-checked with the direct
    formula of the module docstring
    (:meth:`sip_theory._kernel.PairSpace.within`), so the graph equals the
    direct computation exactly. Only the upper triangle of blocks is scored
    (the graph is symmetric).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [1.0], [2.0], [3.5]])
    >>> radius_graph(x, 1.0).n_edges  # strict: distance exactly 1 is not an edge
    0
    >>> radius_graph(x, 1.0, strict=False).edges().tolist()
    [[0, 1], [1, 2]]
    >>> radius_graph(x, 1.6, chunk_size=2).edges().tolist()
    [[0, 1], [1, 2], [2, 3]]
    >>> radius_graph([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]], 0.5, metric="dot").edges().tolist()
    [[0, 1]]
    """
    check_one_of(metric, METRICS, name="metric")
    x = _check_points(points)
    r = _check_radius(radius, metric)
    n = x.shape[0]
    space = PairSpace(x, None, metric, centre=True, name="points")
    threshold = to_dissimilarity(r, metric)  # dot: x.y > t is -x.y < -t
    native = metric in ("euclidean", "sqeuclidean")  # select on squared values: no roots
    bs = _check_chunk(chunk_size, math.isqrt(_TILE_BYTES // (x.dtype.itemsize + 1)))
    found_i, found_j = [], []
    for i0 in range(0, n, bs):
        i1 = min(i0 + bs, n)
        for j0 in range(i0, n, bs):  # the upper triangle of tiles: the graph is symmetric
            j1 = min(j0 + bs, n)
            d = space.fast_block(i0, i1, j0, j1, exclude_self=False, native=native)
            rows, cols, _ = space.within(d, i0, threshold, strict=strict, c0=j0, native=native)
            gi = rows + i0
            if i0 == j0:
                upper = gi < cols
                gi, cols = gi[upper], cols[upper]
            found_i.append(gi)
            found_j.append(cols)
    return _graph_from_pairs(found_i, found_j, n)


def _graph_from_pairs(found_i, found_j, n: int) -> SampleGraph:
    if found_i:
        edges = np.stack([np.concatenate(found_i), np.concatenate(found_j)], axis=1)
    else:
        edges = np.zeros((0, 2), dtype=np.int64)
    return SampleGraph.from_edges(edges.astype(np.int64), n_nodes=n, duplicates="merge")


def knn_graph(points, k: int, *, metric: str = "euclidean", mutual: bool = False,
              chunk_size: int | None = None) -> SampleGraph:
    """The k-nearest-neighbour graph of a point set, computed in row blocks.

    Each point i selects its k nearest other points, ranked by (distance,
    index): among equal distances the lower index wins, so the result is
    deterministic. For ``metric="dot"`` nearness is larger similarity. The
    undirected graph links i and j iff j is among i's k nearest *or* i among
    j's (``mutual=False``, the usual symmetrized kNN graph; degrees >= k), or
    iff both hold (``mutual=True``; degrees <= k).

    Parameters
    ----------
    points : array-like of shape (n, d)
        Finite coordinates; float32 input is multiplied in float32.
    k : int
        Number of neighbours, 1 <= k < n.
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
    mutual : bool, default False
        Mutual kNN graph instead of the symmetrized one.
    chunk_size : int, optional
        Rows scored at once against all n points; memory per block is about
        ``2 * chunk_size * n * itemsize`` bytes. Default: blocks of about 64 MiB.
        The result does not depend on it.

    Returns
    -------
    SampleGraph
        Unweighted graph on n nodes.

    Raises
    ------
    ValueError
        ``points`` not 2-D, with NaN/inf, or (cosine) with a zero row; ``k`` < 1
        or ``k >= n``; unknown ``metric``.

    Notes
    -----
    Per row block the fast dissimilarities (one matrix product) give each
    row's k-th smallest fast value; every pair whose fast value can belong to
    one of the k nearest exact values (within two rigorous rounding bounds of
    it) is re-evaluated with the direct float64 formula, and the candidates are
    ranked by (exact value, index)
    (:meth:`sip_theory._kernel.PairSpace.k_nearest`), so the selected
    neighbours are exactly those of the direct computation.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> knn_graph(x, 1).edges().tolist()  # node 1 is equally far from 0 and 2: 0 wins
    [[0, 1], [1, 2], [2, 3]]
    >>> knn_graph(x, 1, mutual=True).edges().tolist()
    [[0, 1]]
    """
    check_one_of(metric, METRICS, name="metric")
    x = _check_points(points)
    n = x.shape[0]
    k = check_positive_int(k, name="k")
    if k >= n:
        raise ValueError(f"k must be smaller than the number of points n={n}, got k={k}")
    space = PairSpace(x, None, metric, centre=True, name="points")
    native = metric in ("euclidean", "sqeuclidean")
    bs = _check_chunk(chunk_size, _ROW_BLOCK_BYTES // (x.dtype.itemsize * max(n, 1)))
    src, dst = [], []
    for i0 in range(0, n, bs):
        i1 = min(i0 + bs, n)
        # a point is not its own neighbour; Euclidean blocks stay squared (no roots)
        d = space.fast_block(i0, i1, exclude_self=True, native=native)
        idx, _ = space.k_nearest(d, i0, k, native=native)
        src.append(np.repeat(np.arange(i0, i1), k))
        dst.append(idx.reshape(-1))
    i = np.concatenate(src).astype(np.int64)
    j = np.concatenate(dst).astype(np.int64)
    if mutual:
        fwd = i * n + j
        rev = j * n + i
        both = np.isin(fwd, rev) & (i < j)
        i, j = i[both], j[both]
    return SampleGraph.from_edges(np.stack([i, j], axis=1), n_nodes=n, duplicates="merge")
