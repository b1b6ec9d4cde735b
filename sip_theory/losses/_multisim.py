"""Multi-similarity loss (Wang, Han, Huang, Dong and Scott, CVPR 2019) on graph-derived pairs."""

from __future__ import annotations

import torch

from .._validation import check_one_of
from ._common import (
    SIMILARITY_METRICS,
    FunctionalLoss,
    anchor_counts,
    as_pairs,
    check_positive_real,
    check_real,
    make_stats,
    pair_similarities,
    resolve_refs,
    segment_logsumexp,
    split_pair_values,
)
from ._reducers import ACTIVE_MEAN, MEAN, NONE, SUM, get_reducer, zero_like_graph

__all__ = ["MultiSimilarityLoss", "mine_multi_similarity_pairs", "multi_similarity_loss"]

MS_FORMS = ("per_anchor", "global")
#: reduction name -> reducer of the per-anchor terms ("active": anchors with a pair)
MS_REDUCTIONS = {"mean": MEAN, "anchor_mean": ACTIVE_MEAN, "sum": SUM, "none": NONE}


def _segment_extreme(values, seg, n_seg, reduce: str):
    fill = float("-inf") if reduce == "amax" else float("inf")
    out = torch.full((n_seg,), fill, dtype=values.dtype, device=values.device)
    if values.numel():
        out = out.scatter_reduce(0, seg, values, reduce=reduce, include_self=True)
    return out


def mine_multi_similarity_pairs(s_pos, s_neg, a1, a2, n_anchors: int, *, epsilon: float = 0.1):
    """Boolean keep-masks of the multi-similarity pair mining (Wang et al. 2019, eq. 7-8).

    A negative pair ``(i, n)`` is kept when ``s_in + epsilon > min_p s_ip`` (it is
    more similar than the anchor's least similar positive, up to ``epsilon``); a
    positive pair ``(i, p)`` is kept when ``s_ip - epsilon < max_n s_in``. An
    anchor without positives keeps no negatives and vice versa. Selection uses
    detached similarities.

    Parameters
    ----------
    s_pos, s_neg : torch.Tensor
        Similarities of the positive pairs ``(a1, p)`` and negative pairs ``(a2, n)``.
    a1, a2 : torch.Tensor
        Anchor rows of the positive and negative pairs.
    n_anchors : int
    epsilon : float, default 0.1

    Returns
    -------
    keep_pos, keep_neg : torch.Tensor of bool

    Examples
    --------
    >>> import torch
    >>> keep_pos, keep_neg = mine_multi_similarity_pairs(
    ...     torch.tensor([0.9, 0.2]), torch.tensor([0.5, 0.0]),
    ...     torch.tensor([0, 0]), torch.tensor([0, 0]), 1, epsilon=0.1)
    >>> keep_pos.tolist(), keep_neg.tolist()
    ([False, True], [True, False])
    """
    s_pos, s_neg = s_pos.detach(), s_neg.detach()
    min_pos = _segment_extreme(s_pos, a1, n_anchors, "amin")
    max_neg = _segment_extreme(s_neg, a2, n_anchors, "amax")
    keep_neg = s_neg + epsilon > min_pos[a2]
    keep_pos = s_pos - epsilon < max_neg[a1]
    return keep_pos, keep_neg


def multi_similarity_loss(
    embeddings,
    indices_tuple,
    ref_embeddings=None,
    *,
    alpha: float = 2.0,
    beta: float = 50.0,
    base: float = 0.5,
    metric: str = "cosine",
    form: str = "per_anchor",
    mining: bool = False,
    epsilon: float = 0.1,
    reduction: str = "mean",
    return_stats: bool = False,
):
    r"""Multi-similarity loss over linked (positive) and unlinked (negative) pairs.

    Parameters
    ----------
    embeddings : torch.Tensor of shape (n_anchors, dim)
        Anchor embeddings; float16/bfloat16 inputs are computed in float32.
    indices_tuple : tuple
        ``(a1, p, a2, n)`` pairs or ``(a, p, n)`` triplets.
    ref_embeddings : torch.Tensor of shape (n_refs, dim), optional
        Rows indexed by ``p`` and ``n``; default ``embeddings``.
    alpha, beta : float, default 2 and 50
        Positive and negative scales (w+ and w- of the permissibility lemma).
    base : float, default 0.5
        Similarity threshold lambda (t in theory.md).
    metric : {"cosine", "dot"}, default "cosine"
    form : {"per_anchor", "global"}, default "per_anchor"
        ``"per_anchor"``: one term per anchor row (Wang et al. 2019; the form of
        pytorch-metric-learning). ``"global"``: a single log-sum over *all*
        positive pairs of the batch and a single one over all negative pairs
        (the form written in the SIPT paper); ``reduction`` is then ignored.
    mining : bool, default False
        Apply :func:`mine_multi_similarity_pairs` first (per-anchor mining;
        with ``form="global"`` the mined pairs enter the global sums).
    epsilon : float, default 0.1
        Mining margin.
    reduction : {"mean", "anchor_mean", "sum", "none"}, default "mean"
        Per-anchor form: mean over *all* anchor rows (anchors without pairs count
        as 0, as pytorch-metric-learning's ``MeanReducer``), mean over anchors with
        at least one pair, sum, or the per-anchor vector.
    return_stats : bool, default False

    Returns
    -------
    loss : torch.Tensor
    stats : LossStats, only with ``return_stats=True`` (counts after mining)

    Notes
    -----
    Per anchor i with positive pairs P_i and negative pairs N_i, similarity s:

    .. math::
        L_i = \frac{1}{\alpha}\log\Big(1 + \sum_{p\in P_i} e^{-\alpha(s_{ip}-\lambda)}\Big)
            + \frac{1}{\beta}\log\Big(1 + \sum_{n\in N_i} e^{\beta(s_{in}-\lambda)}\Big).

    An empty sum gives log 1 = 0, so anchors without pairs contribute 0, never NaN.
    The global form replaces P_i, N_i by all positive / negative pairs. Pairs are a
    multiset: a pair listed twice counts twice (pytorch-metric-learning builds
    0/1 masks and so counts it once; feed unique pairs for parity). Permissibility
    (theory.md section 5): if an anchor's positive term is below log(2)/alpha, all its
    linked similarities exceed lambda; if its negative term is below log(2)/beta, all
    its unlinked similarities are below lambda.

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> loss = multi_similarity_loss(z, ([0], [1], [0], [2]), reduction="sum")
    >>> round(float(loss), 4)  # (1/2) log(1 + e^{-1}) + (1/50) log(1 + e^{-25})
    0.1566
    """
    check_one_of(metric, SIMILARITY_METRICS, name="metric")
    check_one_of(form, MS_FORMS, name="form")
    reducer = get_reducer(reduction, MS_REDUCTIONS)
    alpha = check_positive_real(alpha, name="alpha")
    beta = check_positive_real(beta, name="beta")
    base = check_real(base, name="base")
    epsilon = check_real(epsilon, name="epsilon")
    emb, ref = resolve_refs(embeddings, ref_embeddings)
    n_anchors = emb.shape[0]
    a1, p, a2, n = as_pairs(indices_tuple, n_anchors, ref.shape[0], emb.device)
    s_pos, s_neg = split_pair_values(pair_similarities, emb, ref, a1, p, a2, n, metric)
    if mining:
        keep_pos, keep_neg = mine_multi_similarity_pairs(
            s_pos, s_neg, a1, a2, n_anchors, epsilon=epsilon
        )
        s_pos, a1, p = s_pos[keep_pos], a1[keep_pos], p[keep_pos]
        s_neg, a2, n = s_neg[keep_neg], a2[keep_neg], n[keep_neg]

    x_pos = -alpha * (s_pos - base)
    x_neg = beta * (s_neg - base)
    if form == "global":
        zero = zero_like_graph(emb, ref)
        pos_term = torch.logsumexp(torch.cat([x_pos, x_pos.new_zeros(1)]), 0) / alpha
        neg_term = torch.logsumexp(torch.cat([x_neg, x_neg.new_zeros(1)]), 0) / beta
        out = pos_term + neg_term + zero
    else:
        per_anchor = segment_logsumexp(x_pos, a1, n_anchors, add_zero=True) / alpha
        per_anchor = per_anchor + segment_logsumexp(x_neg, a2, n_anchors, add_zero=True) / beta
        active = None
        if reducer.needs_active:  # the anchors with at least one pair
            has_pos, has_neg = anchor_counts(a1, a2, n_anchors)
            active = has_pos | has_neg
        out = reducer(per_anchor, like=(emb, ref), active=active)
    return (out, make_stats(a1, p, a2, n, n_anchors)) if return_stats else out


class MultiSimilarityLoss(FunctionalLoss, loss_fn=multi_similarity_loss,
                          reductions=MS_REDUCTIONS):
    """Module form of :func:`multi_similarity_loss` with running empty-set counters.

    Examples
    --------
    >>> import torch
    >>> loss_fn = MultiSimilarityLoss()
    >>> z = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    >>> float(loss_fn(z, ([], [], [], [])))
    0.0
    >>> loss_fn.n_empty_pos, loss_fn.n_empty_neg
    (1, 1)
    """
