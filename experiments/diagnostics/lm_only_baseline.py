"""Why the Cora LM-only arm scores below its raw input, and baselines beside a fixed one.

The case study's lambda = 0 arm (MLP 1433 -> 256 -> 64, masked-feature reconstruction with a
binary cross-entropy over the whole ~1%-dense vector, 40 epochs at lr 1e-3) scores below the
raw bag of words on 3-NN topic accuracy. This script measures, on the shipped Cora, with the
case study's own edge splits and seeds (``sip_theory.experiments._cora._seed_streams``):

* ``ablations`` (seed 0 only, 3-NN only, run after the arms): the old objective with one
  setting changed at a time (epochs, lr, output size, dropout), its final loss beside the
  loss of the constant predictor of each word's corpus frequency, and the RankMe of the
  embedding; two changes of the Mult-DAE arm (64-d output, Bernoulli likelihood);
* ``arms`` (every seed): raw features, tf-idf + truncated SVD, Laplacian eigenmaps of G_PT
  (the test and validation links removed), the old LM-only model, the Mult-DAE LM-only model
  (``DenoisingAutoencoderObjective``) and SIPT with the Mult-DAE L_M at lambda 0.5 and 0.9
  (the case study's contrastive L_SI). Each embedding is measured with cosine and with
  Euclidean distance: planetoid 3-NN test accuracy, leave-one-out 3-NN accuracy, and
  retrieval of the held-out test citations (LRAP, MRR; every known citation, G_PT and
  validation, excluded from the candidates, as in the case study).

Writes ``experiments/results/diagnostics/lm_only_baseline.json`` (config, versions, per-seed
raw values, mean +- 95% t half-width; rewritten after every arm with ``partial: true`` until
the end; a later call with the same settings keeps the runs it finds there) and prints a
table.

    python experiments/diagnostics/lm_only_baseline.py [--seeds 3] [--no-ablations]
        [--arms raw,tfidf_svd,...] [--out PATH]
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "experiments" / "results" / "diagnostics" / "lm_only_baseline.json"

EMBED_DIM = 64  # tf-idf + SVD and eigenmaps: the case study's embedding size
OLD = {  # the case study's lambda = 0 arm, as stored in experiments/results/cora/
    "encoder": {"hidden_sizes": [256], "out_features": 64, "activation": "relu", "dropout": 0.1},
    "objective": {"rate": 0.15, "scope": "nonzero", "loss_on": "all", "loss": "bce"},
    "train": {"epochs": 40, "batch_size": 512, "lr": 1e-3, "weight_decay": 0.01},
}
DAE = {  # Mult-DAE (Liang et al. 2018): L2-normalized input, input dropout 0.5, softmax decoder
    "encoder": {"hidden_sizes": [256], "out_features": 256, "activation": "relu", "dropout": 0.0},
    "objective": {"likelihood": "multinomial", "corruption": 0.5},
    "train": {"epochs": 40, "batch_size": 512, "lr": 3e-3, "weight_decay": 0.01},
}
SI = {"si_loss": "contrastive",
      "si_loss_kwargs": {"pos_margin": 0.0, "neg_margin": 10.0, "reduction": "paper"},
      "sampler": "paper"}
# the LM-only arms first; raw 1,433-d retrieval is the slowest measurement
ARMS = ("lm_dae", "lm_old", "tfidf_svd", "spectral", "sipt_dae_0.9", "raw", "sipt_dae_0.5")
ABLATIONS = {  # one change to OLD each (seed 0)
    "old_as_is": {},
    "old_epochs_200": {"train": {"epochs": 200}},
    "old_lr_1e-2": {"train": {"lr": 1e-2}},
    "old_out_256": {"encoder": {"out_features": 256}},
    "old_dropout_0": {"encoder": {"dropout": 0.0}},
    "dae_out_64": {"base": "dae", "encoder": {"out_features": 64}},
    "dae_bernoulli": {"base": "dae", "objective": {"likelihood": "bernoulli"}},
}
METRICS = ("cosine", "euclidean")


def _merge(base, change):
    return {k: {**base[k], **change.get(k, {})} for k in ("encoder", "objective", "train")}


def _train(x, graph, cfg, *, kind, lambda_si, seeds):
    """Embeddings of an MLP trained with the old or the Mult-DAE L_M, and its training facts."""
    from sip_theory.models import (
        DenoisingAutoencoderObjective,
        MaskedFeatureReconstruction,
        MLPEncoder,
        SIPTTrainer,
        l2_normalize_rows,
    )

    data = torch.from_numpy(x) if kind == "old" else l2_normalize_rows(torch.from_numpy(x))
    enc = MLPEncoder(x.shape[1], seed=seeds["init"], **cfg["encoder"])
    cls = MaskedFeatureReconstruction if kind == "old" else DenoisingAutoencoderObjective
    obj = cls(enc.embedding_dim, x.shape[1], seed=seeds["head"], **cfg["objective"])
    extra = SI if lambda_si > 0 else {}
    tr = SIPTTrainer(enc, graph, data, objective=obj, lambda_si=lambda_si, seed=seeds["train"],
                     **cfg["train"], **extra)
    t0 = time.perf_counter()
    hist = tr.fit()
    facts = {"train_seconds": time.perf_counter() - t0, "steps": tr.step,
             "first_loss_m": hist[0]["loss_m"], "final_loss_m": hist[-1]["loss_m"],
             "final_loss_si": hist[-1]["loss_si"]}
    return tr.embed().numpy().astype(np.float64), facts


def _measure(emb, ds, split, known_test, *, retrieval=True) -> dict:
    from sip_theory.geometry import knn_probe, link_retrieval, rankme

    out = {"rankme": float(rankme(emb))}
    zero = int((np.abs(emb).sum(axis=1) == 0).sum())
    for m in METRICS:
        if m == "cosine" and zero:  # cosine is undefined at the origin (eigenmaps: isolated nodes)
            out[m] = dict.fromkeys(("knn3_planetoid", "knn3_loo") +
                                   (("test_lrap", "test_mrr") if retrieval else ()))
            out[m]["undefined"] = f"{zero} zero rows"
            continue
        knn = knn_probe(emb, ds.labels, k=3, metric=m, train_index=ds.train_index,
                        test_index=ds.test_index)
        loo = knn_probe(emb, ds.labels, k=3, metric=m)
        out[m] = {"knn3_planetoid": float(knn.accuracy), "knn3_loo": float(loo.accuracy)}
        if retrieval:
            ret = link_retrieval(emb, split.test_edges, exclude=known_test, metric=m)
            out[m].update(test_lrap=float(ret.lrap), test_mrr=float(ret.mrr))
    return out


def _arm(name, seed, ds, x):
    from sip_theory.baselines import spectral_embedding, tfidf_svd_embedding
    from sip_theory.experiments._cora import CORA_SETTINGS, _seed_streams
    from sip_theory.graphs import SampleGraph, split_edges

    seeds = _seed_streams(seed)
    split = split_edges(ds.graph, seed=seeds["split"], **CORA_SETTINGS["split"])
    known_test = SampleGraph.from_edges(np.concatenate([split.pt_graph.edges(), split.val_edges]),
                                        n_nodes=ds.n_samples)
    t0 = time.perf_counter()
    facts = {}
    if name == "raw":
        emb = x.astype(np.float64)
    elif name == "tfidf_svd":
        emb = tfidf_svd_embedding(ds.features, EMBED_DIM, seed=seeds["init"])
    elif name == "spectral":
        emb = spectral_embedding(split.pt_graph, EMBED_DIM)
        facts["zero_rows"] = int((np.abs(emb).sum(axis=1) == 0).sum())
    elif name == "lm_old":
        emb, facts = _train(x, split.pt_graph, OLD, kind="old", lambda_si=0.0, seeds=seeds)
    elif name == "lm_dae":
        emb, facts = _train(x, split.pt_graph, DAE, kind="dae", lambda_si=0.0, seeds=seeds)
    elif name.startswith("sipt_dae_"):
        lam = float(name.rsplit("_", 1)[1])
        emb, facts = _train(x, split.pt_graph, DAE, kind="dae", lambda_si=lam, seeds=seeds)
    else:
        raise ValueError(f"arms: unknown arm {name!r}; known: {', '.join(ARMS)}")
    facts["seconds"] = time.perf_counter() - t0
    return {**_measure(emb, ds, split, known_test), "facts": facts}


def _ablation(name, ds, x):
    from sip_theory.experiments._cora import CORA_SETTINGS, _seed_streams
    from sip_theory.graphs import SampleGraph, split_edges

    change = dict(ABLATIONS[name])
    kind = "dae" if change.pop("base", "old") == "dae" else "old"
    cfg = _merge(OLD if kind == "old" else DAE, change)
    seeds = _seed_streams(0)
    split = split_edges(ds.graph, seed=seeds["split"], **CORA_SETTINGS["split"])
    known_test = SampleGraph.from_edges(np.concatenate([split.pt_graph.edges(), split.val_edges]),
                                        n_nodes=ds.n_samples)
    emb, facts = _train(x, split.pt_graph, cfg, kind=kind, lambda_si=0.0, seeds=seeds)
    return {"config": cfg, **_measure(emb, ds, split, known_test, retrieval=False),
            "facts": facts}


def _versions() -> dict:
    import scipy

    import sip_theory

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {"python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "torch": torch.__version__,
            "sip_theory": sip_theory.__version__, "git_commit": commit,
            "torch_threads": torch.get_num_threads()}


def _summary(per_seed: dict) -> dict:
    from sip_theory.experiments._summary_tools import seed_stats

    out = {}
    for arm, runs in per_seed.items():
        out[arm] = {"rankme": seed_stats([r["rankme"] for r in runs])}
        for m in METRICS:
            out[arm][m] = {k: seed_stats([r[m][k] for r in runs]) for k in runs[0][m]
                           if k != "undefined"}
    return out


def _table(summary: dict) -> str:
    cols = ("knn3_planetoid", "knn3_loo", "test_lrap", "test_mrr")
    lines = ["| arm | distance | " + " | ".join(cols) + " | RankMe |",
             "|---|---|" + "---|" * (len(cols) + 1)]
    for arm, s in summary.items():
        for m in METRICS:
            cells = []
            for c in cols:
                st = s[m][c]
                if st["mean"] is None:
                    cells.append("n/a")
                    continue
                ci = "" if st["ci95"] is None else f" ± {st['ci95']:.3f}"
                cells.append(f"{st['mean']:.3f}{ci}")
            lines.append(f"| {arm} | {m} | " + " | ".join(cells) +
                         f" | {s['rankme']['mean']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> dict:
    from sip_theory._atomic import atomic_write_json
    from sip_theory.data import load_cora

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--arms", default=",".join(ARMS))
    ap.add_argument("--no-ablations", action="store_true")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # the machine is shared; one thread is also the fastest here
    ds = load_cora()
    x = ds.features.toarray().astype(np.float32)
    p = x.mean(axis=0).astype(np.float64)
    p = p[(p > 0) & (p < 1)]
    marginal_bce = float(np.sum(-(p * np.log(p) + (1 - p) * np.log1p(-p))) / x.shape[1])
    t0 = time.perf_counter()
    result = {
        "config": {"seeds": list(range(args.seeds)), "arms": args.arms.split(","),
                   "embed_dim": EMBED_DIM, "old": OLD, "dae": DAE, "si": SI,
                   "split": "sip_theory.experiments._cora: CORA_SETTINGS['split'] with "
                            "_seed_streams(seed)['split']",
                   "metrics": list(METRICS)},
        "versions": _versions(),
        "data": {"n_samples": int(x.shape[0]), "n_features": int(x.shape[1]),
                 "density": float(x.mean()), "mean_words": float(x.sum(axis=1).mean()),
                 "bce_of_word_frequency_predictor": marginal_bce},
    }
    def save(partial):
        result["partial"] = partial
        result["wall_seconds"] = time.perf_counter() - t0
        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(args.out, result)

    per_seed = result["per_seed"] = {}
    done = {}
    if args.out.exists():  # resume: keep the finished runs of an earlier call with this config
        import json

        old = json.loads(args.out.read_text())
        same = all(old.get("config", {}).get(k) == result["config"][k]
                   for k in ("embed_dim", "old", "dae", "si", "split", "metrics"))
        if same:
            done = {(a, r["seed"]): r for a, runs in old.get("per_seed", {}).items()
                    for r in runs}
            result["ablations_done"] = old.get("ablations", {})
    for arm in result["config"]["arms"]:
        per_seed[arm] = []
        for seed in result["config"]["seeds"]:
            if (arm, seed) in done:
                per_seed[arm].append(done[(arm, seed)])
                continue
            r = _arm(arm, seed, ds, x)
            per_seed[arm].append({"seed": seed, **r})
            print(f"{arm} seed {seed}: " + ", ".join(
                f"{m[:3]} knn3 {r[m]['knn3_planetoid']:.3f} loo {r[m]['knn3_loo']:.3f} "
                f"lrap {r[m]['test_lrap']:.3f}" for m in METRICS if "undefined" not in r[m])
                + f" ({r['facts']['seconds']:.0f} s)", flush=True)
        result["summary"] = _summary(per_seed)
        save(partial=True)
    earlier = result.pop("ablations_done", {})
    if not args.no_ablations:
        result["ablations"] = {}
        for name in ABLATIONS:
            if name in earlier:
                result["ablations"][name] = earlier[name]
                continue
            result["ablations"][name] = r = _ablation(name, ds, x)
            print(f"ablation {name}: loss_m {r['facts']['final_loss_m']:.4f}, "
                  f"rankme {r['rankme']:.1f}, " + ", ".join(
                      f"{m[:3]} knn3 {r[m]['knn3_planetoid']:.3f} loo {r[m]['knn3_loo']:.3f}"
                      for m in METRICS), flush=True)
            save(partial=True)
    save(partial=False)
    print(_table(result["summary"]))
    print(f"wrote {args.out} ({result['wall_seconds']:.0f} s)")
    return result


if __name__ == "__main__":
    main()
