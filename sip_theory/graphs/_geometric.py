"""Radius and k-nearest-neighbour graphs of point sets, computed in blocks.

Both constructors evaluate pairwise scores block by block with one BLAS
matrix product per block (numpy only; never an n x n matrix). The fast
expanded forms (e.g. |x|^2 + |y|^2 - 2 x.y) lose accuracy through
cancellation, so every pair whose fast score lies within a rigorous
rounding-error band of the decision threshold is re-evaluated with the direct
float64 formula. The result is therefore exactly the graph that the direct
formulas below give, whatever the chunk size or the input dtype (float32
input is multiplied in float32, which is faster, and only the band grows).

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

from .._kernel import METRICS, exact_dissimilarities
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


class _Scores:
    """Fast augmented factors (score = A @ B.T) and exact pairwise values for one metric.

    For the radius graph the score of a pair is ``s = value - threshold``
    oriented so that ``s > 0`` means "closer than the threshold"; for the kNN
    graph it is a per-row shift of the value, oriented so that smaller = closer.
    """

    def __init__(self, points: np.ndarray, metric: str):
        self.metric = metric
        self.x64 = points.astype(np.float64, copy=False)
        self.dtype = np.float32 if points.dtype == np.float32 else np.float64
        self.eps = float(np.finfo(self.dtype).eps)
        n, d = points.shape
        # rounding constant: BLAS dot products of length d + 2, casts, and the direct formula
        self.c = 2.0 * (d + 2) + 16.0
        self.extra = 0.0
        if metric in ("euclidean", "sqeuclidean"):
            big = float(np.abs(self.x64).max()) if n else 0.0
            xc = self.x64 - self.x64.mean(axis=0) if n else self.x64
            self.base = xc
            self.sq = np.einsum("ij,ij->i", xc, xc)
            # error of the centring, propagated to squared distances
            self.center_err = 8.0 * math.sqrt(d) * 2.2e-16 * big
        elif metric == "cosine":
            norms = np.sqrt((self.x64 * self.x64).sum(axis=-1))
            if n and (norms == 0).any():
                raise ValueError(
                    f"points has {int((norms == 0).sum())} zero row(s); the cosine distance "
                    f"is undefined for them (first: row {int(np.flatnonzero(norms == 0)[0])})"
                )
            self.base = self.x64 / norms[:, None] if n else self.x64
            self.sq = np.ones(n)
            self.center_err = 0.0
        else:
            self.base = self.x64
            self.sq = np.einsum("ij,ij->i", self.x64, self.x64)
            self.center_err = 0.0

    # ---------------------------------------------------------------- exact
    def exact(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Direct float64 value of the metric for the pairs (i[k], j[k]), in bounded memory."""
        step = max(1, (1 << 21) // self.x64.shape[1])
        if i.shape[0] <= step:
            return self._exact(i, j)
        out = np.empty(i.shape[0])
        for s0 in range(0, i.shape[0], step):
            out[s0 : s0 + step] = self._exact(i[s0 : s0 + step], j[s0 : s0 + step])
        return out

    def _exact(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        # the kernel's exact formula (the one every package decides on); "dot" as a similarity
        val = exact_dissimilarities(self.x64, i, j, self.metric)
        return -val if self.metric == "dot" else val

    # --------------------------------------------------------------- radius
    def radius_factors(self, radius: float):
        """A, B with (A @ B.T)_ij > 0 iff pair (i, j) is within the radius (up to rounding)."""
        n = self.base.shape[0]
        one = np.ones((n, 1))
        if self.metric in ("euclidean", "sqeuclidean"):
            t = radius * radius if self.metric == "euclidean" else radius
            self.t = t
            # (t - |xi - xj|^2) / 2 = xi.xj - |xi|^2/2 - |xj|^2/2 + t/2
            a = np.hstack([self.base, (t - self.sq)[:, None] / 2.0, one])
            b = np.hstack([self.base, one, -self.sq[:, None] / 2.0])
        elif self.metric == "cosine":
            self.t = 1.0 - radius  # u.v > 1 - r
            a = np.hstack([self.base, one])
            b = np.hstack([self.base, -self.t * one])
        else:
            self.t = radius
            a = np.hstack([self.base, one])
            b = np.hstack([self.base, -radius * one])
        return a.astype(self.dtype), b.astype(self.dtype)

    def radius_tol(self, rows: slice, cols: slice) -> float:
        """Bound on |fast score - exact score| over a block of pairs."""
        mi = float(self.sq[rows].max())
        mj = float(self.sq[cols].max())
        if self.metric in ("euclidean", "sqeuclidean"):
            mag = mi + mj + abs(self.t)
            return self.c * self.eps * mag + self.center_err * (math.sqrt(mi) + math.sqrt(mj) + 1)
        if self.metric == "cosine":
            return self.c * self.eps * (2.0 + abs(self.t))
        return self.c * self.eps * (math.sqrt(mi * mj) + abs(self.t) + 1e-300)

    def within(self, values: np.ndarray, radius: float, strict: bool) -> np.ndarray:
        """Exact decision for values returned by :meth:`exact`."""
        if self.metric == "dot":
            return values > radius if strict else values >= radius
        return values < radius if strict else values <= radius

    # ------------------------------------------------------------------ kNN
    def knn_factors(self):
        """A, B with (A @ B.T)_ij = value(i, j) + c_i (smaller = closer), up to rounding."""
        n = self.base.shape[0]
        one = np.ones((n, 1))
        if self.metric in ("euclidean", "sqeuclidean"):
            # |xi - xj|^2 - |xi|^2 = |xj|^2 - 2 xi.xj
            a = np.hstack([self.base, one])
            b = np.hstack([-2.0 * self.base, self.sq[:, None]])
        else:
            a = self.base
            b = -self.base
        return a.astype(self.dtype), b.astype(self.dtype)

    def knn_tol(self, rows: slice) -> np.ndarray:
        """Per-row bound on |fast score - exact shifted value| (in squared units for euclid)."""
        if self.metric in ("euclidean", "sqeuclidean"):
            mj = float(self.sq.max())
            mi = self.sq[rows]
            return self.c * self.eps * (mi + mj) + self.center_err * (
                np.sqrt(mi) + math.sqrt(mj) + 1
            )
        if self.metric == "cosine":
            return np.full(rows.stop - rows.start, 2.0 * self.c * self.eps)
        mj = float(self.sq.max())
        return self.c * self.eps * (np.sqrt(self.sq[rows] * mj) + 1e-300)

    def knn_exact_key(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Exact values to rank candidates by (smaller = closer)."""
        val = self.exact(i, j)
        return -val if self.metric == "dot" else val


def _true_positions(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the True entries of a 2-D boolean array (row-major order).

    Scans 8 bytes at a time, which is much faster than :func:`numpy.nonzero`
    when few entries are True.
    """
    rows, width = mask.shape
    if width % 8 or not mask.flags.c_contiguous:
        padded = np.zeros((rows, width + (-width) % 8), dtype=bool)
        padded[:, :width] = mask
        mask, width = padded, padded.shape[1]
    words = mask.view(np.uint64)
    wr, wc = np.nonzero(words)
    if wr.size == 0:
        return wr, wc
    sub = mask.reshape(rows, width // 8, 8)[wr, wc]
    hr, hb = np.nonzero(sub)
    return wr[hr], wc[hr] * 8 + hb


def _relax(s, ci, cj, limit):
    """Candidates found with a threshold cast to the score dtype: re-check in float64."""
    keep = s[ci, cj].astype(np.float64) <= limit[ci]
    return ci[keep], cj[keep]


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
    Each block's fast score is one matrix product of augmented factors, e.g.
    for the Euclidean metric (on centred points)
    ``(r^2 - |x_i - x_j|^2)/2 = [x_i, (r^2 - |x_i|^2)/2, 1] . [x_j, 1, -|x_j|^2/2]``,
    so an edge is a positive entry. Pairs whose fast score lies within a
    rigorous floating-point error bound of zero (a few hundred machine epsilons
    times the squared norms) are re-checked with the direct formula of the
    module docstring, so the graph equals the direct computation exactly. Only
    the upper triangle of blocks is scored (the graph is symmetric).

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
    scores = _Scores(x, metric)
    a, b = scores.radius_factors(r)
    itemsize = np.dtype(scores.dtype).itemsize
    bs = _check_chunk(chunk_size, math.isqrt(_TILE_BYTES // (itemsize + 1)))
    found_i, found_j = [], []
    for i0 in range(0, n, bs):
        i1 = min(i0 + bs, n)
        ai = a[i0:i1]
        for j0 in range(i0, n, bs):
            j1 = min(j0 + bs, n)
            s = ai @ b[j0:j1].T
            tol = scores.radius_tol(slice(i0, i1), slice(j0, j1))
            rr, cc = _true_positions(s >= -tol)
            if rr.size == 0:
                continue
            vals = s[rr, cc]
            gi, gj = rr + i0, cc + j0
            if i0 == j0:
                upper = gi < gj
                gi, gj, vals = gi[upper], gj[upper], vals[upper]
            band = vals <= tol
            if band.any():
                ok = ~band
                bi, bj = gi[band], gj[band]
                ok[band] = scores.within(scores.exact(bi, bj), r, strict)
                gi, gj = gi[ok], gj[ok]
            found_i.append(gi)
            found_j.append(gj)
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
        ``chunk_size * n * itemsize`` bytes. Default: blocks of about 64 MiB.
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
    Per row block the fast scores (one matrix product; for the Euclidean
    metric ``|x_j|^2 - 2 x_i . x_j``, the squared distance minus a per-row
    constant) are partially sorted with :func:`numpy.argpartition`. Every
    candidate whose fast score is within twice a rigorous rounding bound of
    the k-th smallest is re-evaluated with the direct float64 formula and the
    candidates are ranked by (exact value, index), so the selected neighbours
    are exactly those of the direct computation.

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
    scores = _Scores(x, metric)
    a, b = scores.knn_factors()
    itemsize = np.dtype(scores.dtype).itemsize
    bs = _check_chunk(chunk_size, _ROW_BLOCK_BYTES // (itemsize * max(n, 1)))
    w0 = min(n, max(8 * (k + 1), n // 8))  # columns used for a first threshold estimate
    src, dst = [], []
    for i0 in range(0, n, bs):
        i1 = min(i0 + bs, n)
        rows = np.arange(i0, i1)
        s = a[i0:i1] @ b.T
        s[rows - i0, rows] = np.inf  # a point is not its own neighbour
        tol2 = 2.0 * scores.knn_tol(slice(i0, i1))
        # theta: k-th smallest over the first w0 columns, an upper bound of the row's k-th
        theta = np.partition(s[:, :w0], k - 1, axis=1)[:, k - 1].astype(np.float64)
        ci, cj = _true_positions(s <= (theta + tol2)[:, None].astype(s.dtype))
        ci, cj = _relax(s, ci, cj, theta + tol2)
        cs = s[ci, cj]
        # exact k-th smallest fast score among the candidates (they include the k smallest)
        counts = np.bincount(ci, minlength=i1 - i0)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        pad = np.full((i1 - i0, int(counts.max())), np.inf)
        pad[ci, np.arange(ci.shape[0]) - first[ci]] = cs
        vk = np.partition(pad, k - 1, axis=1)[:, k - 1]
        keep = cs <= (vk + tol2)[ci]
        ci, cj = ci[keep] + i0, cj[keep]
        key = scores.knn_exact_key(ci, cj)
        order = np.lexsort((cj, key, ci))
        ci, cj = ci[order], cj[order]
        start = np.searchsorted(ci, rows)
        rank = np.arange(ci.shape[0]) - np.repeat(start, np.diff(np.append(start, ci.shape[0])))
        sel = rank < k
        src.append(ci[sel])
        dst.append(cj[sel])
    i = np.concatenate(src).astype(np.int64)
    j = np.concatenate(dst).astype(np.int64)
    if mutual:
        fwd = i * n + j
        rev = j * n + i
        both = np.isin(fwd, rev) & (i < j)
        i, j = i[both], j[both]
    return SampleGraph.from_edges(np.stack([i, j], axis=1), n_nodes=n, duplicates="merge")
