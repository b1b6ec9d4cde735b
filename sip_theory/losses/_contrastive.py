"""Contrastive margin loss (Hadsell, Chopra and LeCun 2006) on graph-derived pairs."""

from __future__ import annotations

import torch

from .._validation import check_one_of
from ._common import (
    DISTANCE_METRICS,
    FunctionalLoss,
    as_pairs,
    check_positive_real,
    distance_matrix,
    make_stats,
    maybe_normalize,
    pair_count_matrix,
    pair_distances,
    resolve_refs,
    split_pair_values,
    use_dense_pairs,
)
from ._reducers import AVG_NONZERO, JOINT_MEAN, MEAN, NONE, SUM, get_reducer

__all__ = ["ContrastiveMarginLoss", "contrastive_margin_loss"]

#: reduction name -> reducer, over the two parts (positive terms, negative terms)
CONTRASTIVE_REDUCTIONS = {
    "paper": MEAN, "half": JOINT_MEAN, "avg_nonzero": AVG_NONZERO, "sum": SUM, "none": NONE,
}


def contrastive_margin_loss(
    embeddings,
    indices_tuple,
    ref_embeddings=None,
    *,
    pos_margin: float = 0.0,
    neg_margin: float = 10.0,
    metric: str = "euclidean",
    normalize: bool = False,
    reduction: str = "paper",
    return_stats: bool = False,
):
    r"""Contrastive margin loss over linked (positive) and unlinked (negative) pairs.

    Parameters
    ----------
    embeddings : torch.Tensor of shape (n_anchors, dim)
        Anchor embeddings; float16/bfloat16 inputs are computed in float32.
    indices_tuple : tuple
        ``(a1, p, a2, n)`` pairs or ``(a, p, n)`` triplets (see
        :mod:`sip_theory.losses`), e.g. from :func:`sample_pairs` or :func:`batch_pairs`.
    ref_embeddings : torch.Tensor of shape (n_refs, dim), optional
        Rows indexed by ``p`` and ``n``; default ``embeddings``.
    pos_margin, neg_margin : float, default 0 and 10
        mu+ and mu- (the paper's synthetic experiments use 0 and 10).
    metric : {"euclidean", "sqeuclidean", "cosine"}, default "euclidean"
        Pair distance; ``"euclidean"`` is the *unsquared* distance of the paper.
    normalize : bool, default False
        L2-normalize the embeddings first (pytorch-metric-learning's default
        ``LpDistance`` does; the paper does not).
    reduction : {"paper", "half", "avg_nonzero", "sum", "none"}, default "paper"
        ``"paper"``: mean over positive pairs plus mean over negative pairs; with one
        positive and one negative per anchor this is the paper's
        (1/B) sum_i ([d(a_i, p_i) - mu+]_+ + [mu- - d(a_i, n_i)]_+).
        ``"half"``: mean over the concatenated vector of all pair terms (the
        official code's normalization, half the paper's value when there are as
        many positive as negative pairs). ``"avg_nonzero"``: mean over the
        non-zero positive terms plus mean over the non-zero negative terms
        (pytorch-metric-learning's default ``AvgNonZeroReducer``).
        ``"sum"``: plain sum. ``"none"``: the tuple ``(pos_terms, neg_terms)``.
        Means over empty sets are 0.
    return_stats : bool, default False
        Also return a :class:`LossStats` with the pair counts.

    Returns
    -------
    loss : torch.Tensor (scalar) or tuple of tensors for ``reduction="none"``
    stats : LossStats, only with ``return_stats=True``

    Raises
    ------
    ValueError
        Negative margins, ``pos_margin >= neg_margin``, unknown option, indices
        out of range.

    Notes
    -----
    Per pair, with distance d: positive term [d - mu+]_+, negative term
    [mu- - d]_+ (Hadsell et al., CVPR 2006; the SIPT paper, McDermott et al. 2023,
    uses the unsquared Euclidean distance). If the loss over *all* pairs of a
    graph is below ``(mu- - mu+) / (2 M)`` for per-pair weight 1/M, the radius
    graph at r = (mu+ + mu-)/2 equals the graph (theory.md section 5). An empty
    positive or negative set contributes 0, never NaN; the counts are in ``stats``.

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]])
    >>> # pair (0, 1) linked, pair (0, 2) unlinked
    >>> loss = contrastive_margin_loss(z, ([0], [1], [0], [2]), pos_margin=0.5, neg_margin=10.0)
    >>> round(float(loss), 4)  # (1 - 0.5) + (10 - 5)
    5.5
    """
    check_one_of(metric, DISTANCE_METRICS, name="metric")
    reducer = get_reducer(reduction, CONTRASTIVE_REDUCTIONS)
    pos_margin = check_positive_real(pos_margin, name="pos_margin", allow_zero=True)
    neg_margin = check_positive_real(neg_margin, name="neg_margin", allow_zero=True)
    if pos_margin >= neg_margin:
        raise ValueError(
            f"pos_margin must be < neg_margin, got pos_margin={pos_margin}, neg_margin={neg_margin}"
        )
    emb, ref = resolve_refs(embeddings, ref_embeddings)
    a1, p, a2, n = as_pairs(indices_tuple, emb.shape[0], ref.shape[0], emb.device)
    emb_n = maybe_normalize(emb, normalize)
    ref_n = emb_n if ref is emb else maybe_normalize(ref, normalize)

    n_rows, n_refs = emb.shape[0], ref.shape[0]
    if reducer is not NONE and use_dense_pairs(a1.numel() + a2.numel(), n_rows, n_refs):
        out = _dense_contrastive(emb_n, ref_n, a1, p, a2, n, pos_margin, neg_margin, metric,
                                 reducer)
    else:
        d_pos, d_neg = split_pair_values(pair_distances, emb_n, ref_n, a1, p, a2, n, metric)
        pos = torch.relu(d_pos - pos_margin)
        neg = torch.relu(neg_margin - d_neg)
        out = reducer((pos, neg), like=(emb, ref))
    return (out, make_stats(a1, p, a2, n, n_rows)) if return_stats else out


def _dense_contrastive(emb, ref, a1, p, a2, n, pos_margin, neg_margin, metric, reducer):
    """The same loss on (rows, refs) matrices, used when the tuple lists most pairs.

    Pair counts weight the dense terms and the reducer's weights scale the two
    parts, so the value equals the pair-list form.
    For the Euclidean distance the gradient is computed in closed form, with
    C = dL/dD and H = C / D (0 where D = 0): dL/dx_i = sum_j H_ij (x_i - y_j),
    i.e. two matrix products instead of a pairwise-distance backward pass, and
    attached through the linear surrogate <x, g_x> + <y, g_y>.
    """
    n_rows, n_refs = emb.shape[0], ref.shape[0]
    euclid = metric == "euclidean"
    if euclid:
        with torch.no_grad():
            d = torch.cdist(emb, ref)
    else:
        d = distance_matrix(emb, ref, metric)
    n_pos, n_neg = a1.numel(), a2.numel()
    with torch.no_grad():
        dd = d.detach()
        # active (violating) pairs, weighted by their multiplicity
        # (with mu+ = 0 a pair at d = 0 adds 0 to the value and, below, to the gradient,
        # so only the reducer's count of non-zero terms needs them dropped)
        need_k_pos = pos_margin > 0 or reducer.needs_nonzero
        act_pos = pair_count_matrix(a1, p, n_rows, n_refs, dd.dtype)
        if need_k_pos:
            act_pos.masked_fill_(dd <= pos_margin, 0.0)
        act_neg = pair_count_matrix(a2, n, n_rows, n_refs, dd.dtype)
        act_neg.masked_fill_(dd >= neg_margin, 0.0)
        k_pos = act_pos.sum() if need_k_pos else 0.0
        k_neg = act_neg.sum()
        # each part's weight, from its number of terms or, for a reducer of the non-zero
        # terms, its number of active pairs (the pairs with a non-zero term)
        counts = (float(k_pos), float(k_neg)) if reducer.needs_nonzero else (n_pos, n_neg)
        c_pos, c_neg = reducer.weights(counts)
        coef = act_pos.mul_(c_pos).sub_(act_neg, alpha=c_neg)  # dL/dD
        # L = sum P (d - mu+) + sum N (mu- - d) = <P - N, d> - mu+ sum P + mu- sum N
        value = (torch.dot(coef.view(-1), dd.reshape(-1)) - pos_margin * c_pos * k_pos
                 + neg_margin * c_neg * k_neg)
    if euclid:
        with torch.no_grad():
            # H = C / D, and 0 where D = 0 (the norm's gradient at 0 is taken as 0)
            h = coef.div_(dd).nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)
            # dL/dx_i = sum_j H_ij (x_i - y_j); dL/dy_j = sum_i H_ij (y_j - x_i); one product
            # each also yields the row / column sums of H (ones column appended)
            e1 = torch.cat([emb.detach(), emb.new_ones(n_rows, 1)], dim=1)
            r1 = torch.cat([ref.detach(), ref.new_ones(n_refs, 1)], dim=1)
            hy = h @ r1
            hx = h.T @ e1
            g_emb = hy[:, -1:] * emb.detach() - hy[:, :-1]
            g_ref = hx[:, -1:] * ref.detach() - hx[:, :-1]
        # a linear surrogate whose gradient is exactly (g_emb, g_ref)
        surrogate = (emb * g_emb).sum() + (ref * g_ref).sum()
    else:
        surrogate = (coef * d).sum()
    return value + (surrogate - surrogate.detach())


class ContrastiveMarginLoss(FunctionalLoss, loss_fn=contrastive_margin_loss,
                            reductions=CONTRASTIVE_REDUCTIONS):
    """Module form of :func:`contrastive_margin_loss` with running empty-set counters.

    Parameters are those of :func:`contrastive_margin_loss`. Calling the module
    with ``(embeddings, indices_tuple, ref_embeddings=None)`` returns the loss and
    updates :attr:`n_empty_pos`, :attr:`n_empty_neg` and :attr:`last_stats`.

    Examples
    --------
    >>> import torch
    >>> loss_fn = ContrastiveMarginLoss(pos_margin=0.0, neg_margin=1.0)
    >>> z = torch.zeros(2, 3, requires_grad=True)
    >>> float(loss_fn(z, ([], [], [0], [1])).detach())  # no positive pair: that part is 0
    1.0
    >>> loss_fn.n_empty_pos
    1
    """
