"""Reference encoders: shapes, presets, padding, seeded initialization and dropout."""

import pytest
import torch

from sip_theory.models import (
    PRESETS,
    GeneratorDropout,
    LookupEncoder,
    MaskedFeatureReconstruction,
    MaskedTokenLM,
    MLPEncoder,
    TransformerConfig,
    TransformerEncoder,
    set_dropout_generator,
)


def _tokens():
    return torch.tensor([[1, 5, 6, 7, 2, 0], [1, 8, 9, 10, 11, 2]])


def test_presets_have_the_papers_sizes():
    assert PRESETS["tiny"] == dict(hidden_size=10, n_layers=2, n_heads=2, ffn_size=8,
                                   dropout=0.0, attention_dropout=0.1)
    assert PRESETS["manifold"] == dict(hidden_size=256, n_layers=3, n_heads=4, ffn_size=256,
                                       dropout=0.0, attention_dropout=0.1)
    enc = TransformerEncoder("manifold", vocab_size=50)
    assert len(enc.layers) == 3 and enc.layers[0].ff1.out_features == 256
    assert enc.layers[0].attn.n_heads == 4 and enc.embedding_dim == 256


def test_embedding_is_the_last_layer_cls_state():
    enc = TransformerEncoder("tiny", vocab_size=20).eval()
    out = enc(_tokens())
    assert torch.equal(out.embeddings, out.hidden[:, 0])
    assert out.hidden.shape == (2, 6, 10)


def test_trailing_padding_does_not_change_embeddings():
    enc = TransformerEncoder("tiny", vocab_size=20).eval()
    t = _tokens()
    padded = torch.cat([t, torch.zeros(2, 3, dtype=t.dtype)], 1)
    torch.testing.assert_close(enc(t).embeddings, enc(padded).embeddings, rtol=1e-6, atol=1e-6)


def test_prepend_cls_equals_cls_in_the_input():
    a = TransformerEncoder("tiny", vocab_size=20, seed=3).eval()
    b = TransformerEncoder("tiny", vocab_size=20, seed=3, prepend_cls=True).eval()
    t = _tokens()
    out_b = b(t[:, 1:])
    assert torch.equal(a(t).embeddings, out_b.embeddings)
    assert out_b.hidden.shape == (2, 5, 10)


def test_mean_pooling_ignores_cls_and_padding():
    enc = TransformerEncoder("tiny", vocab_size=20, pooling="mean").eval()
    out = enc(_tokens())
    torch.testing.assert_close(out.embeddings[0], out.hidden[0, 1:5].mean(0))


def test_initialization_depends_only_on_the_seed():
    a, b = TransformerEncoder("tiny", vocab_size=20, seed=1), TransformerEncoder(
        "tiny", vocab_size=20, seed=1)
    c = TransformerEncoder("tiny", vocab_size=20, seed=2)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["token_embedding.weight"], sc["token_embedding.weight"])
    m1, m2 = MLPEncoder(4, seed=5), MLPEncoder(4, seed=5)
    assert all(torch.equal(x, y) for x, y in zip(m1.parameters(), m2.parameters(), strict=True))


def test_building_a_model_leaves_the_global_rng_alone():
    state = torch.random.get_rng_state()
    enc = TransformerEncoder("tiny", vocab_size=20, seed=0)
    MaskedTokenLM(enc)
    MaskedFeatureReconstruction(4, 6, hidden_size=3)
    MLPEncoder(8, seed=0)
    LookupEncoder(5, 2, seed=0)
    assert torch.equal(state, torch.random.get_rng_state())


def test_dropout_masks_come_from_the_installed_generator():
    enc = TransformerEncoder("tiny", vocab_size=20, dropout=0.3).train()
    assert set_dropout_generator(enc, torch.Generator().manual_seed(0)) == 7
    a = enc(_tokens()).embeddings
    set_dropout_generator(enc, torch.Generator().manual_seed(0))
    b = enc(_tokens()).embeddings
    set_dropout_generator(enc, torch.Generator().manual_seed(1))
    c = enc(_tokens()).embeddings
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_generator_dropout_keeps_the_expectation():
    d = GeneratorDropout(0.25)
    d.generator = torch.Generator().manual_seed(0)
    y = d(torch.ones(200_000))
    vals = torch.unique(y)
    assert vals.numel() == 2 and float(vals[0]) == 0.0 and abs(float(vals[1]) - 4 / 3) < 1e-6
    assert abs(float(y.mean()) - 1.0) < 0.01


def test_config_validation_names_the_field():
    with pytest.raises(ValueError, match="n_heads"):
        TransformerConfig(vocab_size=20, hidden_size=10, n_heads=3)
    with pytest.raises(ValueError, match="name"):
        TransformerConfig.preset("huge", vocab_size=20)
    with pytest.raises(ValueError, match="max_len"):
        TransformerEncoder("tiny", vocab_size=20, max_len=4)(_tokens())


def test_mlp_and_lookup_shapes():
    mlp = MLPEncoder(7, hidden_sizes=[5, 4], out_features=3)
    assert mlp(torch.zeros(2, 7)).embeddings.shape == (2, 3)
    with pytest.raises(ValueError, match="x must have shape"):
        mlp(torch.zeros(2, 6))
    lk = LookupEncoder(10, 4)
    assert torch.equal(lk(torch.tensor([3])).embeddings[0], lk.weight[3])
