"""Spectral contrastive loss (HaoChen, Wei, Gaidon and Ma, NeurIPS 2021)."""

from __future__ import annotations

import numpy as np
import torch

from .._validation import check_one_of
from ..graphs import as_sample_graph
from ._common import (
    FunctionalLoss,
    as_pairs,
    check_embedding_tensor,
    make_stats,
    resolve_refs,
)
from ._reducers import MEAN, zero_like_graph

__all__ = [
    "SpectralContrastiveLoss",
    "spectral_contrastive_graph_loss",
    "spectral_contrastive_loss",
]

SPECTRAL_UNIFORM = ("all", "pairs")


def spectral_contrastive_loss(
    embeddings,
    indices_tuple,
    ref_embeddings=None,
    *,
    uniform: str = "all",
    return_stats: bool = False,
):
    r"""Mini-batch spectral contrastive loss on graph-derived positive pairs.

    Parameters
    ----------
    embeddings : torch.Tensor of shape (n_anchors, dim)
    indices_tuple : tuple
        ``(a1, p, a2, n)`` pairs or ``(a, p, n)`` triplets; ``(a1, p)`` are the
        positive (linked) pairs.
    ref_embeddings : torch.Tensor of shape (n_refs, dim), optional
        Default ``embeddings``.
    uniform : {"all", "pairs"}, default "all"
        The pairs over which the repulsive term is averaged. ``"all"``: every
        (anchor row, ref row) pair, excluding a row with itself when
        ``ref_embeddings`` is not given (HaoChen et al. draw the two samples of
        this term independently, so linked pairs belong in it); computed in
        O((n_anchors + n_refs) dim^2) without forming the pair matrix.
        ``"pairs"``: only the tuple's negative pairs ``(a2, n)``.
    return_stats : bool, default False

    Returns
    -------
    loss : torch.Tensor
    stats : LossStats, only with ``return_stats=True``

    Notes
    -----
    L = -2 mean_{(i,j) positive} z_i . z_j + mean_{(i,j) uniform} (z_i . z_j)^2
    (HaoChen et al. 2021, eq. 5). An empty positive set makes the first term 0,
    an empty uniform set the second. See :func:`spectral_contrastive_graph_loss`
    for the population loss of a whole graph.

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> round(float(spectral_contrastive_loss(z, ([0], [1], [], []))), 4)  # -2 + 2/6
    -1.6667
    """
    check_one_of(uniform, SPECTRAL_UNIFORM, name="uniform")
    same = ref_embeddings is None
    emb, ref = resolve_refs(embeddings, ref_embeddings)
    a1, p, a2, n = as_pairs(indices_tuple, emb.shape[0], ref.shape[0], emb.device)
    like = (emb, ref)
    zero = zero_like_graph(*like)
    attract = MEAN((emb[a1] * ref[p]).sum(1), like=like)
    if uniform == "pairs":
        repel = MEAN((emb[a2] * ref[n]).sum(1) ** 2, like=like)
    else:
        # the mean over every pair, from the sum of its terms in closed form
        total = ((emb.T @ emb) * (ref.T @ ref)).sum()
        count = emb.shape[0] * ref.shape[0]
        if same:
            total = total - ((emb * emb).sum(1) ** 2).sum()
            count -= emb.shape[0]
        repel = total / count if count > 0 else zero
    out = -2.0 * attract + repel + zero
    return (out, make_stats(a1, p, a2, n, emb.shape[0])) if return_stats else out


def spectral_contrastive_graph_loss(embeddings, graph):
    r"""Population spectral contrastive loss of embeddings for a whole graph.

    Parameters
    ----------
    embeddings : torch.Tensor of shape (n_nodes, dim)
        One row per graph node.
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array
        Weighted graphs use their weights.

    Returns
    -------
    torch.Tensor
        L(f) = -2 sum_ij w_ij f_i . f_j + sum_ij w_i w_j (f_i . f_j)^2 with
        w_ij = A_ij / vol(G), w_i = deg_i / vol(G), both sums over ordered pairs.

    Raises
    ------
    ValueError
        A graph without edges, or embeddings with the wrong number of rows.

    Notes
    -----
    HaoChen et al. (2021), eq. 4 and Lemma 3.2: with u_i = sqrt(w_i) f_i and
    the normalized adjacency Abar_ij = w_ij / sqrt(w_i w_j),
    ||Abar - U U^T||_F^2 = ||Abar||_F^2 + L(f). The repulsive term is computed as
    ||F^T diag(w) F||_F^2 in O(n dim^2); the attractive term over the CSR entries.

    Examples
    --------
    >>> import torch
    >>> from sip_theory.graphs import SampleGraph
    >>> g = SampleGraph.from_edges([(0, 1)])
    >>> z = torch.tensor([[1.0], [1.0]])
    >>> float(spectral_contrastive_graph_loss(z, g))  # -2 * 1 + 1
    -1.0
    """
    emb = check_embedding_tensor(embeddings)
    g = as_sample_graph(graph, n_nodes=emb.shape[0], name="graph")
    if g.n_edges == 0:
        raise ValueError("graph has no edges; the spectral contrastive loss needs vol(G) > 0")
    rows = np.repeat(np.arange(g.n_nodes, dtype=np.int64), np.diff(g.indptr))
    dev = emb.device
    r = torch.as_tensor(rows, device=dev)
    c = torch.as_tensor(np.array(g.indices), device=dev)
    a = torch.as_tensor(np.array(g.data), device=dev, dtype=emb.dtype)
    vol = a.sum()
    deg = torch.zeros(g.n_nodes, dtype=emb.dtype, device=dev).index_add(0, r, a)
    w = deg / vol
    attract = (a * (emb[r] * emb[c]).sum(1)).sum() / vol
    gram = emb.T @ (emb * w[:, None])
    return -2.0 * attract + (gram * gram).sum()


class SpectralContrastiveLoss(FunctionalLoss, loss_fn=spectral_contrastive_loss):
    """Module form of :func:`spectral_contrastive_loss` with running empty-set counters.

    Examples
    --------
    >>> import torch
    >>> loss_fn = SpectralContrastiveLoss(uniform="pairs")
    >>> float(loss_fn(torch.ones(2, 2), ([], [], [], [])))
    0.0
    """
