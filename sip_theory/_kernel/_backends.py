"""The few array operations where numpy and torch spell things differently.

The pair space (:mod:`._space`) is written once against this small interface;
:class:`NumpyOps` serves ``graphs`` and ``theory`` (numpy only, so importing them
never imports torch), :class:`TorchOps` serves ``geometry`` on CPU or GPU. Only
operations whose *results* are identical across the two (indexing, sorting with
an explicit tie rule, exact comparisons) or whose rounding the exactness rule
bounds (the matrix product) are listed.
"""

from __future__ import annotations

import numpy as np

from ._exact import _correct_sqrt_, exact_dissimilarities, exact_dissimilarities_torch

__all__ = ["NumpyOps", "TorchOps", "ops_for"]


def _true_positions(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the True entries of a 2-D boolean array (row-major order).

    Scans 8 bytes at a time, which is much faster than :func:`numpy.nonzero` when few
    entries are True (the usual case: candidates near a threshold).
    """
    rows, width = mask.shape
    if width % 8 or not mask.flags.c_contiguous:
        padded = np.zeros((rows, width + (-width) % 8), dtype=bool)
        padded[:, :width] = mask
        mask, width = padded, padded.shape[1]
    words = mask.view(np.uint64)
    wr, wc = np.nonzero(words)
    if wr.size == 0:
        return wr.astype(np.int64), wc.astype(np.int64)
    sub = mask.reshape(rows, width // 8, 8)[wr, wc]
    hr, hb = np.nonzero(sub)
    return wr[hr].astype(np.int64), (wc[hr] * 8 + hb).astype(np.int64)


class NumpyOps:
    """numpy arrays (CPU)."""

    name = "numpy"
    xp = np
    float64_dtype = np.float64

    @staticmethod
    def float64(a):
        return np.asarray(a, dtype=np.float64)

    @staticmethod
    def cast(a, like):
        return a.astype(like.dtype, copy=False)

    @staticmethod
    def eps(dtype) -> float:
        return float(np.finfo(dtype).eps)

    @staticmethod
    def index(a, like=None):
        return np.asarray(a, dtype=np.int64)

    @staticmethod
    def arange(n, like=None):
        return np.arange(n, dtype=np.int64)

    @staticmethod
    def full(shape, value, like, dtype=None):
        return np.full(shape, value, dtype=like.dtype if dtype is None else dtype)

    @staticmethod
    def matmul(a, b, out=None):
        return np.matmul(a, b.T, out=out)

    @staticmethod
    def row_sq(x):
        return np.einsum("ij,ij->i", x, x)

    @staticmethod
    def nonzero(mask):
        return _true_positions(mask)

    @staticmethod
    def nextafter(a, toward):
        return np.nextafter(a, toward)

    @staticmethod
    def kth_smallest(D, k):
        return np.partition(D, k - 1, axis=1)[:, k - 1]

    @staticmethod
    def min_axis(a, axis):
        return a.min(axis=axis)

    @staticmethod
    def concat(parts, axis):
        return np.concatenate(parts, axis=axis)

    @staticmethod
    def order_within_rows(rows, key, cols, cols_sorted=True):
        return np.lexsort((cols, key, rows))

    @staticmethod
    def bincount(a, n):
        return np.bincount(a, minlength=n)

    @staticmethod
    def cumsum(a):
        return np.cumsum(a)

    @staticmethod
    def searchsorted(sorted_values, v, right):
        return np.searchsorted(sorted_values, v, side="right" if right else "left")

    @staticmethod
    def scatter_min(out, idx, values):
        np.minimum.at(out, idx, values)
        return out

    @staticmethod
    def sqrt_(a):
        np.sqrt(a, out=a)
        return a

    @staticmethod
    def clamp_(a, lo, hi=None):
        np.maximum(a, lo, out=a)  # faster than np.clip
        if hi is not None:
            np.minimum(a, hi, out=a)
        return a

    @staticmethod
    def neg_(a):
        np.negative(a, out=a)
        return a

    @staticmethod
    def exact(x, i, j, metric, y):
        return exact_dissimilarities(x, i, j, metric, y=y)

    @staticmethod
    def to_numpy(a):
        return a


class TorchOps:
    """torch tensors, on their device."""

    name = "torch"
    def __init__(self):
        import torch

        self.xp = torch
        self._torch = torch
        self.float64_dtype = torch.float64

    def float64(self, a):
        return a.double()

    def cast(self, a, like):
        return a.to(like.dtype)

    def eps(self, dtype) -> float:
        return float(self._torch.finfo(dtype).eps)

    def index(self, a, like):
        return self._torch.as_tensor(np.array(a, dtype=np.int64), device=like.device)

    def arange(self, n, like):
        return self._torch.arange(n, device=like.device)

    def full(self, shape, value, like, dtype=None):
        return self._torch.full(shape, value, dtype=like.dtype if dtype is None else dtype,
                                device=like.device)

    def matmul(self, a, b, out=None):
        if out is None:
            return a @ b.T
        return self._torch.mm(a, b.T, out=out)

    def row_sq(self, x):
        return (x * x).sum(1)

    def nonzero(self, mask):
        return self._torch.nonzero(mask, as_tuple=True)

    def nextafter(self, a, toward):
        return self._torch.nextafter(a, toward)

    def kth_smallest(self, D, k):
        return self._torch.topk(D, k, dim=1, largest=False, sorted=True).values[:, -1]

    def min_axis(self, a, axis):
        return a.amin(axis)

    def concat(self, parts, axis):
        return self._torch.cat(parts, axis)

    def order_within_rows(self, rows, key, cols, cols_sorted=True):
        # with ``cols`` row-major sorted within each row already, two stable sorts suffice
        sort = self._torch.sort
        if cols_sorted:
            perm = sort(key, stable=True).indices
        else:
            by_col = sort(cols, stable=True).indices
            perm = by_col[sort(key[by_col], stable=True).indices]
        return perm[sort(rows[perm], stable=True).indices]

    def bincount(self, a, n):
        return self._torch.bincount(a, minlength=n)

    def cumsum(self, a):
        return self._torch.cumsum(a, 0)

    def searchsorted(self, sorted_values, v, right):
        return self._torch.searchsorted(sorted_values, v, right=right)

    def scatter_min(self, out, idx, values):
        return out.scatter_reduce(0, idx, values, reduce="amin")

    def sqrt_(self, a):
        return _correct_sqrt_(a)

    @staticmethod
    def clamp_(a, lo, hi=None):
        return a.clamp_(lo, hi)

    @staticmethod
    def neg_(a):
        return a.neg_()

    def exact(self, x, i, j, metric, y):
        return exact_dissimilarities_torch(x, i, j, metric, y=y)

    @staticmethod
    def to_numpy(a):
        return a.cpu().numpy()


_TORCH_OPS: TorchOps | None = None


def ops_for(array):
    """The operations for ``array``: numpy for an ndarray, torch for a tensor."""
    global _TORCH_OPS
    if isinstance(array, np.ndarray):
        return NumpyOps
    if _TORCH_OPS is None:
        _TORCH_OPS = TorchOps()
    return _TORCH_OPS

