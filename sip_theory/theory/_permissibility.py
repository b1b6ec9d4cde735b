"""Permissibility (the paper's condition P1) of structure-inducing losses, made checkable.

A loss is permissible for a graph G if (i) every embedding with loss below a
level ell* has a radius graph equal to G and (ii) such embeddings exist. Part (i)
is a lemma per loss (thresholds derived symbolically in
:mod:`sip_theory.theory._derivations`); part (ii) depends on the graph and is
decided here where a proof or a witness embedding is available.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import sympy as sp

from .._serialization import ToDictMixin
from .._validation import check_embeddings
from ._common import to_graph
from ._derivations import contrastive_margin_derivation, multi_similarity_derivation
from ._distances import DistanceBlocks
from ._max_margin import max_margin_realization
from ._sphericity import _lower_bound
from ._unit_interval import max_margin_line, unit_interval_recognition

__all__ = [
    "ContrastiveMarginSpec",
    "MultiSimilarityPerAnchor",
    "MultiSimilaritySpec",
    "PermissibilityReport",
    "Threshold",
    "contrastive_margin_objective",
    "contrastive_margin_threshold",
    "contrastive_zero_margin_lower_bound",
    "is_permissible",
    "multi_similarity_objective",
    "multi_similarity_threshold",
]

_HADSELL = "Hadsell, Chopra, LeCun, CVPR 2006 (contrastive margin loss); lemma: this library"
_WANG = "Wang, Han, Huang, Dong, Scott, CVPR 2019 (multi-similarity loss); lemma: this library"


# ---------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class ContrastiveMarginSpec:
    """Contrastive margin loss over all pairs, unsquared Euclidean distance.

    L = (1/M) [ sum_{linked} (d - pos_margin)_+ + sum_{unlinked} (neg_margin - d)_+ ],
    M = n(n-1)/2 unordered pairs; requires 0 <= pos_margin < neg_margin.
    """

    pos_margin: float
    neg_margin: float

    def __post_init__(self):
        p, q = float(self.pos_margin), float(self.neg_margin)
        if not (math.isfinite(p) and math.isfinite(q) and 0 <= p < q):
            raise ValueError(
                f"need 0 <= pos_margin < neg_margin (finite), got pos_margin={p}, neg_margin={q}"
            )

    name = "contrastive_margin"


@dataclass(frozen=True)
class MultiSimilaritySpec:
    """Multi-similarity loss, all pairs, no mining, cosine similarity.

    Per anchor i: (1/alpha) log(1 + sum_{pos} e^{-alpha (s_ik - t)})
    + (1/beta) log(1 + sum_{neg} e^{beta (s_ik - t)}); the loss is the mean over anchors.
    """

    alpha: float
    beta: float
    threshold: float

    def __post_init__(self):
        a, b, t = float(self.alpha), float(self.beta), float(self.threshold)
        if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
            raise ValueError(f"alpha and beta must be positive and finite, got {a}, {b}")
        if not -1.0 <= t <= 1.0:
            raise ValueError(f"threshold must be a cosine similarity in [-1, 1], got {t}")

    name = "multi_similarity"


def _spec_from(loss_spec):
    if isinstance(loss_spec, (ContrastiveMarginSpec, MultiSimilaritySpec)):
        return loss_spec
    if isinstance(loss_spec, dict):
        kind = loss_spec.get("loss")
        params = {k: v for k, v in loss_spec.items() if k != "loss"}
        if kind in ("contrastive", "contrastive_margin"):
            return ContrastiveMarginSpec(**params)
        if kind in ("multi_similarity", "ms"):
            return MultiSimilaritySpec(**params)
        raise ValueError(
            f"loss_spec['loss'] must be 'contrastive_margin' or 'multi_similarity', got {kind!r}"
        )
    raise TypeError(
        "loss_spec must be a ContrastiveMarginSpec, MultiSimilaritySpec or a dict with key "
        f"'loss'; got {type(loss_spec).__name__}"
    )


# ------------------------------------------------------------------------ thresholds
@dataclass(frozen=True)
class Threshold(ToDictMixin):
    """A loss level below which the radius graph recovers G, and that radius.

    Attributes
    ----------
    loss_level : float
        ell*: loss strictly below it implies exact recovery.
    radius : float
        The recovering radius (Euclidean distance, or cosine distance).
    metric : str
    per_anchor : dict
        For per-anchor losses, the per-term levels.
    reference : str
    """

    loss_level: float
    radius: float
    metric: str
    per_anchor: dict = field(default_factory=dict)
    reference: str = ""


@cache
def _contrastive_numeric():
    d = contrastive_margin_derivation()
    s = d.symbols
    args = (s["mu_pos"], s["mu_neg"], s["M"])
    return (sp.lambdify(args, d.results["loss_level"]), sp.lambdify(args, d.results["radius"]))


@cache
def _ms_numeric():
    d = multi_similarity_derivation()
    s = d.symbols
    args = (s["alpha"], s["beta"], s["t"], s["N"])
    # anchor_floor also depends on the counts P, Q: evaluated from the summand floors with log1p
    return {k: sp.lambdify(args, v, modules="math") for k, v in d.results.items()
            if k != "anchor_floor"}


def contrastive_margin_threshold(pos_margin: float, neg_margin: float, n_pairs: int) -> Threshold:
    """``ell* = (mu_- - mu_+) / (2M)`` and ``r = (mu_+ + mu_-)/2`` for the contrastive margin loss.

    Parameters
    ----------
    pos_margin, neg_margin : float
        ``0 <= mu_+ < mu_-``.
    n_pairs : int
        M, the number of pairs the loss averages over (all n(n-1)/2 pairs).

    Returns
    -------
    Threshold

    Notes
    -----
    If L < ell* every term of the sum is below ``M ell* = (mu_- - mu_+)/2``, so every
    linked pair has ``d < (mu_+ + mu_-)/2`` and every unlinked pair ``d > (mu_+ + mu_-)/2``.
    The expressions are evaluated from the sympy derivation
    (:func:`contrastive_margin_derivation`).

    Examples
    --------
    >>> th = contrastive_margin_threshold(0.0, 10.0, 45)
    >>> round(th.loss_level, 6), th.radius
    (0.111111, 5.0)
    """
    ContrastiveMarginSpec(pos_margin, neg_margin)
    if int(n_pairs) < 1:
        raise ValueError(f"n_pairs must be >= 1, got {n_pairs}")
    level, radius = _contrastive_numeric()
    return Threshold(float(level(pos_margin, neg_margin, int(n_pairs))),
                     float(radius(pos_margin, neg_margin, int(n_pairs))), "euclidean",
                     {}, _HADSELL)


def multi_similarity_threshold(alpha: float, beta: float, threshold: float,
                               n_anchors: int) -> Threshold:
    """Per-anchor levels log(2)/alpha, log(2)/beta, the sufficient mean level and r = 1 - t.

    Parameters
    ----------
    alpha, beta : float
        Positive and negative scales of the multi-similarity loss.
    threshold : float
        Similarity threshold t (the loss's ``base``/lambda).
    n_anchors : int
        N, the number of anchors in the mean.

    Returns
    -------
    Threshold
        ``loss_level`` is the sufficient mean level log(2)/(N max(alpha, beta));
        ``per_anchor`` holds ``{"positive": log 2/alpha, "negative": log 2/beta}``;
        the radius is a cosine distance.

    Notes
    -----
    If an anchor's positive term is below log(2)/alpha, all its positive
    similarities exceed t; if its negative term is below log(2)/beta, all its
    negative similarities are below t. A mean below the sufficient level bounds
    every anchor's whole loss by N times the mean. All pairs present, no mining.

    Examples
    --------
    >>> th = multi_similarity_threshold(2.0, 50.0, 0.5, 10)
    >>> th.radius, round(th.per_anchor["positive"], 6)
    (0.5, 0.346574)
    """
    MultiSimilaritySpec(alpha, beta, threshold)
    if int(n_anchors) < 1:
        raise ValueError(f"n_anchors must be >= 1, got {n_anchors}")
    f = _ms_numeric()
    args = (float(alpha), float(beta), float(threshold), int(n_anchors))
    return Threshold(float(f["mean_level"](*args)), float(f["radius"](*args)), "cosine",
                     {"positive": float(f["positive_level"](*args)),
                      "negative": float(f["negative_level"](*args))}, _WANG)


# -------------------------------------------------------------------- numeric losses
def _pairs(embeddings, graph, metric):
    x = check_embeddings(embeddings)
    g = to_graph(graph, x.shape[0], sized_by="embeddings")
    if g.n_nodes != x.shape[0]:
        raise ValueError(f"embeddings has {x.shape[0]} rows but the graph has {g.n_nodes} nodes")
    # the objectives are evaluated on exact distances (the kernel's formula), so that a
    # witness at distance exactly mu_- or 0 has loss exactly 0
    d = DistanceBlocks(x, metric=metric).exact_block(slice(0, x.shape[0]))
    adj = g.to_dense() > 0
    return d, adj


def contrastive_margin_objective(embeddings, graph, *, pos_margin: float,
                                 neg_margin: float) -> float:
    """The contrastive margin loss of a fixed embedding over all unordered pairs (numpy, exact).

    The quantity the permissibility lemma bounds (for small n); the training loss on
    sampled pairs is :func:`sip_theory.losses.contrastive_margin_loss` (torch).

    Examples
    --------
    >>> float(contrastive_margin_objective([[0.0], [1.0], [4.0]], [(0, 1)], pos_margin=0.5,
    ...                                    neg_margin=2.0))
    0.16666666666666666
    """
    ContrastiveMarginSpec(pos_margin, neg_margin)
    d, adj = _pairs(embeddings, graph, "euclidean")
    iu, ju = np.triu_indices(d.shape[0], 1)
    dd, linked = d[iu, ju], adj[iu, ju]
    terms = np.where(linked, np.maximum(dd - pos_margin, 0), np.maximum(neg_margin - dd, 0))
    return float(terms.mean()) if terms.size else 0.0


@dataclass(frozen=True, eq=False)
class MultiSimilarityPerAnchor:
    """Per-anchor positive and negative terms of the multi-similarity loss."""

    positive: np.ndarray
    negative: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.positive + self.negative

    @property
    def mean(self) -> float:
        return float(self.total.mean())


def multi_similarity_objective(embeddings, graph, *, alpha: float, beta: float,
                               threshold: float) -> MultiSimilarityPerAnchor:
    """Multi-similarity loss terms per anchor of a fixed embedding (all pairs, no mining; numpy).

    The quantities the permissibility lemma bounds (for small n); the training loss
    on sampled pairs is :func:`sip_theory.losses.multi_similarity_loss` (torch). An
    anchor without positives (negatives) has positive (negative) term 0.

    Examples
    --------
    >>> t = multi_similarity_objective([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]], [(0, 1)],
    ...                                alpha=2.0, beta=40.0, threshold=0.5)
    >>> bool(t.positive[0] < 0.5 * 0.6931)
    True
    """
    MultiSimilaritySpec(alpha, beta, threshold)
    d, adj = _pairs(embeddings, graph, "cosine")
    s = 1.0 - d
    n = s.shape[0]
    off = ~np.eye(n, dtype=bool)
    pos_mask, neg_mask = adj & off, ~adj & off
    pos_sum = np.where(pos_mask, np.exp(-alpha * (s - threshold)), 0.0).sum(axis=1)
    neg_sum = np.where(neg_mask, np.exp(beta * (s - threshold)), 0.0).sum(axis=1)
    return MultiSimilarityPerAnchor(np.log1p(pos_sum) / alpha, np.log1p(neg_sum) / beta)


def contrastive_zero_margin_lower_bound(graph, *, neg_margin: float) -> float:
    """Lower bound on the all-pairs contrastive loss with pos_margin = 0, valid for every embedding.

    Each set of node-disjoint induced paths a - b - c (a, c unlinked) forces
    ``d_ab + d_bc + (mu_- - d_ac)_+ >= mu_-`` by the triangle inequality, so
    ``L >= P mu_- / M`` with P the number of disjoint induced paths found greedily,
    M = n(n-1)/2. P = 0 iff the graph is a cluster graph. Since ``ell* = mu_-/(2M)``
    for ``mu_+ = 0``, any graph with P >= 1 has L >= 2 ell* > ell* for *every*
    embedding.

    Examples
    --------
    >>> contrastive_zero_margin_lower_bound([(0, 1), (1, 2)], neg_margin=3.0)
    1.0
    """
    g = to_graph(graph)
    n = g.n_nodes
    used = np.zeros(n, dtype=bool)
    count = 0
    for b in range(n):
        if used[b]:
            continue
        nb = [v for v in g.neighbors(b).tolist() if not used[v]]
        found = False
        for i, a in enumerate(nb):
            for c in nb[i + 1:]:
                if not g.has_edge(a, c):
                    used[[a, b, c]] = True
                    count += 1
                    found = True
                    break
            if found:
                break
    m_pairs = n * (n - 1) // 2
    return count * float(neg_margin) / m_pairs if m_pairs else 0.0


# ------------------------------------------------------------------------ the report
@dataclass(frozen=True)
class PermissibilityReport(ToDictMixin):
    """Whether a loss is permissible (P1) for a graph, and why.

    Attributes
    ----------
    loss : str
    params : dict
    threshold : Threshold
        ell* and the recovering radius (part (i), a lemma: always holds for these losses).
    recovery_below_level : bool
        Part (i) of P1.
    optimum_exists : bool or None
        Part (ii) for *this* level ell*: embeddings with loss below it exist (True,
        with a witness), provably cannot exist (False: every embedding's loss is
        at least ell*; with ``dim`` given, every embedding in that dimension),
        or undecided (None).
    permissible : bool or None
        True when part (i) holds and a witness is below ell*. None otherwise: when
        ell* is unreachable only the lemma's level is ruled out, not P1 with some
        other level, so no verdict of False is issued.
    reason : str
    witness_loss : float or None
        Loss of the best witness embedding tried, if any.
    reference : str
    verdict : {"permissible", "level_unreachable", "undecided"}
        ``"level_unreachable"``: no embedding has loss below this ell* (the lemma
        cannot certify P1 for this loss, graph and parameters).
    attainability : dict
        The numbers behind the verdict. Multi-similarity: ``max_positives`` and
        ``max_negatives`` (the largest ``|P_i| < e^{alpha (1 - t)}`` and
        ``|N_i| < e^{beta (1 + t)}``), ``per_anchor_attainable`` (every anchor within
        both), ``mean_loss_lower_bound`` (the mean over anchors of each anchor's
        smallest possible loss) and ``per_anchor_witness`` (the witness meeting
        every anchor's two levels, if any). Contrastive margin with ``mu_+ = 0``:
        ``loss_lower_bound``; with ``mu_+ > 0``: ``required_ratio`` (``mu_-/mu_+``:
        a witness whose smallest unlinked over largest linked distance reaches it
        has a rescaling with loss 0) and ``witnesses``, per witness tried its
        ``dim``, that ``ratio`` and its best rescaled ``loss``; or
        ``sphericity_lower_bound`` when ``dim`` is below it.
    witness : ndarray or None
        The points behind ``witness_loss`` (rescaled) when the verdict is
        ``"permissible"``; not in ``to_dict``.
    """

    loss: str
    params: dict
    threshold: Threshold
    recovery_below_level: bool
    optimum_exists: bool | None
    permissible: bool | None
    reason: str
    witness_loss: float | None
    reference: str
    verdict: str = "undecided"
    attainability: dict = field(default_factory=dict)
    witness: np.ndarray | None = field(default=None, repr=False)

    _to_dict_exclude = ("witness",)


def _gram_witness(g) -> np.ndarray:
    """Unit vectors with Gram matrix I + eps A (any graph; dimension n)."""
    adj = (g.to_dense() > 0).astype(np.float64)
    lam_min = float(np.linalg.eigvalsh(adj)[0]) if g.n_nodes else 0.0
    eps = 0.5 / max(1.0, -lam_min)
    vals, vecs = np.linalg.eigh(np.eye(g.n_nodes) + eps * adj)
    return vecs * np.sqrt(np.clip(vals, 0.0, None))


def _cluster_witness(g, spacing: float) -> np.ndarray:
    _, comp = g.connected_components()
    return (spacing * comp.astype(np.float64))[:, None]


def _simplex_witness(g) -> np.ndarray:
    _, comp = g.connected_components()
    k = int(comp.max()) + 1 if g.n_nodes else 1
    return np.eye(k)[comp]


_OPTIMIZED_MAX_DIM = 3  # optimized witnesses up to this dimension when ``dim`` is not given


def _contrastive_witnesses(g, given, cluster, dim, seed):
    """(name, points, dimension) in order of cost; the optimized ones are built only when
    reached, so a graph decided by a cheap witness never runs the optimizer."""
    yield from given
    n = g.n_nodes
    if cluster:
        yield "cliques at points 1 apart on a line", _cluster_witness(g, 1.0), 1
        return
    rec = unit_interval_recognition(g)
    if rec.is_unit_interval:
        line = max_margin_line(g, recognition=rec)
        yield (f"widest line realization (exact ratio {line.ratio_fraction[0]}/"
               f"{line.ratio_fraction[1]})", line.positions[:, None], 1)
    yield "Gram construction I + eps A (dimension n)", _gram_witness(g), n
    top = min(_OPTIMIZED_MAX_DIM if dim is None else int(dim), n - 1)
    for d in range(2, top + 1):
        real = max_margin_realization(g, d, seed=seed)
        yield f"optimized wide realization in R^{d}", real.embedding, d


def _best_scale(linked, unlinked, mp, mn) -> float | None:
    """The scale s minimizing sum (s d - mu_+)_+ over linked + sum (mu_- - s d)_+ over unlinked.

    The sum is convex and piecewise linear in s, with breakpoints mu_+/d and mu_-/d;
    its right slope starts at -sum of unlinked d and each breakpoint adds its d, so
    the minimum is at the first breakpoint where the slope turns non-negative.
    """
    lk, uk = linked[linked > 0], unlinked[unlinked > 0]
    points = np.concatenate([mp / lk, mn / uk])  # mu_+ = 0: linked slopes count from s = 0
    weights = np.concatenate([lk, uk])
    if not points.size:
        return None
    order = np.argsort(points, kind="stable")
    slope = -uk.sum() + np.cumsum(weights[order])
    k = int(np.searchsorted(slope, 0.0, side="left"))
    return float(points[order[min(k, order.size - 1)]])


def _best_scaled_loss(pts, g, mp, mn):
    """The smallest loss over rescalings of pts (exact objective), its rounding bound and
    the ratio min unlinked / max linked of pts on exact distances."""
    n = g.n_nodes
    dist = DistanceBlocks(pts).exact_block(slice(0, n))
    adj = g.to_dense() > 0
    off = ~np.eye(n, dtype=bool)
    linked, unlinked = dist[adj & off], dist[~adj & off]
    hi = float(linked.max()) if linked.size else -math.inf
    lo = float(unlinked.min()) if unlinked.size else math.inf
    ratio = lo / hi if hi > 0 else (math.inf if lo > 0 else 0.0)
    scales = {1.0}
    if hi > 0 and mp > 0:
        scales.add(mp / hi)
    if 0 < lo < math.inf:
        scales.add(mn / lo)
    opt = _best_scale(linked, unlinked, mp, mn)
    if opt is not None:
        scales.add(opt)
    best = None
    for sc in sorted(scales):
        c = pts * sc
        loss = contrastive_margin_objective(c, g, pos_margin=mp, neg_margin=mn)
        if best is None or loss < best[0]:
            best = (loss, c)
    # each term is off by a few ulps of (d + mu_-), their mean by about M ulps more
    m_pairs = n * (n - 1) // 2
    dmax = float(DistanceBlocks(best[1]).exact_block(slice(0, n)).max()) if n else 0.0
    slack = (m_pairs + 8) * 2.0**-52 * (dmax + mn)
    return best[0], slack, ratio, best[1]


def is_permissible(loss_spec, graph, *, embeddings=None, dim: int | None = None, seed=0
                   ) -> PermissibilityReport:
    """Decide, where possible, whether a structure-inducing loss is permissible for a graph.

    Parameters
    ----------
    loss_spec : ContrastiveMarginSpec, MultiSimilaritySpec or dict
        A dict needs ``"loss": "contrastive_margin" | "multi_similarity"`` plus the
        spec's fields.
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
    embeddings : array-like (n, d), optional
        A candidate witness: if its loss (or, for the contrastive loss, that of a
        rescaled copy) is below ell*, part (ii) holds.
    dim : int, optional
        Embedding dimension available. Built-in witnesses: clusters on a line
        (dimension 1) or on simplex vertices (dimension = number of cliques),
        the widest line realization of a unit interval graph (dimension 1), the
        Gram construction (dimension n) and, for the contrastive loss, optimized
        wide realizations (:func:`max_margin_realization`) in dimensions 2 up to
        ``dim`` (default 3); those that need more than ``dim`` are not used.
    seed : int or numpy.random.Generator, default 0
        For the optimized witnesses.

    Returns
    -------
    PermissibilityReport

    Notes
    -----
    Contrastive margin loss, pos_margin = 0: zero loss collapses linked points
    and the triangle inequality makes "linked" an equivalence relation, so only
    cluster graphs reach it; quantitatively every embedding of a non-cluster
    graph has ``L >= mu_-/M = 2 ell*`` (:func:`contrastive_zero_margin_lower_bound`),
    so Lemma 1's level is unreachable (``verdict="level_unreachable"``,
    ``optimum_exists=False``); that P1 fails with every other level is not
    shown, so ``permissible`` is None.

    Contrastive margin loss, pos_margin > 0: a point set x whose ratio
    ``rho = min_unlinked d / max_linked d`` is at least ``mu_-/mu_+`` has a
    rescaling with loss 0 (linked pairs within ``mu_+``, unlinked beyond ``mu_-``), so
    the witnesses are realizations with a large rho, tried from the cheapest:
    the widest line realization when G is a unit interval graph (its rho is the
    largest on a line, :func:`max_margin_line`), the Gram construction (rho =
    sqrt(2) / sqrt(2 - 2 eps), any graph) and optimized realizations in R^2,
    R^3, ...; the search stops at the first witness that verifies. Each witness
    is rescaled to the best scale (the loss is convex and piecewise linear in
    the scale, minimized at a breakpoint), its loss evaluated on exact
    distances, and it counts only if that loss is below ell* by more than a
    bound on the loss's rounding. An undecided verdict therefore means no
    witness was found, not that none exists. When ``dim`` is given (and no
    ``embeddings``) below a certified lower bound on the sphericity (not a unit
    interval graph for ``dim = 1``; an induced star K_{1,6}, K_{1,13},
    K_{1,25} for 2, 3, 4), the verdict is ``"level_unreachable"``: a loss below
    ell* would realize G in that dimension (Lemma 1).

    Multi-similarity: ell* is the mean level log 2 / (N max(alpha, beta)). Two
    necessary conditions are checked first. (a) Each anchor's two levels need
    ``|P_i| < e^{alpha (1 - t)}`` and ``|N_i| < e^{beta (1 + t)}`` (similarities are at
    most 1 and at least -1); at the paper's defaults alpha = 2, beta = 50,
    t = 0.5 that is at most 2 positives per anchor and fewer than e^75 negatives.
    (b) The mean of the anchors' smallest possible losses must be below ell*; at
    those defaults one positive already costs (1/2) log(1 + e^{-1}) = 0.157,
    above N ell* = log 2 / 50, so ell* is unreachable for every graph with an
    edge. A witness then needs mean loss below ell*; a witness meeting only
    the per-anchor levels is reported in ``attainability`` (it realizes G, but
    is not a loss level).

    Examples
    --------
    >>> from sip_theory.graphs import cliques_from_labels
    >>> spec = ContrastiveMarginSpec(0.0, 10.0)
    >>> is_permissible(spec, cliques_from_labels([0, 0, 1, 1])).permissible
    True
    >>> rep = is_permissible(spec, [(0, 1), (1, 2)])
    >>> rep.verdict, rep.optimum_exists, rep.permissible
    ('level_unreachable', False, None)
    >>> rep = is_permissible(MultiSimilaritySpec(2.0, 50.0, 0.5), cliques_from_labels([0, 0, 1, 1]))
    >>> rep.verdict, round(rep.attainability["mean_loss_lower_bound"], 4), rep.attainability[
    ...     "max_positives"]
    ('level_unreachable', 0.1566, 2)
    >>> rep = is_permissible(ContrastiveMarginSpec(1.0, 2.0), [(i, i + 1) for i in range(5)])
    >>> rep.verdict, rep.witness_loss, rep.witness.ravel().tolist()  # P_6 on a line, exactly
    ('permissible', 0.0, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    """
    spec = _spec_from(loss_spec)
    g = to_graph(graph, None if embeddings is None else np.asarray(embeddings).shape[0],
                 sized_by="embeddings")
    n = g.n_nodes
    if n < 2:
        raise ValueError("graph must have at least 2 nodes")
    cluster = g.is_cluster_graph()
    n_comp = g.connected_components()[0]
    witnesses = []  # (name, points, needed dim)
    if embeddings is not None:
        x = check_embeddings(embeddings)
        witnesses.append(("the given embeddings", x, x.shape[1]))

    if isinstance(spec, ContrastiveMarginSpec):
        mp, mn = float(spec.pos_margin), float(spec.neg_margin)
        m_pairs = n * (n - 1) // 2
        th = contrastive_margin_threshold(mp, mn, m_pairs)
        params = {"pos_margin": mp, "neg_margin": mn, "n_pairs": m_pairs}
        if mp == 0.0 and not cluster:
            bound = contrastive_zero_margin_lower_bound(g, neg_margin=mn)
            return PermissibilityReport(
                spec.name, params, th, True, False, None,
                "pos_margin = 0 and the graph is not a cluster graph: every embedding has loss "
                f">= {bound:.6g} >= 2 ell* = {2 * th.loss_level:.6g} (induced paths a-b-c + "
                "triangle inequality), so Lemma 1's level ell* is unreachable; whether P1 holds "
                "with some other level is not decided",
                None, _HADSELL, "level_unreachable", {"loss_lower_bound": bound})
        required = mn / mp if mp > 0 else math.inf
        if dim is not None and embeddings is None:
            low, why = _lower_bound(g)
            if int(dim) < low:
                return PermissibilityReport(
                    spec.name, params, th, True, False, None,
                    f"no point set in R^{int(dim)} realizes the graph (it {why}), and a loss "
                    "below ell* would realize it (Lemma 1), so ell* is unreachable in this "
                    "dimension (P1 with some other level is not decided)",
                    None, _HADSELL, "level_unreachable",
                    {"required_ratio": required, "sphericity_lower_bound": low})
        tried: dict = {}
        best = None  # (name, loss, rounding bound, rescaled points)
        for name, pts, need in _contrastive_witnesses(g, witnesses, cluster, dim, seed):
            if dim is not None and need > dim and name != "the given embeddings":
                continue
            loss, slack, ratio, scaled = _best_scaled_loss(pts, g, mp, mn)
            tried[name] = {"dim": int(need), "ratio": ratio, "loss": loss}
            if best is None or loss < best[1]:
                best = (name, loss, slack, scaled)
            if loss + slack < th.loss_level:
                break
        att = {"required_ratio": required, "witnesses": tried}
        if best is not None and best[1] + best[2] < th.loss_level:
            return PermissibilityReport(
                spec.name, params, th, True, True, True,
                f"witness ({best[0]}, best rescaling) has loss {best[1]:.6g} < ell* (by more "
                f"than its rounding bound {best[2]:.1e})",
                best[1], _HADSELL, "permissible", att, best[3])
        return PermissibilityReport(
            spec.name, params, th, True, None, None,
            "no witness below ell* found (tried: " + ", ".join(tried) + "); zero loss needs a "
            f"realization with min unlinked / max linked distance >= mu_-/mu_+ = {required:.6g}; "
            "existence undecided", None if best is None else best[1], _HADSELL, "undecided", att)

    a, b, t = float(spec.alpha), float(spec.beta), float(spec.threshold)
    th = multi_similarity_threshold(a, b, t, n)
    params = {"alpha": a, "beta": b, "threshold": t, "n_anchors": n}
    att = _ms_attainability(g, a, b, t)
    if not att["per_anchor_attainable"]:
        i = att["first_failing_anchor"]
        return PermissibilityReport(
            spec.name, params, th, True, False, None,
            f"anchor {i} has {att['n_positives'][i]} positives and {att['n_negatives'][i]} "
            f"negatives, but its two levels need at most {att['max_positives']} positives "
            f"(|P_i| < e^(alpha (1 - t))) and {att['max_negatives']} negatives "
            "(|N_i| < e^(beta (1 + t))); so no embedding reaches ell* (P1 with some other "
            "level is not decided)",
            None, _WANG, "level_unreachable", _public(att))
    if cluster:
        witnesses.append(("cliques at orthonormal vectors", _simplex_witness(g), n_comp))
    witnesses.append(("Gram construction I + eps A (dimension n)", _gram_witness(g), n))
    best = None  # (mean loss, witness name)
    for name, pts, need in witnesses:
        if dim is not None and need > dim and name != "the given embeddings":
            continue
        terms = multi_similarity_objective(pts, g, alpha=a, beta=b, threshold=t)
        ok = bool(np.all(terms.positive < th.per_anchor["positive"])
                  and np.all(terms.negative < th.per_anchor["negative"]))
        if ok and att["per_anchor_witness"] is None:
            att["per_anchor_witness"] = name
        if best is None or terms.mean < best[0]:
            best = (terms.mean, name, pts)
    region = (f"; the witness ({att['per_anchor_witness']}) meets every anchor's two levels, so "
              "embeddings realizing G through the per-anchor lemma exist"
              if att["per_anchor_witness"] else "")
    if att["mean_loss_lower_bound"] >= th.loss_level:
        return PermissibilityReport(
            spec.name, params, th, True, False, None,
            f"every embedding has mean loss >= {att['mean_loss_lower_bound']:.6g} (each anchor "
            f"with its positives at similarity 1 and negatives at -1) >= ell* = "
            f"{th.loss_level:.6g}, so ell* is unreachable although each anchor's two levels "
            "are attainable on their own (P1 with some other level is not decided)" + region,
            None if best is None else best[0], _WANG, "level_unreachable", _public(att))
    if best is not None and best[0] < th.loss_level:
        return PermissibilityReport(
            spec.name, params, th, True, True, True,
            f"witness ({best[1]}) has mean loss {best[0]:.6g} < ell*", best[0], _WANG,
            "permissible", _public(att), best[2])
    return PermissibilityReport(
        spec.name, params, th, True, None, None,
        "no witness has mean loss below ell*; existence undecided" + region,
        None if best is None else best[0], _WANG, "undecided", _public(att))


def _max_count(log_limit: float) -> float:
    """The largest integer p with p < e^{log_limit} (inf when that is astronomically large)."""
    if log_limit > 700.0:
        return math.inf
    e = math.exp(log_limit)
    if e > 2.0**50:  # integers this large are not resolved by a float log: floor(e)
        return int(e)
    p = int(math.floor(e)) + 1
    while p > 0 and math.log(p) >= log_limit:
        p -= 1
    return p


def _ms_attainability(g, alpha: float, beta: float, t: float) -> dict:
    """Necessary conditions for the multi-similarity levels, from the degree sequence.

    Cosine similarities lie in [-1, 1], so anchor i's positive sum is at least
    |P_i| e^{-alpha (1 - t)} and its negative sum at least |N_i| e^{-beta (1 + t)}
    (:func:`multi_similarity_derivation`, results ``*_summand_floor``).
    """
    f = _ms_numeric()
    args = (alpha, beta, t, g.n_nodes)
    pos = g.degrees().astype(np.int64)
    neg = (g.n_nodes - 1) - pos
    log_p, log_q = float(f["log_positive_count_limit"](*args)), float(
        f["log_negative_count_limit"](*args))
    with np.errstate(divide="ignore"):
        ok = (np.log(pos.astype(np.float64)) < log_p) & (np.log(neg.astype(np.float64)) < log_q)
    floor = (np.log1p(pos * float(f["positive_summand_floor"](*args))) / alpha
             + np.log1p(neg * float(f["negative_summand_floor"](*args))) / beta)
    bad = np.flatnonzero(~ok)
    return {"max_positives": _max_count(log_p), "max_negatives": _max_count(log_q),
            "per_anchor_attainable": bool(ok.all()),
            "first_failing_anchor": int(bad[0]) if bad.size else None,
            "n_positives": pos, "n_negatives": neg,
            "mean_loss_lower_bound": float(floor.mean()), "per_anchor_witness": None}


def _public(att: dict) -> dict:
    return {k: v for k, v in att.items() if k not in ("n_positives", "n_negatives")}
