"""Tests of the public hypothesis strategies in sip_theory.testing."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.graphs import radius_graph, sentence_sticks
from sip_theory.testing import (
    cluster_graphs,
    finite_arrays,
    geometric_graphs,
    graphs_with_labels,
    labelings,
    realizing_embeddings,
    sample_graphs,
)

FAST = settings(max_examples=30, deadline=None)
METRICS = ("euclidean", "sqeuclidean", "cosine", "dot")


@FAST
@given(st.data())
def test_sample_graphs_respect_node_and_density_bounds(data):
    lo_n = data.draw(st.integers(0, 4))
    hi_n = data.draw(st.integers(4, 9))  # n = 4 (6 pairs) fits every density pair below
    lo_d = data.draw(st.sampled_from([0.0, 0.2, 0.5]))
    hi_d = data.draw(st.sampled_from([0.5, 0.8, 1.0]))
    g = data.draw(sample_graphs(min_nodes=lo_n, max_nodes=hi_n, min_density=lo_d,
                                max_density=hi_d))
    assert lo_n <= g.n_nodes <= hi_n
    pairs = g.n_nodes * (g.n_nodes - 1) // 2
    if pairs:
        assert lo_d - 1e-12 <= g.n_edges / pairs <= hi_d + 1e-12


@FAST
@given(sample_graphs(max_nodes=8, weighted=True))
def test_weighted_sample_graphs_have_positive_weights(g):
    assert (g.edge_weights() > 0).all()
    assert g.weighted == (g.n_edges > 0)


def test_sample_graphs_reject_infeasible_density_bounds():
    with pytest.raises(ValueError, match="no graph with 2..2 nodes"):
        sample_graphs(min_nodes=2, max_nodes=2, min_density=0.3, max_density=0.6)


def test_sample_graphs_reject_inverted_node_bounds_naming_max_nodes():
    with pytest.raises(ValueError, match="max_nodes must be >= min_nodes"):
        sample_graphs(min_nodes=5, max_nodes=3)


@FAST
@given(st.integers(0, 12).flatmap(lambda n: labelings(n, min_classes=2, max_classes=3)))
def test_labelings_use_at_most_max_classes(y):
    assert y.dtype == np.int64
    assert set(y.tolist()) <= {0, 1, 2}


@FAST
@given(st.integers(3, 12).flatmap(
    lambda n: labelings(n, min_classes=3, max_classes=3, all_present=True)))
def test_labelings_all_present_contains_every_class(y):
    assert set(y.tolist()) == {0, 1, 2}


@FAST
@given(graphs_with_labels(max_nodes=8, max_classes=3))
def test_graphs_with_labels_have_one_label_per_node(case):
    g, y = case
    assert y.shape == (g.n_nodes,)


@FAST
@given(cluster_graphs(max_nodes=10, min_clusters=2, max_clusters=4))
def test_cluster_graphs_are_cluster_graphs_with_bounded_cluster_count(g):
    assert g.is_cluster_graph()
    if g.n_nodes:
        assert 2 <= g.connected_components()[0] <= 4


@FAST
@given(finite_arrays((4, 3), min_value=-2, max_value=2, dtype=np.float32))
def test_finite_arrays_are_finite_and_bounded(x):
    assert x.dtype == np.float32 and np.isfinite(x).all() and np.abs(x).max() <= 2


# ------------------------------------------------------------- realizations
@FAST
@given(st.sampled_from(METRICS).flatmap(
    lambda m: sample_graphs(max_nodes=9).flatmap(
        lambda g: st.tuples(st.just(g), realizing_embeddings(g, metric=m,
                                                             construction="gram")))))
def test_gram_realization_recovers_any_graph(case):
    g, real = case
    assert radius_graph(real.points, real.radius, metric=real.metric) == g


@FAST
@given(st.sampled_from(METRICS).flatmap(
    lambda m: cluster_graphs(max_nodes=10).flatmap(
        lambda g: st.tuples(st.just(g), realizing_embeddings(g, metric=m,
                                                             construction="clusters")))))
def test_cluster_realization_recovers_cluster_graphs(case):
    g, real = case
    assert radius_graph(real.points, real.radius, metric=real.metric) == g
    if real.metric in ("euclidean", "sqeuclidean"):
        assert real.points.shape[1] <= 3  # cliques need only a few dimensions


@FAST
@given(st.lists(st.integers(0, 5), max_size=4).flatmap(
    lambda lengths: realizing_embeddings(sentence_sticks(lengths).graph, construction="path")
    .map(lambda real: (lengths, real))))
def test_path_realization_recovers_disjoint_paths(case):
    lengths, real = case
    g = sentence_sticks(lengths).graph
    assert radius_graph(real.points, real.radius, metric=real.metric) == g
    assert real.points.shape[1] <= 2


def test_inapplicable_construction_raises_naming_construction():
    g = sentence_sticks([3]).graph  # a path, not a cluster graph
    with pytest.raises(ValueError, match="construction='clusters' does not apply"):
        realizing_embeddings(g, construction="clusters")


@FAST
@given(geometric_graphs(min_nodes=2, max_nodes=10))
def test_geometric_graph_radius_lies_strictly_between_distances(case):
    g, x, r = case
    diff = x[:, None, :] - x[None, :, :]
    d = np.sqrt((diff * diff).sum(-1))
    adj = g.to_dense() > 0
    off = ~np.eye(g.n_nodes, dtype=bool)
    assert (d[adj] < r).all()
    assert (d[~adj & off] > r).all()
