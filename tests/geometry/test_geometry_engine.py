"""The neighbour engine: exactness against brute force, chunking, ties, conventions, errors."""

import sys
import types

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from sip_theory.geometry import (
    chunk_size_for,
    compute_neighbors,
    iter_distance_blocks,
    knn,
    radius_neighbors,
)
from sip_theory.graphs import SampleGraph


def dense(X, metric="euclidean"):
    X = np.asarray(X, dtype=np.float64)
    if metric == "euclidean":
        D = cdist(X, X)
    elif metric == "sqeuclidean":
        D = cdist(X, X, "sqeuclidean")
    elif metric == "cosine":
        D = cdist(X, X, "cosine")
    else:
        D = -(X @ X.T)
    np.fill_diagonal(D, np.inf)
    return D


def order_by_distance_then_index(D, k):
    n = D.shape[0]
    idx = np.tile(np.arange(D.shape[1]), (n, 1))
    return np.lexsort((idx, D), axis=1)[:, :k]


@st.composite
def integer_points(draw, max_n=24, max_d=3):
    """Small-integer coordinates: all distances exact, many ties and duplicates."""
    n = draw(st.integers(4, max_n))
    d = draw(st.integers(1, max_d))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    return rng.integers(-2, 3, size=(n, d)).astype(np.float64), rng


@settings(max_examples=25, deadline=None)
@given(integer_points(), st.integers(1, 30), st.integers(1, 5))
def test_knn_chunked_equals_bruteforce_with_ties_by_index(data, chunk, k):
    X, _ = data
    k = min(k, X.shape[0] - 1)
    D = dense(X)
    want = order_by_distance_then_index(D, k)
    nb = compute_neighbors(X, k=k, chunk_size=chunk)
    assert (nb.indices == want).all()
    assert (nb.distances == np.take_along_axis(D, want, 1)).all()


@settings(max_examples=25, deadline=None)
@given(integer_points(), st.integers(1, 30), st.floats(0.0, 0.9))
def test_edge_ranks_and_pair_counts_chunked_equal_bruteforce(edge_statistics_match, data, chunk,
                                                            density):
    X, rng = data
    n = X.shape[0]
    A = np.triu(rng.random((n, n)) < density, 1)
    g = SampleGraph.from_dense((A | A.T).astype(float))
    nb = compute_neighbors(X, k=1, graph=g, chunk_size=chunk)
    edge_statistics_match(nb, g, dense(X))


@pytest.mark.parametrize("capacity", [1, 5, 37, 10_000])
def test_pair_counts_do_not_depend_on_the_pair_buffer_size(monkeypatch, capacity):
    import sip_theory.geometry._neighbors as nbm

    X = np.random.default_rng(11).integers(-2, 3, size=(23, 2)).astype(float)
    E = [(i, j) for i in range(23) for j in range(i + 1, 23) if (i * j) % 7 == 1]
    ref = compute_neighbors(X, k=1, graph=E, histogram_bins=5)
    monkeypatch.setattr(nbm, "_MIN_PAIR_CAPACITY", capacity)
    got = compute_neighbors(X, k=1, graph=E, histogram_bins=5, memory_budget=1, chunk_size=4)
    assert (got.pairs.n_le == ref.pairs.n_le).all() and (got.pairs.n_lt == ref.pairs.n_lt).all()
    assert (got.pairs.hist_le == ref.pairs.hist_le).all()


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cosine", "dot"])
def test_every_metric_matches_scipy_distances_and_order(metric):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 6))
    D = dense(X, metric)
    nb = compute_neighbors(X, k=7, metric=metric, chunk_size=9)
    want = order_by_distance_then_index(D, 7)
    assert (nb.indices == want).all()
    np.testing.assert_allclose(nb.distances, np.take_along_axis(D, want, 1), rtol=1e-10,
                               atol=1e-12)


def test_duplicates_are_at_distance_exactly_zero_and_self_is_never_a_neighbour():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 16)) * 1e3 + 1e4  # large norms: the GEMM expansion cancels badly
    X[5] = X[17]
    X[6] = X[17]
    nb = compute_neighbors(X, k=3)
    assert (nb.indices != np.arange(30)[:, None]).all()
    assert nb.distances[17, 0] == 0.0 and nb.distances[17, 1] == 0.0
    assert set(nb.indices[17, :2]) == {5, 6}
    assert nb.distances[5, 0] == 0.0 and nb.indices[5, 0] == 6  # tie at 0 broken by index


def test_float32_results_agree_with_float64():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 8))
    a = compute_neighbors(X, k=5)
    b = compute_neighbors(X.astype(np.float32), k=5)
    assert b.distances.dtype == np.float32
    assert (a.indices == b.indices).all()
    np.testing.assert_allclose(a.distances, b.distances, rtol=1e-5)


def test_uniformity_in_the_sweep_does_not_depend_on_chunk_size():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(37, 5))
    vals = [compute_neighbors(X, k=1, uniformity_t=(2.0,), chunk_size=c).uniformity[(2.0, True)]
            for c in (1, 5, 37)]
    np.testing.assert_allclose(vals, vals[0], rtol=1e-13)


def test_knn_returns_the_input_array_type():
    X = np.random.default_rng(5).normal(size=(12, 3))
    d, i = knn(X, 2)
    assert isinstance(d, np.ndarray) and isinstance(i, np.ndarray)
    dt, it = knn(torch.from_numpy(X), 2)
    assert isinstance(dt, torch.Tensor) and it.dtype == torch.int64
    assert np.array_equal(it.numpy(), i)


def test_knn_against_a_reference_set_keeps_self_matches():
    rng = np.random.default_rng(6)
    Q, R = rng.normal(size=(7, 3)), rng.normal(size=(11, 3))
    d, i = knn(Q, 3, reference=R)
    D = cdist(Q, R)
    assert (i == order_by_distance_then_index(D, 3)).all()
    d2, i2 = knn(Q, 1, reference=Q)
    assert (i2[:, 0] == np.arange(7)).all() and (d2 == 0).all()


@pytest.mark.parametrize("strict", [True, False])
def test_radius_neighbors_equal_bruteforce_and_ordered(strict):
    X = np.random.default_rng(7).integers(-2, 3, size=(20, 2)).astype(float)
    D = dense(X)
    # r = 1 is the distance of many pairs: strict leaves them out, inclusive keeps them
    ptr, ind, dist = radius_neighbors(X, 1.0, chunk_size=3, strict=strict)
    for i in range(20):
        row = np.flatnonzero(D[i] < 1.0 if strict else D[i] <= 1.0)
        row = row[np.lexsort((row, D[i, row]))]
        assert (ind[ptr[i]:ptr[i + 1]] == row).all()
        assert (dist[ptr[i]:ptr[i + 1]] == D[i, row]).all()
    assert (D == 1.0).any()  # the boundary case is present


def test_iter_distance_blocks_tile_the_distance_matrix():
    X = np.random.default_rng(8).normal(size=(13, 4))
    blocks = list(iter_distance_blocks(X, chunk_size=4))
    assert [(a, b) for a, b, _ in blocks] == [(0, 4), (4, 8), (8, 12), (12, 13)]
    full = np.vstack([D.numpy() for _, _, D in blocks])
    np.testing.assert_allclose(full, dense(X), rtol=1e-12)


def test_memory_budget_sets_the_chunk_size():
    assert chunk_size_for(1000, itemsize=8, memory_budget=48_000) == 1
    assert chunk_size_for(1000, itemsize=8, memory_budget="480KB") == 15
    from sip_theory.geometry._engine import cpu_workers

    workers = cpu_workers()  # each block worker gets its share of the budget
    nb = compute_neighbors(np.zeros((50, 2)) + np.arange(50)[:, None], k=1,
                           memory_budget=50 * 8 * 4 * 7 * workers)
    assert nb.chunk_size == 7 and nb.n_blocks == 8


def test_nan_rows_are_named():
    X = np.ones((6, 2))
    X[[1, 4], 0] = np.nan
    with pytest.raises(ValueError, match=r"embeddings has 2 row\(s\) with NaN.*rows 1, 4"):
        compute_neighbors(X, k=1)
    with pytest.raises(ValueError, match="rows 1, 4"):
        knn(torch.from_numpy(X), 1)


@pytest.mark.parametrize("kwargs, match", [
    ({"k": 6}, "k must be <= n_samples - 1"),
    ({"k": 0}, "k must be >= 1"),
    ({"metric": "manhattan"}, "metric must be one of"),
    ({"graph": [(0, 9)]}, "out of range|nodes"),
    ({"backend": "annoy"}, "backend must be one of"),
    ({"uniformity_t": (-1.0,)}, "uniformity_t"),
])
def test_bad_arguments_raise_naming_them(kwargs, match):
    X = np.random.default_rng(0).normal(size=(6, 2))
    with pytest.raises((ValueError, TypeError), match=match):
        compute_neighbors(X, **{"k": 1, **kwargs})


def test_graph_with_another_node_count_raises():
    g = SampleGraph.from_edges([(0, 1)], n_nodes=3)
    with pytest.raises(ValueError, match="graph has 3 nodes but 5 were expected"):
        compute_neighbors(np.eye(5), k=1, graph=g)


def test_zero_vectors_have_no_cosine_distance():
    X = np.eye(4)
    X[2] = 0
    with pytest.raises(ValueError, match=r"zero norm, rows 2\)"):
        compute_neighbors(X, k=1, metric="cosine")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_cuda_raises():
    with pytest.raises(ValueError, match="CUDA is not available"):
        compute_neighbors(np.eye(3), k=1, device="cuda")


def test_faiss_backend_without_faiss_raises_importerror(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(ImportError, match="faiss"):
        knn(np.eye(4), 1, backend="faiss")


def _fake_faiss():
    """A numpy stand-in with faiss's flat-index interface, to test our glue code."""
    mod = types.ModuleType("faiss")

    class _Flat:
        def __init__(self, d, ip):
            self.ip, self.data = ip, np.zeros((0, d), np.float32)

        def add(self, x):
            self.data = np.vstack([self.data, x])

        def search(self, q, k):
            s = q @ self.data.T if self.ip else cdist(q, self.data, "sqeuclidean")
            order = np.argsort(-s if self.ip else s, axis=1, kind="stable")[:, :k]
            return np.take_along_axis(s, order, 1).astype(np.float32), order

    mod.IndexFlatL2 = lambda d: _Flat(d, False)
    mod.IndexFlatIP = lambda d: _Flat(d, True)
    return mod


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "dot"])
def test_faiss_backend_glue_matches_the_torch_engine(monkeypatch, metric):
    monkeypatch.setitem(sys.modules, "faiss", _fake_faiss())
    X = np.random.default_rng(9).normal(size=(25, 4)).astype(np.float32)
    d_t, i_t = knn(X, 4, metric=metric)
    d_f, i_f = knn(X, 4, metric=metric, backend="faiss")
    assert (i_t == i_f).all()
    np.testing.assert_allclose(d_t, d_f, rtol=1e-4, atol=1e-5)
    nb = compute_neighbors(X, k=4, metric=metric, backend="faiss")
    assert (nb.indices == i_t).all()


def test_faiss_backend_refuses_graph_statistics(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", _fake_faiss())
    with pytest.raises(ValueError, match="kNN lists only"):
        compute_neighbors(np.eye(4), k=1, graph=[(0, 1)], backend="faiss")


def test_neighbors_refuse_other_embeddings_and_graphs():
    from sip_theory.geometry import link_retrieval

    X = np.random.default_rng(10).normal(size=(10, 3))
    nb = compute_neighbors(X, k=2, graph=[(0, 1), (2, 3)])
    with pytest.raises(ValueError, match="different embeddings"):
        link_retrieval(X + 1, [(0, 1), (2, 3)], ks=(1,), neighbors=nb)
    with pytest.raises(ValueError, match="different graph"):
        link_retrieval(X, [(0, 1)], ks=(1,), neighbors=nb)
    with pytest.raises(ValueError, match="k=2 neighbours but 5"):
        link_retrieval(X, [(0, 1), (2, 3)], ks=(5,), neighbors=nb)
    with pytest.raises(ValueError, match="metric='cosine'"):
        link_retrieval(X, [(0, 1), (2, 3)], ks=(1,), neighbors=nb, metric="cosine")


# ----------------------------------------------------------------------------- engine options
def test_one_validator_names_unknown_and_bad_options():
    from sip_theory.geometry import geometry_report, graph_recovery, knn_probe, link_retrieval

    X = np.arange(8, dtype=np.float64)[:, None]
    g = [(0, 1), (2, 3)]
    for call in (lambda **o: link_retrieval(X, g, ks=(1,), **o),
                 lambda **o: knn_probe(X, [0, 1] * 4, k=1, **o),
                 lambda **o: graph_recovery(X, g, **o),
                 lambda **o: geometry_report(X, g, [0, 1] * 4, linear=False, **o)):
        with pytest.raises(TypeError, match="unexpected keyword argument\\(s\\): chunksize"):
            call(chunksize=2)
        with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
            call(chunk_size=0)
        with pytest.raises(ValueError, match="memory_budget must look like"):
            call(memory_budget="lots")


def test_config_context_sets_defaults_that_calls_override_and_restores_them():
    from sip_theory.geometry import config_context, get_config, link_retrieval

    X = np.random.default_rng(0).normal(size=(30, 3))
    g = [(i, i + 1) for i in range(29)]
    base = link_retrieval(X, g, ks=(1,))
    seen = []
    import sip_theory.geometry._neighbors as nbmod

    real = nbmod._sweep_neighbors

    def spy(*a, **kw):
        seen.append(kw["chunk_size"])
        return real(*a, **kw)

    nbmod._sweep_neighbors = spy
    try:
        with config_context(chunk_size=7):
            inside = link_retrieval(X, g, ks=(1,))
            link_retrieval(X, g, ks=(1,), chunk_size=3)  # the call wins
            with config_context(chunk_size=5):
                link_retrieval(X, g, ks=(1,))
            link_retrieval(X, g, ks=(1,))
        with pytest.raises(RuntimeError), config_context(chunk_size=9):
            raise RuntimeError
        link_retrieval(X, g, ks=(1,))
    finally:
        nbmod._sweep_neighbors = real
    assert seen == [7, 3, 5, 7, None]
    assert get_config()["chunk_size"] is None
    assert inside.to_dict() == base.to_dict()  # results do not depend on the blocking
    with pytest.raises(TypeError, match="chunksize"), config_context(chunksize=2):
        pass
