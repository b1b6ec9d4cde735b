"""Spread and collapse: alignment, uniformity, RankMe and variants, neural collapse (NC1, CDNV)."""

from __future__ import annotations

import math

import numpy as np
import torch

from .._kernel import PairSpace, inverse_norms
from .._validation import check_one_of
from ._arrays import like_input, parse_memory
from ._common import engine_options, get_neighbors, label_codes, prepare
from ._distributed import resolve_comm
from ._engine import _chunk, _sweep, cpu_workers

__all__ = ["RANKME_VARIANTS", "alignment", "cdnv", "nc1", "rankme", "rankme_all",
           "singular_values", "uniformity"]

RANKME_VARIANTS = ("garrido2023", "roy_vetterli2007", "centered", "squared")

# above this n * d * min(n, d), singular values come from the Gram matrix (tests lower it)
_SVD_LIMIT = 2e9


def alignment(embeddings, graph, *, alpha: float = 2.0, normalize: bool = True,
              device=None, dtype=None):
    """Mean distance^alpha between the embeddings of linked samples (Wang & Isola 2020).

    Parameters
    ----------
    embeddings : array-like or torch.Tensor of shape (n, d)
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array
        Positive pairs = the graph's edges, each counted once (weights ignored).
    alpha : float, default 2
    normalize : bool, default True
        Project each embedding onto the unit sphere first (Wang & Isola's
        definition assumes normalised features; ``False`` measures the raw ones).

    Returns
    -------
    float-like
        numpy in -> numpy.float64, torch in -> 0-d tensor; NaN for a graph without edges.

    Notes
    -----
    L_align = E_{(i,j) in E} ||f_i - f_j||_2^alpha. Invariant under sample
    permutation and rotation; with ``normalize=True`` also under scaling (not
    translation); with ``normalize=False`` under translation (not scaling).
    Reference: Wang & Isola, "Understanding contrastive representation
    learning through alignment and uniformity on the hypersphere", ICML 2020.

    Examples
    --------
    >>> import numpy as np
    >>> float(alignment(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]), [(0, 1), (0, 2)]))
    3.0
    """
    from ..graphs import as_sample_graph

    X = prepare(embeddings, device=device, dtype=dtype)
    g = as_sample_graph(graph, n_nodes=int(X.shape[0]), name="graph")
    if not (isinstance(alpha, (int, float)) and alpha > 0):
        raise ValueError(f"alpha must be a positive number, got {alpha!r}")
    e = torch.as_tensor(g.edges(), device=X.device)
    if e.shape[0] == 0:
        return like_input(float("nan"), embeddings)
    if normalize:
        X = X * inverse_norms(X, "embeddings")[:, None]
    d = torch.linalg.vector_norm(X[e[:, 0]] - X[e[:, 1]], dim=1).double()
    return like_input(float((d ** float(alpha)).mean()), embeddings)


def uniformity(embeddings, *, t: float = 2.0, normalize: bool = True, neighbors=None, **engine):
    """log of the mean Gaussian potential over all pairs of samples (Wang & Isola 2020).

    Parameters
    ----------
    embeddings : array-like or torch.Tensor of shape (n, d)
    t : float, default 2
    normalize : bool, default True
        Project onto the unit sphere first (the definition); ``False`` uses raw vectors.
    neighbors : Neighbors, optional
        Reuse a value computed in the same sweep (``compute_neighbors(...,
        uniformity_t=(t,), uniformity_normalize=normalize)``).
    **engine
        ``device``, ``dtype``, ``chunk_size``, ``memory_budget``, ``progress``, ``distributed``.

    Returns
    -------
    float-like

    Notes
    -----
    L_unif = log( 2 / (n(n-1)) sum_{i<j} exp(-t ||f_i - f_j||^2) ), accumulated as
    a log-sum-exp over blocks of pairs, so it is finite even when every term
    underflows. For f uniform on S^{d-1} it tends to
    -2t + log 0F1(; d/2; t^2) (``scipy.special.hyp0f1``): at t = 2, -1.5750
    (d = 2), -3.5130 (d = 16), -3.9375 (d = 128). Invariances as for
    :func:`alignment`.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(uniformity(np.array([[1.0, 0.0], [-1.0, 0.0]]))), 6)  # -t * 2^2
    -8.0
    """
    engine = engine_options(engine)
    X = prepare(embeddings, device=engine["device"], dtype=engine["dtype"])
    n = int(X.shape[0])
    if n < 2:
        raise ValueError("uniformity needs at least 2 samples")
    t = float(t)
    if not (math.isfinite(t) and t > 0):
        raise ValueError(f"t must be a positive number, got {t}")
    key = (t, bool(normalize))
    if neighbors is not None:
        get_neighbors(X, neighbors=neighbors, metric=None, k=1, engine=engine)
        if key not in neighbors.uniformity:
            raise ValueError(
                f"neighbors hold no uniformity value for t={t}, normalize={normalize}; "
                f"available: {sorted(neighbors.uniformity)}"
            )
        return like_input(neighbors.uniformity[key], embeddings)
    from ._engine import _Uniformity

    space = PairSpace(X, None, "dot")
    workers = cpu_workers() if X.device.type == "cpu" else 1
    chunk = _chunk(engine["chunk_size"], parse_memory(engine["memory_budget"]) // workers, n,
                   X.element_size(), n_rows=n, workers=workers)
    n_blocks = math.ceil(n / chunk)
    c = _Uniformity(space, (t,), bool(normalize), n_blocks)
    _sweep(space, [c], chunk_size=chunk, comm=resolve_comm(engine["distributed"]),
           progress=engine["progress"], desc="uniformity", workers=workers)
    return like_input(c.values(n)[t], embeddings)


def _entropy_rank(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(np.exp(-np.sum(p * np.log(p))))


def singular_values(X: torch.Tensor) -> np.ndarray:
    """Singular values of a float64 matrix, from ``svdvals`` or, for large matrices, from
    the eigenvalues of the smaller Gram matrix (O(n d min(n, d))). On that route a
    singular value below sqrt(max(n, d) * eps) ~ 1e-7 of the largest is rounded to
    zero, which moves RankMe by about 1e-6 at most."""
    n, d = X.shape
    if float(n) * d * min(n, d) <= _SVD_LIMIT:
        return torch.linalg.svdvals(X).cpu().numpy()
    return _spectrum_from_gram(X.T @ X if d <= n else X @ X.T, max(n, d))


def _spectrum_from_gram(G: torch.Tensor, size: int) -> np.ndarray:
    lam = torch.linalg.eigvalsh(G)
    # eigenvalues within rounding of zero are zero (as an SVD would find them)
    tiny = size * torch.finfo(lam.dtype).eps * lam.max().clamp(min=0.0)
    lam = torch.where(lam > tiny, lam, torch.zeros_like(lam))
    return torch.flip(lam.sqrt(), dims=(0,)).cpu().numpy()


def _rank_from_spectrum(s: np.ndarray, variant: str, eps: float) -> float:
    if variant == "squared":
        s = s * s
    total = s.sum()
    if total == 0:
        return float("nan")
    p = s / total
    if variant != "roy_vetterli2007":
        p = p + float(eps)
    return _entropy_rank(p)


def rankme_all(embeddings, *, eps: float = 1e-7, device=None) -> dict:
    """Every RankMe variant of :func:`rankme` from two spectra (uncentred and centred).

    Examples
    --------
    >>> import numpy as np
    >>> sorted(rankme_all(np.eye(3)))
    ['centered', 'garrido2023', 'roy_vetterli2007', 'squared']
    """
    X = prepare(embeddings, device=device, dtype="float64")
    n, d = X.shape
    if float(n) * d * min(n, d) <= _SVD_LIMIT:
        s = singular_values(X)
        sc = singular_values(X - X.mean(0, keepdim=True))
    elif d <= n:  # one Gram product serves both spectra: Xc^T Xc = X^T X - n mu mu^T
        G = X.T @ X
        mu = X.mean(0)
        s = _spectrum_from_gram(G, n)
        sc = _spectrum_from_gram(G - n * torch.outer(mu, mu), n)
    else:  # Xc Xc^T = J X X^T J with J the centring matrix
        G = X @ X.T
        r = G.mean(0)
        s = _spectrum_from_gram(G, d)
        sc = _spectrum_from_gram(G - r[:, None] - r[None, :] + G.mean(), d)
    return {v: _rank_from_spectrum(sc if v == "centered" else s, v, eps)
            for v in RANKME_VARIANTS}


def rankme(embeddings, *, variant: str = "garrido2023", eps: float = 1e-7, device=None):
    """Effective rank of an embedding matrix: exp of the entropy of its normalised spectrum.

    Parameters
    ----------
    embeddings : array-like or torch.Tensor of shape (n, d)
    variant : str, default "garrido2023"
        Which of the definitions in circulation:

        * ``"garrido2023"`` (RankMe, the paper's): p_k = sigma_k / ||sigma||_1 + eps on
          the singular values of the *uncentred* matrix;
        * ``"roy_vetterli2007"`` (effective rank): the same without eps (0 log 0 = 0);
        * ``"centered"``: RankMe of the column-centred matrix (a covariance spectrum);
        * ``"squared"``: p_k from sigma_k^2 (the eigenvalues of X^T X) + eps.
    eps : float, default 1e-7
    device : str or torch.device, optional

    Returns
    -------
    float-like
        In [1, min(n, d)] (up to eps).

    Notes
    -----
    RankMe(X) = exp(-sum_k p_k log p_k). Singular values in float64, from
    ``torch.linalg.svdvals`` (from the Gram matrix's eigenvalues when
    n d min(n, d) > 2e9). Invariant under sample permutation, rotation
    (orthogonal maps of the features) and scaling; not under translation,
    except the ``"centered"`` variant. Reference: Garrido, Balestriero, Najman,
    LeCun, "RankMe: assessing the downstream performance of pretrained
    self-supervised representations by their rank", ICML 2023; Roy & Vetterli,
    "The effective rank", EUSIPCO 2007.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(rankme(np.eye(4), variant="roy_vetterli2007")), 6)
    4.0
    >>> round(float(rankme(np.eye(4))), 4)
    4.0
    """
    check_one_of(variant, RANKME_VARIANTS, name="variant")
    X = prepare(embeddings, device=device, dtype="float64")
    if variant == "centered":
        X = X - X.mean(0, keepdim=True)
    return like_input(_rank_from_spectrum(singular_values(X), variant, eps), embeddings)


def _class_stats(X: torch.Tensor, codes: np.ndarray, n_classes: int):
    y = torch.as_tensor(codes, device=X.device)
    counts = torch.bincount(y, minlength=n_classes).to(X.dtype)
    sums = torch.zeros(n_classes, X.shape[1], dtype=X.dtype, device=X.device)
    sums.index_add_(0, y, X)
    means = sums / counts[:, None]
    centred = X - means[y]
    var = torch.zeros(n_classes, dtype=X.dtype, device=X.device)
    var.index_add_(0, y, (centred * centred).sum(1))
    return means, var / counts, centred, counts


def nc1(embeddings, labels, *, device=None, missing_label=None):
    """Within-class variability collapse NC1 = tr(Sigma_W Sigma_B^+) / C (Papyan et al. 2020).

    Parameters
    ----------
    embeddings : array-like or torch.Tensor of shape (n, d)
    labels : array-like of shape (n,), at least two classes
    missing_label : int, float or str, optional
        A value that marks a missing label (masked entries, NaN and None always do);
        NC1 is then that of the labelled rows.

    Returns
    -------
    float-like
        0 when every class has collapsed to its mean.

    Notes
    -----
    Sigma_W = (1/n) sum_i (f_i - mu_{y_i})(f_i - mu_{y_i})^T,
    Sigma_B = (1/C) sum_c (mu_c - mu_G)(mu_c - mu_G)^T with mu_G the mean of
    all samples, ^+ the Moore-Penrose pseudo-inverse (Sigma_B has rank <= C-1).
    Computed in float64. Invariant under sample permutation, rotation,
    translation and isotropic scaling. Reference: Papyan, Han, Donoho,
    "Prevalence of neural collapse during the terminal phase of deep learning
    training", PNAS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> float(nc1(np.array([[0.0], [0.0], [1.0], [1.0]]), [0, 0, 1, 1]))
    0.0
    """
    X = prepare(embeddings, device=device, dtype="float64")
    n = int(X.shape[0])
    classes, codes = label_codes(labels, n, missing_label=missing_label)
    if (codes < 0).any():  # statistics of the labelled rows
        X, codes = X[torch.as_tensor(codes >= 0, device=X.device)], codes[codes >= 0]
        n = int(X.shape[0])
    C = classes.shape[0]
    if C < 2:
        raise ValueError("labels must contain at least two classes for NC1")
    means, _, centred, _ = _class_stats(X, codes, C)
    M = means - X.mean(0, keepdim=True)  # (C, d): Sigma_B = M^T M / C
    # Sigma_B^+ = C M^T (M M^T)^{+2} M, so tr(Sigma_W Sigma_B^+) / C
    # = tr((M Sigma_W M^T) (M M^T)^{+2}) with M Sigma_W M^T = Z^T Z / n, Z = centred M^T:
    # O(n d C) instead of O(n d^2 + d^3)
    Z = centred @ M.T
    K = torch.linalg.pinv(M @ M.T, hermitian=True)
    value = torch.trace((Z.T @ Z / n) @ (K @ K))
    return like_input(float(value), embeddings)


def cdnv(embeddings, labels, *, return_matrix: bool = False, device=None,
         missing_label=None):
    """Class-distance normalised variance (Galanti et al. 2022), averaged over class pairs.

    Parameters
    ----------
    embeddings : array-like or torch.Tensor of shape (n, d)
    labels : array-like of shape (n,), at least two classes
    return_matrix : bool, default False
        Return the (C, C) matrix of pairwise values (diagonal 0) instead of its mean.
    missing_label : int, float or str, optional
        As in :func:`nc1`: CDNV of the labelled rows.

    Returns
    -------
    float-like or array-like

    Notes
    -----
    V(c, c') = (Var_c + Var_c') / (2 ||mu_c - mu_c'||^2) with
    Var_c = E_{i in c} ||f_i - mu_c||^2; the mean is over the C(C-1)/2 pairs.
    Invariant under sample permutation, rotation, translation, isotropic
    scaling. Reference: Galanti, Gyorgy, Hutter, "On the role of neural
    collapse in transfer learning", ICLR 2022.

    Examples
    --------
    >>> import numpy as np
    >>> float(cdnv(np.array([[0.0], [2.0], [10.0], [12.0]]), [0, 0, 1, 1]))
    0.01
    """
    X = prepare(embeddings, device=device, dtype="float64")
    n = int(X.shape[0])
    classes, codes = label_codes(labels, n, missing_label=missing_label)
    if (codes < 0).any():  # statistics of the labelled rows
        X, codes = X[torch.as_tensor(codes >= 0, device=X.device)], codes[codes >= 0]
        n = int(X.shape[0])
    C = classes.shape[0]
    if C < 2:
        raise ValueError("labels must contain at least two classes for CDNV")
    means, var, _, _ = _class_stats(X, codes, C)
    dist2 = torch.cdist(means, means).pow(2)
    with np.errstate(divide="ignore", invalid="ignore"):
        mat = ((var[:, None] + var[None, :]) / (2.0 * dist2)).cpu().numpy()
    np.fill_diagonal(mat, 0.0)
    if return_matrix:
        return like_input(mat, embeddings)
    iu = np.triu_indices(C, 1)
    return like_input(float(mat[iu].mean()), embeddings)
