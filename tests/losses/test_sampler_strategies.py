"""Sampler strategies: two-hop negatives, k-NN rank bands, weighted positives.

What is checked, against computations independent of the sampler: two-hop
negatives are at graph distance exactly 2 (a BFS over neighbour lists) and
uniform over that set; k-NN-band partners lie in their rank band (a brute-force
sort of numpy distances); weighted positives follow the weights (a chi-square
test that uniform draws fail); no negative is ever the anchor or linked to it;
a fallback happens exactly when the strategy has no candidate; seeds reproduce
draws; bad arguments give one-line errors naming the argument.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.graphs import SampleGraph, cliques_from_labels
from sip_theory.losses import GraphPairSampler, knn_rank_band, sample_pairs, two_hop_graph
from sip_theory.testing import finite_arrays, sample_graphs


# --------------------------------------------------------------- independent references
def _bfs_distances(g: SampleGraph, source: int) -> np.ndarray:
    """Graph distances from ``source`` (-1 = unreachable), by a plain BFS."""
    dist = np.full(g.n_nodes, -1)
    dist[source] = 0
    queue = collections.deque([source])
    while queue:
        u = queue.popleft()
        for v in g.neighbors(u).tolist():
            if dist[v] < 0:
                dist[v] = dist[u] + 1
                queue.append(v)
    return dist


def _brute_ranks(x: np.ndarray, a: int, metric: str) -> np.ndarray:
    """rank[v] of every node v != a for anchor a (-1 for a), by (distance, index)."""
    diff = x - x[a]
    if metric == "euclidean":
        d = np.sqrt((diff * diff).sum(1))
    elif metric == "sqeuclidean":
        d = (diff * diff).sum(1)
    elif metric == "dot":
        d = -(x @ x[a])
    else:
        u = x / np.linalg.norm(x, axis=1, keepdims=True)
        d = 1.0 - u @ u[a]
    others = np.array([v for v in range(len(x)) if v != a], dtype=np.int64)
    order = others[np.lexsort((others, d[others]))]
    rank = np.full(len(x), -1)
    rank[order] = np.arange(order.size)
    return rank, d


def _rank_interval(d: np.ndarray, a: int, v: int, tol: float) -> tuple[int, int]:
    """The ranks v can take when distances are known up to ``tol``: (surely before, at most)."""
    others = np.arange(len(d)) != a
    closer = int((others & (d < d[v] - tol)).sum())
    possibly = int((others & (d <= d[v] + tol)).sum()) - 1
    return closer, possibly


def _complete(n):
    return cliques_from_labels(np.zeros(n, dtype=int))


def _is_negative_ok(g, a, n):
    return n != a and not g.has_edge(int(a), int(n))


# --------------------------------------------------------------- two-hop negatives
@settings(max_examples=80, deadline=None)
@given(sample_graphs(min_nodes=0, max_nodes=12), st.sampled_from(["global", "none"]),
       st.integers(0, 2**31 - 1))
def test_two_hop_negatives_are_at_distance_exactly_two(g, fallback, seed):
    anchors = np.tile(np.arange(g.n_nodes), 3)
    s = sample_pairs(g, anchors, seed=seed, negatives="two_hop", fallback=fallback)
    deg = g.degrees()
    for a, p, n, fell in zip(s.anchors, s.positives, s.negatives, s.negative_fallback,
                             strict=True):
        dist = _bfs_distances(g, int(a))
        has_two_hop = bool((dist == 2).any())
        assert fell == (not has_two_hop)
        if p >= 0:  # positives stay the uniform neighbours
            assert g.has_edge(int(a), int(p))
        else:
            assert deg[a] == 0
        if not fell:
            assert dist[n] == 2
        elif fallback == "none":
            assert n == -1
        elif n >= 0:  # fallback: a uniform non-neighbour, outside the component
            assert _is_negative_ok(g, a, n) and dist[n] == -1
        else:
            assert g.n_nodes - 1 - deg[a] == 0
    assert s.n_negative_fallbacks == int(s.negative_fallback.sum())


@settings(max_examples=60, deadline=None)
@given(sample_graphs(min_nodes=0, max_nodes=12))
def test_two_hop_graph_joins_exactly_the_pairs_at_distance_two(g):
    h = two_hop_graph(g)
    assert h.n_nodes == g.n_nodes
    for a in range(g.n_nodes):
        want = np.flatnonzero(_bfs_distances(g, a) == 2)
        assert h.neighbors(a).tolist() == want.tolist()


def test_two_hop_negatives_are_uniform_over_the_set_not_over_paths():
    # node 3 is two hops from 0 by two paths (via 1 and 2), node 4 by one (via 1):
    # uniform over the set gives each 1/2; a random walk would give node 3 3/4
    g = SampleGraph.from_edges([(0, 1), (0, 2), (1, 3), (2, 3), (1, 4)])
    draws = 20_000
    s = GraphPairSampler(g, negatives="two_hop").sample(np.zeros(draws, np.int64), seed=11)
    f = np.bincount(s.negatives, minlength=5)
    assert set(np.flatnonzero(f).tolist()) == {3, 4}
    assert abs(f[3] - draws / 2) < 5 * np.sqrt(draws / 4)


def test_two_hop_hard_cases_complete_star_single_empty():
    # complete graph: no node at distance 2 and no non-neighbour at all
    s = sample_pairs(_complete(5), seed=0, negatives="two_hop")
    assert s.negatives.tolist() == [-1] * 5
    assert s.n_negative_fallbacks == 5 and s.n_without_negative == 5
    # star plus a separate edge: the centre falls back to the other component,
    # the leaves have each other at distance 2
    g = SampleGraph.from_edges([(0, 1), (0, 2), (0, 3), (4, 5)])
    s = sample_pairs(g, np.repeat(np.arange(6), 20), seed=1, negatives="two_hop")
    centre = s.negatives[s.anchors == 0]
    assert set(centre.tolist()) <= {4, 5} and s.negative_fallback[s.anchors == 0].all()
    leaves = s.anchors[(s.anchors >= 1) & (s.anchors <= 3)]
    assert not s.negative_fallback[(s.anchors >= 1) & (s.anchors <= 3)].any()
    assert set(s.negatives[np.isin(s.anchors, leaves)].tolist()) <= {1, 2, 3}
    # nodes 4 and 5 have no two-hop node: their fallback is the star
    assert set(s.negatives[s.anchors >= 4].tolist()) <= {0, 1, 2, 3}
    with_none = sample_pairs(g, seed=1, negatives="two_hop", fallback="none")
    assert with_none.negatives.tolist()[0] == -1 and with_none.n_negative_fallbacks == 3
    # a single node, and the empty graph
    one = sample_pairs(SampleGraph.from_edges([], n_nodes=1), seed=0, negatives="two_hop")
    assert one.negatives.tolist() == [-1] and one.n_negative_fallbacks == 1
    empty = sample_pairs(SampleGraph.from_edges([], n_nodes=0), seed=0, negatives="two_hop")
    assert empty.negatives.size == 0 and empty.n_negative_fallbacks == 0


# --------------------------------------------------------------- k-NN rank bands
def _integer_points(max_n=12):
    # small integer coordinates: many exact ties and duplicate rows, distances exact in float64
    return st.integers(0, max_n).flatmap(lambda n: st.tuples(
        st.just(n), st.integers(1, 3)).flatmap(lambda nd: st.lists(
            st.lists(st.integers(-2, 2), min_size=nd[1], max_size=nd[1]),
            min_size=nd[0], max_size=nd[0]).map(
                lambda rows, d=nd[1]: np.array(rows, dtype=np.float64).reshape(-1, d))))


def _bands():
    return st.tuples(st.integers(0, 6), st.integers(1, 4)).map(lambda t: (t[0], t[0] + t[1]))


@settings(max_examples=80, deadline=None)
@given(_integer_points(), _bands(), st.sampled_from(["euclidean", "sqeuclidean", "dot"]))
def test_knn_rank_band_equals_a_brute_force_sort_with_ties(x, band, metric):
    table = knn_rank_band(x, band, metric=metric)
    n = x.shape[0]
    assert table.shape == (n, band[1] - band[0])
    for a in range(n):
        rank, _ = _brute_ranks(x, a, metric)
        for j, v in enumerate(table[a]):
            r = band[0] + j
            if r >= n - 1:
                assert v == -1
            else:
                assert rank[v] == r


def _graph_and_points(max_n=12):
    return sample_graphs(min_nodes=0, max_nodes=max_n).flatmap(
        lambda g: st.tuples(st.just(g), _integer_points_for(g.n_nodes)))


def _integer_points_for(n):
    return st.integers(1, 3).flatmap(lambda d: st.lists(
        st.lists(st.integers(-2, 2), min_size=d, max_size=d), min_size=n, max_size=n).map(
            lambda rows, d=d: np.array(rows, dtype=np.float64).reshape(n, d)))


@settings(max_examples=80, deadline=None)
@given(_graph_and_points(), _bands(), st.integers(0, 4), st.sampled_from(["global", "none"]),
       st.sampled_from(["euclidean", "dot"]), st.integers(0, 2**31 - 1))
def test_knn_band_partners_lie_in_their_bands(case, k_pos, gap, fallback, metric, seed):
    g, x = case
    k_neg = (k_pos[1] + gap, k_pos[1] + gap + 3)
    sampler = GraphPairSampler(g, positives="knn_band", negatives="knn_band", embedding=x,
                               k_pos=k_pos, k_neg=k_neg, metric=metric, fallback=fallback)
    s = sampler.sample(np.tile(np.arange(g.n_nodes), 3), seed=seed)
    n = g.n_nodes
    for a, p, q, fell in zip(s.anchors, s.positives, s.negatives, s.negative_fallback,
                             strict=True):
        rank, _ = _brute_ranks(x, int(a), metric)
        if p >= 0:
            assert k_pos[0] <= rank[p] < k_pos[1]
        else:
            assert n - 1 <= k_pos[0]  # the band holds no rank
        band_ok = [v for v in range(n) if v != a and k_neg[0] <= rank[v] < k_neg[1]
                   and not g.has_edge(int(a), v)]
        assert fell == (not band_ok)
        if not fell:
            assert q in band_ok
        elif fallback == "none":
            assert q == -1
        elif q >= 0:
            assert _is_negative_ok(g, a, q)
        else:
            assert n - 1 - g.degrees()[a] == 0


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 10).flatmap(lambda n: st.tuples(
    finite_arrays((n, 3), min_value=-10, max_value=10), _bands(),
    st.sampled_from(["euclidean", "sqeuclidean", "cosine", "dot"]))))
def test_knn_rank_band_on_float_points_up_to_rounding(case):
    x, band, metric = case
    if metric == "cosine":
        x[np.linalg.norm(x, axis=1) < 1e-3] = 1.0  # the cosine is undefined at 0
    table = knn_rank_band(x, band, metric=metric)
    for a in range(x.shape[0]):
        _, d = _brute_ranks(x, a, metric)
        tol = 1e-9 * max(1.0, float(np.abs(d).max()))
        for j, v in enumerate(table[a]):
            if v < 0:
                assert band[0] + j >= x.shape[0] - 1
                continue
            closer, possibly = _rank_interval(d, a, int(v), tol)
            assert closer <= band[0] + j <= possibly
    # every row lists distinct nodes, never the anchor itself
    for a, row in enumerate(table):
        row = row[row >= 0]
        assert a not in row and len(set(row.tolist())) == row.size


def test_knn_rank_band_orders_a_one_ulp_margin():
    up = np.nextafter(1.0, 2.0)
    x = np.array([[0.0], [up], [1.0], [-up], [-1.0]])
    # from node 0: 1.0 (nodes 2 and 4, tied: 2 first), then 1 + ulp (nodes 1 and 3)
    assert knn_rank_band(x, (0, 4))[0].tolist() == [2, 4, 1, 3]


def test_knn_band_hard_cases():
    x = np.arange(4.0)[:, None]
    # complete graph: every band node is linked, nobody has a non-neighbour
    s = sample_pairs(_complete(4), seed=0, negatives="knn_band", embedding=x,
                     k_neg=(0, 3))
    assert s.negatives.tolist() == [-1] * 4 and s.n_negative_fallbacks == 4
    # a band past the last rank: no positive, and a fallback for every negative
    s = sample_pairs(SampleGraph.from_edges([], n_nodes=4), seed=0, positives="knn_band",
                     negatives="knn_band", embedding=x, k_pos=(0, 3), k_neg=(3, 5))
    assert s.n_without_positive == 0 and s.n_negative_fallbacks == 4
    assert all(_is_negative_ok(SampleGraph.from_edges([], n_nodes=4), a, n)
               for a, n in zip(s.anchors, s.negatives, strict=True))
    s = sample_pairs(SampleGraph.from_edges([], n_nodes=1), seed=0, positives="knn_band",
                     embedding=[[0.0]], k_pos=(0, 2))
    assert s.positives.tolist() == [-1] and s.negatives.tolist() == [-1]
    s = sample_pairs(SampleGraph.from_edges([], n_nodes=0), seed=0, positives="knn_band",
                     embedding=np.zeros((0, 2)), k_pos=(0, 2))
    assert s.positives.size == 0


# --------------------------------------------------------------- weighted positives
def _chi_square_passes(freq, probs, alpha=1e-6):
    """Pearson's chi-square goodness of fit at level ``alpha``."""
    expected = freq.sum() * probs
    stat = float(((freq - expected) ** 2 / expected).sum())
    return stat < scipy.stats.chi2.ppf(1 - alpha, probs.size - 1), stat


def _star_frequencies(g, positives, draws, seed):
    s = GraphPairSampler(g, positives=positives).sample(np.zeros(draws, np.int64), seed=seed)
    return np.bincount(s.positives, minlength=g.n_nodes)[1:]


def test_weighted_positives_pass_a_chi_square_test_that_uniform_draws_fail():
    w = 2.0 ** np.arange(6)  # skewed: the heaviest leaf has 32/63 of the mass
    g = SampleGraph.from_edges([(0, j) for j in range(1, 7)], weights=w)
    probs = w / w.sum()
    ok, stat = _chi_square_passes(_star_frequencies(g, "weighted", 30_000, 3), probs)
    assert ok, stat
    ok_uniform, stat_uniform = _chi_square_passes(_star_frequencies(g, "uniform", 30_000, 3),
                                                  probs)
    assert not ok_uniform, stat_uniform


def test_weighted_positives_of_a_row_ignore_the_weights_of_other_rows():
    # a heavy edge first in CSR order: one running sum over the whole graph would reach
    # 2e12, where the 1e-6 weights of node 2 are below one ulp and the draw is lost
    g = SampleGraph.from_edges([(0, 1), (2, 3), (2, 4)], weights=[1e12, 1e-6, 3e-6])
    s = GraphPairSampler(g, positives="weighted").sample(np.full(8000, 2), seed=5)
    f = np.bincount(s.positives, minlength=5)
    ok, stat = _chi_square_passes(f[3:], np.array([0.25, 0.75]))
    assert ok, stat


@settings(max_examples=60, deadline=None)
@given(sample_graphs(min_nodes=0, max_nodes=10, weighted=True), st.integers(0, 2**31 - 1))
def test_weighted_positives_are_neighbours(g, seed):
    s = sample_pairs(g, np.tile(np.arange(g.n_nodes), 3), seed=seed, positives="weighted")
    deg = g.degrees()
    for a, p in zip(s.anchors, s.positives, strict=True):
        assert g.has_edge(int(a), int(p)) if p >= 0 else deg[a] == 0


def test_weighted_positives_on_an_unweighted_graph_are_uniform():
    g = SampleGraph.from_edges([(0, j) for j in range(1, 6)])
    ok, stat = _chi_square_passes(_star_frequencies(g, "weighted", 10_000, 2),
                                  np.full(5, 0.2))
    assert ok, stat


# --------------------------------------------------------------- seeds and arguments
_STRATEGIES = [
    dict(negatives="two_hop"),
    dict(negatives="two_hop", fallback="none"),
    dict(positives="weighted"),
    dict(positives="knn_band", k_pos=(1, 4)),
    dict(negatives="knn_band", k_neg=(5, 12)),
    dict(positives="knn_band", negatives="knn_band", k_pos=(0, 3), k_neg=(3, 9),
         metric="cosine"),
]


@pytest.mark.parametrize("opts", _STRATEGIES, ids=lambda o: ",".join(map(str, o.values())))
def test_same_seed_same_draws_and_a_generator_threads_state(opts):
    rng = np.random.default_rng(0)
    w = np.triu(rng.random((30, 30)) < 0.15, 1) * rng.uniform(0.5, 2.0, (30, 30))
    g = SampleGraph(w + w.T)
    if "k_pos" in opts or "k_neg" in opts:
        opts = dict(opts, embedding=rng.normal(size=(30, 4)))
    x, y = sample_pairs(g, seed=9, **opts), sample_pairs(g, seed=9, **opts)
    assert x.to_dict() == y.to_dict()
    gen = np.random.default_rng(9)
    sampler = GraphPairSampler(g, **opts)
    c, d = sampler.sample(seed=gen), sampler.sample(seed=gen)
    assert not (np.array_equal(c.positives, d.positives)
                and np.array_equal(c.negatives, d.negatives))


_X = np.arange(5.0)[:, None]
_BAD = [
    (dict(negatives="hard"), "negatives"),
    (dict(positives="two_hop"), "positives"),
    (dict(metric="manhattan", negatives="knn_band", embedding=_X, k_neg=(0, 2)), "metric"),
    (dict(negatives="two_hop", fallback="component"), "fallback"),
    (dict(fallback="none"), "fallback"),
    (dict(max_rounds=-1), "max_rounds"),
    (dict(negatives="knn_band", k_neg=(0, 2)), "embedding"),
    (dict(embedding=_X), "embedding"),
    (dict(negatives="knn_band", embedding=_X), "k_neg"),
    (dict(positives="knn_band", embedding=_X), "k_pos"),
    (dict(k_pos=(0, 2)), "k_pos"),
    (dict(negatives="knn_band", embedding=_X, k_neg=(2, 2)), "k_neg"),
    (dict(negatives="knn_band", embedding=_X, k_neg=(-1, 2)), "k_neg"),
    (dict(negatives="knn_band", embedding=_X, k_neg=(0.0, 2)), "k_neg"),
    (dict(negatives="knn_band", embedding=_X, k_neg=3), "k_neg"),
    (dict(positives="knn_band", negatives="knn_band", embedding=_X, k_pos=(0, 3),
          k_neg=(2, 4)), "k_neg"),
    (dict(negatives="knn_band", embedding=_X[:4], k_neg=(0, 2)), "embedding"),
    (dict(negatives="knn_band", embedding=np.full((5, 1), np.nan), k_neg=(0, 2)), "embedding"),
    (dict(negatives="knn_band", embedding=np.zeros((5, 1)), k_neg=(0, 2), metric="cosine"),
     "embedding"),
]


@pytest.mark.parametrize(("opts", "name"), _BAD, ids=[f"{i}-{b[1]}" for i, b in enumerate(_BAD)])
def test_bad_arguments_give_one_line_errors_naming_the_argument(opts, name):
    g = SampleGraph.from_edges([(0, 1), (1, 2)], n_nodes=5)
    with pytest.raises(ValueError, match=name) as info:
        GraphPairSampler(g, **opts)
    assert "\n" not in str(info.value)


def test_knn_rank_band_bad_arguments():
    for band in ((3, 3), (1,), "ab", (True, 2)):
        with pytest.raises(ValueError, match="band"):
            knn_rank_band(_X, band)
    with pytest.raises(ValueError, match="metric"):
        knn_rank_band(_X, (0, 2), metric="l1")


def test_batch_pairs_is_refused_for_per_anchor_strategies():
    g = SampleGraph.from_edges([(0, 1), (1, 2)])
    with pytest.raises(ValueError, match="negatives"):
        GraphPairSampler(g, negatives="two_hop").batch_pairs([0, 1, 2])


def test_pair_sample_reports_fallbacks_and_keeps_its_three_field_form():
    g = SampleGraph.from_edges([(0, 1), (1, 2)], n_nodes=4)
    d = sample_pairs(g, seed=0, negatives="two_hop").to_dict()
    assert d["n_negative_fallbacks"] == 2  # nodes 1 (linked to all of its component) and 3
    default = sample_pairs(g, seed=0)
    assert default.negative_fallback is None and default.to_dict()["n_negative_fallbacks"] == 0
