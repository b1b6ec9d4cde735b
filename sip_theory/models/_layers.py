"""Building blocks shared by the reference encoders.

Randomness in the models never touches torch's global generator when a
generator is installed: :class:`GeneratorDropout` draws its masks from an
explicit ``torch.Generator`` (the trainer installs its own with
:func:`set_dropout_generator`, so a run is reproducible from its seed and a
checkpoint can store the generator state). Parameters are initialized from a
generator too (:func:`init_generator`).
"""

from __future__ import annotations

import dataclasses
import numbers

import torch
from torch import nn

__all__ = [
    "EncoderOutput",
    "GeneratorDropout",
    "init_generator",
    "set_dropout_generator",
]


@dataclasses.dataclass
class EncoderOutput:
    """What a reference encoder returns.

    Attributes
    ----------
    embeddings : torch.Tensor of shape (batch, dim)
        One per-sample embedding per input row (the [CLS] state for transformers).
    hidden : torch.Tensor
        Token states aligned with the input positions (batch, seq_len, hidden)
        for transformers; the embeddings again for vector encoders.
        Per-sample objectives (masked-token LM, masked-feature reconstruction)
        read their predictions from here.
    """

    embeddings: torch.Tensor
    hidden: torch.Tensor


def init_generator(seed) -> torch.Generator:
    """A CPU ``torch.Generator`` from an int seed (or the generator itself).

    Examples
    --------
    >>> init_generator(3).initial_seed()
    3
    """
    if isinstance(seed, torch.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise TypeError(f"seed must be a non-negative int or torch.Generator, got {seed!r}")
    return torch.Generator().manual_seed(int(seed))


class GeneratorDropout(nn.Module):
    """Inverted dropout whose masks come from an explicit ``torch.Generator``.

    Parameters
    ----------
    p : float
        Drop probability.

    Notes
    -----
    With no generator installed (``self.generator is None``) it behaves like
    :class:`torch.nn.Dropout` and uses torch's global generator. The generator
    must live on the device of the activations.

    Examples
    --------
    >>> import torch
    >>> d = GeneratorDropout(0.5)
    >>> d.generator = torch.Generator().manual_seed(0)
    >>> a = d(torch.ones(8))
    >>> d.generator = torch.Generator().manual_seed(0)
    >>> torch.equal(a, d(torch.ones(8)))
    True
    """

    def __init__(self, p: float):
        super().__init__()
        if not 0.0 <= float(p) < 1.0:
            raise ValueError(f"p must be in [0, 1), got {p}")
        self.p = float(p)
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.generator is None:
            return nn.functional.dropout(x, self.p, True)
        keep = torch.rand(x.shape, generator=self.generator, device=x.device) >= self.p
        return x * keep.to(x.dtype) / (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def set_dropout_generator(module: nn.Module, generator: torch.Generator | None) -> int:
    """Install ``generator`` in every :class:`GeneratorDropout` of ``module``.

    Returns the number of dropout layers updated.

    Examples
    --------
    >>> import torch
    >>> m = torch.nn.Sequential(GeneratorDropout(0.1), GeneratorDropout(0.2))
    >>> set_dropout_generator(m, torch.Generator())
    2
    """
    count = 0
    for sub in module.modules():
        if isinstance(sub, GeneratorDropout):
            sub.generator = generator
            count += 1
    return count
