"""Scale benchmark of ``sip-theory pretrain`` (issue 15): wall and CPU time per stage.

Generates a planted-topic dataset (explicit seed): ``--n`` samples with
``--features`` sparse binary features (a few topic words plus background
words per sample) and ``--links`` links, most within a topic; writes it as a
scipy sparse ``.npz``, an edge list and labels, then runs the command's stages
one by one through its API and prints the wall and CPU seconds of each
(loading and checks, the split, every trained unit, the report with the label
evaluation).

The issue's target: the default size (20,000 x 500, 45,000 links) in under
10 minutes on 2 cores::

    taskset -c 0,1 python experiments/benchmarks/bench_pretrain.py

A quick check that it works::

    python experiments/benchmarks/bench_pretrain.py --n 1000 --links 2250 --epochs 2 --lambdas 0,0.5
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp


def generate(n: int, d: int, m: int, *, n_topics: int = 10, seed: int = 0):
    """Sparse binary features, labels and ``m`` distinct links (80% within a topic)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_topics, n)
    words_per_topic = d // n_topics
    rows, cols = [], []
    for i in range(n):  # 6 topic words and 6 background words per sample
        topic = y[i] * words_per_topic + rng.choice(words_per_topic, 6, replace=False)
        rows += [i] * 12
        cols += topic.tolist() + rng.choice(d, 6, replace=False).tolist()
    x = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, d))
    x.data[:] = 1.0  # a background word may repeat a topic word
    by_topic = [np.flatnonzero(y == k) for k in range(n_topics)]
    keys = set()
    while len(keys) < m:
        k = m - len(keys)
        a = rng.integers(0, n, k)
        same = rng.random(k) < 0.8
        b = rng.integers(0, n, k)
        for j in np.flatnonzero(same):
            pool = by_topic[y[a[j]]]
            b[j] = pool[rng.integers(0, pool.size)]
        ok = a != b
        lo, hi = np.minimum(a, b)[ok], np.maximum(a, b)[ok]
        keys.update((lo * n + hi).tolist())
    keys = np.array(sorted(keys))[:m]
    return x, y, np.stack([keys // n, keys % n], axis=1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--features", type=int, default=500)
    p.add_argument("--links", type=int, default=45000)
    p.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    p.add_argument("--lambdas", default="0,0.01,0.1,0.5,0.9")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--epochs", type=int, default=None, help="default: the command's")
    p.add_argument("--sampler", default="uniform")
    p.add_argument("--no-labels", action="store_true", help="skip the label evaluation")
    p.add_argument("--raw", action="store_true",
                   help="also measure the raw-feature baseline (cosine on binary features "
                   "ties most pairs exactly; its exact tie handling dominated a 2,000-sample run)")
    p.add_argument("--out", help="output folder (default: a temporary one)")
    args = p.parse_args(argv)

    import torch

    from sip_theory.experiments._pretrain import plan_pretrain, run_pretrain
    from sip_theory.experiments._pretrain_data import load_pretrain_inputs

    rows = []

    def stage(name, t0, c0):
        rows.append((name, time.perf_counter() - t0, time.process_time() - c0))

    work = Path(args.out or tempfile.mkdtemp(prefix="bench-pretrain-"))
    work.mkdir(parents=True, exist_ok=True)
    t, c = time.perf_counter(), time.process_time()
    x, y, edges = generate(args.n, args.features, args.links, seed=args.seed)
    sp.save_npz(work / "x.npz", x)
    np.save(work / "y.npy", y)
    np.savetxt(work / "g.tsv", edges, fmt="%d", delimiter="\t")
    stage("generate data (not part of the command)", t, c)
    t_all, c_all = time.perf_counter(), time.process_time()
    t, c = time.perf_counter(), time.process_time()
    data = load_pretrain_inputs(work / "x.npz", work / "g.tsv",
                                labels=None if args.no_labels else work / "y.npy")
    stage("load and check inputs", t, c)
    t, c = time.perf_counter(), time.process_time()
    settings = {"train": {"epochs": args.epochs}} if args.epochs else None
    plan = plan_pretrain(data, lambdas=[float(v) for v in args.lambdas.split(",")],
                         seeds=args.seeds, sampler=args.sampler, settings=settings,
                         raw=args.raw)
    stage("plan: split links, check options", t, c)
    t, c = time.perf_counter(), time.process_time()
    rep = run_pretrain(plan, work / "out", progress=False, resume=False)
    total_run = time.perf_counter() - t
    for arm, a in rep["arms"].items():
        for s, e in a["per_seed"].items():
            tm = e["timing"]
            rows.append((f"  unit {arm} seed {s}: train", tm.get("train_s", 0.0), None))
            rows.append((f"  unit {arm} seed {s}: link retrieval", tm.get("measure_s", 0.0), None))
    rows.append(("  report: label evaluation (3-NN, linear, Theorem 1)",
                 rep["run"]["evaluation_s"], None))
    stage("run: train units, measure, report", t, c)
    total = time.perf_counter() - t_all
    cpu = time.process_time() - c_all
    print(f"pretrain benchmark: n={args.n}, d={args.features}, links={args.links} "
          f"(seed {args.seed}); lambdas {args.lambdas}; seeds {args.seeds}; epochs "
          f"{plan.config['train']['epochs']}; sampler {args.sampler}; torch threads "
          f"{torch.get_num_threads()}; cpus available {len(os.sched_getaffinity(0))}")
    print(f"{'stage':58s} {'wall s':>9s} {'cpu s':>9s}")
    for name, wall, cpu_s in rows:
        print(f"{name:58s} {wall:9.2f} {'' if cpu_s is None else f'{cpu_s:9.2f}':>9s}")
    print(f"{'command total (load + plan + run)':58s} {total:9.2f} {cpu:9.2f}")
    print(f"run share of total: {total_run / total:.2f}; label-free pick lambda = "
          f"{rep['selection']['chosen_lambda']:g}; target: total wall < 600 s on 2 cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
