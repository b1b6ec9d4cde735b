"""Sampled link retrieval: each edge ranked against K random non-neighbours (OGB's protocol).

Exact link retrieval (:func:`~sip_theory.geometry.link_retrieval`) ranks all n - 1
other samples for every query, O(n^2 d) work. Past about 10^5 samples this
module estimates the scores instead, with O((m_q + n_q K) d) work for n_q query
nodes, their m_q edges and K negatives each, and states the error of every
estimate.

The sampling design (one seed, :func:`numpy.random.default_rng`):

* **query nodes**: the eligible nodes (at least one graph neighbour and one
  candidate), all of them or ``n_queries`` drawn uniformly without replacement;
* **negatives**: for each query node u, ``K_u = min(K, N_u)`` distinct nodes drawn
  uniformly without replacement from its N_u candidates (every node but u, its
  graph neighbours and its ``exclude`` neighbours), shared by all of u's edges; a
  node with N_u <= K gets all of its candidates (``n_clipped`` counts them);
* **pairs for the edge AUROC**: edges drawn uniformly with replacement from the
  graph and non-edge pairs drawn uniformly with replacement from the other pairs
  (all of both when there are few enough to list).

Distances are the kernel's exact float64 values
(:func:`sip_theory._kernel.exact_dissimilarities`), so a tie is an exact tie.
What each estimate estimates, and its error:

* ``mrr``, ``hits_at``: the mean over the directed query edges (u, v) of the
  expectation over the negatives of 1 / rank and of 1[rank <= k], with OGB's
  rank 1 + #{negatives nearer than v} + #{negatives tied with v} / 2 (the mean
  of the optimistic and the pessimistic rank of OGB's link-prediction
  evaluator). This target depends on K, as OGB's scores do. Ratio estimator over
  the query nodes: unbiased when every eligible node is a query, otherwise
  consistent with a bias of order 1 / n_queries.
* ``node_auroc``: the mean over the eligible nodes of the per-node AUROC,
  P(d(u, neighbour) < d(u, candidate)) + P(tie) / 2 over all neighbour x candidate
  pairs. Each node's sampled value is exactly unbiased for it (a negative drawn
  without replacement is marginally uniform on the candidates); the mean is
  unbiased.
* ``edge_auroc``: the global AUROC of :func:`~sip_theory.geometry.graph_recovery`
  (every edge against every non-edge pair, ties 1/2); the two-sample U-statistic
  over the sampled pairs is unbiased, its variance DeLong's.
* ``lrap``: the per-node LRAP of :func:`~sip_theory.geometry.link_retrieval` over the
  candidates u's neighbours plus its K_u sampled negatives, averaged over the
  eligible nodes; its target is the expectation over the negatives ("LRAP at K
  sampled negatives"), for which it is unbiased. It equals the full LRAP exactly
  when K_u = N_u for every node. For the full LRAP no unbiased estimator from
  K < N_u negatives exists: a positive's term L / (L + C) (C the candidates at or
  before it) is not a polynomial of degree <= K in C, and the expectation of any
  function of the count drawn is one (hypergeometric sampling). The sampled LRAP
  is higher than the full one, often much so when positives rank in the top
  N_u / K.

Half-widths: z * SE with the normal quantile of ``confidence``; for the node
and edge metrics the SE is the standard error over the query nodes *without*
finite-population correction, which counts both the node sampling and the
negative sampling (conservative when every eligible node is a query).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from .._kernel import check_metric, exact_dissimilarities, inverse_norms
from .._serialization import ToDictMixin
from .._validation import as_generator, check_embeddings, check_positive_int
from ..graphs import as_sample_graph

__all__ = ["SampledRetrievalResult", "sampled_link_retrieval"]

_PAIRS = 1 << 20  # pairs whose distances one chunk computes
_COMPARISONS = 1 << 23  # positive x negative comparisons held at once


@dataclass(frozen=True, eq=False)
class SampledRetrievalResult(ToDictMixin):
    """Sampled link-retrieval estimates, each with the half-width of its confidence interval.

    Attributes
    ----------
    mrr, mrr_hw : float
        OGB mean reciprocal rank over the directed query edges, and its half-width.
    hits_at, hits_at_hw : dict[int, float]
        OGB Hits@k (rank <= k, ties counted half) per requested k, and half-widths.
    lrap, lrap_hw : float
        LRAP over neighbours plus the sampled negatives (see the module notes: the
        full LRAP when no node was sampled, ``n_clipped == n_queries``).
    node_auroc, node_auroc_hw : float
        Mean per-node AUROC of neighbours against candidates.
    edge_auroc, edge_auroc_hw : float
        Global edge AUROC over pairs (that of ``graph_recovery``); NaN without a non-edge.
    num_negatives : int
        K, the negatives requested per query node.
    seed : int or None
        The seed the samples were drawn with (None when a Generator was passed).
    confidence : float
        Nominal coverage of the intervals.
    metric : str
    n_nodes, n_edges : int
        Of the graph.
    n_eligible : int
        Nodes with a neighbour and a candidate.
    n_queries : int
        Query nodes scored.
    n_query_edges : int
        Directed edges scored (the sum of the query nodes' degrees).
    n_isolated : int
        Nodes without a graph neighbour (never queries).
    n_without_candidates : int
        Nodes with a neighbour but no candidate left (never queries).
    n_clipped : int
        Query nodes with at most K candidates, all of them used.
    n_edge_pairs, n_nonedge_pairs : int
        Pairs drawn for ``edge_auroc``.
    edge_auroc_exact : bool
        Whether ``edge_auroc`` used every edge and every non-edge pair.
    per_node : dict[str, ndarray]
        ``nodes``, ``node_auroc``, ``lrap``, ``reciprocal_rank_sum``, ``degree`` of the queries.
    """

    mrr: float
    mrr_hw: float
    hits_at: dict
    hits_at_hw: dict
    lrap: float
    lrap_hw: float
    node_auroc: float
    node_auroc_hw: float
    edge_auroc: float
    edge_auroc_hw: float
    num_negatives: int
    seed: object
    confidence: float
    metric: str
    n_nodes: int
    n_edges: int
    n_eligible: int
    n_queries: int
    n_query_edges: int
    n_isolated: int
    n_without_candidates: int
    n_clipped: int
    n_edge_pairs: int
    n_nonedge_pairs: int
    edge_auroc_exact: bool
    per_node: dict = field(repr=False, default_factory=dict)

    _to_dict_exclude = ("per_node",)


# --------------------------------------------------------------------------- sampling
def _rows_of(indptr, indices, rows):
    """(row position, value) of the entries of CSR rows ``rows``, row by row."""
    counts = indptr[rows + 1] - indptr[rows]
    pos = np.repeat(np.arange(rows.size), counts)
    starts = np.repeat(indptr[rows] - np.cumsum(counts) + counts, counts)
    return pos, indices[np.arange(pos.size) + starts]


def _forbidden(rows, graphs, n):
    """Sorted CSR (indptr, values) over ``rows`` of each row's self plus its neighbours."""
    parts = [(np.arange(rows.size), rows)] + [_rows_of(g.indptr, g.indices, rows)
                                              for g in graphs]
    keys = np.unique(np.concatenate([p * (n + 1) + v for p, v in parts]))
    pos, vals = keys // (n + 1), keys % (n + 1)
    indptr = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(pos, minlength=rows.size), out=indptr[1:])
    return indptr, vals


def _distinct_draws(rng, sizes, k):
    """(b, k) draws, row r holding min(k, sizes[r]) distinct values uniform in [0, sizes[r])
    (padded with -1): a uniformly random subset of that size.

    Repeated values are redrawn until none is left; the procedure commutes with
    every relabelling of [0, sizes[r]), so the subset it returns is uniform.
    """
    b = sizes.size
    kr = np.minimum(sizes, k)
    out = np.full((b, k), -1, dtype=np.int64)
    full = kr == sizes  # every candidate taken
    cols = np.arange(k)[None, :]
    out[full] = np.where(cols < sizes[full, None], cols, -1)
    dense = ~full & (4 * kr > sizes)  # few candidates: one permutation each
    for r in np.flatnonzero(dense):
        out[r] = rng.permutation(sizes[r])[:k]
    sparse = np.flatnonzero(~full & ~dense)
    if sparse.size:
        s = sizes[sparse][:, None]
        vals = rng.integers(0, s, size=(sparse.size, k))
        while True:
            order = np.argsort(vals, axis=1, kind="stable")
            srt = np.take_along_axis(vals, order, 1)
            dup = np.zeros_like(srt, dtype=bool)
            dup[:, 1:] = srt[:, 1:] == srt[:, :-1]
            if not dup.any():
                break
            rr, cc = np.nonzero(dup)
            vals[rr, order[rr, cc]] = rng.integers(0, s[rr, 0])
        out[sparse] = vals
    return out, kr


def _to_nodes(draws, f_indptr, f_vals, n):
    """Map the r-th candidate (r = a draw) of each row to its node: r plus the number of
    forbidden nodes below it (found on the forbidden values less their position)."""
    b, k = draws.shape
    width = n + 2  # above every forbidden value less its position, and every draw
    pos = np.repeat(np.arange(b), np.diff(f_indptr))
    adj = f_vals - (np.arange(f_vals.size) - f_indptr[pos])  # nondecreasing within a row
    keys = pos * width + adj
    q = np.arange(b)[:, None] * width + np.maximum(draws, 0)
    below = np.searchsorted(keys, q, side="right") - f_indptr[:-1, None]
    return np.where(draws >= 0, draws + below, -1)


# --------------------------------------------------------------------------- statistics
def _mean_hw(values, z):
    if values.size == 0:
        return float("nan"), float("nan")
    m = float(values.mean())
    if values.size < 2:
        return m, float("nan")
    return m, float(z * values.std(ddof=1) / np.sqrt(values.size))


def _ratio_hw(y, w, z):
    """Ratio estimator sum(y) / sum(w) over clusters, and its delta-method half-width."""
    if w.sum() == 0:
        return float("nan"), float("nan")
    r = float(y.sum() / w.sum())
    if y.size < 2:
        return r, float("nan")
    resid = y - r * w
    return r, float(z * resid.std(ddof=1) / (np.sqrt(y.size) * w.mean()))


def _placements(a, b):
    """For each value of ``a``: #{b > a} + #{b == a} / 2 (over sorted ``b``)."""
    lo = np.searchsorted(b, a, side="left")
    hi = np.searchsorted(b, a, side="right")
    return (b.size - hi) + 0.5 * (hi - lo)


def _edge_auroc(X, g, ex, metric, n_pairs, rng, z):
    """Global AUROC of edges against non-edge pairs (unbiased U-statistic, DeLong SE)."""
    n = g.n_nodes
    edges = g.edges()
    total = n * (n - 1) // 2
    keys = np.sort(edges[:, 0].astype(np.int64) * n + edges[:, 1])
    if ex is not None and ex.n_edges:
        e2 = ex.edges()
        forbidden = np.union1d(keys, e2[:, 0].astype(np.int64) * n + e2[:, 1])
    else:
        forbidden = keys
    n_non = total - forbidden.size
    if n_non == 0:
        return float("nan"), float("nan"), 0, 0, False
    exact = total <= 4 * n_pairs
    if exact:  # few pairs: list every one
        iu, ju = np.triu_indices(n, 1)
        pk = iu.astype(np.int64) * n + ju
        keep = ~np.isin(pk, forbidden, assume_unique=True)
        ni, nj = iu[keep], ju[keep]
        ei, ej = edges[:, 0], edges[:, 1]
    else:
        pick = rng.integers(0, edges.shape[0], size=n_pairs)
        ei, ej = edges[pick, 0], edges[pick, 1]
        ni, nj = _nonedge_pairs(rng, n, forbidden, n_pairs)
    de = exact_dissimilarities(X, ei, ej, metric)
    dn = np.sort(exact_dissimilarities(X, ni, nj, metric))
    v10 = _placements(de, dn) / dn.size  # per edge: its AUROC against the non-edges
    auc = float(v10.mean())
    if exact:
        return auc, 0.0, int(de.size), int(dn.size), True
    de_s = np.sort(de)
    v01 = (de_s.size - _placements(dn, de_s)) / de_s.size  # per non-edge: edges below it
    var = v10.var(ddof=1) / v10.size + v01.var(ddof=1) / v01.size
    return auc, float(z * np.sqrt(var)), int(de.size), int(dn.size), False


def _nonedge_pairs(rng, n, forbidden, count):
    """``count`` pairs i < j drawn uniformly with replacement among the non-forbidden ones."""
    out_i, out_j, have = [], [], 0
    while have < count:
        m = 2 * (count - have) + 16
        i = rng.integers(0, n, size=m)
        j = rng.integers(0, n, size=m)
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        ok = lo != hi
        key = lo * n + hi
        pos = np.minimum(np.searchsorted(forbidden, key), max(forbidden.size - 1, 0))
        if forbidden.size:
            ok &= forbidden[pos] != key
        lo, hi = lo[ok][:count - have], hi[ok][:count - have]
        out_i.append(lo)
        out_j.append(hi)
        have += lo.size
    return np.concatenate(out_i), np.concatenate(out_j)


def _check_ks(ks):
    ks = tuple(check_positive_int(k, name="ks") for k in ks)
    if not ks:
        raise ValueError("ks must hold at least one cut-off")
    return ks


def sampled_link_retrieval(
    embeddings,
    graph,
    *,
    num_negatives: int = 100,
    ks=(1, 3, 10),
    n_queries: int | None = 10_000,
    n_pairs: int = 100_000,
    exclude=None,
    metric: str = "euclidean",
    confidence: float = 0.95,
    seed=0,
) -> SampledRetrievalResult:
    """Estimate link retrieval from K sampled non-neighbours per query node (OGB protocol).

    Parameters
    ----------
    embeddings : array-like or torch.Tensor of shape (n, d)
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array
        The positives: every edge (u, v) is scored from both ends (duplicates merged).
    num_negatives : int, default 100
        K, the negatives per query node, drawn without replacement; a node with at
        most K candidates uses all of them (counted in ``n_clipped``).
    ks : sequence of int, default (1, 3, 10)
        Cut-offs of Hits@k.
    n_queries : int or None, default 10000
        Query nodes drawn without replacement from the eligible ones; None: all.
    n_pairs : int, default 100000
        Edges and non-edge pairs drawn for ``edge_auroc`` (every pair when the graph
        has at most 4 ``n_pairs`` pairs).
    exclude : same types as ``graph``, optional
        Known links that are no candidates (the filtered protocol of
        :func:`link_retrieval`); must share no edge with ``graph``.
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
    confidence : float, default 0.95
        Nominal coverage of the normal intervals.
    seed : int or numpy.random.Generator, default 0

    Returns
    -------
    SampledRetrievalResult

    Raises
    ------
    ValueError
        A graph without an edge, or with another node count; ``exclude`` sharing an
        edge with ``graph``; no node with both a neighbour and a candidate; a bad
        K, k, ``n_queries``, ``n_pairs``, ``confidence`` or ``metric``; zero rows
        under ``"cosine"``.

    Notes
    -----
    Negatives of u are drawn uniformly without replacement from its N_u candidates
    (every node but u, its neighbours and its ``exclude`` neighbours) and shared by
    its edges; distances are the kernel's exact values, so ties are exact ties.

    * ``mrr``, ``hits_at``: OGB's rank 1 + #{negatives nearer} + #{tied} / 2 (the mean
      of the optimistic and pessimistic ranks of OGB's link-prediction evaluator);
      target: the mean over directed query edges of its expectation over the
      negatives (it depends on K, as OGB's scores do). Ratio estimator over the query
      nodes: unbiased when every eligible node is a query, else bias O(1/n_queries).
    * ``node_auroc``: per-node P(d(u, neighbour) < d(u, candidate)) + P(tie) / 2,
      averaged over eligible nodes; the sampled value is exactly unbiased.
    * ``edge_auroc``: the all-pairs AUROC of :func:`graph_recovery`, estimated by the
      two-sample U-statistic on drawn edges and non-edge pairs (unbiased; DeLong SE).
    * ``lrap``: the per-node LRAP of :func:`link_retrieval` (max-rank ties) over the
      neighbours plus the K_u drawn negatives; unbiased for its expectation, "LRAP at
      K sampled negatives", and equal to the full LRAP when K_u = N_u. No function of
      the sampled counts is unbiased for the full LRAP when K < N_u: its expectation
      is a polynomial of degree at most K in the number C of candidates before a
      positive (hypergeometric sampling) and L / (L + C) is none. The sampled LRAP
      lies above the full one, by much when positives rank in the top N_u / K.

    Intervals: z times the standard error over query nodes without finite-population
    correction, which counts both the node and the negative sampling (conservative
    when every eligible node is a query). Work O((m_q + n_q K) d) for n_q queries with
    m_q edges, plus O(``n_pairs`` d) for the edge AUROC; memory O(n + m + chunk),
    never O(n^2).

    Examples
    --------
    Four points on a line, edges (0, 1) and (2, 3); with K = 2 every node's two
    candidates are all drawn, so the values are exact:

    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [5.0], [6.0]])
    >>> r = sampled_link_retrieval(X, [(0, 1), (2, 3)], num_negatives=2, ks=(1,))
    >>> r.mrr, r.hits_at, r.node_auroc, r.lrap, r.n_clipped
    (1.0, {1: 1.0}, 1.0, 1.0, 4)

    A tie between the positive and a negative counts half (rank 1.5):

    >>> X = np.array([[0.0], [1.0], [-1.0]])
    >>> r = sampled_link_retrieval(X, [(0, 1)], num_negatives=1, ks=(1,))
    >>> float(r.per_node["reciprocal_rank_sum"][0]), r.hits_at[1] < 1
    (0.6666666666666666, True)
    """
    if hasattr(embeddings, "detach"):  # torch tensor
        embeddings = embeddings.detach().cpu().numpy()
    X = check_embeddings(embeddings)
    n = X.shape[0]
    metric = check_metric(metric)
    if metric == "cosine":
        inverse_norms(X)  # a one-line error naming the zero rows
    K = check_positive_int(num_negatives, name="num_negatives")
    ks = _check_ks(ks)
    n_pairs = check_positive_int(n_pairs, name="n_pairs", minimum=2)
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    z = NormalDist().inv_cdf(0.5 + float(confidence) / 2.0)
    g = as_sample_graph(graph, n_nodes=n, name="graph")
    if g.n_edges == 0:
        raise ValueError("graph has no edges: sampled link retrieval needs at least one edge")
    ex = None if exclude is None else as_sample_graph(exclude, n_nodes=n, name="exclude")
    if ex is not None and ex.n_edges:
        e = ex.edges()
        if np.asarray(g.to_scipy()[e[:, 0], e[:, 1]]).any():
            raise ValueError("exclude shares edges with graph; an edge cannot be both")
    rng = as_generator(seed)
    seed_out = None if isinstance(seed, np.random.Generator) else int(seed)

    deg = np.diff(g.indptr).astype(np.int64)
    n_forbid = 1 + deg + (np.diff(ex.indptr) if ex is not None else 0)
    n_cand = n - n_forbid
    eligible = np.flatnonzero((deg > 0) & (n_cand > 0))
    if eligible.size == 0:
        raise ValueError("graph has no node with both a neighbour and a candidate "
                         "non-neighbour; nothing to rank")
    if n_queries is None or int(check_positive_int(n_queries, name="n_queries")) >= eligible.size:
        queries = eligible
    else:
        queries = np.sort(rng.choice(eligible, size=int(n_queries), replace=False))
    graphs = [g] if ex is None else [g, ex]

    out = {k: np.empty(queries.size) for k in ("auroc", "lrap", "rr")}
    hits = np.empty((queries.size, len(ks)))
    clipped = 0
    per_row = deg[queries] + K
    bounds = np.searchsorted(np.cumsum(per_row), np.arange(0, per_row.sum(), _PAIRS),
                             side="right")
    bounds = np.unique(np.r_[bounds, queries.size])
    start = 0
    for stop in bounds:
        if stop <= start:
            continue
        rows = queries[start:stop]
        fi, fv = _forbidden(rows, graphs, n)
        draws, kr = _distinct_draws(rng, n_cand[rows], K)
        clipped += int((kr == n_cand[rows]).sum())
        negs = _to_nodes(draws, fi, fv, n)
        b = rows.size
        # negative distances, +inf where a row has fewer than K
        ok = negs >= 0
        dneg = np.full((b, K), np.inf)
        rr, cc = np.nonzero(ok)
        dneg[rr, cc] = exact_dissimilarities(X, rows[rr], negs[rr, cc], metric)
        dneg.sort(axis=1)
        ppos, pv = _rows_of(g.indptr, g.indices, rows)
        dpos = exact_dissimilarities(X, rows[ppos], pv, metric)
        stats = _rank_stats(dneg, ppos, dpos, b)
        sl = slice(start, stop)
        d_q = deg[rows].astype(np.float64)
        lt, eq = stats["lt"], stats["eq"]
        out["auroc"][sl] = 1.0 - np.bincount(ppos, lt + 0.5 * eq, b) / (d_q * kr)
        rank = 1.0 + lt + 0.5 * eq
        out["rr"][sl] = np.bincount(ppos, 1.0 / rank, b)
        for t, k in enumerate(ks):
            hits[sl, t] = np.bincount(ppos, (rank <= k).astype(np.float64), b)
        L = stats["L"]
        out["lrap"][sl] = np.bincount(ppos, L / (L + lt + eq), b) / d_q
        start = stop

    w = deg[queries].astype(np.float64)
    mrr, mrr_hw = _ratio_hw(out["rr"], w, z)
    hit_vals = {k: _ratio_hw(hits[:, t], w, z) for t, k in enumerate(ks)}
    lrap, lrap_hw = _mean_hw(out["lrap"], z)
    nauc, nauc_hw = _mean_hw(out["auroc"], z)
    eauc, eauc_hw, n_e, n_ne, e_exact = _edge_auroc(X, g, ex, metric, n_pairs, rng, z)
    return SampledRetrievalResult(
        mrr=mrr, mrr_hw=mrr_hw,
        hits_at={k: v[0] for k, v in hit_vals.items()},
        hits_at_hw={k: v[1] for k, v in hit_vals.items()},
        lrap=lrap, lrap_hw=lrap_hw, node_auroc=nauc, node_auroc_hw=nauc_hw,
        edge_auroc=eauc, edge_auroc_hw=eauc_hw,
        num_negatives=K, seed=seed_out, confidence=float(confidence), metric=metric,
        n_nodes=n, n_edges=g.n_edges, n_eligible=int(eligible.size),
        n_queries=int(queries.size), n_query_edges=int(w.sum()),
        n_isolated=int((deg == 0).sum()),
        n_without_candidates=int(((deg > 0) & (n_cand <= 0)).sum()),
        n_clipped=clipped, n_edge_pairs=n_e, n_nonedge_pairs=n_ne,
        edge_auroc_exact=e_exact,
        per_node={"nodes": queries, "node_auroc": out["auroc"], "lrap": out["lrap"],
                  "reciprocal_rank_sum": out["rr"], "degree": deg[queries]},
    )


def _rank_stats(dneg, ppos, dpos, b):
    """Per positive: #negatives nearer (lt), tied (eq), and L = #positives of its row at
    distance <= its own. ``dneg`` is (b, K) sorted with +inf padding."""
    lt = np.empty(dpos.size)
    eq = np.empty(dpos.size)
    K = dneg.shape[1]
    step = max(1, _COMPARISONS // max(K, 1))
    for s in range(0, dpos.size, step):
        row = dneg[ppos[s:s + step]]
        p = dpos[s:s + step, None]
        lt[s:s + step] = (row < p).sum(1)
        eq[s:s + step] = (row == p).sum(1)
    # L: sort positives by (row, distance); ties take the last position of their group
    order = np.lexsort((dpos, ppos))
    rs, ds = ppos[order], dpos[order]
    last = np.ones(rs.size, dtype=bool)
    last[:-1] = (rs[1:] != rs[:-1]) | (ds[1:] != ds[:-1])
    ends = np.flatnonzero(last)
    group_end = ends[np.searchsorted(ends, np.arange(rs.size))]
    row_start = np.searchsorted(rs, np.arange(b))
    L = np.empty(dpos.size)
    L[order] = group_end - row_start[rs] + 1
    return {"lt": lt, "eq": eq, "L": L}
