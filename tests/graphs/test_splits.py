"""Edge splits (sip_theory.graphs.split_edges): a partition of the edges, importable twice."""

import numpy as np

from sip_theory.graphs import EdgeSplit, SampleGraph, split_edges


def _edge_set(edges):
    return {tuple(e) for e in np.asarray(edges).tolist()}


def test_split_partitions_the_edges_and_keeps_every_node():
    g = SampleGraph.from_edges([(i, j) for i in range(8) for j in range(i + 1, 8)], n_nodes=9)
    s = split_edges(g, test_fraction=0.25, val_fraction=0.125, seed=5)
    pt, test, val = _edge_set(s.pt_graph.edges()), _edge_set(s.test_edges), _edge_set(s.val_edges)
    assert (len(test), len(val)) == (7, 4)  # round(0.25 * 28), round(0.125 * 28)
    assert not pt & test and not pt & val and not test & val
    assert pt | test | val == _edge_set(g.edges())
    assert s.pt_graph.n_nodes == 9 and s.to_dict(edges=False)["n_pt_isolated"] >= 1


def test_experiments_reexports_the_graphs_split():
    import sip_theory.experiments as experiments

    assert experiments.split_edges is split_edges and experiments.EdgeSplit is EdgeSplit


# ------------------------------------------------------------ keep_every_node (issue 15)
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sip_theory.testing import sample_graphs  # noqa: E402


def _brute_removable_prefix(edges, order, count, n):
    """Reference: hold out edges of ``order`` one by one, re-checking the whole graph each time."""
    kept = set(range(len(edges)))
    taken = []
    for e in order:
        if len(taken) == count:
            break
        trial = kept - {e}
        deg = np.zeros(n, dtype=int)
        for f in trial:
            deg[edges[f][0]] += 1
            deg[edges[f][1]] += 1
        u, v = edges[e]
        if deg[u] >= 1 and deg[v] >= 1:
            kept = trial
            taken.append(e)
    return taken


@settings(max_examples=60, deadline=None)
@given(g=sample_graphs(min_nodes=2, max_nodes=12, min_density=0.05),
       test=st.sampled_from([0.0, 0.1, 0.25, 0.5]), val=st.sampled_from([0.0, 0.05, 0.2, 0.3]),
       seed=st.integers(0, 2**16))
def test_keep_every_node_never_isolates_a_linked_node(g, test, val, seed):
    if g.n_edges == 0:
        with pytest.raises(ValueError, match="at least one edge"):
            split_edges(g, keep_every_node=True)
        return
    s = split_edges(g, test_fraction=test, val_fraction=val, seed=seed, keep_every_node=True)
    had = g.degrees() > 0
    assert (s.pt_graph.degrees()[had] > 0).all()
    m = g.n_edges
    n_test, n_val = int(round(test * m)), int(round(val * m))
    assert s.test_edges.shape[0] <= n_test and s.val_edges.shape[0] <= n_val
    # the validation set is left short first
    assert s.val_edges.shape[0] == 0 or s.test_edges.shape[0] == n_test
    pt, te, va = _edge_set(s.pt_graph.edges()), _edge_set(s.test_edges), _edge_set(s.val_edges)
    assert not pt & te and not pt & va and not te & va and pt | te | va == _edge_set(g.edges())
    # same seed, same split; the sequential rule matches a brute-force re-check
    again = split_edges(g, test_fraction=test, val_fraction=val, seed=seed, keep_every_node=True)
    assert np.array_equal(again.test_edges, s.test_edges)
    assert np.array_equal(again.val_edges, s.val_edges)
    order = np.random.default_rng(seed).permutation(m).tolist()
    edges = g.edges().tolist()
    ref = _brute_removable_prefix(edges, order, n_test + n_val, g.n_nodes)
    assert _edge_set(s.test_edges) | _edge_set(s.val_edges) == {tuple(edges[e]) for e in ref}


@settings(max_examples=30, deadline=None)
@given(n=st.integers(6, 14), seed=st.integers(0, 2**16))
def test_keep_every_node_meets_the_fractions_above_the_degree_bound(n, seed):
    # the complete graph K_n: minimum degree n - 1 exceeds the held-out count when it is small
    g = SampleGraph.from_edges([(i, j) for i in range(n) for j in range(i + 1, n)], n_nodes=n)
    m = g.n_edges
    k = int(round(0.1 * m)) + int(round(0.05 * m))
    s = split_edges(g, seed=seed, keep_every_node=True)
    if n - 1 > k:
        assert (s.test_edges.shape[0], s.val_edges.shape[0]) == (round(0.1 * m), round(0.05 * m))


def test_keep_every_node_on_graphs_without_removable_edges():
    # a perfect matching and a star: every edge holds a degree-1 end point
    matching = SampleGraph.from_edges([(0, 1), (2, 3), (4, 5)], n_nodes=7)  # node 6 isolated
    star = SampleGraph.from_edges([(0, i) for i in range(1, 6)])
    for g in (matching, star):
        s = split_edges(g, test_fraction=0.4, val_fraction=0.2, seed=0, keep_every_node=True)
        assert s.test_edges.shape[0] == s.val_edges.shape[0] == 0
        assert s.pt_graph.n_edges == g.n_edges
    # a triangle 0-1-2 with the pendant edge (2, 3): the pendant edge is never held out;
    # after one triangle edge, a second is removable only if it avoids the degree-1 node
    g = SampleGraph.from_edges([(0, 1), (1, 2), (0, 2), (2, 3)])
    for seed in range(8):
        s = split_edges(g, test_fraction=0.5, val_fraction=0.0, seed=seed, keep_every_node=True)
        assert 1 <= s.test_edges.shape[0] <= 2 and (2, 3) not in _edge_set(s.test_edges)
    assert s.to_dict(edges=False)["keep_every_node"] is True
    with pytest.raises(ValueError, match="keep_every_node"):
        split_edges(g, keep_every_node="yes")


def test_default_split_is_unchanged_by_the_option():
    g = SampleGraph.from_edges([(i, (i + 1) % 20) for i in range(20)])
    a = split_edges(g, seed=4)
    b = split_edges(g, seed=4, keep_every_node=False)
    assert np.array_equal(a.test_edges, b.test_edges) and not a.keep_every_node
