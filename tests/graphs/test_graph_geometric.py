"""Tests of the blocked radius and kNN graphs against brute-force dense computations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sip_theory._kernel import exact_dissimilarities
from sip_theory._kernel._backends import _true_positions
from sip_theory.graphs import SampleGraph, knn_graph, radius_graph
from sip_theory.testing import geometric_graphs

FAST = settings(max_examples=40, deadline=None)
METRICS = ("euclidean", "sqeuclidean", "cosine", "dot")


def dyadic_points(min_n=2, max_n=12, max_dim=3, nonzero=False):
    """Points with coordinates in {-2, -1.75, ..., 2}: exact arithmetic, many exact ties."""
    coord = st.integers(-8, 8).map(lambda v: v / 4)
    shape = st.tuples(st.integers(min_n, max_n), st.integers(1, max_dim))
    pts = shape.flatmap(lambda s: hnp.arrays(np.float64, s, elements=coord))
    if nonzero:
        pts = pts.map(lambda x: np.where(np.abs(x).sum(1, keepdims=True) == 0, 1.0, x))
    return pts


def brute_values(x, metric):
    """Direct pairwise values over all pairs (dense; small n only): the kernel's exact
    formula, the definition radius_graph and knn_graph decide on ("dot" as a similarity)."""
    n = np.asarray(x).shape[0]
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    v = exact_dissimilarities(x, i.ravel(), j.ravel(), metric).reshape(n, n)
    return -v if metric == "dot" else v


def brute_radius(x, r, metric, strict=True):
    v = brute_values(x, metric)
    if metric == "dot":
        adj = v > r if strict else v >= r
    else:
        adj = v < r if strict else v <= r
    np.fill_diagonal(adj, False)
    return SampleGraph.from_dense(adj.astype(float))


def brute_knn(x, k, metric, mutual=False):
    v = brute_values(x, metric)
    if metric == "dot":
        v = -v
    n = v.shape[0]
    np.fill_diagonal(v, np.inf)
    adj = np.zeros((n, n), dtype=bool)
    for i in range(n):
        nearest = np.lexsort((np.arange(n), v[i]))[:k]  # by value, then index
        adj[i, nearest] = True
    adj = adj & adj.T if mutual else adj | adj.T
    return SampleGraph.from_dense(adj.astype(float))


# -------------------------------------------------------------------- radius
@FAST
@given(dyadic_points(), st.integers(0, 24).map(lambda v: v / 4), st.integers(1, 14),
       st.sampled_from(["euclidean", "sqeuclidean"]), st.booleans())
def test_radius_graph_equals_brute_force_for_any_chunk_size_with_exact_ties(
    x, r, chunk, metric, strict
):
    got = radius_graph(x, r, metric=metric, strict=strict, chunk_size=chunk)
    assert got == brute_radius(x, r, metric, strict)


@FAST
@given(dyadic_points(nonzero=True), st.integers(-16, 16).map(lambda v: v / 4),
       st.integers(1, 14), st.booleans())
def test_dot_radius_graph_equals_brute_force_with_exact_ties(x, t, chunk, strict):
    got = radius_graph(x, t, metric="dot", strict=strict, chunk_size=chunk)
    assert got == brute_radius(x, t, "dot", strict)


@FAST
@given(st.sampled_from(METRICS).flatmap(
    lambda m: st.tuples(st.just(m), geometric_graphs(max_nodes=12, max_dim=4, metric=m))),
    st.integers(1, 14))
def test_radius_graph_equals_brute_force_on_random_points(case, chunk):
    metric, (graph, x, r) = case
    assert radius_graph(x, r, metric=metric, chunk_size=chunk) == graph


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("metric", METRICS)
def test_radius_exactly_equal_to_a_pair_value_is_decided_by_the_direct_formula(dtype, metric):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((150, 16)).astype(dtype)
    v = brute_values(x, metric)
    r = float(v[3, 7])  # a borderline pair: strict excludes it, non-strict includes it
    strict_graph = radius_graph(x, r, metric=metric, chunk_size=37)
    loose_graph = radius_graph(x, r, metric=metric, strict=False, chunk_size=37)
    assert not strict_graph.has_edge(3, 7) and loose_graph.has_edge(3, 7)
    assert strict_graph == brute_radius(x, r, metric, strict=True)
    assert loose_graph == brute_radius(x, r, metric, strict=False)


def test_radius_graph_is_chunk_invariant_on_a_multi_block_problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2500, 8))
    ref = radius_graph(x, 1.5, chunk_size=2500)
    assert ref.n_edges > 1000
    assert radius_graph(x, 1.5) == ref
    assert radius_graph(x, 1.5, chunk_size=333) == ref


def test_radius_graph_matches_sklearn_radius_neighbors_graph():
    sk = pytest.importorskip("sklearn.neighbors")
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(300, 3))
    ref = sk.radius_neighbors_graph(x, 0.15, mode="connectivity", include_self=False)
    assert radius_graph(x, 0.15, chunk_size=64) == SampleGraph.from_scipy(ref)


def test_radius_graph_far_from_origin_is_exact():
    # points with a large common offset: the centring keeps the expanded form accurate
    x = 1e6 + np.array([[0.0], [1.0], [2.0], [3.5]])
    assert radius_graph(x, 1.0, strict=False).edges().tolist() == [[0, 1], [1, 2]]


# ----------------------------------------------------------------------- kNN
@FAST
@given(dyadic_points(min_n=2, nonzero=True), st.data(), st.sampled_from(METRICS),
       st.booleans())
def test_knn_graph_equals_brute_force_for_any_chunk_size_with_ties(x, data, metric, mutual):
    n = x.shape[0]
    k = data.draw(st.integers(1, n - 1))
    chunk = data.draw(st.integers(1, n + 2))
    got = knn_graph(x, k, metric=metric, mutual=mutual, chunk_size=chunk)
    assert got == brute_knn(x, k, metric, mutual)


@FAST
@given(dyadic_points(min_n=3), st.data())
def test_knn_degrees_at_least_k_symmetrized_at_most_k_mutual(x, data):
    k = data.draw(st.integers(1, x.shape[0] - 1))
    assert knn_graph(x, k).degrees().min() >= k
    assert knn_graph(x, k, mutual=True).degrees().max() <= k


@pytest.mark.parametrize("metric", METRICS)
def test_knn_float32_equals_brute_force_on_float32_values(metric):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((400, 24)).astype(np.float32)
    assert knn_graph(x, 7, metric=metric, chunk_size=50) == brute_knn(x, 7, metric)


def test_knn_graph_matches_sklearn_kneighbors_graph():
    sk = pytest.importorskip("sklearn.neighbors")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((500, 6))
    ref = sk.kneighbors_graph(x, 5, mode="connectivity", include_self=False)
    ref = ref.maximum(ref.T)
    assert knn_graph(x, 5, chunk_size=128) == SampleGraph.from_scipy(ref)


def test_knn_graph_is_chunk_invariant_on_a_multi_block_problem():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3000, 8)).astype(np.float32)
    ref = knn_graph(x, 10, chunk_size=3000)
    assert knn_graph(x, 10) == ref
    assert knn_graph(x, 10, chunk_size=257) == ref


# -------------------------------------------------------------------- errors
def test_k_not_smaller_than_n_raises_naming_k():
    with pytest.raises(ValueError, match="k must be smaller than the number of points"):
        knn_graph(np.zeros((3, 2)), 3)


def test_nan_points_raise_naming_points():
    x = np.array([[0.0, 1.0], [np.nan, 0.0]])
    with pytest.raises(ValueError, match="points has 1 row"):
        radius_graph(x, 1.0)
    with pytest.raises(ValueError, match="points has 1 row"):
        knn_graph(x, 1)


def test_cosine_zero_row_raises_naming_points():
    with pytest.raises(ValueError, match="points has 1 zero row"):
        radius_graph(np.array([[0.0, 0.0], [1.0, 0.0]]), 0.5, metric="cosine")


def test_negative_radius_raises_naming_radius():
    with pytest.raises(ValueError, match="radius must be >= 0"):
        radius_graph(np.zeros((2, 2)), -1.0)


def test_unknown_metric_raises_naming_metric():
    with pytest.raises(ValueError, match="metric must be one of"):
        knn_graph(np.zeros((3, 2)), 1, metric="manhattan")


def test_one_dimensional_points_raise_naming_points():
    with pytest.raises(ValueError, match="points must be a 2-D array"):
        radius_graph(np.zeros(3), 1.0)


def test_bad_chunk_size_raises_naming_chunk_size():
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        radius_graph(np.zeros((3, 2)), 1.0, chunk_size=0)


def test_radius_graph_of_no_points_is_empty():
    assert radius_graph(np.zeros((0, 3)), 1.0).n_nodes == 0


# ------------------------------------------------------------------- helpers
@FAST
@given(hnp.arrays(bool, st.tuples(st.integers(0, 5), st.integers(0, 40))))
def test_true_positions_equal_numpy_nonzero(mask):
    got = _true_positions(np.ascontiguousarray(mask))
    ref = np.nonzero(mask)
    assert got[0].tolist() == ref[0].tolist() and got[1].tolist() == ref[1].tolist()
