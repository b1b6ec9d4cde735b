"""The SIPT trainer: L = (1 - lambda_SI) L_M + lambda_SI L_SI, with reproducible resumable runs."""

from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings
from collections.abc import Callable, Mapping

import numpy as np
import torch
from torch import nn

from .._atomic import atomic_path
from .._serialization import ToDictMixin
from .._validation import check_one_of
from ..graphs import as_sample_graph
from ..losses import ContrastiveMarginLoss, CountingLoss, GraphPairSampler, get_loss
from ..losses._samplers import NEGATIVE_MODES, NEGATIVE_POOLS, POSITIVE_MODES
from ._layers import set_dropout_generator

__all__ = ["SIPTTrainer", "TrainerConfig"]

_FORMAT = "sip_theory.SIPTTrainer/v1"
_SAMPLERS = ("paper", "all_pairs")
_PRECISIONS = (None, "bf16", "fp16")
# config fields that may differ between a checkpoint and the trainer resuming it
_RESUMABLE_DIFF = {"epochs", "max_steps", "progress", "checkpoint_path", "checkpoint_every",
                   "eval_every", "device"}
# fields added after checkpoints were first written: a checkpoint without one had the default
_LATER_FIELDS = {"positives": "uniform", "k_pos": None, "k_neg": None,
                 "band_metric": "euclidean"}
_BAND_METRICS = ("euclidean", "sqeuclidean", "cosine", "dot")


@dataclasses.dataclass(frozen=True)
class TrainerConfig(ToDictMixin):
    """Options of :class:`SIPTTrainer` (defaults follow the paper's protocol).

    Parameters
    ----------
    lambda_si : float, default 0.1
        Weight of the structure-inducing loss, in [0, 1]. Without a per-sample
        objective the loss is L_SI alone.
    si_loss : str or CountingLoss, default "contrastive"
        A name for :func:`sip_theory.losses.get_loss` or a loss module.
    si_loss_kwargs : mapping, default {} (the contrastive default is mu+ = 0, mu- = 10)
    sampler : {"paper", "all_pairs"}, default "paper"
        ``"paper"``: each anchor gets one uniform neighbour and one uniform
        non-neighbour per epoch. ``"all_pairs"``: every pair of the batch,
        labelled by the induced subgraph.
    negatives : {"global", "component", "two_hop", "knn_band"}, default "global"
        How the ``"paper"`` sampler draws an anchor's negative
        (:class:`~sip_theory.losses.GraphPairSampler`): uniformly among all
        non-neighbours (the paper), within the anchor's component, at graph
        distance exactly 2 (SPECTER's hard negatives) or from the ``k_neg`` rank
        band of the band embedding (SciNCL). ``"all_pairs"`` needs a pool
        (``"global"`` or ``"component"``).
    positives : {"uniform", "weighted", "knn_band"}, default "uniform"
        How the ``"paper"`` sampler draws an anchor's positive: a uniform
        neighbour (the paper), a neighbour in proportion to its edge weight, or a
        node of the ``k_pos`` rank band of the band embedding (SciNCL; linked or
        not). ``"all_pairs"`` needs ``"uniform"``.
    k_pos, k_neg : (int, int), optional
        Rank bands ``[lo, hi)`` of the ``"knn_band"`` strategies; each required
        exactly when its strategy is ``"knn_band"``.
    band_metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
        Dissimilarity of the band ranks.
    n_masked_copies : int, default 2
        Independently corrupted copies of each anchor for L_M. With the
        contrastive loss the positive pair uses copy 0 and the negative pair copy 1
        (the official code's layout); per-anchor losses use copy 0 for both.
    epochs, max_steps : int, optional
        Stop after this many epochs or optimizer steps (at least one is needed;
        with both, whichever comes first). An epoch visits every anchor once.
    batch_size : int, optional
        Anchors per step; default all anchors (full batch).
    lr, weight_decay, betas, eps : AdamW settings (default 3e-4, 0.01, (0.9, 0.999), 1e-8)
    grad_clip : float, optional
        Clip the global gradient norm.
    seed : int, default 0
        Seeds the sampler (numpy) and masking/dropout (torch) streams.
    device : str, default "cpu"
    mixed_precision : {None, "bf16", "fp16"}, default None
        Autocast dtype; "fp16" also uses a gradient scaler (CUDA only).
    progress : bool, default False
        Show a tqdm progress bar.
    eval_every : int, default 1
        Call the evaluation callback every this many epochs (and after the last).
    checkpoint_path : str, optional
        Where checkpoints go (written atomically).
    checkpoint_every : int, optional
        Save every this many steps (and always when ``fit`` returns).
    anchors : {"samples", "all"}, default "samples"
        Anchor nodes: non-auxiliary nodes only, or every node.
    """

    lambda_si: float = 0.1
    si_loss: object = "contrastive"
    si_loss_kwargs: Mapping = dataclasses.field(default_factory=dict)
    sampler: str = "paper"
    negatives: str = "global"
    positives: str = "uniform"
    k_pos: tuple | None = None
    k_neg: tuple | None = None
    band_metric: str = "euclidean"
    n_masked_copies: int = 2
    epochs: int | None = None
    max_steps: int | None = None
    batch_size: int | None = None
    lr: float = 3e-4
    weight_decay: float = 0.01
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    grad_clip: float | None = None
    seed: int = 0
    device: str = "cpu"
    mixed_precision: str | None = None
    progress: bool = False
    eval_every: int = 1
    checkpoint_path: str | None = None
    checkpoint_every: int | None = None
    anchors: str = "samples"

    def __post_init__(self):
        if not 0.0 <= float(self.lambda_si) <= 1.0:
            raise ValueError(f"lambda_si must be in [0, 1], got {self.lambda_si}")
        check_one_of(self.sampler, _SAMPLERS, name="sampler")
        check_one_of(self.negatives, NEGATIVE_MODES, name="negatives")
        check_one_of(self.positives, POSITIVE_MODES, name="positives")
        check_one_of(self.band_metric, _BAND_METRICS, name="band_metric")
        if self.sampler == "all_pairs" and (self.negatives not in NEGATIVE_POOLS
                                            or self.positives != "uniform"):
            raise ValueError("sampler='all_pairs' labels every pair of a batch by the graph: "
                             "it needs positives='uniform' and negatives in "
                             f"{NEGATIVE_POOLS}, got {self.positives!r}, {self.negatives!r}")
        from ..losses._hard_partners import check_rank_band

        for band, mode, name in ((self.k_pos, self.positives, "k_pos"),
                                 (self.k_neg, self.negatives, "k_neg")):
            if (mode == "knn_band") != (band is not None):
                raise ValueError(f"{name} is required exactly when its strategy is 'knn_band' "
                                 f"(got {name}={band!r} with {mode!r})")
            if band is not None:
                object.__setattr__(self, name, check_rank_band(tuple(band), name=name))
        check_one_of(self.mixed_precision, _PRECISIONS, name="mixed_precision")
        check_one_of(self.anchors, ("samples", "all"), name="anchors")
        for name in ("epochs", "max_steps", "batch_size", "checkpoint_every"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"{name} must be a positive int or None, got {v!r}")
        if self.n_masked_copies not in (1, 2):
            raise ValueError(f"n_masked_copies must be 1 or 2, got {self.n_masked_copies}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {self.seed!r}")
        if self.eval_every < 1:
            raise ValueError(f"eval_every must be >= 1, got {self.eval_every}")

    _to_dict_exclude = ("si_loss",)

    def to_dict(self) -> dict:
        """The fields as plain JSON-safe Python; a loss object (not a name) by its repr."""
        si_loss = self.si_loss if isinstance(self.si_loss, str) else repr(self.si_loss)
        return {**super().to_dict(), "si_loss": si_loss}


def _adamw(params, config, device):
    """AdamW with the fused kernel where torch has one (CPU and CUDA since torch 2.4).

    The fused step updates every parameter in one kernel; for the small
    reference encoders the per-parameter loop of the default implementation
    cost more than the update itself.
    """
    kw = dict(lr=config.lr, betas=tuple(config.betas), eps=config.eps,
              weight_decay=config.weight_decay)
    if device.type in ("cpu", "cuda"):
        try:
            return torch.optim.AdamW(params, fused=True, **kw)
        except (RuntimeError, TypeError, ValueError):  # older torch: no fused CPU AdamW
            pass
    return torch.optim.AdamW(params, **kw)


def _take(data, idx):
    if isinstance(data, torch.Tensor):
        return data[idx]
    if isinstance(data, Mapping):
        return {k: v[idx] for k, v in data.items()}
    raise TypeError(f"data must be a tensor or a mapping of tensors, got {type(data).__name__}")


def _cat(parts):
    if isinstance(parts[0], torch.Tensor):
        return torch.cat(parts, 0)
    return {k: torch.cat([p[k] for p in parts], 0) for k in parts[0]}


def _n_rows(data) -> int:
    if isinstance(data, torch.Tensor):
        return data.shape[0]
    return next(iter(data.values())).shape[0]


def _to(data, device):
    if isinstance(data, torch.Tensor):
        return data.to(device)
    return {k: v.to(device) for k, v in data.items()}


def _cat_targets(parts):
    if isinstance(parts[0], torch.Tensor):
        return torch.cat(parts, 0)
    return tuple(torch.cat(list(z), 0) for z in zip(*parts, strict=True))


@dataclasses.dataclass
class _StepInput:
    """One step's rows to embed (in order) and the layout its losses read them in."""

    parts: list  # data rows: the corrupted anchor copies, then the SI rows
    targets: list  # L_M targets of each corrupted copy
    n_copies: int
    n_anchors: int
    ref_start: int  # first row of the SI partners (or uncorrupted anchors)
    n_si_rows: int  # anchor rows the SI loss reads (copy 0, or both copies)
    same_rows: bool  # the SI loss pairs rows of one block with each other
    pairs: tuple | None  # the SI loss's index tuple


class SIPTTrainer:
    """Pre-train an encoder with (1 - lambda_SI) L_M + lambda_SI L_SI over a graph.

    Parameters
    ----------
    encoder : nn.Module
        Maps a batch of ``data`` rows to an :class:`EncoderOutput`
        (:class:`TransformerEncoder`, :class:`MLPEncoder`, :class:`LookupEncoder`,
        or any module with that contract).
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array
        The pre-training graph; node i is row i of ``data``.
    data : torch.Tensor or mapping of tensors
        One row per node (token ids, feature vectors, node indices...).
    objective : MaskedTokenLM, MaskedFeatureReconstruction or None
        The per-sample objective L_M; None trains L_SI alone.
    config : TrainerConfig, optional
    band_embedding : array-like of shape (n_nodes, d), optional
        The space the ``"knn_band"`` strategies rank in (SciNCL uses a prior
        graph embedding). Default: the raw input rows when ``data`` is one
        floating-point 2-D tensor (feature vectors); token ids and mappings need
        it given. Used only with a ``"knn_band"`` strategy; its content is part
        of :meth:`fingerprint`.
    eval_fn : callable, optional
        ``eval_fn(trainer) -> dict`` called at the end of every ``eval_every``-th
        epoch; its numbers are stored in that epoch's history record. Returning
        ``{"stop": True}`` ends training after that epoch.
    **overrides
        Fields of :class:`TrainerConfig`.

    Notes
    -----
    *Reproducibility.* Two explicit streams, both derived from ``config.seed``:
    a ``numpy.random.Generator`` for epoch orders and pair sampling, and a
    ``torch.Generator`` on the training device for masking and dropout (installed
    in every :class:`GeneratorDropout` of the encoder and objective). torch's
    global generator is never seeded or used (encoders built with plain
    ``nn.Dropout`` would use it: prefer :class:`GeneratorDropout`). On CPU, on
    one machine with one torch version and thread count, a run is bit-for-bit
    reproducible from its seed, and resuming from a checkpoint (model,
    optimizer, both generator states, the current epoch's plan and position)
    continues bit-identically. Across machines or thread counts float32
    reductions round differently, training amplifies those last-digit
    differences, and only statistics over seeds are comparable (within their
    confidence intervals). On CUDA some kernels (scatter-adds) are not
    deterministic.

    *Protocol.* Each epoch the anchors are shuffled; with the ``"paper"``
    sampler each anchor gets one positive and one negative; a step takes
    ``batch_size`` anchors, corrupts them for L_M, and pairs the corrupted
    anchors' embeddings with the *uncorrupted* embeddings of their partners for
    L_SI (McDermott et al. 2023, official code). Each distinct partner node of
    a step is embedded once (one dropout draw), even when it is the positive of
    one anchor and the negative of another. Without an objective the anchors
    are embedded uncorrupted. Embeddings for evaluation
    (:meth:`embed`) are computed in eval mode under ``no_grad``.

    Examples
    --------
    >>> import torch
    >>> from sip_theory.graphs import cliques_from_labels
    >>> from sip_theory.models import LookupEncoder
    >>> g = cliques_from_labels([0, 0, 1, 1])
    >>> tr = SIPTTrainer(LookupEncoder(4, 2, seed=0), g, torch.arange(4),
    ...                  lambda_si=1.0, epochs=3, lr=0.1,
    ...                  si_loss_kwargs={"pos_margin": 0.0, "neg_margin": 1.0})
    >>> hist = tr.fit()
    >>> [h["epoch"] for h in hist]
    [1, 2, 3]
    >>> tr.embed().shape
    torch.Size([4, 2])
    """

    def __init__(self, encoder: nn.Module, graph, data, *, objective: nn.Module | None = None,
                 config: TrainerConfig | None = None, eval_fn: Callable | None = None,
                 band_embedding=None, **overrides):
        if config is None:
            config = TrainerConfig(**overrides)
        elif overrides:
            config = dataclasses.replace(config, **overrides)
        self.config = config
        self.graph = as_sample_graph(graph)
        n = self.graph.n_nodes
        if _n_rows(data) != n:
            raise ValueError(f"data has {_n_rows(data)} rows but graph has {n} nodes")
        self.device = torch.device(config.device)
        if config.mixed_precision == "fp16" and self.device.type != "cuda":
            raise ValueError("mixed_precision='fp16' needs a CUDA device; use 'bf16' on CPU")
        self.data = _to(data, self.device)
        self.encoder = encoder.to(self.device)
        self.objective = objective.to(self.device) if objective is not None else None
        if self.objective is None and config.lambda_si == 0.0:
            raise ValueError("lambda_si=0 needs a per-sample objective (objective=None given)")
        if isinstance(config.si_loss, str):
            self.loss_fn = get_loss(config.si_loss, **dict(config.si_loss_kwargs))
        elif isinstance(config.si_loss, CountingLoss):
            self.loss_fn = config.si_loss
        else:
            raise TypeError("si_loss must be a loss name or a sip_theory.losses loss module")
        self.eval_fn = eval_fn
        self.band_embedding = self._band_embedding(band_embedding, data)
        if float(config.lambda_si) > 0:
            self.sampler = GraphPairSampler(self.graph, **self.sampler_options(),
                                            embedding=self.band_embedding)
        else:  # fit never samples pairs: skip the two-hop and rank-band tables
            self.sampler = GraphPairSampler(self.graph)
        if config.anchors == "samples":
            self.anchor_nodes = np.asarray(self.graph.sample_nodes, dtype=np.int64)
        else:
            self.anchor_nodes = np.arange(n, dtype=np.int64)
        if self.anchor_nodes.size == 0:
            raise ValueError("graph has no anchor nodes")

        params = []
        seen = set()
        for mod in (self.encoder, self.objective):
            if mod is None:
                continue
            for p in mod.parameters():
                if id(p) not in seen and p.requires_grad:
                    seen.add(id(p))
                    params.append(p)
        self.optimizer = _adamw(params, config, self.device)
        use_scaler = config.mixed_precision == "fp16"
        self.scaler = torch.amp.GradScaler("cuda", enabled=use_scaler) if use_scaler else None

        ss = np.random.SeedSequence(config.seed)
        np_ss, torch_ss = ss.spawn(2)
        self.np_rng = np.random.default_rng(np_ss)
        self.torch_gen = torch.Generator(device=self.device)
        self.torch_gen.manual_seed(int(torch_ss.generate_state(1, dtype=np.uint64)[0] >> 1))
        for mod in (self.encoder, self.objective):
            if mod is not None:
                set_dropout_generator(mod, self.torch_gen)

        self.step = 0
        self.epoch = 0
        self.history: list[dict] = []
        self._plan = None
        self._plan_pos = 0
        self._acc = self._new_acc()
        self._stop = False

    # ------------------------------------------------------------------ internals
    def _band_embedding(self, given, data):
        """The k-NN band space (float64 numpy) or None when no strategy ranks in one."""
        cfg = self.config
        if "knn_band" not in (cfg.positives, cfg.negatives):
            if given is not None:
                raise ValueError("band_embedding is used only with a 'knn_band' strategy")
            return None
        if given is None:
            if not (isinstance(data, torch.Tensor) and data.ndim == 2
                    and data.is_floating_point()):
                raise ValueError("band_embedding is required with a 'knn_band' strategy when "
                                 "data is not a floating-point (n, d) tensor of features")
            given = data.detach().cpu().double().numpy()
        emb = np.asarray(given, dtype=np.float64)
        if emb.ndim != 2 or emb.shape[0] != self.graph.n_nodes:
            raise ValueError(f"band_embedding must have shape (n_nodes={self.graph.n_nodes}, d), "
                             f"got {emb.shape}")
        return np.ascontiguousarray(emb)

    def sampler_options(self) -> dict:
        """The pair-sampling strategy of :attr:`config`, as :class:`GraphPairSampler` options.

        Examples
        --------
        >>> import torch
        >>> from sip_theory.graphs import cliques_from_labels
        >>> from sip_theory.models import LookupEncoder
        >>> tr = SIPTTrainer(LookupEncoder(4, 2), cliques_from_labels([0, 0, 1, 1]),
        ...                  torch.arange(4), lambda_si=1.0, negatives="two_hop")
        >>> tr.sampler_options()
        {'negatives': 'two_hop', 'positives': 'uniform'}
        """
        cfg = self.config
        out = {"negatives": cfg.negatives, "positives": cfg.positives}
        if cfg.k_pos is not None:
            out["k_pos"] = tuple(cfg.k_pos)
        if cfg.k_neg is not None:
            out["k_neg"] = tuple(cfg.k_neg)
        if self.band_embedding is not None:
            out["metric"] = cfg.band_metric
        return out

    @staticmethod
    def _new_acc():
        return {"loss": 0.0, "loss_m": 0.0, "loss_si": 0.0, "n_batches": 0, "seconds": 0.0,
                "n_targets": 0, "n_correct": 0, "n_anchors_without_pos": 0,
                "n_anchors_without_neg": 0, "n_empty_pos": 0, "n_empty_neg": 0}

    @property
    def _batch_size(self) -> int:
        return self.config.batch_size or self.anchor_nodes.size

    def _new_plan(self):
        order = self.np_rng.permutation(self.anchor_nodes)
        plan = {"anchors": order}
        if self.config.sampler == "paper" and self.config.lambda_si > 0:
            s = self.sampler.sample(order, seed=self.np_rng)
            plan["positives"] = s.positives
            plan["negatives"] = s.negatives
        return plan

    def _autocast(self):
        mp = self.config.mixed_precision
        if mp is None:
            return torch.autocast(self.device.type, enabled=False)
        dtype = torch.bfloat16 if mp == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def _prepare_step(self, anchors, positives, negatives) -> _StepInput:
        """The rows one step embeds and what its losses need, drawing the L_M corruption."""
        cfg = self.config
        use_si = float(cfg.lambda_si) > 0
        obj = self.objective
        b = anchors.size
        x_anchor = _take(self.data, torch.as_tensor(anchors, device=self.device))
        parts, targets = [], []
        n_copies = 0
        if obj is not None:
            n_copies = cfg.n_masked_copies if use_si else 1
            for _ in range(n_copies):
                xc, tc = obj.corrupt(x_anchor, self.torch_gen)
                parts.append(xc)
                targets.append(tc)
        separable = isinstance(self.loss_fn, ContrastiveMarginLoss)
        tup = None
        same_rows = False
        ref_start = n_copies * b  # rows before this are corrupted anchor copies
        n_si_rows = b  # anchor rows the SI loss sees (copy 0, or both copies)
        if use_si:
            if cfg.sampler == "paper":
                from ..losses import PairSample

                s = PairSample(anchors, positives, negatives)
                ref_nodes, (a1, p, a2, n) = s.local_pairs()
                # embed each distinct partner once
                ref_nodes, inv = np.unique(ref_nodes, return_inverse=True)
                p, n = inv[p], inv[n]
                if obj is None:
                    parts.append(x_anchor)
                    ref_start = b
                elif n_copies == 2 and separable:
                    a2 = a2 + b
                    n_si_rows = 2 * b
                parts.append(_take(self.data, torch.as_tensor(ref_nodes, device=self.device)))
                tup = (a1, p, a2, n)
            else:
                if obj is None:
                    parts.append(x_anchor)
                    ref_start = b
                    same_rows = True
                    tup = self.sampler.batch_pairs(anchors)
                else:
                    parts.append(x_anchor)
                    tup = self.sampler.batch_pairs(anchors, anchors)
        return _StepInput(parts=parts, targets=targets, n_copies=n_copies, n_anchors=b,
                          ref_start=ref_start, n_si_rows=n_si_rows, same_rows=same_rows,
                          pairs=tup)

    def _si_loss(self, step: _StepInput, z: torch.Tensor):
        """L_SI of one step from the embeddings ``z`` of its rows (None when lambda_SI = 0)."""
        if not float(self.config.lambda_si) > 0:
            return None
        z_anchor = z[:step.n_si_rows]
        z_ref = None if step.same_rows else z[step.ref_start:]
        return self.loss_fn(z_anchor, step.pairs, z_ref).float()

    def _combine(self, loss_m, loss_si):
        """(1 - lambda_SI) L_M + lambda_SI L_SI, or whichever of the two exists."""
        lam = float(self.config.lambda_si)
        if loss_m is None:
            return loss_si
        if loss_si is None:
            return loss_m
        return (1.0 - lam) * loss_m + lam * loss_si

    def _step_loss(self, anchors, positives, negatives):
        step = self._prepare_step(anchors, positives, negatives)
        obj = self.objective
        with self._autocast():
            out = self.encoder(_cat(step.parts))
        metrics = {"n_targets": 0, "n_correct": 0}
        loss_m = None
        if obj is not None:
            from ._layers import EncoderOutput

            m_rows = step.n_copies * step.n_anchors
            sub = EncoderOutput(embeddings=out.embeddings[:m_rows], hidden=out.hidden[:m_rows])
            with self._autocast():
                loss_m, metrics = obj.loss(sub, _cat_targets(step.targets))
            loss_m = loss_m.float()
        loss_si = self._si_loss(step, out.embeddings)
        return self._combine(loss_m, loss_si), loss_m, loss_si, metrics

    def _next_batch(self):
        """The next step's anchors, positives and negatives (a new epoch plan when due)."""
        if self._plan is None or self._plan_pos >= self._plan["anchors"].size:
            self._plan = self._new_plan()
            self._plan_pos = 0
        sl = slice(self._plan_pos, self._plan_pos + self._batch_size)
        anchors = self._plan["anchors"][sl]
        pos = self._plan["positives"][sl] if "positives" in self._plan else None
        neg = self._plan["negatives"][sl] if "negatives" in self._plan else None
        self.encoder.train()
        if self.objective is not None:
            self.objective.train()
        return anchors, pos, neg

    def _train_one_step(self):
        cfg = self.config
        t0 = time.perf_counter()
        anchors, pos, neg = self._next_batch()
        self.optimizer.zero_grad(set_to_none=True)
        total, loss_m, loss_si, metrics = self._step_loss(anchors, pos, neg)
        if not torch.isfinite(total):
            raise FloatingPointError(f"non-finite loss {float(total)} at step {self.step}")
        if self.scaler is not None:
            self.scaler.scale(total).backward()
            if cfg.grad_clip is not None:
                self.scaler.unscale_(self.optimizer)
                nn.utils.clip_grad_norm_(self._params(), cfg.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            total.backward()
            if cfg.grad_clip is not None:
                nn.utils.clip_grad_norm_(self._params(), cfg.grad_clip)
            self.optimizer.step()
        self._record_step(anchors.size, total, loss_m, loss_si, metrics,
                          time.perf_counter() - t0)

    def _record_step(self, n_anchors, total, loss_m, loss_si, metrics, seconds):
        """Count a finished optimizer step: losses, accuracy, empty sets, epoch end."""
        self.step += 1
        self._plan_pos += n_anchors
        acc = self._acc
        acc["loss"] += float(total.detach())
        acc["loss_m"] += float(loss_m.detach()) if loss_m is not None else 0.0
        acc["loss_si"] += float(loss_si.detach()) if loss_si is not None else 0.0
        acc["n_batches"] += 1
        acc["n_targets"] += metrics["n_targets"]
        acc["n_correct"] += metrics["n_correct"]
        st = self.loss_fn.last_stats
        if loss_si is not None and st is not None:
            acc["n_anchors_without_pos"] += st.n_anchors_without_pos
            acc["n_anchors_without_neg"] += st.n_anchors_without_neg
            acc["n_empty_pos"] += int(st.empty_pos)
            acc["n_empty_neg"] += int(st.empty_neg)
        acc["seconds"] += seconds
        if self._plan_pos >= self._plan["anchors"].size:
            self._end_epoch(force_eval=False)

    def _params(self):
        return [p for g in self.optimizer.param_groups for p in g["params"]]

    def _end_epoch(self, *, force_eval: bool):
        self.epoch += 1
        acc = self._acc
        nb = max(acc["n_batches"], 1)
        rec = {
            "epoch": self.epoch,
            "step": self.step,
            "loss": acc["loss"] / nb,
            "loss_m": acc["loss_m"] / nb if self.objective is not None else None,
            "loss_si": acc["loss_si"] / nb if self.config.lambda_si > 0 else None,
            "n_batches": acc["n_batches"],
            "seconds": acc["seconds"],
            "n_anchors_without_pos": acc["n_anchors_without_pos"],
            "n_anchors_without_neg": acc["n_anchors_without_neg"],
            "n_empty_pos": acc["n_empty_pos"],
            "n_empty_neg": acc["n_empty_neg"],
        }
        if self.objective is not None:
            rec["masked_accuracy"] = (acc["n_correct"] / acc["n_targets"]
                                      if acc["n_targets"] else None)
        self._acc = self._new_acc()
        if self.eval_fn is not None and (force_eval or self.epoch % self.config.eval_every == 0):
            res = self.eval_fn(self) or {}
            if res.get("stop"):
                self._stop = True
            rec.update({k: v for k, v in res.items() if k != "stop"})
        self.history.append(rec)

    def _done(self, epochs, max_steps) -> bool:
        if self._stop:
            return True
        if max_steps is not None and self.step >= max_steps:
            return True
        return epochs is not None and self.epoch >= epochs

    def _final_eval(self) -> None:
        """Evaluate after the last step when the last epoch was not an evaluation epoch."""
        if self.eval_fn is not None and self.history and self.history[-1]["step"] == self.step:
            if self.epoch % self.config.eval_every != 0 and not self._stop:
                res = self.eval_fn(self) or {}
                self.history[-1].update({k: v for k, v in res.items() if k != "stop"})

    # ------------------------------------------------------------------ public
    def fit(self, *, epochs: int | None = None, max_steps: int | None = None) -> list[dict]:
        """Train until ``epochs`` epochs or ``max_steps`` steps in total (config defaults).

        Counts are totals since the start of the run, so calling ``fit`` again
        after resuming from a checkpoint continues to the same end point.

        Returns
        -------
        list of dict
            The per-epoch history (also :attr:`history`): epoch, step, mean loss,
            mean L_M and L_SI, batches, seconds, empty-set counts, masked-token
            accuracy (with an objective) and the evaluation callback's numbers.
        """
        epochs = self.config.epochs if epochs is None else epochs
        max_steps = self.config.max_steps if max_steps is None else max_steps
        if epochs is None and max_steps is None:
            raise ValueError("give epochs or max_steps (in the config or to fit)")
        total = max_steps
        if total is None:
            per_epoch = math.ceil(self.anchor_nodes.size / self._batch_size)
            total = epochs * per_epoch
        self._stop = False
        from .._progress import auto_tqdm

        tqdm = auto_tqdm()

        bar = tqdm(total=total, initial=min(self.step, total), disable=not self.config.progress,
                   desc="SIPT", leave=False)
        every = self.config.checkpoint_every
        try:
            while not self._done(epochs, max_steps):
                self._train_one_step()
                bar.update(1)
                if self.history and self.history[-1]["step"] == self.step:
                    bar.set_postfix(loss=f"{self.history[-1]['loss']:.4g}")
                if every and self.config.checkpoint_path and self.step % every == 0:
                    self.save_checkpoint(self.config.checkpoint_path)
        finally:
            bar.close()
        self._final_eval()
        if self.config.checkpoint_path:
            self.save_checkpoint(self.config.checkpoint_path)
        return self.history

    def fingerprint(self, *extra: bytes) -> str:
        """A hash of everything :meth:`fit` reads from here on; equal hashes train alike.

        Covers the configuration (but ``progress``), the device, the data rows, the
        anchors, the step and epoch counters, the state of both random streams, the
        classes, configurations, parameters and buffers of the encoder and
        objective, and, when L_SI is trained, the graph's edges, the sampling
        strategy (:meth:`sampler_options`) and the band embedding of a
        ``"knn_band"`` strategy (with ``lambda_si = 0`` :meth:`fit` never reads
        them: the sampler is not called).
        ``eval_fn`` is code, so what it reads besides the trainer goes in ``extra``.

        Parameters
        ----------
        *extra : bytes
            Further inputs of the run (for example the labels an ``eval_fn`` scores).

        Returns
        -------
        str
            A SHA-256 hex digest.

        Examples
        --------
        >>> import torch
        >>> from sip_theory.graphs import cliques_from_labels
        >>> from sip_theory.models import MLPEncoder, MaskedFeatureReconstruction
        >>> def trainer(labels, lam):
        ...     enc = MLPEncoder(4, hidden_sizes=[4], out_features=2, seed=0)
        ...     return SIPTTrainer(enc, cliques_from_labels(labels), torch.eye(4), lambda_si=lam,
        ...                        objective=MaskedFeatureReconstruction(2, 4, seed=0))
        >>> trainer([0, 0, 1, 1], 0.0).fingerprint() == trainer([0, 1, 0, 1], 0.0).fingerprint()
        True
        >>> trainer([0, 0, 1, 1], 0.5).fingerprint() == trainer([0, 1, 0, 1], 0.5).fingerprint()
        False
        """
        import hashlib
        import json

        h = hashlib.sha256()

        def text(obj):
            h.update(json.dumps(obj, sort_keys=True, default=repr).encode() + b"\0")

        def tensor(name, t):
            t = t.detach().cpu().contiguous()
            text([name, str(t.dtype), list(t.shape)])
            h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else
                     t.float().numpy().tobytes())

        cfg = {k: v for k, v in self.config.to_dict().items() if k != "progress"}
        text([cfg, str(self.device), self.step, self.epoch, self._plan_pos,
              self.np_rng.bit_generator.state])
        tensor("torch_gen", self.torch_gen.get_state())
        data = self.data if isinstance(self.data, Mapping) else {"": self.data}
        for key in sorted(data):
            tensor(f"data/{key}", data[key])
        h.update(self.anchor_nodes.tobytes())
        if self._plan is not None:
            for key in sorted(self._plan):
                h.update(np.asarray(self._plan[key]).tobytes())
        for name, mod in (("encoder", self.encoder), ("objective", self.objective)):
            if mod is None:
                text([name, None])
                continue
            mod_cfg = getattr(mod, "config", None)
            text([name, type(mod).__qualname__, mod_cfg.to_dict() if hasattr(mod_cfg, "to_dict")
                  else repr(mod_cfg), mod.training])
            for key, value in mod.state_dict().items():
                tensor(f"{name}/{key}", value)
        if float(self.config.lambda_si) > 0:
            text(["graph", self.graph.content_hash(), self.sampler_options()])
            if self.band_embedding is not None:
                h.update(self.band_embedding.tobytes())
        for item in extra:
            h.update(bytes(item) + b"\0")
        return h.hexdigest()

    @torch.no_grad()
    def embed(self, data=None, *, batch_size: int = 1024) -> torch.Tensor:
        """Embeddings of ``data`` (default: every node) in eval mode under ``no_grad``.

        Returns a float32 CPU tensor; the encoder's train/eval mode is restored.
        """
        data = self.data if data is None else _to(data, self.device)
        was_training = self.encoder.training
        self.encoder.eval()
        try:
            n = _n_rows(data)
            out = []
            for start in range(0, n, batch_size):
                idx = torch.arange(start, min(start + batch_size, n), device=self.device)
                out.append(self.encoder(_take(data, idx)).embeddings.float().cpu())
            return torch.cat(out, 0) if out else torch.zeros(0, self.encoder.embedding_dim)
        finally:
            self.encoder.train(was_training)

    # ------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """Everything needed to continue the run bit-identically."""
        plan = None
        if self._plan is not None:
            plan = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self._plan.items()}
        return {
            "format": _FORMAT,
            "config": self.config.to_dict(),
            "graph_hash": self.graph.content_hash(),
            "encoder": self.encoder.state_dict(),
            "objective": self.objective.state_dict() if self.objective is not None else None,
            "loss_counters": self.loss_fn.counters(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "np_rng": self.np_rng.bit_generator.state,
            "torch_gen": self.torch_gen.get_state(),
            "step": self.step,
            "epoch": self.epoch,
            "plan": plan,
            "plan_pos": self._plan_pos,
            "acc": dict(self._acc),
            "history": [dict(h) for h in self.history],
            "versions": {"torch": str(torch.__version__), "numpy": str(np.__version__)},
        }

    def save_checkpoint(self, path) -> None:
        """Write :meth:`state_dict` to ``path`` atomically (temporary file, then rename)."""
        with atomic_path(os.fspath(path)) as tmp:
            torch.save(self.state_dict(), tmp)

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict` (same graph and training-relevant config)."""
        if state.get("format") != _FORMAT:
            raise ValueError(f"not a SIPTTrainer checkpoint (format {state.get('format')!r})")
        if state["graph_hash"] != self.graph.content_hash():
            raise ValueError("checkpoint was made on a different graph (content hash differs)")
        mine = self.config.to_dict()
        theirs = {**_LATER_FIELDS, **state["config"]}
        diff = sorted(k for k in mine if k not in _RESUMABLE_DIFF and mine[k] != theirs.get(k))
        if diff:
            raise ValueError(f"checkpoint config differs from this trainer's in: {diff}")
        self.encoder.load_state_dict(state["encoder"])
        if (state["objective"] is None) != (self.objective is None):
            raise ValueError("checkpoint and trainer disagree on having a per-sample objective")
        if self.objective is not None:
            self.objective.load_state_dict(state["objective"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler is not None and state["scaler"] is not None:
            self.scaler.load_state_dict(state["scaler"])
        self.np_rng.bit_generator.state = state["np_rng"]
        self.torch_gen.set_state(state["torch_gen"].cpu())
        self.step = int(state["step"])
        self.epoch = int(state["epoch"])
        plan = state["plan"]
        self._plan = None if plan is None else {k: v.numpy().astype(np.int64)
                                                for k, v in plan.items()}
        self._plan_pos = int(state["plan_pos"])
        self._acc = dict(state["acc"])
        self.history = [dict(h) for h in state["history"]]
        c = state.get("loss_counters") or {}
        for k, v in c.items():
            setattr(self.loss_fn, k, v)

    def load_checkpoint(self, path) -> None:
        """Restore the run saved at ``path`` by :meth:`save_checkpoint`."""
        try:
            state = torch.load(os.fspath(path), map_location=self.device, weights_only=True)
        except Exception as exc:  # pragma: no cover - older torch / unusual states
            warnings.warn(f"weights-only load failed ({exc}); loading with pickle", stacklevel=2)
            state = torch.load(os.fspath(path), map_location=self.device, weights_only=False)
        self.load_state_dict(state)
