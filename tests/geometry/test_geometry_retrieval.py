"""Link retrieval: parity with scikit-learn, brute-force references, invariances, policies."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist
from sklearn.metrics import (
    average_precision_score,
    label_ranking_average_precision_score,
    ndcg_score,
)

from sip_theory.geometry import (
    compute_neighbors,
    link_average_precision,
    link_lrap,
    link_mrr,
    link_ndcg,
    link_precision_at_k,
    link_recall_at_k,
    link_retrieval,
)
from sip_theory.graphs import SampleGraph


def random_case(seed, n=40, d=5, p=0.1, integer=False):
    rng = np.random.default_rng(seed)
    if integer:
        X = rng.integers(-2, 3, size=(n, d)).astype(np.float64)
    else:
        X = rng.normal(size=(n, d))
    A = np.triu(rng.random((n, n)) < p, 1)
    A = A | A.T
    A[0, :] = A[:, 0] = False  # node 0 isolated
    return X, SampleGraph.from_dense(A.astype(float)), A


def off_diagonal(M):
    n = M.shape[0]
    return M[~np.eye(n, dtype=bool)].reshape(n, n - 1)


@pytest.mark.parametrize("integer", [False, True], ids=["continuous", "ties"])
def test_lrap_ndcg_ap_equal_sklearn_to_1e10(integer):
    X, g, A = random_case(0, integer=integer)
    D = cdist(X, X)
    y_true, y_score = off_diagonal(A).astype(int), -off_diagonal(D)
    nb = compute_neighbors(X, k=5, graph=g, chunk_size=7)
    lrap = link_lrap(X, g, isolated="one", neighbors=nb)
    assert abs(lrap - label_ranking_average_precision_score(y_true, y_score)) < 1e-10
    nd = link_ndcg(X, g, isolated="zero", neighbors=nb)
    assert abs(nd - ndcg_score(y_true, y_score)) < 1e-10
    ap = link_average_precision(X, g, neighbors=nb)
    assert abs(ap - average_precision_score(y_true.ravel(), y_score.ravel())) < 1e-10


def reference_rows(D, A):
    """Per-node RR, P@k rows and R@k rows by brute force (ties by index for P/R)."""
    n = D.shape[0]
    D = D.copy()
    np.fill_diagonal(D, np.inf)
    rr, order = np.full(n, np.nan), np.lexsort((np.tile(np.arange(n), (n, 1)), D), axis=1)
    for i in range(n):
        pos = np.flatnonzero(A[i])
        if pos.size:
            dmin = D[i, pos].min()
            tied_pos = (D[i, pos] == dmin).sum()
            rr[i] = 1.0 / ((D[i] <= dmin).sum() - tied_pos + 1)
    hits = np.take_along_axis(A, order[:, : n - 1], 1)
    return rr, hits


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([False, True]), st.integers(1, 9))
def test_mrr_precision_recall_equal_bruteforce(seed, integer, k):
    X, g, A = random_case(seed, n=18, d=3, p=0.25, integer=integer)
    D = cdist(X, X)
    rr, hits = reference_rows(D, A)
    has = A.any(1)
    r = link_retrieval(X, g, ks=(k,))
    assert abs(r.mrr - np.nanmean(rr)) < 1e-12
    cum = hits[:, :k].sum(1)
    assert abs(r.precision_at[k] - np.mean(cum[has] / k)) < 1e-12
    assert abs(r.recall_at[k] - np.mean(cum[has] / A.sum(1)[has])) < 1e-12


def test_isolated_policies_differ_only_by_the_isolated_nodes():
    X, g, A = random_case(1)
    ex = link_retrieval(X, g, ks=(3,), isolated="exclude")
    zero = link_retrieval(X, g, ks=(3,), isolated="zero")
    one = link_retrieval(X, g, ks=(3,), isolated="one")
    n, n_iso = X.shape[0], ex.n_isolated
    assert n_iso >= 1 and ex.n_queries == n - n_iso and zero.n_queries == n
    for key in ("lrap", "ndcg", "mrr"):
        e, z, o = getattr(ex, key), getattr(zero, key), getattr(one, key)
        assert abs(z - e * (n - n_iso) / n) < 1e-12
        assert abs(o - (e * (n - n_iso) + n_iso) / n) < 1e-12
    assert ex.ap_micro == zero.ap_micro == one.ap_micro


def test_perfect_embedding_scores_one():
    X = np.repeat(np.arange(5.0), 3)[:, None] * 10 + np.tile([0.0, 0.1, 0.2], 5)[:, None]
    g = SampleGraph.from_edges([(3 * c + a, 3 * c + b) for c in range(5)
                                for a, b in ((0, 1), (0, 2), (1, 2))])
    r = link_retrieval(X, g, ks=(2,))
    assert (r.lrap, r.ndcg, r.ap_micro, r.mrr, r.precision_at[2], r.recall_at[2]) == (
        1.0, 1.0, 1.0, 1.0, 1.0, 1.0)


def test_scalar_functions_follow_the_input_array_type():
    X, g, _ = random_case(2, n=15)
    for fn in (link_lrap, link_ndcg, link_mrr, link_average_precision):
        v_np, v_t = fn(X, g), fn(torch.from_numpy(X), g)
        assert isinstance(v_np, np.float64) and isinstance(v_t, torch.Tensor)
        assert abs(float(v_np) - float(v_t)) < 1e-15
    assert isinstance(link_precision_at_k(X, g, 2), np.float64)
    assert isinstance(link_recall_at_k(torch.from_numpy(X), g, 2), torch.Tensor)


def _scores(X, g):
    r = link_retrieval(X, g, ks=(1, 3))
    return np.array([r.lrap, r.ndcg, r.ap_micro, r.mrr, r.precision_at[3], r.recall_at[3]])


def test_invariant_under_permutation_rotation_translation_and_isotropic_scale():
    X, g, A = random_case(3, n=30, d=4, p=0.15)
    base = _scores(X, g)
    rng = np.random.default_rng(0)
    perm = rng.permutation(30)
    inv = np.argsort(perm)
    g_perm = SampleGraph.from_edges(inv[g.edges()], n_nodes=30)
    np.testing.assert_allclose(_scores(X[perm], g_perm), base, rtol=1e-12)
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    np.testing.assert_allclose(_scores(X @ Q, g), base, rtol=1e-12)
    np.testing.assert_allclose(_scores(X + 5.0, g), base, rtol=1e-12)
    np.testing.assert_allclose(_scores(3.0 * X, g), base, rtol=1e-12)


def test_not_invariant_under_anisotropic_scaling():
    X, g, _ = random_case(3, n=30, d=4, p=0.15)
    stretched = X * np.array([10.0, 1.0, 1.0, 0.1])
    assert np.abs(_scores(stretched, g) - _scores(X, g)).max() > 1e-3


def test_ks_out_of_range_raise():
    X, g, _ = random_case(4, n=10)
    with pytest.raises(ValueError, match="ks must be integers in"):
        link_retrieval(X, g, ks=(10,))
    with pytest.raises(ValueError, match="isolated must be one of"):
        link_retrieval(X, g, isolated="skip")
    with pytest.raises(TypeError, match="unexpected keyword"):
        link_retrieval(X, g, chunksize=3)
