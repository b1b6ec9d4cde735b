"""Vector encoders: a multi-layer perceptron and a free lookup table."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ._layers import EncoderOutput, GeneratorDropout, init_generator

__all__ = ["LookupEncoder", "MLPEncoder"]

_ACTIVATIONS = {"relu": nn.functional.relu, "gelu": nn.functional.gelu, "tanh": torch.tanh}


class MLPEncoder(nn.Module):
    """Feed-forward encoder for dense or bag-of-words sample vectors.

    Parameters
    ----------
    in_features : int
    hidden_sizes : sequence of int, default (256,)
        Widths of the hidden layers (each followed by the activation and dropout).
    out_features : int, default 64
        Embedding dimension; the last layer is linear (no activation).
    activation : {"relu", "gelu", "tanh"}, default "relu"
    dropout : float, default 0.1
        Applied to the input and after every hidden layer (:class:`GeneratorDropout`).
    seed : int or torch.Generator, default 0
        Initialization (PyTorch's default uniform(+-1/sqrt(fan_in)) scheme), drawn
        from this generator only.

    Examples
    --------
    >>> import torch
    >>> enc = MLPEncoder(5, hidden_sizes=[8], out_features=3, seed=0)
    >>> enc(torch.ones(2, 5)).embeddings.shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        in_features: int,
        *,
        hidden_sizes: Sequence[int] = (256,),
        out_features: int = 64,
        activation: str = "relu",
        dropout: float = 0.1,
        seed=0,
    ):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {tuple(_ACTIVATIONS)!r}, got {activation!r}"
            )
        sizes = [int(in_features), *map(int, hidden_sizes), int(out_features)]
        if min(sizes) < 1:
            raise ValueError(f"layer sizes must be positive, got {sizes}")
        self.activation = activation
        with torch.random.fork_rng(devices=[]):  # leave the global generator untouched
            self.linears = nn.ModuleList(
                nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
            )
        self.drops = nn.ModuleList(GeneratorDropout(dropout) for _ in sizes[:-1])
        self.in_features = sizes[0]
        self.reset_parameters(seed)

    @property
    def embedding_dim(self) -> int:
        return self.linears[-1].out_features

    def reset_parameters(self, seed=0) -> None:
        """Re-initialize from ``seed``: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        gen = init_generator(seed)
        with torch.no_grad():
            for lin in self.linears:
                bound = 1.0 / math.sqrt(lin.in_features)
                lin.weight.copy_(torch.empty(lin.weight.shape).uniform_(-bound, bound,
                                                                         generator=gen))
                lin.bias.copy_(torch.empty(lin.bias.shape).uniform_(-bound, bound, generator=gen))

    def forward(self, x: torch.Tensor) -> EncoderOutput:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"x must have shape (batch, {self.in_features}), got {tuple(x.shape)}"
            )
        act = _ACTIVATIONS[self.activation]
        h = x.to(self.linears[0].weight.dtype)
        last = len(self.linears) - 1
        for i, (lin, drop) in enumerate(zip(self.linears, self.drops, strict=True)):
            h = lin(drop(h))
            if i < last:
                h = act(h)
        return EncoderOutput(embeddings=h, hidden=h)


class LookupEncoder(nn.Module):
    """Free embeddings: one trainable vector per node (input: node indices).

    The shallowest possible encoder, used to study a loss in isolation
    (permissibility experiments): whatever the loss can reach, a lookup table
    can reach.

    Parameters
    ----------
    n_nodes : int
    dim : int
    init_std : float, default 1.0
    seed : int or torch.Generator, default 0

    Examples
    --------
    >>> import torch
    >>> enc = LookupEncoder(4, 2, seed=0)
    >>> enc(torch.tensor([0, 3])).embeddings.shape
    torch.Size([2, 2])
    """

    def __init__(self, n_nodes: int, dim: int, *, init_std: float = 1.0, seed=0):
        super().__init__()
        gen = init_generator(seed)
        self.weight = nn.Parameter(torch.empty(int(n_nodes), int(dim)).normal_(
            0.0, float(init_std), generator=gen))

    @property
    def embedding_dim(self) -> int:
        return self.weight.shape[1]

    def forward(self, idx: torch.Tensor) -> EncoderOutput:
        z = self.weight[idx.long()]
        return EncoderOutput(embeddings=z, hidden=z)
