"""Exact pairwise dissimilarities in row blocks (numpy), for the theory checks.

The theory objects need every pair once (recovery margins, radius votes) at
moderate sizes; this is a plain blocked computation, not a neighbour index.
For ``metric="dot"`` the dissimilarity is the negative inner product, so that
"closer" always means "smaller".

Blocks are fast (one matrix product, on centred points for the Euclidean
metrics, so a translation does not cost precision); decisions follow the
kernel's exactness rule (:mod:`sip_theory._kernel`): :meth:`DistanceBlocks.exactify`
recomputes with the exact formula every entry whose fast value lies within the
rounding bound of a threshold it is compared with.
"""

from __future__ import annotations

import numpy as np

from .._kernel import METRICS, band, exact_dissimilarities, fast_error_bound, fast_error_factor
from .._validation import check_embeddings, check_one_of

__all__ = ["METRICS", "DistanceBlocks"]
_BLOCK_ENTRIES = 4_000_000  # about 32 MB of float64 per block


class DistanceBlocks:
    """Row blocks of the (n_query, n) dissimilarity matrix under a named metric.

    Parameters
    ----------
    embeddings : array-like (n, d)
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}
    chunk_size : int, optional
        Rows per block; default keeps a block near 4 million entries.
    """

    def __init__(self, embeddings, *, metric: str = "euclidean", chunk_size: int | None = None,
                 name: str = "embeddings"):
        check_one_of(metric, METRICS, name="metric")
        x = check_embeddings(embeddings, name=name).astype(np.float64)
        self.raw = x  # the exact formula reads the points as given
        self.mean = 0.0
        if metric == "cosine":
            norms = np.linalg.norm(x, axis=1)
            if (norms == 0).any():
                raise ValueError(f"{name} has a zero row; the cosine distance is undefined")
            x = x / norms[:, None]
        if metric in ("euclidean", "sqeuclidean") and x.shape[0]:
            self.mean = x.mean(axis=0)
            x = x - self.mean
        self.x = x
        self.metric = metric
        self.sq = np.einsum("ij,ij->i", x, x)
        # centring rounds each coordinate once: a relative error of eps on the centred norms
        self.factor = fast_error_factor(x.shape[1], np.float64) * 1.01 + 8 * 2.0**-52
        self.sq_max = float(self.sq.max()) if x.shape[0] else 0.0
        n = x.shape[0]
        if chunk_size is None:
            chunk_size = max(1, _BLOCK_ENTRIES // max(n, 1))
        if int(chunk_size) < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.chunk_size = int(chunk_size)

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def block(self, rows: slice, query=None) -> np.ndarray:
        """Dissimilarities of ``query[rows]`` (default: the embeddings) to all embeddings."""
        if query is None:
            q, qsq = self.x[rows], self.sq[rows]
        else:
            q = query[rows] - self.mean
            qsq = np.einsum("ij,ij->i", q, q)
        g = q @ self.x.T
        if self.metric == "dot":
            return -g
        if self.metric == "cosine":
            return 1.0 - g
        d2 = np.maximum(qsq[:, None] + self.sq[None, :] - 2.0 * g, 0.0)
        return d2 if self.metric == "sqeuclidean" else np.sqrt(d2)

    def exact(self, i, j, query=None) -> np.ndarray:
        """Exact dissimilarities of the pairs (query[i] or embeddings[i], embeddings[j])."""
        return exact_dissimilarities(self.raw if query is None else query, i, j, self.metric,
                                     y=self.raw)

    def _row_error(self, rows: slice, query=None) -> np.ndarray:
        """Per query row of the block, the bound on |fast - exact| against every point."""
        if query is None:
            sq_q = self.sq[rows]
        else:
            qc = query[rows] - self.mean
            sq_q = np.einsum("ij,ij->i", qc, qc)
        err = fast_error_bound(self.metric, self.factor, sq_q, self.sq_max)
        return np.broadcast_to(np.asarray(err, dtype=np.float64), (rows.stop - rows.start,))

    def exactify(self, rows: slice, d: np.ndarray, thresholds, query=None) -> np.ndarray:
        """``d`` (a block from :meth:`block`) with the exact value in every entry whose fast
        value lies within the rounding bound of one of the sorted ``thresholds``."""
        t = np.asarray(thresholds, dtype=np.float64)
        if t.size == 0 or d.size == 0:
            return d
        err = self._row_error(rows, query)
        lo, hi = band(d, err[:, None], self.metric, 2.0**-52)
        # an entry is undecided when some threshold lies in its band [lo, hi]
        undecided = np.searchsorted(t, lo, side="left") < np.searchsorted(t, hi, side="right")
        qi, cj = np.nonzero(undecided)
        if qi.size:
            d = d.copy()
            d[qi, cj] = self.exact(rows.start + qi, cj, query)
        return d

    def exact_min(self, rows: slice, d: np.ndarray, mask: np.ndarray, query=None) -> np.ndarray:
        """Per row of the block, the exact minimum over the entries where ``mask`` holds."""
        out = np.full(d.shape[0], np.inf)
        masked = np.where(mask, d, np.inf)
        fmin = masked.min(axis=1)
        ok = np.isfinite(fmin)
        if not ok.any():
            return out
        err = self._row_error(rows, query)
        _, hi = band(np.where(ok, fmin, 0.0), err, self.metric, 2.0**-52)
        _, cap = band(hi, err, self.metric, 2.0**-52)
        qi, cj = np.nonzero(masked <= np.where(ok, cap, -np.inf)[:, None])
        ex = self.exact(rows.start + qi, cj, query)
        np.minimum.at(out, qi, ex)
        return out

    def prepare_query(self, query) -> np.ndarray:
        q = check_embeddings(query, name="query").astype(np.float64)
        if q.shape[1] != self.x.shape[1]:
            raise ValueError(
                f"query has {q.shape[1]} features but the embeddings have {self.x.shape[1]}"
            )
        if self.metric == "cosine":
            norms = np.linalg.norm(q, axis=1)
            if (norms == 0).any():
                raise ValueError("query has a zero row; the cosine distance is undefined")
            q = q / norms[:, None]
        return q

    def row_blocks(self, n_rows: int | None = None):
        n_rows = self.n if n_rows is None else n_rows
        for i0 in range(0, n_rows, self.chunk_size):
            yield slice(i0, min(i0 + self.chunk_size, n_rows))
