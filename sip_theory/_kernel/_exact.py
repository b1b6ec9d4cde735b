"""The exact value of a pair, and how far a fast (matrix-product) value can be from it.

The exact dissimilarity of rows x and y (cast to float64) is, with the features
summed by numpy's reduction over the feature axis:

* ``"sqeuclidean"``: sum_k (x_k - y_k)^2, and ``"euclidean"`` its correctly
  rounded square root;
* ``"cosine"``: (1/2) sum_k (u_k - v_k)^2 with u = x / |x|, v = y / |y| and
  |x| = sqrt(sum_k x_k^2): equal to 1 - cos(x, y) in exact arithmetic, and
  exactly 0 for duplicate rows (1 - u.v is not);
* ``"dot"``: -sum_k x_k y_k (a dissimilarity: smaller = nearer).

The value depends on the two rows alone: it is the same for (x, y) and (y, x),
for equal rows, and whatever the batch it is computed in. torch tensors on CPU go
through the same numpy function; on a GPU the features are summed in order
k = 0, ..., d - 1 instead, which can differ from the CPU value in the last bit.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "exact_dissimilarities",
    "exact_dissimilarities_torch",
    "fast_error_bound",
    "fast_error_factor",
    "band",
]

_STEP_VALUES = 1 << 21  # pairs x features gathered at once


def _row_sums(a, b, kind, out):
    """out[:] = per pair, the sum over features of (a - b)^2 ('sq') or a * b ('dot'), with
    numpy's reduction over the feature axis; ``a`` and ``b`` are (pairs, features) float64."""
    t = a - b if kind == "sq" else a
    np.multiply(t, t if kind == "sq" else b, out=t)
    np.sum(t, axis=1, out=out)
    return out


def _in_order_sum(a, b, kind, out):
    """out[:] = sum over features (in order) of (a - b)^2 (kind 'sq') or a * b ('dot');
    ``a`` and ``b`` are (features, pairs) float64 arrays or tensors."""
    out[...] = 0
    for k in range(a.shape[0]):
        if kind == "sq":
            t = a[k] - b[k]
            out += t * t
        else:
            out += a[k] * b[k]
    return out


def exact_dissimilarities(x, i, j, metric: str, *, y=None) -> np.ndarray:
    """Exact float64 dissimilarities of the pairs (x[i[t]], y[j[t]]) (``y`` defaults to ``x``).

    Parameters
    ----------
    x, y : ndarray of shape (n, d) and (n_y, d)
        Any real dtype; rows are cast to float64.
    i, j : int arrays of equal length
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}

    Returns
    -------
    ndarray of float64, one value per pair (for ``"dot"`` the negative inner product)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 4.0]])
    >>> exact_dissimilarities(x, [0, 1], [1, 2], "euclidean").tolist()
    [5.0, 0.0]
    >>> exact_dissimilarities(x, [1], [2], "cosine").tolist()
    [0.0]
    """
    x = np.asarray(x)
    y = x if y is None else np.asarray(y)
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    out = np.empty(i.shape[0], dtype=np.float64)
    step = max(1, _STEP_VALUES // max(1, x.shape[1]))
    for s in range(0, i.shape[0], step):
        a = x[i[s:s + step]].astype(np.float64)
        b = y[j[s:s + step]].astype(np.float64)
        o = out[s:s + step]
        if metric == "cosine":
            a /= np.sqrt(np.einsum("ij,ij->i", a, a))[:, None]
            b /= np.sqrt(np.einsum("ij,ij->i", b, b))[:, None]
            _row_sums(a, b, "sq", o)
            o *= 0.5
        elif metric == "dot":
            _row_sums(a, b, "dot", o)
            np.negative(o, out=o)
        else:
            _row_sums(a, b, "sq", o)
            if metric == "euclidean":
                np.sqrt(o, out=o)
    return out


def exact_dissimilarities_torch(x, i, j, metric: str, *, y=None):
    """:func:`exact_dissimilarities` for torch tensors, on their device (float64 result).

    On CPU this is the numpy function itself; on a GPU the features are summed in order.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    >>> exact_dissimilarities_torch(x, torch.tensor([0]), torch.tensor([1]), "euclidean")
    tensor([5.], dtype=torch.float64)
    """
    import torch

    if x.device.type == "cpu":
        return torch.from_numpy(exact_dissimilarities(
            x.detach().numpy(), i.numpy(), j.numpy(), metric,
            y=None if y is None else y.detach().numpy()))
    y = x if y is None else y
    out = torch.empty(i.shape[0], dtype=torch.float64, device=x.device)
    step = max(1, _STEP_VALUES // max(1, int(x.shape[1])))
    for s in range(0, int(i.shape[0]), step):
        a = x[i[s:s + step]].to(torch.float64).T.contiguous()
        b = y[j[s:s + step]].to(torch.float64).T.contiguous()
        o = out[s:s + step]
        if metric == "cosine":
            a /= _norm_torch(a)[None, :]
            b /= _norm_torch(b)[None, :]
            _in_order_sum(a, b, "sq", o)
            o *= 0.5
        elif metric == "dot":
            _in_order_sum(a, b, "dot", o)
            o.neg_()
        else:
            _in_order_sum(a, b, "sq", o)
            if metric == "euclidean":
                _correct_sqrt_(o)
    return out


def _norm_torch(a):
    import torch

    sq = torch.zeros(a.shape[1], dtype=torch.float64, device=a.device)
    for k in range(a.shape[0]):
        sq += a[k] * a[k]
    if bool((sq == 0).any()):
        raise ValueError("the cosine dissimilarity is undefined for a zero row")
    return _correct_sqrt_(sq)


def _correct_sqrt_(t):
    """In-place, correctly rounded square root (numpy's on CPU: torch's float64 CPU sqrt
    can be one ulp off; CUDA's is IEEE-exact)."""
    if t.device.type == "cpu":
        a = t.numpy()
        np.sqrt(a, out=a)
        return t
    return t.sqrt_()


def fast_error_factor(n_features: int, dtype) -> float:
    """c * eps: the relative size of the rounding error of a fast value.

    A fast value is a matrix-product expansion computed in ``dtype``: for the
    squared distance sq_i + sq_j - 2 x_i.x_j, each inner product of length d errs
    by at most about d * eps/2 * |x||y| (Higham, *Accuracy and Stability of
    Numerical Algorithms*, §3.1), the norms likewise, and a few roundings follow.
    ``c = 2 (d + 2) + 16`` covers all of them with room to spare.

    Examples
    --------
    >>> fast_error_factor(2, "float64") == 24 * 2.0**-52
    True
    """
    if not isinstance(dtype, (type, np.dtype)):  # a torch dtype or a name
        dtype = str(dtype).replace("torch.", "")
    return (2.0 * (int(n_features) + 2) + 16.0) * float(np.finfo(np.dtype(dtype)).eps)


def fast_error_bound(metric: str, factor: float, sq_i, sq_j):
    """Bound on |fast - exact| in the metric's *native* units.

    Native units are squared distances for ``"euclidean"`` and ``"sqeuclidean"``
    (a fast Euclidean distance is the square root of a fast squared one), and the
    values themselves for ``"cosine"`` and ``"dot"``. ``sq_i`` and ``sq_j`` are the
    squared norms of the rows (arrays broadcast together, or floats).

    Examples
    --------
    >>> fast_error_bound("cosine", 1e-6, 4.0, 9.0)
    2e-06
    >>> fast_error_bound("dot", 1e-6, 4.0, 9.0)
    6e-06
    """
    if metric in ("euclidean", "sqeuclidean"):
        return factor * (sq_i + sq_j)
    if metric == "cosine":
        return 2.0 * factor
    return factor * (sq_i * sq_j) ** 0.5


def band(values, err, metric: str, eps: float, xp=np):
    """Interval [lo, hi] (in the metric's own units) that holds every exact value whose
    fast value is ``values`` (and every fast value of a pair whose exact value it is).

    ``err`` is the native-unit bound of :func:`fast_error_bound`; ``eps`` the machine
    epsilon of the fast dtype, which pads for its final rounding (the square root of
    a Euclidean distance, the clamp of a cosine). ``xp`` is numpy or torch.

    Examples
    --------
    >>> import numpy as np
    >>> lo, hi = band(np.array([5.0]), 1e-8, "euclidean", 2.0**-52)
    >>> bool(lo[0] < 5.0 < hi[0]), bool(hi[0] - lo[0] < 1e-8)
    (True, True)
    """
    pad = 4.0 * eps
    if metric == "euclidean":
        w = values * values
        lo = xp.sqrt(xp.clip(w - err, 0.0, None)) if xp is np else (w - err).clamp(min=0).sqrt()
        hi = xp.sqrt(w + err) if xp is np else (w + err).sqrt()
    else:
        lo, hi = values - err, values + err
    tiny = 1e-300
    return lo - pad * abs(lo) - tiny, hi + pad * abs(hi) + tiny
