"""Figures of a geometry report (linked vs unlinked distances, probe vs LC, retrieval curve)
and of a comparison of several embeddings (a heat-table of their metrics)."""

from __future__ import annotations

import numpy as np

from .._kernel import to_dissimilarity

__all__ = ["plot_embedding_comparison", "plot_geometry_report"]


def _histogram_panel(ax, rep) -> None:
    h = rep.histogram
    if h is None:
        ax.text(0.5, 0.5, "no graph", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    edges = np.asarray(h["edges"])
    linked = np.asarray(h["linked"], dtype=float)
    unlinked = np.asarray(h["unlinked"], dtype=float)
    used = np.flatnonzero((linked + unlinked) > 0)
    lo, hi = (used[0], used[-1] + 1) if used.size else (0, len(linked))
    centers = (edges[:-1] + edges[1:]) / 2
    width = edges[1] - edges[0]
    for counts, label, color in ((unlinked, "unlinked pairs", "tab:gray"),
                                 (linked, "linked pairs (edges)", "tab:blue")):
        total = counts.sum()
        dens = counts / (total * width) if total else counts
        ax.bar(centers[lo:hi], dens[lo:hi], width=width, alpha=0.55, label=label, color=color)
    if rep.recovery is not None and np.isfinite(rep.recovery.best_f1_radius):
        # radii are in the user's convention (a similarity for "dot"); the axis is distance
        ax.axvline(to_dissimilarity(rep.recovery.best_f1_radius, rep.metric), color="k",
                   ls="--", lw=1,
                   label=f"best-F1 radius (F1 {rep.recovery.best_f1:.2f})")
    ax.set_xlabel(f"{rep.metric} distance")
    ax.set_ylabel("density")
    ax.set_title("distances of linked vs unlinked pairs")
    ax.legend(fontsize=8)


def _probe_panel(ax, rep) -> None:
    probe, cons = rep.knn_probe, rep.consistency
    if probe is None or cons is None:
        ax.text(0.5, 0.5, "no labels", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    use_graph = cons.per_class_lc_graph is not None
    x_class = cons.per_class_lc_graph if use_graph else cons.per_class_lc_embedding
    x_all = cons.lc_graph if use_graph else cons.lc_embedding
    ax.plot([0, 1], [0, 1], color="0.7", lw=1, zorder=0)
    ax.scatter(x_class, probe.per_class_accuracy, s=28, color="tab:orange",
               label="one point per class")
    for c, xv, yv in zip(probe.classes, x_class, probe.per_class_accuracy, strict=True):
        if np.isfinite(xv) and np.isfinite(yv):
            ax.annotate(str(c), (xv, yv), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
    ax.scatter([x_all], [probe.accuracy], s=90, marker="*", color="tab:red",
               label=f"all: LC {x_all:.2f}, acc {probe.accuracy:.2f}")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    where = "on G (prediction)" if use_graph else f"on the {cons.k}-NN graph"
    ax.set_xlabel(f"local consistency {where}")
    ax.set_ylabel(f"{probe.k}-NN accuracy (realisation)")
    ax.set_title("k-NN probe accuracy vs local consistency")
    ax.legend(fontsize=8, loc="lower right")


def _retrieval_panel(ax, rep) -> None:
    r = rep.retrieval
    if r is None:
        ax.text(0.5, 0.5, "no graph", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    ax.plot(r.curve_k, r.curve_precision, marker="o", ms=3, label="precision@k")
    ax.plot(r.curve_k, r.curve_recall, marker="s", ms=3, label="recall@k")
    ax.set_xlabel("k (nearest samples retrieved)")
    ax.set_ylabel("mean over queries")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"link retrieval (LRAP {r.lrap:.3f}, MRR {r.mrr:.3f})")
    ax.legend(fontsize=8)


def plot_geometry_report(report, *, path=None, figsize=(15, 4.2)):
    """Draw the report's three panels; optionally save them (atomically) to ``path``.

    Panels: histograms of the distances of linked and unlinked pairs (with the
    best-F1 radius), per-class k-NN probe accuracy against local consistency
    (on G when a graph was given), and precision@k / recall@k of link retrieval.

    Parameters
    ----------
    report : GeometryReport
    path : str or path-like, optional
        File to write (format from the suffix, e.g. ``.png``, ``.pdf``).
    figsize : tuple, default (15, 4.2)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sip_theory.geometry import geometry_report
    >>> rep = geometry_report(np.eye(4), [(0, 1)], [0, 0, 1, 1], k=2, linear=False)
    >>> len(plot_geometry_report(rep).axes)
    3
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(1, 3)
    _histogram_panel(axes[0], report)
    _probe_panel(axes[1], report)
    _retrieval_panel(axes[2], report)
    _save(fig, path)
    return fig


def _save(fig, path) -> None:
    """Write ``fig`` atomically to ``path`` (format from the suffix), if given."""
    if path is None:
        return
    import os

    from .._atomic import atomic_path

    suffix = os.path.splitext(os.fspath(path))[1]
    with atomic_path(path, suffix=suffix) as tmp:
        fig.savefig(tmp, dpi=120)


def column_scores(values: np.ndarray, better) -> np.ndarray:
    """Each column min-max scaled to [0, 1] with 1 at its best end (NaN kept).

    A column without a direction (``None``) or with a single finite value, or all
    equal, gets NaN: there is nothing to colour by.

    Examples
    --------
    >>> column_scores(np.array([[1.0, 5.0], [3.0, 1.0], [2.0, 3.0]]), ["higher", "lower"])
    array([[0. , 0. ],
           [1. , 1. ],
           [0.5, 0.5]])
    """
    v = np.asarray(values, dtype=np.float64)
    out = np.full(v.shape, np.nan)
    for j, b in enumerate(better):
        col = v[:, j]
        ok = np.isfinite(col)
        if b is None or ok.sum() < 2:
            continue
        lo, hi = col[ok].min(), col[ok].max()
        if hi == lo:
            continue
        scaled = (col - lo) / (hi - lo)
        out[:, j] = scaled if b == "higher" else 1.0 - scaled
    return out


def plot_embedding_comparison(comparison, *, path=None, digits: int = 3, figsize=None):
    """Draw an :class:`EmbeddingComparison` as a heat-table; optionally save it (atomically).

    One row per embedding, one column per metric, grouped (graph, labels, spread)
    under a header. Each cell shows its value; its colour is the value min-max
    scaled within the column, dark at the column's best end (arrows: higher or
    lower is better). Columns without a direction (NC1) stay white; a linear
    probe's spread over folds is written under its mean.

    Parameters
    ----------
    comparison : EmbeddingComparison
    path : str or path-like, optional
        File to write (format from the suffix, e.g. ``.png``, ``.pdf``).
    digits : int, default 3
    figsize : tuple, optional
        Default grows with the table.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sip_theory.geometry._compare import _example
    >>> fig = plot_embedding_comparison(_example())
    >>> len(fig.axes)
    2
    """
    from matplotlib.figure import Figure

    from ._compare import SPREAD_OF

    c = comparison
    shown = [j for j, key in enumerate(c.columns) if key not in SPREAD_OF]
    values = c.values[:, shown]
    better = [c.better[j] for j in shown]
    scores = column_scores(values, better)
    n_rows, n_cols = values.shape
    if figsize is None:
        figsize = (1.6 + 1.05 * n_cols, 1.4 + 0.5 * n_rows)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    cmap = "Blues"
    im = ax.imshow(np.where(np.isfinite(scores), scores, np.nan), cmap=cmap, vmin=-0.15,
                   vmax=1.15, aspect="auto")
    for i in range(n_rows):
        for jj, j in enumerate(shown):
            v = c.values[i, j]
            text = "n/a" if not np.isfinite(v) else f"{v:.{digits}f}"
            sd = [key for key, of in SPREAD_OF.items()
                  if of == c.columns[j] and key in c.columns]
            if sd and np.isfinite(c.values[i, c.columns.index(sd[0])]):
                text += f"\n± {c.values[i, c.columns.index(sd[0])]:.{digits}f}"
            dark = np.isfinite(scores[i, jj]) and scores[i, jj] > 0.6
            ax.text(jj, i, text, ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
    arrows = {"higher": " ↑", "lower": " ↓"}
    ax.set_xticks(range(n_cols), [c.labels[j] + arrows.get(c.better[j], "") for j in shown],
                  rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(n_rows), list(c.names), fontsize=9)
    ax.tick_params(length=0)
    groups = [c.groups[j] for j in shown]
    start = 0
    for jj in range(1, n_cols + 1):  # group headers and separators
        if jj == n_cols or groups[jj] != groups[start]:
            ax.text((start + jj - 1) / 2, -0.75, groups[start], ha="center", va="bottom",
                    fontsize=9, fontweight="bold")
            if jj < n_cols:
                ax.axvline(jj - 0.5, color="k", lw=1.2)
            start = jj
    ax.set_ylim(n_rows - 0.5, -1.1)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    cb = fig.colorbar(im, ax=ax, shrink=0.8, ticks=[0, 1])
    cb.ax.set_yticklabels(["worst", "best"], fontsize=8)
    cb.set_label("within each column", fontsize=8)
    _save(fig, path)
    return fig
