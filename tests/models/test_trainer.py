"""The SIPT trainer: reproducibility, bit-identical resume, protocol details, options."""

import os

import numpy as np
import pytest
import torch

from sip_theory.graphs import SampleGraph, cliques_from_labels
from sip_theory.losses import batch_pairs, contrastive_margin_loss
from sip_theory.models import (
    LookupEncoder,
    MaskedFeatureReconstruction,
    MaskedTokenLM,
    MLPEncoder,
    SIPTTrainer,
    TrainerConfig,
    TransformerEncoder,
)

N = 12
LABELS = np.arange(N) % 3


def _graph():
    return cliques_from_labels(LABELS)


def _tokens(n=N, length=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.randint(4, 24, (n, length), generator=g)
    t[:, 0] = 1  # [CLS]
    t[:, -1] = 2  # [SEP]
    return t


def _tiny_trainer(tmp_path=None, enc_kwargs=None, **overrides):
    enc = TransformerEncoder("tiny", vocab_size=24, seed=0, max_len=7, **(enc_kwargs or {}))
    mlm = MaskedTokenLM(enc, seed=1)
    kw = dict(lambda_si=0.1, batch_size=5, seed=3, lr=1e-3)
    if tmp_path is not None:
        kw["checkpoint_path"] = str(tmp_path / "ckpt.pt")
    kw.update(overrides)
    return SIPTTrainer(enc, _graph(), _tokens(), objective=mlm, **kw)


def _state(tr):
    return {**{"enc." + k: v for k, v in tr.encoder.state_dict().items()},
            **{"obj." + k: v for k, v in tr.objective.state_dict().items()}}


def _assert_bit_identical(a, b):
    sa, sb = _state(a), _state(b)
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert strip(a.history) == strip(b.history)


def test_same_seed_gives_bit_identical_runs():
    a, b = _tiny_trainer(), _tiny_trainer()
    a.fit(max_steps=6)
    b.fit(max_steps=6)
    _assert_bit_identical(a, b)
    c = _tiny_trainer(seed=4)
    c.fit(max_steps=6)
    assert not torch.equal(_state(a)["enc.token_embedding.weight"],
                           _state(c)["enc.token_embedding.weight"])


@pytest.mark.parametrize("stop_at", [4, 6])  # 4: mid-epoch (3 steps per epoch), 6: boundary
def test_resume_from_checkpoint_is_bit_identical_to_an_uninterrupted_run(tmp_path, stop_at):
    ref = _tiny_trainer()
    ref.fit(max_steps=10)
    first = _tiny_trainer(tmp_path)
    first.fit(max_steps=stop_at)
    resumed = _tiny_trainer()  # a fresh object, as in a new process
    resumed.load_checkpoint(tmp_path / "ckpt.pt")
    resumed.fit(max_steps=10)
    _assert_bit_identical(ref, resumed)


def test_checkpoint_is_written_atomically_and_periodically(tmp_path):
    tr = _tiny_trainer(tmp_path, checkpoint_every=2)
    tr.fit(max_steps=3)
    assert os.listdir(tmp_path) == ["ckpt.pt"]
    state = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    assert state["step"] == 3 and state["graph_hash"] == _graph().content_hash()


def test_resume_refuses_another_graph_or_config(tmp_path):
    _tiny_trainer(tmp_path).fit(max_steps=1)
    other = SIPTTrainer(TransformerEncoder("tiny", vocab_size=24, max_len=7),
                        cliques_from_labels(np.arange(N) % 4), _tokens(), lambda_si=0.1,
                        objective=None, batch_size=5, seed=3)
    with pytest.raises(ValueError, match="different graph"):
        other.load_checkpoint(tmp_path / "ckpt.pt")
    with pytest.raises(ValueError, match="lambda_si"):
        _tiny_trainer(lambda_si=0.2).load_checkpoint(tmp_path / "ckpt.pt")


def test_training_never_touches_the_global_rng():
    state = torch.random.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 (checking it is untouched)
    _tiny_trainer(sampler="all_pairs").fit(max_steps=2)
    _tiny_trainer().fit(max_steps=2)
    assert torch.equal(state, torch.random.get_rng_state())
    assert np.array_equal(np_state, np.random.get_state()[1])  # noqa: NPY002


def test_embeddings_are_computed_in_eval_mode_without_grad():
    tr = _tiny_trainer(enc_kwargs={"dropout": 0.5})
    tr.fit(max_steps=1)
    tr.encoder.train()
    z1, z2 = tr.embed(), tr.embed(batch_size=4)
    assert not z1.requires_grad and torch.equal(z1, z2)  # no dropout noise, any batching
    assert tr.encoder.training  # mode restored
    with torch.no_grad():
        manual = tr.encoder.eval()(tr.data).embeddings
    assert torch.equal(z1, manual)


def test_history_has_one_record_per_epoch_with_loss_parts():
    tr = _tiny_trainer()
    hist = tr.fit(epochs=2)
    assert [r["epoch"] for r in hist] == [1, 2] and [r["step"] for r in hist] == [3, 6]
    r = hist[-1]
    assert r["loss"] == pytest.approx(0.9 * r["loss_m"] + 0.1 * r["loss_si"], rel=1e-6)
    assert 0.0 <= r["masked_accuracy"] <= 1.0


def test_eval_callback_records_numbers_and_can_stop_training():
    calls = []

    def ev(trainer):
        calls.append(trainer.epoch)
        return {"probe": float(trainer.epoch), "stop": trainer.epoch == 2}

    tr = _tiny_trainer(eval_fn=ev)
    hist = tr.fit(epochs=5)
    assert calls == [1, 2] and [r["probe"] for r in hist] == [1.0, 2.0]


def test_paper_protocol_pairs_masked_anchors_with_unmasked_partners():
    # lambda_si = 1 with a lookup "encoder" and no objective reduces a step to
    # one contrastive loss on sampled pairs: check it against a manual computation
    g = _graph()
    enc = LookupEncoder(N, 3, seed=0)
    tr = SIPTTrainer(enc, g, torch.arange(N), lambda_si=1.0, max_steps=1, lr=0.0,
                     si_loss_kwargs={"pos_margin": 0.5, "neg_margin": 4.0})
    tr._plan = tr._new_plan()
    tr._plan_pos = 0
    plan = {k: v.copy() for k, v in tr._plan.items()}
    tr.fit()
    a1, p, a2, n = (plan["anchors"], plan["positives"], plan["anchors"], plan["negatives"])
    manual = contrastive_margin_loss(enc.weight.detach(), (a1, p, a2, n), pos_margin=0.5,
                                     neg_margin=4.0)
    assert tr.history[0]["loss_si"] == pytest.approx(float(manual), rel=1e-6)
    assert not np.any(g.to_dense()[plan["anchors"], plan["negatives"]])


def test_all_pairs_sampler_without_objective_uses_the_induced_subgraph():
    g = _graph()
    enc = LookupEncoder(N, 3, seed=0)
    tr = SIPTTrainer(enc, g, torch.arange(N), lambda_si=1.0, sampler="all_pairs", epochs=1,
                     lr=0.0, si_loss_kwargs={"pos_margin": 0.5, "neg_margin": 4.0})
    order = np.random.default_rng(np.random.SeedSequence(0).spawn(2)[0]).permutation(N)
    tr.fit()
    z = enc.weight.detach()[order]
    manual = contrastive_margin_loss(z, batch_pairs(g, order), pos_margin=0.5, neg_margin=4.0)
    assert tr.history[0]["loss_si"] == pytest.approx(float(manual), rel=1e-6)


def test_lookup_encoder_reaches_exact_recovery_on_cliques():
    g = _graph()
    enc = LookupEncoder(N, 2, seed=1)
    tr = SIPTTrainer(enc, g, torch.arange(N), lambda_si=1.0, sampler="all_pairs", epochs=300,
                     lr=0.05, weight_decay=0.0,
                     si_loss_kwargs={"pos_margin": 0.0, "neg_margin": 2.0})
    tr.fit()
    d = torch.cdist(tr.embed(), tr.embed()).numpy()
    a = g.to_dense().astype(bool)
    off = ~np.eye(N, dtype=bool)
    assert d[a].max() < d[~a & off].min()


@pytest.mark.parametrize("loss", ["multi_similarity", "triplet", "infonce", "spectral"])
def test_every_loss_trains_with_masked_copies(loss):
    tr = _tiny_trainer(si_loss=loss)
    hist = tr.fit(max_steps=3)
    assert all(np.isfinite(r["loss"]) for r in hist)


def test_lambda_zero_trains_the_objective_only():
    tr = _tiny_trainer(lambda_si=0.0)
    hist = tr.fit(epochs=1)
    assert hist[0]["loss_si"] is None and hist[0]["loss"] == hist[0]["loss_m"]


def test_bag_of_words_with_mlp_and_feature_reconstruction():
    x = (torch.rand(N, 30, generator=torch.Generator().manual_seed(0)) < 0.2).float()
    enc = MLPEncoder(30, hidden_sizes=[16], out_features=8)
    obj = MaskedFeatureReconstruction(8, 30, scope="nonzero", rate=0.3)
    tr = SIPTTrainer(enc, _graph(), x, objective=obj, lambda_si=0.5, epochs=2,
                     si_loss="multi_similarity")
    assert len(tr.fit()) == 2


def test_bf16_autocast_on_cpu_gives_finite_losses():
    tr = _tiny_trainer(mixed_precision="bf16")
    assert np.isfinite(tr.fit(max_steps=3)[-1]["loss"])


def test_isolated_anchors_are_counted_not_fatal():
    g = SampleGraph.from_edges([(0, 1)], n_nodes=4)
    tr = SIPTTrainer(LookupEncoder(4, 2), g, torch.arange(4), lambda_si=1.0, epochs=1)
    rec = tr.fit()[0]
    assert rec["n_anchors_without_pos"] == 2 and np.isfinite(rec["loss"])


def test_config_errors_name_the_option():
    with pytest.raises(ValueError, match="lambda_si"):
        TrainerConfig(lambda_si=1.5)
    with pytest.raises(ValueError, match="sampler"):
        TrainerConfig(sampler="random")
    with pytest.raises(ValueError, match="data has"):
        SIPTTrainer(LookupEncoder(3, 2), _graph(), torch.arange(3), lambda_si=1.0)
    with pytest.raises(ValueError, match="objective"):
        SIPTTrainer(LookupEncoder(N, 2), _graph(), torch.arange(N), lambda_si=0.0)
    with pytest.raises(ValueError, match="epochs or max_steps"):
        SIPTTrainer(LookupEncoder(N, 2), _graph(), torch.arange(N), lambda_si=1.0).fit()
    with pytest.raises(ValueError, match="fp16"):
        _tiny_trainer(mixed_precision="fp16")


def test_per_anchor_losses_see_one_row_per_anchor_with_two_masked_copies():
    # the second masked copy only serves L_M; a per-anchor mean must not count its rows
    seen = []
    tr = _tiny_trainer(si_loss="multi_similarity", sampler="all_pairs", batch_size=None)
    original = tr.loss_fn.forward

    def spy(embeddings, indices_tuple, ref_embeddings=None):
        seen.append((embeddings.shape[0], ref_embeddings.shape[0]))
        return original(embeddings, indices_tuple, ref_embeddings)

    tr.loss_fn.forward = spy
    tr.fit(max_steps=1)
    assert seen == [(N, N)]


def _fp_trainer(labels=LABELS, tokens=None, enc_seed=0, **overrides):
    enc = TransformerEncoder("tiny", vocab_size=24, seed=enc_seed, max_len=7)
    kw = dict(lambda_si=0.0, batch_size=5, seed=3, lr=1e-3, max_steps=6)
    kw.update(overrides)
    return SIPTTrainer(enc, cliques_from_labels(labels), _tokens() if tokens is None else tokens,
                       objective=MaskedTokenLM(enc, seed=1), **kw)


def test_fingerprint_equal_means_the_same_training_and_the_graph_counts_only_with_si():
    other = np.arange(N) // 4  # another graph on the same nodes (same anchors)
    a, b = _fp_trainer(), _fp_trainer(labels=other)
    assert a.fingerprint() == b.fingerprint()  # lambda_SI = 0: fit never reads the graph
    a.fit()
    b.fit()
    _assert_bit_identical(a, b)
    assert (_fp_trainer(lambda_si=0.1).fingerprint()
            != _fp_trainer(labels=other, lambda_si=0.1).fingerprint())


def test_fingerprint_changes_with_every_input_of_fit():
    base = _fp_trainer().fingerprint()
    tok = _tokens()
    tok[3, 2] += 1  # one token of one row
    changed = {
        "tokens": _fp_trainer(tokens=tok),
        "init": _fp_trainer(enc_seed=1),
        "seed": _fp_trainer(seed=4),
        "lr": _fp_trainer(lr=2e-3),
        "steps": _fp_trainer(max_steps=7),
        "anchors": _fp_trainer(anchors="all"),
    }
    for what, tr in changed.items():
        assert tr.fingerprint() != base, what
    assert _fp_trainer(progress=True).fingerprint() == base  # display only
    tr = _fp_trainer()
    tr.fit(max_steps=1)  # counters, plan, generator states and weights all moved
    assert tr.fingerprint() != base
    assert _fp_trainer().fingerprint(b"labels") != base
