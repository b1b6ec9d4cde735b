"""InfoNCE with several graph positives per anchor (supervised-contrastive style)."""

from __future__ import annotations

import torch

from .._validation import check_one_of
from ._common import (
    SIMILARITY_METRICS,
    FunctionalLoss,
    as_pairs,
    check_positive_real,
    make_stats,
    pair_similarities,
    resolve_refs,
    segment_logsumexp,
    split_pair_values,
)
from ._reducers import ACTIVE_MEAN, NONE, SUM, get_reducer

__all__ = ["InfoNCELoss", "info_nce_loss"]

INFONCE_VARIANTS = ("supcon_out", "supcon_in", "ntxent")
#: reduction name -> reducer of the terms ("active": the anchors with a positive; every
#: term of the per-positive-pair ``ntxent``)
INFONCE_REDUCTIONS = {"mean": ACTIVE_MEAN, "sum": SUM, "none": NONE}


def info_nce_loss(
    embeddings,
    indices_tuple,
    ref_embeddings=None,
    *,
    temperature: float = 0.1,
    metric: str = "cosine",
    variant: str = "supcon_out",
    reduction: str = "mean",
    return_stats: bool = False,
):
    r"""InfoNCE where an anchor's positives are all its graph neighbours in the batch.

    Parameters
    ----------
    embeddings : torch.Tensor of shape (n_anchors, dim)
        Anchor embeddings; float16/bfloat16 inputs are computed in float32.
    indices_tuple : tuple
        ``(a1, p, a2, n)`` pairs or ``(a, p, n)`` triplets; anchor i's candidates
        are the refs of all its positive and negative pairs.
    ref_embeddings : torch.Tensor of shape (n_refs, dim), optional
    temperature : float, default 0.1
    metric : {"cosine", "dot"}, default "cosine"
    variant : {"supcon_out", "supcon_in", "ntxent"}, default "supcon_out"
        How several positives are combined (Khosla et al. 2020 name the first two
        L_out and L_in); see Notes.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: over anchors that have at least one positive (for ``"ntxent"``:
        over positive pairs). ``"none"``: per-anchor vector (0 for anchors without
        positives); for ``"ntxent"`` the per-positive-pair vector.
    return_stats : bool, default False

    Returns
    -------
    loss : torch.Tensor
    stats : LossStats, only with ``return_stats=True``

    Notes
    -----
    With s_ij = sim(z_i, z_j)/T, positives P_i and negatives N_i of anchor i, and
    D_i = P_i + N_i:

    * ``supcon_out``: ``L_i = -(1/|P_i|) sum_{p in P_i} [s_ip - logsumexp_{j in D_i} s_ij]``
    * ``supcon_in``:  ``L_i = -log[(1/|P_i|) sum_{p in P_i} exp(s_ip) / sum_{j in D_i} exp(s_ij)]``
    * ``ntxent``: per positive pair, -log[exp(s_ip) / (exp(s_ip) + sum_{n in N_i} exp(s_in))]
      (each positive competes only with the anchor's negatives; van den Oord et al.
      2018, Chen et al. 2020).

    Anchors without positives have no term (counted in the stats), so the loss
    is never NaN; an anchor without negatives is well defined.

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> # anchor 0: positive 1, negative 2; cosine sims 1 and 0, T = 1
    >>> loss = info_nce_loss(z, ([0], [1], [0], [2]), temperature=1.0)
    >>> round(float(loss), 4)  # -log(e / (e + 1))
    0.3133
    """
    check_one_of(metric, SIMILARITY_METRICS, name="metric")
    check_one_of(variant, INFONCE_VARIANTS, name="variant")
    reducer = get_reducer(reduction, INFONCE_REDUCTIONS)
    temperature = check_positive_real(temperature, name="temperature")
    emb, ref = resolve_refs(embeddings, ref_embeddings)
    n_anchors = emb.shape[0]
    a1, p, a2, n = as_pairs(indices_tuple, n_anchors, ref.shape[0], emb.device)
    s_pos, s_neg = split_pair_values(pair_similarities, emb, ref, a1, p, a2, n, metric)
    s_pos, s_neg = s_pos / temperature, s_neg / temperature
    stats = make_stats(a1, p, a2, n, n_anchors)

    if variant == "ntxent":
        lse_neg = segment_logsumexp(s_neg, a2, n_anchors, add_zero=False)
        terms = torch.nn.functional.softplus(lse_neg[a1] - s_pos)  # -log(e^s/(e^s + sum))
        out = reducer(terms, like=(emb, ref))
    else:
        lse_all = segment_logsumexp(
            torch.cat([s_pos, s_neg]), torch.cat([a1, a2]), n_anchors, add_zero=False
        )
        n_pos = torch.bincount(a1, minlength=n_anchors).to(emb.dtype)
        has_pos = n_pos > 0
        if variant == "supcon_out":
            summed = torch.zeros(n_anchors, dtype=emb.dtype, device=emb.device)
            summed = summed.index_add(0, a1, s_pos - lse_all[a1])
            per_anchor = -summed / n_pos.clamp_min(1.0)
        else:
            lse_pos = segment_logsumexp(s_pos, a1, n_anchors, add_zero=False)
            log_n = torch.log(n_pos.clamp_min(1.0))
            per_anchor = torch.where(
                has_pos, -(lse_pos - log_n - lse_all), torch.zeros_like(lse_all)
            )
        out = reducer(per_anchor, like=(emb, ref), active=has_pos)
    return (out, stats) if return_stats else out


class InfoNCELoss(FunctionalLoss, loss_fn=info_nce_loss, reductions=INFONCE_REDUCTIONS):
    """Module form of :func:`info_nce_loss` with running empty-set counters.

    Examples
    --------
    >>> import torch
    >>> loss_fn = InfoNCELoss(temperature=0.5)
    >>> float(loss_fn(torch.ones(2, 2), ([], [], [0], [1])))  # no positives at all
    0.0
    >>> loss_fn.n_empty_pos
    1
    """
