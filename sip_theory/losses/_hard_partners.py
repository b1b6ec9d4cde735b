"""Candidate tables of the hard-partner strategies: two-hop nodes and k-NN rank bands.

Two literatures pick harder partners than a uniform neighbour and a uniform
non-neighbour. SPECTER (Cohan et al., 2020) takes hard negatives from papers
cited by a paper the query cites but not by the query itself: on an undirected
graph, the nodes at graph distance exactly 2 (:func:`two_hop_graph`). SciNCL
(Ostendorff et al., 2022) ranks every other node by its distance to the anchor
in a given embedding space (there a citation-graph embedding) and draws
positives from a band of near ranks and negatives from a band of farther ranks,
the gap between the bands keeping positives and negatives apart
(:func:`knn_rank_band`). :class:`~sip_theory.losses.GraphPairSampler` draws
from these tables.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from .._kernel import METRICS, PairSpace
from .._validation import check_embeddings, check_one_of
from ..graphs import SampleGraph, as_sample_graph

__all__ = ["check_rank_band", "knn_rank_band", "two_hop_graph"]

_ROW_BLOCK_BYTES = 64 * 2**20  # fast-score row block of the rank tables


def two_hop_graph(graph) -> SampleGraph:
    """The graph joining the nodes at graph distance exactly 2 of ``graph``.

    Node ``v`` is a two-hop node of ``a`` when some neighbour of ``a`` is linked
    to ``v`` while ``v`` is neither ``a`` nor a neighbour of ``a``. The relation
    is symmetric, so the result is an undirected :class:`SampleGraph` (unweighted:
    edge weights of ``graph`` play no part).

    Parameters
    ----------
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array

    Returns
    -------
    SampleGraph
        Same nodes (and node ids, auxiliary mask) as ``graph``. A node has no
        two-hop node iff it is linked to every other node of its connected
        component (an isolated node, a node of a clique, the centre of a star).

    Notes
    -----
    Built from the sparsity pattern of A², so memory and time grow with
    ``sum_b deg(b)**2`` over the nodes b (a hub of degree d contributes d² pairs).

    Examples
    --------
    >>> g = SampleGraph.from_edges([(0, 1), (1, 2), (2, 3)], n_nodes=5)  # a path, node 4 alone
    >>> two_hop_graph(g).edges().tolist()
    [[0, 2], [1, 3]]
    """
    g = as_sample_graph(graph)
    n = g.n_nodes
    indptr = np.asarray(g.indptr, dtype=np.int64)
    indices = np.asarray(g.indices, dtype=np.int64)
    a = sp.csr_matrix((np.ones(indices.size, dtype=np.int64), indices, indptr), shape=(n, n))
    a2 = (a @ a).tocoo()
    rows, cols = a2.row.astype(np.int64), a2.col.astype(np.int64)
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    if indices.size and rows.size:  # drop pairs that are already linked (distance 1)
        keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr)) * n + indices
        pos = np.minimum(np.searchsorted(keys, rows * n + cols), keys.size - 1)
        linked = keys[pos] == rows * n + cols
        rows, cols = rows[~linked], cols[~linked]
    adj = sp.csr_matrix((np.ones(rows.size, dtype=np.float64), (rows, cols)), shape=(n, n))
    aux = g.auxiliary if np.asarray(g.auxiliary).any() else None
    return SampleGraph(adj, weighted=False, node_ids=g.node_ids, auxiliary=aux)


def check_rank_band(band, *, name: str) -> tuple[int, int]:
    """Return ``band`` as ``(lo, hi)``, raising unless it is two integers with 0 <= lo < hi.

    Examples
    --------
    >>> check_rank_band((20, 25), name="k_pos")
    (20, 25)
    """
    ok = (isinstance(band, (tuple, list)) and len(band) == 2
          and all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))
                  for v in band))
    if not ok or not 0 <= band[0] < band[1]:
        raise ValueError(f"{name} must be a pair (lo, hi) of integers with 0 <= lo < hi, "
                         f"got {band!r}")
    return int(band[0]), int(band[1])


def knn_rank_band(embedding, band, *, metric: str = "euclidean") -> np.ndarray:
    """Per node, the other nodes of neighbour ranks ``lo <= rank < hi`` in ``embedding``.

    For each node, every other node is ranked by its dissimilarity to it under
    ``metric`` (exact float64 values, ties broken by the smaller node index):
    rank 0 is the nearest other node. The SciNCL convention of a band of ``c``
    ranks ending at the ``k``-th nearest neighbour is ``band=(k - c, k)``.

    Parameters
    ----------
    embedding : array-like of shape (n, d)
        Finite values, one row per node; ``n = 0`` gives an empty table.
    band : (int, int)
        ``(lo, hi)`` with ``0 <= lo < hi``.
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
        ``"dot"`` ranks by decreasing inner product.

    Returns
    -------
    numpy.ndarray of int64, shape (n, hi - lo)
        Column ``j`` of row ``a`` is the node of rank ``lo + j`` for ``a``; -1
        where that rank does not exist (``lo + j >= n - 1``).

    Notes
    -----
    The ranks come from :meth:`sip_theory._kernel.PairSpace.k_nearest` (fast
    distance blocks, exact values wherever rounding could reorder), so they
    equal a brute-force sort of the exact dissimilarities by (value, index).
    Memory: ``n * hi`` indices per row block, about 64 MiB of fast scores.

    Examples
    --------
    >>> x = [[0.0], [1.0], [3.0], [7.0]]
    >>> knn_rank_band(x, (1, 3)).tolist()  # ranks 1 and 2 of each node
    [[2, 3], [2, 3], [0, 3], [1, 0]]
    >>> knn_rank_band([[0.0], [1.0], [-1.0]], (0, 3)).tolist()  # a tie goes to node 1; no rank 2
    [[1, 2, -1], [0, 2, -1], [0, 1, -1]]
    """
    lo, hi = check_rank_band(band, name="band")
    check_one_of(metric, METRICS, name="metric")
    arr = np.asarray(embedding)
    if arr.ndim == 2 and arr.shape[0] == 0:
        return np.zeros((0, hi - lo), dtype=np.int64)
    x = check_embeddings(arr, name="embedding")
    n = x.shape[0]
    out = np.full((n, hi - lo), -1, dtype=np.int64)
    k = min(hi, n - 1)
    if k <= lo:
        return out
    space = PairSpace(x, None, metric, centre=True, name="embedding")
    native = metric in ("euclidean", "sqeuclidean")
    bs = max(_ROW_BLOCK_BYTES // (x.dtype.itemsize * n), 1)
    for i0 in range(0, n, bs):
        i1 = min(i0 + bs, n)
        d = space.fast_block(i0, i1, exclude_self=True, native=native)
        idx, _ = space.k_nearest(d, i0, k, native=native)
        out[i0:i1, : k - lo] = idx[:, lo:k]
    return out
