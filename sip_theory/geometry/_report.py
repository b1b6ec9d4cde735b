"""The geometry report: every metric of an embedding from a single pass over its distances."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .._serialization import ToDictMixin, to_jsonable
from .._validation import check_one_of, check_positive_int
from ..theory import Theorem1Check, check_theorem1
from ._arrays import single_thread_if_small
from ._common import engine_options, known_codes, prepare
from ._consistency import LCComparison, knn_local_consistency
from ._linear import LinearProbeResult, linear_probe
from ._neighbors import compute_neighbors
from ._probes import KNNProbeResult, knn_probe
from ._recovery import GraphRecoveryResult, graph_recovery
from ._retrieval import LinkRetrievalResult, link_retrieval
from ._spread import alignment, cdnv, nc1, rankme_all, uniformity
from ._trust import NeighborhoodPreservation, neighborhood_preservation

__all__ = ["REPORT_SCHEMA_VERSION", "THEOREM1_AUTO_WORK", "GeometryReport", "geometry_report"]

#: Version of the layout of :meth:`GeometryReport.to_dict` (and of the CLI's JSON): raised
#: when a key is renamed or removed, or its meaning changes (new keys do not raise it).
REPORT_SCHEMA_VERSION = 2

#: Columns of ``GeometryReport.per_sample`` in their CSV order.
PER_SAMPLE_COLUMNS = ("label", "knn_vote", "knn_prediction", "knn_correct", "lc_graph",
                      "lc_knn", "first_neighbor_rank")

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
        With a graph and labels, none of them missing (by default up to n^2 d =
        :data:`THEOREM1_AUTO_WORK`):
        Theorem 1's premise (is the radius graph G?), both sides of its identity, and
        off the premise the proved range of radius vote - LC (``theorem1.robust``).
    histogram : dict or None
        ``{"edges", "linked", "unlinked"}``: counts of linked and unlinked pairs per distance bin.
    timings : dict
        Seconds per stage.
    settings : dict
        The options used (metric, k, ks, probe_k, lc_k, lc_mode, normalize,
        normalize_rows, seed, the linear probe's options, engine settings, ...).
    data : dict
        What the data hold that a metric may hide: ``n_unlabeled`` (samples whose
        label is missing, left out of every label metric; None without labels),
        ``n_zero_rows`` (all-zero embedding rows), ``n_duplicate_rows`` (rows equal
        to an earlier row), ``n_isolated_nodes`` (sample nodes of G without a
        neighbour; None without a graph). :meth:`warnings` says them in words.
    per_sample : dict or None
        With ``per_sample=True``: one array of length n per column of
        ``PER_SAMPLE_COLUMNS``, read off the report's own computations (no second
        sweep): ``label`` (None where missing); ``knn_vote``, the k-NN probe's vote
        share of the sample's own label (distance-weighted as the probe votes),
        ``knn_prediction`` and ``knn_correct`` (NaN/None for unlabelled samples);
        ``lc_graph`` and ``lc_knn``, the sample's LC credit on G and on the
        embedding's kNN graph (1: its label is the unique majority of its
        neighbours; NaN: not evaluated); ``first_neighbor_rank``, the rank of its
        nearest graph neighbour among all other samples (non-neighbour ties counted
        first, as in the MRR; NaN for isolated nodes). Columns a report lacks (no
        graph, no labels) are absent. Not in :meth:`to_dict`.
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
    data: dict = field(default_factory=dict)
    per_sample: dict | None = field(repr=False, default=None)

    _to_dict_exclude = ("per_sample",)

    def warnings(self) -> list[str]:
        """One line per property of the data that deserves a look (empty if none).

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [3.0, 1.0]])
        >>> rep = geometry_report(X, [(1, 2)], [0, 1, 1, np.nan], k=1, linear=False)
        >>> for line in rep.warnings():
        ...     print(line)
        1 sample(s) without a label: left out of the label metrics
        1 all-zero row(s)
        1 duplicate row(s) (equal to an earlier row)
        2 isolated node(s) (no graph neighbour)
        """
        d, out = self.data, []
        if d.get("n_unlabeled"):
            out.append(f"{d['n_unlabeled']} sample(s) without a label: left out of the "
                       "label metrics")
        if d.get("n_zero_rows"):
            out.append(f"{d['n_zero_rows']} all-zero row(s)")
        if d.get("n_duplicate_rows"):
            out.append(f"{d['n_duplicate_rows']} duplicate row(s) (equal to an earlier row)")
        if d.get("n_isolated_nodes"):
            out.append(f"{d['n_isolated_nodes']} isolated node(s) (no graph neighbour)")
        return out

    def to_dict(self) -> dict:
        """A JSON-serialisable dict; timings rounded to 0.1 ms, the retrieval curve added.

        ``schema_version`` (:data:`REPORT_SCHEMA_VERSION`) and ``package_version`` (the
        ``sip_theory`` that computed it) come first; the options used are in
        ``settings``.

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
        >>> d["schema_version"] == REPORT_SCHEMA_VERSION
        True
        """
        from .. import __version__

        out = {"schema_version": REPORT_SCHEMA_VERSION, "package_version": __version__,
               **super().to_dict()}
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
        if self.data.get("n_unlabeled"):
            lines.append(f"labels: {self.data['n_unlabeled']} of {self.n_samples} missing "
                         "(left out of the label metrics; they stay in the neighbour search)")
        no_edges = self.recovery is not None and self.recovery.n_edges == 0
        if no_edges:
            lines.append("graph: no edges, so link retrieval and graph recovery are undefined")
        elif self.retrieval is not None:
            r = self.retrieval
            pk = ", ".join(f"P@{k} {v:.4f}" for k, v in r.precision_at.items())
            lines.append(f"link retrieval: LRAP {r.lrap:.4f}, nDCG {r.ndcg:.4f}, "
                         f"AP {r.ap_micro:.4f}, MRR {r.mrr:.4f}, {pk}")
        if self.recovery is not None and not no_edges:
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
    k: int | None = None,
    ks=None,
    probe_k: int | None = None,
    lc_k: int | None = None,
    lc_mode: str = "union",
    uniformity_t: float = 2.0,
    normalize: bool = True,
    normalize_rows: bool = False,
    linear: bool = True,
    linear_options: dict | None = None,
    isolated: str = "exclude",
    ties: str = "strict",
    trust_k: int = 5,
    histogram_bins: int = 64,
    theorem1: bool | None = None,
    seed=0,
    missing_label=None,
    per_sample: bool = False,
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
        Enables the k-NN and linear probes, LC, NC1 and CDNV. Labels may be missing
        (masked, NaN, None, or ``missing_label``).
    inputs : array-like of shape (n, p), optional
        An input space for trustworthiness and continuity (a second sweep).
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
    k : int, optional
        Neighbours kept per point (the retrieval curve runs to k); default 10.
    ks : sequence of int, optional
        Cut-offs for P@k / R@k; default (1, 5, 10).
    probe_k : int, optional
        Neighbours of the leave-one-out probe; default 3 (the paper's).
    lc_k : int, optional
        Neighbours of the kNN graph for LC; default ``probe_k``.

        A default larger than the data allows (n - 1, for ``probe_k`` the labelled
        samples - 1) is lowered to it, with a note in ``settings["notes"]``; a value
        given explicitly raises instead, as each metric does.
    lc_mode : {"union", "mutual"}, default "union"
        Symmetrisation of the kNN graph LC is measured on
        (:func:`knn_local_consistency`).
    uniformity_t : float, default 2
    normalize : bool, default True
        Alignment and uniformity on unit-normalised embeddings.
    normalize_rows : bool, default False
        Divide every row by its Euclidean norm before any metric (the embedding
        scored is then the L2-normalised one); a row of zero norm raises.
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
    missing_label : int, float or str, optional
        A value that marks a missing label (e.g. ``-1``, CiteSeer's marker); masked
        entries, NaN and None always do (:func:`sip_theory._validation.known_labels`).
        Samples without a label stay in the neighbour search and in every label-free
        metric; they are left out of every label metric: never scored and, having no
        label, never voting (the k-NN probe votes with the k nearest labelled
        samples, LC with the labelled neighbours in G and in the kNN graph, the
        linear probe, NC1 and CDNV use the labelled rows). ``data["n_unlabeled"]``
        counts them, and the Theorem 1 check (which needs every label) is skipped
        with a note.
    per_sample : bool, default False
        Keep the per-sample values (``GeometryReport.per_sample``: LC credits, the
        k-NN vote and prediction, the rank of the first graph neighbour), read off
        the same computations.
    **engine
        ``device``, ``dtype``, ``chunk_size``, ``memory_budget``, ``progress``,
        ``distributed`` as in :func:`compute_neighbors`.

    Returns
    -------
    GeometryReport

    Raises
    ------
    ValueError
        Inconsistent sizes among embeddings, graph, labels and inputs, ``k``,
        ``ks``, ``probe_k`` or ``lc_k`` given larger than n - 1, fewer than two
        labelled samples, and the errors of the individual metrics.

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
            probe_k=probe_k, lc_k=lc_k, lc_mode=lc_mode, uniformity_t=uniformity_t,
            normalize=normalize, normalize_rows=normalize_rows, linear=linear,
            linear_options=linear_options, isolated=isolated, ties=ties, trust_k=trust_k,
            histogram_bins=histogram_bins, theorem1=theorem1, seed=seed,
            missing_label=missing_label, per_sample=per_sample, **engine)


def _neighbour_count(value, default: int, limit: int, name: str, notes: list) -> int:
    """An explicit count must fit (<= limit); the default is lowered to it, with a note."""
    if value is None:
        if default > limit:
            notes.append(f"{name} lowered from its default {default} to {limit} "
                         f"(the data allow at most {limit})")
        return min(default, limit)
    value = check_positive_int(value, name=name)
    if value > limit:
        raise ValueError(f"{name} must be <= {limit} (the number of samples - 1 it can "
                         f"use), got {value}")
    return value


def _data_counts(X, g, codes) -> dict:
    """Counts of the data properties :meth:`GeometryReport.warnings` reports."""
    n_zero = int((X == 0).all(dim=1).sum())
    n_dup = int(X.shape[0] - torch.unique(X, dim=0).shape[0])
    n_iso = None
    if g is not None:
        sample = ~np.asarray(g.auxiliary, dtype=bool)
        n_iso = int(((np.diff(g.indptr) == 0) & sample).sum())
    return {"n_unlabeled": None if codes is None else int((codes < 0).sum()),
            "n_zero_rows": n_zero, "n_duplicate_rows": n_dup, "n_isolated_nodes": n_iso}


def _normalized_rows(X: torch.Tensor) -> torch.Tensor:
    """``X`` with unit rows; a zero row raises (it has no direction)."""
    norm = torch.linalg.vector_norm(X, dim=1)
    zero = torch.nonzero(norm == 0).reshape(-1)
    if zero.numel():
        raise ValueError(f"normalize_rows: {zero.numel()} row(s) of zero norm cannot be "
                         f"L2-normalised (e.g. row {int(zero[0])})")
    return X / norm[:, None]


def _per_sample_values(n, classes, codes, probe, cons, ret) -> dict:
    """The per-sample columns (``GeometryReport.per_sample``) from the computed results."""
    out = {}
    if codes is not None:
        known = codes >= 0
        label = np.full(n, None, dtype=object)
        label[known] = classes[codes[known]]
        out["label"] = label
    if probe is not None:
        # leave-one-out: the probe voted the labelled rows in index order
        rows = np.flatnonzero(codes >= 0)
        vote = np.full(n, np.nan)
        vote[rows] = probe.proba[np.arange(rows.shape[0]), codes[rows]]
        pred = np.full(n, None, dtype=object)
        pred[rows] = probe.predictions
        correct = np.full(n, None, dtype=object)
        correct[rows] = probe.predictions == classes[codes[rows]]
        out.update(knn_vote=vote, knn_prediction=pred, knn_correct=correct)
    if cons is not None:
        if cons.credit_graph is not None:
            out["lc_graph"] = np.asarray(cons.credit_graph, dtype=np.float64)
        out["lc_knn"] = np.asarray(cons.credit_embedding, dtype=np.float64)
    if ret is not None and "reciprocal_rank" in ret.per_node:
        rr = np.asarray(ret.per_node["reciprocal_rank"], dtype=np.float64)
        with np.errstate(divide="ignore"):
            out["first_neighbor_rank"] = np.where(rr > 0, np.rint(1.0 / rr), np.nan)
    return {key: out[key] for key in PER_SAMPLE_COLUMNS if key in out}


def _geometry_report(embeddings, graph, labels, *, inputs, metric, k, ks, probe_k, lc_k,
                     lc_mode, uniformity_t, normalize, normalize_rows, linear, linear_options,
                     isolated, ties, trust_k, histogram_bins, theorem1, seed, missing_label,
                     per_sample, **engine) -> GeometryReport:
    from ..graphs import as_sample_graph
    from ..theory import edge_homophily, node_homophily

    engine = engine_options(engine)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    X = prepare(embeddings, device=engine["device"], dtype=engine["dtype"])
    if normalize_rows:
        X = _normalized_rows(X)
    check_one_of(lc_mode, ("union", "mutual"), name="lc_mode")
    n, d = int(X.shape[0]), int(X.shape[1])
    if n < 3:
        raise ValueError(f"embeddings must have at least 3 rows for a report, got {n}")
    g = None if graph is None else as_sample_graph(graph, n_nodes=n, name="graph")
    codes = None
    n_labelled = n
    classes = None
    if labels is not None:
        classes, codes = known_codes(labels, n, missing_label=missing_label, need=2)
        n_labelled = int((codes >= 0).sum())
    if inputs is not None:
        inputs_t = prepare(inputs, device=X.device, dtype=X.dtype, name="inputs")
        if inputs_t.shape[0] != n:
            raise ValueError(f"inputs has {inputs_t.shape[0]} rows but embeddings has {n}")
    notes = []
    k = _neighbour_count(k, 10, n - 1, "k", notes)
    if ks is None:
        ks = tuple(sorted({min(v, n - 1) for v in (1, 5, 10)}))
        if n - 1 < 10:
            notes.append(f"ks lowered from their default (1, 5, 10) to {ks} (the data allow "
                         f"at most {n - 1})")
    else:
        ks = tuple(sorted({_neighbour_count(v, 0, n - 1, "ks", notes) for v in ks}))
    probe_k = _neighbour_count(probe_k, 3, n_labelled - 1, "probe_k", notes)
    lc_k = probe_k if lc_k is None else _neighbour_count(lc_k, 0, n - 1, "lc_k", notes)
    knn_k = None
    if g is not None:
        knn_k = min(max(1, int(round(2 * g.n_edges / n))), n - 1)
    # with a few unlabelled rows, lists long enough to hold probe_k labelled entries each
    probe_need = min(probe_k + (n - n_labelled), n - 1) if n - n_labelled <= 32 else probe_k
    k_all = max([k, probe_need, lc_k, *ks] + ([knn_k] if knn_k else []))
    timings["validate"] = time.perf_counter() - t0

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
        # codes carry the missing labels as -1 from here on
        probe = knn_probe(X, labels, k=probe_k, neighbors=nb, missing_label=missing_label,
                          weights="uniform" if metric == "dot" else "distance", **plain)
        cons = knn_local_consistency(X, labels, g, k=lc_k, mode=lc_mode, ties=ties,
                                     neighbors=nb,
                                     missing_label=missing_label, **plain)
        if g is not None and g.n_edges:
            hom = {"edge": float(edge_homophily(g, codes, missing_label=-1)),
                   "node": float(node_homophily(g, codes, missing_label=-1))}
        n_classes = np.unique(codes[codes >= 0]).shape[0]
        if n_classes >= 2:
            nc1_v = float(nc1(X, codes, device=engine["device"], missing_label=-1))
            cdnv_v = float(cdnv(X, codes, device=engine["device"], missing_label=-1))
    timings["label_metrics"] = time.perf_counter() - t
    t = time.perf_counter()
    if codes is not None and linear and n_classes >= 2:
        opts = {"seed": seed, **(linear_options or {})}
        lin = linear_probe(X, labels, device=engine["device"], missing_label=missing_label,
                           **opts)
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
    n_missing = 0 if codes is None else n - n_labelled
    if g is not None and codes is not None and n_missing and theorem1:
        raise ValueError(f"theorem1=True needs a label for every sample; {n_missing} "
                         "missing")
    if g is not None and codes is not None and n_missing and theorem1 is None:
        notes.append(f"Theorem 1 check skipped: {n_missing} label(s) missing (its identity "
                     "needs a label for every sample)")
    elif g is not None and codes is not None and run_theorem1 and not n_missing:
        t = time.perf_counter()
        chk = check_theorem1(X.detach().cpu().double().numpy(), g, codes, metric=metric,
                             ties=ties)
        timings["theorem1"] = time.perf_counter() - t
    elif g is not None and codes is not None and theorem1 is None:
        notes.append(f"Theorem 1 check skipped: n^2 d = {work:.2g} > {THEOREM1_AUTO_WORK:.2g} "
                     "(exact O(n^2 d) passes on the CPU; pass theorem1=True to run it)")
    timings["total"] = time.perf_counter() - t0
    lin_opts = {key: v for key, v in (linear_options or {}).items()
                if key not in ("train_index", "test_index")}
    if linear_options and "train_index" in linear_options:
        lin_opts["split"] = "given"
    settings = {
        "metric": metric, "k": k, "ks": list(ks), "probe_k": probe_k, "lc_k": lc_k,
        "lc_mode": lc_mode, "uniformity_t": float(uniformity_t),
        "normalize": bool(normalize), "normalize_rows": bool(normalize_rows),
        "linear": bool(linear), "linear_options": lin_opts,
        "seed": seed if isinstance(seed, (int, np.integer)) else repr(seed),
        "theorem1": theorem1, "missing_label": missing_label,
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
        timings=timings, settings=settings, data=_data_counts(X, g, codes),
        per_sample=_per_sample_values(n, classes, codes, probe, cons, ret)
        if per_sample else None,
    )
