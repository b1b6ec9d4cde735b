"""The mechanistic graph: a cycle with random connected graphlets attached."""

from __future__ import annotations

import networkx as nx
import numpy as np

from sip_theory.graphs import cycle_with_graphlets


def test_cycle_with_graphlets_structure_matches_the_recipe():
    g, motif, atlas = cycle_with_graphlets(36, attach_every=4, seed=1)
    nxg = g.to_networkx()
    assert all(nxg.has_edge(i, (i + 1) % 36) for i in range(36))
    assert atlas.shape == (9,) and (motif[:36] == 0).all()
    for k in range(1, 10):
        nodes = np.flatnonzero(motif == k)
        ref = nx.graph_atlas(int(atlas[k - 1]))
        assert nx.is_isomorphic(nxg.subgraph(nodes.tolist()), ref)
        outside = [(u, v) for u in nodes for v in nxg[u] if motif[v] != k]
        assert outside == [(outside[0][0], 4 * (k - 1))]  # one edge, to cycle node 4(k-1)
    assert g.n_nodes == 36 + sum(nx.graph_atlas(int(a)).number_of_nodes() for a in atlas)
    assert g.n_edges == 36 + 9 + sum(nx.graph_atlas(int(a)).number_of_edges() for a in atlas)
