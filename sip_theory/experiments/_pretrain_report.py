"""The report of ``sip-theory pretrain``: selection, per-lambda retrieval, label checks, files.

:func:`write_pretrain_report` turns the units of a run into ``report.json``,
``summary.md``, ``retrieval.png`` and ``embeddings.npy``. Everything is
computed first and each file is written atomically. The label metrics are
recomputed from the stored embeddings at every call (labels never enter
training, so adding them later retrains nothing).
"""

from __future__ import annotations

import io
import time

import numpy as np

from ._summary_tools import finite, fmt_mean, seed_stats

__all__ = ["label_metrics", "write_pretrain_report"]

#: (report key, section of a unit's metrics, metric) of the per-arm summary
_RETRIEVAL_ROWS = (("val_lrap", "val_edges", "lrap"), ("test_lrap", "test_edges", "lrap"),
                   ("test_mrr", "test_edges", "mrr"), ("train_lrap", "train_edges", "lrap"))
_LABEL_ROWS = ("knn3_loo_accuracy", "linear_accuracy", "lc_pt", "rnn_accuracy")


def label_metrics(emb, graph, labels, *, metric: str, seed: int, device: str = "cpu") -> dict:
    """3-NN (leave-one-out) and linear-probe accuracy, LC of ``graph`` and Theorem 1's check.

    Samples with a missing label (masked) are left out of every number here:
    the probes, LC and the check run on the labelled samples and the subgraph of
    ``graph`` they induce.

    Examples
    --------
    >>> x = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> m = label_metrics(x, [(0, 1), (1, 2), (3, 4), (4, 5)], [0, 0, 0, 1, 1, 1],
    ...                   metric="euclidean", seed=0)
    >>> m["knn3_loo_accuracy"], m["lc_pt"], m["theorem1_realized"]
    (1.0, 1.0, True)
    """
    from ..geometry import knn_probe, linear_probe
    from ..graphs import as_sample_graph
    from ..theory import check_theorem1

    g = as_sample_graph(graph)
    if isinstance(labels, np.ma.MaskedArray):
        keep = np.flatnonzero(~np.ma.getmaskarray(labels))
        y = np.asarray(labels.data)[keep]
        emb, g = emb[keep], g.subgraph(keep)
    else:
        y = np.asarray(labels)
    out: dict = {"n_labelled": int(y.shape[0]), "notes": []}
    knn = knn_probe(emb, y, k=3, metric=metric, device=device)
    out["knn3_loo_accuracy"] = finite(knn.accuracy)
    out["knn3_loo_auroc"] = finite(knn.macro_auroc)
    try:
        lin = linear_probe(emb, y, seed=seed)
        out["linear_accuracy"] = finite(lin.accuracy)
        out["linear_auroc"] = finite(lin.macro_auroc)
    except ValueError as exc:  # e.g. a class too small to split: say so, keep the rest
        out["linear_accuracy"] = out["linear_auroc"] = None
        out["notes"].append(f"linear probe not run: {exc}")
    chk = check_theorem1(emb, g, y, metric=metric)
    out.update({
        "lc_pt": finite(chk.local_consistency),
        "rnn_accuracy": finite(chk.rnn_accuracy),
        "rnn_radius": finite(chk.radius),
        "theorem1_realized": bool(chk.realized),
        "theorem1_identity_holds": chk.identity_holds,
        "recovery_margin": finite(chk.recovery.margin),
        "recovery_best_f1": finite(chk.recovery.best_f1),
        "recovery_min_violation_fraction": finite(
            chk.recovery.min_violations / max(chk.recovery.n_pairs, 1)),
    })
    return out


def _arm_order(plan):
    arms = ["raw"] if plan.config["raw"] else []
    from ._pretrain import arm_name

    return arms + [arm_name(lam) for lam in plan.config["lambdas"]]


def _summaries(plan, per_seed) -> dict:
    """Per arm: lambda, seed_stats of every summary row, and the raw per-seed values."""
    from ._pretrain import arm_name

    lam_of = {arm_name(lam): lam for lam in plan.config["lambdas"]}
    lam_of["raw"] = None
    out = {}
    for arm in _arm_order(plan):
        seeds = plan.config["seeds"]
        rows = {}
        for key, section, metric in _RETRIEVAL_ROWS:
            rows[key] = seed_stats([(per_seed[arm][s]["metrics"].get(section) or {}).get(metric)
                                    for s in seeds])
        if any("labels" in per_seed[arm][s] for s in seeds):
            for key in _LABEL_ROWS:
                rows[key] = seed_stats([per_seed[arm][s]["labels"].get(key) for s in seeds])
        out[arm] = {"lambda_si": lam_of[arm], "summary": rows,
                    "per_seed": {str(s): per_seed[arm][s] for s in seeds}}
    return out


def _figure(plan, arms, selection):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ._pretrain import arm_name

    lams = plan.config["lambdas"]
    x = np.arange(len(lams))
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for key, label, colour in (("val_lrap", "validation links", "C0"),
                               ("test_lrap", "test links", "C1")):
        mean = [arms[arm_name(lam)]["summary"][key]["mean"] for lam in lams]
        ci = [arms[arm_name(lam)]["summary"][key]["ci95"] or 0.0 for lam in lams]
        mean = [np.nan if m is None else m for m in mean]
        ax.errorbar(x, mean, yerr=ci, marker="o", capsize=3, color=colour, label=label)
        if "raw" in arms and arms["raw"]["summary"][key]["mean"] is not None:
            ax.axhline(arms["raw"]["summary"][key]["mean"], color=colour, ls=":", lw=1,
                       label=f"raw features, {label}")
    pick = lams.index(selection["chosen_lambda"])
    ax.axvline(pick, color="0.4", ls="--", lw=1)
    ax.text(pick, 0.98, " label-free pick", transform=ax.get_xaxis_transform(), ha="left",
            va="top", fontsize=8, color="0.3")
    ax.set_xticks(x, [f"{lam:g}" for lam in lams])
    ax.set_xlabel("lambda_SI")
    ax.set_ylabel("link retrieval LRAP")
    ax.legend(fontsize=7, loc="best")
    ax.set_title("Held-out link retrieval per lambda_SI (mean, 95% CI over seeds)", fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _summary_md(plan, report) -> str:
    cfg, sel = plan.config, report["selection"]
    d = report["data"]
    lines = [
        "# sip-theory pretrain",
        "",
        f"{d['n_samples']} samples ({d['kind']}), {d['n_edges']} links; encoder "
        f"{cfg['encoder']}, objective {cfg['objective']['name']}, sampler {cfg['sampler']}, "
        f"{len(cfg['seeds'])} seed(s), {cfg['train']['epochs']} epochs.",
        "",
        f"**Label-free pick: lambda_SI = {sel['chosen_lambda']:g}** (largest mean validation-link "
        f"LRAP; per seed: {', '.join(f'{v:g}' for v in sel['per_seed'].values())}). "
        f"The paper's G_PT-retrieval rule would pick {sel['train_lrap_pick']:g}.",
        "",
    ]
    has_labels = "knn3_loo_accuracy" in next(iter(report["arms"].values()))["summary"]
    head = ["arm", "val LRAP", "test LRAP", "test MRR"]
    if has_labels:
        head += ["3-NN (LOO)", "linear", "LC(G_PT)", "r*-NN"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for arm, a in report["arms"].items():
        s = a["summary"]
        keys = ["val_lrap", "test_lrap", "test_mrr"] + (list(_LABEL_ROWS) if has_labels else [])
        cells = [fmt_mean(s[k]["mean"], s[k]["ci95"], 3) for k in keys]
        mark = " (pick)" if a["lambda_si"] == sel["chosen_lambda"] else ""
        lines.append(f"| {arm}{mark} | " + " | ".join(cells) + " |")
    lines += ["", "Mean ± 95% t-interval half-width over seeds (none with one seed). Links: "
              f"{cfg['split']['test_fraction']:.0%} test and {cfg['split']['val_fraction']:.0%} "
              "validation held out per seed, no node losing its last link; rankings exclude the "
              "known links. raw: the input features (token counts for text), cosine distance."]
    if has_labels:
        lines += ["Labels were used only for the evaluation columns."]
    return "\n".join(lines) + "\n"


def write_pretrain_report(plan, out, results, *, device, run_info, t0, cpu0,
                          labels_eval=True) -> dict:
    """Evaluate the units, choose lambda_SI and write every output file (atomically).

    ``results`` maps ``(arm, seed)`` to ``(record, embeddings or None)``.
    """
    import platform

    from .._atomic import atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text
    from ._lambda_selection import choose_lambda
    from ._pretrain import _FORMAT, arm_name
    from ._runner import library_versions
    from ._summary_tools import cpu_seconds

    data, cfg = plan.data, plan.config
    t_eval = time.perf_counter()
    per_seed: dict = {}
    labels = data.labels if labels_eval else None
    for (arm, seed), (rec, emb) in results.items():
        entry = {"metrics": rec["metrics"], "timing": rec.get("timing", {}),
                 "steps": rec.get("steps"),
                 "final_loss": (rec.get("history") or [{}])[-1].get("loss"),
                 "embedding_file": rec.get("embedding_file")}
        if labels is not None:
            space = data.raw if arm == "raw" else emb
            entry["labels"] = label_metrics(space, plan.splits[seed].pt_graph, labels,
                                            metric=rec["metric"], seed=seed, device=device)
        per_seed.setdefault(arm, {})[seed] = entry
    t_eval = time.perf_counter() - t_eval
    arms = _summaries(plan, per_seed)
    values = {lam: {s: (per_seed[arm_name(lam)][s]["metrics"]["val_edges"] or {}).get("lrap")
                    for s in cfg["seeds"]} for lam in cfg["lambdas"]}
    sel = choose_lambda(values)
    train_values = {lam: {s: per_seed[arm_name(lam)][s]["metrics"]["train_edges"]["lrap"]
                          for s in cfg["seeds"]} for lam in cfg["lambdas"]}
    sel_train = choose_lambda(train_values)
    chosen_arm = arm_name(sel["chosen_lambda"])
    first_seed = cfg["seeds"][0]
    chosen_emb = results[(chosen_arm, first_seed)][1]
    selection = {"criterion": "val_lrap", "rule": "largest mean validation-link LRAP over seeds, "
                 "ties to the smaller lambda; no label or test link read",
                 "chosen_lambda": sel["chosen_lambda"], "means": {f"{k:g}": v for k, v in
                                                                   sel["means"].items()},
                 "per_seed": {str(k): v for k, v in sel["per_seed"].items()},
                 "train_lrap_pick": sel_train["chosen_lambda"],
                 "train_lrap_means": {f"{k:g}": v for k, v in sel_train["means"].items()},
                 "embeddings": f"embeddings.npy = {chosen_arm}, seed {first_seed}"}
    g = data.graph
    report = {
        "format": _FORMAT,
        "selection": selection,
        "arms": arms,
        "data": {"kind": data.kind, "n_samples": data.n_samples, "n_edges": int(g.n_edges),
                 "n_isolated": int((g.degrees() == 0).sum()), "shape": list(data.inputs.shape),
                 "vocab_size": None if data.vocabulary is None else len(data.vocabulary),
                 "fingerprint": data.fingerprint(), "source": data.source,
                 "has_labels": data.labels is not None},
        "config": cfg,
        "splits": {str(s): sp.to_dict(edges=False) for s, sp in plan.splits.items()},
        "versions": library_versions(),
        "platform": platform.platform(),
        "device": device,
    }
    if labels is not None:
        from ..theory import local_consistency

        y = labels
        if isinstance(y, np.ma.MaskedArray):
            keep = np.flatnonzero(~np.ma.getmaskarray(y))
            lc_full = local_consistency(g.subgraph(keep), np.asarray(y.data)[keep]).value
        else:
            lc_full = local_consistency(g, np.asarray(y)).value
        report["labels"] = {"lc_full_graph": finite(lc_full),
                            "n_labelled": int(np.size(y) - np.ma.count_masked(y))}
    png = _figure(plan, arms, selection)
    cpu1 = cpu_seconds()
    report["run"] = {**run_info, "evaluation_s": t_eval, "wall_s": time.perf_counter() - t0,
                     "cpu_s": None if cpu0 is None else cpu1 - cpu0}
    summary = _summary_md(plan, report)
    with atomic_path(out / "embeddings.npy") as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, chosen_emb, allow_pickle=False)
    atomic_write_json(out / "report.json", report)
    atomic_write_text(out / "summary.md", summary)
    atomic_write_bytes(out / "retrieval.png", png)
    return report
