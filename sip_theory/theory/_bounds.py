"""Global separability bounds beyond the paper's local guarantee (theory.md section 6).

Every bound returns a :class:`Bound` (value, which assumptions hold, whether
it is vacuous, its reference, and the numbers behind it); identities return an
:class:`IdentityCheck`. Each comes with the quantity it bounds, computed
exactly, so that the inequality itself can be checked.

Conventions: w_xy = A_xy / vol(G) and w_x = d_x / vol(G) (HaoChen et al. 2021);
the normalized Laplacian is L = I - D^{-1/2} A D^{-1/2} with the row and column of
an isolated node set to 0 (so the multiplicity of eigenvalue 0 is the number of
connected components, isolated nodes included).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .._serialization import ToDictMixin
from .._validation import check_embeddings, check_labels, check_one_of, check_positive_int
from ._common import prepare_labels, readonly, to_graph

__all__ = [
    "Bound",
    "IdentityCheck",
    "Separability",
    "SpectralEmbedding",
    "cheeger_easy_side",
    "haochen_identity",
    "linear_separability",
    "mean_classifier_bound",
    "ncm_cantelli_bound",
    "normalized_laplacian_spectrum",
    "sparsest_k_partition",
    "spectral_contrastive_objective",
    "spectral_embedding",
    "spectral_probe_bound",
    "spectral_probe_error",
]

_HAOCHEN = ("HaoChen, Wei, Gaidon, Ma, 'Provable guarantees for self-supervised deep learning "
            "with spectral contrastive loss', NeurIPS 2021")
_LOT = ("Lee, Oveis Gharan, Trevisan, 'Multiway spectral partitioning and higher-order Cheeger "
        "inequalities', J. ACM 2014")
_ARORA = ("Arora, Khandeparkar, Khodak, Plevrakis, Saunshi, 'A theoretical analysis of "
          "contrastive unsupervised representation learning', ICML 2019")
_CANTELLI = "Cantelli's one-sided Chebyshev inequality, union over classes (this library)"


@dataclass(frozen=True)
class Bound(ToDictMixin):
    """A computed bound.

    Attributes
    ----------
    name : str
    value : float
        The bound's value.
    assumptions : dict of str -> bool
        Each assumption of the statement and whether it holds for this input.
    vacuous : bool
        The bound says nothing here (an error bound >= 1, a zero eigen-gap, ...).
    reference : str
    details : dict
        The quantities the bound is computed from and, where available, the
        quantity it bounds (so the inequality can be checked).
    rounding : float
        An estimate of ``|computed value - exact value|`` (floating point and, where an
        eigensolver is involved, its accuracy); 0 where not estimated. A bound whose
        exact value is 1 can be computed as 1 - 2e-16: compare with :meth:`compare`.
    """

    name: str
    value: float
    assumptions: dict
    vacuous: bool
    reference: str
    details: dict = field(default_factory=dict)
    rounding: float = 0.0

    @property
    def assumptions_hold(self) -> bool:
        """Whether every listed assumption holds."""
        return all(self.assumptions.values())

    def compare(self, measured: float) -> str:
        """Where a measured value of the bounded quantity lies against the bound.

        Returns ``"holds"`` (measured < value - rounding), ``"equal within rounding"``
        or ``"exceeded"`` (measured > value + rounding: the statement's assumptions,
        or the code, fail).

        Examples
        --------
        >>> b = Bound("b", 1.0 - 2.0**-53, {}, False, "", rounding=1e-15)
        >>> b.compare(1.0), b.compare(0.5), b.compare(1.1)
        ('equal within rounding', 'holds', 'exceeded')
        """
        measured = float(measured)
        if measured < self.value - self.rounding:
            return "holds"
        if measured <= self.value + self.rounding:
            return "equal within rounding"
        return "exceeded"


@dataclass(frozen=True)
class IdentityCheck(ToDictMixin):
    """Both sides of an exact identity, evaluated."""

    name: str
    lhs: float
    rhs: float
    holds: bool
    reference: str

    @property
    def residual(self) -> float:
        return abs(self.lhs - self.rhs)

    _to_dict_extra = ("residual",)


# ------------------------------------------------------------------------ spectral
def _norm_adjacency(g):
    """D^{-1/2} A D^{-1/2} (isolated rows zero), degrees, volume."""
    a = g.to_scipy().astype(np.float64)
    d = np.asarray(a.sum(axis=1)).ravel()
    inv = np.zeros_like(d)
    inv[d > 0] = 1.0 / np.sqrt(d[d > 0])
    return sp.diags(inv) @ a @ sp.diags(inv), d, float(d.sum())


def normalized_laplacian_spectrum(graph, k: int | None = None) -> np.ndarray:
    """The k smallest eigenvalues of the normalized Laplacian (all if k is None), ascending.

    Isolated nodes contribute eigenvalue 0 (module convention).

    Examples
    --------
    >>> np.round(normalized_laplacian_spectrum([(0, 1), (1, 2), (2, 0)]), 6).tolist()
    [0.0, 1.5, 1.5]
    """
    g = to_graph(graph)
    vals, _ = _bottom_eigs(g, g.n_nodes if k is None else k)
    return vals


def _component_eigs(sub, k):
    """Bottom-k eigenpairs of one connected component's normalized Laplacian."""
    n = sub.n_nodes
    k = min(k, n)
    if n == 1:
        return np.zeros(1), np.ones((1, 1))
    nadj, _, _ = _norm_adjacency(sub)
    # Lanczos can skip eigenvalues inside dense clusters when many are requested (seen on
    # Cora's largest component at k = 436: errors up to 7e-3), so the dense solver is used
    # whenever it is affordable or k is a sizeable fraction of n.
    if n <= 3000 or (k >= n // 10 and n <= 12000) or k >= n - 1:
        vals, vecs = np.linalg.eigh(np.eye(n) - nadj.toarray())
        return vals[:k], vecs[:, :k]
    from scipy.sparse.linalg import eigsh

    # few eigenpairs of a large connected component: eigenvalue 1 of the normalized
    # adjacency is simple and the wanted end of the spectrum is well separated
    vals, vecs = eigsh(nadj, k=k, which="LA", tol=1e-10, v0=np.ones(n) / math.sqrt(n))
    order = np.argsort(-vals)
    return 1.0 - vals[order], vecs[:, order]


def _bottom_eigs(g, k):
    """The k smallest eigenpairs, assembled from the connected components' spectra.

    The spectrum of a disconnected graph is the union of its components'
    spectra, so each component is solved on its own (a zero eigenvalue per
    component is then exact even when it has high multiplicity).
    """
    n = g.n_nodes
    k = min(int(k), n)
    n_comp, comp = g.connected_components()
    cands = []  # (value, component position, column)
    blocks = []
    for c in range(n_comp):
        nodes = np.flatnonzero(comp == c)
        vals, vecs = _component_eigs(g.subgraph(nodes), k)
        blocks.append((nodes, vecs))
        cands += [(float(v), c, j) for j, v in enumerate(vals)]
    cands.sort(key=lambda t: (t[0], t[1], t[2]))
    chosen = cands[:k]
    out_vals = np.clip(np.array([t[0] for t in chosen]), 0.0, 2.0)
    out_vecs = np.zeros((n, k))
    for col, (_, c, j) in enumerate(chosen):
        nodes, vecs = blocks[c]
        out_vecs[nodes, col] = vecs[:, j]
    return out_vals, out_vecs


_ONE_TOL = 1e-9  # eigenvalues of L within this of 1 are read as 1 (no weight in the minimizer)


@dataclass(frozen=True, eq=False)
class SpectralEmbedding:
    """The bottom-k spectral embedding, and the spectral contrastive loss's minimizer built from it.

    By HaoChen et al.'s Lemma 3.2, minimizing the spectral contrastive loss over
    f: V -> R^k is the best PSD rank-k approximation of A_bar = I - L, whose
    eigenvalues are 1 - lambda_i. A minimizer is therefore F* = V_k diag(sqrt((1 -
    lambda_i)_+)), f*(x) = F*_x / sqrt(w_x): only eigenvectors with lambda_i < 1
    enter it. So ``embedding`` is the minimizer up to an invertible linear map
    exactly when lambda_k < 1 (``spans_minimizer``); when lambda_k >= 1 every
    minimizer has rank below k and misses the eigenvectors with lambda_i >= 1.
    (When lambda_k = lambda_{k+1} < 1 the minimizer is not unique; this is one.)

    Attributes
    ----------
    eigenvalues : ndarray (k + 1,)
        lambda_1 <= ... <= lambda_{k+1} of the normalized Laplacian.
    basis : ndarray (n, k)
        Orthonormal bottom-k eigenvectors (the u_x rows of HaoChen et al.).
    embedding : ndarray (n, k)
        f(x) = u_x / sqrt(w_x) (0 for isolated nodes).
    weights : ndarray (n,)
        w_x = d_x / vol(G).
    minimizer : ndarray (n, k)
        f*(x) = embedding(x) * sqrt((1 - lambda_i)_+) per column: a minimizer of
        the spectral contrastive loss over R^k.
    """

    eigenvalues: np.ndarray
    basis: np.ndarray = field(repr=False)
    embedding: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    minimizer: np.ndarray = field(default=None, repr=False)

    @property
    def spans_minimizer(self) -> bool:
        """lambda_k < 1: ``embedding`` is an invertible linear image of the minimizer.

        Eigenvalues within 1e-9 of 1 count as 1 (a star's eigenvalue 1 computes as 1 - 1e-16).
        """
        k = self.basis.shape[1]
        return bool(self.eigenvalues[k - 1] < 1.0 - _ONE_TOL)


def spectral_embedding(graph, k: int) -> SpectralEmbedding:
    """Bottom-k eigenvectors of the normalized Laplacian, as HaoChen et al.'s embedding.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
    k : int
        Embedding dimension (1 <= k < n).

    Returns
    -------
    SpectralEmbedding

    Examples
    --------
    >>> emb = spectral_embedding([(0, 1), (2, 3)], 2)
    >>> emb.eigenvalues.round(6).tolist(), emb.spans_minimizer
    ([0.0, 0.0, 2.0], True)
    >>> k4 = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    >>> spectral_embedding(k4, 2).spans_minimizer  # lambda_2 = 4/3 >= 1
    False
    """
    g = to_graph(graph)
    k = check_positive_int(k, name="k")
    if k >= g.n_nodes:
        raise ValueError(f"k must be < n_nodes = {g.n_nodes}, got {k}")
    vals, vecs = _bottom_eigs(g, k + 1)
    d = g.degrees(weighted=True).astype(np.float64)
    vol = d.sum()
    w = d / vol if vol > 0 else np.zeros_like(d)
    basis = vecs[:, :k]
    f = np.zeros_like(basis)
    f[w > 0] = basis[w > 0] / np.sqrt(w[w > 0])[:, None]
    keep = 1.0 - vals[:k]
    fstar = f * np.sqrt(np.where(keep > _ONE_TOL, keep, 0.0))[None, :]
    return SpectralEmbedding(readonly(vals), readonly(basis), readonly(f), readonly(w),
                             readonly(fstar))


def _onehot_u(lg, w):
    y = np.eye(lg.n_classes)[lg.codes]
    return np.sqrt(w)[:, None] * y


def _phi(lg, w_edges_total=None):
    target, source, wt = lg.arcs(voters="exclude", weighted=True)
    vol = wt.sum()
    if vol == 0:
        return float("nan")
    return float(wt[lg.codes[target] != lg.codes[source]].sum() / vol)


def spectral_probe_error(graph, labels, k: int) -> float:
    """Degree-weighted 0-1 error of the least-squares probe on the exact spectral embedding.

    The probe regresses U = D_w^{1/2} Y (one-hot labels) on the bottom-k
    eigenvectors, i.e. predicts argmax_c (P_k U)_{x, c}, which is the same as a
    linear probe on f(x) = u_x / sqrt(w_x); the error weights node x by
    w_x = d_x / vol(G) and counts a tied argmax as an error.

    Examples
    --------
    >>> spectral_probe_error([(0, 1), (1, 2), (3, 4), (4, 5)], [0, 0, 0, 1, 1, 1], 2)
    0.0
    """
    lg = prepare_labels(graph, labels)
    g = lg.graph
    emb = spectral_embedding(g, k)
    w = emb.weights
    u = _onehot_u(lg, w)
    proj = emb.basis @ (emb.basis.T @ u)
    own = proj[np.arange(g.n_nodes), lg.codes]
    others = proj.copy()
    others[np.arange(g.n_nodes), lg.codes] = -np.inf
    tol = 1e-12 * max(1.0, float(np.abs(proj).max()))
    wrong = own <= others.max(axis=1) + tol
    return float(w[wrong].sum())


def spectral_probe_bound(graph, labels, k: int) -> Bound:
    """HaoChen et al.'s probe bound: degree-weighted probe error <= 2 phi^y / lambda_{k+1}.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
    labels : array-like (n,)
    k : int
        Embedding dimension.

    Returns
    -------
    Bound
        ``details``: ``phi`` (degree-weighted heterophily = 1 - weighted edge
        homophily), ``lambda_k_plus_1``, ``trace_identity`` (tr U^T L U, equal to
        phi), ``residual`` ||(I - P_k) U||_F^2 with its bound phi/lambda_{k+1},
        ``probe_error``, the measured error of :func:`spectral_probe_error`,
        ``eigen_residual`` (max ``|L V - V Lambda|`` and ``|V^T V - I|`` over the
        eigenpairs used), ``minimizer_rank`` k' = #{i <= k: lambda_i < 1} and
        ``minimizer_bound`` 2 phi / lambda_{k'+1}, the bound for a probe on the
        spectral contrastive loss's minimizer. ``assumptions`` are computed from
        the input: ``eigengap_positive`` (lambda_{k+1} > 0),
        ``nonnegative_weights``, ``probe_spans_bottom_k_eigenvectors`` (the
        eigenpairs pass the residual check) and
        ``minimizer_spans_bottom_k_eigenvectors`` (lambda_k < 1: only then does
        the bound apply to the minimizer of the spectral contrastive loss, whose
        span otherwise misses the eigenvectors with lambda_i >= 1; the bound for
        the eigenvector probe holds regardless).

    Notes
    -----
    With U = D_w^{1/2} Y, tr(U^T L U) = sum_{x,y} w_xy 1[y_x != y_y] = phi^y. All of
    U's component outside the bottom-k eigenspace has Rayleigh quotient >=
    lambda_{k+1}, so ||(I - P_k) U||^2 <= phi / lambda_{k+1}; a node misclassified
    by the argmax of P_k U has squared residual >= w_x / 2, so the weighted error
    is <= 2 phi / lambda_{k+1} (HaoChen et al. 2021, section 3-4). Vacuous when
    >= 1 or when lambda_{k+1} = 0 (G has more than k components).

    Examples
    --------
    >>> b = spectral_probe_bound([(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)], [0, 0, 0, 1, 1, 1], 2)
    >>> b.value >= b.details["probe_error"], b.vacuous, b.assumptions_hold
    (True, False, True)
    """
    lg = prepare_labels(graph, labels)
    g = lg.graph
    emb = spectral_embedding(g, k)
    lam = float(emb.eigenvalues[k])
    phi = _phi(lg)
    u = _onehot_u(lg, emb.weights)
    nadj, _, _ = _norm_adjacency(g)
    trace = float((u * u).sum() - (u * (nadj @ u)).sum())
    resid = float(((u - emb.basis @ (emb.basis.T @ u)) ** 2).sum())
    gap = lam > 1e-12
    value = 2.0 * phi / lam if gap else math.inf
    # backward-stable dense eigensolver: |d lambda| <= c n eps ||L|| (||L|| <= 2); Lanczos
    # (large components) at tol 1e-10; phi is a sum of n terms
    lam_err = 64.0 * g.n_nodes * 2.0**-52 + (2e-10 if g.n_nodes > 3000 else 0.0)
    rounding = value * (lam_err / lam + 16.0 * g.n_nodes * 2.0**-52) if gap else 0.0
    err = spectral_probe_error(g, labels, k)
    eig_resid = _eigen_residual(nadj, emb.basis, emb.eigenvalues[:k], _isolated(g))
    k_min = int(np.sum(emb.eigenvalues[:k] < 1.0 - _ONE_TOL))
    lam_min = float(emb.eigenvalues[k_min])
    return Bound(
        "spectral probe bound",
        value,
        {"eigengap_positive": bool(gap), "nonnegative_weights": _nonnegative(g),
         "probe_spans_bottom_k_eigenvectors": bool(eig_resid <= _EIG_TOL),
         "minimizer_spans_bottom_k_eigenvectors": bool(k_min == k)},
        bool(not gap or value >= 1.0 - rounding),  # an exact 1 may compute as 1 - 2e-16
        _HAOCHEN,
        {"phi": phi, "lambda_k_plus_1": lam, "k": int(k), "trace_identity": trace,
         "residual": resid, "residual_bound": phi / lam if gap else math.inf,
         "probe_error": err, "eigen_residual": eig_resid, "minimizer_rank": k_min,
         "minimizer_bound": 2.0 * phi / lam_min if lam_min > 1e-12 else math.inf},
        rounding,
    )


_EIG_TOL = 1e-8


def _isolated(g) -> np.ndarray:
    return np.asarray(g.degrees(weighted=True)) == 0


def _nonnegative(g) -> bool:
    """Every stored edge weight is >= 0 (checked on the adjacency, not assumed)."""
    data = np.asarray(g.data)
    return bool(data.size == 0 or data.min() >= 0)


def _symmetric(g) -> bool:
    a = g.to_scipy().astype(np.float64)
    diff = abs(a - a.T)
    return bool(diff.nnz == 0 or diff.max() == 0)


def _eigen_residual(nadj, vecs, vals, isolated) -> float:
    """max(|L V - V diag(vals)|, |V^T V - I|) with L = I - nadj (isolated rows 0)."""
    if vecs.size == 0:
        return 0.0
    lap_v = vecs - nadj @ vecs
    lap_v[isolated] = 0.0
    r = float(np.abs(lap_v - vecs * vals[None, :]).max())
    o = float(np.abs(vecs.T @ vecs - np.eye(vecs.shape[1])).max())
    return max(r, o)


def spectral_contrastive_objective(embeddings, graph) -> float:
    """Population spectral contrastive loss of HaoChen et al. of a fixed embedding (numpy, exact).

    L(f) = -2 sum_{x,y} w_xy f(x).f(y) + sum_{x,y} w_x w_y (f(x).f(y))^2, on the
    graph's distribution. The training loss on mini-batches is
    :func:`sip_theory.losses.spectral_contrastive_loss` (torch), its whole-graph
    form :func:`sip_theory.losses.spectral_contrastive_graph_loss`.

    Parameters
    ----------
    embeddings : array-like of shape (n_nodes, dim)
        f, one row per node.
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array

    Examples
    --------
    >>> round(spectral_contrastive_objective([[1.0], [1.0]], [(0, 1)]), 6)
    -1.0
    """
    g = to_graph(graph)
    f = check_embeddings(embeddings).astype(np.float64)
    if f.shape[0] != g.n_nodes:
        raise ValueError(f"embeddings has {f.shape[0]} rows but the graph has {g.n_nodes} nodes")
    a = g.to_scipy().astype(np.float64)
    vol = float(a.sum())
    d = np.asarray(a.sum(axis=1)).ravel() / vol
    gram = f @ f.T
    pos = float((a.multiply(gram)).sum() / vol)
    return -2.0 * pos + float(d @ (gram**2) @ d)


def haochen_identity(graph, embeddings) -> IdentityCheck:
    """Lemma 3.2 of HaoChen et al.: ||A_bar - F F^T||_F^2 = ||A_bar||_F^2 + L(f).

    A_bar_xy = w_xy / sqrt(w_x w_y) and F has rows u_x = sqrt(w_x) f(x).

    Examples
    --------
    >>> chk = haochen_identity([(0, 1), (1, 2)], [[1.0, 0.0], [0.5, 0.5], [0.0, 2.0]])
    >>> chk.holds
    True
    """
    g = to_graph(graph)
    f = check_embeddings(embeddings).astype(np.float64)
    nadj, d, vol = _norm_adjacency(g)
    abar = nadj.toarray()  # w_xy / sqrt(w_x w_y) = A_xy / sqrt(d_x d_y)
    u = np.sqrt(d / vol)[:, None] * f
    lhs = float(((abar - u @ u.T) ** 2).sum())
    rhs = float((abar**2).sum()) + spectral_contrastive_objective(f, g)
    holds = abs(lhs - rhs) <= 1e-9 * max(1.0, abs(lhs), abs(rhs))
    return IdentityCheck("HaoChen et al. Lemma 3.2", lhs, rhs, bool(holds), _HAOCHEN)


# ------------------------------------------------------------------------- Cheeger
def sparsest_k_partition(graph, k: int, *, max_nodes: int = 10):
    """Brute-force rho(k): min over k disjoint non-empty node sets of their largest conductance.

    phi(S) = w(S, V - S) / vol(S) (0 when vol(S) = 0). Enumerates (k+1)^n
    assignments, so n <= ``max_nodes``.

    Returns
    -------
    rho : float
    sets : list of ndarray
        An optimal k-tuple of node sets.

    Examples
    --------
    >>> rho, sets = sparsest_k_partition([(0, 1), (1, 2), (3, 4)], 2)
    >>> rho
    0.0
    """
    g = to_graph(graph)
    k = check_positive_int(k, name="k")
    n = g.n_nodes
    if n > max_nodes:
        raise ValueError(f"brute force needs n_nodes <= max_nodes={max_nodes}, got {n}")
    if k > n:
        raise ValueError(f"k must be <= n_nodes = {n}, got {k}")
    a = g.to_dense()
    d = a.sum(axis=1)
    best, best_sets = math.inf, None
    total = (k + 1) ** n
    chunk = max(1, 2**18 // max(n, 1))
    powers = (k + 1) ** np.arange(n)
    for start in range(0, total, chunk):
        idx = np.arange(start, min(start + chunk, total))
        codes = (idx[:, None] // powers[None, :]) % (k + 1)
        worst = np.zeros(idx.shape[0])
        ok = np.ones(idx.shape[0], dtype=bool)
        for j in range(1, k + 1):
            x = (codes == j).astype(np.float64)
            ok &= x.any(axis=1)
            vol = x @ d
            internal = ((x @ a) * x).sum(axis=1)
            cut = vol - internal
            cond = np.divide(cut, vol, out=np.zeros_like(cut), where=vol > 0)
            worst = np.maximum(worst, cond)
        worst[~ok] = math.inf
        i = int(np.argmin(worst))
        if worst[i] < best:
            best = float(worst[i])
            best_sets = [np.flatnonzero(codes[i] == j) for j in range(1, k + 1)]
    return best, best_sets


def cheeger_easy_side(graph, k: int, *, brute_force_max_nodes: int = 10) -> Bound:
    """Easy side of the higher-order Cheeger inequality: lambda_k / 2 <= rho(k).

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
    k : int
    brute_force_max_nodes : int, default 10
        rho(k) is computed by brute force (and reported in ``details``) when
        n_nodes is at most this.

    Returns
    -------
    Bound
        ``value`` = lambda_k / 2, a lower bound on rho(k); ``details`` has
        ``lambda_k`` and, for small graphs, ``rho_k`` and ``holds``.

    Notes
    -----
    For k disjoint sets S_i, the vectors D^{1/2} 1_{S_i} are orthogonal and any
    combination has Rayleigh quotient <= 2 max_i phi(S_i) (a cut edge between
    S_i and S_j contributes (a_i - a_j)^2 <= 2 a_i^2 + 2 a_j^2), so
    lambda_k <= 2 rho(k) by Courant-Fischer (Lee, Oveis Gharan, Trevisan 2014).
    Vacuous when lambda_k = 0.

    Examples
    --------
    >>> b = cheeger_easy_side([(0, 1), (1, 2), (2, 3), (3, 0)], 2)
    >>> b.details["holds"], round(b.value, 6), round(b.details["rho_k"], 6)
    (True, 0.5, 0.5)
    """
    g = to_graph(graph)
    k = check_positive_int(k, name="k")
    if k > g.n_nodes:
        raise ValueError(f"k must be <= n_nodes = {g.n_nodes}, got {k}")
    lam_k = float(_bottom_eigs(g, k)[0][k - 1])
    details = {"lambda_k": lam_k, "k": k}
    if g.n_nodes <= brute_force_max_nodes:
        rho, sets = sparsest_k_partition(g, k, max_nodes=brute_force_max_nodes)
        details.update({"rho_k": rho, "sets": [s.tolist() for s in sets],
                        "holds": bool(lam_k / 2 <= rho + 1e-12)})
    return Bound("higher-order Cheeger, easy side", lam_k / 2.0,
                 {"undirected": _symmetric(g), "nonnegative_weights": _nonnegative(g)},
                 bool(lam_k <= 1e-12), _LOT, details)


# --------------------------------------------------------------------- Arora et al.
def _loss_fn(name):
    if name == "hinge":
        return lambda v: np.maximum(0.0, 1.0 - v)
    return lambda v: np.logaddexp(0.0, -v) / math.log(2.0)


def mean_classifier_bound(embeddings, labels, *, class_probs=None, loss: str = "hinge") -> Bound:
    """Arora et al. (2019): mean-classifier loss <= (L_un - tau * l(0)) / (1 - tau).

    Computed exactly on a finite table: class c has probability rho_c and its
    points (rows with that label) are equally likely.

    Parameters
    ----------
    embeddings : array-like (n, d)
    labels : array-like (n,)
    class_probs : array-like (C,), optional
        rho over the sorted distinct labels; default the empirical class shares.
    loss : {"hinge", "logistic"}, default "hinge"
        l(v) = max(0, 1 - v), or log2(1 + e^{-v}); both convex with l(0) = 1 and
        both bound the 0-1 error.

    Returns
    -------
    Bound
        ``details``: ``unsupervised_loss`` L_un = E l(f(x).(f(x+) - f(x-))) with
        x, x+ ~ D_c, c ~ rho, x- ~ D_c', c' ~ rho independent; ``tau`` = sum rho_c^2;
        ``mean_classifier_loss`` = E over c != c' (drawn from rho x rho) and
        x ~ D_c of l(f(x).(mu_c - mu_c')) -- the quantity bounded.

    Notes
    -----
    For fixed x, c, c' convexity (Jensen) gives E l(f(x).(f(x+) - f(x-))) >=
    l(f(x).(mu_c - mu_c')), which is l(0) when c = c' (probability tau), so
    L_un >= tau l(0) + (1 - tau) L_mean (Arora et al. 2019, Lemma 4.3 with one
    negative). Vacuous when the value is >= 1.

    Examples
    --------
    >>> x = [[1.0, 0.0], [1.1, 0.0], [0.0, 1.0], [0.0, 1.2]]
    >>> b = mean_classifier_bound(x, [0, 0, 1, 1])
    >>> b.value >= b.details["mean_classifier_loss"]
    True
    """
    check_one_of(loss, ("hinge", "logistic"), name="loss")
    f = check_embeddings(embeddings).astype(np.float64)
    lab = check_labels(labels, f.shape[0])
    classes, codes = np.unique(lab, return_inverse=True)
    codes = codes.reshape(-1)
    C = classes.shape[0]
    if class_probs is None:
        rho = np.bincount(codes, minlength=C) / f.shape[0]
    else:
        rho = np.asarray(class_probs, dtype=np.float64)
        if rho.shape != (C,) or (rho < 0).any() or not math.isclose(rho.sum(), 1.0,
                                                                     rel_tol=1e-9):
            raise ValueError(f"class_probs must be {C} non-negative numbers summing to 1")
    ell = _loss_fn(loss)
    gram = f @ f.T
    members = [np.flatnonzero(codes == c) for c in range(C)]
    means = np.stack([f[m].mean(axis=0) for m in members])
    l_un = 0.0
    for cp in range(C):
        xs = members[cp]
        s_pos = gram[np.ix_(xs, xs)]  # (x, x+)
        for cn in range(C):
            s_neg = gram[np.ix_(xs, members[cn])]  # (x, x-)
            vals = ell(s_pos[:, :, None] - s_neg[:, None, :])
            l_un += rho[cp] * rho[cn] * float(vals.mean())
    tau = float((rho**2).sum())
    ell0 = float(ell(np.array(0.0)))
    l_mean = 0.0
    if tau < 1.0:
        for cp in range(C):
            for cn in range(C):
                if cp == cn:
                    continue
                v = f[members[cp]] @ (means[cp] - means[cn])
                l_mean += rho[cp] * rho[cn] * float(ell(v).mean())
        l_mean /= 1.0 - tau
        value = (l_un - tau * ell0) / (1.0 - tau)
    else:
        value = math.inf
    return Bound(
        "Arora et al. mean-classifier bound", float(value),
        {"convex_loss": True, "at_least_two_classes": bool(tau < 1.0)},
        bool(value >= 1.0), _ARORA,
        {"unsupervised_loss": float(l_un), "tau": tau, "loss_at_zero": ell0,
         "mean_classifier_loss": float(l_mean), "loss": loss},
    )


# ------------------------------------------------------------------------ Cantelli
def ncm_cantelli_bound(embeddings, labels) -> Bound:
    """Cantelli bound on the nearest-class-mean error of any embedding with labels.

    For class i (its empirical distribution Q_i, mean mu_i, share pi_i) and
    j != i, with Delta = ||mu_i - mu_j|| and sigma^2 the variance of Q_i along
    mu_j - mu_i: P_{x~Q_i}[||x - mu_j|| <= ||x - mu_i||] <= sigma^2 / (sigma^2 + Delta^2/4).
    The error is bounded by sum_i pi_i min(1, sum_{j != i} that).

    Returns
    -------
    Bound
        ``details``: ``measured_error`` (the nearest-class-mean error on the
        same points, ties counted as errors) and ``per_class`` bounds.

    Examples
    --------
    >>> x = [[0.0, 0.0], [0.2, 0.0], [3.0, 0.0], [3.2, 0.1]]
    >>> b = ncm_cantelli_bound(x, [0, 0, 1, 1])
    >>> b.value >= b.details["measured_error"], round(b.value, 4)
    (True, 0.0045)
    """
    f = check_embeddings(embeddings).astype(np.float64)
    lab = check_labels(labels, f.shape[0])
    classes, codes = np.unique(lab, return_inverse=True)
    codes = codes.reshape(-1)
    C = classes.shape[0]
    members = [np.flatnonzero(codes == c) for c in range(C)]
    means = np.stack([f[m].mean(axis=0) for m in members])
    pis = np.array([m.size for m in members]) / f.shape[0]
    per_class = []
    distinct = True
    for i in range(C):
        total = 0.0
        xi = f[members[i]] - means[i]
        for j in range(C):
            if j == i:
                continue
            diff = means[j] - means[i]
            delta = float(np.linalg.norm(diff))
            if delta == 0.0:
                distinct = False
                total += 1.0
                continue
            proj = xi @ (diff / delta)
            var = float((proj**2).mean())
            total += var / (var + delta**2 / 4.0)
        per_class.append(min(1.0, total))
    value = float(np.dot(pis, per_class))
    d2 = ((f[:, None, :] - means[None, :, :]) ** 2).sum(-1)
    own = d2[np.arange(f.shape[0]), codes]
    d2[np.arange(f.shape[0]), codes] = np.inf
    measured = float(np.mean(d2.min(axis=1) <= own)) if C > 1 else 0.0
    return Bound("nearest-class-mean Cantelli bound", value,
                 {"class_means_distinct": distinct, "at_least_two_classes": C > 1},
                 bool(value >= 1.0), _CANTELLI,
                 {"measured_error": measured, "per_class": [float(v) for v in per_class],
                  "classes": classes.tolist()})


# ------------------------------------------------------------------ LP separability
@dataclass(frozen=True, eq=False)
class Separability(ToDictMixin):
    """Result of the linear-separability oracle, with how sure it is.

    Attributes
    ----------
    separable : bool
        Some affine classifier x -> argmax_c (W x + b)_c labels every point
        correctly with a unique maximum, and the returned one was checked to.
    coef : ndarray (C, d) or None
    intercept : ndarray (C,) or None
        A separating classifier (margin 1 between the right score and every other,
        as solved) when ``separable``.
    status : int
        scipy ``linprog`` status of the max-margin LP (0: solved).
    message : str
    certified : bool
        The verdict is proved up to float64 rounding: a separating classifier whose
        margins, recomputed, exceed their rounding bound; or, for "not separable", a
        dual certificate bounding every margin by the rounding level. False when the
        answer lies within the solver's tolerance (a margin of about 1e-7 or less on
        features scaled to [-1, 1]): then ``separable=False`` means "no separator found".
    margin_lower, margin_upper : float
        The best margin on the scaled features (W and b in [-1, 1]), bracketed: the
        verified margin of the returned classifier, and the dual bound.
    """

    separable: bool
    coef: np.ndarray | None = field(repr=False)
    intercept: np.ndarray | None = field(repr=False)
    status: int
    message: str
    certified: bool = True
    margin_lower: float = math.inf
    margin_upper: float = math.inf

    _to_dict_exclude = ("coef", "intercept")


def linear_separability(embeddings, labels) -> Separability:
    """Linear separability of a finite labelled set, by a max-margin LP, with a certificate.

    The features are centred and scaled to [-1, 1] each (an affine map, which keeps
    separability and makes it independent of the units), then scipy's HiGHS solves

        max t  s.t.  (w_{y_i} - w_c).x_i + b_{y_i} - b_c >= t  for every i and c != y_i,
        W, b in [-1, 1],  t <= 1.

    The set is separable iff t* > 0. The returned classifier's margins are recomputed
    in float64 and the dual solution bounds t* from above, so the verdict carries
    ``certified``: whether those two settle it beyond rounding. A separating margin
    below the solver's tolerance (about 1e-7) cannot be found reliably; the result
    then says so instead of guessing. For two classes this is the usual strict linear
    separability.

    Examples
    --------
    >>> linear_separability([[0.0], [1.0], [2.0]], [0, 0, 1]).separable
    True
    >>> r = linear_separability([[0.0], [1.0], [2.0]], [0, 1, 0])
    >>> r.separable, r.certified
    (False, True)
    >>> linear_separability([[0.0], [1e-12]], [0, 1]).separable  # units do not matter
    True
    """
    from scipy.optimize import linprog

    x = check_embeddings(embeddings).astype(np.float64)
    lab = check_labels(labels, x.shape[0])
    classes, codes = np.unique(lab, return_inverse=True)
    codes = codes.reshape(-1)
    n, dim = x.shape
    C = classes.shape[0]
    if C < 2:
        return Separability(True, np.zeros((C, dim)), np.zeros(C), 0, "a single class")
    mean = x.mean(axis=0)
    scale = np.abs(x - mean).max(axis=0)
    scale[scale == 0] = 1.0
    xs = np.hstack([(x - mean) / scale, np.ones((n, 1))])  # scaled features and the bias
    a = _separation_rows(xs, codes, C)  # one row per (i, c): score margin = a @ vec(W, b)
    r, nv = a.shape
    # variables (vec(W, b), t): minimize -t subject to -a w + t <= 0
    a_ub = sp.hstack([-a, sp.csr_matrix(np.ones((r, 1)))]).tocsr()
    res = linprog(np.r_[np.zeros(nv), -1.0], A_ub=a_ub, b_ub=np.zeros(r),
                  bounds=[(-1.0, 1.0)] * nv + [(None, 1.0)], method="highs")
    if res.status != 0:
        raise RuntimeError(f"linprog did not solve the max-margin LP: {res.message}")
    w = res.x[:nv]
    margins = a @ w
    lower = float(margins.min())
    # rounding of a recomputed margin (2 (d + 1) terms, each <= the largest row 1-norm),
    # and of the dual bound (a combination of r rows)
    row_norm = float(abs(a).sum(axis=1).max())
    round_err = 4.0 * (dim + 2) * 2.0**-52 * row_norm
    round_dual = 4.0 * (r + dim + 2) * 2.0**-52 * row_norm
    y = np.abs(res.ineqlin.marginals)
    upper = math.inf
    if y.sum() > 0:
        v = a.T @ (y / y.sum())  # a convex combination of the rows: every margin <= |v|_1
        upper = float(np.abs(v).sum()) + round_dual
    if lower > round_err:
        wb = (w / lower).reshape(C, dim + 1)  # margin 1, in the original coordinates:
        coef = wb[:, :dim] / scale
        intercept = wb[:, dim] - coef @ mean
        return Separability(True, readonly(coef), readonly(intercept), 0,
                            f"separating margin {lower:.3g} (scaled), verified",
                            True, lower, upper)
    certified = upper <= 2.0 * round_dual
    msg = ("no separator: a dual certificate bounds every margin by the rounding level"
           if certified else
           f"no separator found; the best margin lies in [{max(lower, 0.0):.3g}, "
           f"{upper:.3g}] (scaled), within the solver's tolerance: not proved either way")
    return Separability(False, None, None, 0, msg, bool(certified), max(lower, 0.0), upper)


def _separation_rows(xs, codes, n_classes):
    """Sparse rows a_ic with a_ic @ vec(W, b) = (w_{y_i} - w_c).x_i + b_{y_i} - b_c."""
    n, width = xs.shape
    rows, cols, vals = [], [], []
    r = 0
    for i in range(n):
        yi = codes[i]
        for c in range(n_classes):
            if c == yi:
                continue
            rows += [r] * (2 * width)
            cols += list(range(yi * width, (yi + 1) * width))
            cols += list(range(c * width, (c + 1) * width))
            vals += list(xs[i]) + list(-xs[i])
            r += 1
    return sp.csr_matrix((vals, (rows, cols)), shape=(r, n_classes * width))
