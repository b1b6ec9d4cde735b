"""Shared pieces of the structure-inducing losses: input checks, index tuples,
pair distances, per-anchor segment reductions, the loss statistics record and
the module forms' base classes (the reductions are in :mod:`._reducers`).

Every loss takes ``embeddings`` (anchor rows), an optional ``ref_embeddings``
(the rows that positives and negatives index; default: the anchors themselves)
and an ``indices_tuple`` that says which pairs are linked in the graph. The
tuple has the pytorch-metric-learning layout, so tuples can be fed to either
library:

* pairs ``(a1, p, a2, n)``: ``(a1[k], p[k])`` is a positive (linked) pair and
  ``(a2[k], n[k])`` a negative (unlinked) pair; ``a*`` index ``embeddings`` and
  ``p``/``n`` index ``ref_embeddings``;
* triplets ``(a, p, n)``: anchor ``a[k]`` with positive ``p[k]`` and negative ``n[k]``.
"""

from __future__ import annotations

import dataclasses
import inspect
import numbers

import numpy as np
import torch

from .._serialization import ToDictMixin
from .._validation import check_one_of

__all__ = [
    "CountingLoss",
    "FunctionalLoss",
    "LossStats",
    "as_pairs",
    "as_triplets",
    "pair_distances",
    "pair_similarities",
]

DISTANCE_METRICS = ("euclidean", "sqeuclidean", "cosine")
SIMILARITY_METRICS = ("cosine", "dot")


@dataclasses.dataclass(frozen=True)
class LossStats(ToDictMixin):
    """Counts describing one evaluation of a structure-inducing loss.

    Attributes
    ----------
    n_anchors : int
        Number of anchor rows (``embeddings.shape[0]``).
    n_pos_pairs, n_neg_pairs : int
        Number of positive and negative pairs (or triplets, for the triplet loss,
        in ``n_pos_pairs`` and ``n_neg_pairs`` alike) that entered the loss.
    n_anchors_without_pos, n_anchors_without_neg : int
        Anchor rows that had no positive / no negative pair. For per-anchor
        losses their term is defined as 0 (never NaN).
    empty_pos, empty_neg : bool
        Whether the whole batch had no positive / no negative pair; the
        corresponding part of the loss is then 0.
    """

    n_anchors: int
    n_pos_pairs: int
    n_neg_pairs: int
    n_anchors_without_pos: int
    n_anchors_without_neg: int

    _to_dict_extra = ("empty_pos", "empty_neg")

    @property
    def empty_pos(self) -> bool:
        return self.n_pos_pairs == 0

    @property
    def empty_neg(self) -> bool:
        return self.n_neg_pairs == 0


# --------------------------------------------------------------------------- inputs
def check_embedding_tensor(x, *, name: str = "embeddings") -> torch.Tensor:
    """Check a 2-D floating tensor; upcast float16/bfloat16 to float32."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_rows, dim), got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating tensor, got dtype {x.dtype}")
    if x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()
    return x


def resolve_refs(embeddings, ref_embeddings):
    emb = check_embedding_tensor(embeddings, name="embeddings")
    if ref_embeddings is None:
        return emb, emb
    ref = check_embedding_tensor(ref_embeddings, name="ref_embeddings")
    if ref.shape[1] != emb.shape[1]:
        raise ValueError(
            f"ref_embeddings has dimension {ref.shape[1]} but embeddings has {emb.shape[1]}"
        )
    if ref.device != emb.device:
        raise ValueError("ref_embeddings and embeddings must be on the same device")
    if ref.dtype != emb.dtype:
        dtype = torch.promote_types(ref.dtype, emb.dtype)
        emb, ref = emb.to(dtype), ref.to(dtype)
    return emb, ref


def _as_index(x, *, name: str, bound: int, device) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x.to(device=device)
    else:
        arr = np.asarray(x)
        if arr.size == 0:
            arr = arr.astype(np.int64)
        if not arr.flags.writeable:
            arr = arr.copy()
        t = torch.as_tensor(arr, device=device)
    if t.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {tuple(t.shape)}")
    if t.numel() and (t.dtype.is_floating_point or t.dtype == torch.bool):
        raise TypeError(f"{name} must hold integer indices, got dtype {t.dtype}")
    t = t.long()
    if t.numel():
        lo, hi = (int(v) for v in torch.aminmax(t))
        if lo < 0 or hi >= bound:
            raise ValueError(f"{name} has indices outside [0, {bound}): min {lo}, max {hi}")
    return t


def as_pairs(indices_tuple, n_anchors: int, n_refs: int, device=None):
    """Normalize an indices tuple to pairs ``(a1, p, a2, n)`` of int64 tensors.

    Triplets ``(a, p, n)`` become ``(a, p, a, n)``.
    """
    if not isinstance(indices_tuple, (tuple, list)) or len(indices_tuple) not in (3, 4):
        raise TypeError(
            "indices_tuple must be a tuple (a1, p, a2, n) of pairs or (a, p, n) of triplets"
        )
    if len(indices_tuple) == 3:
        a, p, n = indices_tuple
        a1 = _as_index(a, name="indices_tuple[0] (anchors)", bound=n_anchors, device=device)
        p = _as_index(p, name="indices_tuple[1] (positives)", bound=n_refs, device=device)
        n = _as_index(n, name="indices_tuple[2] (negatives)", bound=n_refs, device=device)
        if not (a1.numel() == p.numel() == n.numel()):
            raise ValueError("triplet index arrays (a, p, n) must have equal lengths")
        return a1, p, a1, n
    a1, p, a2, n = indices_tuple
    a1 = _as_index(a1, name="indices_tuple[0] (positive anchors)", bound=n_anchors, device=device)
    p = _as_index(p, name="indices_tuple[1] (positives)", bound=n_refs, device=device)
    a2 = _as_index(a2, name="indices_tuple[2] (negative anchors)", bound=n_anchors, device=device)
    n = _as_index(n, name="indices_tuple[3] (negatives)", bound=n_refs, device=device)
    if a1.numel() != p.numel():
        raise ValueError(f"a1 and p must have equal lengths, got {a1.numel()} and {p.numel()}")
    if a2.numel() != n.numel():
        raise ValueError(f"a2 and n must have equal lengths, got {a2.numel()} and {n.numel()}")
    return a1, p, a2, n


def as_triplets(indices_tuple, n_anchors: int, n_refs: int, device=None):
    """Normalize an indices tuple to triplets ``(a, p, n)``.

    Pairs ``(a1, p, a2, n)`` become every triplet ``(a, p, n)`` with ``(a, p)``
    a positive and ``(a, n)`` a negative pair of the same anchor row (the
    convention of pytorch-metric-learning's ``convert_to_triplets`` with all
    triplets per anchor).
    """
    if isinstance(indices_tuple, (tuple, list)) and len(indices_tuple) == 3:
        a, p, _, n = as_pairs(indices_tuple, n_anchors, n_refs, device)
        return a, p, n
    a1, p, a2, n = as_pairs(indices_tuple, n_anchors, n_refs, device)
    if a1.numel() == 0 or a2.numel() == 0:
        empty = a1.new_zeros(0)
        return empty, empty, empty
    # join positives and negatives on the anchor row, vectorized: for each positive pair
    # (in the given order) every negative pair of the same anchor (in the given order)
    o2 = torch.argsort(a2, stable=True)
    ns = n[o2]
    cnt_n = torch.bincount(a2, minlength=n_anchors)
    start_n = torch.cumsum(cnt_n, 0) - cnt_n
    reps = cnt_n[a1]
    total = int(reps.sum())
    if total == 0:
        empty = a1.new_zeros(0)
        return empty, empty, empty
    pos_idx = torch.repeat_interleave(torch.arange(a1.numel(), device=a1.device), reps)
    first = torch.cumsum(reps, 0) - reps
    offset = torch.arange(total, device=a1.device) - first[pos_idx]
    neg_idx = start_n[a1[pos_idx]] + offset
    return a1[pos_idx], p[pos_idx], ns[neg_idx]


# ------------------------------------------------------------------------ distances
def maybe_normalize(x: torch.Tensor, normalize: bool) -> torch.Tensor:
    if normalize:
        return torch.nn.functional.normalize(x, p=2, dim=1)
    return x


def split_pair_values(fn, emb, ref, a1, p, a2, n, metric):
    """Evaluate ``fn`` on positive and negative pairs in one call; return both parts."""
    vals = fn(emb, ref, torch.cat([a1, a2]), torch.cat([p, n]), metric)
    return vals[: a1.numel()], vals[a1.numel():]


def _use_dense(n_pairs: int, n_rows: int, n_refs: int, dim: int) -> bool:
    """Whether one (n_rows, n_refs) matrix is cheaper than gathering the pair rows."""
    return n_pairs * dim > 2 * n_rows * n_refs


def pair_distances(emb, ref, ia, ib, metric: str, *, dense: bool | None = None):
    """Distances between ``emb[ia[k]]`` and ``ref[ib[k]]``.

    ``"euclidean"`` is the unsquared L2 distance (its gradient at distance 0 is
    defined as 0), ``"sqeuclidean"`` its square, ``"cosine"`` is ``1 - cos``.
    When there are many pairs (e.g. every pair of a batch) the full distance
    matrix is computed once and indexed, instead of gathering two rows per pair.
    """
    check_one_of(metric, DISTANCE_METRICS, name="metric")
    if metric == "cosine":
        return 1.0 - pair_similarities(emb, ref, ia, ib, "cosine", dense=dense)
    if dense is None:
        dense = _use_dense(ia.numel(), emb.shape[0], ref.shape[0], emb.shape[1])
    if dense and ia.numel():
        if metric == "euclidean":
            mat = torch.cdist(emb, ref, p=2.0)
        else:
            sq_e = (emb * emb).sum(1, keepdim=True)
            sq_r = (ref * ref).sum(1)
            mat = (sq_e + sq_r - 2.0 * emb @ ref.T).clamp_min(0.0)
        return mat[ia, ib]
    diff = emb[ia] - ref[ib]
    if metric == "sqeuclidean":
        return (diff * diff).sum(dim=1)
    return torch.linalg.vector_norm(diff, dim=1)


def pair_similarities(emb, ref, ia, ib, metric: str, *, dense: bool | None = None):
    """Similarities between ``emb[ia[k]]`` and ``ref[ib[k]]``: cosine or dot product."""
    check_one_of(metric, SIMILARITY_METRICS, name="metric")
    if metric == "cosine":
        emb = torch.nn.functional.normalize(emb, p=2, dim=1)
        ref = torch.nn.functional.normalize(ref, p=2, dim=1)
    if dense is None:
        dense = _use_dense(ia.numel(), emb.shape[0], ref.shape[0], emb.shape[1])
    if dense and ia.numel():
        return (emb @ ref.T)[ia, ib]
    return (emb[ia] * ref[ib]).sum(dim=1)


# ------------------------------------------------------------------ dense pair weights
#: Use the dense (n_rows, n_refs) formulation when the tuple lists at least this
#: fraction of all (row, ref) pairs (e.g. every pair of a batch).
DENSE_FRACTION = 0.25
#: ... and the matrix has at most this many entries.
DENSE_MAX_ENTRIES = 1 << 28


def use_dense_pairs(n_pairs: int, n_rows: int, n_refs: int) -> bool:
    """Whether a loss should work on (n_rows, n_refs) weight matrices instead of pair lists."""
    entries = n_rows * n_refs
    return 0 < entries <= DENSE_MAX_ENTRIES and n_pairs >= DENSE_FRACTION * entries


def pair_count_matrix(a, b, n_rows: int, n_refs: int, dtype) -> torch.Tensor:
    """How often each (row, ref) pair occurs in the lists ``a``, ``b`` (a dense matrix)."""
    out = torch.zeros(n_rows, n_refs, dtype=dtype, device=a.device)
    if a.numel():
        out.index_put_((a, b), torch.ones((), dtype=dtype, device=a.device), accumulate=True)
    return out


def distance_matrix(emb, ref, metric: str) -> torch.Tensor:
    """All (row, ref) distances; the Euclidean one has a zero gradient at distance 0."""
    check_one_of(metric, DISTANCE_METRICS, name="metric")
    if metric == "cosine":
        return 1.0 - similarity_matrix(emb, ref, "cosine")
    sq = ((emb * emb).sum(1, keepdim=True) + (ref * ref).sum(1)[None, :]
          - 2.0 * (emb @ ref.T)).clamp_min(0.0)
    if metric == "sqeuclidean":
        return sq
    pos = sq > 0
    return torch.where(pos, torch.where(pos, sq, torch.ones_like(sq)).sqrt(), torch.zeros_like(sq))


def similarity_matrix(emb, ref, metric: str) -> torch.Tensor:
    """All (row, ref) similarities: cosine or dot product."""
    check_one_of(metric, SIMILARITY_METRICS, name="metric")
    if metric == "cosine":
        emb = torch.nn.functional.normalize(emb, p=2, dim=1)
        ref = torch.nn.functional.normalize(ref, p=2, dim=1)
    return emb @ ref.T


def dense_stats(w_pos, w_neg) -> LossStats:
    """:class:`LossStats` from pair-count matrices."""
    n_rows = w_pos.shape[0]
    return LossStats(
        n_anchors=int(n_rows),
        n_pos_pairs=int(w_pos.sum()),
        n_neg_pairs=int(w_neg.sum()),
        n_anchors_without_pos=int((w_pos.sum(1) == 0).sum()),
        n_anchors_without_neg=int((w_neg.sum(1) == 0).sum()),
    )


# ----------------------------------------------------------------- segment reductions
def segment_logsumexp(values: torch.Tensor, seg: torch.Tensor, n_seg: int, *, add_zero: bool):
    """Per-segment ``log(sum exp)`` (``log(1 + sum exp)`` with ``add_zero``).

    Segments without any value get 0 when ``add_zero`` (log 1) and ``-inf``
    otherwise, with a zero (not NaN) gradient. Stable: the per-segment maximum
    is subtracted first.
    """
    fill = 0.0 if add_zero else float("-inf")
    m = torch.full((n_seg,), fill, dtype=values.dtype, device=values.device)
    if values.numel():
        m = m.scatter_reduce(0, seg, values.detach(), reduce="amax", include_self=add_zero)
    empty = ~torch.isfinite(m)
    m_safe = torch.where(empty, torch.zeros_like(m), m)
    s = torch.zeros(n_seg, dtype=values.dtype, device=values.device)
    if values.numel():
        s = s.index_add(0, seg, torch.exp(values - m_safe[seg]))
    if add_zero:
        return torch.log(s + torch.exp(-m_safe)) + m_safe
    s = torch.where(empty, torch.ones_like(s), s)
    out = torch.log(s) + m_safe
    return torch.where(empty, torch.full_like(out, float("-inf")), out)


def check_positive_real(value, *, name: str, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value}")
    return value


def check_real(value, *, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def anchor_counts(a1, a2, n_anchors: int):
    has_pos = torch.zeros(n_anchors, dtype=torch.bool, device=a1.device)
    has_neg = torch.zeros(n_anchors, dtype=torch.bool, device=a2.device)
    if a1.numel():
        has_pos[a1] = True
    if a2.numel():
        has_neg[a2] = True
    return has_pos, has_neg


def make_stats(a1, p, a2, n, n_anchors: int) -> LossStats:
    has_pos, has_neg = anchor_counts(a1, a2, n_anchors)
    return LossStats(
        n_anchors=int(n_anchors),
        n_pos_pairs=int(a1.numel()),
        n_neg_pairs=int(a2.numel()),
        n_anchors_without_pos=int(n_anchors - int(has_pos.sum())),
        n_anchors_without_neg=int(n_anchors - int(has_neg.sum())),
    )


class CountingLoss(torch.nn.Module):
    """Base of the loss modules: keeps running counters of empty pair sets."""

    def __init__(self):
        super().__init__()
        self.reset_counters()

    def reset_counters(self) -> None:
        """Zero the running counters."""
        self.n_calls = 0
        self.n_empty_pos = 0
        self.n_empty_neg = 0
        self.n_anchors_without_pos = 0
        self.n_anchors_without_neg = 0
        self.last_stats = None

    def _record(self, stats) -> None:
        self.n_calls += 1
        self.n_empty_pos += int(stats.empty_pos)
        self.n_empty_neg += int(stats.empty_neg)
        self.n_anchors_without_pos += stats.n_anchors_without_pos
        self.n_anchors_without_neg += stats.n_anchors_without_neg
        self.last_stats = stats

    def counters(self) -> dict:
        """The running counters as a dict."""
        return {
            "n_calls": self.n_calls,
            "n_empty_pos": self.n_empty_pos,
            "n_empty_neg": self.n_empty_neg,
            "n_anchors_without_pos": self.n_anchors_without_pos,
            "n_anchors_without_neg": self.n_anchors_without_neg,
        }

    #: which index layout the trainer should build for this loss ("pairs" or "triplets")
    tuple_kind = "pairs"


class FunctionalLoss(CountingLoss):
    """Base of the module forms: a :class:`CountingLoss` around one functional loss.

    A subclass names its function and the function's reductions table::

        class ContrastiveMarginLoss(FunctionalLoss, loss_fn=contrastive_margin_loss,
                                    reductions=CONTRASTIVE_REDUCTIONS):
            ...

    Its options are the function's keyword-only options but ``return_stats``,
    with their names, defaults and order: they make the class's signature, the
    :attr:`kwargs` dict (the values as given) and the ``repr``. They are checked
    when the module is built (a call on an empty tuple), and ``reduction="none"``
    is refused: a module returns a scalar. Calling the module with
    ``(embeddings, indices_tuple, ref_embeddings=None)`` returns the loss and
    updates the running counters and :attr:`last_stats`.
    """

    #: the functional loss (set by the subclass statement)
    loss_fn = None
    _defaults: dict = {}
    _reductions: tuple = ()

    def __init_subclass__(cls, *, loss_fn=None, reductions=None, **kw):
        super().__init_subclass__(**kw)
        if loss_fn is None:
            return
        params = [p for p in inspect.signature(loss_fn).parameters.values()
                  if p.kind is p.KEYWORD_ONLY and p.name != "return_stats"]
        cls.loss_fn = staticmethod(loss_fn)
        cls._defaults = {p.name: p.default for p in params}
        cls._reductions = tuple(r for r in (reductions or ()) if r != "none")

        def __init__(self, *args, **kwargs):
            FunctionalLoss.__init__(self, *args, **kwargs)

        __init__.__qualname__ = f"{cls.__qualname__}.__init__"
        __init__.__signature__ = inspect.Signature(
            [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD), *params])
        cls.__init__ = __init__

    def __init__(self, *args, **kwargs):
        name = type(self).__name__
        if args:
            raise TypeError(f"{name}.__init__() takes 1 positional argument but "
                            f"{len(args) + 1} were given")
        for key in kwargs:
            if key not in self._defaults:
                raise TypeError(f"{name}.__init__() got an unexpected keyword argument {key!r}")
        super().__init__()
        self.kwargs = {k: kwargs.get(k, d) for k, d in self._defaults.items()}
        if self._reductions:
            check_one_of(self.kwargs["reduction"], self._reductions, name="reduction")
        empty = ([], [], []) if self.tuple_kind == "triplets" else ([], [], [], [])
        self.loss_fn(torch.zeros(1, 1), empty, **self.kwargs)  # validate eagerly

    def forward(self, embeddings, indices_tuple, ref_embeddings=None):
        loss, stats = self.loss_fn(
            embeddings, indices_tuple, ref_embeddings, return_stats=True, **self.kwargs
        )
        self._record(stats)
        return loss

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
