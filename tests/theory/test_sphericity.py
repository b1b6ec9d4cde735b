"""Depth: sphericity estimates on graphs whose sphericity is known."""

import networkx as nx
import numpy as np
from hypothesis import given, settings

from sip_theory.graphs import SampleGraph, radius_graph
from sip_theory.testing import cluster_graphs
from sip_theory.theory import estimate_sphericity


@settings(max_examples=8, deadline=None)
@given(cluster_graphs(min_nodes=2, max_nodes=12))
def test_disjoint_cliques_have_sphericity_one(g):
    est = estimate_sphericity(g, max_dim=1, seed=0)
    assert est.upper_bound == 1 and est.exact


def test_cycle_has_sphericity_two():
    est = estimate_sphericity(SampleGraph.from_networkx(nx.cycle_graph(12)), seed=0)
    assert (est.lower_bound, est.upper_bound) == (2, 2)


def test_grid_has_sphericity_two():
    grid = nx.convert_node_labels_to_integers(nx.grid_2d_graph(4, 4))
    est = estimate_sphericity(SampleGraph.from_networkx(grid), seed=0)
    assert est.exact and est.upper_bound == 2


def test_claw_lower_bound_two():
    est = estimate_sphericity([(0, 1), (0, 2), (0, 3)], seed=0)
    assert est.lower_bound == 2 and est.upper_bound == 2


def test_path_realized_in_one_dimension():
    est = estimate_sphericity(SampleGraph.from_networkx(nx.path_graph(8)), seed=0)
    assert est.upper_bound == 1


def test_realizing_embedding_is_returned_and_recovers_graph():
    rng = np.random.default_rng(1)
    pts = rng.uniform(size=(20, 2))
    g = radius_graph(pts, 0.35)
    est = estimate_sphericity(g, max_dim=3, seed=0)
    assert est.upper_bound is not None and est.upper_bound <= 2
    assert radius_graph(est.embedding, est.radius) == g
