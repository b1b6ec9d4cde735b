"""Mult-DAE objective: corruption, both likelihoods against hand formulas, the trainer."""

import math

import numpy as np
import pytest
import torch

from sip_theory.graphs import cliques_from_labels
from sip_theory.models import (
    DenoisingAutoencoderObjective,
    EncoderOutput,
    MLPEncoder,
    SIPTTrainer,
    l2_normalize_rows,
)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _out(emb):
    return EncoderOutput(embeddings=emb, hidden=emb[:, None, :])


def test_l2_normalize_rows_unit_norms_zero_rows_and_bad_shape():
    x = torch.tensor([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0], [1e-30, 0.0, 0.0]])
    y = l2_normalize_rows(x)
    np.testing.assert_allclose(y.norm(dim=1).numpy(), [1.0, 0.0, 1.0], rtol=1e-6)
    assert y.dtype == torch.float32
    assert l2_normalize_rows(np.array([[0, 2]])).tolist() == [[0.0, 1.0]]
    with pytest.raises(ValueError, match="x must be 2-D"):
        l2_normalize_rows(torch.ones(3))


def test_corruption_is_inverted_dropout():
    obj = DenoisingAutoencoderObjective(4, 300, corruption=0.3)
    x = torch.rand(200, 300, generator=_gen()) + 0.5
    xc, t = obj.corrupt(x, _gen(1))
    assert t is x
    dropped = xc == 0
    p = float(dropped.float().mean())
    assert abs(p - 0.3) < 4 * math.sqrt(0.3 * 0.7 / x.numel())
    torch.testing.assert_close(xc[~dropped], x[~dropped] / 0.7)  # survivors rescaled
    xc2, _ = obj.corrupt(x, _gen(1))
    assert torch.equal(xc, xc2)  # all randomness from the generator
    none = DenoisingAutoencoderObjective(4, 300, corruption=0.0)
    assert torch.equal(none.corrupt(x, _gen(1))[0], x)


def test_multinomial_loss_is_the_document_cross_entropy():
    obj = DenoisingAutoencoderObjective(2, 3, likelihood="multinomial", seed=0)
    with torch.no_grad():
        obj.head.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
        obj.head.bias.zero_()
    emb = torch.tensor([[2.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    x = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 3.0, 0.0]])  # row 1: no words
    loss, m = obj.loss(_out(emb), x)
    # row 0: logits (2, 0, 0), words {0, 2} with weight 1/2 each; row 2: logits (0, 1, 0), word 1
    z0 = math.log(math.exp(2) + 2)
    want = (0.5 * (z0 - 2) + 0.5 * z0 + (math.log(math.e + 2) - 1)) / 2
    assert abs(float(loss.detach()) - want) < 1e-6
    assert m == {"n_targets": 2, "n_correct": 2}  # both top words are the documents' own
    # invariant to each row's scale (counts or L2-normalized rows give the same loss)
    loss2, _ = obj.loss(_out(emb), x * torch.tensor([[5.0], [1.0], [0.1]]))
    assert abs(float(loss2.detach()) - float(loss.detach())) < 1e-6


def test_bernoulli_loss_weights_present_words():
    obj = DenoisingAutoencoderObjective(3, 5, likelihood="bernoulli", seed=1)
    emb = torch.randn(4, 3, generator=_gen(2))
    x = (torch.rand(4, 5, generator=_gen(3)) < 0.3).float()
    x[0, 0] = 1.0
    logits = obj.head(emb)
    pw = float((x == 0).sum() / (x == 1).sum())
    want = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, x, pos_weight=torch.tensor(pw))
    loss, m = obj.loss(_out(emb), x * 0.4)  # targets are the indicators of x > 0
    torch.testing.assert_close(loss, want)
    assert m["n_targets"] == 20 and m["n_correct"] == int(((logits > 0) == (x > 0)).sum())
    fixed = DenoisingAutoencoderObjective(3, 5, likelihood="bernoulli", pos_weight=2.5, seed=1)
    want = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, x, pos_weight=torch.tensor(2.5))
    torch.testing.assert_close(fixed.loss(_out(emb), x)[0], want)


@pytest.mark.parametrize("likelihood", ["multinomial", "bernoulli"])
def test_batch_without_words_gives_zero_with_a_gradient(likelihood):
    obj = DenoisingAutoencoderObjective(3, 5, likelihood=likelihood)
    emb = torch.randn(2, 3, requires_grad=True)
    loss, m = obj.loss(_out(emb), torch.zeros(2, 5))
    assert torch.isfinite(loss)
    loss.backward()
    assert emb.grad is not None
    if likelihood == "multinomial":
        assert float(loss.detach()) == 0.0 and m == {"n_targets": 0, "n_correct": 0}


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"likelihood": "poisson"}, "likelihood"),
    ({"corruption": 1.0}, "corruption"),
    ({"corruption": -0.1}, "corruption"),
    ({"pos_weight": 0.0}, "pos_weight"),
    ({"pos_weight": True}, "pos_weight"),
    ({"pos_weight": "auto"}, "pos_weight"),
])
def test_bad_settings_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DenoisingAutoencoderObjective(3, 5, **kwargs)


def _topic_rows(n_per=20, vocab=30, seed=0):
    """Two topics with disjoint halves of the vocabulary, 4 words a document."""
    rng = np.random.default_rng(seed)
    x = np.zeros((2 * n_per, vocab), dtype=np.float32)
    for i in range(2 * n_per):
        half = i // n_per
        words = rng.choice(vocab // 2, size=4, replace=False) + half * (vocab // 2)
        x[i, words] = 1.0
    return torch.from_numpy(x), np.repeat([0, 1], n_per)


@pytest.mark.parametrize("lam", [0.0, 0.5])
def test_trainer_learns_and_fingerprint_sees_the_settings(lam):
    x, y = _topic_rows()
    data = l2_normalize_rows(x)

    def trainer(corruption):
        enc = MLPEncoder(30, hidden_sizes=[16], out_features=4, dropout=0.0, seed=0)
        obj = DenoisingAutoencoderObjective(4, 30, corruption=corruption, seed=1)
        return SIPTTrainer(enc, cliques_from_labels(y), data, objective=obj, lambda_si=lam,
                           seed=2, epochs=60, lr=1e-2)

    assert trainer(0.5).fingerprint() != trainer(0.2).fingerprint()
    tr = trainer(0.5)
    hist = tr.fit()
    assert hist[-1]["loss_m"] < hist[0]["loss_m"] - 0.3
    # a multinomial DAE separates the two vocabularies: each sample's nearest other is its topic's
    z = tr.embed().numpy()
    dist = np.linalg.norm(z[:, None] - z[None], axis=2)
    np.fill_diagonal(dist, np.inf)
    assert (y[dist.argmin(1)] == y).mean() >= 0.95
