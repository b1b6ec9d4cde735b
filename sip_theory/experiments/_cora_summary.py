"""The Cora case study's summary: aggregates over seeds, paired changes, tables and figures.

:func:`summarize_cora` reads the run records of a finished case study (the
``"cora"`` task of :mod:`._cora`) and writes ``summary.json``, ``table.md``,
``gains.md``, ``selection.md``, ``table.csv``, ``lambda.png`` and ``theorem1.png``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._atomic import atomic_write_json, atomic_write_text
from ._cora import SELECTION_CRITERIA, _arm_name, select_lambda
from ._summary_tools import fmt_mean, mean_std, savefig_atomic

__all__ = ["plot_cora_lambda", "plot_cora_theorem1", "summarize_cora"]

#: Rows of the summary table: (metric path, label).
TABLE_ROWS = (
    ("test_edges.lrap", "test citations: LRAP"),
    ("test_edges.mrr", "test citations: MRR"),
    ("test_edges.ndcg", "test citations: nDCG"),
    ("test_edges.recall_at_10", "test citations: R@10"),
    ("test_edges.ap_micro", "test citations: micro AP"),
    ("val_edges.lrap", "validation citations: LRAP (selection)"),
    ("train_edges.lrap", "G_PT citations: LRAP (paper's rule)"),
    ("topic.knn3_test_accuracy", "3-NN topic accuracy, test"),
    ("topic.knn3_test_auroc", "3-NN topic macro AUROC, test"),
    ("topic.knn3_val_accuracy", "3-NN topic accuracy, val"),
    ("topic.linear_test_accuracy", "linear probe accuracy, test"),
    ("topic.linear_val_accuracy", "linear probe accuracy, val"),
    ("topic.knn3_loo_accuracy", "leave-one-out 3-NN accuracy, all papers"),
    ("theorem1.lc_pt", "LC of the topics on G_PT"),
    ("theorem1.rnn_accuracy", "r*-NN accuracy (best-F1 radius)"),
    ("theorem1.best_f1", "best F1 of a radius graph vs G_PT"),
    ("theorem1.recovery_margin", "recovery margin (distance units of the arm)"),
    ("geometry.rankme", "RankMe (effective rank)"),
    ("training.final_loss_m", "final L_M"),
)

#: Metrics whose paired change against lambda = 0 is tabulated.
GAIN_ROWS = ("test_edges.lrap", "test_edges.mrr", "val_edges.lrap", "topic.knn3_test_accuracy",
             "topic.linear_test_accuracy", "topic.knn3_loo_accuracy", "theorem1.rnn_accuracy")

#: Fine-tuning metrics reported for the selected lambda.
FT_METRICS = ("topic.knn3_test_accuracy", "topic.linear_test_accuracy",
              "topic.knn3_val_accuracy", "topic.linear_val_accuracy")


def _arm_order(records) -> list:
    arms = {}
    for rec in records:
        p = rec["config"]["params"]
        lam = p.get("lambda_si")
        key = (1, 0.0) if p.get("features") == "raw" else (0, float(lam))
        arms[rec["config"]["arm"]] = key
    return sorted(arms, key=arms.get)


def _aggregate(records) -> dict:
    from ._runner import _flatten_metrics

    arms = {}
    for rec in records:
        if rec.get("status") != "ok":
            continue
        cfg = rec["config"]
        a = arms.setdefault(cfg["arm"], {"lambda": cfg["params"].get("lambda_si"),
                                         "features": cfg["params"].get("features", "learned"),
                                         "values": {}})
        for path, value in _flatten_metrics(rec["metrics"]):
            a["values"].setdefault(path, {})[int(cfg["seed"])] = value
    out = {}
    for arm in _arm_order([r for r in records if r.get("status") == "ok"]):
        a = arms[arm]
        out[arm] = {"lambda": a["lambda"], "features": a["features"], "metrics": {}}
        for path, by_seed in sorted(a["values"].items()):
            seeds = sorted(by_seed)
            out[arm]["metrics"][path] = {**mean_std([by_seed[s] for s in seeds]),
                                         "seeds": seeds,
                                         "values": [by_seed[s] for s in seeds]}
    return out


def _paired(agg, base: str = "lambda0") -> dict:
    if base not in agg:
        return {}
    out = {}
    for arm, a in agg.items():
        if arm == base:
            continue
        out[arm] = {}
        for path in GAIN_ROWS:
            mine, ref = a["metrics"].get(path), agg[base]["metrics"].get(path)
            if not mine or not ref:
                continue
            rv = dict(zip(ref["seeds"], ref["values"], strict=True))
            diffs = [v - rv[s] for s, v in zip(mine["seeds"], mine["values"], strict=True)
                     if s in rv]
            out[arm][path] = {**mean_std(diffs), "values": diffs,
                              "n_positive": int(sum(d > 0 for d in diffs))}
    return out


def _selection_report(records, agg) -> dict:
    out = {}
    for criterion in SELECTION_CRITERIA:
        sel = select_lambda(records, criterion=criterion)
        arm = _arm_name(sel["chosen_lambda"])
        ft = {path: {k: agg[arm]["metrics"][path][k] for k in ("mean", "std", "n")}
              for path in FT_METRICS if path in agg[arm]["metrics"]}
        per_seed_ft = {}
        for path in FT_METRICS:
            vals = []
            for s, lam in sel["per_seed"].items():
                m = agg[_arm_name(lam)]["metrics"].get(path)
                if m and s in m["seeds"]:
                    vals.append(m["values"][m["seeds"].index(s)])
            per_seed_ft[path] = mean_std(vals)
        out[criterion] = {
            **{k: v for k, v in sel.items() if k != "means"},
            "means": {f"{lam:g}": v for lam, v in sel["means"].items()},
            "per_seed": {str(s): lam for s, lam in sel["per_seed"].items()},
            "chosen_arm": arm,
            "finetuning": ft,
            "finetuning_per_seed_choice": per_seed_ft,
        }
    # for reference only: the lambda a *labelled* test set would pick (not a valid selection)
    learned = [a for a in agg if agg[a]["features"] == "learned"]
    key = "topic.knn3_test_accuracy"
    best = max(learned, key=lambda a: (agg[a]["metrics"][key]["mean"], -agg[a]["lambda"]))
    out["oracle_test_knn3"] = {"chosen_lambda": agg[best]["lambda"], "chosen_arm": best,
                               "note": "picked on test labels; a ceiling, not a valid choice",
                               key: {k: agg[best]["metrics"][key][k]
                                     for k in ("mean", "std", "n")}}
    return out


def _fmt(m, digits=3) -> str:
    """``mean ± std`` of a :func:`mean_std` dict; n/a when it is empty or has no mean."""
    if not m or m.get("mean") is None:
        return "n/a"
    return fmt_mean(m["mean"], m["std"], digits)


def _arm_label(agg, arm) -> str:
    a = agg[arm]
    return "raw (cosine)" if a["features"] == "raw" else f"λ={a['lambda']:g}"


def _table_md(agg) -> str:
    arms = list(agg)
    head = "| metric | " + " | ".join(_arm_label(agg, a) for a in arms) + " |"
    lines = [head, "|---|" + "---|" * len(arms)]
    for path, label in TABLE_ROWS:
        cells = [_fmt(agg[a]["metrics"].get(path)) for a in arms]
        if all(c == "n/a" for c in cells):
            continue
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    n = max((m["n"] for a in arms for m in agg[a]["metrics"].values()), default=0)
    lines.append("")
    lines.append(f"Mean ± population standard deviation (ddof = 0) over {n} seeds; "
                 "n/a: not defined for that arm.")
    return "\n".join(lines) + "\n"


def _gain_md(agg, paired, base: str = "lambda0") -> str:
    if not paired:
        return ""
    arms = [a for a in paired if agg[a]["features"] == "learned"] + \
           [a for a in paired if agg[a]["features"] == "raw"]
    head = (f"| change vs {_arm_label(agg, base)} (paired by seed) | "
            + " | ".join(_arm_label(agg, a) for a in arms) + " |")
    lines = [head, "|---|" + "---|" * len(arms)]
    labels = dict(TABLE_ROWS)
    for path in GAIN_ROWS:
        cells = []
        for a in arms:
            m = paired[a].get(path)
            cells.append("n/a" if not m or m["mean"] is None else
                         f"{m['mean']:+.3f} ± {m['std']:.3f} ({m['n_positive']}/{m['n']} up)")
        lines.append(f"| {labels.get(path, path)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _selection_md(sel) -> str:
    lines = ["| criterion (label-free) | chosen λ | 3-NN test accuracy | linear test accuracy "
             "| per-seed choices | 3-NN test acc. of per-seed choices |",
             "|---|---|---|---|---|---|"]
    names = {"val_lrap": "LRAP of validation citations (held out from pre-training)",
             "train_lrap": "LRAP of G_PT's own citations (the paper's rule)"}
    for crit in SELECTION_CRITERIA:
        s = sel[crit]
        ft = s["finetuning"]
        choices = ", ".join(f"{v:g}" for v in s["per_seed"].values())
        lines.append(f"| {names[crit]} | {s['chosen_lambda']:g} | "
                     f"{_fmt(ft.get('topic.knn3_test_accuracy'))} | "
                     f"{_fmt(ft.get('topic.linear_test_accuracy'))} | {choices} | "
                     f"{_fmt(s['finetuning_per_seed_choice']['topic.knn3_test_accuracy'])} |")
    o = sel["oracle_test_knn3"]
    lines.append(f"| *(reference, not valid: best on test labels)* | {o['chosen_lambda']:g} | "
                 f"{_fmt(o['topic.knn3_test_accuracy'])} | | | |")
    return "\n".join(lines) + "\n"


def plot_cora_lambda(agg, selection, path) -> None:
    """Metric vs lambda_SI with the spread over seeds; raw-feature baseline as a band."""
    from matplotlib.figure import Figure

    learned = [a for a in agg if agg[a]["features"] == "learned"]
    raw = [a for a in agg if agg[a]["features"] == "raw"]
    xs = np.arange(len(learned))
    panels = [
        ("test_edges.lrap", "held-out test citations: LRAP"),
        ("val_edges.lrap", "validation citations: LRAP\n(selection criterion)"),
        ("train_edges.lrap", "G_PT citations: LRAP"),
        ("topic.knn3_test_accuracy", "3-NN topic accuracy (test)"),
        ("topic.linear_test_accuracy", "linear-probe topic accuracy (test)"),
        ("theorem1.rnn_accuracy", "r*-NN accuracy vs LC on G_PT"),
    ]
    fig = Figure(figsize=(13, 7.2))
    axes = fig.subplots(2, 3)
    chosen = selection["val_lrap"]["chosen_arm"]
    for ax, (metric, title) in zip(axes.ravel(), panels, strict=True):
        means = np.array([agg[a]["metrics"][metric]["mean"] for a in learned], dtype=float)
        stds = np.array([agg[a]["metrics"][metric]["std"] for a in learned], dtype=float)
        ax.fill_between(xs, means - stds, means + stds, color="C0", alpha=0.2, lw=0)
        ax.plot(xs, means, "o-", color="C0", label="SIPT (mean ± std)")
        for i, a in enumerate(learned):
            ax.scatter(np.full(len(agg[a]["metrics"][metric]["values"]), i),
                       agg[a]["metrics"][metric]["values"], s=9, color="k", alpha=0.5,
                       zorder=3)
        for a in raw:
            m = agg[a]["metrics"].get(metric)
            if m and m["mean"] is not None:
                ax.axhline(m["mean"], color="C3", ls="--", label="raw bag of words (cosine)")
                ax.axhspan(m["mean"] - m["std"], m["mean"] + m["std"], color="C3", alpha=0.12)
        if metric == "theorem1.rnn_accuracy":
            lc = np.array([agg[a]["metrics"]["theorem1.lc_pt"]["mean"] for a in learned])
            ax.plot(xs, lc, "s:", color="C2", label="LC of topics on G_PT")
        if chosen in learned:
            ax.axvline(learned.index(chosen), color="C1", lw=1, alpha=0.7,
                       label="λ chosen on validation LRAP")
        ax.set_xticks(xs, [f"{agg[a]['lambda']:g}" for a in learned])
        ax.set_xlabel("λ_SI")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    handles, labels = [], []
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9,
               bbox_to_anchor=(0.5, -0.02))
    fig.suptitle("Cora: structure-inducing pre-training vs λ_SI "
                 f"({max(m['n'] for m in agg[learned[0]]['metrics'].values())} seeds)")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    savefig_atomic(fig, path)


def plot_cora_theorem1(agg, path) -> None:
    """Theorem 1's hypothesis (recovery) and its two sides, per arm."""
    from matplotlib.figure import Figure

    arms = list(agg)
    xs = np.arange(len(arms))
    fig = Figure(figsize=(10, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    m = [agg[a]["metrics"]["theorem1.best_f1"] for a in arms]
    ax1.errorbar(xs, [v["mean"] for v in m], yerr=[v["std"] for v in m], fmt="o-",
                 color="C0", capsize=3, label="best F1 of a radius graph vs G_PT")
    ax1.axhline(1.0, color="k", lw=0.8, ls=":", label="exact recovery (F1 = 1)")
    ax1.set_ylim(0, 1.05)
    ax1.set_title("hypothesis: is G_PT a radius graph of the embedding?", fontsize=10)
    for metric, label, color in (("theorem1.lc_pt", "LC of topics on G_PT (prediction)", "C2"),
                                 ("theorem1.rnn_accuracy", "r*-NN accuracy (measured)", "C0"),
                                 ("topic.knn3_loo_accuracy", "leave-one-out 3-NN accuracy",
                                  "C1")):
        m = [agg[a]["metrics"][metric] for a in arms]
        ax2.errorbar(xs, [v["mean"] for v in m], yerr=[v["std"] for v in m], fmt="o-",
                     color=color, capsize=3, label=label)
    ax2.set_title("Theorem 1's identity (holds only under exact recovery)", fontsize=10)
    for ax in (ax1, ax2):
        ax.set_xticks(xs, [_arm_label(agg, a) for a in arms], fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    savefig_atomic(fig, path)


def _load_run_records(exp_dir: Path) -> list:
    import json

    recs = []
    for f in sorted((exp_dir / "runs").glob("*.json")):
        if f.name.endswith(".failed.json"):
            continue
        recs.append(json.loads(f.read_text()))
    return recs


def _settings(records) -> dict:
    for rec in records:
        params = dict(rec["config"]["params"])
        if params.get("features", "learned") == "learned":
            params.pop("lambda_si", None)
            return params
    return {}


def summarize_cora(exp_dir, *, records=None, graph_report=None, run_info=None) -> dict:
    """Write the summary of a finished case study into ``exp_dir`` (atomically).

    Files: ``summary.json`` (every metric of every arm: mean, population std,
    per-seed values; paired changes against lambda = 0 and against the raw
    bag of words; both label-free
    selections with the fine-tuning accuracy of their choice; the graph report;
    the run information), ``table.md``, ``gains.md``, ``selection.md``,
    ``table.csv`` and the figures ``lambda.png`` and ``theorem1.png``.

    Parameters
    ----------
    exp_dir : str or path-like
        The experiment directory (``<out>/cora``) holding ``runs/``.
    records : list of dict, optional
        Default: every finished record under ``exp_dir/runs``.
    graph_report : dict, optional
        From :func:`cora_graph_report`; stored as given.
    run_info : dict, optional
        Wall time, machine load, jobs... stored as given.

    Returns
    -------
    dict
        The content of ``summary.json``.
    """
    import csv
    import io

    exp_dir = Path(os.fspath(exp_dir))
    if records is None:
        records = _load_run_records(exp_dir)
    records = [r for r in records if r.get("status") == "ok"]
    if not records:
        raise ValueError(f"no finished runs under {exp_dir}")
    agg = _aggregate(records)
    paired = _paired(agg)
    paired_raw = _paired(agg, base="raw")
    sel = _selection_report(records, agg)
    summary = {"arms": agg, "paired_vs_lambda0": paired, "paired_vs_raw": paired_raw,
               "selection": sel,
               "graph": graph_report, "run": run_info or {},
               "settings": _settings(records)}
    atomic_write_json(exp_dir / "summary.json", summary)
    atomic_write_text(exp_dir / "table.md", _table_md(agg))
    atomic_write_text(exp_dir / "gains.md", _gain_md(agg, paired) + "\n"
                      + _gain_md(agg, paired_raw, base="raw"))
    atomic_write_text(exp_dir / "selection.md", _selection_md(sel))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["arm", "lambda_si", "metric", "mean", "std", "n"])
    for arm, a in agg.items():
        for path, m in a["metrics"].items():
            w.writerow([arm, "" if a["lambda"] is None else a["lambda"], path,
                        repr(m["mean"]), repr(m["std"]), m["n"]])
    atomic_write_text(exp_dir / "table.csv", buf.getvalue())
    plot_cora_lambda(agg, sel, exp_dir / "lambda.png")
    plot_cora_theorem1(agg, exp_dir / "theorem1.png")
    return summary
