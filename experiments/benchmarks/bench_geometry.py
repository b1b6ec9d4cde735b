"""Benchmark: the scikit-learn route vs sip_theory.geometry, and the full report at 10^5.

Part 1 (n = 8,000, d = 128, float64) computes the same quantities both ways and
checks that the values agree to 1e-10:

* LRAP alone (the anchor's measurement): ``euclidean_distances`` +
  ``label_ranking_average_precision_score`` on the n x (n-1) matrices vs ``link_lrap``;
* link retrieval (LRAP, nDCG over full rows, micro AP, MRR): scikit-learn's
  ``euclidean_distances`` (its upper triangle mirrored, so that each pair has one
  distance) + ``label_ranking_average_precision_score`` + ``ndcg_score`` +
  ``average_precision_score`` on the n x (n-1) matrices (MRR with numpy on the
  same matrix) vs ``link_retrieval``;
* AUROC of "small distance means edge" over all n(n-1)/2 pairs: ``roc_auc_score``
  on the flattened upper triangle vs ``graph_recovery``;
* trustworthiness (k = 5) of a random 8-dimensional projection:
  ``sklearn.manifold.trustworthiness`` vs ``neighborhood_preservation``.

Part 2 (n = 100,000, d = 128, float32) runs ``geometry_report`` with graph and
labels: link retrieval, graph recovery, the 3-NN and linear probes, LC on G and
on the kNN graph, homophily, alignment/uniformity, RankMe and NC1/CDNV.

Part 3 (the speed targets, n = 100,000, d = 128, float32, same run) times one blocked
pass of the Gram matrix X X^T (the floor), faiss ``IndexFlatL2`` exact k-NN (when faiss
is importable: ``pip install faiss-cpu``), ``geometry.knn`` and the part-2 report, and
prints the ratios k-NN / faiss (target <= 1.25), report / one GEMM pass (target <= 3)
and names the report's slowest stage (target: not the linear probe).

Data (explicit seed): C = 20 classes with Gaussian centres in R^d; a sample is
its class centre plus N(0, 1.2^2) noise; the graph links every sample to 8
random samples of its class and 2 random samples of any class (about 10
edges per sample, 20% of them across classes).

Each case runs in a fresh Python process; its peak memory is that process's
``ru_maxrss`` (interpreter, imports and data included) and we also report the
increase over the resident size before the computation. CPU time is the
process's user + system time, which a busy shared machine distorts less than
wall time.

Usage::

    python experiments/benchmarks/bench_geometry.py               # both parts
    python experiments/benchmarks/bench_geometry.py --part 1 --n-small 4000
    python experiments/benchmarks/bench_geometry.py --part 1 --metrics lrap --out lrap.json
    python experiments/benchmarks/bench_geometry.py --part 4 --n 1000000   # needs faiss

Part 4 (n = 10^6 by default, d = 128, float32, the part-2 data) runs
``estimated_geometry_report``: sampled link retrieval (K random non-neighbours per
query node, OGB's MRR and Hits@k, node and edge AUROC, sampled LRAP, each with its
95% CI), faiss HNSW (or IVF) k-NN with recall measured against exact search on a
random subset, the 3-NN vote from those lists, LC on the graph, and uniformity and
RankMe on 10^4 random rows. Targets at 10^6: under 10 minutes and 8 GB on 2 cores.
It writes ``results/bench_geometry_part4.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
import numpy as np

cfg = json.loads(sys.argv[1])


def make(n, d, dtype, seed, C=20, deg_in=8, deg_out=2):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, C, n)
    centers = rng.normal(size=(C, d))
    X = (centers[y] + 1.2 * rng.normal(size=(n, d))).astype(dtype)
    order = np.argsort(y, kind="stable")
    sizes = np.bincount(y, minlength=C)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    src = np.repeat(np.arange(n), deg_in)
    dst = order[starts[y[src]] + (rng.random(src.size) * sizes[y[src]]).astype(np.int64)]
    src2 = np.repeat(np.arange(n), deg_out)
    dst2 = rng.integers(0, n, src2.size)
    E = np.stack([np.r_[src, src2], np.r_[dst, dst2]], 1)
    E = E[E[:, 0] != E[:, 1]]
    lo, hi = np.minimum(E[:, 0], E[:, 1]), np.maximum(E[:, 0], E[:, 1])
    E = np.unique(np.stack([lo, hi], 1), axis=0)
    return X, E, y, rng


case = cfg["case"]
X, E, y, rng = make(cfg["n"], cfg["d"], cfg["dtype"], cfg["seed"])
n = X.shape[0]
if case.startswith("sk_"):
    import sklearn.metrics as skm
    from sklearn.manifold import trustworthiness
else:
    import torch
    torch.set_num_threads(cfg["threads"])
    import sip_theory.geometry as geo
    from sip_theory.graphs import SampleGraph
    g = SampleGraph.from_edges(E, n_nodes=n)
if case.endswith("trust"):
    P = np.random.default_rng(cfg["seed"] + 1).normal(size=(cfg["d"], 8)) / np.sqrt(8)
    emb = X @ P
ru0 = resource.getrusage(resource.RUSAGE_SELF)
rss0 = ru0.ru_maxrss
t0 = time.perf_counter()
out, parts = {}, {}
if case == "sk_retrieval":
    t = time.perf_counter()
    D = skm.euclidean_distances(X)
    # euclidean_distances is symmetric only up to rounding; ranking ordered pairs with
    # D[i, j] != D[j, i] (by an ulp) perturbs micro AP in the 8th digit, so mirror the
    # upper triangle: every pair then has one distance, as in sip_theory
    D.T[np.triu_indices(n, 1)] = D[np.triu_indices(n, 1)]
    off = ~np.eye(n, dtype=bool)
    S = -D[off].reshape(n, n - 1)
    A = np.zeros((n, n), dtype=np.int8)
    A[E[:, 0], E[:, 1]] = 1
    A[E[:, 1], E[:, 0]] = 1
    Y = A[off].reshape(n, n - 1)
    del A
    parts["distances_and_masks"] = time.perf_counter() - t
    t = time.perf_counter()
    out["lrap"] = skm.label_ranking_average_precision_score(Y, S)
    parts["lrap"] = time.perf_counter() - t
    t = time.perf_counter()
    out["ndcg"] = float(skm.ndcg_score(Y, S))
    parts["ndcg"] = time.perf_counter() - t
    t = time.perf_counter()
    out["ap_micro"] = float(skm.average_precision_score(Y.ravel(), S.ravel()))
    parts["ap_micro"] = time.perf_counter() - t
    t = time.perf_counter()
    rr = []
    for i in range(n):  # rank of the nearest neighbour (continuous data: no ties)
        pos = Y[i].astype(bool)
        rr.append(1.0 / (1 + np.sum(S[i] > S[i][pos].max())))
    out["mrr"] = float(np.mean(rr))
    parts["mrr"] = time.perf_counter() - t
elif case == "sk_lrap":
    D = skm.euclidean_distances(X)
    off = ~np.eye(n, dtype=bool)
    S = -D[off].reshape(n, n - 1)
    A = np.zeros((n, n), dtype=np.int8)
    A[E[:, 0], E[:, 1]] = 1
    A[E[:, 1], E[:, 0]] = 1
    Y = A[off].reshape(n, n - 1)
    out["lrap"] = skm.label_ranking_average_precision_score(Y, S)
elif case == "ours_lrap":
    out["lrap"] = geo.link_lrap(X, g)
elif case == "ours_retrieval":
    r = geo.link_retrieval(X, g, ks=(1, 5, 10))
    out = {"lrap": r.lrap, "ndcg": r.ndcg, "ap_micro": r.ap_micro, "mrr": r.mrr,
           "p_at_10": r.precision_at[10]}
elif case == "sk_auroc":
    D = skm.euclidean_distances(X)
    iu = np.triu_indices(n, 1)
    A = np.zeros((n, n), dtype=np.int8)
    A[E[:, 0], E[:, 1]] = 1
    out["auroc"] = float(skm.roc_auc_score(A[iu], -D[iu]))
elif case == "ours_auroc":
    out["auroc"] = geo.graph_recovery(X, g).auroc
elif case == "sk_trust":
    out["trustworthiness"] = float(trustworthiness(X, emb, n_neighbors=5))
elif case == "ours_trust":
    out["trustworthiness"] = geo.neighborhood_preservation(X, emb, k=5).trustworthiness
elif case == "gemm_pass":
    # the floor: one blocked pass of X X^T in the engine's block size, nothing else
    Xt = torch.from_numpy(X)
    rows = geo.chunk_size_for(n)
    buf = torch.empty((rows, n), dtype=Xt.dtype)
    for r0 in range(0, n, rows):
        r1 = min(r0 + rows, n)
        torch.mm(Xt[r0:r1], Xt.T, out=buf[: r1 - r0])
    out["rows_per_block"] = rows
elif case == "faiss_knn":
    import faiss
    faiss.omp_set_num_threads(cfg["threads"])
    index = faiss.IndexFlatL2(X.shape[1])
    index.add(X)
    dist, ind = index.search(X, cfg["k"] + 1)
    out["mean_kth_distance"] = float(np.sqrt(np.maximum(dist[:, -1], 0)).mean())
elif case == "ours_knn":
    dist, _ = geo.knn(X, cfg["k"])
    out["mean_kth_distance"] = float(np.asarray(dist[:, -1], dtype=np.float64).mean())
elif case == "ours_report":
    # CPU seconds of the sweep and the linear probe (the stage timings are wall times,
    # which a busy shared machine inflates): the report's own calls, wrapped
    import sip_theory.geometry._report as report_module
    stage_cpu = {}

    def cpu_timed(name, fn):
        def wrapped(*a, **kw):
            c0 = time.process_time()
            try:
                return fn(*a, **kw)
            finally:
                stage_cpu[name] = stage_cpu.get(name, 0.0) + time.process_time() - c0
        return wrapped

    report_module.compute_neighbors = cpu_timed("sweep", report_module.compute_neighbors)
    report_module.linear_probe = cpu_timed("linear_probe", report_module.linear_probe)
    rep = geo.geometry_report(X, g, y, progress=False)
    d = rep.to_dict()
    out = {
        "lrap": d["retrieval"]["lrap"], "ndcg": d["retrieval"]["ndcg"],
        "ap_micro": d["retrieval"]["ap_micro"], "mrr": d["retrieval"]["mrr"],
        "auroc": d["recovery"]["auroc"], "best_f1": d["recovery"]["best_f1"],
        "margin": d["recovery"]["margin"], "knn_accuracy": d["knn_probe"]["accuracy"],
        "knn_macro_auroc": d["knn_probe"]["macro_auroc"],
        "linear_accuracy": d["linear_probe"]["accuracy"],
        "lc_graph": d["consistency"]["lc_graph"], "lc_knn": d["consistency"]["lc_embedding"],
        "uniformity": d["uniformity"], "alignment": d["alignment"],
        "rankme": d["rankme"]["garrido2023"], "nc1": d["nc1"], "cdnv": d["cdnv"],
    }
    parts = d["timings"]
    parts.update({f"{k}_cpu": v for k, v in stage_cpu.items()})
    out["chunk_size"] = d["settings"]["chunk_size"]
elif case == "estimated":
    rep = geo.estimated_geometry_report(
        X, g, y, approximate=cfg["approximate"], num_negatives=cfg["negatives"],
        n_queries=cfg["queries"], recall_sample=cfg["recall_sample"], seed=cfg["seed"],
        threads=cfg["threads"])
    r = rep.retrieval
    out = {"mrr": r.mrr, "mrr_hw": r.mrr_hw, "lrap_sampled": r.lrap, "lrap_sampled_hw": r.lrap_hw,
           "node_auroc": r.node_auroc, "node_auroc_hw": r.node_auroc_hw,
           "edge_auroc": r.edge_auroc, "edge_auroc_hw": r.edge_auroc_hw,
           "knn_accuracy": rep.knn_accuracy, "lc": rep.lc, "uniformity": rep.uniformity,
           "rankme": rep.rankme}
    out.update({f"hits@{k}": v for k, v in r.hits_at.items()})
    out.update({f"hits@{k}_hw": v for k, v in r.hits_at_hw.items()})
    if rep.recall is not None:
        out["recall"], out["recall_hw"] = rep.recall.recall, rep.recall.half_width
    parts = dict(rep.timings)
    out["n_queries"], out["num_negatives"] = r.n_queries, r.num_negatives
    out["recall_sample"] = rep.recall.n_sampled if rep.recall is not None else 0
    out["spread_sample"] = rep.spread_sample
else:
    raise SystemExit(f"unknown case {case}")
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
cpu = (ru.ru_utime - ru0.ru_utime) + (ru.ru_stime - ru0.ru_stime)
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_rss_kib": ru.ru_maxrss,
                  "rss_before_kib": rss0, "values": {k: float(v) for k, v in out.items()},
                  "parts": parts, "n_edges": int(len(E))}))
"""


def run_case(cfg: dict) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cfg)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"case {cfg['case']} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _mib(kib: float) -> float:
    return kib / 1024.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", type=int, choices=(1, 2, 3, 4), nargs="+", default=[1, 2, 3])
    ap.add_argument("--n", type=int, default=1_000_000, help="part 4: samples")
    ap.add_argument("--approximate", default="hnsw", choices=["hnsw", "ivf", "none"],
                    help="part 4: faiss index, or none for the exact engine")
    ap.add_argument("--negatives", type=int, default=100, help="part 4: K per query node")
    ap.add_argument("--queries", type=int, default=10_000, help="part 4: query nodes")
    ap.add_argument("--recall-sample", type=int, default=1000,
                    help="part 4: queries checked against exact search")
    ap.add_argument("--out4", default=str(Path(__file__).parent / "results" /
                                          "bench_geometry_part4.json"))
    ap.add_argument("--k", type=int, default=10, help="part 3: neighbours per point")
    ap.add_argument("--n-small", type=int, default=8000)
    ap.add_argument("--n-large", type=int, default=100_000)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--metrics", nargs="+", default=["lrap", "retrieval", "auroc", "trust"],
                    choices=["lrap", "retrieval", "auroc", "trust"],
                    help="part-1 comparisons to run")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" /
                                         "bench_geometry.json"))
    args = ap.parse_args(argv)
    print(f"bench_geometry: python {platform.python_version()}, "
          f"{len(os.sched_getaffinity(0))} CPU(s), torch threads {args.threads}")
    results: dict = {"config": vars(args), "part1": {}, "part2": {}, "part3": {}}
    ok = True
    t_all = time.perf_counter()
    if 1 in args.part:
        print(f"\nPart 1: n={args.n_small}, d={args.d}, float64")
        head = f"{'metric':<16}{'route':<10}{'wall s':>8}{'cpu s':>8}{'peak MiB':>10}" \
               f"{'+MiB':>8}  values"
        print(head)
        print("-" * (len(head) + 30))
        for name in args.metrics:
            pair = {}
            for route in ("sk", "ours"):
                cfg = {"case": f"{route}_{name}", "n": args.n_small, "d": args.d,
                       "dtype": "float64", "seed": args.seed, "threads": args.threads}
                res = run_case(cfg)
                pair[route] = res
                vals = ", ".join(f"{k} {v:.12f}" for k, v in res["values"].items())
                print(f"{name:<16}{route:<10}{res['wall_s']:>8.2f}{res['cpu_s']:>8.2f}"
                      f"{_mib(res['peak_rss_kib']):>10.0f}"
                      f"{_mib(res['peak_rss_kib'] - res['rss_before_kib']):>8.0f}  {vals}")
            sk, ours = pair["sk"], pair["ours"]
            diff = max(abs(sk["values"][k] - ours["values"][k]) for k in sk["values"])
            speed = sk["wall_s"] / ours["wall_s"]
            mem = _mib(sk["peak_rss_kib"]) / _mib(ours["peak_rss_kib"])
            mem_inc = (sk["peak_rss_kib"] - sk["rss_before_kib"]) / max(
                1, ours["peak_rss_kib"] - ours["rss_before_kib"])
            print(f"{'':<16}-> {speed:.1f}x faster (wall), "
                  f"{sk['cpu_s'] / ours['cpu_s']:.1f}x less CPU, peak memory "
                  f"{mem:.1f}x lower ({mem_inc:.1f}x lower increase), max |diff| {diff:.2e}")
            ok &= diff < 1e-10
            results["part1"][name] = {"sklearn": sk, "ours": ours, "max_abs_diff": diff,
                                      "speedup_wall": speed, "memory_ratio_peak": mem,
                                      "memory_ratio_increase": mem_inc}
    if 2 in args.part:
        print(f"\nPart 2: geometry_report at n={args.n_large}, d={args.d}, float32")
        cfg = {"case": "ours_report", "n": args.n_large, "d": args.d, "dtype": "float32",
               "seed": args.seed, "threads": args.threads}
        res = run_case(cfg)
        results["part2"] = res
        print(f"wall {res['wall_s']:.1f} s, cpu {res['cpu_s']:.1f} s, peak "
              f"{_mib(res['peak_rss_kib']):.0f} MiB, edges {res['n_edges']}")
        print("stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in res["parts"].items()))
        print("values: " + ", ".join(f"{k} {v:.4g}" for k, v in res["values"].items()))
        ok &= res["wall_s"] < 600 and _mib(res["peak_rss_kib"]) < 4096
    if 3 in args.part:
        print(f"\nPart 3: speed targets at n={args.n_large}, d={args.d}, float32, "
              f"k={args.k} (same run)")
        base = {"n": args.n_large, "d": args.d, "dtype": "float32", "seed": args.seed,
                "threads": args.threads, "k": args.k}
        part3 = {}
        for case in ("gemm_pass", "faiss_knn", "ours_knn"):
            try:
                part3[case] = run_case({**base, "case": case})
            except RuntimeError as exc:
                if case != "faiss_knn" or "No module named 'faiss'" not in str(exc):
                    raise
                print("faiss is not installed (pip install faiss-cpu): its ratio is skipped")
                continue
            r = part3[case]
            print(f"{case:<12} wall {r['wall_s']:7.1f} s, cpu {r['cpu_s']:7.1f} s, peak "
                  f"{_mib(r['peak_rss_kib']):6.0f} MiB")
        report = results["part2"] or run_case({**base, "case": "ours_report"})
        gemm = part3["gemm_pass"]["wall_s"]
        ratios = {"report_over_gemm": report["wall_s"] / gemm}
        if "faiss_knn" in part3:
            ratios["knn_over_faiss"] = part3["ours_knn"]["wall_s"] / part3["faiss_knn"]["wall_s"]
            a = part3["ours_knn"]["values"]["mean_kth_distance"]
            b = part3["faiss_knn"]["values"]["mean_kth_distance"]
            ratios["kth_distance_rel_diff"] = abs(a - b) / b
        stages = {k: v for k, v in report["parts"].items()
                  if k not in ("total", "validate") and not k.endswith("_cpu")}
        slowest = max(stages, key=stages.get)
        ratios["probe_over_sweep"] = stages.get("linear_probe", 0.0) / stages["sweep"]
        # the same ratios in CPU seconds, which other load on a shared machine distorts less
        gemm_cpu = part3["gemm_pass"]["cpu_s"]
        ratios["report_over_gemm_cpu"] = report["cpu_s"] / gemm_cpu
        if "sweep_cpu" in report["parts"]:
            ratios["sweep_over_gemm_cpu"] = report["parts"]["sweep_cpu"] / gemm_cpu
            ratios["probe_over_sweep_cpu"] = report["parts"].get(
                "linear_probe_cpu", 0.0) / report["parts"]["sweep_cpu"]
        print(f"report {report['wall_s']:.1f} s; stages: "
              + ", ".join(f"{k} {v:.1f}s" for k, v in stages.items()))
        if "knn_over_faiss" in ratios:
            print(f"-> exact k-NN / faiss IndexFlatL2: {ratios['knn_over_faiss']:.2f} "
                  f"(target <= 1.25); mean k-th distance differs by "
                  f"{ratios['kth_distance_rel_diff']:.1e} (faiss computes in float32)")
        print(f"-> full report / one GEMM pass: {ratios['report_over_gemm']:.2f} (target <= 3); "
              f"in CPU seconds {ratios['report_over_gemm_cpu']:.2f}"
              + (f" (the sweep alone {ratios['sweep_over_gemm_cpu']:.2f}, linear probe / "
                 f"sweep {ratios['probe_over_sweep_cpu']:.2f})"
                 if "sweep_over_gemm_cpu" in ratios else ""))
        print(f"-> slowest report stage: {slowest}; linear probe / sweep "
              f"{ratios['probe_over_sweep']:.2f} (target: the probe is not the slowest)")
        results["part3"] = {"cases": part3, "report": report, "ratios": ratios,
                            "slowest_stage": slowest}
        ok &= ratios["report_over_gemm"] <= 3 and slowest != "linear_probe" and \
            ratios.get("knn_over_faiss", 0.0) <= 1.25
    from sip_theory._atomic import atomic_write_json

    if 4 in args.part:
        ok &= _part4(args, atomic_write_json)
        if args.part == [4]:
            print(f"total {time.perf_counter() - t_all:.0f} s")
            return 0 if ok else 1
    atomic_write_json(args.out, results)
    print(f"\nwrote {args.out}; total {time.perf_counter() - t_all:.0f} s")
    return 0 if ok else 1


def _part4(args, write) -> bool:
    """The estimated report at n = args.n (targets at 10^6: < 10 min, < 8 GB on 2 cores)."""
    approx = None if args.approximate == "none" else args.approximate
    print(f"\nPart 4: estimated_geometry_report at n={args.n}, d={args.d}, float32, "
          f"approximate={approx}, K={args.negatives}, queries={args.queries}")
    cfg = {"case": "estimated", "n": args.n, "d": args.d, "dtype": "float32",
           "seed": args.seed, "threads": args.threads, "approximate": approx,
           "negatives": args.negatives, "queries": args.queries,
           "recall_sample": args.recall_sample}
    res = run_case(cfg)
    v = res["values"]
    print(f"wall {res['wall_s']:.1f} s, cpu {res['cpu_s']:.1f} s, peak "
          f"{_mib(res['peak_rss_kib']):.0f} MiB, edges {res['n_edges']}")
    print("stages: " + ", ".join(f"{k} {t:.1f}s" for k, t in res["parts"].items()))
    level = "95%"
    for name in ("mrr", "hits@1", "hits@3", "hits@10", "lrap_sampled", "node_auroc",
                 "edge_auroc"):
        print(f"  {name:<13} {v[name]:.4f} +- {v[name + '_hw']:.4f} ({level} CI, "
              f"{int(v['n_queries'])} query nodes, K={int(v['num_negatives'])})")
    rec = (f"recall@10 {v['recall']:.4f} +- {v['recall_hw']:.4f} on "
           f"{int(v['recall_sample'])} queries" if "recall" in v else "exact neighbours")
    print(f"  knn_accuracy  {v['knn_accuracy']:.4f} (3-NN from the k-NN lists, {rec})")
    print(f"  lc            {v['lc']:.4f} (exact)")
    print(f"  uniformity    {v['uniformity']:.4f}, rankme {v['rankme']:.2f} "
          f"(on {int(v['spread_sample'])} random rows)")
    res["targets_met"] = res["wall_s"] < 600 and _mib(res["peak_rss_kib"]) < 8192
    res["config"] = cfg
    write(args.out4, res)
    print(f"wrote {args.out4}")
    return bool(res["targets_met"]) if args.n >= 1_000_000 else True


if __name__ == "__main__":
    raise SystemExit(main())
