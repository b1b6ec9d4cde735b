"""The geometry report: every metric of an embedding from a single pass over its distances."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .._serialization import ToDictMixin, to_jsonable
from .._validation import check_positive_int
from ..theory import Theorem1Check, check_theorem1
from ._arrays import single_thread_if_small
from ._common import engine_options, label_codes, prepare
from ._consistency import LCComparison, knn_local_consistency
from ._linear import LinearProbeResult, linear_probe
from ._neighbors import compute_neighbors
from ._probes import KNNProbeResult, knn_probe
from ._recovery import GraphRecoveryResult, graph_recovery
from ._retrieval import LinkRetrievalResult, link_retrieval
from ._spread import alignment, cdnv, nc1, rankme_all, uniformity
from ._trust import NeighborhoodPreservation, neighborhood_preservation

__all__ = ["THEOREM1_AUTO_WORK", "GeometryReport", "geometry_report"]

#: Largest n^2 d for which :func:`geometry_report` checks Theorem 1 by default: its exact
#: passes run in float64 on the CPU (about 10 s at n = 4,000, d = 128 on 2 cores; data with
#: many tied distances, such as binary bags of words, recompute most pairs exactly and are
#: slower: Cora's 2,708 x 1,433, at 1e10, takes about 2 minutes).
THEOREM1_AUTO_WORK = 2_000_000_000


@dataclass(frozen=True, eq=False)
class GeometryReport(ToDictMixin):
    """Everything :func:`geometry_report` measured, with the data behind its plots.

    Attributes
    ----------
    n_samples, n_features : int
    metric : str
    retrieval : LinkRetrievalResult or None
        With a graph.
    recovery : GraphRecoveryResult or None
        With a graph.
    knn_probe : KNNProbeResult or None
        With labels (the paper's leave-one-out distance-weighted 3-NN).
    linear_probe : LinearProbeResult or None
        With labels, unless switched off.
    consistency : LCComparison or None
        With labels: LC on the embedding's kNN graph, and on G with a graph.
    homophily : dict or None
        With labels and a graph: edge and node homophily of the labels on G.
    alignment : float or None
        With a graph (over its edges).
    uniformity : float or None
        None when ``normalize`` and some row has zero norm (see ``settings["notes"]``).
    uniformity_t : float
    rankme : dict
        One value per RankMe variant.
    nc1, cdnv : float or None
        With labels.
    neighborhood : NeighborhoodPreservation or None
        With ``inputs``.
    theorem1 : Theorem1Check or None
        With a graph and labels (by default up to n^2 d = :data:`THEOREM1_AUTO_WORK`):
        Theorem 1's premise (is the radius graph G?), both sides of its identity, and
        off the premise the proved range of radius vote - LC (``theorem1.robust``).
    histogram : dict or None
        ``{"edges", "linked", "unlinked"}``: counts of linked and unlinked pairs per distance bin.
    timings : dict
        Seconds per stage.
    settings : dict
        The options used.
    """

    n_samples: int
    n_features: int
    metric: str
    retrieval: LinkRetrievalResult | None
    recovery: GraphRecoveryResult | None
    knn_probe: KNNProbeResult | None
    linear_probe: LinearProbeResult | None
    consistency: LCComparison | None
    homophily: dict | None
    alignment: float | None
    uniformity: float | None
    uniformity_t: float
    rankme: dict
    nc1: float | None
    cdnv: float | None
    neighborhood: NeighborhoodPreservation | None
    theorem1: Theorem1Check | None
    histogram: dict | None = field(repr=False)
    timings: dict = field(repr=False)
    settings: dict = field(repr=False)

    def to_dict(self) -> dict:
        """A JSON-serialisable dict; timings rounded to 0.1 ms, the retrieval curve added.

        Examples
        --------
        >>> import json, numpy as np
        >>> X = np.array([[1.0, 0.0], [1.1, 0.0], [3.0, 0.0], [3.1, 0.1]])
        >>> rep = geometry_report(X, graph=[(0, 1), (2, 3)], labels=[0, 0, 1, 1], k=2,
        ...                       linear=False)
        >>> d = rep.to_dict()
        >>> d["retrieval"]["lrap"], d["knn_probe"]["accuracy"], d["recovery"]["realized"]
        (1.0, 1.0, True)
        >>> _ = json.dumps(d, allow_nan=False)
        """
        out = super().to_dict()
        out["timings"] = {k: round(float(v), 4) for k, v in self.timings.items()}
        if self.retrieval is not None:
            out["retrieval"]["curve"] = to_jsonable({
                "k": self.retrieval.curve_k,
                "precision": self.retrieval.curve_precision,
                "recall": self.retrieval.curve_recall,
            })
        return out

    def summary(self) -> str:
        """A few lines of plain text with the headline numbers.

        Examples
        --------
        >>> import numpy as np
        >>> rep = geometry_report(np.eye(3), linear=False, k=1)
        >>> rep.summary().splitlines()[0]
        'embedding: 3 samples x 3 features, metric euclidean'
        """
        lines = [f"embedding: {self.n_samples} samples x {self.n_features} features, "
                 f"metric {self.metric}"]
        if self.retrieval is not None:
            r = self.retrieval
            pk = ", ".join(f"P@{k} {v:.4f}" for k, v in r.precision_at.items())
            lines.append(f"link retrieval: LRAP {r.lrap:.4f}, nDCG {r.ndcg:.4f}, "
                         f"AP {r.ap_micro:.4f}, MRR {r.mrr:.4f}, {pk}")
        if self.recovery is not None:
            g = self.recovery
            lines.append(f"graph recovery: margin {g.margin:.4g} (realized: {g.realized}), "
                         f"AUROC {g.auroc:.4f}, best F1 {g.best_f1:.4f} at r = "
                         f"{g.best_f1_radius:.4g}")
        if self.knn_probe is not None:
            p = self.knn_probe
            lines.append(f"{p.k}-NN probe (leave-one-out): accuracy {p.accuracy:.4f}, "
                         f"macro AUROC {p.macro_auroc:.4f}")
        if self.linear_probe is not None:
            lp = self.linear_probe
            lines.append(f"linear probe ({lp.protocol}): accuracy {lp.accuracy:.4f}")
        if self.consistency is not None:
            c = self.consistency
            g_txt = "n/a" if c.lc_graph is None else f"{c.lc_graph:.4f}"
            lines.append(f"local consistency: on G {g_txt}, on the {c.k}-NN graph "
                         f"{c.lc_embedding:.4f}")
        spread = "uniformity n/a" if self.uniformity is None else (
            f"uniformity(t={self.uniformity_t:g}) {self.uniformity:.4f}")
        if self.alignment is not None:
            spread = f"alignment {self.alignment:.4f}, " + spread
        lines.append(spread + f", RankMe {self.rankme.get('garrido2023', float('nan')):.2f}")
        if self.nc1 is not None:
            lines.append(f"collapse: NC1 {self.nc1:.4g}, CDNV {self.cdnv:.4g}")
        if self.neighborhood is not None:
            lines.append(f"trustworthiness {self.neighborhood.trustworthiness:.4f}, "
                         f"continuity {self.neighborhood.continuity:.4f}")
        if self.theorem1 is not None:
            lines.append(_theorem1_line(self.theorem1))
        return "\n".join(lines)


def _theorem1_line(chk) -> str:
    """Theorem 1 in one line: the premise, and the vote next to LC with its proved range."""
    rb = chk.robust
    if rb.n_evaluated == 0:
        return "Theorem 1: no node has a graph neighbour (nothing to vote on)"
    head = ("premise met (G is a radius graph of the embedding)" if chk.realized else
            f"premise not met ({rb.n_violating_pairs} violating pairs touch "
            f"{rb.n_touched} of {rb.n_evaluated} nodes)")
    return (f"Theorem 1: {head}; radius vote {rb.vote_accuracy:.4f} vs LC {rb.lc:.4f} at "
            f"r = {rb.radius:.4g}, proved range of the gap [{rb.lower:.4f}, {rb.upper:.4f}]")


def _histogram(nb) -> dict | None:
    p = nb.pairs
    if p is None or p.hist_edges is None:
        return None
    edges = p.hist_edges.astype(np.float64)
    cum_all = p.hist_le.astype(np.int64)
    d = np.sort(nb.edges.distance[
        np.repeat(np.arange(nb.n_samples), np.diff(nb.edges.indptr)) < nb.edges.indices])
    cum_link = np.searchsorted(d, p.hist_edges, side="right").astype(np.int64)
    all_counts = np.diff(cum_all)
    all_counts[0] += cum_all[0]
    link_counts = np.diff(cum_link)
    link_counts[0] += cum_link[0]
    return {"edges": edges, "linked": link_counts, "unlinked": all_counts - link_counts}


def geometry_report(
    embeddings,
    graph=None,
    labels=None,
    *,
    inputs=None,
    metric: str = "euclidean",
    k: int = 10,
    ks=(1, 5, 10),
    probe_k: int = 3,
    lc_k: int | None = None,
    uniformity_t: float = 2.0,
    normalize: bool = True,
    linear: bool = True,
    linear_options: dict | None = None,
    isolated: str = "exclude",
    ties: str = "strict",
    trust_k: int = 5,
    histogram_bins: int = 64,
    theorem1: bool | None = None,
    seed=0,
    **engine,
) -> GeometryReport:
    """Score an embedding against a graph and labels, computing its distances once.

    One sweep of the neighbour engine (:func:`compute_neighbors`) gathers the kNN
    lists, the rank of every graph neighbour, counts over all pairs, the pair
    histogram and uniformity; every metric is then read off that sweep.

    Parameters
    ----------
    embeddings : array-like or torch.Tensor of shape (n, d)
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array, optional
        Enables link retrieval, graph recovery, alignment, LC on G and homophily.
    labels : array-like of shape (n,), optional
        Enables the k-NN and linear probes, LC, NC1 and CDNV.
    inputs : array-like of shape (n, p), optional
        An input space for trustworthiness and continuity (a second sweep).
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
    k : int, default 10
        Neighbours kept per point (the retrieval curve runs to k).
    ks : sequence of int, default (1, 5, 10)
        Cut-offs for P@k / R@k (clipped to n - 1).
    probe_k : int, default 3
        Neighbours of the leave-one-out probe (the paper's 3).
    lc_k : int, optional
        Neighbours of the kNN graph for LC; default ``probe_k``.
    uniformity_t : float, default 2
    normalize : bool, default True
        Alignment and uniformity on unit-normalised embeddings.
    linear : bool, default True
        Fit the linear probe (held-out split; see ``linear_options``).
    linear_options : dict, optional
        Keyword arguments for :func:`linear_probe` (``C``, ``cv``, ``test_size``, ...).
    isolated : {"exclude", "zero", "one"}, default "exclude"
        Policy for nodes without neighbours in link retrieval.
    ties : {"strict", "random"}, default "strict"
        Tie policy of local consistency.
    trust_k : int, default 5
    histogram_bins : int, default 64
    theorem1 : bool, optional
        Check Theorem 1 (:func:`sip_theory.theory.check_theorem1`: premise, identity
        and the robust bound) with a graph and labels. Its exact O(n^2 d) passes run in
        float64 on the CPU, so the default runs it only while n^2 d is at most
        :data:`THEOREM1_AUTO_WORK` (a note says when it is skipped); ``True`` forces it,
        ``False`` skips it.
    seed : int or numpy.random.Generator, default 0
        For the linear probe's split.
    **engine
        ``device``, ``dtype``, ``chunk_size``, ``memory_budget``, ``progress``,
        ``distributed`` as in :func:`compute_neighbors`.

    Returns
    -------
    GeometryReport

    Raises
    ------
    ValueError
        Inconsistent sizes among embeddings, graph, labels and inputs, and the
        errors of the individual metrics.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (20, 4)), rng.normal(6, 1, (20, 4))]
    >>> y = [0] * 20 + [1] * 20
    >>> g = [(i, i + 1) for i in range(19)] + [(i, i + 1) for i in range(20, 39)]
    >>> rep = geometry_report(X, g, y, linear=False)
    >>> rep.knn_probe.accuracy, rep.consistency.lc_graph, rep.recovery.auroc > 0.7
    (1.0, 1.0, True)
    """
    engine = engine_options(engine)
    X0 = prepare(embeddings, device=engine.get("device"), dtype=engine.get("dtype"))
    # small problems: one torch thread (thread start-up and barriers would dominate)
    with single_thread_if_small(float(X0.shape[0]) ** 2 * X0.shape[1], X0.device):
        return _geometry_report(
            embeddings, graph, labels, inputs=inputs, metric=metric, k=k, ks=ks,
            probe_k=probe_k, lc_k=lc_k, uniformity_t=uniformity_t, normalize=normalize,
            linear=linear, linear_options=linear_options, isolated=isolated, ties=ties,
            trust_k=trust_k, histogram_bins=histogram_bins, theorem1=theorem1, seed=seed,
            **engine)


def _geometry_report(embeddings, graph, labels, *, inputs, metric, k, ks, probe_k, lc_k,
                     uniformity_t, normalize, linear, linear_options, isolated, ties, trust_k,
                     histogram_bins, theorem1, seed, **engine) -> GeometryReport:
    from ..graphs import as_sample_graph
    from ..theory import edge_homophily, node_homophily

    engine = engine_options(engine)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    X = prepare(embeddings, device=engine["device"], dtype=engine["dtype"])
    n, d = int(X.shape[0]), int(X.shape[1])
    if n < 3:
        raise ValueError(f"embeddings must have at least 3 rows for a report, got {n}")
    g = None if graph is None else as_sample_graph(graph, n_nodes=n, name="graph")
    codes = None
    if labels is not None:
        _, codes = label_codes(labels, n)
    if inputs is not None:
        inputs_t = prepare(inputs, device=X.device, dtype=X.dtype, name="inputs")
        if inputs_t.shape[0] != n:
            raise ValueError(f"inputs has {inputs_t.shape[0]} rows but embeddings has {n}")
    k = min(check_positive_int(k, name="k"), n - 1)
    ks = tuple(sorted({min(int(v), n - 1) for v in ks}))
    probe_k = min(check_positive_int(probe_k, name="probe_k"), n - 1)
    lc_k = probe_k if lc_k is None else min(check_positive_int(lc_k, name="lc_k"), n - 1)
    knn_k = None
    if g is not None:
        knn_k = min(max(1, int(round(2 * g.n_edges / n))), n - 1)
    k_all = max([k, probe_k, lc_k, *ks] + ([knn_k] if knn_k else []))
    timings["validate"] = time.perf_counter() - t0

    notes = []
    spread_ok = True
    if normalize:
        n_zero = int((torch.linalg.vector_norm(X, dim=1) == 0).sum())
        if n_zero:
            spread_ok = False
            notes.append(f"alignment and uniformity skipped: {n_zero} row(s) of zero norm "
                         "cannot be normalised (pass normalize=False)")
    t = time.perf_counter()
    nb = compute_neighbors(
        X, k=k_all, graph=g, metric=metric, pairs=g is not None,
        uniformity_t=(float(uniformity_t),) if spread_ok else (),
        uniformity_normalize=normalize,
        histogram_bins=histogram_bins if g is not None else 0, **engine,
    )
    timings["sweep"] = time.perf_counter() - t
    plain = {key: engine[key] for key in ("device", "dtype")}
    ret = rec = probe = lin = cons = hom = None
    align = nc1_v = cdnv_v = neigh = None

    t = time.perf_counter()
    if g is not None:
        ret = link_retrieval(X, g, ks=ks, isolated=isolated, neighbors=nb, **plain)
        rec = graph_recovery(X, g, knn_k=knn_k, neighbors=nb, **plain)
        if g.n_edges and spread_ok:
            align = float(alignment(X, g, normalize=normalize, **plain))
    timings["graph_metrics"] = time.perf_counter() - t

    t = time.perf_counter()
    if codes is not None:
        probe = knn_probe(X, labels, k=probe_k, neighbors=nb,
                          weights="uniform" if metric == "dot" else "distance", **plain)
        cons = knn_local_consistency(X, labels, g, k=lc_k, ties=ties, neighbors=nb, **plain)
        if g is not None and g.n_edges:
            hom = {"edge": float(edge_homophily(g, codes)),
                   "node": float(node_homophily(g, codes))}
        if np.unique(codes).shape[0] >= 2:
            nc1_v = float(nc1(X, codes, device=engine["device"]))
            cdnv_v = float(cdnv(X, codes, device=engine["device"]))
    timings["label_metrics"] = time.perf_counter() - t
    t = time.perf_counter()
    if codes is not None and linear and np.unique(codes).shape[0] >= 2:
        opts = {"seed": seed, **(linear_options or {})}
        lin = linear_probe(X, labels, device=engine["device"], **opts)
    timings["linear_probe"] = time.perf_counter() - t

    t = time.perf_counter()
    unif = None
    if spread_ok:
        unif = float(uniformity(X, t=float(uniformity_t), normalize=normalize, neighbors=nb,
                                **plain))
    rk = rankme_all(X, device=engine["device"])
    timings["spread"] = time.perf_counter() - t
    if inputs is not None:
        t = time.perf_counter()
        tk = min(check_positive_int(trust_k, name="trust_k"), (n - 1) // 2)
        neigh = neighborhood_preservation(inputs_t, X, k=tk, metric=metric, **engine)
        timings["neighborhood"] = time.perf_counter() - t
    chk = None
    if theorem1 not in (None, True, False):
        raise TypeError(f"theorem1 must be True, False or None, got {theorem1!r}")
    work = float(n) * n * d
    run_theorem1 = work <= THEOREM1_AUTO_WORK if theorem1 is None else theorem1
    if g is not None and codes is not None and run_theorem1:
        t = time.perf_counter()
        chk = check_theorem1(X.detach().cpu().double().numpy(), g, codes, metric=metric,
                             ties=ties)
        timings["theorem1"] = time.perf_counter() - t
    elif g is not None and codes is not None and theorem1 is None:
        notes.append(f"Theorem 1 check skipped: n^2 d = {work:.2g} > {THEOREM1_AUTO_WORK:.2g} "
                     "(exact O(n^2 d) passes on the CPU; pass theorem1=True to run it)")
    timings["total"] = time.perf_counter() - t0
    settings = {
        "metric": metric, "k": k, "ks": list(ks), "probe_k": probe_k, "lc_k": lc_k,
        "uniformity_t": float(uniformity_t), "normalize": bool(normalize),
        "isolated": isolated, "ties": ties, "trust_k": trust_k,
        "histogram_bins": histogram_bins, "chunk_size": nb.chunk_size,
        "n_blocks": nb.n_blocks, "world_size": nb.world_size,
        "dtype": str(X.dtype).replace("torch.", ""), "device": str(X.device),
        "graph_hash": nb.graph_hash,
        "notes": notes,
    }
    return GeometryReport(
        n_samples=n, n_features=d, metric=metric, retrieval=ret, recovery=rec,
        knn_probe=probe, linear_probe=lin, consistency=cons, homophily=hom,
        alignment=align, uniformity=unif, uniformity_t=float(uniformity_t), rankme=rk,
        nc1=nc1_v, cdnv=cdnv_v, neighborhood=neigh, theorem1=chk, histogram=_histogram(nb),
        timings=timings, settings=settings,
    )
