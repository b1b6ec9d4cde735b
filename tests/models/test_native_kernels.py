"""The fused CPU kernels compute the plain-torch layer: same outputs, gradients and dropout
draws (to float32 rounding), on the hard cases (padding, one real key, lengths that are and
are not multiples of the 8-lane vectors, huge logits), and the encoder falls back to torch
where they cannot run."""

import os
import subprocess
import sys

import pytest
import torch

from sip_theory.models import MaskedTokenLM, TransformerEncoder, set_dropout_generator
from sip_theory.models._native import kernel_info, native_available

needs_kernels = pytest.mark.skipif(not native_available(),
                                   reason=f"native kernels unavailable: {kernel_info()['how']}")


def _step(kernel, *, length, attention_dropout, batch=7, preset="tiny", pad_mode="mixed",
          **overrides):
    enc = TransformerEncoder(preset, vocab_size=23, seed=3, kernel=kernel,
                             attention_dropout=attention_dropout, dropout=0.0, **overrides)
    obj = MaskedTokenLM(enc, seed=3)
    gen = torch.Generator().manual_seed(11)
    set_dropout_generator(enc, gen)
    data = torch.randint(4, 23, (batch, length), generator=torch.Generator().manual_seed(5))
    data[:, 0] = 1
    if pad_mode == "mixed":
        data[batch // 2:, max(1, length - length // 3):] = 0
        data[-1, 1:] = 0  # a row with [CLS] as its only real key
    xc, tc = obj.corrupt(data, torch.Generator().manual_seed(7))
    out = enc(xc)
    loss, _ = obj.loss(out, tc)
    (loss + out.embeddings.pow(2).mean()).backward()
    return out.hidden.detach(), {n: p.grad.clone() for n, p in enc.named_parameters()}, \
        gen.get_state()


def _assert_same_gradients(g_native, g_torch):
    # float32 rounding relative to the largest gradient: gradients that are 0 in exact
    # arithmetic (the embeddings at length 1, behind LayerNorms) come out as noise of that size
    scale = max(float(g.abs().max()) for g in g_torch.values())
    for name, grad in g_torch.items():
        torch.testing.assert_close(g_native[name], grad, rtol=1e-4, atol=2e-6 * scale, msg=name)


@needs_kernels
@pytest.mark.parametrize("length", [1, 2, 8, 18, 33])
@pytest.mark.parametrize("attention_dropout", [0.0, 0.1, 0.5])
def test_native_layer_equals_the_torch_layer(length, attention_dropout):
    h_t, g_t, s_t = _step("torch", length=length, attention_dropout=attention_dropout)
    h_n, g_n, s_n = _step("native", length=length, attention_dropout=attention_dropout)
    torch.testing.assert_close(h_n, h_t, rtol=1e-5, atol=2e-6)
    _assert_same_gradients(g_n, g_t)
    assert torch.equal(s_n, s_t)  # the same number of draws from the dropout generator


@needs_kernels
@pytest.mark.parametrize("heads,hidden", [(4, 64), (2, 12), (1, 64)])
def test_native_layer_at_other_head_widths(heads, hidden):
    kw = dict(hidden_size=hidden, n_heads=heads, ffn_size=16, length=11, attention_dropout=0.1)
    h_t, g_t, _ = _step("torch", **kw)
    h_n, g_n, _ = _step("native", **kw)
    torch.testing.assert_close(h_n, h_t, rtol=1e-5, atol=2e-6)
    _assert_same_gradients(g_n, g_t)


@needs_kernels
def test_native_softmax_with_huge_logits_and_ties():
    """Scores of 1e4 (exp underflows for all but the maximum) and exactly tied keys."""
    torch.manual_seed(0)
    outs = []
    for kernel in ("torch", "native"):
        enc = TransformerEncoder("tiny", vocab_size=9, seed=0, kernel=kernel).eval()
        with torch.no_grad():
            for layer in enc.layers:
                layer.attn.qkv.weight.mul_(3e3)
        tokens = torch.tensor([[1, 5, 5, 5, 6, 0, 0], [1, 7, 7, 7, 7, 7, 7]])
        outs.append(enc(tokens).hidden)
    assert torch.isfinite(outs[1]).all()
    torch.testing.assert_close(outs[1], outs[0], rtol=1e-4, atol=1e-4)


@needs_kernels
def test_native_runs_are_bit_identical_in_one_process():
    a = _step("native", length=18, attention_dropout=0.1)
    b = _step("native", length=18, attention_dropout=0.1)
    assert torch.equal(a[0], b[0])
    assert all(torch.equal(a[1][n], b[1][n]) for n in a[1])


def test_kernel_choice_and_fallback():
    enc = TransformerEncoder("tiny", vocab_size=9, kernel="torch")
    assert not enc.uses_native()
    hidden_dropout = TransformerEncoder("tiny", vocab_size=9, dropout=0.1).train()
    assert not hidden_dropout.uses_native()  # auto falls back to torch
    assert "hidden dropout" in hidden_dropout.native_blocker()
    strict = TransformerEncoder("tiny", vocab_size=9, dropout=0.1, kernel="native").train()
    with pytest.raises(ValueError, match="kernel='native' cannot run"):
        strict(torch.tensor([[1, 5, 6]]))
    assert not enc.uses_native(torch.zeros(2, 3, 10, dtype=torch.float64))
    with pytest.raises(ValueError, match="kernel must be one of"):
        TransformerEncoder("tiny", vocab_size=9, kernel="fast")


@pytest.mark.parametrize("broken", ["compiler", "cache"])
def test_without_a_compiler_or_cache_the_encoder_runs_on_torch(tmp_path, broken):
    expected = "no C compiler" if broken == "compiler" else "compilation failed"
    code = ("import torch\n"
            "from sip_theory.models import TransformerEncoder\n"
            "from sip_theory.models._native import kernel_info\n"
            "enc = TransformerEncoder('tiny', vocab_size=9)\n"
            "out = enc(torch.tensor([[1, 5, 6, 0]]))\n"
            "info = kernel_info()\n"
            f"assert not info['available'] and {expected!r} in info['how'], info\n"
            "assert not enc.uses_native() and out.hidden.shape == (1, 4, 10)\n")
    env = {**os.environ, "SIP_THEORY_CACHE": str(tmp_path)}
    if broken == "compiler":
        env["CC"] = "no-such-compiler-xyz"
    else:  # the cache folder cannot be created: its parent is a file
        (tmp_path / "file").write_text("")
        env["SIP_THEORY_CACHE"] = str(tmp_path / "file" / "cache")
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr


@needs_kernels
def test_no_grad_forward_matches_training_forward():
    enc = TransformerEncoder("tiny", vocab_size=23, seed=1, kernel="native").eval()
    tokens = torch.tensor([[1, 5, 6, 7, 0], [1, 8, 9, 10, 11]])
    with torch.no_grad():
        a = enc(tokens).hidden
    b = enc(tokens).hidden.detach()
    assert torch.equal(a, b)
