"""Exact pairwise dissimilarities in row blocks (numpy), for the theory checks.

The theory objects need every pair once (recovery margins, radius votes) at
moderate sizes; this is a plain blocked computation, not a neighbour index.
For ``metric="dot"`` the dissimilarity is the negative inner product, so that
"closer" always means "smaller".
"""

from __future__ import annotations

import numpy as np

from .._validation import check_embeddings, check_one_of

__all__ = ["METRICS", "DistanceBlocks"]

METRICS = ("euclidean", "sqeuclidean", "cosine", "dot")
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
        if metric == "cosine":
            norms = np.linalg.norm(x, axis=1)
            if (norms == 0).any():
                raise ValueError(f"{name} has a zero row; the cosine distance is undefined")
            x = x / norms[:, None]
        self.x = x
        self.metric = metric
        self.sq = np.einsum("ij,ij->i", x, x)
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
            q, qsq = query[rows], np.einsum("ij,ij->i", query[rows], query[rows])
        g = q @ self.x.T
        if self.metric == "dot":
            return -g
        if self.metric == "cosine":
            return 1.0 - g
        d2 = np.maximum(qsq[:, None] + self.sq[None, :] - 2.0 * g, 0.0)
        return d2 if self.metric == "sqeuclidean" else np.sqrt(d2)

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


def to_user_radius(r: float, metric: str) -> float:
    """Internal dissimilarity radius -> the radius_graph convention (dot: similarity threshold)."""
    return -r if metric == "dot" else r


def from_user_radius(r: float, metric: str) -> float:
    return -r if metric == "dot" else r
