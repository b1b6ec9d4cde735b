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
    "DROP_RESOLUTION",
    "EncoderOutput",
    "GeneratorDropout",
    "drop_mask",
    "effective_drop_probability",
    "init_generator",
    "set_dropout_generator",
]

#: Drop probabilities are realized as multiples of 1 / DROP_RESOLUTION (one 16-bit
#: random number per element; see :func:`drop_mask`).
DROP_RESOLUTION = 2 ** 16


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


def drop_mask(shape, p: float, generator: torch.Generator, device=None) -> torch.Tensor:
    """A boolean mask, True where an element is dropped, from 16 random bits per element.

    Parameters
    ----------
    shape : tuple of int
    p : float in [0, 1)
        Drop probability. It is realized exactly as ``round(p * 2**16) / 2**16``
        (0.1 becomes 0.100006): every element is dropped independently with
        that probability, :func:`effective_drop_probability`.
    generator : torch.Generator
        On ``device``; the only source of randomness.
    device : torch.device, optional
        Default: the generator's device.

    Returns
    -------
    torch.BoolTensor of ``shape``

    Notes
    -----
    Why not ``torch.rand(shape) < p``: that costs one 32-bit draw and one float
    per element, and on CPU the draws are serial, so for attention
    probabilities (batch x heads x length x length) the mask alone took as long
    as the attention product. Here one full-range 64-bit draw gives four 16-bit
    uniform integers, a quarter of the draws.

    Examples
    --------
    >>> import torch
    >>> m = drop_mask((1000, 100), 0.1, torch.Generator().manual_seed(0))
    >>> m.shape, round(m.float().mean().item(), 2)
    (torch.Size([1000, 100]), 0.1)
    >>> m2 = drop_mask((1000, 100), 0.1, torch.Generator().manual_seed(0))
    >>> torch.equal(m, m2)
    True
    """
    device = generator.device if device is None else torch.device(device)
    n = 1
    for s in shape:
        n *= int(s)
    threshold = effective_drop_probability(p, exact_count=True)
    if n == 0 or threshold == 0:
        return torch.zeros(shape, dtype=torch.bool, device=device)
    words = torch.randint(-(2 ** 63), 2 ** 63 - 1, (-(-n // 4),), dtype=torch.int64,
                          generator=generator, device=device)
    # a signed 16-bit value is uniform on [-2**15, 2**15); drop the lowest `threshold` values
    return (words.view(torch.int16)[:n] < threshold - 2 ** 15).view(shape)


def effective_drop_probability(p: float, *, exact_count: bool = False):
    """The drop probability :func:`drop_mask` realizes for ``p``: p rounded to 1/2**16.

    With ``exact_count`` the number of dropped values out of 2**16 (an int).

    Examples
    --------
    >>> effective_drop_probability(0.1), effective_drop_probability(0.5)
    (0.100006103515625, 0.5)
    """
    k = int(round(float(p) * DROP_RESOLUTION))
    return k if exact_count else k / DROP_RESOLUTION


class GeneratorDropout(nn.Module):
    """Inverted dropout whose masks come from an explicit ``torch.Generator``.

    Parameters
    ----------
    p : float
        Drop probability, realized as :func:`effective_drop_probability` (p
        rounded to a multiple of 2**-16) when a generator is installed; kept
        values are scaled by ``1 / (1 - p_effective)``, so the layer is unbiased.

    Notes
    -----
    With no generator installed (``self.generator is None``) it behaves like
    :class:`torch.nn.Dropout` and uses torch's global generator. The generator
    must live on the device of the activations. :meth:`mask` gives the drop
    mask alone, for callers that fold the rescaling elsewhere (attention).

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

    @property
    def active(self) -> bool:
        """Whether a forward pass drops anything (training mode and p > 0)."""
        return self.training and self.p > 0.0

    @property
    def scale(self) -> float:
        """The factor applied to kept values, 1 / (1 - p_effective)."""
        return 1.0 / (1.0 - effective_drop_probability(self.p))

    def mask(self, shape, device) -> torch.Tensor:
        """A drop mask (True = dropped) from the installed generator."""
        if self.generator is None:
            return torch.rand(shape, device=device) < effective_drop_probability(self.p)
        return drop_mask(shape, self.p, self.generator, device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.active:
            return x
        if self.generator is None:
            return nn.functional.dropout(x, self.p, True)
        return x.masked_fill(self.mask(x.shape, x.device), 0.0) * self.scale

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
