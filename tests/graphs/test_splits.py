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
