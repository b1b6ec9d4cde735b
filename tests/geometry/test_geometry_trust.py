"""Trustworthiness and continuity: scikit-learn parity, exact ties, chunking, invariances."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist
from sklearn.manifold import trustworthiness as sk_trustworthiness

from sip_theory.geometry import continuity, neighborhood_preservation, trustworthiness


def reference_trust(X, E, k):
    """Venna & Kaski with neighbours and ranks ordered by (distance, index)."""
    n = X.shape[0]

    def order(Z):
        D = cdist(Z, Z)
        np.fill_diagonal(D, np.inf)
        return np.lexsort((np.tile(np.arange(n), (n, 1)), D), axis=1)

    ox, oe = order(X), order(E)
    rank_x = np.empty_like(ox)
    rank_x[np.arange(n)[:, None], ox] = np.arange(1, n + 1)
    r = rank_x[np.arange(n)[:, None], oe[:, :k]] - k
    return 1 - 2.0 / (n * k * (2 * n - 3 * k - 1)) * r[r > 0].sum()


def test_trustworthiness_and_continuity_equal_sklearn_to_1e10():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 10))
    E = X[:, :2] + 0.3 * rng.normal(size=(60, 2))
    r = neighborhood_preservation(X, E, k=5, chunk_size=7)
    assert abs(r.trustworthiness - sk_trustworthiness(X, E, n_neighbors=5)) < 1e-10
    assert abs(r.continuity - sk_trustworthiness(E, X, n_neighbors=5)) < 1e-10


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 20), st.integers(1, 4))
def test_ties_broken_by_index_and_chunked_equals_dense(seed, chunk, k):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(14, 2)).astype(float)
    E = rng.integers(0, 3, size=(14, 2)).astype(float)
    got = neighborhood_preservation(X, E, k=k, chunk_size=chunk)
    assert abs(got.trustworthiness - reference_trust(X, E, k)) < 1e-12
    assert abs(got.continuity - reference_trust(E, X, k)) < 1e-12


def test_invariant_under_similarity_transforms_and_monotone_distance_maps():
    rng = np.random.default_rng(1)
    X, E = rng.normal(size=(30, 5)), rng.normal(size=(30, 2))
    base = neighborhood_preservation(X, E, k=4)
    Q, _ = np.linalg.qr(rng.normal(size=(2, 2)))
    moved = neighborhood_preservation(X, 3.0 * E @ Q + 1.0, k=4)
    squared = neighborhood_preservation(X, E, k=4, metric="sqeuclidean")
    for r in (moved, squared):
        assert abs(r.trustworthiness - base.trustworthiness) < 1e-12
        assert abs(r.continuity - base.continuity) < 1e-12
    stretched = neighborhood_preservation(X, E * np.array([20.0, 1.0]), k=4)
    assert abs(stretched.trustworthiness - base.trustworthiness) > 1e-3


def test_scalar_wrappers_and_errors():
    X = np.random.default_rng(2).normal(size=(12, 3))
    assert float(trustworthiness(X, X, k=2)) == 1.0 == float(continuity(X, X, k=2))
    with pytest.raises(ValueError, match="k must be < n_samples / 2"):
        trustworthiness(X, X, k=6)
    with pytest.raises(ValueError, match="inputs has 11 rows"):
        trustworthiness(X[:11], X, k=2)
