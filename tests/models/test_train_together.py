"""Runs trained together as one stacked computation follow the runs trained alone.

Each member of :func:`train_together` must take the same steps as ``trainer.fit()`` on
its own: the same batches, pairs, corruption and dropout draws (from its own streams) and
the same losses and weights up to float32 rounding. The hard cases: members with
different numbers of rows per step (their partner sets differ) and different sequence
widths (so the stack pads rows and positions), attention dropout, mini-batches, the
LM-only and SI-only ends of lambda, and a member without masked targets in a step.
"""

import numpy as np
import pytest
import torch

from sip_theory.graphs import cliques_from_labels
from sip_theory.models import (
    MaskedTokenLM,
    SIPTTrainer,
    TransformerEncoder,
    together_blocker,
    train_together,
)
from sip_theory.models._native import kernel_info, native_available

needs_kernels = pytest.mark.skipif(not native_available(),
                                   reason=f"native kernels unavailable: {kernel_info()['how']}")

VOCAB = 17
SI = {"pos_margin": 0.0, "neg_margin": 10.0, "reduction": "paper"}


def _tokens(seed, n, length, *, short_rows=True):
    rng = np.random.default_rng(seed)
    t = rng.integers(4, VOCAB, size=(n, length))
    t[:, 0] = 1
    if short_rows:  # trailing padding on some rows, one row with only [CLS] + one token
        t[n // 2:, length - 2:] = 0
        t[-1, 2:] = 0
    return torch.as_tensor(t)


def _build(seed, *, n=12, length=9, lambda_si=0.1, attention_dropout=0.1, evals=None, **kw):
    labels = np.arange(n) % 3
    graph = cliques_from_labels(labels)
    enc = TransformerEncoder("tiny", vocab_size=VOCAB, seed=seed, dropout=0.0,
                             attention_dropout=attention_dropout)
    obj = MaskedTokenLM(enc, seed=seed)
    eval_fn = None
    if evals is not None:
        def eval_fn(tr):
            evals.append((seed, tr.step, tr.embed().clone()))
            return {"probe": float(tr.embed().sum())}
    kw.setdefault("max_steps", 12)
    return SIPTTrainer(enc, graph, _tokens(seed, n, length), objective=obj, seed=seed,
                       lambda_si=lambda_si, lr=3e-3, si_loss_kwargs=SI, eval_fn=eval_fn, **kw)


def _distances(trainer):
    return torch.cdist(trainer.embed().double(), trainer.embed().double())


def _compare(alone, together, hist_a, hist_t, *, rtol=2e-3):
    # Over several steps AdamW turns float32 rounding into visible differences (gradients
    # that are 0 in exact arithmetic, behind LayerNorms, are normalized to full-size steps),
    # so trajectories agree to ~1e-4 here, not to rounding; the single step's gradients are
    # compared to rounding by test_one_stacked_step_has_each_members_gradients.
    for a, t, ha, ht in zip(alone, together, hist_a, hist_t, strict=True):
        assert [h["step"] for h in ha] == [h["step"] for h in ht]
        for key in ("loss", "loss_m", "loss_si", "masked_accuracy", "n_anchors_without_pos"):
            va = [h[key] for h in ha]
            vt = [h[key] for h in ht]
            if va[0] is None or isinstance(va[0], int):
                assert va == vt, key
            elif key == "masked_accuracy":
                # a count of argmax hits: a logit near-tie (the MLM head is untrained at
                # lambda_SI = 1) flips one token on another machine's rounding; allow one step
                off = ~np.isclose(vt, va, rtol=rtol, atol=1e-6)
                assert off.sum() <= 1, (key, va, vt)
            else:
                np.testing.assert_allclose(vt, va, rtol=rtol, atol=1e-6, err_msg=key)
        # weights are not compared: at lambda_SI = 1 the last LayerNorm's shift has an exact
        # gradient of 0 (L_SI sees only distances), so AdamW walks it on rounding noise
        torch.testing.assert_close(_distances(t), _distances(a), rtol=1e-2, atol=1e-3)
        # the same number of draws from each member's own dropout/masking stream
        assert torch.equal(t.torch_gen.get_state(), a.torch_gen.get_state())


@needs_kernels
@pytest.mark.parametrize("lambda_si", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("attention_dropout", [0.0, 0.1])
def test_members_follow_their_single_runs(lambda_si, attention_dropout):
    # members differ in size (12, 15, 9 nodes: different rows per step) and width (9, 7, 11)
    sizes = [(0, 12, 9), (1, 15, 7), (2, 9, 11)]
    alone = [_build(s, n=n, length=w, lambda_si=lambda_si, attention_dropout=attention_dropout)
             for s, n, w in sizes]
    hist_a = [tr.fit() for tr in alone]
    together = [_build(s, n=n, length=w, lambda_si=lambda_si,
                       attention_dropout=attention_dropout) for s, n, w in sizes]
    assert together_blocker(together) is None
    hist_t = train_together(together)
    _compare(alone, together, hist_a, hist_t)


@needs_kernels
@pytest.mark.parametrize("lambda_si", [0.0, 0.1, 1.0])
def test_one_stacked_step_has_each_members_gradients(lambda_si):
    from sip_theory.models._ensemble import _Stack, _stacked_step

    sizes = [(0, 12, 9), (1, 15, 7), (2, 9, 11)]
    alone = [_build(s, n=n, length=w, lambda_si=lambda_si) for s, n, w in sizes]
    grads, losses = [], []
    for tr in alone:
        total, *_ = tr._step_loss(*tr._next_batch())
        total.backward()
        losses.append(float(total.detach()))
        named = dict(tr.encoder.named_parameters())
        named.update({"obj." + k: v for k, v in tr.objective.named_parameters()})
        grads.append({k: (v.grad if v.grad is not None else torch.zeros_like(v))
                      for k, v in named.items()})
    together = [_build(s, n=n, length=w, lambda_si=lambda_si) for s, n, w in sizes]
    stack = _Stack(together)
    _, totals, _ = _stacked_step(stack, together)
    torch.stack(totals).sum().backward()
    np.testing.assert_allclose([float(t) for t in totals], losses, rtol=1e-6)
    for m, g in enumerate(grads):
        top = max(float(v.abs().max()) for v in g.values())
        for name, p in stack.p.items():
            key = name[4:] if name.startswith("enc.") else name
            got = p.grad[m] if p.grad is not None else torch.zeros_like(p[m])
            # summed in another order (batched products; index_put against embedding's
            # backward), the sums over all rows with cancellation differ by ~1e-4 of their
            # size; some gradients (the last LayerNorm shift at lambda_SI = 1) are 0 in exact
            # arithmetic and pure rounding noise of the largest gradient's scale
            atol = max(1e-3 * float(g[key].abs().max()), 2e-4 * top)
            torch.testing.assert_close(got, g[key], rtol=1e-4, atol=atol,
                                       msg=f"member {m} {name}")


@needs_kernels
def test_members_follow_their_single_runs_with_minibatches_and_callbacks():
    evals_a, evals_t = [], []
    kw = dict(n=10, batch_size=4, epochs=4, max_steps=None, eval_every=2)
    alone = [_build(s, evals=evals_a, **kw) for s in (3, 4)]
    hist_a = [tr.fit() for tr in alone]
    together = [_build(s, evals=evals_t, **kw) for s in (3, 4)]
    hist_t = train_together(together)
    _compare(alone, together, hist_a, hist_t)
    assert sorted((s, k) for s, k, _ in evals_a) == sorted((s, k) for s, k, _ in evals_t)
    assert len(evals_t) == 2 * 2  # epochs 2 and 4 of both members
    final = {3: together[0].embed(), 4: together[1].embed()}
    for (s, k, ea), (_, _, et) in zip(sorted(evals_a, key=lambda e: e[:2]),
                                      sorted(evals_t, key=lambda e: e[:2]), strict=True):
        # the callback saw the weights of that step (the members' modules are views): at
        # the last step they are the member's final weights, exactly
        if k == 12:
            assert torch.equal(et, final[s]), f"seed {s}"
        # and the trajectory follows the single run's; float32 rounding grows over 12 AdamW
        # steps (seed 4: 8.7e-3 at most on one host, 2e-3 on another), so the bound is loose
        torch.testing.assert_close(et, ea, rtol=5e-2, atol=3e-2, msg=f"seed {s} step {k}")


@needs_kernels
def test_a_member_without_masked_targets_gets_zero_loss_not_nan():
    # rate 0: nothing is masked, so L_M is 0 for every member (as MaskedTokenLM.loss)
    def build(seed):
        tr = _build(seed, max_steps=3)
        tr.objective.rate = 0.0
        return tr

    alone = [build(s) for s in (0, 1)]
    hist_a = [tr.fit() for tr in alone]
    together = [build(s) for s in (0, 1)]
    hist_t = train_together(together)
    for ha, ht in zip(hist_a, hist_t, strict=True):
        assert all(h["loss_m"] == 0.0 for h in ht)
        np.testing.assert_allclose([h["loss"] for h in ht], [h["loss"] for h in ha], rtol=1e-5)


def test_blockers_name_the_reason():
    base = _build(0)
    assert together_blocker([]) == "no trainers"
    other_lr = SIPTTrainer(base.encoder, base.graph, base.data, objective=base.objective,
                           seed=1, lambda_si=0.1, lr=1e-2, max_steps=12, si_loss_kwargs=SI)
    assert "training settings differ" in together_blocker([base, other_lr])
    torch_kernel = TransformerEncoder("tiny", vocab_size=VOCAB, seed=1, kernel="torch")
    tk = SIPTTrainer(torch_kernel, base.graph, base.data,
                     objective=MaskedTokenLM(torch_kernel), seed=1, lambda_si=0.1,
                     lr=3e-3, max_steps=12, si_loss_kwargs=SI)
    assert "kernel is 'torch'" in together_blocker([base, tk])
    wider = TransformerEncoder("tiny", vocab_size=VOCAB + 1, seed=1)
    tw = SIPTTrainer(wider, base.graph, base.data, objective=MaskedTokenLM(wider), seed=1,
                     lambda_si=0.1, lr=3e-3, max_steps=12, si_loss_kwargs=SI)
    assert "member 1: encoder configuration differs" in together_blocker([base, tw])
    clipped = [_build(s, grad_clip=1.0) for s in (0, 1)]
    assert "clipping" in (together_blocker(clipped) or "")
    with pytest.raises(ValueError, match="cannot be trained together"):
        train_together(clipped)


@needs_kernels
def test_refuses_stepped_trainers_different_epoch_lengths_and_early_stops():
    stepped = [_build(s) for s in (0, 1)]
    stepped[0].fit(max_steps=1)
    with pytest.raises(ValueError, match="fresh"):
        train_together(stepped)
    uneven = [_build(0, n=9, batch_size=4, epochs=2, max_steps=None),
              _build(1, n=13, batch_size=4, epochs=2, max_steps=None)]
    with pytest.raises(ValueError, match="different numbers of steps"):
        train_together(uneven)
    stopper = [_build(s) for s in (0, 1)]
    stopper[1].eval_fn = lambda tr: {"stop": True}
    with pytest.raises(ValueError, match="stop early"):
        train_together(stopper)


@needs_kernels
def test_stacked_training_is_bit_identical_when_repeated_in_one_process():
    """The README's claim: same machine, thread count, kernel and stacking -> same digits."""
    sizes = [(0, 12, 9), (1, 15, 7)]
    first = [_build(s, n=n, length=w) for s, n, w in sizes]
    second = [_build(s, n=n, length=w) for s, n, w in sizes]
    h1, h2 = train_together(first), train_together(second)

    def _results(hist):  # everything but the step timings
        return [[{k: v for k, v in h.items() if k != "seconds"} for h in run] for run in hist]

    assert _results(h1) == _results(h2)
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a.embed(), b.embed())
