"""Figures of a geometry report: linked vs unlinked distances, probe vs LC, retrieval curve."""

from __future__ import annotations

import numpy as np

from .._kernel import to_dissimilarity

__all__ = ["plot_geometry_report"]


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
    if path is not None:
        import os

        from .._atomic import atomic_path

        suffix = os.path.splitext(os.fspath(path))[1]
        with atomic_path(path, suffix=suffix) as tmp:
            fig.savefig(tmp, dpi=120)
    return fig
