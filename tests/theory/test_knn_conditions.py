"""k-NN vote versus LC (knn_vs_lc): the per-node lemma, the accuracy range it proves, and the
corollary under a radius realization, checked against a brute-force k-NN written here.

The brute force takes pair distances from the kernel's exact formula (the distance the library
defines) and does everything else itself: the k nearest under any tie-break, both votes, the
credits, and the largest ``|K Δ N(i)|`` over every tie-break by enumeration.
"""

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory._kernel import exact_dissimilarities
from sip_theory.graphs import SampleGraph, cliques_from_labels, radius_graph
from sip_theory.testing import graphs_with_labels, realizing_embeddings
from sip_theory.theory import knn_vs_lc, local_consistency

# The book's counterexample (book/theorem_in_action.md): the search with
# default_rng(0) over 300 draws of 7 uniform points, radius 0.6, kept this case.
COUNTER_X = np.array([
    [0.504867009046229, 0.009746824286419375], [0.7835105297023084, 0.9181268037611762],
    [0.2572150971791085, 0.7017202857591663], [0.5124274978022317, 0.6667719104942478],
    [0.5725001038644981, 0.5252403059489267], [0.5908122486470049, 0.10697698593140104],
    [0.08838610298996796, 0.31326123102482506]])
COUNTER_Y = np.array([0, 0, 0, 1, 0, 1, 0])


def pairwise(x, metric="euclidean"):
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return exact_dissimilarities(x, i.ravel(), j.ravel(), metric).reshape(n, n)


def credit(classes, weights, own, ties):
    """Credit of ``own`` under a weighted vote (LC's rule: unique max 1, tied 1/#max or 0)."""
    totals = {}
    for c, w in zip(classes, weights, strict=True):
        totals[c] = totals.get(c, 0.0) + w
    totals = {c: t for c, t in totals.items() if t > 0}
    if not totals:
        return 0.0
    top = max(totals.values())
    winners = [c for c, t in totals.items() if t == top]
    if own not in winners:
        return 0.0
    return 1.0 if len(winners) == 1 else (1.0 / len(winners) if ties == "random" else 0.0)


def knn_sets(d, k, rng=None):
    """The k nearest of each row (self excluded), ties by index or by a random order."""
    n = len(d)
    out = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        second = rng.permutation(n) if rng is not None else np.arange(n)
        others.sort(key=lambda j: (d[i, j], second[j]))
        out.append(others[:k])
    return out


def brute(x, g, y, k, weights, ties, rng=None):
    """(kNN credit, LC credit, has-neighbour) per node, by hand."""
    d = pairwise(x)
    adj = g.to_dense() != 0
    knn, lc, has = [], [], []
    for i, K in enumerate(knn_sets(d, k, rng)):
        dk = d[i, K]
        if weights == "uniform":
            w = np.ones(k)
        elif (dk == 0).any():
            w = (dk == 0).astype(float)
        else:
            w = 1.0 / dk
        knn.append(credit(y[K], w, y[i], ties))
        nb = np.flatnonzero(adj[i])
        lc.append(credit(y[nb], np.ones(len(nb)), y[i], ties))
        has.append(len(nb) > 0)
    return np.array(knn), np.array(lc), np.array(has)


def max_symdiff(d, adj, i, k):
    """max |K Δ N(i)| over every k-NN set of i (all choices inside the k-th distance tie)."""
    others = [j for j in range(len(d)) if j != i]
    dk = sorted(d[i, others])[k - 1]
    below = {j for j in others if d[i, j] < dk}
    tie = [j for j in others if d[i, j] == dk]
    nb = set(np.flatnonzero(adj[i]).tolist())
    return max(len((below | set(c)) ^ nb) for c in itertools.combinations(tie, k - len(below)))


def check(res, x, g, y, k, weights, ties, isolated, seed):
    knn_i, lc_i, has = brute(x, g, y, k, weights, ties)
    ev = has if isolated == "exclude" else np.ones_like(has)
    np.testing.assert_array_equal(res.evaluated, ev)
    lc = local_consistency(g, y, ties=ties, isolated=isolated).value
    assert res.lc == lc or (math.isnan(res.lc) and math.isnan(lc))
    if ev.any():
        assert res.lc == pytest.approx(lc_i[ev].mean(), abs=1e-12)
    if weights == "uniform":  # the library votes with the index tie-break
        np.testing.assert_array_equal(res.knn_credit, knn_i)
    d, adj = pairwise(x), g.to_dense() != 0
    assert res.symdiff.tolist() == [max_symdiff(d, adj, i, k) for i in range(len(y))]
    # the lemma, for a tie-break the library never sees, and the range it proves
    knn_r, _, _ = brute(x, g, y, k, weights, ties, np.random.default_rng(seed))
    for kappa in (knn_i, knn_r):
        assert (kappa[res.guaranteed] == lc_i[res.guaranteed]).all()
        if not ev.any():
            assert math.isnan(res.knn_accuracy) and math.isnan(res.lower)
            continue
        acc = kappa[ev].mean()
        assert res.lower - 1e-12 <= acc <= res.upper + 1e-12
        assert abs(acc - res.lc) <= res.bound + 1e-12
    if ev.any():
        assert res.upper - res.lower == pytest.approx(res.bound, abs=1e-12)
        assert res.n_unguaranteed == int((ev & ~res.guaranteed).sum())


@settings(max_examples=200, deadline=None)
@given(graphs_with_labels(min_nodes=2, max_nodes=8, max_classes=3), st.integers(1, 3),
       st.data(), st.sampled_from(["uniform", "distance"]), st.sampled_from(["strict", "random"]),
       st.sampled_from(["exclude", "wrong"]), st.integers(0, 2**31 - 1))
def test_lemma_and_bound_hold_for_any_embedding(case, dim, data, weights, ties, isolated, seed):
    g, y = case
    k = data.draw(st.integers(1, g.n_nodes - 1), label="k")
    # small integer coordinates: exact distance ties at the k-th place and duplicated points
    x = np.random.default_rng(seed).integers(-2, 3, size=(g.n_nodes, dim)).astype(float)
    res = knn_vs_lc(x, g, y, k, weights=weights, ties=ties, isolated=isolated)
    check(res, x, g, y, k, weights, ties, isolated, seed)


@settings(max_examples=80, deadline=None)
@given(graphs_with_labels(min_nodes=2, max_nodes=8, max_classes=3), st.data(),
       st.sampled_from(["uniform", "distance"]), st.integers(0, 2**31 - 1))
def test_lemma_and_bound_hold_for_radius_graphs_of_random_points(case, data, weights, seed):
    _, y = case
    x = np.random.default_rng(seed).normal(size=(len(y), 2))
    g = radius_graph(x, data.draw(st.sampled_from([0.3, 1.0, 2.0])))
    k = data.draw(st.integers(1, len(y) - 1), label="k")
    check(knn_vs_lc(x, g, y, k, weights=weights), x, g, y, k, weights, "strict", "exclude",
          seed)


@settings(max_examples=100, deadline=None)
@given(graphs_with_labels(min_nodes=2, max_nodes=8, max_classes=3), st.data())
def test_realization_nests_the_sets(case, data):
    g, y = case
    real = data.draw(realizing_embeddings(g))
    k = data.draw(st.integers(1, g.n_nodes - 1), label="k")
    res = knn_vs_lc(real.points, g, y, k)
    deg = np.diff(g.indptr)
    assert res.symdiff.tolist() == np.abs(deg - k).tolist()
    # the corollary's one-sided bound
    ev = res.evaluated
    if ev.any():
        lose = ev & (deg != k) & (res.margin <= np.abs(deg - k))
        assert res.knn_accuracy >= res.lc - res.lc_credit[lose].sum() / ev.sum() - 1e-12


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.data(), st.sampled_from(["strict", "random"]))
def test_every_degree_k_under_a_realization_gives_equality(k, n_cliques, data, ties):
    groups = np.repeat(np.arange(n_cliques), k + 1)  # cliques of k + 1: every degree is k
    g = cliques_from_labels(groups)
    y = np.array(data.draw(st.lists(st.integers(0, 2), min_size=len(groups),
                                    max_size=len(groups))))
    real = data.draw(realizing_embeddings(g))
    res = knn_vs_lc(real.points, g, y, k, ties=ties)
    assert res.n_unguaranteed == 0 and (res.symdiff == 0).all()
    assert (res.knn_credit == res.lc_credit).all()
    assert res.knn_accuracy == res.lc == res.lower == res.upper


def test_every_degree_k_on_a_cycle():
    n = 7
    g = SampleGraph.from_edges([(i, (i + 1) % n) for i in range(n)], n_nodes=n)
    angle = 2 * np.pi * np.arange(n) / n
    x = np.stack([np.cos(angle), np.sin(angle)], axis=1)  # neighbours on the circle are nearest
    assert radius_graph(x, 1.0) == g
    y = np.array([0, 1, 1, 0, 0, 1, 0])
    res = knn_vs_lc(x, g, y, 2)
    assert res.knn_accuracy == res.lc and res.n_unguaranteed == 0


def test_the_books_counterexample():
    g = radius_graph(COUNTER_X, 0.6)
    deg = np.diff(g.indptr)
    r1 = knn_vs_lc(COUNTER_X, g, COUNTER_Y, 1)
    assert r1.lc == 5 / 7 and r1.knn_accuracy == 1 / 7
    assert (r1.symdiff == np.abs(deg - 1)).all()
    differ = r1.knn_credit != r1.lc_credit
    assert differ.sum() == 4 and not r1.guaranteed[differ].any()
    r3 = knn_vs_lc(COUNTER_X, g, COUNTER_Y, 3)
    assert r3.knn_accuracy == 4 / 7 and r3.lower == pytest.approx(3 / 7)
    assert np.flatnonzero(~r3.guaranteed).tolist() == [4, 6]
    assert np.flatnonzero(r3.knn_credit != r3.lc_credit).tolist() == [4]


def test_lower_bound_is_attained():
    # node 0: neighbours labelled 1, 0, 0 (margin 1), nearest labelled 1, s = 2: it loses;
    # node 3: tied vote, s = 1, gains nothing; the others are guaranteed
    x = np.array([[0.0], [0.3], [-0.8], [0.85]])
    g = radius_graph(x, 0.9)
    assert g.edges().tolist() == [[0, 1], [0, 2], [0, 3], [1, 3]]
    res = knn_vs_lc(x, g, [0, 1, 0, 0], 1)
    assert res.lc == 0.5 and res.knn_accuracy == 0.25 == res.lower
    assert res.guaranteed.tolist() == [False, True, True, False]


def test_upper_bound_is_attained_through_a_tie_at_k():
    # node 1 is equally far from 0 and 2 (the k-th place is tied); the index picks 0
    x = np.array([[0.0], [1.0], [2.0]])
    g = SampleGraph.from_edges([(0, 1), (1, 2)], n_nodes=3)
    res = knn_vs_lc(x, g, [0, 0, 1], 1)
    assert res.tied_at_k.tolist() == [False, True, False] and res.n_tied_at_k == 1
    assert res.symdiff.tolist() == [0, 1, 0]
    assert res.lc == pytest.approx(1 / 3) and res.knn_accuracy == pytest.approx(2 / 3)
    assert res.knn_accuracy == res.upper


def test_one_ulp_apart_is_not_a_tie():
    x = np.array([[0.0], [1.0], [-np.nextafter(1.0, 2.0)]])
    g = SampleGraph.from_edges([(0, 1)], n_nodes=3)
    res = knn_vs_lc(x, g, [0, 0, 1], 1)
    assert not res.tied_at_k[0] and res.neighbors[0].tolist() == [1] and res.symdiff[0] == 0


def test_duplicates_tie_everything():
    x = np.zeros((4, 2))
    g = SampleGraph.from_edges([(0, 1), (2, 3)], n_nodes=4)
    res = knn_vs_lc(x, g, [0, 0, 1, 1], 1, weights="distance")
    assert res.tied_at_k.all()
    assert res.symdiff.tolist() == [2, 2, 2, 2]  # the tie could pick the wrong one
    assert res.n_unguaranteed == 4 and res.lower == 0.0 and res.upper == 1.0


def test_isolated_nodes_are_never_guaranteed():
    x = np.array([[0.0], [0.1], [5.0]])
    g = SampleGraph.from_edges([(0, 1)], n_nodes=3)
    y = [0, 0, 0]
    ex = knn_vs_lc(x, g, y, 1)
    assert ex.n_evaluated == 2 and ex.knn_accuracy == 1.0 == ex.lc
    wrong = knn_vs_lc(x, g, y, 1, isolated="wrong")
    assert not wrong.guaranteed[2] and wrong.margin[2] == 0
    assert wrong.lc == pytest.approx(2 / 3) and wrong.knn_accuracy == 1.0 == wrong.upper


def test_edgeless_graph_has_nothing_to_compare():
    res = knn_vs_lc(np.eye(3), np.zeros((0, 2), int), [0, 1, 0], 1)
    assert res.n_evaluated == 0 and math.isnan(res.knn_accuracy) and math.isnan(res.bound)
    json.dumps(res.to_dict(), allow_nan=False)


def test_single_class_and_k_at_most_n_minus_1():
    x = np.random.default_rng(1).normal(size=(6, 3))
    g = radius_graph(x, 1.5)
    res = knn_vs_lc(x, g, np.zeros(6), 5)
    assert not res.tied_at_k.any()
    assert res.symdiff.tolist() == (5 - np.diff(g.indptr)).tolist()  # K = every other node
    # one class: the margin is the degree, so only nodes of degree > (5 - degree) are proved
    assert res.knn_accuracy == res.lc == 1.0
    assert res.guaranteed.tolist() == (res.degree > 5 - res.degree).tolist()


def test_auxiliary_nodes_are_dropped():
    g = SampleGraph.from_edges([(0, 1), (1, 2), (0, 3)], n_nodes=4,
                               auxiliary=[False, False, False, True])
    x = np.array([[0.0], [1.0], [2.0]])
    res = knn_vs_lc(x, g, [0, 0, 1], 1)
    assert res.neighbors.shape == (3, 1) and res.degree.tolist() == [1, 2, 1]


@pytest.mark.parametrize("kwargs, match", [
    ({"k": 0}, "k must be >= 1"),
    ({"k": 3}, "k must be <= n_samples - 1 = 2"),
    ({"k": 1, "weights": "gauss"}, "weights"),
    ({"k": 1, "metric": "dot", "weights": "distance"}, "metric='dot'"),
    ({"k": 1, "ties": "first"}, "ties"),
    ({"k": 1, "isolated": "drop"}, "isolated"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        knn_vs_lc(np.eye(3), [(0, 1)], [0, 1, 0], **kwargs)


def test_bad_shapes():
    with pytest.raises(ValueError, match="labels"):
        knn_vs_lc(np.eye(3), [(0, 1)], [0, 1], 1)
    with pytest.raises(ValueError, match="embeddings"):
        knn_vs_lc(np.eye(3), SampleGraph.from_edges([(0, 1)], n_nodes=4), [0, 1, 0, 1], 1)
    with pytest.raises(ValueError, match="embeddings"):
        knn_vs_lc(np.array([[0.0], [np.nan], [1.0]]), [(0, 1)], [0, 1, 0], 1)
