"""Graph pair samplers: which pairs of samples a structure-inducing loss sees.

All samplers work on the CSR arrays of a :class:`~sip_theory.graphs.SampleGraph`
with vectorized numpy, take an explicit ``seed`` (int or ``numpy.random.Generator``)
and return node indices (int64). ``-1`` marks "no such partner". The default
(uniform neighbour, uniform non-neighbour) is the paper's; the hard-partner
strategies (two-hop negatives, k-NN rank bands) draw from the tables of
``_hard_partners``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from .._kernel import METRICS
from .._serialization import ToDictMixin
from .._validation import as_generator, check_one_of, check_positive_int
from ..graphs import as_sample_graph
from ._hard_partners import check_rank_band, knn_rank_band, two_hop_graph

__all__ = ["GraphPairSampler", "PairSample", "batch_pairs", "sample_pairs"]

NEGATIVE_POOLS = ("global", "component")  # uniform over a pool (batch_pairs labels by these)
NEGATIVE_MODES = NEGATIVE_POOLS + ("two_hop", "knn_band")
POSITIVE_MODES = ("uniform", "weighted", "knn_band")
FALLBACKS = ("global", "none")


@dataclasses.dataclass(frozen=True)
class PairSample(ToDictMixin):
    """One positive and one negative partner per anchor (node indices; -1 = none).

    Attributes
    ----------
    anchors, positives, negatives : numpy.ndarray of int64, shape (B,)
    negative_fallback : numpy.ndarray of bool, shape (B,), optional
        True where the strategy had no candidate for the anchor (no two-hop
        node, no admissible node in the k-NN band) and the negative was drawn
        uniformly from every non-neighbour instead; None for the uniform pools,
        which never fall back.
    """

    anchors: np.ndarray
    positives: np.ndarray
    negatives: np.ndarray
    negative_fallback: np.ndarray | None = None

    _to_dict_extra = ("n_without_positive", "n_without_negative", "n_negative_fallbacks")

    @property
    def n_without_positive(self) -> int:
        """Anchors without a neighbour (isolated nodes)."""
        return int((self.positives < 0).sum())

    @property
    def n_without_negative(self) -> int:
        """Anchors without an admissible non-neighbour."""
        return int((self.negatives < 0).sum())

    @property
    def n_negative_fallbacks(self) -> int:
        """Anchors whose strategy had no candidate (see ``negative_fallback``).

        They got a uniform non-neighbour when one exists (``fallback="global"``)
        and -1 otherwise, so this count includes anchors also counted in
        :attr:`n_without_negative`.
        """
        return 0 if self.negative_fallback is None else int(self.negative_fallback.sum())

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
    negatives : {"global", "component", "two_hop", "knn_band"}, default "global"
        How an anchor's negative is drawn, always among nodes that are neither
        the anchor nor linked to it:

        - ``"global"``: uniformly from every such node (the paper);
        - ``"component"``: uniformly from such nodes of the anchor's connected
          component;
        - ``"two_hop"``: uniformly from the nodes at graph distance exactly 2
          (linked to a neighbour of the anchor, not to the anchor), the hard
          negatives of SPECTER (Cohan et al., 2020); see
          :func:`~sip_theory.losses.two_hop_graph`;
        - ``"knn_band"``: uniformly from the non-neighbours whose neighbour rank
          for the anchor in ``embedding`` lies in ``k_neg`` (SciNCL, Ostendorff
          et al., 2022); see :func:`~sip_theory.losses.knn_rank_band`.
    positives : {"uniform", "weighted", "knn_band"}, default "uniform"
        A neighbour uniformly at random (the paper); a neighbour with
        probability proportional to its edge weight (on an unweighted graph
        every weight is 1, so the distribution is the uniform one, drawn
        differently); or uniformly a node whose rank in ``embedding`` lies in
        ``k_pos``, linked or not (SciNCL's positives are embedding neighbours).
    max_rounds : int, default 20
        Rejection rounds of the uniform negatives before the exact draw.
    embedding : array-like of shape (n_nodes, d), optional
        The space the k-NN bands rank in (e.g. a graph embedding); required
        exactly when ``positives`` or ``negatives`` is ``"knn_band"``.
    k_pos, k_neg : (int, int), optional
        Rank bands ``[lo, hi)`` (rank 0 = nearest other node, ties to the smaller
        index) of ``"knn_band"`` positives and negatives; each required exactly
        when its strategy is ``"knn_band"``. With both, ``k_neg`` starts at or
        after the end of ``k_pos``, so no node is both an anchor's positive and
        negative candidate. Ranks past ``n_nodes - 2`` do not exist and are left out.
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
        Dissimilarity of the k-NN ranks.
    fallback : {"global", "none"}, default "global"
        What an anchor gets when ``"two_hop"`` or ``"knn_band"`` has no candidate
        for it: a uniform non-neighbour from the whole graph (the
        ``"global"`` draw), or -1. Either way the anchor is flagged in
        :attr:`PairSample.negative_fallback` and counted in
        :attr:`PairSample.n_negative_fallbacks`. An anchor has no two-hop node
        exactly when it is linked to every other node of its component, so the
        fallback's negatives all lie in other components.

    Notes
    -----
    Uniform negatives are drawn by vectorized rejection sampling (draw from the pool,
    reject self and neighbours, redraw the rejected) while an anchor's
    acceptance probability is at least 1/2; anchors with a lower one, and those
    still rejected after ``max_rounds``, get an exact draw instead: the r-th
    admissible node is found by a binary search over the anchor's sorted
    excluded set (r uniform), so every anchor's negative is exactly uniform over
    its admissible pool either way. Anchors with an empty pool (isolated node
    for positives; neighbour of everything in its pool for negatives) get -1.

    Weighted positives invert each anchor's own running sum of its edge weights
    (summed in CSR order, so a row's probabilities do not depend on the weights
    of other rows): neighbour j is drawn with probability w_j / sum(w) up to the
    rounding of one product u * sum(w).

    Examples
    --------
    >>> from sip_theory.graphs import SampleGraph
    >>> g = SampleGraph.from_edges([(0, 1), (1, 2)], n_nodes=4)
    >>> s = GraphPairSampler(g).sample(seed=0)
    >>> s.positives[3], s.negatives[1]  # node 3 is isolated; 1's only non-neighbour is 3
    (np.int64(-1), np.int64(3))

    Two-hop negatives on the path 0-1-2-3 plus the isolated node 4: node 0's only
    node at distance 2 is 2; node 1's is 3; node 4 has none and falls back to a
    uniform non-neighbour.

    >>> g = SampleGraph.from_edges([(0, 1), (1, 2), (2, 3)], n_nodes=5)
    >>> s = GraphPairSampler(g, negatives="two_hop").sample(seed=0)
    >>> s.negatives[:2].tolist(), s.negative_fallback.tolist()
    ([2, 3], [False, False, False, False, True])

    k-NN bands on a line: with ``k_pos=(0, 1)`` every positive is the nearest
    other point, with ``k_neg=(2, 3)`` every negative the third nearest (when not
    linked to the anchor).

    >>> x = [[0.0], [1.0], [3.0], [7.0]]
    >>> g = SampleGraph.from_edges([(0, 1)], n_nodes=4)
    >>> s = GraphPairSampler(g, positives="knn_band", negatives="knn_band", embedding=x,
    ...                      k_pos=(0, 1), k_neg=(2, 3)).sample(seed=0)
    >>> s.positives.tolist(), s.negatives.tolist()
    ([1, 0, 1, 2], [3, 3, 3, 0])
    """

    def __init__(self, graph, *, negatives: str = "global", positives: str = "uniform",
                 max_rounds: int = 20, embedding=None, k_pos=None, k_neg=None,
                 metric: str = "euclidean", fallback: str = "global"):
        check_one_of(negatives, NEGATIVE_MODES, name="negatives")
        check_one_of(positives, POSITIVE_MODES, name="positives")
        check_one_of(metric, METRICS, name="metric")
        check_one_of(fallback, FALLBACKS, name="fallback")
        self.max_rounds = check_positive_int(max_rounds, name="max_rounds", minimum=0)
        knn = "knn_band" in (positives, negatives)
        if knn and embedding is None:
            raise ValueError("embedding is required when positives or negatives is 'knn_band'")
        if not knn and embedding is not None:
            raise ValueError("embedding is used only when positives or negatives is 'knn_band'")
        for band, name, arg, mode in ((k_pos, "k_pos", "positives", positives),
                                      (k_neg, "k_neg", "negatives", negatives)):
            if mode == "knn_band" and band is None:
                raise ValueError(f"{name} is required when {arg} is 'knn_band'")
            if mode != "knn_band" and band is not None:
                raise ValueError(f"{name} is used only when {arg} is 'knn_band'")
        k_pos = None if k_pos is None else check_rank_band(k_pos, name="k_pos")
        k_neg = None if k_neg is None else check_rank_band(k_neg, name="k_neg")
        if k_pos is not None and k_neg is not None and k_neg[0] < k_pos[1]:
            raise ValueError(f"k_neg must start at or after the end of k_pos (disjoint bands), "
                             f"got k_pos={k_pos}, k_neg={k_neg}")
        if fallback != "global" and negatives in NEGATIVE_POOLS:
            raise ValueError("fallback applies only when negatives is 'two_hop' or 'knn_band'")
        g = as_sample_graph(graph)
        self.graph = g
        self.negatives = negatives
        self.positives = positives
        self.metric = metric
        self.fallback = fallback
        self.k_pos, self.k_neg = k_pos, k_neg
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
        if knn:
            emb = np.asarray(embedding)
            if emb.ndim != 2 or emb.shape[0] != self.n:
                raise ValueError(f"embedding must have shape (n_nodes={self.n}, d), "
                                 f"got {emb.shape}")
        if negatives == "two_hop":
            h = two_hop_graph(g)
            self._hop_indptr = np.asarray(h.indptr, dtype=np.int64)
            self._hop_indices = np.asarray(h.indices, dtype=np.int64)
        if positives == "knn_band":
            self._pos_band = knn_rank_band(emb, k_pos, metric=metric)
        if negatives == "knn_band":
            band = knn_rank_band(emb, k_neg, metric=metric)
            rows = np.repeat(np.arange(self.n, dtype=np.int64), band.shape[1])
            # a band node linked to its anchor is no negative: keep the admissible ones
            ok = (band >= 0) & ~self.is_edge(rows, np.maximum(band, 0).ravel()).reshape(
                band.shape)
            self._neg_band, self._neg_ok = band, ok

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

    def _pool(self, a, pool):
        if pool == "global":
            return np.zeros_like(a), np.full_like(a, self.n)
        comp = self._lab[a]
        return self._comp_start[comp], self._comp_size[comp]

    def _pool_node(self, start, q, pool):
        if pool == "global":
            return q
        return self._order[start + q]

    # -------------------------------------------------------------- sampling
    def sample_positives(self, anchors, rng) -> np.ndarray:
        """One positive per anchor (see ``positives``); -1 if there is none.

        -1 marks an isolated anchor (``"uniform"``, ``"weighted"``) or an anchor
        with no node in the ``k_pos`` band (``"knn_band"``: fewer than
        ``k_pos[0] + 2`` nodes).
        """
        a = np.asarray(anchors, dtype=np.int64)
        if self.positives == "knn_band":
            return _uniform_in_rows(self._pos_band[a], self._pos_band[a] >= 0, rng)
        deg = self._deg[a]
        has = deg > 0
        out = np.full(a.shape, -1, dtype=np.int64)
        if self.positives == "uniform":
            k = rng.integers(0, np.maximum(deg, 1))
            idx = self._indptr[a] + k
            out[has] = self._indices[idx[has]]
            return out
        if self._cumw is None:
            self._cumw = _row_running_sums(self.graph.data, self._indptr)
        u = rng.random(a.shape)
        if not has.any():
            return out
        lo = self._indptr[a][has]
        d = deg[has]
        j = _first_above(self._cumw, lo, d, u[has] * self._cumw[lo + d - 1])
        out[has] = self._indices[lo + j]
        return out

    def sample_negatives(self, anchors, rng) -> np.ndarray:
        """One negative per anchor (see ``negatives``); never the anchor or a neighbour.

        -1 if the anchor has none: its pool is empty (``"global"``, ``"component"``),
        or the strategy had no candidate and ``fallback="none"`` or the global
        pool is empty too.
        """
        return self._negatives(np.asarray(anchors, dtype=np.int64), rng)[0]

    def _negatives(self, a, rng):
        """(negatives, fallback mask or None) of anchors ``a``."""
        if self.negatives in NEGATIVE_POOLS:
            return self._uniform_negatives(a, rng, self.negatives), None
        if self.negatives == "two_hop":
            size = self._hop_indptr[a + 1] - self._hop_indptr[a]
            has = size > 0
            k = rng.integers(0, np.maximum(size, 1))
            out = np.full(a.shape, -1, dtype=np.int64)
            out[has] = self._hop_indices[(self._hop_indptr[a] + k)[has]]
        else:
            out = _uniform_in_rows(self._neg_band[a], self._neg_ok[a], rng)
            has = out >= 0
        missing = ~has
        if self.fallback == "global" and missing.any():
            out[missing] = self._uniform_negatives(a[missing], rng, "global")
        return out, missing

    def _uniform_negatives(self, a, rng, pool) -> np.ndarray:
        """Uniform admissible non-neighbours from ``pool`` (rejection, then exact draws)."""
        deg = self._deg[a]
        start, size = self._pool(a, pool)
        allowed = size - 1 - deg
        out = np.full(a.shape, -1, dtype=np.int64)
        todo = allowed > 0
        exact = todo & (2 * allowed < size)
        idx = np.flatnonzero(todo & ~exact)
        for _ in range(self.max_rounds):
            if idx.size == 0:
                break
            q = rng.integers(0, size[idx])
            cand = self._pool_node(start[idx], q, pool)
            bad = (cand == a[idx]) | self.is_edge(a[idx], cand)
            good = ~bad
            out[idx[good]] = cand[good]
            idx = idx[bad]
        rest = np.sort(np.concatenate([np.flatnonzero(exact), idx]))
        if rest.size:
            out[rest] = self._exact_negatives(a[rest], start[rest], allowed[rest], rng, pool)
        return out

    def _exact_negatives(self, a, start, allowed, rng, pool) -> np.ndarray:
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
        if pool == "component":
            vals = self._posn[vals] - start[seg]
        skey = np.sort(seg * n1 + vals)
        sval = skey - seg * n1
        gap = sval - offs  # admissible positions before each excluded one
        key2 = seg * n1 + gap
        r = rng.integers(0, allowed)
        k = np.searchsorted(key2, np.arange(s, dtype=np.int64) * n1 + r, side="right") - seg_start
        v = r + k
        return self._pool_node(start, v, pool)

    def sample(self, anchors=None, *, seed) -> PairSample:
        """Draw one positive and one negative per anchor.

        Parameters
        ----------
        anchors : array-like of int, optional
            Anchor nodes (repeats allowed); default every node once.
        seed : int or numpy.random.Generator
            The positives are drawn first, then the negatives, then the
            fallback negatives, from this one stream.

        Returns
        -------
        PairSample
        """
        rng = as_generator(seed)
        a = self._check_anchors(anchors)
        pos = self.sample_positives(a, rng)
        neg, fell_back = self._negatives(a, rng)
        return PairSample(anchors=a, positives=pos, negatives=neg, negative_fallback=fell_back)

    def batch_pairs(self, nodes, ref_nodes=None):
        """All pairs of a batch from the induced subgraph; see :func:`batch_pairs`.

        Only for the pools ``negatives="global"`` and ``"component"``: the other
        strategies draw per anchor and label no batch.
        """
        if self.negatives not in NEGATIVE_POOLS:
            raise ValueError(f"batch_pairs needs negatives in {NEGATIVE_POOLS!r} (a pool every "
                             f"pair is labelled by), got {self.negatives!r}")
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


def _uniform_in_rows(table, ok, rng) -> np.ndarray:
    """Per row, a uniform entry of ``table`` among those where ``ok``; -1 for a row with none.

    One ``rng.integers`` draw per row (rows without a candidate draw from [0, 1)).
    """
    count = ok.sum(axis=1)
    r = rng.integers(0, np.maximum(count, 1))
    out = np.full(table.shape[0], -1, dtype=np.int64)
    has = count > 0
    if has.any():
        # the r-th admissible column: the first whose running count of admissible exceeds r
        col = np.argmax(np.cumsum(ok[has], axis=1) > r[has, None], axis=1)
        out[has] = table[has][np.arange(col.size), col]
    return out


def _row_running_sums(weights, indptr) -> np.ndarray:
    """Running sums of the weights within each CSR row (each row summed from its own start).

    Row by row this is ``np.cumsum`` of the row's weights, in the same order of
    additions; a vectorized loop over the position in the row (max-degree steps).
    """
    out = np.array(weights, dtype=np.float64)
    deg = np.diff(indptr)
    by_deg = np.argsort(-deg, kind="stable")
    sorted_deg = deg[by_deg]
    for k in range(1, int(deg.max()) if deg.size else 0):
        rows = by_deg[: int(np.searchsorted(-sorted_deg, -k, side="left"))]
        pos = indptr[rows] + k
        out[pos] += out[pos - 1]
    return out


def _first_above(cum, lo, length, target) -> np.ndarray:
    """Per row, the first offset j < length with ``cum[lo + j] > target`` (length - 1 if none).

    A vectorized binary search within each row's slice of the running sums.
    """
    left = np.zeros_like(lo)
    right = length.copy()
    while True:
        active = left < right
        if not active.any():
            break
        mid = (left + right) // 2
        above = cum[lo + np.minimum(mid, length - 1)] > target
        left = np.where(active & ~above, mid + 1, left)
        right = np.where(active & above, mid, right)
    return np.minimum(left, length - 1)


def sample_pairs(
    graph,
    anchors=None,
    *,
    seed,
    negatives: str = "global",
    positives: str = "uniform",
    **options,
) -> PairSample:
    """One positive and one negative per anchor; by default the paper's uniform draws.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array
    anchors : array-like of int, optional
        Default: every node once (one epoch of the paper's protocol).
    seed : int or numpy.random.Generator
    negatives : {"global", "component", "two_hop", "knn_band"}, default "global"
        Non-neighbours anywhere (the paper), only in the anchor's connected
        component, at graph distance exactly 2, or in a k-NN rank band; see
        :class:`GraphPairSampler`.
    positives : {"uniform", "weighted", "knn_band"}, default "uniform"
    **options
        ``max_rounds``, ``embedding``, ``k_pos``, ``k_neg``, ``metric``,
        ``fallback`` of :class:`GraphPairSampler`.

    Returns
    -------
    PairSample
        ``positives[k] = -1`` for an anchor without a positive (an isolated
        anchor by default), ``negatives[k] = -1`` for one without a negative (by
        default: linked to every other node of its pool). A negative is never
        the anchor itself or one of its neighbours.

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
    return GraphPairSampler(graph, negatives=negatives, positives=positives,
                            **options).sample(anchors, seed=seed)


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
        (The per-anchor strategies of :class:`GraphPairSampler` label no batch.)

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
