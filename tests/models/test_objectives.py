"""Per-sample objectives: BERT masking statistics, special tokens, empty targets."""

import pytest
import torch

from sip_theory.models import (
    MaskedFeatureReconstruction,
    MaskedTokenLM,
    MLPEncoder,
    TransformerEncoder,
    mask_features,
    mask_tokens,
)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_masking_rate_and_80_10_10_split():
    t = torch.randint(4, 50, (400, 250), generator=_gen())
    x, y = mask_tokens(t, rate=0.15, mask_token_id=3, vocab_size=50, generator=_gen(1))
    sel = y != -100
    n = t.numel()
    assert abs(float(sel.float().mean()) - 0.15) < 4 * (0.15 * 0.85 / n) ** 0.5
    k = int(sel.sum())
    masked = float((x[sel] == 3).sum()) / k
    kept = float((x[sel] == t[sel]).sum()) / k  # includes random draws equal to the original
    assert abs(masked - 0.8) < 0.01
    assert abs(kept - (0.1 + 0.1 / 46)) < 0.01
    assert torch.equal(x[~sel], t[~sel])


def test_special_tokens_are_never_masked_nor_drawn():
    t = torch.randint(0, 8, (200, 30), generator=_gen())
    x, y = mask_tokens(t, rate=0.9, mask_token_id=3, vocab_size=8, generator=_gen(2))
    assert bool((y[t < 4] == -100).all())
    changed = x != t
    assert bool(((x[changed] == 3) | (x[changed] >= 4)).all())


def test_masking_is_determined_by_the_generator():
    t = torch.randint(4, 30, (5, 9), generator=_gen())
    a = mask_tokens(t, mask_token_id=3, vocab_size=30, generator=_gen(7))
    b = mask_tokens(t, mask_token_id=3, vocab_size=30, generator=_gen(7))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_replace_probabilities_must_sum_to_one():
    with pytest.raises(ValueError, match="replace"):
        mask_tokens(torch.ones(1, 2, dtype=torch.long), mask_token_id=3, vocab_size=9,
                    generator=_gen(), replace=(0.5, 0.1, 0.1))


def test_mlm_loss_without_targets_is_zero_with_a_gradient_path():
    enc = TransformerEncoder("tiny", vocab_size=20)
    mlm = MaskedTokenLM(enc, rate=0.0)
    t = torch.randint(4, 20, (3, 5), generator=_gen())
    x, y = mlm.corrupt(t, _gen())
    loss, metrics = mlm.loss(enc(x), y)
    loss.backward()
    assert float(loss.detach()) == 0.0 and metrics["n_targets"] == 0


def test_mlm_decoder_is_tied_to_the_token_embedding():
    enc = TransformerEncoder("tiny", vocab_size=20)
    mlm = MaskedTokenLM(enc)
    names = {n for n, _ in mlm.named_parameters()}
    assert names == {"dense.weight", "dense.bias", "ln.weight", "ln.bias", "bias"}
    h = torch.randn(2, 10, generator=_gen())
    manual = mlm.ln(torch.nn.functional.gelu(mlm.dense(h))) @ enc.token_embedding.weight.T
    torch.testing.assert_close(mlm.logits(h), manual + mlm.bias)


def test_feature_masking_nonzero_scope_hides_only_present_words():
    x = (torch.rand(50, 40, generator=_gen()) < 0.1).float()
    xc, m = mask_features(x, rate=0.5, generator=_gen(1), scope="nonzero")
    assert bool((x[m] == 1).all()) and bool((xc[m] == 0).all()) and m.any()


def test_feature_reconstruction_scores_only_hidden_entries():
    enc = MLPEncoder(6, hidden_sizes=[4], out_features=3, dropout=0.0)
    obj = MaskedFeatureReconstruction(3, 6, loss="mse", rate=0.5)
    x = torch.rand(4, 6, generator=_gen())
    xc, (orig, mask) = obj.corrupt(x, _gen(3))
    loss, metrics = obj.loss(enc(xc), (orig, mask))
    pred = obj.head(enc(xc).embeddings)
    torch.testing.assert_close(loss, ((pred - x)[mask] ** 2).mean())
    assert metrics["n_targets"] == int(mask.sum())
