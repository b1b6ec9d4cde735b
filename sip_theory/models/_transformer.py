"""A small BERT-style transformer encoder in plain torch, with [CLS] pooling."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from .._serialization import ToDictMixin
from ._layers import EncoderOutput, GeneratorDropout, init_generator
from ._native import MAX_HEAD_DIM, fused_layer, kernel_info, native_available

__all__ = ["KERNELS", "PRESETS", "TransformerConfig", "TransformerEncoder"]

#: Ways to compute a layer (:attr:`TransformerConfig.kernel`).
KERNELS = ("auto", "torch", "native")

#: The paper's synthetic-experiment encoders (experiments.md section 1). Dropout
#: follows the official code: its BertConfig sets ``hidden_dropout_prob=0`` and
#: leaves the attention-probability dropout at BERT's 0.1.
PRESETS = {
    "tiny": dict(hidden_size=10, n_layers=2, n_heads=2, ffn_size=8,
                 dropout=0.0, attention_dropout=0.1),
    "manifold": dict(hidden_size=256, n_layers=3, n_heads=4, ffn_size=256,
                     dropout=0.0, attention_dropout=0.1),
}


@dataclasses.dataclass(frozen=True)
class TransformerConfig(ToDictMixin):
    """Size and vocabulary of a :class:`TransformerEncoder`.

    Parameters
    ----------
    vocab_size : int
        Number of token ids, special tokens included.
    hidden_size, n_layers, n_heads, ffn_size : int
        Model width, depth, attention heads (must divide ``hidden_size``) and
        feed-forward width.
    max_len : int, default 512
        Longest input sequence (a prepended [CLS] position is added on top).
    dropout, attention_dropout : float, default 0.1
        BERT's hidden and attention-probability dropout.
    pad_token_id, cls_token_id, mask_token_id : int, default 0, 1, 3
        Special tokens (the ids of :mod:`sip_theory.data`'s topic corpus:
        [PAD] 0, [CLS] 1, [SEP] 2, [MASK] 3).
    n_special : int, default 4
        Ids below this are special: never masked, never drawn as random replacements.
    prepend_cls : bool, default False
        Whether the encoder prepends [CLS] itself. Default: the input sequences
        already start with [CLS] (as the topic corpus writes them).
    pooling : {"cls", "mean"}, default "cls"
        Sample embedding: the last-layer state at [CLS] (the paper) or the mean
        over non-padding tokens.
    layer_norm_eps : float, default 1e-12
    init_std : float, default 0.02
        Standard deviation of the normal initialization (BERT's).
    kernel : {"auto", "torch", "native"}, default "auto"
        How a layer is computed. ``"torch"``: plain torch operators.
        ``"native"``: the fused CPU kernels of :mod:`sip_theory.models._native`
        (an error where they cannot run). ``"auto"``: native where they can run
        (CPU, float32, no autocast, no active hidden dropout, heads at most 64
        wide, a C compiler present), torch otherwise. Both compute the same
        function up to float32 rounding.

    Examples
    --------
    >>> cfg = TransformerConfig.preset("tiny", vocab_size=30)
    >>> (cfg.hidden_size, cfg.n_layers, cfg.n_heads, cfg.ffn_size)
    (10, 2, 2, 8)
    """

    vocab_size: int
    hidden_size: int = 10
    n_layers: int = 2
    n_heads: int = 2
    ffn_size: int = 8
    max_len: int = 512
    dropout: float = 0.1
    attention_dropout: float = 0.1
    pad_token_id: int = 0
    cls_token_id: int = 1
    mask_token_id: int = 3
    n_special: int = 4
    prepend_cls: bool = False
    pooling: str = "cls"
    layer_norm_eps: float = 1e-12
    init_std: float = 0.02
    kernel: str = "auto"

    def __post_init__(self):
        for name in ("vocab_size", "hidden_size", "n_layers", "n_heads", "ffn_size", "max_len"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.hidden_size % self.n_heads:
            raise ValueError(
                f"n_heads={self.n_heads} must divide hidden_size={self.hidden_size}"
            )
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {self.kernel!r}")
        if self.pooling not in ("cls", "mean"):
            raise ValueError(f"pooling must be 'cls' or 'mean', got {self.pooling!r}")
        specials = {self.pad_token_id, self.cls_token_id, self.mask_token_id}
        if len(specials) != 3 or max(specials) >= self.vocab_size or min(specials) < 0:
            raise ValueError("pad/cls/mask token ids must be distinct and < vocab_size")
        if self.vocab_size <= self.n_special:
            raise ValueError("vocab_size must exceed n_special (no regular tokens)")

    @classmethod
    def preset(cls, name: str, *, vocab_size: int, **overrides) -> TransformerConfig:
        """The ``"tiny"`` or ``"manifold"`` configuration, with optional overrides."""
        if name not in PRESETS:
            raise ValueError(f"name must be one of {tuple(PRESETS)!r}, got {name!r}")
        return cls(vocab_size=vocab_size, **{**PRESETS[name], **overrides})


class _SelfAttention(nn.Module):
    """Multi-head self-attention over key-padded sequences, computed explicitly.

    Why not torch's fused ``scaled_dot_product_attention``: with attention
    dropout it draws its mask from torch's global generator (not reproducible
    from a run's own generator), and at the reference encoders' head sizes
    (5 for "tiny") it is no faster on CPU than this path
    (``experiments/benchmarks/bench_encoder.py`` prints both). This path keeps
    the passes over the (batch, heads, length, length) tensor few: the
    1/sqrt(d) scale is folded into the queries, the padding bias is added only
    when a key is padded, the mask comes from :func:`~sip_theory.models.drop_mask` (16 random
    bits per element) and the dropout rescaling is folded into the values.
    """

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.head_dim = cfg.hidden_size // cfg.n_heads
        self.qkv = nn.Linear(cfg.hidden_size, 3 * cfg.hidden_size)
        self.out = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.attn_drop = GeneratorDropout(cfg.attention_dropout)

    def forward(self, x, key_pad):
        b, t, h = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        bh = b * self.n_heads
        scores = torch.bmm((q * self.head_dim ** -0.5).reshape(bh, t, -1),
                           k.reshape(bh, t, -1).transpose(1, 2)).view(b, self.n_heads, t, t)
        if key_pad.any():
            bias = torch.zeros(key_pad.shape, dtype=q.dtype, device=q.device)
            scores = scores + bias.masked_fill_(key_pad, float("-inf"))[:, None, None, :]
        probs = torch.softmax(scores, dim=-1)
        scale = 1.0
        if self.attn_drop.active:
            # torch.where is one pass over the probabilities; masked_fill is two on CPU
            probs = torch.where(self.attn_drop.mask(probs.shape, probs.device), 0.0, probs)
            scale = self.attn_drop.scale
        ctx = torch.bmm(probs.view(bh, t, t), v.reshape(bh, t, -1) * scale)
        ctx = ctx.view(b, self.n_heads, t, -1)
        return self.out(ctx.transpose(1, 2).reshape(b, t, h))


class _Layer(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.attn = _SelfAttention(cfg)
        self.ln1 = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.ff1 = nn.Linear(cfg.hidden_size, cfg.ffn_size)
        self.ff2 = nn.Linear(cfg.ffn_size, cfg.hidden_size)
        self.ln2 = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.drop1 = GeneratorDropout(cfg.dropout)
        self.drop2 = GeneratorDropout(cfg.dropout)

    def forward(self, x, key_pad, native: bool = False):
        if native:
            return fused_layer(self, x, key_pad)
        x = self.ln1(x + self.drop1(self.attn(x, key_pad)))
        return self.ln2(x + self.drop2(self.ff2(nn.functional.gelu(self.ff1(x)))))


class TransformerEncoder(nn.Module):
    """BERT-style encoder (post-LayerNorm, GELU) mapping token ids to sample embeddings.

    Parameters
    ----------
    config : TransformerConfig or str
        A configuration, or a preset name (``"tiny"``, ``"manifold"``) together
        with ``vocab_size``.
    vocab_size : int, optional
        Needed with a preset name.
    seed : int or torch.Generator, default 0
        Parameter initialization (normal(0, init_std) weights, zero biases, unit
        LayerNorms), drawn from this generator only.
    **overrides
        Config fields overriding a preset.

    Notes
    -----
    Input: a LongTensor (batch, seq_len) of token ids, padded with
    ``pad_token_id``, starting with [CLS] (or without it, with ``prepend_cls``).
    Output: an :class:`EncoderOutput` whose ``embeddings`` are the last-layer
    [CLS] states (no projection head, as in the paper) and ``hidden`` the token
    states aligned with the input positions (batch, seq_len, hidden).
    Dropout uses :class:`GeneratorDropout`: masks come from an explicit
    generator, so on one machine and thread count a run is reproducible from
    its seed. Attention is computed explicitly, so results do not depend on which
    kernel a device picks; on CPU the layers run through the fused kernels of
    :mod:`sip_theory.models._native` where they apply (``config.kernel``), which
    compute the same function up to float32 rounding, and with the same dropout draws.

    Examples
    --------
    >>> import torch
    >>> enc = TransformerEncoder("tiny", vocab_size=20, seed=0).eval()
    >>> out = enc(torch.tensor([[1, 5, 6, 7, 2], [1, 8, 9, 2, 0]]))  # [CLS] ... [SEP] [PAD]
    >>> tuple(out.embeddings.shape), tuple(out.hidden.shape)
    ((2, 10), (2, 5, 10))
    """

    def __init__(self, config, *, vocab_size: int | None = None, seed=0, **overrides):
        super().__init__()
        if isinstance(config, str):
            if vocab_size is None:
                raise ValueError("vocab_size is required with a preset name")
            config = TransformerConfig.preset(config, vocab_size=vocab_size, **overrides)
        elif overrides or vocab_size is not None:
            config = dataclasses.replace(
                config, **overrides, **({"vocab_size": vocab_size} if vocab_size else {})
            )
        if not isinstance(config, TransformerConfig):
            raise TypeError(f"config must be a TransformerConfig or preset name, got {config!r}")
        self.config = config
        h = config.hidden_size
        # torch's layer constructors draw a default initialization from the global
        # generator; fork it so that building a model leaves it untouched
        with torch.random.fork_rng(devices=[]):
            self.token_embedding = nn.Embedding(config.vocab_size, h)
            self.position_embedding = nn.Embedding(config.max_len + 1, h)
            self.ln = nn.LayerNorm(h, eps=config.layer_norm_eps)
            self.drop = GeneratorDropout(config.dropout)
            self.layers = nn.ModuleList(_Layer(config) for _ in range(config.n_layers))
        self.reset_parameters(seed)

    @property
    def embedding_dim(self) -> int:
        return self.config.hidden_size

    def native_blocker(self, x: torch.Tensor | None = None) -> str | None:
        """Why the fused CPU kernels cannot compute this encoder's layers (None if they can).

        ``x``: the layers' input (device and dtype); default: the parameters'.
        """
        ref = self.token_embedding.weight if x is None else x
        if ref.device.type != "cpu" or ref.dtype != torch.float32:
            return f"input on {ref.device.type} with dtype {ref.dtype} (needs CPU float32)"
        if _autocast_on():
            return "autocast is enabled"
        if self.config.n_heads and self.config.hidden_size // self.config.n_heads > MAX_HEAD_DIM:
            return f"heads wider than {MAX_HEAD_DIM}"
        if any(layer.drop1.active or layer.drop2.active for layer in self.layers):
            return "hidden dropout is active (the kernels have attention dropout only)"
        if not native_available():
            return f"kernels unavailable: {kernel_info()['how']}"
        return None

    def uses_native(self, x: torch.Tensor | None = None) -> bool:
        """Whether a forward pass on ``x`` runs the fused kernels (see ``config.kernel``).

        Raises ``ValueError`` with ``kernel="native"`` where they cannot run.

        Examples
        --------
        >>> enc = TransformerEncoder("tiny", vocab_size=20, kernel="torch")
        >>> enc.uses_native()
        False
        """
        if self.config.kernel == "torch":
            return False
        why = self.native_blocker(x)
        if why is not None and self.config.kernel == "native":
            raise ValueError(f"kernel='native' cannot run: {why}")
        return why is None

    def reset_parameters(self, seed=0) -> None:
        """Re-initialize every parameter from ``seed`` (BERT's scheme)."""
        gen = init_generator(seed)
        std = self.config.init_std
        with torch.no_grad():
            for mod in self.modules():
                if isinstance(mod, (nn.Linear, nn.Embedding)):
                    w = torch.empty(mod.weight.shape).normal_(0.0, std, generator=gen)
                    mod.weight.copy_(w)
                    if isinstance(mod, nn.Linear) and mod.bias is not None:
                        mod.bias.zero_()
                elif isinstance(mod, nn.LayerNorm):
                    mod.weight.fill_(1.0)
                    mod.bias.zero_()

    def forward(self, tokens: torch.Tensor) -> EncoderOutput:
        if tokens.ndim != 2:
            raise ValueError(f"tokens must be 2-D (batch, seq_len), got {tuple(tokens.shape)}")
        cfg = self.config
        b, t = tokens.shape
        if t > cfg.max_len:
            raise ValueError(f"sequence length {t} exceeds max_len={cfg.max_len}")
        if cfg.prepend_cls:
            cls = torch.full((b, 1), cfg.cls_token_id, dtype=tokens.dtype, device=tokens.device)
            ids = torch.cat([cls, tokens], dim=1)
        else:
            ids = tokens
        key_pad = ids == cfg.pad_token_id
        pos = torch.arange(ids.shape[1], device=tokens.device)
        x = self.token_embedding(ids) + self.position_embedding(pos)[None]
        x = self.drop(self.ln(x))
        native = self.uses_native(x)
        for layer in self.layers:
            x = layer(x, key_pad, native)
        if cfg.pooling == "cls":
            emb = x[:, 0]
        else:
            keep = (~key_pad).to(x.dtype)[..., None]
            keep[:, 0] = 0.0
            emb = (x * keep).sum(1) / keep.sum(1).clamp_min(1.0)
        return EncoderOutput(embeddings=emb, hidden=x[:, 1:] if cfg.prepend_cls else x)


def _autocast_on() -> bool:
    try:
        return torch.is_autocast_enabled("cpu")
    except TypeError:  # torch < 2.4
        return torch.is_autocast_cpu_enabled()
