"""The graph atlas pool, exact graphlet orbits and graphlet-degree vectors."""

from __future__ import annotations

from collections import Counter
from itertools import combinations, permutations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.graphs import (
    SampleGraph,
    connected_graphlets,
    graphlet_degree_vectors,
    graphlet_orbits,
)


def test_atlas_pool_has_142_connected_graphs_with_2_to_6_nodes():
    pool = connected_graphlets(2, 6)
    assert len(pool) == 142
    assert Counter(g.n_nodes for g in pool) == {2: 1, 3: 2, 4: 6, 5: 21, 6: 112}  # OEIS A001349


def test_atlas_pool_graphs_are_connected_and_pairwise_non_isomorphic():
    graphs = []
    for g in connected_graphlets(2, 6):
        h = nx.Graph()
        h.add_nodes_from(range(g.n_nodes))
        h.add_edges_from(g.edges.tolist())
        assert nx.is_connected(h)
        graphs.append(h)
    buckets: dict = {}
    for h in graphs:
        key = (h.number_of_nodes(), tuple(sorted(d for _, d in h.degree())))
        buckets.setdefault(key, []).append(h)
    for group in buckets.values():
        for a, b in combinations(group, 2):
            assert not nx.is_isomorphic(a, b)


def test_atlas_index_points_back_into_the_networkx_atlas():
    atlas = nx.graph_atlas_g()
    for g in connected_graphlets(2, 4):
        assert atlas[g.atlas_index].number_of_edges() == g.edges.shape[0]


def test_bad_atlas_sizes_raise():
    with pytest.raises(ValueError, match="max_nodes"):
        connected_graphlets(2, 8)
    with pytest.raises(ValueError, match="min_nodes"):
        connected_graphlets(5, 4)


def test_orbit_tables_have_30_graphlets_and_73_orbits():
    o = graphlet_orbits(5)
    assert (o.n_graphlets, o.n_orbits) == (30, 73)
    per_size = Counter(o.graphlet_size[o.orbit_graphlet].tolist())
    assert per_size == {2: 1, 3: 3, 4: 11, 5: 58}  # Przulj's orbits 0, 1-3, 4-14, 15-72


def _rooted_signature(adj, nodes, root):
    """Brute-force canonical code of the induced subgraph on `nodes` rooted at `root`."""
    rest = [u for u in nodes if u != root]
    best = None
    for perm in permutations(rest):
        order = (root, *perm)
        code = tuple(int(order[j] in adj[order[i]]) for i, j in
                     combinations(range(len(order)), 2))
        best = code if best is None or code < best else best
    return len(nodes), best


def test_graphlet_degree_vectors_match_brute_force_rooted_isomorphism_classes():
    g = nx.gnp_random_graph(10, 0.35, seed=3)
    adj = {v: set(g[v]) for v in g}
    brute: dict = {}
    for k in range(2, 6):
        for nodes in combinations(range(10), k):
            if nx.is_connected(g.subgraph(nodes)):
                for v in nodes:
                    key = _rooted_signature(adj, nodes, v)
                    brute.setdefault(key, np.zeros(10, dtype=int))[v] += 1
    gdv = graphlet_degree_vectors(g)
    ours = sorted(tuple(c) for c in gdv.T.tolist() if any(c))
    assert ours == sorted(tuple(c) for c in (col.tolist() for col in brute.values()))


def test_first_orbit_is_the_degree():
    g = nx.gnm_random_graph(30, 60, seed=1)
    assert np.array_equal(graphlet_degree_vectors(g)[:, 0], [d for _, d in g.degree()])


def test_complete_graph_counts_only_clique_orbits():
    gdv = graphlet_degree_vectors(nx.complete_graph(6))
    row = gdv[0]
    assert sorted(row[row > 0].tolist()) == [5, 5, 10, 10]  # C(5,1), C(5,4), C(5,2), C(5,3)
    assert (gdv == row).all()


@settings(max_examples=15, deadline=None)
@given(st.integers(4, 12), st.floats(0.1, 0.6), st.integers(0, 10**6))
def test_graphlet_degree_vectors_are_permutation_equivariant(n, p, seed):
    g = nx.gnp_random_graph(n, p, seed=seed)
    perm = np.random.default_rng(seed).permutation(n)
    edges = np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2)
    relabelled = SampleGraph.from_edges(perm[edges], n_nodes=n)  # node v becomes perm[v]
    gdv = graphlet_degree_vectors(SampleGraph.from_edges(edges, n_nodes=n))
    gdv_perm = graphlet_degree_vectors(relabelled)
    assert np.array_equal(gdv_perm[perm], gdv)
