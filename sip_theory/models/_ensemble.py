"""Train several SIPT runs as one stacked computation (the CPU speed path of the experiments).

The reference encoders are so small that a CPU training step is spent in
per-operator overhead, not arithmetic: a step of five runs stacked along a
*member* axis costs little more than a step of one. :func:`train_together`
takes ordinary :class:`~sip_theory.models.SIPTTrainer` objects (one per run:
its own data, graph, seed, sampler, masking and dropout streams) and advances
them in lockstep. Each step every member draws its batch, pairs, corruption and
attention-dropout masks from its *own* streams, exactly as it would alone; the
encoders and masked-token heads then run as one computation whose weights carry
the member axis (batched matrix products; :func:`~sip_theory.models._native.stacked_fused_layer`),
each member's loss is computed from its own rows, the sum is back-propagated
once and one AdamW step updates all members (AdamW is elementwise, so this is
each member's own update).

So member m follows the trajectory of ``trainers[m].fit()`` up to float32
rounding (a batched product rounds differently from a single one): the tests
compare the two step by step. It is not bit-identical to the single run, and
records say which way a run was trained.
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from ._objectives import IGNORE, MaskedTokenLM
from ._transformer import TransformerEncoder

__all__ = ["together_blocker", "train_together"]


def together_blocker(trainers) -> str | None:
    """Why ``trainers`` cannot be trained as one stacked computation (None if they can).

    They can when every member trains a :class:`TransformerEncoder` ([CLS]
    pooling, the fused CPU kernels usable, no hidden dropout) with a tied
    :class:`MaskedTokenLM` on token tensors, and all members share the encoder
    configuration and the training settings other than the seed, in float32
    without gradient clipping or checkpoints.

    Examples
    --------
    >>> together_blocker([])
    'no trainers'
    """
    trainers = list(trainers)
    if not trainers:
        return "no trainers"
    first = trainers[0]
    cfg0 = {k: v for k, v in first.config.to_dict().items() if k != "seed"}
    for i, tr in enumerate(trainers):
        enc, obj = tr.encoder, tr.objective
        if not isinstance(enc, TransformerEncoder):
            return f"member {i}: encoder is not a TransformerEncoder"
        if not isinstance(obj, MaskedTokenLM) or not obj.tie_weights:
            return f"member {i}: objective is not a tied MaskedTokenLM"
        if not isinstance(tr.data, torch.Tensor):
            return f"member {i}: data is not a token tensor"
        if enc.config.pooling != "cls" or enc.config.prepend_cls:
            return f"member {i}: needs [CLS] pooling on sequences that start with [CLS]"
        if enc.config.kernel == "torch":
            return f"member {i}: encoder kernel is 'torch'"
        why = enc.native_blocker()
        if why is not None:
            return f"member {i}: {why}"
        if enc.config != first.encoder.config:
            return f"member {i}: encoder configuration differs from member 0's"
        if {k: v for k, v in tr.config.to_dict().items() if k != "seed"} != cfg0:
            return f"member {i}: training settings differ from member 0's (other than seed)"
    c = first.config
    if c.grad_clip is not None:
        return "gradient clipping is per run (not stacked)"
    if c.mixed_precision is not None:
        return "mixed precision is not stacked"
    if c.checkpoint_path or c.checkpoint_every:
        return "checkpoints are per run (not stacked)"
    return None


class _Stack(nn.Module):
    """The members' encoder and head weights stacked along a leading member axis.

    Each member's own parameters become views of its slice, so the members'
    modules (their ``embed``, evaluation callbacks, checkpoints) always see
    the weights the stacked step produced.
    """

    def __init__(self, trainers):
        super().__init__()
        self.encoders = [tr.encoder for tr in trainers]
        self.objectives = [tr.objective for tr in trainers]
        self.cfg = self.encoders[0].config
        self.names = []
        self.stacked = nn.ParameterList()
        for prefix, mods in (("enc.", self.encoders), ("obj.", self.objectives)):
            per_member = [dict(m.named_parameters()) for m in mods]
            for name in per_member[0]:
                members = [pm[name] for pm in per_member]
                p = nn.Parameter(torch.stack([q.detach() for q in members]).contiguous())
                for m, q in enumerate(members):
                    q.data = p.data[m]
                self.names.append(prefix + name)
                self.stacked.append(p)
        self.p = dict(zip(self.names, self.stacked, strict=True))

    def _layer_params(self, i):
        from ._native import LAYER_PARAMS

        return [self.p[f"enc.layers.{i}.{name}"] for name in LAYER_PARAMS]

    def forward(self, blocks):
        """Embed each member's token block; returns ``(embeddings, hidden)`` with a member axis.

        ``blocks[m]``: member m's (rows_m, len_m) token ids. Blocks are padded
        to common sizes with rows of [CLS] + [PAD] (so no row is all padding);
        padded rows and positions receive no loss and hence no gradient.
        """
        from ._native import stacked_fused_layer

        cfg = self.cfg
        m_count = len(blocks)
        rows = max(b.shape[0] for b in blocks)
        length = max(b.shape[1] for b in blocks)
        ids = torch.full((m_count, rows, length), cfg.pad_token_id, dtype=torch.long)
        ids[:, :, 0] = cfg.cls_token_id
        for m, b in enumerate(blocks):
            ids[m, :b.shape[0], :b.shape[1]] = b
        key_pad = ids == cfg.pad_token_id
        h = cfg.hidden_size
        tok = self.p["enc.token_embedding.weight"]
        vocab = tok.shape[1]
        offset = (torch.arange(m_count) * vocab).view(m_count, 1, 1)
        x = tok.reshape(m_count * vocab, h)[ids + offset]
        x = x + self.p["enc.position_embedding.weight"][:, :length].unsqueeze(1)
        x = nn.functional.layer_norm(x, (h,), eps=cfg.layer_norm_eps)
        x = x * self.p["enc.ln.weight"].view(m_count, 1, 1, h) \
            + self.p["enc.ln.bias"].view(m_count, 1, 1, h)
        heads = cfg.n_heads
        for i in range(cfg.n_layers):
            drops = [enc.layers[i].attn.attn_drop for enc in self.encoders]
            drop = None
            if drops[0].active:
                # each member draws its mask from its own stream, with its own shape: the
                # draw a single run of it makes at this point
                drop = torch.zeros((m_count, rows, heads, length, length), dtype=torch.bool)
                for m, (d, b) in enumerate(zip(drops, blocks, strict=True)):
                    r, t = b.shape
                    drop[m, :r, :, :t, :t] = d.mask((r, heads, t, t), x.device)
            layer = self.encoders[0].layers[i]
            x = stacked_fused_layer(x, key_pad, drop, heads, layer.attn.head_dim ** -0.5,
                                    drops[0].scale, layer.ln1.eps, layer.ln2.eps,
                                    self._layer_params(i))
        return x[:, :, 0], x

    def masked_token_losses(self, hidden, labels):
        """Each member's mean cross-entropy over its masked tokens, and its counts.

        ``hidden``: (M, rows, len, H); ``labels``: (M, rows, len) with
        :data:`IGNORE` where nothing is predicted. A member without targets gets
        a loss of 0 (as :meth:`MaskedTokenLM.loss`).
        """
        m_count, _, _, h = hidden.shape
        sel = (labels != IGNORE).reshape(m_count, -1)
        counts = sel.sum(1)
        width = int(counts.max())
        if width == 0:
            zero = hidden.sum() * 0.0
            return [zero] * m_count, [0] * m_count, [0] * m_count
        # member m's selected positions first, in row-major order (MaskedTokenLM's order)
        order = torch.argsort((~sel).to(torch.int8), dim=1, stable=True)[:, :width]
        valid = torch.arange(width).unsqueeze(0) < counts.unsqueeze(1)
        z = hidden.reshape(m_count, -1, h).gather(1, order.unsqueeze(2).expand(-1, -1, h))
        target = labels.reshape(m_count, -1).gather(1, order).masked_fill(~valid, IGNORE)
        p = self.p
        z = torch.baddbmm(p["obj.dense.bias"].unsqueeze(1), z,
                          p["obj.dense.weight"].transpose(1, 2))
        z = nn.functional.layer_norm(nn.functional.gelu(z), (h,), eps=self.cfg.layer_norm_eps)
        z = z * p["obj.ln.weight"].unsqueeze(1) + p["obj.ln.bias"].unsqueeze(1)
        logits = torch.baddbmm(p["obj.bias"].unsqueeze(1), z,
                               p["enc.token_embedding.weight"].transpose(1, 2))
        ce = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                         target.reshape(-1), ignore_index=IGNORE,
                                         reduction="none").view(m_count, width)
        losses = ce.sum(1) / counts.clamp_min(1)
        correct = ((logits.argmax(-1) == target) & valid).sum(1)
        return list(losses.unbind(0)), counts.tolist(), correct.tolist()


def _labels(steps, blocks):
    m_count = len(steps)
    rows = max(b.shape[0] for b in blocks)
    length = max(b.shape[1] for b in blocks)
    labels = torch.full((m_count, rows, length), IGNORE, dtype=torch.long)
    for m, st in enumerate(steps):
        tgt = torch.cat(st.targets, 0)
        labels[m, :tgt.shape[0], :tgt.shape[1]] = tgt
    return labels


def _stacked_step(stack, trainers):
    """One step's forward pass for every member: batches, total losses and their parts."""
    batches = [tr._next_batch() for tr in trainers]
    steps = [tr._prepare_step(*b) for tr, b in zip(trainers, batches, strict=True)]
    blocks = [torch.cat(st.parts, 0) for st in steps]
    emb, hidden = stack(blocks)
    losses_m, n_targets, n_correct = stack.masked_token_losses(hidden, _labels(steps, blocks))
    totals, parts = [], []
    for m, (tr, st) in enumerate(zip(trainers, steps, strict=True)):
        loss_m = losses_m[m].float()
        loss_si = tr._si_loss(st, emb[m, :blocks[m].shape[0]])
        total = tr._combine(loss_m, loss_si)
        if not torch.isfinite(total):
            raise FloatingPointError(f"member {m}: non-finite loss {float(total)} at step "
                                     f"{tr.step}")
        totals.append(total)
        parts.append((loss_m, loss_si, {"n_targets": n_targets[m], "n_correct": n_correct[m]}))
    return batches, totals, parts


def _last_step(trainer, epochs, max_steps) -> int:
    per_epoch = math.ceil(trainer.anchor_nodes.size / trainer._batch_size)
    ends = [max_steps] if max_steps is not None else []
    if epochs is not None:
        ends.append(epochs * per_epoch)
    return min(ends)


def train_together(trainers, *, epochs: int | None = None, max_steps: int | None = None):
    """Advance several :class:`~sip_theory.models.SIPTTrainer` runs in lockstep as one computation.

    Parameters
    ----------
    trainers : sequence of SIPTTrainer
        Freshly built (no step taken), meeting :func:`together_blocker`. Each
        keeps its own data, graph, seed streams, history and evaluation callback.
    epochs, max_steps : int, optional
        As in :meth:`SIPTTrainer.fit` (default: the members' configuration).

    Returns
    -------
    list of list of dict
        Each member's history, as ``trainers[m].fit()`` returns it.

    Raises
    ------
    ValueError
        When :func:`together_blocker` names a reason, a member has already
        trained, or a member's evaluation callback asks to stop early (members
        step together).
    FloatingPointError
        A member's loss is not finite.

    Notes
    -----
    The members' own optimizers are not used (one AdamW updates the stacked
    weights, with their settings), so a member's :meth:`~SIPTTrainer.state_dict`
    after this call cannot resume it; the runner resumes whole runs.

    Examples
    --------
    >>> import torch
    >>> from sip_theory.graphs import cliques_from_labels
    >>> from sip_theory.models import MaskedTokenLM, SIPTTrainer, TransformerEncoder
    >>> g = cliques_from_labels([0, 0, 1, 1])
    >>> tokens = torch.tensor([[1, 5, 6, 2], [1, 5, 7, 2], [1, 8, 9, 2], [1, 8, 4, 2]])
    >>> def build(seed):
    ...     enc = TransformerEncoder("tiny", vocab_size=10, seed=seed)
    ...     return SIPTTrainer(enc, g, tokens, objective=MaskedTokenLM(enc, seed=seed),
    ...                        seed=seed, max_steps=3)
    >>> trainers = [build(0), build(1)]
    >>> hist = train_together(trainers) if together_blocker(trainers) is None else None
    >>> hist is None or [h[-1]["step"] for h in hist] == [3, 3]
    True
    """
    trainers = list(trainers)
    why = together_blocker(trainers)
    if why is not None:
        raise ValueError(f"trainers cannot be trained together: {why}")
    if any(tr.step for tr in trainers):
        raise ValueError("trainers must be fresh (a member has already taken steps)")
    cfg = trainers[0].config
    epochs = cfg.epochs if epochs is None else epochs
    max_steps = cfg.max_steps if max_steps is None else max_steps
    if epochs is None and max_steps is None:
        raise ValueError("give epochs or max_steps (in the config or to train_together)")
    from ._trainer import _adamw

    stack = _Stack(trainers)
    optimizer = _adamw(list(stack.stacked), cfg, trainers[0].device)
    ends = {_last_step(tr, epochs, max_steps) for tr in trainers}
    if len(ends) > 1:
        raise ValueError(f"members would stop after different numbers of steps {sorted(ends)} "
                         "(epochs of different lengths); give max_steps")
    for tr in trainers:
        tr._stop = False
    while not trainers[0]._done(epochs, max_steps):
        t0 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        batches, totals, parts = _stacked_step(stack, trainers)
        torch.stack(totals).sum().backward()
        optimizer.step()
        seconds = (time.perf_counter() - t0) / len(trainers)
        for tr, b, total, (loss_m, loss_si, metrics) in zip(trainers, batches, totals, parts,
                                                           strict=True):
            tr._record_step(b[0].size, total, loss_m, loss_si, metrics, seconds)
            if tr._stop:
                raise ValueError("an evaluation callback asked to stop early; members of "
                                 "train_together step together (train it alone)")
    for tr in trainers:
        tr._final_eval()
    return [tr.history for tr in trainers]
