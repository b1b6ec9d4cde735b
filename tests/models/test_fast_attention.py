"""The encoder's attention and dropout masks: same values as the textbook formula, cheap masks
with the drop probability they state, and reproducibility from the generator."""

import math

import pytest
import torch

from sip_theory.models import (
    GeneratorDropout,
    TransformerEncoder,
    drop_mask,
    effective_drop_probability,
    set_dropout_generator,
)


def _textbook_attention(attn, x, key_pad):
    """Softmax(QK^T / sqrt(d) + padding) V, written out (no dropout)."""
    b, t, h = x.shape
    q, k, v = attn.qkv(x).view(b, t, 3, attn.n_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
    s = (q @ k.transpose(-1, -2)) / math.sqrt(attn.head_dim)
    s = s.masked_fill(key_pad[:, None, None, :], float("-inf"))
    return attn.out((torch.softmax(s, -1) @ v).transpose(1, 2).reshape(b, t, h))


@pytest.mark.parametrize("pad", [False, True])
def test_attention_equals_the_textbook_formula(pad):
    torch.manual_seed(0)
    enc = TransformerEncoder("tiny", vocab_size=20, seed=1).eval()
    attn = enc.layers[0].attn
    x = torch.randn(3, 7, 10, dtype=torch.float64)
    attn.double()
    key_pad = torch.zeros(3, 7, dtype=torch.bool)
    if pad:
        key_pad[1, 4:] = True
        key_pad[2, 1:] = True  # one real key only: the softmax is a one-hot row
    torch.testing.assert_close(attn(x, key_pad), _textbook_attention(attn, x, key_pad),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9, 1 - 2 ** -16])
def test_drop_mask_rate_matches_the_effective_probability(p):
    n = 400_000
    m = drop_mask((n,), p, torch.Generator().manual_seed(3))
    pe = effective_drop_probability(p)
    assert abs(pe - p) <= 2 ** -17
    sd = math.sqrt(max(pe * (1 - pe), 1e-12) / n)
    assert abs(m.float().mean().item() - pe) <= 6 * sd + 1e-12


def test_drop_mask_shapes_and_reproducibility():
    g = torch.Generator().manual_seed(0)
    assert drop_mask((0, 5), 0.1, g).shape == (0, 5)
    assert not drop_mask((3, 5), 0.0, g).any()
    for shape in [(1,), (3,), (5, 7), (2, 3, 4, 5)]:  # sizes not multiples of 4
        a = drop_mask(shape, 0.3, torch.Generator().manual_seed(1))
        b = drop_mask(shape, 0.3, torch.Generator().manual_seed(1))
        assert a.shape == shape and a.dtype == torch.bool and torch.equal(a, b)
    # consecutive masks from one generator differ (the stream advances)
    g = torch.Generator().manual_seed(2)
    assert not torch.equal(drop_mask((1000,), 0.5, g), drop_mask((1000,), 0.5, g))


def test_drop_mask_elements_are_independent_of_their_position():
    # each of the four 16-bit lanes of a 64-bit draw drops at the same rate
    m = drop_mask((400_000,), 0.25, torch.Generator().manual_seed(5)).view(-1, 4).float()
    rates = m.mean(0)
    assert (rates - 0.25).abs().max() < 0.01


def test_generator_dropout_is_unbiased_with_the_effective_probability():
    d = GeneratorDropout(0.1)
    d.generator = torch.Generator().manual_seed(0)
    y = d(torch.ones(400_000))
    vals = torch.unique(y)
    assert vals.numel() == 2
    assert abs(float(vals[1]) - 1 / (1 - effective_drop_probability(0.1))) < 1e-6
    assert abs(float(y.mean()) - 1.0) < 0.005


def test_training_step_is_reproducible_from_the_generators():
    def run():
        enc = TransformerEncoder("tiny", vocab_size=20, seed=0).train()
        set_dropout_generator(enc, torch.Generator().manual_seed(7))
        x = torch.randint(4, 20, (6, 9), generator=torch.Generator().manual_seed(1))
        x[:, 0] = 1
        x[3:, 6:] = 0
        out = enc(x).embeddings
        out.pow(2).sum().backward()
        return out.detach(), [p.grad for p in enc.parameters()]
    (a, ga), (b, gb) = run(), run()
    assert torch.equal(a, b) and all(torch.equal(u, v) for u, v in zip(ga, gb, strict=True))
