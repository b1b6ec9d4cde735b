"""tf-idf + truncated SVD (latent semantic analysis) of a count matrix."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import as_generator, check_positive_int

__all__ = ["tfidf_svd_embedding"]

_DENSE_SVD_MAX = 200  # below this min(n, d) the exact dense SVD is cheap


def _tfidf(features) -> sp.csr_matrix:
    """Smoothed tf-idf with unit-L2 rows (zero rows stay zero), as a CSR float64 matrix."""
    x = sp.csr_matrix(features, dtype=np.float64) if not sp.issparse(features) \
        else features.tocsr().astype(np.float64)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"features must be a non-empty 2-D matrix, got shape {x.shape}")
    if x.nnz and (not np.isfinite(x.data).all() or (x.data < 0).any()):
        raise ValueError("features must hold finite non-negative counts")
    x.eliminate_zeros()
    n = x.shape[0]
    df = np.bincount(x.indices, minlength=x.shape[1])
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0  # a word in no document still gets a finite idf
    x = x @ sp.diags(idf)
    norm = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    inv = np.zeros_like(norm)
    inv[norm > 0] = 1.0 / norm[norm > 0]
    return sp.csr_matrix(sp.diags(inv) @ x)


def tfidf_svd_embedding(features, dim: int, seed=0) -> np.ndarray:
    """tf-idf weighting followed by a rank-``dim`` truncated SVD: one row per sample.

    Parameters
    ----------
    features : array-like or scipy sparse matrix of shape (n_samples, n_features)
        Non-negative counts (a binary bag of words is a count matrix).
    dim : int
        Embedding dimension, at most ``min(n_samples, n_features)``.
    seed : int or numpy Generator, default 0
        Start vector of the sparse (ARPACK) solver; the dense solver, used when
        ``min(n_samples, n_features) <= 200`` or ``dim >= min(...) - 1``, draws nothing.

    Returns
    -------
    ndarray of shape (n_samples, dim)
        ``U_dim diag(s_dim) = T V_dim`` of the tf-idf matrix ``T``, singular
        values in decreasing order (computed as ``T V_dim``, so that an
        all-zero row is exactly 0); each column's sign is fixed so that its entry of
        largest magnitude (first on ties) is positive.

    Raises
    ------
    ValueError
        Empty, negative or non-finite features; ``dim`` not a positive int or
        larger than ``min(n_samples, n_features)``.

    Notes
    -----
    tf-idf: ``t_ij = x_ij * (ln((1 + n) / (1 + df_j)) + 1)`` with ``df_j`` the
    number of samples in which feature j is non-zero, then each row scaled to
    unit Euclidean norm; an all-zero row stays zero (and embeds at the
    origin). This is scikit-learn's ``TfidfTransformer()`` default
    (``smooth_idf=True``, raw term frequency), and the embedding equals
    ``TruncatedSVD(dim).fit_transform`` on it up to the signs of columns and to
    rotations inside repeated singular values (no centring: the SVD of a
    sparse matrix, not PCA).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 0, 0]])
    >>> emb = tfidf_svd_embedding(x, 2)
    >>> emb.shape, bool(np.allclose(emb[0], emb[1])), bool(np.allclose(emb[3], 0))
    ((4, 2), True, True)
    >>> np.round(np.linalg.norm(emb[:3], axis=1), 6).tolist()  # unit rows, rank 2
    [1.0, 1.0, 1.0]
    """
    t = _tfidf(features)
    dim = check_positive_int(dim, name="dim")
    m = min(t.shape)
    if dim > m:
        raise ValueError(f"dim must be <= min(n_samples, n_features) = {m}, got {dim}")
    rng = as_generator(seed, name="seed")
    if m <= _DENSE_SVD_MAX or dim >= m - 1:
        _, _, vt = np.linalg.svd(t.toarray(), full_matrices=False)
        vt = vt[:dim]
    else:
        from scipy.sparse.linalg import svds

        v0 = rng.uniform(-1.0, 1.0, size=m)
        _, s, vt = svds(t, k=dim, v0=v0, solver="arpack")
        vt = vt[np.argsort(-s, kind="stable")]
    # T V = U S, computed as the product so that an empty row is exactly 0
    emb = np.asarray(t @ vt.T)
    pivot = np.abs(emb).argmax(axis=0)
    signs = np.sign(emb[pivot, np.arange(dim)])
    signs[signs == 0] = 1.0
    return emb * signs[None, :]
