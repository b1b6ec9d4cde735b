"""Trustworthiness and continuity of an embedding against an input space, exact and chunked."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import torch

from .._kernel import PairSpace
from .._serialization import ToDictMixin
from .._validation import check_positive_int
from ._arrays import SMALL_WORK, like_input, single_thread_if_small
from ._common import engine_options, prepare
from ._distributed import resolve_comm
from ._engine import _KNN, _Block, _check_metric, _chunk, cpu_workers, run_blocks

__all__ = ["NeighborhoodPreservation", "continuity", "neighborhood_preservation",
           "trustworthiness"]


@dataclass(frozen=True)
class NeighborhoodPreservation(ToDictMixin):
    """Trustworthiness and continuity at one k.

    Attributes
    ----------
    trustworthiness : float
        Penalises points that are near in the embedding but far in the input space.
    continuity : float
        Penalises points that are near in the input space but far in the embedding.
    k : int
    metric, input_metric : str
    """

    trustworthiness: float
    continuity: float
    k: int
    metric: str
    input_metric: str


def _ranks_of(D: torch.Tensor, S: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """1-based rank of column ``cols[r, a]`` in row r of ``D`` under (distance, index) order."""
    vals = D.gather(1, cols)
    lt = torch.searchsorted(S, vals.contiguous(), right=False)
    le = torch.searchsorted(S, vals.contiguous(), right=True)
    rank = lt + 1
    tied = (le - lt) > 1
    if bool(tied.any()):
        rr, aa = torch.nonzero(tied, as_tuple=True)
        ar = torch.arange(D.shape[1], device=D.device)
        step = max(1, (1 << 24) // max(1, D.shape[1]))
        for s in range(0, rr.shape[0], step):
            r, a = rr[s:s + step], aa[s:s + step]
            j = cols[r, a]
            before = (D[r] == vals[r, a][:, None]) & (ar[None, :] < j[:, None])
            rank[r, a] += before.sum(1)
    return rank


def neighborhood_preservation(
    inputs,
    embeddings,
    *,
    k: int = 5,
    metric: str = "euclidean",
    input_metric: str = "euclidean",
    **engine,
) -> NeighborhoodPreservation:
    """Trustworthiness and continuity (Venna & Kaski 2001) in one exact, chunked pass.

    Parameters
    ----------
    inputs : array-like or torch.Tensor of shape (n, p)
        The input space (e.g. raw features).
    embeddings : array-like or torch.Tensor of shape (n, d)
    k : int, default 5
        Neighbourhood size, k < n / 2.
    metric, input_metric : {"euclidean", "sqeuclidean", "cosine", "dot"}
        Distances in the embedding and in the input space.
    **engine
        ``device``, ``dtype``, ``chunk_size``, ``memory_budget``, ``progress``, ``distributed``.

    Returns
    -------
    NeighborhoodPreservation

    Notes
    -----
    With r(i, j) the rank of j among i's neighbours in the input space and
    U_k(i) the embedding's k nearest neighbours of i that are not among the
    input space's k nearest,

    .. math:: T(k) = 1 - \\frac{2}{n k (2n - 3k - 1)} \\sum_i \\sum_{j \\in U_k(i)} (r(i, j) - k);

    continuity C(k) is the same with the two spaces swapped. Neighbours and
    ranks are ordered by (distance, index). Equals scikit-learn's
    ``sklearn.manifold.trustworthiness(inputs, embeddings, n_neighbors=k)`` when
    no distances tie (scikit-learn's order among ties is unspecified), and
    continuity equals ``trustworthiness(embeddings, inputs)``. Invariant under
    sample permutation, rotation, translation, isotropic scaling and any
    increasing transform of either space's distances.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0], [6.0]])
    >>> r = neighborhood_preservation(X, X[::-1] * 3 + 1, k=2)
    >>> r.trustworthiness, r.continuity
    (1.0, 1.0)
    """
    engine = engine_options(engine)
    _check_metric(metric)
    _check_metric(input_metric)
    E = prepare(embeddings, device=engine["device"], dtype=engine["dtype"])
    X = prepare(inputs, device=E.device, dtype=E.dtype, name="inputs")
    n = int(E.shape[0])
    if X.shape[0] != n:
        raise ValueError(f"inputs has {X.shape[0]} rows but embeddings has {n}")
    k = check_positive_int(k, name="k")
    if k >= n / 2:
        raise ValueError(f"k must be < n_samples / 2 = {n / 2}, got {k}")
    sx, se = PairSpace(X, None, input_metric), PairSpace(E, None, metric)
    chunk = _chunk(engine["chunk_size"], engine["memory_budget"], n, E.element_size())
    if engine["chunk_size"] is None:
        workers = cpu_workers()
        chunk = min(max(1, chunk // (2 * workers)), max(1, -(-n // workers)))
    comm = resolve_comm(engine["distributed"])
    kx, ke = _KNN(n, k, sx), _KNN(n, k, se)
    totals = torch.zeros(2, dtype=torch.int64)
    starts = list(range(0, n, chunk))
    mine = [(bi, r0) for bi, r0 in enumerate(starts) if comm.owns(bi)]
    lock = threading.Lock()

    def process(wid, job):
        bi, r0 = job
        r1 = min(r0 + chunk, n)
        bx = _Block(bi, r0, r1, sx.fast_block(r0, r1, exclude_self=True), True)
        be = _Block(bi, r0, r1, se.fast_block(r0, r1, exclude_self=True), True)
        Sx, Se = bx.sorted_rows(), be.sorted_rows()
        kx.update(bx)
        ke.update(be)
        r_x = _ranks_of(bx.D, Sx, ke.indices[r0:r1])  # input ranks of embedding nbrs
        r_e = _ranks_of(be.D, Se, kx.indices[r0:r1])  # embedding ranks of input nbrs
        a = int((r_x - k).clamp(min=0).sum())
        b = int((r_e - k).clamp(min=0).sum())
        with lock:
            totals[0] += a
            totals[1] += b

    work = 2.0 * n * n * max(8, X.shape[1], E.shape[1])
    workers = cpu_workers() if E.device.type == "cpu" else 1
    with torch.no_grad(), single_thread_if_small(work, E.device):
        run_blocks(mine, process, workers=workers if work >= SMALL_WORK else 1,
                   progress=engine["progress"], desc="trustworthiness", rank=comm.rank)
    totals = comm.sum(totals)
    norm = 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0))
    return NeighborhoodPreservation(
        trustworthiness=1.0 - float(totals[0]) * norm,
        continuity=1.0 - float(totals[1]) * norm,
        k=k, metric=metric, input_metric=input_metric,
    )


def trustworthiness(inputs, embeddings, *, k: int = 5, metric: str = "euclidean",
                    input_metric: str = "euclidean", **engine):
    """Trustworthiness T(k) of ``embeddings`` w.r.t. ``inputs``.

    See :func:`neighborhood_preservation`.

    numpy in -> numpy.float64, torch in -> 0-d tensor (the type of ``embeddings``).

    Examples
    --------
    >>> import numpy as np
    >>> X = (2.0 ** np.arange(8) - 1)[:, None]
    >>> round(float(trustworthiness(X, X[[0, 1, 2, 3, 7, 5, 6, 4]], k=2)), 4)
    0.6944
    """
    r = neighborhood_preservation(inputs, embeddings, k=k, metric=metric,
                                  input_metric=input_metric, **engine)
    return like_input(r.trustworthiness, embeddings)


def continuity(inputs, embeddings, *, k: int = 5, metric: str = "euclidean",
               input_metric: str = "euclidean", **engine):
    """Continuity C(k) of ``embeddings`` w.r.t. ``inputs``; see :func:`neighborhood_preservation`.

    Examples
    --------
    >>> import numpy as np
    >>> X = (2.0 ** np.arange(8) - 1)[:, None]
    >>> round(float(continuity(X, X[[0, 1, 2, 3, 7, 5, 6, 4]], k=2)), 4)
    0.6944
    """
    r = neighborhood_preservation(inputs, embeddings, k=k, metric=metric,
                                  input_metric=input_metric, **engine)
    return like_input(r.continuity, embeddings)
