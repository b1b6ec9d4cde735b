"""Graph pair samplers: which pairs of samples a structure-inducing loss sees.

All samplers work on the CSR arrays of a :class:`~sip_theory.graphs.SampleGraph`
with vectorized numpy, take an explicit ``seed`` (int or ``numpy.random.Generator``)
and return node indices (int64). ``-1`` marks "no such partner".
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from .._serialization import ToDictMixin
from .._validation import as_generator, check_one_of
from ..graphs import as_sample_graph

__all__ = ["GraphPairSampler", "PairSample", "batch_pairs", "sample_pairs"]

NEGATIVE_POOLS = ("global", "component")
POSITIVE_MODES = ("uniform", "weighted")


@dataclasses.dataclass(frozen=True)
class PairSample(ToDictMixin):
    """One positive and one negative partner per anchor (node indices; -1 = none).

    Attributes
    ----------
    anchors, positives, negatives : numpy.ndarray of int64, shape (B,)
    """

    anchors: np.ndarray
    positives: np.ndarray
    negatives: np.ndarray

    _to_dict_extra = ("n_without_positive", "n_without_negative")

    @property
    def n_without_positive(self) -> int:
        """Anchors without a neighbour (isolated nodes)."""
        return int((self.positives < 0).sum())

    @property
    def n_without_negative(self) -> int:
        """Anchors without an admissible non-neighbour."""
        return int((self.negatives < 0).sum())

    def global_pairs(self):
        """``(a1, p, a2, n)`` in node indices, for an embedding matrix with one row per node.

        Anchors without a positive (negative) are left out of the positive
        (negative) pairs.
        """
        vp, vn = self.positives >= 0, self.negatives >= 0
        return self.anchors[vp], self.positives[vp], self.anchors[vn], self.negatives[vn]

    def local_pairs(self):
        """``(ref_nodes, (a1, p, a2, n))`` for a batch whose anchor rows are ``anchors``.

        ``ref_nodes`` are the nodes to embed as references: the valid positives,
        then the valid negatives. ``a1``/``a2`` index the anchor rows (0..B-1),
        ``p``/``n`` index ``ref_nodes``.
        """
        vp = np.flatnonzero(self.positives >= 0)
        vn = np.flatnonzero(self.negatives >= 0)
        ref_nodes = np.concatenate([self.positives[vp], self.negatives[vn]])
        p = np.arange(vp.size, dtype=np.int64)
        n = vp.size + np.arange(vn.size, dtype=np.int64)
        return ref_nodes, (vp.astype(np.int64), p, vn.astype(np.int64), n)


class GraphPairSampler:
    """Vectorized pair sampler over one graph (precomputes the lookup arrays once).

    Parameters
    ----------
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array
    negatives : {"global", "component"}, default "global"
        Pool of an anchor's negatives: every other node that is not a neighbour
        (the paper), or only such nodes in the anchor's connected component.
    positives : {"uniform", "weighted"}, default "uniform"
        A neighbour uniformly at random (the paper), or proportionally to the
        edge weight.

    Notes
    -----
    Negatives are drawn by vectorized rejection sampling (draw from the pool,
    reject self and neighbours, redraw the rejected) while an anchor's
    acceptance probability is at least 1/2; anchors with a lower one, and those
    still rejected after ``max_rounds``, get an exact draw instead: the r-th
    admissible node is found by a binary search over the anchor's sorted
    excluded set (r uniform), so every anchor's negative is exactly uniform over
    its admissible pool either way. Anchors with an empty pool (isolated node
    for positives; neighbour of everything in its pool for negatives) get -1.

    Examples
    --------
    >>> from sip_theory.graphs import SampleGraph
    >>> g = SampleGraph.from_edges([(0, 1), (1, 2)], n_nodes=4)
    >>> s = GraphPairSampler(g).sample(seed=0)
    >>> s.positives[3], s.negatives[1]  # node 3 is isolated; 1's only non-neighbour is 3
    (np.int64(-1), np.int64(3))
    """

    def __init__(self, graph, *, negatives: str = "global", positives: str = "uniform",
                 max_rounds: int = 20):
        check_one_of(negatives, NEGATIVE_POOLS, name="negatives")
        check_one_of(positives, POSITIVE_MODES, name="positives")
        g = as_sample_graph(graph)
        self.graph = g
        self.negatives = negatives
        self.positives = positives
        self.max_rounds = int(max_rounds)
        self.n = g.n_nodes
        self._indptr = np.asarray(g.indptr, dtype=np.int64)
        self._indices = np.asarray(g.indices, dtype=np.int64)
        self._deg = np.diff(self._indptr)
        self._keys = None
        self._cumw = None
        self._csr = None
        if negatives == "component":
            _, lab = g.connected_components()
            self._lab = lab
            self._order = np.argsort(lab, kind="stable").astype(np.int64)
            self._comp_size = np.bincount(lab).astype(np.int64)
            self._comp_start = np.cumsum(self._comp_size) - self._comp_size
            self._posn = np.empty(self.n, dtype=np.int64)
            self._posn[self._order] = np.arange(self.n, dtype=np.int64)

    # -------------------------------------------------------------- helpers
    @property
    def keys(self) -> np.ndarray:
        """Sorted ``row * n + col`` of every stored adjacency entry."""
        if self._keys is None:
            rows = np.repeat(np.arange(self.n, dtype=np.int64), self._deg)
            self._keys = rows * self.n + self._indices
        return self._keys

    def is_edge(self, u, v) -> np.ndarray:
        """Vectorized edge test for aligned node arrays ``u``, ``v``."""
        u = np.asarray(u, dtype=np.int64)
        v = np.asarray(v, dtype=np.int64)
        key = u * self.n + v
        keys = self.keys
        pos = np.searchsorted(keys, key)
        pos_c = np.minimum(pos, max(keys.size - 1, 0))
        return (pos < keys.size) & (keys[pos_c] == key) if keys.size else np.zeros(key.shape, bool)

    def _check_anchors(self, anchors) -> np.ndarray:
        if anchors is None:
            return np.arange(self.n, dtype=np.int64)
        a = np.asarray(anchors)
        if a.ndim != 1:
            raise ValueError(f"anchors must be a 1-D array of node indices, got shape {a.shape}")
        if a.size and a.dtype.kind not in "iu":
            raise TypeError(f"anchors must hold integer node indices, got dtype {a.dtype}")
        a = a.astype(np.int64)
        if a.size and (a.min() < 0 or a.max() >= self.n):
            raise ValueError(f"anchors has node indices outside [0, {self.n})")
        return a

    def _pool(self, a):
        if self.negatives == "global":
            return np.zeros_like(a), np.full_like(a, self.n)
        comp = self._lab[a]
        return self._comp_start[comp], self._comp_size[comp]

    def _pool_node(self, start, q):
        if self.negatives == "global":
            return q
        return self._order[start + q]

    # -------------------------------------------------------------- sampling
    def sample_positives(self, anchors, rng) -> np.ndarray:
        """One neighbour per anchor (uniform or weight-proportional); -1 if isolated."""
        a = anchors
        deg = self._deg[a]
        has = deg > 0
        out = np.full(a.shape, -1, dtype=np.int64)
        if self.positives == "uniform":
            k = rng.integers(0, np.maximum(deg, 1))
            idx = self._indptr[a] + k
            out[has] = self._indices[idx[has]]
            return out
        if self._cumw is None:
            self._cumw = np.cumsum(np.asarray(self.graph.data, dtype=np.float64))
        cw = self._cumw
        lo = self._indptr[a]
        hi = self._indptr[a + 1]
        base = np.where(lo > 0, cw[np.maximum(lo - 1, 0)], 0.0)
        top = np.where(hi > 0, cw[np.maximum(hi - 1, 0)], 0.0)
        u = rng.random(a.shape)
        target = base + u * (top - base)
        idx = np.searchsorted(cw, target, side="right")
        idx = np.clip(idx, lo, np.maximum(hi - 1, lo))
        out[has] = self._indices[idx[has]]
        return out

    def sample_negatives(self, anchors, rng) -> np.ndarray:
        """One admissible non-neighbour (not self) per anchor; -1 if the pool is empty."""
        a = anchors
        deg = self._deg[a]
        start, size = self._pool(a)
        allowed = size - 1 - deg
        out = np.full(a.shape, -1, dtype=np.int64)
        todo = allowed > 0
        exact = todo & (2 * allowed < size)
        idx = np.flatnonzero(todo & ~exact)
        for _ in range(self.max_rounds):
            if idx.size == 0:
                break
            q = rng.integers(0, size[idx])
            cand = self._pool_node(start[idx], q)
            bad = (cand == a[idx]) | self.is_edge(a[idx], cand)
            good = ~bad
            out[idx[good]] = cand[good]
            idx = idx[bad]
        rest = np.sort(np.concatenate([np.flatnonzero(exact), idx]))
        if rest.size:
            out[rest] = self._exact_negatives(a[rest], start[rest], allowed[rest], rng)
        return out

    def _exact_negatives(self, a, start, allowed, rng) -> np.ndarray:
        """Exactly uniform admissible negatives via rank selection (no rejection)."""
        n1 = self.n + 1
        deg = self._deg[a]
        lengths = deg + 1
        s = a.size
        seg = np.repeat(np.arange(s, dtype=np.int64), lengths)
        seg_start = np.cumsum(lengths) - lengths
        offs = np.arange(seg.size, dtype=np.int64) - seg_start[seg]
        is_self = offs == deg[seg]
        src = self._indptr[a][seg] + np.where(is_self, 0, offs)
        vals = np.where(is_self, a[seg], self._indices[np.minimum(src, self._indices.size - 1)]
                        if self._indices.size else a[seg])
        if self.negatives == "component":
            vals = self._posn[vals] - start[seg]
        skey = np.sort(seg * n1 + vals)
        sval = skey - seg * n1
        gap = sval - offs  # admissible positions before each excluded one
        key2 = seg * n1 + gap
        r = rng.integers(0, allowed)
        k = np.searchsorted(key2, np.arange(s, dtype=np.int64) * n1 + r, side="right") - seg_start
        v = r + k
        return self._pool_node(start, v)

    def sample(self, anchors=None, *, seed) -> PairSample:
        """Draw one positive and one negative per anchor.

        Parameters
        ----------
        anchors : array-like of int, optional
            Anchor nodes (repeats allowed); default every node once.
        seed : int or numpy.random.Generator

        Returns
        -------
        PairSample
        """
        rng = as_generator(seed)
        a = self._check_anchors(anchors)
        pos = self.sample_positives(a, rng)
        neg = self.sample_negatives(a, rng)
        return PairSample(anchors=a, positives=pos, negatives=neg)

    def batch_pairs(self, nodes, ref_nodes=None):
        """All pairs of a batch from the induced subgraph; see :func:`batch_pairs`."""
        b = self._check_anchors(nodes)
        same_rows = ref_nodes is None
        r = b if same_rows else self._check_anchors(ref_nodes)
        if self._csr is None:
            self._csr = sp.csr_matrix(
                (np.ones_like(self._indices, dtype=np.int8), self._indices, self._indptr),
                shape=(self.n, self.n),
            )
        linked = self._csr[b][:, r].toarray() != 0
        pos = linked | (b[:, None] == r[None, :])
        admissible = np.ones_like(pos)
        if same_rows:
            np.fill_diagonal(pos, False)
            np.fill_diagonal(admissible, False)
        if self.negatives == "component":
            admissible &= self._lab[b][:, None] == self._lab[r][None, :]
        neg = admissible & ~pos
        a1, p = np.nonzero(pos)
        a2, n = np.nonzero(neg)
        return a1.astype(np.int64), p.astype(np.int64), a2.astype(np.int64), n.astype(np.int64)


def sample_pairs(
    graph,
    anchors=None,
    *,
    seed,
    negatives: str = "global",
    positives: str = "uniform",
) -> PairSample:
    """The paper's sampler: one uniform neighbour and one uniform non-neighbour per anchor.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array
    anchors : array-like of int, optional
        Default: every node once (one epoch of the paper's protocol).
    seed : int or numpy.random.Generator
    negatives : {"global", "component"}, default "global"
        Non-neighbours anywhere (the paper) or only in the anchor's connected component.
    positives : {"uniform", "weighted"}, default "uniform"

    Returns
    -------
    PairSample
        ``positives[k] = -1`` for an isolated anchor, ``negatives[k] = -1`` for an
        anchor linked to every other node of its pool. A negative is never the
        anchor itself or one of its neighbours.

    See Also
    --------
    GraphPairSampler : the same with the lookup arrays kept for repeated epochs.
    batch_pairs : every pair of a batch instead of one of each per anchor.

    Examples
    --------
    >>> from sip_theory.graphs import SampleGraph
    >>> g = SampleGraph.from_edges([(0, 1), (2, 3)])
    >>> s = sample_pairs(g, seed=0)
    >>> s.positives.tolist()
    [1, 0, 3, 2]
    >>> bool(all(n in (2, 3) for n in s.negatives[:2]))
    True
    """
    return GraphPairSampler(graph, negatives=negatives, positives=positives).sample(
        anchors, seed=seed
    )


def batch_pairs(graph, nodes, ref_nodes=None, *, negatives: str = "global"):
    """Every pair of a batch, labelled by the induced subgraph.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array
    nodes : array-like of int, shape (B,)
        The batch's anchor rows (repeats allowed: copies of one node).
    ref_nodes : array-like of int, shape (R,), optional
        The reference rows. If omitted, the references are the anchor rows
        themselves and a row is never paired with itself.
    negatives : {"global", "component"}, default "global"
        With ``"component"`` only pairs within one connected component are negatives.

    Returns
    -------
    a1, p, a2, n : numpy.ndarray of int64
        Row indices (into ``nodes`` and ``ref_nodes``): ``(a1, p)`` positive pairs
        (linked, or two copies of the same node), ``(a2, n)`` negative pairs.
        Two copies of one node are always positives, never negatives.

    Examples
    --------
    >>> from sip_theory.graphs import SampleGraph
    >>> g = SampleGraph.from_edges([(0, 1)], n_nodes=3)
    >>> a1, p, a2, n = batch_pairs(g, [0, 1, 2, 0])
    >>> sorted(zip(a1.tolist(), p.tolist()))
    [(0, 1), (0, 3), (1, 0), (1, 3), (3, 0), (3, 1)]
    >>> sorted(zip(a2.tolist(), n.tolist()))
    [(0, 2), (1, 2), (2, 0), (2, 1), (2, 3), (3, 2)]
    """
    return GraphPairSampler(graph, negatives=negatives).batch_pairs(nodes, ref_nodes)
