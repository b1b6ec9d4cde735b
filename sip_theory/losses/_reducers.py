"""Reducers: how a loss's terms become the loss (kept apart from the losses, as in
pytorch-metric-learning).

A loss computes its terms in one or more *parts* (its positive-pair and
negative-pair terms, or one term per anchor row or per triplet) and hands them
to a :class:`Reducer`, which picks the terms that count in each part and scales
their sums:

* which terms: ``"all"``, the ``"nonzero"`` ones (pytorch-metric-learning's
  ``AvgNonZeroReducer``), or the ``"active"`` ones the loss marks (e.g. the
  anchor rows that have a pair);
* how: the ``"mean"`` of each part, summed over the parts (PML's ``MeanReducer``
  applied to each sub-loss); the ``"joint_mean"`` of all parts' terms together;
  their ``"sum"``; or ``"none"`` (the terms themselves).

A path that never forms the terms (the dense contrastive form works on
matrices) asks the same reducer for :meth:`Reducer.weights`, the factor of each
part's sum, so both paths share one definition:
``reducer(parts) == sum_k weights[k] * sum(selected terms of part k)``.
A mean over no terms is 0, never NaN, and every reduced loss stays connected to
the inputs' autograd graphs, so ``backward`` works on an empty batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._validation import check_one_of

__all__ = [
    "ACTIVE_MEAN",
    "AVG_NONZERO",
    "JOINT_MEAN",
    "MEAN",
    "NONE",
    "SUM",
    "Reducer",
    "get_reducer",
    "zero_like_graph",
]

SELECTIONS = ("all", "nonzero", "active")
SCALES = ("mean", "joint_mean", "sum", "none")


def zero_like_graph(*tensors: torch.Tensor) -> torch.Tensor:
    """A zero scalar connected to the inputs' graphs (so ``backward`` works)."""
    out = None
    for t in tensors:
        z = t.sum() * 0.0
        out = z if out is None else out + z
    return out


@dataclass(frozen=True)
class Reducer:
    """One reduction: which terms of each part count, and how their sums are scaled.

    Parameters
    ----------
    select : {"all", "nonzero", "active"}, default "all"
        ``"active"`` keeps the terms under the masks the loss passes as ``active``
        (all terms where it passes none).
    scale : {"mean", "joint_mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import torch
    >>> pos, neg = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0, 6.0])
    >>> like = torch.zeros(1)
    >>> float(MEAN((pos, neg), like=(like,)))  # 2 + 2
    4.0
    >>> float(AVG_NONZERO((pos, neg), like=(like,))), float(JOINT_MEAN((pos, neg), like=(like,)))
    (8.0, 2.0)
    >>> MEAN.weights((2, 3)), AVG_NONZERO.needs_nonzero
    ((0.5, 0.3333333333333333), True)
    """

    select: str = "all"
    scale: str = "mean"

    def __post_init__(self):
        check_one_of(self.select, SELECTIONS, name="select")
        check_one_of(self.scale, SCALES, name="scale")

    @property
    def needs_nonzero(self) -> bool:
        """Whether :meth:`weights` takes the counts of the non-zero terms."""
        return self.select == "nonzero"

    @property
    def needs_active(self) -> bool:
        """Whether the reduction reads the loss's ``active`` masks."""
        return self.select == "active"

    def weights(self, counts) -> tuple[float, ...]:
        """The factor of each part's sum of selected terms, from their counts.

        ``counts[k]`` is the number of terms of part k that the reducer selects (all
        of them, the non-zero ones or the active ones); a part or a whole set
        without terms gets weight 0.
        """
        if self.scale == "none":
            raise ValueError("reduction 'none' keeps the terms; it has no weights")
        if self.scale == "sum":
            return (1.0,) * len(counts)
        if self.scale == "mean":
            return tuple(1.0 / c if c else 0.0 for c in counts)
        total = sum(counts)
        return (1.0 / total if total else 0.0,) * len(counts)

    def __call__(self, parts, *, like, active=None):
        """Reduce ``parts`` (a tensor of terms, or a tuple of them).

        Parameters
        ----------
        parts : torch.Tensor or tuple of torch.Tensor
        like : tuple of torch.Tensor
            The inputs the result must stay connected to (embeddings, ref_embeddings).
        active : torch.Tensor of bool or tuple of them, optional
            Masks of the terms that count for ``select="active"`` (one per part).

        Returns
        -------
        torch.Tensor
            A scalar; for ``scale="none"`` the parts, unchanged.
        """
        if self.scale == "none":
            return parts
        single = isinstance(parts, torch.Tensor)
        parts = (parts,) if single else tuple(parts)
        if self.select == "nonzero":
            parts = tuple(p[p > 0] for p in parts)
        elif self.select == "active" and active is not None:
            active = (active,) if single else tuple(active)
            parts = tuple(p[m] for p, m in zip(parts, active, strict=True))
        if self.scale == "joint_mean" and len(parts) > 1:
            parts = (torch.cat(parts),)
        out = None
        for p in parts:
            if p.numel():
                v = p.sum() if self.scale == "sum" else p.mean()
                out = v if out is None else out + v
        zero = zero_like_graph(*like)
        return zero if out is None else out + zero


#: mean of each part, summed (the SIPT paper's "mean over positives + mean over negatives")
MEAN = Reducer("all", "mean")
#: mean over the terms of all parts together
JOINT_MEAN = Reducer("all", "joint_mean")
#: mean of each part's non-zero terms, summed (pytorch-metric-learning's default)
AVG_NONZERO = Reducer("nonzero", "mean")
#: mean over the terms the loss marks active (e.g. the anchors that have a pair)
ACTIVE_MEAN = Reducer("active", "mean")
#: plain sum of every term
SUM = Reducer("all", "sum")
#: the terms themselves
NONE = Reducer("all", "none")


def get_reducer(reduction: str, table: dict) -> Reducer:
    """The reducer a loss's ``reduction`` option names in its ``table`` (name -> Reducer)."""
    check_one_of(reduction, tuple(table), name="reduction")
    return table[reduction]
