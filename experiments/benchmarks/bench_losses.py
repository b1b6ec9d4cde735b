"""Benchmark: structure-inducing losses vs pytorch-metric-learning, trainer and sampler speed.

1. Forward + backward time of the same loss on the same graph-derived tuples, ours vs
   pytorch-metric-learning (PML), at batch sizes 256, 1024 and 4096 (float32, dim 128).
   The graph over the batch is a union of 16-node cliques with 1% random extra edges.
   Tuples: ``sampled`` = the paper's protocol (one neighbour and one non-neighbour per
   anchor, :func:`sample_pairs`), ``all_pairs`` = every pair of the batch labelled by
   the induced subgraph (:func:`batch_pairs`); the triplet loss gets the sampled
   triplets. PML is configured to compute the same loss (unnormalized Euclidean
   distance and mean reducers where our defaults differ from its defaults); values
   and gradients are checked to agree before timing. Ours and PML are timed
   alternately, ``--repeats`` times each; the ratio is median(PML) / median(ours).
2. Trainer steps per second for the tiny preset (hidden 10, 2 layers) on the
   paper's 50-node CLIQUES graph (token sequences of 18), full batch, lambda_SI = 0.1,
   masked-token LM on two masked copies per anchor, on CPU.
3. Sampler: one neighbour and one non-neighbour for each of 10^6 anchors of a
   10^6-node graph with 5 * 10^6 random edges.

Usage::

    python experiments/benchmarks/bench_losses.py
    python experiments/benchmarks/bench_losses.py --sizes 256 1024 --repeats 5 --out res.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time

import numpy as np
import torch


def _time_fwd_bwd(fn, z):
    z.grad = None
    t0 = time.perf_counter()
    loss = fn(z)
    loss.backward()
    return time.perf_counter() - t0


def _check_same(ours, theirs, z):
    x = z.detach().clone().requires_grad_(True)
    a = ours(x)
    (ga,) = torch.autograd.grad(a, x)
    y = z.detach().clone().requires_grad_(True)
    b = theirs(y)
    (gb,) = torch.autograd.grad(b, y)
    a, b = a.detach(), b.detach()
    val_err = abs(float(a) - float(b)) / max(abs(float(b)), 1e-12)
    grad_err = float((ga - gb).abs().max()) / max(float(gb.abs().max()), 1e-12)
    if val_err > 1e-4 or grad_err > 1e-3:
        raise AssertionError(f"ours and PML disagree: rel value err {val_err}, grad err {grad_err}")
    return float(a), val_err, grad_err


def bench_losses(sizes, dim, repeats, seed):
    from pytorch_metric_learning import distances, losses, reducers

    from sip_theory.graphs import add_random_edges, cliques_from_labels
    from sip_theory.losses import (
        batch_pairs,
        contrastive_margin_loss,
        multi_similarity_loss,
        sample_pairs,
        triplet_margin_loss,
    )

    lp = distances.LpDistance(normalize_embeddings=False)
    pml = {
        "contrastive": losses.ContrastiveLoss(pos_margin=0.0, neg_margin=10.0, distance=lp,
                                              reducer=reducers.MeanReducer()),
        "multi_similarity": losses.MultiSimilarityLoss(alpha=2, beta=50, base=0.5),
        "triplet": losses.TripletMarginLoss(margin=1.0, distance=lp,
                                            reducer=reducers.MeanReducer()),
    }
    ours = {
        "contrastive": lambda z, t: contrastive_margin_loss(z, t, pos_margin=0.0,
                                                            neg_margin=10.0),
        "multi_similarity": lambda z, t: multi_similarity_loss(z, t, alpha=2.0, beta=50.0,
                                                               base=0.5),
        "triplet": lambda z, t: triplet_margin_loss(z, t, margin=1.0),
    }
    rows = []
    for b in sizes:
        g = add_random_edges(cliques_from_labels(np.arange(b) % max(b // 16, 1)), 0.01,
                             seed=seed)
        s = sample_pairs(g, seed=seed)
        ok = (s.positives >= 0) & (s.negatives >= 0)
        tuples = {
            "sampled": tuple(torch.as_tensor(x) for x in s.global_pairs()),
            "all_pairs": tuple(torch.as_tensor(x) for x in batch_pairs(g, np.arange(b))),
            "triplets": tuple(torch.as_tensor(x[ok]) for x in
                              (s.anchors, s.positives, s.negatives)),
        }
        z = torch.randn(b, dim, generator=torch.Generator().manual_seed(seed)) * 3.0
        z.requires_grad_(True)
        cases = [("contrastive", "sampled"), ("contrastive", "all_pairs"),
                 ("multi_similarity", "sampled"), ("multi_similarity", "all_pairs"),
                 ("triplet", "triplets")]
        for loss, kind in cases:
            tup = tuples[kind]
            f_ours = lambda x, loss=loss, tup=tup: ours[loss](x, tup)  # noqa: E731
            f_pml = lambda x, loss=loss, tup=tup: pml[loss](x, indices_tuple=tup)  # noqa: E731
            value, val_err, grad_err = _check_same(f_ours, f_pml, z)
            _time_fwd_bwd(f_ours, z)
            _time_fwd_bwd(f_pml, z)
            t_ours, t_pml = [], []
            for _ in range(repeats):
                t_ours.append(_time_fwd_bwd(f_ours, z))
                t_pml.append(_time_fwd_bwd(f_pml, z))
            row = {
                "batch": b, "loss": loss, "tuples": kind,
                "n_index_entries": int(sum(t.numel() for t in tup)),
                "ours_median_s": statistics.median(t_ours),
                "pml_median_s": statistics.median(t_pml),
                "ours_min_s": min(t_ours), "pml_min_s": min(t_pml),
                "value": value, "rel_value_err": val_err, "rel_grad_err": grad_err,
            }
            row["ratio_median"] = row["pml_median_s"] / row["ours_median_s"]
            row["ratio_min"] = row["pml_min_s"] / row["ours_min_s"]
            rows.append(row)
            print(f"B={b:5d} {loss:17s} {kind:9s} ours {row['ours_median_s'] * 1e3:9.2f} ms  "
                  f"PML {row['pml_median_s'] * 1e3:9.2f} ms  ratio {row['ratio_median']:6.2f} "
                  f"(min-based {row['ratio_min']:6.2f})", flush=True)
    return rows


def bench_trainer(steps, seed, threads):
    from sip_theory.data import make_cliques_dataset, make_topic_corpus
    from sip_theory.models import MaskedTokenLM, SIPTTrainer, TransformerEncoder

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        ds = make_cliques_dataset(seed=seed, n_ft=0)
        corpus = make_topic_corpus(10, n_words=40, seed=seed)
        tokens = torch.as_tensor(corpus.sample_tokens(ds.topic_mixtures[ds.pt_nodes], length=16,
                                                      seed=seed))
        enc = TransformerEncoder("tiny", vocab_size=corpus.vocab_size, seed=seed,
                                 max_len=tokens.shape[1])
        tr = SIPTTrainer(enc, ds.pt_graph, tokens, objective=MaskedTokenLM(enc, seed=seed),
                         lambda_si=0.1, seed=seed)
        tr.fit(max_steps=10)
        t0 = time.perf_counter()
        tr.fit(max_steps=10 + steps)
        wall = time.perf_counter() - t0
    finally:
        torch.set_num_threads(before)
    return {"threads": threads, "steps": steps, "seconds": wall, "steps_per_s": steps / wall,
            "batch": int(ds.pt_graph.n_nodes), "seq_len": int(tokens.shape[1])}


def bench_sampler(n, m, seed):
    from sip_theory.graphs import SampleGraph
    from sip_theory.losses import GraphPairSampler

    rng = np.random.default_rng(seed)
    g = SampleGraph.from_edges(rng.integers(0, n, size=(m, 2)), n_nodes=n, duplicates="merge")
    out = {}
    for pool in ("global", "component"):
        t0 = time.perf_counter()
        sampler = GraphPairSampler(g, negatives=pool)
        t_init = time.perf_counter() - t0
        t0 = time.perf_counter()
        s = sampler.sample(seed=seed)
        t_sample = time.perf_counter() - t0
        out[pool] = {"init_s": t_init, "sample_s": t_sample,
                     "n_without_positive": s.n_without_positive,
                     "n_without_negative": s.n_without_negative}
        print(f"sampler ({pool}): {n:,} anchors, {g.n_edges:,} edges: init {t_init:.2f} s, "
              f"sample {t_sample:.2f} s", flush=True)
    return {"n_nodes": n, "n_edges": g.n_edges, **out}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 1024, 4096])
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--trainer-steps", type=int, default=200)
    ap.add_argument("--sampler-nodes", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch intra-op threads (default 1: on a small shared machine the "
                         "thread pool's wake-up latency dominates small kernels)")
    ap.add_argument("--out", default=None, help="write the results as JSON (atomically)")
    args = ap.parse_args(argv)

    import pytorch_metric_learning

    torch.set_num_threads(args.threads)
    info = {"python": sys.version.split()[0], "torch": torch.__version__,
            "pml": pytorch_metric_learning.__version__, "numpy": np.__version__,
            "machine": platform.machine(), "processor": platform.processor(),
            "torch_threads": torch.get_num_threads(), "args": vars(args)}
    print(json.dumps(info))
    rows = bench_losses(args.sizes, args.dim, args.repeats, args.seed)
    trainer = [bench_trainer(args.trainer_steps, args.seed, args.threads)]
    for r in trainer:
        print(f"trainer, tiny preset, 50-node CLIQUES, full batch, lambda 0.1, "
              f"{r['threads']} thread(s): {r['steps_per_s']:.1f} steps/s", flush=True)
    sampler = bench_sampler(args.sampler_nodes, 5 * args.sampler_nodes, args.seed)
    worst = min(r["ratio_median"] for r in rows)
    print(f"smallest speed ratio PML/ours over all cases: {worst:.2f}")
    if args.out:
        from sip_theory._atomic import atomic_write_json

        atomic_write_json(args.out, {"info": info, "losses": rows, "trainer": trainer,
                                     "sampler": sampler})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
