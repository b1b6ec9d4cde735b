"""Sampled link retrieval: exact when every candidate is drawn, within its CI otherwise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import hypergeom

from sip_theory._kernel import exact_dissimilarities
from sip_theory.geometry import graph_recovery, link_retrieval, sampled_link_retrieval
from sip_theory.geometry._sampled import _distinct_draws, _forbidden, _to_nodes
from sip_theory.graphs import SampleGraph
from sip_theory.testing import sample_graphs


# ----------------------------------------------------------------- brute-force references
def _row(X, u, metric="euclidean"):
    """Exact distances of sample u to every sample (one row at a time: O(n) memory)."""
    n = X.shape[0]
    return exact_dissimilarities(X, np.full(n, u), np.arange(n), metric)


def _rows_of_graph(g):
    return [g.indices[g.indptr[u]:g.indptr[u + 1]] for u in range(g.n_nodes)]


def _exact_per_node(X, g, exclude=None, metric="euclidean"):
    """Per eligible node: AUROC, LRAP and the OGB reciprocal-rank sum with all candidates."""
    nbrs = _rows_of_graph(g)
    ex = _rows_of_graph(exclude) if exclude is not None else None
    out = {}
    for u in range(len(X)):
        D = _row(X, u, metric)
        forbid = np.zeros(len(X), dtype=bool)
        forbid[u] = True
        forbid[nbrs[u]] = True
        if ex is not None:
            forbid[ex[u]] = True
        pos, neg = D[nbrs[u]], D[~forbid]
        if pos.size == 0 or neg.size == 0:
            continue
        lt = (neg[None, :] < pos[:, None]).sum(1)
        eq = (neg[None, :] == pos[:, None]).sum(1)
        L = (pos[None, :] <= pos[:, None]).sum(1)
        out[u] = {"auroc": 1 - (lt + 0.5 * eq).sum() / (pos.size * neg.size),
                  "lrap": np.mean(L / (L + lt + eq)),
                  "rr": np.sum(1 / (1 + lt + 0.5 * eq))}
    return out


def _sampled_targets(X, g, K, ks):
    """Exact expectations over the negatives (continuous data: no ties) of the sampled
    protocol's per-node LRAP, AUROC, and per-edge 1/rank and Hits@k."""
    nbrs = _rows_of_graph(g)
    rr, hits, w, lrap, auroc = [], {k: [] for k in ks}, [], [], []
    for u in range(len(X)):
        D = _row(X, u)
        forbid = np.zeros(len(X), dtype=bool)
        forbid[u] = True
        forbid[nbrs[u]] = True
        pos, neg = D[nbrs[u]], D[~forbid]
        if pos.size == 0 or neg.size == 0:
            continue
        N, k_u = neg.size, min(K, neg.size)
        C = (neg[None, :] < pos[:, None]).sum(1)
        L = (pos[None, :] <= pos[:, None]).sum(1)
        c = np.arange(k_u + 1)
        pmf = hypergeom.pmf(c[None, :], N, C[:, None], k_u)
        rr.append((pmf / (1 + c[None, :])).sum())
        for k in ks:
            hits[k].append(pmf[:, :k].sum())
        lrap.append(np.mean((pmf * L[:, None] / (L[:, None] + c[None, :])).sum(1)))
        auroc.append(1 - C.sum() / (pos.size * N))
        w.append(pos.size)
    w = np.sum(w)
    return {"mrr": np.sum(rr) / w, "hits": {k: np.sum(v) / w for k, v in hits.items()},
            "lrap": np.mean(lrap), "node_auroc": np.mean(auroc)}


def _clustered(n, d, seed):
    """Points around 8 centres; edges mostly within a centre (a graph the embedding
    partly recovers, so the scores sit away from 0.5 and 1)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 8, n)
    X = rng.normal(size=(8, d))[y] * 1.5 + rng.normal(size=(n, d))
    src = np.repeat(np.arange(n), 3)
    dst = rng.integers(0, n, src.size)
    for s in range(src.size):  # a same-class partner for most edges
        if rng.random() < 0.8:
            cand = np.flatnonzero(y == y[src[s]])
            dst[s] = cand[rng.integers(cand.size)]
    E = np.stack([src, dst], 1)
    return X, E[E[:, 0] != E[:, 1]]


# ----------------------------------------------------------------- exact when K >= N_u
@settings(max_examples=40, deadline=None)
@given(sample_graphs(min_nodes=2, max_nodes=9, min_density=0.1, max_density=0.9),
       st.integers(0, 2**16))
def test_all_candidates_drawn_gives_the_exact_values(g, seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, size=(g.n_nodes, 2)).astype(float)  # many exact ties
    if g.n_edges == 0:
        with pytest.raises(ValueError, match="graph has no edges"):
            sampled_link_retrieval(X, g)
        return
    ref = _exact_per_node(X, g)
    if not ref:
        with pytest.raises(ValueError, match="no node with both"):
            sampled_link_retrieval(X, g, num_negatives=g.n_nodes)
        return
    r = sampled_link_retrieval(X, g, num_negatives=g.n_nodes, ks=(1, 2), n_queries=None,
                               seed=seed)
    assert r.n_clipped == r.n_queries == len(ref)
    assert r.per_node["nodes"].tolist() == sorted(ref)
    np.testing.assert_allclose(r.per_node["node_auroc"], [ref[u]["auroc"] for u in sorted(ref)])
    np.testing.assert_allclose(r.per_node["lrap"], [ref[u]["lrap"] for u in sorted(ref)])
    np.testing.assert_allclose(r.per_node["reciprocal_rank_sum"],
                               [ref[u]["rr"] for u in sorted(ref)])
    # the LRAP of every node with a candidate is link_retrieval's
    lr = link_retrieval(X, g, ks=(1,))
    np.testing.assert_allclose(r.per_node["lrap"], lr.per_node["lrap"][r.per_node["nodes"]])
    gr = graph_recovery(X, g)
    assert r.edge_auroc_exact
    assert r.edge_auroc == pytest.approx(gr.auroc, abs=1e-12) or (
        np.isnan(r.edge_auroc) and np.isnan(gr.auroc))


def test_exclude_removes_candidates_as_link_retrieval_does():
    X = np.array([[0.0], [1.0], [2.0], [10.0]])
    r = sampled_link_retrieval(X, [(0, 2)], exclude=[(0, 1), (1, 2)], num_negatives=5,
                               ks=(1,))
    lr = link_retrieval(X, [(0, 2)], exclude=[(0, 1), (1, 2)], ks=(1,))
    assert r.lrap == lr.lrap == 1.0 and r.mrr == 1.0
    with pytest.raises(ValueError, match="exclude shares edges"):
        sampled_link_retrieval(X, [(0, 2)], exclude=[(0, 2)])


# ----------------------------------------------------------------- estimates within their CI
@pytest.mark.parametrize("n_queries", [None, 300])
def test_estimates_cover_their_targets(n_queries):
    X, E = _clustered(1000, 3, seed=0)
    g = SampleGraph.from_edges(E, n_nodes=len(X), duplicates="merge")
    K, ks = 40, (1, 3, 10)
    r = sampled_link_retrieval(X, g, num_negatives=K, ks=ks, n_queries=n_queries,
                               n_pairs=20_000, confidence=0.99, seed=0)
    t = _sampled_targets(X, g, K, ks)
    assert 0.1 < t["mrr"] < 0.9  # not a degenerate case
    assert abs(r.mrr - t["mrr"]) <= r.mrr_hw
    for k in ks:
        assert abs(r.hits_at[k] - t["hits"][k]) <= r.hits_at_hw[k]
    assert abs(r.lrap - t["lrap"]) <= r.lrap_hw
    assert abs(r.node_auroc - t["node_auroc"]) <= r.node_auroc_hw
    auc = graph_recovery(X, g).auroc
    assert not r.edge_auroc_exact and abs(r.edge_auroc - auc) <= r.edge_auroc_hw
    assert max(r.mrr_hw, r.node_auroc_hw, r.edge_auroc_hw) < 0.05  # informative intervals


@pytest.mark.slow
def test_estimates_cover_the_exact_values_at_ten_thousand():
    X, E = _clustered(10_000, 4, seed=1)
    g = SampleGraph.from_edges(E, n_nodes=len(X), duplicates="merge")
    r = sampled_link_retrieval(X, g, num_negatives=50, ks=(1, 10), n_queries=2000,
                               n_pairs=50_000, confidence=0.99, seed=3)
    t = _sampled_targets(X, g, 50, (1, 10))
    assert abs(r.mrr - t["mrr"]) <= r.mrr_hw
    assert abs(r.hits_at[10] - t["hits"][10]) <= r.hits_at_hw[10]
    assert abs(r.lrap - t["lrap"]) <= r.lrap_hw
    assert abs(r.node_auroc - t["node_auroc"]) <= r.node_auroc_hw
    assert abs(r.edge_auroc - graph_recovery(X, g).auroc) <= r.edge_auroc_hw
    # the sampled LRAP is not the full one: it is far above it here (stated in the docs)
    assert r.lrap > link_retrieval(X, g, ks=(1,)).lrap + 10 * r.lrap_hw


# ----------------------------------------------------------------- hard cases
def test_tie_between_the_positive_and_a_negative_counts_half():
    # node 0 at 0: its neighbour 1 at distance 1, its only candidate 2 at distance 1
    X = np.array([[0.0], [1.0], [-1.0]])
    r = sampled_link_retrieval(X, [(0, 1)], num_negatives=1, ks=(1, 2))
    nodes = r.per_node["nodes"].tolist()
    rr = dict(zip(nodes, r.per_node["reciprocal_rank_sum"].tolist(), strict=True))
    assert rr == {0: 1 / 1.5, 1: 1.0}  # node 1: candidate 2 at distance 2
    assert r.hits_at == {1: 0.5, 2: 1.0}  # rank 1.5 is no hit at 1, a hit at 2
    auc = dict(zip(r.per_node["nodes"].tolist(), r.per_node["node_auroc"].tolist(), strict=True))
    assert auc == {0: 0.5, 1: 1.0}
    lrap = dict(zip(r.per_node["nodes"].tolist(), r.per_node["lrap"].tolist(), strict=True))
    assert lrap == {0: 0.5, 1: 1.0}  # LRAP's max-rank: the tied negative counts first


def test_duplicate_rows_tie_and_duplicate_edges_merge():
    X = np.array([[0.0], [2.0], [2.0], [5.0]])  # rows 1 and 2 coincide
    r = sampled_link_retrieval(X, [(0, 1), (0, 1), (1, 0)], num_negatives=3, ks=(1,))
    s = sampled_link_retrieval(X, [(0, 1)], num_negatives=3, ks=(1,))
    assert r.to_dict() == s.to_dict() and r.n_edges == 1
    # node 0: candidate 2 tied with its neighbour (rank 1.5); node 1: candidate 2 nearer
    assert r.per_node["reciprocal_rank_sum"].tolist() == [1 / 1.5, 0.5]


def test_isolated_nodes_and_nodes_without_candidates_are_counted_not_queried():
    # 0-1-2 a triangle, 3 joined to all of 0, 1, 2 except... node 4 isolated
    E = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3), (0, 4)]
    X = np.arange(6, dtype=float)[:, None]
    r = sampled_link_retrieval(X, SampleGraph.from_edges(E, n_nodes=6), num_negatives=2)
    # node 0 is linked to every other node but 5; node 5 isolated
    assert r.n_isolated == 1 and r.n_without_candidates == 0
    r = sampled_link_retrieval(X[:5], SampleGraph.from_edges(E, n_nodes=5), num_negatives=2)
    assert r.n_without_candidates == 1 and 0 not in r.per_node["nodes"]
    assert r.n_eligible == r.n_queries == 4


def test_complete_graph_and_edgeless_graph_are_clear_errors():
    X = np.eye(3)
    with pytest.raises(ValueError, match="no node with both a neighbour and a candidate"):
        sampled_link_retrieval(X, [(0, 1), (0, 2), (1, 2)])
    with pytest.raises(ValueError, match="graph has no edges"):
        sampled_link_retrieval(X, np.zeros((0, 2), dtype=int))


def test_more_negatives_than_candidates_uses_all_of_them():
    X = np.array([[0.0], [1.0], [3.0], [7.0]])
    r = sampled_link_retrieval(X, [(0, 1)], num_negatives=1000)
    assert r.n_clipped == r.n_queries == 2 and r.num_negatives == 1000
    assert r.mrr == 1.0 and r.node_auroc == 1.0


def test_seeded_and_reproducible():
    X, E = _clustered(300, 2, seed=4)
    a = sampled_link_retrieval(X, E, num_negatives=10, n_queries=50, n_pairs=500, seed=7)
    b = sampled_link_retrieval(X, E, num_negatives=10, n_queries=50, n_pairs=500, seed=7)
    c = sampled_link_retrieval(X, E, num_negatives=10, n_queries=50, n_pairs=500, seed=8)
    assert a.to_dict() == b.to_dict() and a.to_dict() != c.to_dict() and a.seed == 7
    gen = sampled_link_retrieval(X, E, num_negatives=10, n_queries=50, n_pairs=500,
                                 seed=np.random.default_rng(7))
    assert gen.seed is None and gen.mrr == a.mrr


def test_torch_input_and_metrics():
    torch = pytest.importorskip("torch")
    X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.2]])
    a = sampled_link_retrieval(torch.tensor(X), [(0, 1)], metric="cosine")
    b = sampled_link_retrieval(X, [(0, 1)], metric="cosine")
    assert a.to_dict() == b.to_dict() and a.mrr == 1.0
    with pytest.raises(ValueError, match="zero row"):
        sampled_link_retrieval(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), [(0, 1)],
                               metric="cosine")


@pytest.mark.parametrize("kw, match", [
    ({"num_negatives": 0}, "num_negatives"), ({"ks": (0,)}, "ks"), ({"ks": ()}, "ks"),
    ({"n_queries": 0}, "n_queries"), ({"n_pairs": 1}, "n_pairs"),
    ({"confidence": 1.0}, "confidence"), ({"metric": "l1"}, "metric"), ({"seed": None}, "seed"),
])
def test_bad_arguments_name_themselves(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        sampled_link_retrieval(np.eye(4), [(0, 1)], **kw)


def test_graph_of_another_size_is_refused():
    with pytest.raises(ValueError, match="graph"):
        sampled_link_retrieval(np.eye(3), SampleGraph.from_edges([(0, 1)], n_nodes=5))


# ----------------------------------------------------------------- the samplers
@pytest.mark.parametrize("size, k", [(5, 2), (200, 3), (7, 7), (3, 10)])
def test_distinct_draws_are_uniform_subsets(size, k):
    rng = np.random.default_rng(0)
    reps = 4000
    draws, kr = _distinct_draws(rng, np.full(reps, size), k)
    m = min(k, size)
    assert (kr == m).all() and ((draws[:, m:]) == -1).all()
    taken = draws[:, :m]
    assert ((taken >= 0) & (taken < size)).all()
    assert all(len(set(row)) == m for row in taken.tolist())
    freq = np.bincount(taken.ravel(), minlength=size) / reps
    p = m / size  # each value lies in a uniform m-subset with probability m / size
    assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / reps) + 1e-12)
    if size == 5:  # all 10 pairs equally likely
        keys = np.sort(taken, 1) @ np.array([5, 1])
        counts = np.bincount(keys, minlength=25)[np.bincount(keys, minlength=25) > 0]
        assert counts.size == 10 and np.all(np.abs(counts / reps - 0.1) < 5 * 0.3 / 63)


@settings(max_examples=60, deadline=None)
@given(sample_graphs(min_nodes=1, max_nodes=12), st.integers(0, 2**16))
def test_negatives_are_distinct_candidates(g, seed):
    n = g.n_nodes
    rows = np.arange(n)
    fi, fv = _forbidden(rows, [g], n)
    sizes = n - np.diff(fi)
    draws, kr = _distinct_draws(np.random.default_rng(seed), sizes, 4)
    nodes = _to_nodes(draws, fi, fv, n)
    A = g.to_dense() > 0
    for u in range(n):
        got = nodes[u][nodes[u] >= 0]
        cand = [v for v in range(n) if v != u and not A[u, v]]
        assert len(set(got.tolist())) == got.size == min(4, len(cand))
        assert set(got.tolist()) <= set(cand)
