"""tf-idf + truncated SVD: scikit-learn as the oracle, the exact SVD, empty rows and bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.baselines import tfidf_svd_embedding
from sip_theory.baselines._tfidf import _tfidf


def _counts(n, d, density, seed):
    rng = np.random.default_rng(seed)
    x = rng.poisson(1.5, size=(n, d)) * (rng.random((n, d)) < density)
    return x


def _match_signs(a, b):
    """b with each column's sign flipped to agree with a's."""
    s = np.sign(np.sum(a * b, axis=0))
    s[s == 0] = 1.0
    return b * s


def test_tfidf_equals_sklearn_default_transformer():
    text = pytest.importorskip("sklearn.feature_extraction.text")
    x = _counts(40, 25, 0.2, 0)
    x[3] = 0  # an empty document
    x[:, 7] = 0  # a word in no document
    ref = text.TfidfTransformer().fit_transform(x).toarray()
    np.testing.assert_allclose(_tfidf(x).toarray(), ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_tfidf(sp.csr_matrix(x)).toarray(), ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("n", "d", "dim"), [(60, 40, 5), (320, 260, 12)])  # dense, ARPACK
def test_embedding_equals_sklearn_truncated_svd(n, d, dim):
    text = pytest.importorskip("sklearn.feature_extraction.text")
    decomposition = pytest.importorskip("sklearn.decomposition")
    x = _counts(n, d, 0.1, 1)
    t = text.TfidfTransformer().fit_transform(x)
    ref = decomposition.TruncatedSVD(dim, algorithm="arpack", tol=0).fit_transform(t)
    emb = tfidf_svd_embedding(x, dim, seed=3)
    np.testing.assert_allclose(_match_signs(ref, emb), ref, rtol=0, atol=1e-8)


def test_singular_values_are_the_exact_ones_and_seed_reproduces():
    x = _counts(300, 220, 0.08, 2)  # min(n, d) > 200: the ARPACK path
    s_exact = np.linalg.svd(_tfidf(x).toarray(), compute_uv=False)[:10]
    emb = tfidf_svd_embedding(x, 10, seed=5)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=0), s_exact, rtol=1e-10)
    np.testing.assert_array_equal(emb, tfidf_svd_embedding(x, 10, seed=5))
    # the fixed signs: each column's largest entry is positive
    assert (emb[np.abs(emb).argmax(axis=0), np.arange(10)] > 0).all()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 8), d=st.integers(1, 8), density=st.sampled_from([0.0, 0.3, 1.0]),
       seed=st.integers(0, 2**16), data=st.data())
def test_rows_reconstruct_within_rank_and_empty_rows_stay_at_origin(n, d, density, seed, data):
    x = _counts(n, d, density, seed)
    dim = data.draw(st.integers(1, min(n, d)))
    emb = tfidf_svd_embedding(x, dim, seed=0)
    assert emb.shape == (n, dim) and np.isfinite(emb).all()
    empty = x.sum(axis=1) == 0
    np.testing.assert_array_equal(emb[empty], 0.0)
    # the embedding's Gram matrix is the best rank-dim approximation of the tf-idf Gram matrix
    t = _tfidf(x).toarray()
    u, s, _ = np.linalg.svd(t, full_matrices=False)
    np.testing.assert_allclose((emb ** 2).sum(), (s[:dim] ** 2).sum(), atol=1e-9)
    if dim == s.size or s[dim - 1] - s[dim] > 1e-6:  # unique best rank-dim approximation
        best = (u[:, :dim] * s[:dim] ** 2) @ u[:, :dim].T
        np.testing.assert_allclose(emb @ emb.T, best, atol=1e-9)
    if dim == min(n, d):  # full rank: every non-empty row keeps its unit norm
        np.testing.assert_allclose(np.linalg.norm(emb[~empty], axis=1), 1.0, rtol=1e-9)


def test_duplicate_documents_embed_identically():
    x = _counts(30, 20, 0.3, 4)
    x[5] = x[9]
    x[5, x[5] == 0] = 0
    emb = tfidf_svd_embedding(x, 4)
    np.testing.assert_allclose(emb[5], emb[9], atol=1e-12)


@pytest.mark.parametrize(("features", "dim", "match"), [
    (np.ones((3, 4)), 5, "dim"),
    (np.ones((3, 4)), 0, "dim"),
    (-np.ones((3, 4)), 2, "features"),
    (np.full((3, 4), np.nan), 2, "features"),
    (np.ones((0, 4)), 1, "features"),
])
def test_bad_input_names_the_argument(features, dim, match):
    with pytest.raises(ValueError, match=match):
        tfidf_svd_embedding(features, dim)
