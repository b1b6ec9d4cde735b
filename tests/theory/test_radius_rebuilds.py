"""One radius convention across the package: every radius an API returns rebuilds its graph.

``radius_graph`` (strict: d < r) is the reference. Theory's recovery report, the
Theorem 1 check and geometry's graph recovery all decide on the kernel's exact
values, so their verdicts agree with each other and their radii rebuild the graphs
they describe, on float data with ties, one-ulp gaps and far translations.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory._kernel import exact_dissimilarities
from sip_theory.geometry import graph_recovery
from sip_theory.graphs import SampleGraph, radius_graph
from sip_theory.theory import check_theorem1, recovery_margin


def f1(a: SampleGraph, b: SampleGraph) -> float:
    ea = set(map(tuple, a.edges()))
    eb = set(map(tuple, b.edges()))
    tp = len(ea & eb)
    return 2.0 * tp / (len(ea) + len(eb)) if ea or eb else float("nan")


@st.composite
def points_and_graph(draw):
    n = draw(st.integers(3, 14))
    d = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    base = rng.normal(size=(draw(st.integers(1, 4)), d))
    x = base[rng.integers(0, base.shape[0], n)] + rng.normal(size=(n, d)) * draw(
        st.sampled_from([0.0, 1e-3, 1.0]))
    if draw(st.booleans()):  # a pair one ulp farther than another
        x[-1] = np.nextafter(x[0], np.inf)
    x = x + draw(st.sampled_from([0.0, 1e8]))
    i, j = np.triu_indices(n, 1)
    v = exact_dissimilarities(x, i, j, "euclidean")
    if draw(st.booleans()):  # a radius graph (realized by construction) ...
        g = radius_graph(x, float(v[draw(st.integers(0, v.size - 1))]))
    else:  # ... or an arbitrary graph
        keep = rng.random(v.size) < draw(st.floats(0.0, 1.0))
        g = SampleGraph.from_edges(np.stack([i[keep], j[keep]], 1), n_nodes=n)
    return x, g


def assert_same_report(geo, rep):
    """geometry's report carries theory's fields with theory's values; the radii of a
    non-realized graph may differ (both rebuild the same graph, checked by the callers)."""
    for name in ("metric", "n_pairs", "n_edges", "max_linked", "min_unlinked", "margin",
                 "realized", "min_violations", "best_f1"):
        a, b = getattr(geo, name), getattr(rep, name)
        assert a == b or (a != a and b != b), (name, a, b)
    if rep.realized:
        assert (geo.radius, geo.min_violations_radius, geo.best_f1_radius) == (
            rep.radius, rep.min_violations_radius, rep.best_f1_radius)


@settings(max_examples=80, deadline=None)
@given(points_and_graph())
def test_every_reported_radius_rebuilds_its_graph_with_radius_graph(data):
    x, g = data
    rep = recovery_margin(x, g)
    if rep.realized:
        assert radius_graph(x, rep.radius) == g
    rebuilt = radius_graph(x, rep.min_violations_radius)
    diff = set(map(tuple, rebuilt.edges())) ^ set(map(tuple, g.edges()))
    assert len(diff) == rep.min_violations
    if g.n_edges and not rep.realized:
        assert f1(radius_graph(x, rep.best_f1_radius), g) == rep.best_f1
    labels = np.arange(x.shape[0]) % 2
    assert check_theorem1(x, g, labels).radius == rep.radius
    geo = graph_recovery(x, g, knn_k=1)
    assert_same_report(geo, rep)
    if rep.realized:
        assert radius_graph(x, geo.radius) == g
    geo_rebuilt = radius_graph(x, geo.min_violations_radius)
    diff = set(map(tuple, geo_rebuilt.edges())) ^ set(map(tuple, g.edges()))
    assert len(diff) == geo.min_violations
    if g.n_edges and not geo.realized:
        assert f1(radius_graph(x, geo.best_f1_radius), g) == geo.best_f1


def test_a_graph_realized_by_a_one_ulp_gap_is_reported_realized_and_rebuilt():
    # points 0, 1, 1 + ulp: the edge (0, 1) at distance 1, the non-edge (0, 2) one ulp farther
    x = np.array([[0.0], [1.0], [np.nextafter(1.0, 2.0)]])
    g = radius_graph(x, np.nextafter(1.0, 2.0))  # d < 1 + ulp: (0, 1) and (1, 2)
    rep = recovery_margin(x, g)
    assert rep.realized and rep.margin > 0
    assert radius_graph(x, rep.radius) == g
    assert graph_recovery(x, g).realized


@settings(max_examples=60, deadline=None)
@given(points_and_graph(), st.sampled_from(["euclidean", "sqeuclidean", "cosine", "dot"]))
def test_geometry_and_theory_report_the_same_recovery_under_every_metric(data, metric):
    x, g = data
    x = x - x.mean(0) + 0.5  # cosine needs no zero row; keep the ties and the ulp pair
    rep = recovery_margin(x, g, metric=metric)
    geo = graph_recovery(x, g, knn_k=1, metric=metric)
    assert_same_report(geo, rep)
    for r, viol in ((geo.min_violations_radius, geo.min_violations),
                    (rep.min_violations_radius, rep.min_violations)):
        rebuilt = radius_graph(x, r, metric=metric)
        diff = set(map(tuple, rebuilt.edges())) ^ set(map(tuple, g.edges()))
        assert len(diff) == viol
    if geo.realized:
        assert radius_graph(x, geo.radius, metric=metric) == g


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "sqeuclidean"])
def test_an_empty_graph_on_duplicates_is_realized_at_zero_and_rebuilt(metric):
    # issue 13: cosine's fast 1 - cos of duplicate rows can be -2e-16, below the reported
    # radius 0; the exact value is 0, so d < 0 holds for no pair and the radius rebuilds
    x = np.array([[0.3, 0.7, 0.1], [0.3, 0.7, 0.1], [0.3 * 3, 0.7 * 3, 0.1 * 3], [1.0, -2.0, 0.5]])
    g = SampleGraph.from_edges(np.zeros((0, 2), dtype=int), n_nodes=4)
    rep = recovery_margin(x, g, metric=metric)
    assert rep.realized and rep.radius == 0.0
    assert radius_graph(x, rep.radius, metric=metric).n_edges == 0
    assert check_theorem1(x, g, [0, 1, 0, 1], metric=metric).robust.n_violating_pairs == 0
