"""The engine's exactness rule: results equal a brute force over the kernel's exact values.

Float data with exact ties (repeated rows, a collapsed embedding), one-ulp gaps,
translated points and random chunkings: the kNN lists, edge ranks, nearest
non-edges, pair counts and radius lists must equal the brute force over
:func:`sip_theory._kernel.exact_dissimilarities`, and passing a graph must change
no kNN result and no label-only metric.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory._kernel import METRICS, exact_dissimilarities
from sip_theory.geometry import (
    compute_neighbors,
    geometry_report,
    knn_local_consistency,
    knn_probe,
    link_retrieval,
    radius_neighbors,
)
from sip_theory.graphs import SampleGraph, radius_graph


def exact_matrix(X, metric):
    n = X.shape[0]
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    D = exact_dissimilarities(X, i.ravel(), j.ravel(), metric).reshape(n, n)
    np.fill_diagonal(D, np.inf)
    return D


def order_by_distance_then_index(D, k):
    idx = np.tile(np.arange(D.shape[1]), (D.shape[0], 1))
    return np.lexsort((idx, D), axis=1)[:, :k]


@st.composite
def tied_float_points(draw, max_n=28):
    """Rows drawn from a few random float rows (exact ties and duplicates), in float32 or
    float64, optionally translated far from the origin."""
    n = draw(st.integers(4, max_n))
    d = draw(st.integers(1, 12))
    n_distinct = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n_distinct, d))
    X = base[rng.integers(0, n_distinct, n)] + rng.normal(size=(n, d)) * draw(
        st.sampled_from([0.0, 0.0, 1e-3, 1.0]))
    X = X + draw(st.sampled_from([0.0, 0.0, 1e4, 1e8]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return X.astype(dtype), rng


@settings(max_examples=40, deadline=None)
@given(tied_float_points(), st.sampled_from(METRICS), st.integers(1, 30), st.integers(1, 6),
       st.floats(0.0, 0.9))
def test_every_engine_result_equals_the_exact_brute_force(edge_statistics_match, data, metric,
                                                         chunk, k, density):
    X, rng = data
    n = X.shape[0]
    if metric == "cosine" and (np.linalg.norm(X.astype(np.float64), axis=1) == 0).any():
        return
    k = min(k, n - 1)
    D = exact_matrix(X, metric)
    A = np.triu(rng.random((n, n)) < density, 1)
    g = SampleGraph.from_dense((A | A.T).astype(float))
    nb = compute_neighbors(X, k=k, graph=g, metric=metric, chunk_size=chunk)
    want = order_by_distance_then_index(D, k)
    assert (nb.indices == want).all()
    assert (nb.distances == np.take_along_axis(D, want, 1).astype(X.dtype)).all()
    edge_statistics_match(nb, g, D)
    # a graph changes no kNN result, at this chunking or the default one
    for c in (chunk, None):
        plain = compute_neighbors(X, k=k, metric=metric, chunk_size=c)
        assert (plain.indices == nb.indices).all() and (plain.distances == nb.distances).all()


@settings(max_examples=25, deadline=None)
@given(tied_float_points(), st.sampled_from(["euclidean", "sqeuclidean", "cosine", "dot"]),
       st.integers(1, 30), st.booleans())
def test_radius_lists_equal_the_exact_brute_force(data, metric, chunk, strict):
    X, _ = data
    if metric == "cosine" and (np.linalg.norm(X.astype(np.float64), axis=1) == 0).any():
        return
    D = exact_matrix(X, metric)
    finite = np.sort(D[np.isfinite(D)])
    d_r = float(finite[len(finite) // 3])  # a radius that is some pair's exact distance
    r = -d_r if metric == "dot" else d_r  # "dot" takes a similarity threshold
    ptr, ind, dist = radius_neighbors(X, r, metric=metric, chunk_size=chunk, strict=strict)
    for i in range(X.shape[0]):
        row = np.flatnonzero(D[i] < d_r if strict else D[i] <= d_r)
        row = row[np.lexsort((row, D[i, row]))]
        assert ind[ptr[i]:ptr[i + 1]].tolist() == row.tolist()
        assert (dist[ptr[i]:ptr[i + 1]] == D[i, row].astype(X.dtype)).all()
    if strict:  # the convention of radius_graph: the same pairs at the same radius
        rows = np.repeat(np.arange(X.shape[0]), np.diff(ptr))
        pairs = sorted((int(a), int(b)) for a, b in zip(rows, ind, strict=True) if a < b)
        assert radius_graph(X, r, metric=metric).edges().tolist() == [list(p) for p in pairs]


def collapsed_case(metric="euclidean", n=300, seed=0):
    """The case the leak was found on: an embedding collapsed to 3 distinct points, random
    labels, and a graph linking same-label pairs."""
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(3, 16)).astype(np.float32)
    X = points[rng.integers(0, 3, n)]
    labels = rng.integers(0, 3, n)
    same = labels[:, None] == labels[None, :]
    A = np.triu(same & (rng.random((n, n)) < 0.05), 1)
    return X, labels, SampleGraph.from_dense((A | A.T).astype(float))


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_a_graph_changes_no_knn_result_or_label_metric_on_a_collapsed_embedding(metric):
    X, labels, g = collapsed_case(metric)
    plain = compute_neighbors(X, k=10, metric=metric)
    with_g = compute_neighbors(X, k=10, graph=g, metric=metric)
    assert (plain.indices == with_g.indices).all()
    assert (plain.distances == with_g.distances).all()
    a = knn_probe(X, labels, k=3, metric=metric, neighbors=plain)
    b = knn_probe(X, labels, k=3, metric=metric, neighbors=with_g)
    assert a.accuracy == b.accuracy and a.macro_auroc == b.macro_auroc
    la = knn_local_consistency(X, labels, k=3, metric=metric, neighbors=plain)
    lb = knn_local_consistency(X, labels, k=3, metric=metric, neighbors=with_g)
    assert la.lc_embedding == lb.lc_embedding
    ra = geometry_report(X, None, labels, metric=metric, k=10, linear=False)
    rb = geometry_report(X, g, labels, metric=metric, k=10, linear=False)
    for key in ("knn_accuracy", "knn_macro_auroc", "lc_embedding_knn"):
        if key in ra.to_dict():
            assert ra.to_dict()[key] == rb.to_dict()[key], key


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_link_ranks_on_a_collapsed_embedding_equal_the_exact_ranks(metric):
    X, _, g = collapsed_case(metric)
    D = exact_matrix(X, metric)
    rows = np.repeat(np.arange(X.shape[0]), np.diff(g.indptr))
    d = D[rows, g.indices]
    nb = compute_neighbors(X, k=10, graph=g, metric=metric)
    assert (nb.edges.rank_le == (D[rows] <= d[:, None]).sum(1)).all()
    assert (nb.edges.rank_lt == (D[rows] < d[:, None]).sum(1)).all()
    # every edge ties with many non-edges: its pessimistic rank is far from 1
    r = link_retrieval(X, g, metric=metric, neighbors=nb)
    assert r.mrr < 0.2


def test_duplicates_are_at_cosine_distance_exactly_zero():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(20, 7)).astype(np.float32)
    X[3] = X[11]
    nb = compute_neighbors(X, k=1, metric="cosine")
    assert nb.distances[3, 0] == 0.0 and nb.indices[3, 0] == 11
    assert nb.distances[11, 0] == 0.0 and nb.indices[11, 0] == 3


def test_a_one_ulp_gap_between_an_edge_and_a_non_edge_is_resolved():
    # points 0, 1 and 1 + ulp on a line: the edge (0, 1) is one ulp nearer than the
    # non-edge (0, 2); float32 expansions of these values round together
    one = np.float64(1.0)
    X = np.array([[0.0], [one], [np.nextafter(one, 2.0)]]) * 1000.0
    g = SampleGraph.from_edges([(0, 1)], n_nodes=3)
    nb = compute_neighbors(X, k=1, graph=g)
    D = exact_matrix(X, "euclidean")
    assert nb.edges.min_nonedge[0] == D[0, 2] and nb.edges.distance[0] == D[0, 1]
    assert nb.edges.min_nonedge[0] > nb.edges.distance[0]
    assert nb.edges.rank_le[0] == 1 and nb.edges.rank_lt[0] == 0


# ---------------------------------------------------------------- float32 keys, kNN minima
@st.composite
def near_tied_line(draw):
    """Points on a line whose float64 distances differ by a few ulps or by less than one
    float32 ulp: sorted as float32 keys, edges and non-edges share keys."""
    n = draw(st.integers(3, 24))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    step = draw(st.sampled_from([1e-12, 1e-9, 1e-6]))
    base = draw(st.sampled_from([1.0, 1e3, 1e8]))
    # a few exact repeats, the rest a few ulps or a sub-float32-ulp step apart
    pos = base + step * rng.integers(0, max(2, n // 2), n)
    ulps = rng.integers(0, 3, n)
    pos = np.where(ulps == 1, np.nextafter(pos, np.inf), pos)
    X = np.stack([pos, np.zeros(n)], 1) if draw(st.booleans()) else pos[:, None]
    return X, rng


@settings(max_examples=40, deadline=None)
@given(near_tied_line(), st.sampled_from(["euclidean", "sqeuclidean", "dot", "cosine"]),
       st.integers(1, 7), st.integers(1, 4), st.floats(0.0, 1.0))
def test_edge_ranks_on_sub_float32_gaps_equal_the_exact_brute_force(
        edge_statistics_match, data, metric, chunk, k, density):
    X, rng = data
    n = X.shape[0]
    k = min(k, n - 1)
    D = exact_matrix(X, metric)
    A = np.triu(rng.random((n, n)) < density, 1)
    g = SampleGraph.from_dense((A | A.T).astype(float))
    for c in (chunk, None):
        nb = compute_neighbors(X, k=k, graph=g, metric=metric, chunk_size=c)
        edge_statistics_match(nb, g, D)


def test_nearest_non_edge_when_every_listed_neighbour_is_an_edge(edge_statistics_match):
    # rows 0..3 form a clique, each with its 3 nearest neighbours inside it (k = 2 lists
    # hold edges only: the nearest non-edge comes from the block scan); row 4 is isolated
    # (its list holds non-edges only); rows 5, 6 are a duplicate pair joined by an edge
    X = np.array([[0.0], [1.0], [2.0], [3.0], [10.0], [20.0], [20.0]])
    g = SampleGraph.from_edges([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3), (5, 6)],
                               n_nodes=7)
    D = exact_matrix(X, "euclidean")
    for chunk in (1, 2, 7):
        nb = compute_neighbors(X, k=2, graph=g, chunk_size=chunk)
        edge_statistics_match(nb, g, D)
        assert nb.edges.min_nonedge.tolist() == [10.0, 9.0, 8.0, 7.0, 7.0, 10.0, 10.0]


def test_a_complete_graph_has_no_non_edge_and_an_empty_graph_only_non_edges(
        edge_statistics_match):
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [1.0, 2.0]])
    D = exact_matrix(X, "euclidean")
    full = SampleGraph.from_dense(np.ones((4, 4)) - np.eye(4))
    nb = compute_neighbors(X, k=3, graph=full, chunk_size=3)
    edge_statistics_match(nb, full, D)
    assert np.isinf(nb.edges.min_nonedge).all()
    empty = SampleGraph.from_edges(np.zeros((0, 2), dtype=int), n_nodes=4)
    nb = compute_neighbors(X, k=1, graph=empty, chunk_size=3)
    assert nb.edges.min_nonedge.tolist() == [1.0, 1.0, 1.0, 1.0]


def test_min_non_edge_skips_excluded_pairs_with_knn_lists_and_scans():
    # the excluded pair (0, 1) is the nearest of row 0: it is no candidate, neither in the
    # kNN list nor in the scan; the edge (0, 2) comes next, so the nearest non-edge of row 0
    # is 3 (k = 1: row 0's list holds the edge only)
    X = np.array([[0.0], [0.5], [1.0], [3.0], [7.0]])
    g = SampleGraph.from_edges([(0, 2)], n_nodes=5)
    ex = SampleGraph.from_edges([(0, 1)], n_nodes=5)
    for chunk in (1, 5):
        nb = compute_neighbors(X, k=1, graph=g, exclude=ex, chunk_size=chunk)
        assert nb.edges.min_nonedge[0] == 3.0
        assert nb.edges.rank_lt[0] == 0 and nb.edges.rank_le[0] == 1
        assert nb.indices[0, 0] == 2


def test_values_beyond_float32_range_are_ranked_on_float64_keys(edge_statistics_match):
    # squared distances near 1e40 overflow float32: the edge ranks keep float64 keys
    rng = np.random.default_rng(3)
    X = rng.normal(size=(12, 3)) * 1e20
    X[5] = X[2]
    A = np.triu(rng.random((12, 12)) < 0.3, 1)
    g = SampleGraph.from_dense((A | A.T).astype(float))
    for metric in ("euclidean", "sqeuclidean", "dot"):
        nb = compute_neighbors(X, k=2, graph=g, metric=metric, chunk_size=5)
        edge_statistics_match(nb, g, exact_matrix(X, metric))
