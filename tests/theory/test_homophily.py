"""Homophily family, label informativeness, Dirichlet energy: reference values and identities."""

import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.data import load_cora
from sip_theory.graphs import SampleGraph
from sip_theory.theory import (
    adjusted_homophily,
    class_insensitive_homophily,
    dirichlet_energy,
    edge_homophily,
    label_informativeness,
    node_homophily,
)

# theory.md section 7: edge_index [[0,1,2,3],[1,2,0,4]] read as arcs, y = [0,0,0,0,1]
ARCS = np.array([[0, 1], [1, 2], [2, 0], [3, 4]])
Y5 = np.array([0, 0, 0, 0, 1])
LI_EDGES = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5)]
LI_Y = [0, 0, 0, 0, 1, 1]


@st.composite
def labelled_graphs(draw, max_nodes=10):
    n = draw(st.integers(2, max_nodes))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    mask = draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    edges = [p for p, keep in zip(pairs, mask, strict=True) if keep]
    if not edges:
        edges = [(0, 1)]
    labels = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    return SampleGraph.from_edges(edges, n_nodes=n), labels


def test_edge_homophily_reference_075():
    assert edge_homophily(ARCS, Y5, directed=True) == 0.75
    assert edge_homophily(ARCS, Y5) == 0.75


def test_node_homophily_reference_06_zero_convention_on_arcs():
    assert node_homophily(ARCS, Y5, directed=True, isolated="zero") == pytest.approx(0.6)


def test_node_homophily_default_excludes_nodes_without_incoming_arcs():
    # node 3 has no incoming arc: left out of the mean by default
    assert node_homophily(ARCS, Y5, directed=True) == pytest.approx(0.75)


def test_node_homophily_undirected_reference_and_isolated_policy():
    assert node_homophily(ARCS, Y5) == pytest.approx(0.6)
    with_isolated = SampleGraph.from_edges(ARCS, n_nodes=6)
    y6 = [0, 0, 0, 0, 1, 1]
    assert node_homophily(with_isolated, y6) == pytest.approx(0.6)
    assert node_homophily(with_isolated, y6, isolated="zero") == pytest.approx(0.5)


def test_node_homophily_self_loops_count_each_node_as_its_own_neighbour():
    # path 0-1-2, labels 0 0 1: node 0 1/1, node 1 1/2, node 2 0/1; with self-loops 2/2, 2/3, 1/2
    path = SampleGraph.from_edges([(0, 1), (1, 2)], n_nodes=4)
    y = [0, 0, 1, 1]
    assert node_homophily(path, y) == pytest.approx(0.5)
    # the isolated node 3 scores 1/1 with its loop
    assert node_homophily(path, y, self_loops=True) == pytest.approx((1 + 2 / 3 + 1 / 2 + 1) / 4)
    assert node_homophily(path.subgraph([0, 1, 2]), y[:3], self_loops=True) == pytest.approx(
        (1 + 2 / 3 + 1 / 2) / 3)


def test_class_insensitive_reference_02_on_arcs():
    assert class_insensitive_homophily(ARCS, Y5, directed=True) == pytest.approx(0.2)


def test_class_insensitive_undirected_closed_form():
    # both directions: h_0 = 6/7, h_1 = 0, shares 4/5, 1/5 -> 6/7 - 4/5 = 2/35
    assert class_insensitive_homophily(ARCS, Y5) == pytest.approx(2 / 35)


def test_label_informativeness_edge_reference():
    assert label_informativeness(LI_EDGES, LI_Y) == pytest.approx(0.25178, abs=5e-6)


def test_label_informativeness_node_reference():
    assert label_informativeness(LI_EDGES, LI_Y, variant="node") == pytest.approx(
        0.33819, abs=5e-6
    )


@settings(max_examples=40, deadline=None)
@given(labelled_graphs())
def test_adjusted_homophily_equals_networkx_assortativity(gl):
    graph, labels = gl
    g = graph.to_networkx()
    nx.set_node_attributes(g, {i: int(c) for i, c in enumerate(labels)}, "y")
    ours = adjusted_homophily(graph, labels)
    if np.isnan(ours):
        return
    theirs = nx.attribute_assortativity_coefficient(g, "y")
    assert ours == pytest.approx(theirs, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(labelled_graphs())
def test_homophily_measures_in_unit_interval(gl):
    graph, labels = gl
    for value in (edge_homophily(graph, labels), node_homophily(graph, labels),
                  class_insensitive_homophily(graph, labels)):
        assert np.isnan(value) or 0.0 <= value <= 1.0
    li = label_informativeness(graph, labels)
    assert np.isnan(li) or -1e-12 <= li <= 1.0 + 1e-12


def test_label_informativeness_perfect_homophily_is_one():
    edges = [(0, 1), (1, 2), (3, 4), (4, 5)]
    assert label_informativeness(edges, [0, 0, 0, 1, 1, 1]) == pytest.approx(1.0)


def test_cora_topic_edge_homophily_0810():
    cora = load_cora()
    value = edge_homophily(cora.graph, cora.labels)
    assert round(value, 3) == 0.810


def test_auxiliary_nodes_are_dropped():
    g = SampleGraph.from_edges([(0, 1), (1, 2), (0, 3), (2, 3)], auxiliary=[0, 0, 0, 1])
    assert edge_homophily(g, [0, 0, 1]) == 0.5


@settings(max_examples=40, deadline=None)
@given(labelled_graphs(), st.integers(0, 2**31 - 1))
def test_dirichlet_unnormalized_equals_laplacian_quadratic_form(gl, seed):
    graph, _ = gl
    x = np.random.default_rng(seed).normal(size=(graph.n_nodes, 3))
    lap = sp.csgraph.laplacian(graph.to_scipy()).toarray()
    assert dirichlet_energy(graph, x) == pytest.approx(np.trace(x.T @ lap @ x), rel=1e-9)
    assert dirichlet_energy(graph, x, normalization="mean") == pytest.approx(
        2 * np.trace(x.T @ lap @ x) / graph.n_nodes, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(labelled_graphs())
def test_symmetric_dirichlet_of_degree_scaled_onehot_is_twice_heterophilous_edges(gl):
    graph, labels = gl
    onehot = np.eye(3)[labels]
    u = np.sqrt(graph.degrees())[:, None] * onehot
    hetero = int((labels[graph.edges()[:, 0]] != labels[graph.edges()[:, 1]]).sum())
    assert dirichlet_energy(graph, u, normalization="symmetric") == pytest.approx(2 * hetero)


def test_dirichlet_rejects_wrong_shape():
    with pytest.raises(ValueError, match="signal"):
        dirichlet_energy([(0, 1)], [1.0, 2.0, 3.0])


def test_unknown_variant_raises():
    with pytest.raises(ValueError, match="variant"):
        label_informativeness(LI_EDGES, LI_Y, variant="nodes")


# ------------------------------------------- issue 13: the published node LI can exceed 1
STAR = [(0, 1), (0, 2), (0, 3)]  # K_{1,3}, centre 0
STAR_Y = [1, 0, 0, 0]  # the centre alone in its class (labels [0,0,0,1] with the centre last)


def _node_sampling_li_by_definition(edges, labels):
    """I(y_xi; y_eta) / H(y_xi), xi a uniform non-isolated node and eta a uniform neighbour."""
    n = len(labels)
    nbrs = {v: [] for v in range(n)}
    for u, v in edges:
        nbrs[u].append(v)
        nbrs[v].append(u)
    nodes = [v for v in range(n) if nbrs[v]]
    joint = {}
    for v in nodes:
        for u in nbrs[v]:
            key = (labels[v], labels[u])
            joint[key] = joint.get(key, 0.0) + 1.0 / (len(nodes) * len(nbrs[v]))
    px, py = {}, {}
    for (a, b), p in joint.items():
        px[a] = px.get(a, 0.0) + p
        py[b] = py.get(b, 0.0) + p
    mi = sum(p * math.log(p / (px[a] * py[b])) for (a, b), p in joint.items())
    h = -sum(p * math.log(p) for p in px.values())
    return mi / h


def test_published_node_li_exceeds_one_on_the_star():
    # published formula: joint q = [[0, 3/4], [1/4, 0]], p = (3/4, 1/4), degree shares (1/2, 1/2):
    # numerator (3/4) log 2 + (1/4) log 2 = log 2 > H(3/4, 1/4) = 0.5623, so LI_node = 1.2326
    h = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert label_informativeness(STAR, STAR_Y, variant="node") == pytest.approx(math.log(2) / h)
    assert math.log(2) / h > 1.23
    # the neighbour's label determines the node's, so the mutual information is the entropy
    assert label_informativeness(STAR, STAR_Y, variant="node_mi") == pytest.approx(1.0)
    assert _node_sampling_li_by_definition(STAR, STAR_Y) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(labelled_graphs())
def test_node_mi_variant_is_the_normalized_mutual_information_in_unit_interval(gl):
    graph, labels = gl
    value = label_informativeness(graph, labels, variant="node_mi")
    if np.isnan(value):
        return
    assert -1e-12 <= value <= 1.0 + 1e-12
    ref = _node_sampling_li_by_definition(graph.edges().tolist(), labels.tolist())
    assert value == pytest.approx(ref, abs=1e-12)
    # the published numerator is this mutual information plus KL(eta's law || degree shares) >= 0
    assert label_informativeness(graph, labels, variant="node") >= value - 1e-12
