"""Triplet margin loss (Weinberger and Saul 2009; Schroff et al. 2015) on graph-derived triplets."""

from __future__ import annotations

import torch

from .._validation import check_one_of
from ._common import (
    DISTANCE_METRICS,
    FunctionalLoss,
    as_triplets,
    check_positive_real,
    make_stats,
    maybe_normalize,
    pair_distances,
    resolve_refs,
)
from ._reducers import AVG_NONZERO, MEAN, NONE, SUM, get_reducer

__all__ = ["TripletMarginLoss", "triplet_margin_loss"]

#: reduction name -> reducer of the per-triplet terms
TRIPLET_REDUCTIONS = {"mean": MEAN, "avg_nonzero": AVG_NONZERO, "sum": SUM, "none": NONE}


def triplet_margin_loss(
    embeddings,
    indices_tuple,
    ref_embeddings=None,
    *,
    margin: float = 1.0,
    metric: str = "euclidean",
    normalize: bool = False,
    smooth: bool = False,
    reduction: str = "mean",
    return_stats: bool = False,
):
    r"""Triplet margin loss: an anchor should be closer to a neighbour than to a non-neighbour.

    Parameters
    ----------
    embeddings : torch.Tensor of shape (n_anchors, dim)
        Anchor embeddings; float16/bfloat16 inputs are computed in float32.
    indices_tuple : tuple
        Triplets ``(a, p, n)``, or pairs ``(a1, p, a2, n)`` which are expanded to
        every triplet of a positive and a negative pair sharing their anchor row.
    ref_embeddings : torch.Tensor of shape (n_refs, dim), optional
        Rows indexed by ``p`` and ``n``; default ``embeddings``.
    margin : float, default 1.0
    metric : {"euclidean", "sqeuclidean", "cosine"}, default "euclidean"
    normalize : bool, default False
        L2-normalize first (pytorch-metric-learning's default distance does).
    smooth : bool, default False
        Use softplus instead of the hinge.
    reduction : {"mean", "avg_nonzero", "sum", "none"}, default "mean"
        Mean over triplets; mean over the triplets with a non-zero term
        (pytorch-metric-learning's default ``AvgNonZeroReducer``); sum; per-triplet
        vector. An empty triplet set gives 0.
    return_stats : bool, default False
        With a :class:`LossStats` whose pair counts are the number of triplets.

    Returns
    -------
    loss : torch.Tensor
    stats : LossStats, only with ``return_stats=True``

    Notes
    -----
    Per triplet: [d(a, p) - d(a, n) + margin]_+ (Weinberger and Saul, JMLR 2009;
    Schroff, Kalenichenko and Philbin, CVPR 2015).

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([[0.0], [1.0], [1.5]])
    >>> float(triplet_margin_loss(z, ([0], [1], [2]), margin=1.0))  # 1 - 1.5 + 1
    0.5
    """
    check_one_of(metric, DISTANCE_METRICS, name="metric")
    reducer = get_reducer(reduction, TRIPLET_REDUCTIONS)
    margin = check_positive_real(margin, name="margin", allow_zero=True)
    emb, ref = resolve_refs(embeddings, ref_embeddings)
    a, p, n = as_triplets(indices_tuple, emb.shape[0], ref.shape[0], emb.device)
    emb_n = maybe_normalize(emb, normalize)
    ref_n = emb_n if ref is emb else maybe_normalize(ref, normalize)
    d = pair_distances(emb_n, ref_n, torch.cat([a, a]), torch.cat([p, n]), metric)
    d_ap, d_an = d[: a.numel()], d[a.numel():]
    violation = d_ap - d_an + margin
    terms = torch.nn.functional.softplus(violation) if smooth else torch.relu(violation)
    out = reducer(terms, like=(emb, ref))
    return (out, make_stats(a, p, a, n, emb.shape[0])) if return_stats else out


class TripletMarginLoss(FunctionalLoss, loss_fn=triplet_margin_loss,
                        reductions=TRIPLET_REDUCTIONS):
    """Module form of :func:`triplet_margin_loss` with running empty-set counters.

    Examples
    --------
    >>> import torch
    >>> loss_fn = TripletMarginLoss(margin=0.5)
    >>> float(loss_fn(torch.zeros(2, 2), ([], [], [])))
    0.0
    >>> loss_fn.n_empty_pos
    1
    """

    tuple_kind = "triplets"
