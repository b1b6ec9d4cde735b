"""Depth: sphericity estimates on graphs whose sphericity is known."""

import networkx as nx
import numpy as np
from hypothesis import given, settings

from sip_theory.graphs import SampleGraph, radius_graph
from sip_theory.testing import cluster_graphs, sample_graphs
from sip_theory.theory import estimate_sphericity, unit_interval_recognition


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
    assert est.lower_bound == 2 and est.upper_bound == 2 and "claw" in est.certificate


def test_path_realized_in_one_dimension():
    est = estimate_sphericity(SampleGraph.from_networkx(nx.path_graph(8)), seed=0)
    assert est.upper_bound == 1 and est.exact


def test_realizing_embedding_is_returned_and_recovers_graph():
    rng = np.random.default_rng(1)
    pts = rng.uniform(size=(20, 2))
    g = radius_graph(pts, 0.35)
    est = estimate_sphericity(g, max_dim=3, seed=0)
    assert est.upper_bound is not None and est.upper_bound <= 2
    assert radius_graph(est.embedding, est.radius) == g


# ------------------------------------------- issue 13: ambient Euclidean versus geodesic distance
def _star(k):
    return SampleGraph.from_edges([(0, i) for i in range(1, k + 1)])


def test_induced_stars_certify_higher_dimensions():
    # k pairwise unlinked neighbours of one node sit in directions pairwise more than 60 degrees
    # apart: at most 2 on a line, 5 in the plane, 12 in space
    assert estimate_sphericity(_star(5), max_dim=2, seed=0).lower_bound == 2
    est = estimate_sphericity(_star(6), max_dim=3, seed=0)
    assert est.lower_bound == 3 and "K_{1,6}" in est.certificate
    assert estimate_sphericity(_star(13), max_dim=1, seed=0).lower_bound == 4


def test_geodesic_radius_graph_of_a_planar_manifold_needs_three_dimensions():
    # the plane minus 7 radial slits {rho e^{i phi_j}: rho >= 0.1} is an open subset of R^2, a flat
    # 2-manifold; a centre at 0 and 7 points at radius 0.9 between the slits. Geodesically, the
    # centre is 0.9 from each point, and any path between two points enters the disc of radius 0.1,
    # so it is at least 2 (0.9 - 0.1) = 1.6 long: the geodesic radius-1 graph is the star K_{1,7}
    k, rho, delta = 7, 0.9, 0.1
    angles = 2 * np.pi * np.arange(k) / k
    pts = np.vstack([[0.0, 0.0], rho * np.c_[np.cos(angles), np.sin(angles)]])
    geo = np.full((k + 1, k + 1), 2 * (rho - delta))
    geo[0, :] = geo[:, 0] = rho
    np.fill_diagonal(geo, 0.0)
    iu = np.triu_indices(k + 1, 1)
    linked = geo[iu] < 1.0
    geodesic_graph = SampleGraph.from_edges(np.c_[iu][linked], n_nodes=k + 1)
    assert geodesic_graph == _star(k)
    est = estimate_sphericity(geodesic_graph, max_dim=2, seed=0)
    assert est.lower_bound == 3 > pts.shape[1]  # more than the ambient dimension
    # the ambient Euclidean radius-1 graph of the same points (realized in R^2 by the points
    # themselves) is the wheel: neighbouring points are 2 (0.9) sin(pi/7) = 0.78 apart, the next
    # ones 2 (0.9) sin(2 pi/7) = 1.41
    wheel = [(0, i) for i in range(1, k + 1)] + [(i, i % k + 1) for i in range(1, k + 1)]
    assert radius_graph(pts, 1.0) == SampleGraph.from_edges(wheel)


# ------------------------------------------- issue 13: sphericity 1 decided exactly
_NET = [(0, 1), (1, 2), (0, 2), (0, 3), (1, 4), (2, 5)]
_TENT = [(0, 1), (1, 2), (0, 2), (0, 3), (1, 3), (1, 4), (2, 4), (2, 5), (0, 5)]


def test_net_and_tent_are_certified_above_one():
    # chordal and claw-free, so the earlier certificates (holes, claws) missed them
    for edges, name in ((_NET, "net"), (_TENT, "tent")):
        est = estimate_sphericity(edges, max_dim=2, seed=0)
        assert est.lower_bound == 2 and f"induced {name}" in est.certificate
        assert est.upper_bound == 2 and est.exact


def test_long_path_is_exactly_one_without_the_optimizer():
    est = estimate_sphericity(SampleGraph.from_networkx(nx.path_graph(60)), max_dim=1)
    assert (est.lower_bound, est.upper_bound, est.exact) == (1, 1, True)
    assert [t["method"] for t in est.trials] == ["unit interval line"]
    assert radius_graph(est.embedding, est.radius) == SampleGraph.from_networkx(nx.path_graph(60))


@settings(max_examples=40, deadline=None)
@given(sample_graphs(min_nodes=1, max_nodes=9))
def test_sphericity_one_iff_unit_interval(g):
    # max_dim = 1: the estimate is exactly 1 for a unit interval graph (with a realization that
    # rebuilds the graph) and never 1 otherwise (lower bound >= 2 and no upper bound)
    est = estimate_sphericity(g, max_dim=1, seed=0)
    if unit_interval_recognition(g).is_unit_interval:
        assert est.exact and est.upper_bound == 1
        if g.n_nodes >= 2:
            assert radius_graph(est.embedding, est.radius) == g
    else:
        assert est.lower_bound >= 2 and est.upper_bound is None and not est.exact
