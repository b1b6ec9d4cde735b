"""Row blocks of exact-decision dissimilarities (numpy), for the theory checks.

The theory objects need every pair once (recovery margins, radius votes) at
moderate sizes: a plain blocked computation over the kernel's
:class:`~sip_theory._kernel.PairSpace` (numpy backend, float64, points centred
for the Euclidean metrics so that a translation costs no precision). For
``metric="dot"`` the dissimilarity is the negative inner product, so that
"closer" always means "smaller". Decisions follow the kernel's exactness rule:
:meth:`DistanceBlocks.exactify` and :meth:`DistanceBlocks.exact_min` recompute
with the exact formula every entry whose fast value could decide otherwise.
"""

from __future__ import annotations

import numpy as np

from .._kernel import METRICS, PairSpace, check_metric
from .._validation import check_embeddings

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

    Examples
    --------
    >>> b = DistanceBlocks([[0.0, 0.0], [3.0, 4.0]])
    >>> b.block(slice(0, 2)).round(12).tolist()
    [[0.0, 5.0], [5.0, 0.0]]
    """

    def __init__(self, embeddings, *, metric: str = "euclidean", chunk_size: int | None = None,
                 name: str = "embeddings"):
        check_metric(metric)
        x = check_embeddings(embeddings, name=name).astype(np.float64)
        self.metric = metric
        self.raw = x
        self.space = PairSpace(x, None, metric, centre=True, name=name)
        self._queries: tuple | None = None  # (array, its space) of the last query set
        n = x.shape[0]
        if chunk_size is None:
            chunk_size = max(1, _BLOCK_ENTRIES // max(n, 1))
        if int(chunk_size) < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.chunk_size = int(chunk_size)

    @property
    def n(self) -> int:
        return int(self.raw.shape[0])

    def _space(self, query) -> PairSpace:
        if query is None:
            return self.space
        if self._queries is None or self._queries[0] is not query:
            self._queries = (query, PairSpace(query, self.raw, self.metric, centre=True,
                                              name="query"))
        return self._queries[1]

    def block(self, rows: slice, query=None) -> np.ndarray:
        """Fast dissimilarities of ``query[rows]`` (default: the embeddings) to all
        embeddings; a point's pair with itself is its fast value (about 0), not excluded."""
        return self._space(query).fast_block(rows.start, rows.stop, exclude_self=False)

    def exact(self, i, j, query=None) -> np.ndarray:
        """Exact dissimilarities of the pairs (query[i] or embeddings[i], embeddings[j])."""
        return self._space(query).exact(np.asarray(i, dtype=np.int64),
                                        np.asarray(j, dtype=np.int64))

    def exact_block(self, rows: slice) -> np.ndarray:
        """Exact dissimilarities of the embeddings ``rows`` to all embeddings (the kernel's
        formula pair by pair: O(rows x n x d) work, for objectives evaluated on small sets)."""
        i = np.repeat(np.arange(rows.start, rows.stop), self.n)
        j = np.tile(np.arange(self.n), rows.stop - rows.start)
        return self.exact(i, j).reshape(rows.stop - rows.start, self.n)

    def exactify(self, rows: slice, d: np.ndarray, thresholds, query=None) -> np.ndarray:
        """``d`` (a block from :meth:`block`) with the exact value in every entry whose fast
        value lies within the rounding bound of one of the sorted ``thresholds``."""
        t = np.asarray(thresholds, dtype=np.float64)
        return self._space(query).exactify(d, rows.start, t)

    def exact_min(self, rows: slice, d: np.ndarray, mask: np.ndarray, query=None) -> np.ndarray:
        """Per row of the block, the exact minimum over the entries where ``mask`` holds."""
        return self._space(query).row_min(d, rows.start, mask)

    def prepare_query(self, query) -> np.ndarray:
        """``query`` checked against the embeddings (float64, same width, no zero row for
        cosine)."""
        q = check_embeddings(query, name="query").astype(np.float64)
        if q.shape[1] != self.raw.shape[1]:
            raise ValueError(
                f"query has {q.shape[1]} features but the embeddings have {self.raw.shape[1]}"
            )
        if self.metric == "cosine":
            self._space(q)  # names the zero rows
        return q

    def row_blocks(self, n_rows: int | None = None):
        n_rows = self.n if n_rows is None else n_rows
        for i0 in range(0, n_rows, self.chunk_size):
            yield slice(i0, min(i0 + self.chunk_size, n_rows))
