"""The manifold datasets: labels, mixtures and the geodesic radius graph on the paper's surfaces."""

from __future__ import annotations

import numpy as np
import pytest

from sip_theory.data import GenerationError, make_manifold_dataset
from sip_theory.graphs import geodesic_distances, triangulation
from sip_theory.theory import node_homophily


def test_manifold_dataset_labels_are_the_largest_barycentric_vertex():
    d = make_manifold_dataset("sphere", seed=0, n_pt=60)
    corners = triangulation("sphere").triangles[d.extras["face"]]
    expected = corners[np.arange(60), d.extras["barycentric"].argmax(1)]
    assert np.array_equal(d.labels["vertex"], expected)
    assert np.array_equal(d.topic_mixtures.argmax(1), expected)


def test_manifold_dataset_graph_is_the_geodesic_radius_graph():
    d = make_manifold_dataset("torus", seed=1, n_pt=80, radius=0.3)
    dist = geodesic_distances(triangulation("torus"), d.extras["face"], d.extras["barycentric"])
    adj = d.graph.to_dense() > 0
    off = ~np.eye(80, dtype=bool)
    assert np.array_equal(adj[off], (dist < 0.3)[off])


def test_manifold_dataset_same_seed_same_data_and_other_seed_differs():
    a = make_manifold_dataset("mobius", seed=7, n_pt=50)
    b = make_manifold_dataset("mobius", seed=7, n_pt=50)
    c = make_manifold_dataset("mobius", seed=8, n_pt=50)
    assert a.graph == b.graph and np.array_equal(a.topic_mixtures, b.topic_mixtures)
    assert not np.array_equal(a.topic_mixtures, c.topic_mixtures)


def test_manifold_self_loop_option_changes_homophily_not_graph():
    a = make_manifold_dataset("plane", seed=3)
    b = make_manifold_dataset("plane", seed=3, self_loops=True)
    assert a.graph == b.graph and b.self_loops and not a.self_loops
    y = a.labels["vertex"][a.pt_nodes]
    with_loops = node_homophily(b.pt_graph, y, self_loops=b.self_loops)
    assert with_loops == node_homophily(a.pt_graph, y, self_loops=True)
    assert with_loops != node_homophily(a.pt_graph, y, self_loops=a.self_loops)


def test_manifold_impossible_generation_raises_generation_error():
    # 2 PT points cannot show all 4 vertex labels of the plane
    with pytest.raises(GenerationError, match="absent"):
        make_manifold_dataset("plane", seed=0, n_pt=2, max_attempts=3)


def test_manifold_resample_isolated_records_a_later_attempt():
    d = make_manifold_dataset("plane", seed=0, isolated="resample", max_attempts=200)
    assert d.config["n_isolated_pt"] == 0
    assert d.config["attempt"] == len(d.config["rejected"])


def test_manifold_radius_at_face_height_raises():
    with pytest.raises(ValueError, match="radius"):
        make_manifold_dataset("plane", seed=0, radius=1.3)

