"""Theorem 1 off its premise: the bounds of robust_theorem1 hold for every embedding and radius,
and the identity is exact on realizations (ties, duplicates, isolated nodes, one class included)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory._kernel import exact_dissimilarities
from sip_theory.graphs import SampleGraph, cliques_from_labels, radius_graph
from sip_theory.testing import geometric_graphs, graphs_with_labels, labelings
from sip_theory.theory import check_theorem1, local_consistency, robust_theorem1


def pairwise_euclidean(x):
    """Every pair's exact Euclidean distance (the kernel's formula, pair by pair)."""
    x = np.asarray(x, dtype=np.float64)
    i, j = np.meshgrid(np.arange(len(x)), np.arange(len(x)), indexing="ij")
    return exact_dissimilarities(x, i.ravel(), j.ravel(), "euclidean").reshape(len(x), len(x))


def _check_bounds(res):
    if res.n_evaluated == 0:
        assert math.isnan(res.gap)
        return
    assert res.lower - 1e-15 <= res.gap <= res.upper + 1e-15
    assert abs(res.gap) <= res.touched_bound + 1e-15
    assert res.n_can_lose + res.n_can_gain <= res.n_touched
    if res.realized:
        assert res.gap == 0.0 and res.n_touched == 0


def _vote_by_hand(points, graph, labels, radius):
    """Independent radius vote: a node's label is the unique majority of points within radius."""
    d = pairwise_euclidean(points)
    adj = graph.to_dense() != 0
    credits = []
    for v in range(len(labels)):
        if not adj[v].any():
            continue
        nb = [u for u in range(len(labels)) if u != v and d[v, u] < radius]
        if not nb:
            credits.append(0.0)
            continue
        vals, counts = np.unique(np.asarray(labels)[nb], return_counts=True)
        top = counts.max()
        credits.append(float(counts[vals == labels[v]].sum() == top and (counts == top).sum() == 1))
    return float(np.mean(credits)) if credits else float("nan")


@settings(max_examples=150, deadline=None)
@given(graphs_with_labels(min_nodes=1, max_nodes=9, max_classes=3), st.integers(1, 3),
       st.integers(0, 2 ** 31 - 1), st.sampled_from([None, 0.5, 1.0, 3.0]))
def test_bounds_hold_for_any_embedding_and_radius(case, dim, seed, radius):
    g, y = case
    # integer coordinates: many exactly tied distances, duplicated points
    x = np.random.default_rng(seed).integers(-2, 3, size=(g.n_nodes, dim)).astype(float)
    res = robust_theorem1(x, g, y, radius=radius)
    _check_bounds(res)
    assert res.lc == pytest.approx(local_consistency(g, y).value, nan_ok=True)
    assert res.vote_accuracy == pytest.approx(_vote_by_hand(x, g, y, res.radius), nan_ok=True)


@settings(max_examples=60, deadline=None)
@given(geometric_graphs(min_nodes=2, max_nodes=10, max_dim=3), st.data())
def test_realized_graphs_meet_the_identity_and_the_radius_rebuilds_them(case, data):
    g, x, _ = case
    y = data.draw(labelings(g.n_nodes, max_classes=3))
    res = robust_theorem1(x, g, y)
    assert res.realized and res.n_violating_pairs == 0
    # no node has a neighbour (empty graph): no vote is evaluated and the bound is NaN
    assert res.touched_bound == 0.0 if res.n_evaluated else math.isnan(res.touched_bound)
    assert radius_graph(x, res.radius) == g
    if res.n_evaluated:
        assert res.vote_accuracy == res.lc
        chk = check_theorem1(x, g, y)
        assert chk.realized and chk.rnn_accuracy == pytest.approx(res.vote_accuracy)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2), min_size=2, max_size=8), st.integers(0, 2 ** 31 - 1),
       st.floats(1e-9, 0.3))
def test_jittered_realizations_stay_inside_the_bound(lab, seed, eps):
    g = cliques_from_labels(lab)
    y = np.asarray(lab)
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 2)) * 2.0
    x = centres[y] + rng.normal(size=(len(lab), 2)) * eps
    _check_bounds(robust_theorem1(x, g, y))


def test_one_ulp_gap_still_realizes_and_rebuilds():
    x = np.array([[-1.0], [0.0], [np.nextafter(1.0, 2.0)]])  # d01 = 1, d12 = 1 + 1 ulp
    g = SampleGraph.from_edges([(0, 1)], n_nodes=3)
    res = robust_theorem1(x, g, [0, 0, 1])
    d = pairwise_euclidean(x)
    assert res.realized and d[0, 1] < res.radius <= d[1, 2]
    assert radius_graph(x, res.radius) == g


def test_translation_by_1e8_keeps_the_verdict_when_the_margin_survives_rounding():
    x = np.array([[0.0, 0.0], [0.5, 0.0], [3.0, 0.0], [3.5, 0.0]])
    g = SampleGraph.from_edges([(0, 1), (2, 3)], n_nodes=4)
    y = [0, 1, 1, 1]
    a, b = robust_theorem1(x, g, y), robust_theorem1(x + 1e8, g, y)
    assert a.realized and b.realized and a.gap == b.gap == 0.0


def test_duplicates_linked_and_unlinked_cannot_be_separated():
    x = np.zeros((3, 2))  # three identical points
    g = SampleGraph.from_edges([(0, 1)], n_nodes=3)
    res = robust_theorem1(x, g, [0, 0, 1])
    assert not res.realized and res.margin == 0.0 and res.n_violating_pairs >= 1
    _check_bounds(res)


def test_empty_graph_single_class_and_isolated_nodes():
    x = np.arange(8.0).reshape(4, 2)
    res = robust_theorem1(x, SampleGraph.from_edges([], n_nodes=4), [1, 1, 1, 1])
    assert res.n_evaluated == 0 and math.isnan(res.lc) and math.isnan(res.vote_accuracy)
    x = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 0.0], [9.0, 0.0]])  # 2 and 3 isolated
    res = robust_theorem1(x, SampleGraph.from_edges([(0, 1)], n_nodes=4), [5, 5, 5, 5])
    assert res.n_evaluated == 2 and res.lc == 1.0 and res.realized and res.vote_accuracy == 1.0


def test_the_vote_can_move_by_the_full_bound():
    # a 2-2 tie at node 0 (credit 0) broken by one extra radius neighbour of its label
    x = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0], [0.0, 1.05]])
    g = SampleGraph.from_edges([(0, 1), (0, 2), (0, 3), (0, 4)], n_nodes=6)
    y = [0, 0, 1, 1, 0, 0]  # node 0 sees 0,1,1,0 -> tie; node 5 (label 0) is 1.05 away
    res = robust_theorem1(x, g, y, radius=1.1)
    assert res.n_violating_pairs >= 1 and res.gap > 0 and res.gap <= res.upper


def test_bad_inputs_name_the_argument():
    g = cliques_from_labels([0, 0, 1])
    with pytest.raises(ValueError, match="embeddings"):
        robust_theorem1(np.zeros((2, 2)), g, [0, 0, 1])
    with pytest.raises(ValueError, match=r"embeddings has 3 row\(s\) with NaN or inf"):
        robust_theorem1(np.full((3, 2), np.nan), g, [0, 0, 1])
    with pytest.raises(ValueError, match="radius"):
        robust_theorem1(np.zeros((3, 2)), g, [0, 0, 1], radius=-1.0)
    with pytest.raises(ValueError, match="labels"):
        robust_theorem1(np.zeros((3, 2)), g, [0, 0])


@settings(max_examples=60, deadline=None)
@given(graphs_with_labels(min_nodes=2, max_nodes=9, max_classes=3),
       st.sampled_from(["euclidean", "sqeuclidean", "cosine", "dot"]), st.integers(1, 4),
       st.integers(0, 2 ** 31 - 1))
def test_every_metric_and_blocking_give_the_brute_force_vote(case, metric, chunk, seed):
    # the exact vote over all pairs, from the kernel's formula, for every metric and any
    # number of rows per block (integer points: ties at the radius)
    g, y = case
    n = g.n_nodes
    x = np.random.default_rng(seed).integers(-2, 3, size=(n, 2)).astype(float)
    x[np.abs(x).sum(1) == 0] = 1.0  # cosine needs non-zero rows
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    d = exact_dissimilarities(x, i.ravel(), j.ravel(), metric).reshape(n, n)
    r_dis = float(np.median(d[~np.eye(n, dtype=bool)]))
    radius = -r_dis if metric == "dot" else max(r_dis, 1e-3)
    res = robust_theorem1(x, g, y, radius=radius, metric=metric, chunk_size=chunk)
    within = d < (-radius if metric == "dot" else radius)
    np.fill_diagonal(within, False)
    adj = g.to_dense() != 0
    np.fill_diagonal(adj, False)
    assert res.n_violating_pairs == int(np.triu(adj ^ within, 1).sum())
    assert res.node_violations.tolist() == (adj ^ within).sum(1).tolist()
    _check_bounds(res)
    whole = robust_theorem1(x, g, y, radius=radius, metric=metric)
    assert whole.to_dict() == res.to_dict()


@settings(max_examples=40, deadline=None)
@given(graphs_with_labels(min_nodes=2, max_nodes=9, max_classes=3), st.integers(0, 2 ** 31 - 1),
       st.sampled_from(["euclidean", "cosine"]))
def test_check_theorem1_carries_the_robust_bound_at_its_radius(case, seed, metric):
    g, y = case
    x = np.random.default_rng(seed).integers(-2, 3, size=(g.n_nodes, 2)).astype(float)
    x[np.abs(x).sum(1) == 0] = 1.0
    chk = check_theorem1(x, g, y, metric=metric)
    alone = robust_theorem1(x, g, y, radius=chk.radius, metric=metric)
    assert chk.robust.to_dict() == alone.to_dict()
    assert chk.robust.realized == chk.realized
    _check_bounds(chk.robust)
    if chk.realized and chk.robust.n_evaluated:
        assert chk.robust.vote_accuracy == chk.robust.lc == pytest.approx(chk.local_consistency)
