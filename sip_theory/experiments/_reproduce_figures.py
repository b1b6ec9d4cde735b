"""The figures of the synthetic summary: noise curve, LC vs gain, MOBIUS PCA, rank vs AUROC.

Each ``plot_*`` function writes one PNG atomically and returns whether it had
anything to draw; :func:`rank_vs_auroc_points` gives the points of the last one.
"""

from __future__ import annotations

import numpy as np

from ._paper_numbers import PAPER_NOISE_CURVE
from ._profiles import EXPERIMENTS, NOISE_LEVELS
from ._reproduce_records import _get
from ._summary_tools import savefig_atomic

__all__ = [
    "plot_lc_vs_gain",
    "plot_mobius_pca",
    "plot_noise_curve",
    "plot_rank_vs_auroc",
    "rank_vs_auroc_points",
]


def plot_noise_curve(agg, path) -> bool:
    """CLIQUES 3-NN AUROC vs noise, both arms (mean ± std over seeds) beside the paper's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ps = [p for p, e in zip(NOISE_LEVELS, EXPERIMENTS[:5], strict=True) if e in agg]
    if not ps:
        return False
    exps = [e for e in EXPERIMENTS[:5] if e in agg]
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    for arm, color in (("lm", "tab:gray"), ("sipt", "tab:blue")):
        m = [_get(agg, e, "topic", "knn3_pt_auroc", arm) for e in exps]
        s = [_get(agg, e, "topic", "knn3_pt_auroc", arm, "std") for e in exps]
        ax.errorbar(ps, m, yerr=s, marker="o", color=color, capsize=3,
                    label=f"{'LM-only' if arm == 'lm' else 'SIPT'} (ours)")
        ax.plot(PAPER_NOISE_CURVE["p"], PAPER_NOISE_CURVE[arm], ls="--", marker="x",
                color=color, alpha=0.6, label=f"{'LM-only' if arm == 'lm' else 'SIPT'} (paper)")
    lc = [_get(agg, e, "topic", "lc", "lm") for e in exps]
    ax.plot(ps, lc, ls=":", color="tab:green", marker=".", label="LC of G_PT (ours)")
    ax.set_xlabel("random_add noise p")
    ax.set_ylabel("3-NN macro AUROC")
    ax.set_title("CLIQUES: SIPT gain vs graph noise")
    ax.legend(fontsize=7)
    savefig_atomic(fig, path)
    plt.close(fig)
    return True


def plot_lc_vs_gain(agg, path) -> bool:
    """Scatter of LC (Theorem 1's prediction) against the SIPT gain, one point per graph/task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = []
    for exp in EXPERIMENTS:
        if exp not in agg:
            continue
        for task in agg[exp]["tasks"]:
            lc = _get(agg, exp, task, "lc", "lm")
            g = _get(agg, exp, task, "knn3_pt_auroc", "gain")
            gs = _get(agg, exp, task, "knn3_pt_auroc", "gain", "std")
            if lc is not None and g is not None:
                fam = exp.split("_")[0]
                label = exp if fam != "mech" else f"{task} (text: {exp[5:]})"
                pts.append((lc, g, gs or 0.0, fam, label))
    if not pts:
        return False
    colors = {"cliques": "tab:blue", "mech": "tab:red"}
    markers = "osD^vP*Xph<>"
    # many points share an LC (the mechanistic label sets, the near-1 graphs): text labels
    # beside them overlap, so each point gets its own marker and a legend entry instead
    fig, ax = plt.subplots(figsize=(8.4, 4.2))
    seen = {}
    for lc, g, gs, fam, label in pts:
        group = fam if fam in colors else "manifold"
        k = seen.setdefault(group, 0)
        seen[group] = k + 1
        ax.errorbar(lc, g, yerr=gs, fmt=markers[k % len(markers)],
                    color=colors.get(fam, "tab:green"), capsize=2, ms=6, alpha=0.85,
                    label=label)
    ax.axhline(0, color="k", lw=0.8)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7, frameon=False)
    ax.set_xlabel("local consistency of the FT labels on G_PT")
    ax.set_ylabel("SIPT - LM gain in 3-NN AUROC")
    ax.set_title("Theorem 1's prediction vs measured gain")
    fig.tight_layout()
    savefig_atomic(fig, path)
    plt.close(fig)
    return True


def plot_mobius_pca(records, path) -> bool:
    """2-D PCA of the MOBIUS PT embeddings of the first seed, LM-only vs SIPT."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_arm = {}
    for rec in records or []:
        if "embeddings" in rec:
            by_arm.setdefault(rec["config"]["arm"], []).append(rec)
    if not {"lm", "sipt"} <= set(by_arm):
        return False
    seed = min(set(r["config"]["seed"] for r in by_arm["lm"])
               & set(r["config"]["seed"] for r in by_arm["sipt"]))
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.8))
    for ax, arm in zip(axes, ("lm", "sipt"), strict=True):
        rec = next(r for r in by_arm[arm] if r["config"]["seed"] == seed)
        xy = np.array(rec["embeddings"]["pca2"])
        frac = rec["embeddings"]["explained"]
        y = np.array(rec["embeddings"]["labels_pt"]["vertex"])
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=y, cmap="tab10", s=10, vmin=0, vmax=9)
        auroc = rec["metrics"]["vertex"]["knn3_pt_auroc"]
        ax.set_title(f"{'LM-only' if arm == 'lm' else 'SIPT'} (seed {seed}): "
                     f"3-NN AUROC {auroc:.2f}", fontsize=9)
        ax.set_xlabel(f"PC1 ({frac[0]:.0%})")
        ax.set_ylabel(f"PC2 ({frac[1]:.0%})" if len(frac) > 1 else "PC2")
    fig.colorbar(sc, ax=axes, label="vertex label")
    fig.suptitle("MOBIUS: PCA of the PT embeddings", fontsize=10)
    savefig_atomic(fig, path)
    plt.close(fig)
    return True


def rank_vs_auroc_points(records) -> list[dict]:
    """Per run: the effective rank (RankMe) of the PT embeddings and its main 3-NN AUROC.

    Parameters
    ----------
    records : mapping of str to list of dict
        Run records by experiment, as returned by :func:`load_records`.

    Returns
    -------
    list of dict
        One entry per run with ``experiment``, ``arm``, ``seed``, ``rankme``,
        ``mean_norm`` and ``auroc`` (3-NN macro AUROC of the run's main task).
        Runs without a geometry report or without that AUROC are skipped.

    Examples
    --------
    >>> rec = {"config": {"experiment": "cliques_p00", "arm": "sipt", "seed": 0},
    ...        "dataset": {"task": "topic"},
    ...        "metrics": {"topic": {"knn3_pt_auroc": 0.9},
    ...                    "geometry": {"rankme": 3.1, "mean_norm": 5.0}}}
    >>> rank_vs_auroc_points({"cliques_p00": [rec]})[0]["rankme"]
    3.1
    """
    pts = []
    for exp, recs in (records or {}).items():
        for rec in recs:
            m = rec.get("metrics", {})
            g = m.get("geometry") or {}
            task = rec.get("dataset", {}).get("task")
            auroc = (m.get(task) or {}).get("knn3_pt_auroc")
            if g.get("rankme") is None or auroc is None:
                continue
            cfg = rec["config"]
            pts.append({"experiment": exp, "arm": cfg["arm"], "seed": cfg["seed"],
                        "rankme": float(g["rankme"]), "mean_norm": g.get("mean_norm"),
                        "auroc": float(auroc)})
    return pts


def plot_rank_vs_auroc(records, path) -> bool:
    """Each run's effective embedding rank against its 3-NN AUROC (a collapse diagnostic).

    SIPT runs whose embeddings fall into two antipodal groups (RankMe near 1.5,
    norm near mu-/2) sit at the lower left; LM-only runs are drawn in grey.

    Parameters
    ----------
    records : mapping of str to list of dict
        Run records by experiment (:func:`load_records`).
    path : str or path-like
        PNG file to write (atomically).

    Returns
    -------
    bool
        Whether a figure was written (False when no run has the needed metrics).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> rec = {"config": {"experiment": "plane", "arm": "sipt", "seed": 0},
    ...        "dataset": {"task": "vertex"},
    ...        "metrics": {"vertex": {"knn3_pt_auroc": 0.9},
    ...                    "geometry": {"rankme": 9.0, "mean_norm": 7.0}}}
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "rank.png"
    >>> plot_rank_vs_auroc({"plane": [rec]}, out), out.stat().st_size > 0
    (True, True)
    >>> plot_rank_vs_auroc({}, out.with_name("none.png"))
    False
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = rank_vs_auroc_points(records)
    if not pts:
        return False
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    exps = [e for e in EXPERIMENTS if any(p["experiment"] == e for p in pts)]
    cmap = plt.get_cmap("tab20")
    for i, exp in enumerate(exps):
        for arm in ("lm", "sipt"):
            sel = [p for p in pts if p["experiment"] == exp and p["arm"] == arm]
            if not sel:
                continue
            ax.scatter([p["rankme"] for p in sel], [p["auroc"] for p in sel], s=18,
                       marker="o" if arm == "sipt" else "x",
                       color=cmap(i % 20) if arm == "sipt" else "tab:gray",
                       alpha=0.9 if arm == "sipt" else 0.5,
                       label=exp if arm == "sipt" else None)
    ax.set_xlabel("effective rank of the PT embeddings (RankMe)")
    ax.set_ylabel("3-NN macro AUROC (main label set)")
    ax.set_title("Per run: embedding rank vs fine-tuning AUROC (x: LM-only)", fontsize=9)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="SIPT runs",
              title_fontsize=7)
    savefig_atomic(fig, path)
    plt.close(fig)
    return True
