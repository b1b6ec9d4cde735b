"""Benchmark: one training step of the reference transformer, before and after the speed-up.

Four implementations of the same step (the "tiny" preset, batch 200, BERT
masking of the input, the masked-token loss plus a loss on the [CLS]
embeddings, backward, AdamW) on the same shapes:

* ``before``: the encoder as it was before this benchmark existed: explicit
  attention with the 1/sqrt(d) division on the scores, ``masked_fill`` of padded
  keys, dropout masks from ``torch.rand`` (one float per element), and torch's
  default (per-parameter loop) AdamW;
* ``sdpa``: the equivalent built on torch's fused
  ``scaled_dot_product_attention`` (its dropout draws from torch's *global*
  generator, so it is not reproducible from a run's own generator) with fused
  AdamW;
* ``torch``: ``sip_theory.models.TransformerEncoder`` with ``kernel="torch"``
  (its plain-torch layers: explicit attention with 16-bit dropout masks, code
  version 2) and the trainer's optimizer (fused AdamW where torch has it);
* ``now``: the encoder as it is by default (``kernel="auto"``: the fused CPU
  kernels of ``sip_theory.models._native`` where they apply, code version 3),
  with the trainer's optimizer.

All four share the parameters' initialization and the inputs. The runs are
interleaved (before, sdpa, torch, now, before, ...) so that a busy machine slows
them alike, and the script prints each median and the same-run ratios
before / now (the issue's target: at least 2), sdpa / now and torch / now. It
also checks that ``now`` and ``before`` compute the same loss and gradients
without dropout (to 1e-5), and that ``now`` is bit-for-bit reproducible from its
generator within this process. With one torch thread (the default: what each
worker of ``sip-theory reproduce --jobs 2`` uses) times are the process's CPU
time (``time.process_time``), which another busy process perturbs less than
wall-clock time; with more threads they are wall-clock times.

Usage::

    python experiments/benchmarks/bench_encoder.py
    python experiments/benchmarks/bench_encoder.py --lengths 18 130 --repeats 15 --out out.json
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import time

import torch
from torch import nn

from sip_theory.models import MaskedTokenLM, TransformerEncoder, set_dropout_generator
from sip_theory.models._native import kernel_info
from sip_theory.models._trainer import TrainerConfig, _adamw


def _before_attention(self, x, key_pad):
    """The attention forward of the encoder before the speed-up (kept here as the baseline)."""
    b, t, h = x.shape
    q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.head_dim)
    scores = scores.masked_fill(key_pad[:, None, None, :], torch.finfo(scores.dtype).min)
    probs = torch.softmax(scores, dim=-1)
    drop = self.attn_drop
    if drop.training and drop.p > 0:
        keep = torch.rand(probs.shape, generator=drop.generator, device=x.device) >= drop.p
        probs = probs * keep.to(probs.dtype) / (1.0 - drop.p)
    ctx = (probs @ v).transpose(1, 2).reshape(b, t, h)
    return self.out(ctx)


def _sdpa_attention(self, x, key_pad):
    """The same attention through torch's fused kernel (global-generator dropout)."""
    b, t, h = x.shape
    q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
    p = self.attn_drop.p if self.attn_drop.training else 0.0
    ctx = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=~key_pad[:, None, None, :],
                                                     dropout_p=p)
    return self.out(ctx.transpose(1, 2).reshape(b, t, h))


def _build(kind, length, dropout, vocab=31, batch=200, seed=0):
    enc = TransformerEncoder("tiny", vocab_size=vocab, seed=seed, attention_dropout=dropout,
                             kernel="auto" if kind == "now" else "torch")
    if kind in ("before", "sdpa"):
        forward = _before_attention if kind == "before" else _sdpa_attention
        for layer in enc.layers:
            layer.attn.forward = forward.__get__(layer.attn)
    obj = MaskedTokenLM(enc, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    set_dropout_generator(enc, gen)
    params = list({id(p): p for m in (enc, obj) for p in m.parameters()}.values())
    if kind == "before":
        opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    else:
        opt = _adamw(params, TrainerConfig(lr=1e-3), torch.device("cpu"))
    data = torch.randint(4, vocab, (batch, length), generator=torch.Generator().manual_seed(1))
    data[:, 0] = 1  # [CLS]
    data[batch // 2:, length - length // 4:] = 0  # half the rows padded at the end

    def step():
        xc, tc = obj.corrupt(data, gen)
        out = enc(xc)
        loss, _ = obj.loss(out, tc)
        loss = loss + out.embeddings.pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    return enc, obj, step


def _check_equal(length):
    """``now`` and ``before`` agree without dropout: same loss and gradients."""
    res = []
    for kind in ("before", "now"):
        enc, obj, _ = _build(kind, length, 0.0)
        data = torch.randint(4, 31, (8, length), generator=torch.Generator().manual_seed(2))
        data[:, 0] = 1
        data[4:, length // 2:] = 0
        xc, tc = obj.corrupt(data, torch.Generator().manual_seed(3))
        loss, _ = obj.loss(enc(xc), tc)
        loss.backward()
        res.append((loss.detach(), [p.grad.clone() for p in enc.parameters()]))
    (l0, g0), (l1, g1) = res
    return float(max([abs(l0 - l1).item()] + [(a - b).abs().max().item()
                                              for a, b in zip(g0, g1, strict=True)]))


def _check_reproducible(length):
    losses = []
    for _ in range(2):
        _, _, step = _build("now", length, 0.1)
        losses.append([step().item() for _ in range(3)])
    return losses[0] == losses[1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", type=int, nargs="+", default=[18, 130])
    ap.add_argument("--dropouts", type=float, nargs="+", default=[0.1, 0.0])
    ap.add_argument("--repeats", type=int, default=12)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    kinds = ("before", "sdpa", "torch", "now")
    clock = time.process_time if args.threads == 1 else time.perf_counter
    rows = []
    for length in args.lengths:
        diff = _check_equal(length)
        same = _check_reproducible(length)
        for p in args.dropouts:
            steps = {k: _build(k, length, p)[2] for k in kinds}
            for k in kinds:  # warm-up
                steps[k]()
            times = {k: [] for k in kinds}
            for _ in range(args.repeats):
                for k in kinds:
                    t0 = clock()
                    steps[k]()
                    times[k].append(clock() - t0)
            med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
            rows.append({"length": length, "attention_dropout": p,
                         **{f"{k}_ms": med[k] for k in kinds},
                         "before_over_now": med["before"] / med["now"],
                         "sdpa_over_now": med["sdpa"] / med["now"],
                         "torch_over_now": med["torch"] / med["now"],
                         "max_abs_diff_no_dropout": diff, "now_reproducible": same})
    print(f"torch {torch.__version__}, {args.threads} threads, {platform.processor() or ''}, "
          f"tiny preset, batch 200, median of {args.repeats} interleaved steps "
          f"({clock.__name__})")
    print(f"native kernels: {kernel_info()}")
    print("| length | attention dropout | before (ms) | sdpa (ms) | torch (ms) | now (ms) "
          "| before / now | sdpa / now | torch / now |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['length']} | {r['attention_dropout']} | {r['before_ms']:.1f} | "
              f"{r['sdpa_ms']:.1f} | {r['torch_ms']:.1f} | {r['now_ms']:.1f} | "
              f"{r['before_over_now']:.2f} | {r['sdpa_over_now']:.2f} | "
              f"{r['torch_over_now']:.2f} |")
    for r in rows[::len(args.dropouts)]:
        print(f"length {r['length']}: now vs before without dropout, max |diff| of loss and "
              f"gradients {r['max_abs_diff_no_dropout']:.1e}; now reproducible from its "
              f"generator: {r['now_reproducible']}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"torch": torch.__version__, "threads": args.threads,
                       "repeats": args.repeats, "clock": clock.__name__,
                       "native_kernels": kernel_info(), "machine": platform.machine(),
                       "processor": platform.processor(), "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
