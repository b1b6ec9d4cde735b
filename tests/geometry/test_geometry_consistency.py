"""LC of the labels on the embedding's kNN graph next to LC on G."""

import numpy as np
import pytest

from sip_theory.geometry import compute_neighbors, knn_graph_from_neighbors, knn_local_consistency
from sip_theory.graphs import knn_graph
from sip_theory.theory import edge_homophily, local_consistency


@pytest.mark.parametrize("mode", ["union", "mutual"])
def test_knn_graph_equals_the_graphs_module_even_with_ties(mode):
    X = np.random.default_rng(0).integers(0, 3, size=(25, 2)).astype(float)
    nb = compute_neighbors(X, k=4)
    ours = knn_graph_from_neighbors(nb.indices, 4, mode=mode)
    assert ours == knn_graph(X, 4, mutual=(mode == "mutual"))


def test_lc_values_equal_theory_local_consistency_on_each_graph():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 30)
    X = rng.normal(size=(30, 3)) + y[:, None]
    G = [(i, j) for i in range(30) for j in range(i + 1, 30) if rng.random() < 0.1]
    r = knn_local_consistency(X, y, G, k=3, ties="random")
    h = knn_graph(X, 3)
    assert r.lc_embedding == local_consistency(h, y, ties="random").value
    assert r.lc_graph == local_consistency(G, y, ties="random").value
    assert r.edge_homophily_embedding == edge_homophily(h, y)
    assert abs(r.gap - (r.lc_embedding - r.lc_graph)) < 1e-15
    assert r.to_dict()["k"] == 3


def test_lc_without_graph_reports_only_the_embedding():
    X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    r = knn_local_consistency(X, [0, 0, 0, 1, 1, 1], k=2)
    assert r.lc_embedding == 1.0 and r.lc_graph is None and r.gap is None
    assert np.array_equal(r.per_class_lc_embedding, [1.0, 1.0])
