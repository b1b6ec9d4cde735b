"""Per-sample (intra-sample) objectives L_M: masked-token LM and masked-feature reconstruction.

An objective has two steps, so that the trainer can pair a corrupted anchor
with uncorrupted context for the structure-inducing loss:

* ``corrupt(inputs, generator) -> (corrupted_inputs, targets)``;
* ``loss(encoder_output, targets) -> (loss, metrics)`` where ``encoder_output``
  is the encoder's :class:`EncoderOutput` on the corrupted inputs.

All randomness comes from the ``torch.Generator`` passed in.
"""

from __future__ import annotations

import torch
from torch import nn

from .._validation import check_one_of, check_probability

__all__ = [
    "MaskedFeatureReconstruction",
    "MaskedTokenLM",
    "mask_features",
    "mask_tokens",
]

IGNORE = -100


def _check_replace(replace):
    if len(replace) != 3 or min(replace) < 0 or abs(sum(replace) - 1.0) > 1e-9:
        raise ValueError(
            f"replace must be 3 non-negative probabilities (mask, random, keep) summing to 1, "
            f"got {replace!r}"
        )
    return tuple(float(r) for r in replace)


def mask_tokens(
    tokens: torch.Tensor,
    *,
    rate: float = 0.15,
    mask_token_id: int,
    vocab_size: int,
    generator: torch.Generator,
    special_ids=(0, 1, 2, 3),
    replace=(0.8, 0.1, 0.1),
):
    """BERT-style token masking.

    Every non-special token is selected with probability ``rate``; a selected
    token becomes ``mask_token_id`` with probability ``replace[0]``, a uniformly
    drawn regular token with ``replace[1]``, and stays itself with ``replace[2]``
    (Devlin et al. 2019: 80/10/10).

    Parameters
    ----------
    tokens : torch.LongTensor of shape (batch, seq_len)
    rate : float, default 0.15
    mask_token_id, vocab_size : int
    generator : torch.Generator
        On the device of ``tokens``.
    special_ids : sequence of int, default (0, 1, 2, 3)
        Never selected and never drawn as random replacements ([PAD], [CLS],
        [SEP], [MASK] of the topic corpus).
    replace : (float, float, float), default (0.8, 0.1, 0.1)

    Returns
    -------
    corrupted : torch.LongTensor
    labels : torch.LongTensor
        The original token at selected positions, -100 elsewhere.

    Examples
    --------
    >>> import torch
    >>> t = torch.arange(4, 24).reshape(2, 10)
    >>> x, y = mask_tokens(t, rate=0.5, mask_token_id=3, vocab_size=30,
    ...                    generator=torch.Generator().manual_seed(0))
    >>> bool(((y == -100) | (y == t)).all()), bool((x[y == -100] == t[y == -100]).all())
    (True, True)
    """
    rate = check_probability(rate, name="rate")
    replace = _check_replace(replace)
    if tokens.ndim != 2:
        raise ValueError(f"tokens must be 2-D (batch, seq_len), got {tuple(tokens.shape)}")
    dev = tokens.device
    special = torch.as_tensor(list(special_ids), device=dev, dtype=tokens.dtype)
    maskable = ~torch.isin(tokens, special)
    u_select = torch.rand(tokens.shape, generator=generator, device=dev)
    u_kind = torch.rand(tokens.shape, generator=generator, device=dev)
    regular = torch.ones(vocab_size, dtype=torch.bool, device=dev)
    regular[special[special < vocab_size]] = False
    regular_ids = torch.nonzero(regular).flatten()
    r_idx = torch.randint(0, regular_ids.numel(), tokens.shape, generator=generator, device=dev)
    selected = maskable & (u_select < rate)
    labels = torch.where(selected, tokens, torch.full_like(tokens, IGNORE))
    to_mask = selected & (u_kind < replace[0])
    to_random = selected & (u_kind >= replace[0]) & (u_kind < replace[0] + replace[1])
    out = torch.where(to_mask, torch.full_like(tokens, mask_token_id), tokens)
    out = torch.where(to_random, regular_ids[r_idx].to(tokens.dtype), out)
    return out, labels


class MaskedTokenLM(nn.Module):
    """Masked-token language modelling for a :class:`TransformerEncoder`.

    Parameters
    ----------
    encoder : TransformerEncoder
        Provides the vocabulary, special ids and (with ``tie_weights``) the
        output embedding matrix.
    rate : float, default 0.15
    replace : (float, float, float), default (0.8, 0.1, 0.1)
    tie_weights : bool, default True
        Decode with the encoder's token-embedding matrix (BERT); otherwise a
        separate output layer.
    seed : int, default 0
        Initialization of the prediction head.

    Notes
    -----
    Head: dense + GELU + LayerNorm, then a decoder to the vocabulary (BERT's).
    The loss is the mean cross-entropy over selected tokens; a batch without
    selected tokens gives 0 (counted in ``metrics["n_targets"]``), never NaN.

    Examples
    --------
    >>> import torch
    >>> from sip_theory.models import TransformerEncoder
    >>> enc = TransformerEncoder("tiny", vocab_size=20, seed=0)
    >>> mlm = MaskedTokenLM(enc, rate=0.3)
    >>> g = torch.Generator().manual_seed(0)
    >>> tokens = torch.randint(4, 20, (4, 6), generator=g)
    >>> tokens[:, 0] = 1  # [CLS]
    >>> x, y = mlm.corrupt(tokens, g)
    >>> loss, metrics = mlm.loss(enc(x), y)
    >>> bool(torch.isfinite(loss)), metrics["n_targets"] == int((y != -100).sum())
    (True, True)
    """

    def __init__(self, encoder, *, rate: float = 0.15, replace=(0.8, 0.1, 0.1),
                 tie_weights: bool = True, seed=0):
        super().__init__()
        from ._layers import init_generator

        cfg = encoder.config
        self.rate = check_probability(rate, name="rate")
        self.replace = _check_replace(replace)
        self.vocab_size = cfg.vocab_size
        self.mask_token_id = cfg.mask_token_id
        self.special_ids = tuple(sorted({cfg.pad_token_id, cfg.cls_token_id, cfg.mask_token_id}
                                        | set(range(cfg.n_special))))
        h = cfg.hidden_size
        self.tie_weights = bool(tie_weights)
        with torch.random.fork_rng(devices=[]):  # leave the global generator untouched
            self.dense = nn.Linear(h, h)
            self.ln = nn.LayerNorm(h, eps=cfg.layer_norm_eps)
            self.bias = nn.Parameter(torch.zeros(cfg.vocab_size))
            if self.tie_weights:
                # not registered as a submodule: the encoder owns (and saves) it
                object.__setattr__(self, "_tied", encoder.token_embedding)
                self.decoder = None
            else:
                self.decoder = nn.Linear(h, cfg.vocab_size, bias=False)
        gen = init_generator(seed)
        with torch.no_grad():
            self.dense.weight.copy_(torch.empty(h, h).normal_(0, cfg.init_std, generator=gen))
            self.dense.bias.zero_()
            if self.decoder is not None:
                self.decoder.weight.copy_(torch.empty(cfg.vocab_size, h).normal_(
                    0, cfg.init_std, generator=gen))

    def corrupt(self, tokens, generator):
        """Mask ``tokens``; returns ``(corrupted, labels)``."""
        return mask_tokens(tokens, rate=self.rate, mask_token_id=self.mask_token_id,
                           vocab_size=self.vocab_size, generator=generator,
                           special_ids=self.special_ids, replace=self.replace)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits for token states (..., hidden)."""
        h = self.ln(nn.functional.gelu(self.dense(hidden)))
        w = self._tied.weight if self.tie_weights else self.decoder.weight
        return h @ w.T.to(h.dtype) + self.bias.to(h.dtype)

    def loss(self, output, labels):
        """Mean cross-entropy over masked tokens; returns ``(loss, metrics)``."""
        hidden = output.hidden  # aligned with the input positions
        sel = labels != IGNORE
        n = int(sel.sum())
        if n == 0:
            zero = output.hidden.sum() * 0.0
            return zero.float(), {"n_targets": 0, "n_correct": 0}
        logits = self.logits(hidden[sel]).float()
        target = labels[sel]
        loss = nn.functional.cross_entropy(logits, target)
        n_correct = int((logits.argmax(-1) == target).sum())
        return loss, {"n_targets": n, "n_correct": n_correct}


def mask_features(
    x: torch.Tensor,
    *,
    rate: float = 0.15,
    generator: torch.Generator,
    scope: str = "all",
    mask_value: float = 0.0,
):
    """Hide a random subset of feature entries.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_features)
    rate : float, default 0.15
        Probability that an eligible entry is hidden.
    generator : torch.Generator
    scope : {"all", "nonzero"}, default "all"
        Eligible entries: every entry, or only the non-zero ones (for sparse
        bag-of-words vectors, where most entries are 0).
    mask_value : float, default 0.0
        Value written into hidden entries.

    Returns
    -------
    corrupted : torch.Tensor
    mask : torch.BoolTensor
        True where an entry was hidden.

    Examples
    --------
    >>> import torch
    >>> x = torch.ones(2, 6)
    >>> xc, m = mask_features(x, rate=0.5, generator=torch.Generator().manual_seed(0))
    >>> bool((xc[m] == 0).all()), bool((xc[~m] == 1).all())
    (True, True)
    """
    rate = check_probability(rate, name="rate")
    check_one_of(scope, ("all", "nonzero"), name="scope")
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (batch, n_features), got {tuple(x.shape)}")
    u = torch.rand(x.shape, generator=generator, device=x.device)
    mask = u < rate
    if scope == "nonzero":
        mask &= x != 0
    return torch.where(mask, torch.full_like(x, mask_value), x), mask


class MaskedFeatureReconstruction(nn.Module):
    """Masked-feature reconstruction for dense or bag-of-words vectors (e.g. Cora + MLP).

    Parameters
    ----------
    embedding_dim : int
        Encoder output size (the reconstruction head reads the embeddings).
    n_features : int
    rate : float, default 0.15
    loss : {"bce", "mse"}, default "bce"
        Binary cross-entropy on logits (binary bag-of-words) or squared error (dense).
    scope : {"all", "nonzero"}, default "all"
        Which entries may be hidden (see :func:`mask_features`).
    loss_on : {"masked", "all"}, default "masked"
        Score the hidden entries only, or the whole vector (denoising autoencoder).
    hidden_size : int or None, default None
        Optional hidden layer in the head.
    seed : int, default 0

    Notes
    -----
    The head maps the sample embedding to ``n_features`` predictions. With no
    entry to score the loss is 0 (counted in ``metrics["n_targets"]``).

    Examples
    --------
    >>> import torch
    >>> from sip_theory.models import MLPEncoder
    >>> enc = MLPEncoder(12, hidden_sizes=[8], out_features=4)
    >>> obj = MaskedFeatureReconstruction(4, 12, rate=0.5)
    >>> g = torch.Generator().manual_seed(0)
    >>> x = (torch.rand(3, 12, generator=g) < 0.3).float()
    >>> xc, t = obj.corrupt(x, g)
    >>> loss, metrics = obj.loss(enc(xc), t)
    >>> bool(torch.isfinite(loss))
    True
    """

    def __init__(self, embedding_dim: int, n_features: int, *, rate: float = 0.15,
                 loss: str = "bce", scope: str = "all", loss_on: str = "masked",
                 hidden_size: int | None = None, seed=0):
        super().__init__()
        from ._layers import init_generator

        self.rate = check_probability(rate, name="rate")
        self.loss_kind = check_one_of(loss, ("bce", "mse"), name="loss")
        self.scope = check_one_of(scope, ("all", "nonzero"), name="scope")
        self.loss_on = check_one_of(loss_on, ("masked", "all"), name="loss_on")
        with torch.random.fork_rng(devices=[]):  # leave the global generator untouched
            if hidden_size is None:
                self.head = nn.Linear(embedding_dim, n_features)
            else:
                self.head = nn.Sequential(nn.Linear(embedding_dim, hidden_size), nn.ReLU(),
                                          nn.Linear(hidden_size, n_features))
        gen = init_generator(seed)
        with torch.no_grad():
            for mod in self.head.modules():
                if isinstance(mod, nn.Linear):
                    b = 1.0 / mod.in_features ** 0.5
                    mod.weight.copy_(torch.empty(mod.weight.shape).uniform_(-b, b, generator=gen))
                    mod.bias.copy_(torch.empty(mod.bias.shape).uniform_(-b, b, generator=gen))

    def corrupt(self, x, generator):
        """Hide entries of ``x``; returns ``(corrupted, (original, mask))``."""
        xc, mask = mask_features(x, rate=self.rate, generator=generator, scope=self.scope)
        return xc, (x, mask)

    def loss(self, output, targets):
        """Reconstruction loss on the hidden (or all) entries; returns ``(loss, metrics)``."""
        x, mask = targets
        pred = self.head(output.embeddings).float()
        x = x.float()
        if self.loss_on == "masked":
            n = int(mask.sum())
            pred, x = pred[mask], x[mask]
        else:  # every entry: no boolean indexing (a gather over the whole batch is slow)
            n = pred.numel()
            pred, x = pred.reshape(-1), x.reshape(-1)
        if n == 0:
            return pred.sum() * 0.0, {"n_targets": 0, "n_correct": 0}
        if self.loss_kind == "bce":
            loss = nn.functional.binary_cross_entropy_with_logits(pred, x)
            n_correct = int(((pred > 0) == (x > 0.5)).sum())
        else:
            loss = nn.functional.mse_loss(pred, x)
            n_correct = 0
        return loss, {"n_targets": n, "n_correct": n_correct}
