"""Benchmark: radius and kNN graphs of 100,000 points in 64 dimensions (CPU, numpy only).

Each case runs in its own fresh Python process, so that its peak resident memory
(``resource.getrusage(...).ru_maxrss``, which also counts BLAS work buffers that
``tracemalloc`` cannot see) belongs to that case alone. The figure includes the
interpreter, numpy/scipy and the point matrix.

Points are i.i.d. standard normal (explicit seed). The squared distance of two
such points is 2 * chi2(d), so the radius giving an expected mean degree D is
r = sqrt(2 * chi2.ppf(D / (n - 1), d)); the kNN graph uses k = D.

Usage::

    python experiments/benchmarks/bench_graphs.py                   # n=100000, d=64
    python experiments/benchmarks/bench_graphs.py --n 20000 --dtype float64
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import numpy as np
from sip_theory.graphs import knn_graph, radius_graph

cfg = json.loads(sys.argv[1])
rng = np.random.default_rng(cfg["seed"])
x = rng.standard_normal((cfg["n"], cfg["dim"])).astype(cfg["dtype"])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
if cfg["case"] == "radius":
    g = radius_graph(x, cfg["radius"], metric="euclidean", chunk_size=cfg["chunk_size"])
else:
    g = knn_graph(x, cfg["k"], metric="euclidean", mutual=cfg["mutual"],
                  chunk_size=cfg["chunk_size"])
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
deg = g.degrees()
print(json.dumps({
    "wall_s": wall, "peak_rss_kib": peak, "rss_before_build_kib": before,
    "n_nodes": g.n_nodes, "n_edges": g.n_edges, "mean_degree": float(deg.mean()),
    "min_degree": int(deg.min()), "max_degree": int(deg.max()),
}))
"""


def run_case(cfg: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(cfg)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    from scipy.stats import chi2

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--degree", type=float, default=10.0,
                    help="target mean degree (radius graph) and k (kNN graph)")
    ap.add_argument("--dtype", choices=["float32", "float64"], nargs="+",
                    default=["float32", "float64"])
    ap.add_argument("--chunk-size", type=int, default=None)
    args = ap.parse_args(argv)

    radius = math.sqrt(2.0 * chi2.ppf(args.degree / (args.n - 1), args.dim))
    k = int(round(args.degree))
    print(f"bench_graphs: n={args.n} dim={args.dim} seed={args.seed} "
          f"radius={radius:.6f} (expected mean degree {args.degree:g}) k={k} "
          f"chunk_size={args.chunk_size or 'default'}")
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} CPU(s) available")
    header = f"{'case':<22}{'dtype':<9}{'wall s':>8}{'peak MiB':>10}{'edges':>10}" \
             f"{'mean deg':>10}{'min':>5}{'max':>6}"
    print(header)
    print("-" * len(header))
    t_all = time.perf_counter()
    worst = 0.0
    for dtype in args.dtype:
        cases = [("radius", {"radius": radius}, f"radius (r < {radius:.3f})"),
                 ("knn", {"k": k, "mutual": False}, f"kNN (k={k})")]
        for case, extra, label in cases:
            cfg = {"case": case, "n": args.n, "dim": args.dim, "seed": args.seed,
                   "dtype": dtype, "chunk_size": args.chunk_size, **extra}
            res = run_case(cfg)
            peak_mib = res["peak_rss_kib"] / 1024
            worst = max(worst, peak_mib)
            print(f"{label:<22}{dtype:<9}{res['wall_s']:>8.1f}{peak_mib:>10.0f}"
                  f"{res['n_edges']:>10}{res['mean_degree']:>10.2f}"
                  f"{res['min_degree']:>5}{res['max_degree']:>6}")
    print(f"largest peak RSS {worst:.0f} MiB (target < 2048 MiB); "
          f"total {time.perf_counter() - t_all:.0f} s")
    return 0 if worst < 2048 else 1


if __name__ == "__main__":
    raise SystemExit(main())
