"""Tables and figures of the theorem-in-action experiment (:mod:`._theorem`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .._atomic import atomic_path, atomic_write_json
from ._summary_tools import fmt_mean, savefig_atomic, seed_stats
from ._theorem import THEOREM_SCHEDULE

__all__ = ["summarize_theorem"]

_GRAPH_ORDER = ("cliques", "plane", "mechanistic")
_COLORS = {"cliques": "tab:blue", "plane": "tab:orange", "mechanistic": "tab:green"}
_MARKERS = {0.0: "o", 0.1: "s", 0.5: "^", 0.9: "D", 1.0: "v"}


def _mean_ci(values):
    """(mean, 95% t-interval half-width or None for n < 2, n) over the finite values."""
    s = seed_stats(values)
    return s["mean"], s["ci95"], s["n"]


def _fmt(mean, half, digits=3):
    return fmt_mean(mean, half, digits)


def _records(out_dir):
    from ._reproduce_records import load_records

    rows = []
    for exp, recs in load_records(out_dir).items():
        for rec in recs:
            p = rec["config"]["params"]
            rows.append({"experiment": exp, "graph": p["graph"],
                         "dropout": float(p["attention_dropout"]),
                         "lambda": float(p["lambda_si"]), "seed": rec["config"]["seed"],
                         "rec": rec})
    return rows


def _aggregate(rows):
    groups = {}
    for r in rows:
        groups.setdefault((r["graph"], r["dropout"], r["lambda"]), []).append(r)
    out = []
    for (g, drop, lam), rs in sorted(groups.items(), key=lambda kv: (
            _GRAPH_ORDER.index(kv[0][0]), -kv[0][1], kv[0][2])):
        finals = [r["rec"]["final"] for r in rs]
        tasks = rs[0]["rec"]["dataset"]["tasks"]
        ever = [any(c["realized"] for c in r["rec"]["checkpoints"]) for r in rs]
        entry = {"graph": g, "attention_dropout": drop, "lambda": lam, "n_seeds": len(rs),
                 "n_realized_final": int(sum(f["realized"] for f in finals)),
                 "n_realized_any": int(sum(ever)),
                 "best_f1": _mean_ci([f["best_f1"] for f in finals]),
                 "touched_fraction": _mean_ci([f["tasks"][tasks[0]]["touched_fraction"]
                                               for f in finals]),
                 "masked_token_accuracy": _mean_ci([f["masked_token_accuracy"] for f in finals]),
                 "tasks": {}}
        for t in tasks:
            ft = [f["tasks"][t] for f in finals]
            entry["tasks"][t] = {k: _mean_ci([x[k] for x in ft]) for k in (
                "lc", "vote_accuracy", "gap", "knn3_accuracy", "knn1_accuracy", "knn3_auroc")}
        out.append(entry)
    return out


def _checks(rows):
    """What the theorem says must hold at every checkpoint, counted; and where k-NN < LC."""
    n_ck = n_out = n_real = n_real_gap = 0
    knn_below = []
    for r in rows:
        for c in r["rec"]["checkpoints"]:
            for m in c["tasks"].values():
                if m["gap"] is None:
                    continue
                n_ck += 1
                if not (m["lower"] - 1e-12 <= m["gap"] <= m["upper"] + 1e-12):
                    n_out += 1
                if c["realized"]:
                    n_real += 1
                    n_real_gap += m["gap"] != 0.0
        f = r["rec"]["final"]
        if f["realized"]:
            for t, m in f["tasks"].items():
                for k in ("knn3_accuracy", "knn1_accuracy"):
                    if m[k] is not None and m["lc"] is not None and m[k] < m["lc"]:
                        knn_below.append({"graph": r["graph"], "lambda": r["lambda"],
                                          "dropout": r["dropout"], "seed": r["seed"],
                                          "task": t, "probe": k, "accuracy": m[k],
                                          "lc": m["lc"]})
    return {"n_checkpoint_tasks": n_ck, "n_outside_proved_range": n_out,
            "n_realized_checkpoint_tasks": n_real, "n_realized_with_nonzero_gap": n_real_gap,
            "knn_below_lc_when_realized": knn_below}


def plot_premise_vs_conclusion(rows, path) -> None:
    """x = T/n' (distance from realization), y = vote - LC, every run and checkpoint."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for ax, drop in zip(axes, (0.1, 0.0), strict=True):
        xs = np.linspace(0, 1, 50)
        ax.fill_between(xs, -xs, xs, color="0.9", label="proved: |vote − LC| ≤ T/n'")
        for r in rows:
            if r["dropout"] != drop:
                continue
            main = r["rec"]["dataset"]["tasks"][0]
            pts = [(c["tasks"][main]["touched_fraction"], c["tasks"][main]["gap"])
                   for c in r["rec"]["checkpoints"] if c["tasks"][main]["gap"] is not None]
            if pts:
                x, y = zip(*pts, strict=True)
                ax.scatter(x, y, s=9, alpha=0.45, color=_COLORS[r["graph"]],
                           marker=_MARKERS.get(r["lambda"], "o"), linewidths=0)
        for g, col in _COLORS.items():
            ax.scatter([], [], color=col, label=g)
        for lam, mk in _MARKERS.items():
            ax.scatter([], [], color="k", marker=mk, label=f"λ = {lam:g}", s=12)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel("T/n': fraction of nodes touched by a violating pair (0 = realized)")
        ax.set_ylabel("radius-vote accuracy − LC")
        ax.set_title(f"attention dropout {drop:g}: every run and checkpoint")
    axes[1].legend(fontsize=7, loc="lower left", ncol=2)
    savefig_atomic(fig, path)
    plt.close(fig)


def plot_realized_along_training(rows, path) -> None:
    """Fraction of runs whose embedding realizes G_PT, against the training step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    graphs = [g for g in _GRAPH_ORDER if any(r["graph"] == g for r in rows)]
    fig, axes = plt.subplots(1, len(graphs), figsize=(4.2 * len(graphs), 3.6), squeeze=False)
    for ax, g in zip(axes[0], graphs, strict=True):
        for drop, ls in ((0.1, "-"), (0.0, "--")):
            for lam in sorted({r["lambda"] for r in rows}):
                rs = [r for r in rows if r["graph"] == g and r["dropout"] == drop
                      and r["lambda"] == lam]
                if not rs:
                    continue
                steps = [c["step"] for c in rs[0]["rec"]["checkpoints"]]
                frac = [np.mean([r["rec"]["checkpoints"][i]["realized"] for r in rs])
                        for i in range(len(steps))]
                ax.plot(steps, frac, ls, marker=_MARKERS.get(lam, "o"), ms=3,
                        label=f"λ={lam:g}, dropout {drop:g}")
        ax.set_title(g)
        ax.set_xlabel("step")
        ax.set_ylim(-0.03, 1.03)
    axes[0][0].set_ylabel("fraction of runs realizing G_PT")
    axes[0][-1].legend(fontsize=6)
    savefig_atomic(fig, path)
    plt.close(fig)


def plot_cost(agg, path) -> None:
    """Masked-token accuracy and the fraction of realizations against lambda."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    for g in _GRAPH_ORDER:
        for drop, ls in ((0.1, "-"), (0.0, "--")):
            es = [e for e in agg if e["graph"] == g and e["attention_dropout"] == drop]
            if not es:
                continue
            lam = [e["lambda"] for e in es]
            a1.plot(lam, [e["masked_token_accuracy"][0] for e in es], ls, marker="o",
                    color=_COLORS[g], label=f"{g}, dropout {drop:g}")
            a2.plot(lam, [e["n_realized_final"] / e["n_seeds"] for e in es], ls, marker="o",
                    color=_COLORS[g])
    a1.set_xlabel("λ_SI")
    a1.set_ylabel("masked-token accuracy (final)")
    a2.set_xlabel("λ_SI")
    a2.set_ylabel("fraction of runs realizing G_PT (final)")
    a1.legend(fontsize=7)
    savefig_atomic(fig, path)
    plt.close(fig)


def _table_md(agg) -> str:
    lines = ["| graph | attention dropout | λ_SI | n | realized (final) | realized (any "
             "checkpoint) | best F1 | T/n' | label set | LC | r-vote | r-vote − LC | 3-NN acc. "
             "| 1-NN acc. | masked-token acc. |", "|" + "---|" * 15]
    for e in agg:
        for i, (t, m) in enumerate(e["tasks"].items()):
            head = (f"| {e['graph']} | {e['attention_dropout']:g} | {e['lambda']:g} | "
                    f"{e['n_seeds']} | {e['n_realized_final']}/{e['n_seeds']} | "
                    f"{e['n_realized_any']}/{e['n_seeds']} | {_fmt(*e['best_f1'][:2])} | "
                    f"{_fmt(*e['touched_fraction'][:2])} ") if i == 0 else "| | | | | | | | "
            lines.append(head + f"| {t} | {_fmt(*m['lc'][:2])} | {_fmt(*m['vote_accuracy'][:2])}"
                         f" | {_fmt(*m['gap'][:2])} | {_fmt(*m['knn3_accuracy'][:2])} | "
                         f"{_fmt(*m['knn1_accuracy'][:2])} | "
                         + (f"{_fmt(*e['masked_token_accuracy'][:2])} |" if i == 0 else " |"))
    return "\n".join(lines) + "\n"


def summarize_theorem(out_dir) -> dict:
    """Write ``summary.json``, ``summary.md`` and three figures from the stored runs.

    Returns
    -------
    dict
        The summary: per (graph, dropout, lambda) aggregates over seeds of the
        final checkpoint (mean, 95% t half-width, n), the theorem's checks
        counted over every checkpoint, and the figure names.
    """
    from ._runner import library_versions

    out = Path(out_dir)
    rows = _records(out)
    if not rows:
        raise FileNotFoundError(f"no theorem-in-action runs under {out}")
    agg = _aggregate(rows)
    checks = _checks(rows)
    figures = ["premise_vs_conclusion.png", "realized_along_training.png", "cost.png"]
    plot_premise_vs_conclusion(rows, out / figures[0])
    plot_realized_along_training(rows, out / figures[1])
    plot_cost(agg, out / figures[2])
    n_runs = len(rows)
    n_real = sum(r["rec"]["final"]["realized"] for r in rows)
    try:
        inv = json.loads((out / "invocations.json").read_text())
    except (OSError, ValueError):
        inv = []
    summary = {"schedule": {k: v for k, v in THEOREM_SCHEDULE.items()}, "n_runs": n_runs,
               "n_realized_final": int(n_real), "aggregates": agg, "checks": checks,
               "figures": figures, "versions": library_versions(), "invocations": inv}
    atomic_write_json(out / "summary.json", summary)
    md = ["# The theorem in action", "",
          f"{n_runs} runs; **{n_real} of them ({n_real / n_runs:.0%}) end with an embedding that "
          "realizes G_PT as a radius graph.** Values: mean ± 95% t-interval half-width over the "
          "n seeds, at the final checkpoint; r-vote = radius majority vote at the radius with "
          "the fewest violating pairs; T/n' = fraction of LC's nodes touched by a violating "
          "pair.", "",
          "## What Theorem 1 says, checked at every checkpoint", "",
          f"- checkpoint × label-set pairs: {checks['n_checkpoint_tasks']}; outside the proved "
          f"range [−A/n', B/n'] of r-vote − LC: **{checks['n_outside_proved_range']}**;",
          f"- realized checkpoints (× label sets): {checks['n_realized_checkpoint_tasks']}; "
          f"with r-vote ≠ LC: **{checks['n_realized_with_nonzero_gap']}**;",
          f"- final embeddings that realize G_PT but whose 3-NN or 1-NN accuracy is below LC "
          f"(Theorem 1 says nothing about k-NN): **{len(checks['knn_below_lc_when_realized'])}**.",
          "", "## Final checkpoint, per graph, attention dropout and λ_SI", "", _table_md(agg),
          "Figures: " + ", ".join(figures), ""]
    with atomic_path(os.fspath(out / "summary.md")) as tmp, open(tmp, "w") as fh:
        fh.write("\n".join(md))
    return summary
