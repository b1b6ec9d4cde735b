"""Triplet margin loss (Weinberger and Saul 2009; Schroff et al. 2015) on graph-derived triplets."""

from __future__ import annotations

import torch

from .._validation import check_one_of
from ._common import (
    DISTANCE_METRICS,
    CountingLoss,
    as_triplets,
    check_positive_real,
    make_stats,
    maybe_normalize,
    pair_distances,
    resolve_refs,
    zero_like_graph,
)

__all__ = ["TripletMarginLoss", "triplet_margin_loss"]

TRIPLET_REDUCTIONS = ("mean", "avg_nonzero", "sum", "none")


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
    check_one_of(reduction, TRIPLET_REDUCTIONS, name="reduction")
    margin = check_positive_real(margin, name="margin", allow_zero=True)
    emb, ref = resolve_refs(embeddings, ref_embeddings)
    a, p, n = as_triplets(indices_tuple, emb.shape[0], ref.shape[0], emb.device)
    emb_n = maybe_normalize(emb, normalize)
    ref_n = emb_n if ref is emb else maybe_normalize(ref, normalize)
    d = pair_distances(emb_n, ref_n, torch.cat([a, a]), torch.cat([p, n]), metric)
    d_ap, d_an = d[: a.numel()], d[a.numel():]
    violation = d_ap - d_an + margin
    terms = torch.nn.functional.softplus(violation) if smooth else torch.relu(violation)
    if reduction == "none":
        out = terms
    elif reduction == "sum":
        out = terms.sum() + zero_like_graph(emb, ref)
    else:
        kept = terms[terms > 0] if reduction == "avg_nonzero" else terms
        out = kept.mean() if kept.numel() else zero_like_graph(emb, ref)
    if return_stats:
        return out, make_stats(a, p, a, n, emb.shape[0])
    return out


class TripletMarginLoss(CountingLoss):
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

    def __init__(
        self,
        *,
        margin: float = 1.0,
        metric: str = "euclidean",
        normalize: bool = False,
        smooth: bool = False,
        reduction: str = "mean",
    ):
        super().__init__()
        check_one_of(reduction, TRIPLET_REDUCTIONS[:-1], name="reduction")
        self.kwargs = dict(
            margin=margin, metric=metric, normalize=normalize, smooth=smooth, reduction=reduction
        )
        triplet_margin_loss(torch.zeros(1, 1), ([], [], []), **self.kwargs)

    def forward(self, embeddings, indices_tuple, ref_embeddings=None):
        loss, stats = triplet_margin_loss(
            embeddings, indices_tuple, ref_embeddings, return_stats=True, **self.kwargs
        )
        self._record(stats)
        return loss

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
