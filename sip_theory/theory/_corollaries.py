"""Corollaries 1 and 2 of Theorem 1: shallow (clique) graphs and deep (manifold) graphs.

Corollary 1: for the single-task classification graph (one clique per
pre-training class) LC is at most the fine-tuning purity of the pre-training
classes, with equality when every clique's majority label leads by at least two.
Corollary 2: for r-neighbour graphs of points on a region with a piecewise
constant labelling, 1 - LC is carried by a tube of width r around the label
boundaries, so LC -> 1 as r -> 0; :func:`boundary_tube_estimate` predicts
the rate and :func:`corollary2_table` measures it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._serialization import ToDictMixin
from .._validation import as_generator, check_labels, check_one_of, check_positive_int
from ._common import readonly
from ._local_consistency import ISOLATED_POLICIES, TIE_POLICIES, local_consistency

__all__ = [
    "CliquePurity",
    "TubeEstimate",
    "boundary_tube_estimate",
    "clique_purity",
    "corollary2_table",
    "voronoi_boundary_length",
]


# ------------------------------------------------------------------------- Corollary 1
@dataclass(frozen=True, eq=False)
class CliquePurity(ToDictMixin):
    """Corollary 1's value with its per-clique table.

    Attributes
    ----------
    value : float
    self_exclusion : bool
    ties, isolated : str
    pt_classes : ndarray
        Pre-training labels (one clique each), sorted.
    sizes : ndarray of int
        Clique sizes.
    majority : ndarray
        A majority fine-tuning label per clique (the smallest if tied).
    purity : ndarray of float
        Share of the majority fine-tuning label in each clique.
    purity_bound : float
        The paper's right-hand side sum_l P(l) P(y_FT = MC(l) | l) = sum_l max_c n_lc / n
        over all n nodes: Corollary 1 says LC <= purity_bound.
    leads : ndarray of int
        Per clique, the count of its most frequent fine-tuning label minus that of
        the second (the clique size when only one label occurs).
    """

    value: float
    self_exclusion: bool
    ties: str
    isolated: str
    pt_classes: np.ndarray = field(repr=False)
    sizes: np.ndarray = field(repr=False)
    majority: np.ndarray = field(repr=False)
    purity: np.ndarray = field(repr=False)
    purity_bound: float = float("nan")
    leads: np.ndarray = field(default=None, repr=False)

    @property
    def equality_guaranteed(self) -> bool:
        """Every clique's majority leads by at least two, so LC equals ``purity_bound``."""
        return bool(self.leads is not None and self.leads.size and self.leads.min() >= 2)

    _to_dict_extra = ("equality_guaranteed",)


def clique_purity(
    pt_labels,
    ft_labels,
    *,
    self_exclusion: bool = True,
    ties: str = "strict",
    isolated: str = "exclude",
) -> CliquePurity:
    """Corollary 1: LC of the one-clique-per-class graph and its purity bound, from the labellings.

    Parameters
    ----------
    pt_labels : array-like (n,)
        Pre-training labels; G_PT links i and j iff pt_labels[i] == pt_labels[j].
    ft_labels : array-like (n,)
        Fine-tuning labels.
    self_exclusion : bool, default True
        True: a node votes among the *other* members of its clique, which is
        exactly LC of the clique graph. False: it also votes for itself (the
        paper's formula sum_l P(l) P(y_FT = MC(l) | l); with ``ties="random"``
        this is the purity sum_l max_c n_lc / n).
    ties : {"strict", "random"}, default "strict"
    isolated : {"exclude", "wrong"}, default "exclude"
        Singleton cliques have no other member to vote (self_exclusion only).

    Returns
    -------
    CliquePurity
        ``value`` is the chosen form; ``purity_bound`` the paper's right-hand side.

    Notes
    -----
    Corollary 1 (McDermott et al. 2023), stated exactly: LC <= purity_bound =
    sum_l max_c n_lc / n, with equality when every clique's majority leads by at
    least two (the paper writes "="). With n_lc the number of clique-l nodes
    with fine-tuning label c, a node of label c sees the votes n_l - e_c
    (self-exclusion): it is right iff n_lc - 1 > n_lc' for every c' != c
    (strict). Only a clique's unique majority label can get credit, at most 1
    per node, so a clique contributes at most max_c n_lc; singleton cliques
    (excluded or counted wrong) only lower the ratio. A lead of at least two
    gives every majority node full credit (equality); a clique of size >= 2
    whose majority leads by at most one gives its majority nodes a tie or a
    loss, and the inequality is strict. Without self-exclusion the condition
    is n_lc > n_lc', and with ``ties="random"`` that form equals purity_bound.

    Examples
    --------
    >>> pt = [0, 0, 0, 0, 1, 1, 1]
    >>> ft = [0, 0, 0, 1, 1, 1, 0]
    >>> res = clique_purity(pt, ft)  # leads 2 and 1: LC 3/7 < purity 5/7
    >>> round(res.value, 4), round(res.purity_bound, 4), res.leads.tolist()
    (0.4286, 0.7143, [2, 1])
    >>> clique_purity([0, 0, 0], [0, 0, 1]).value  # margin 1: the majority sees a tie
    0.0
    >>> eq = clique_purity([0] * 5, [0, 0, 0, 0, 1])  # lead 3: equality
    >>> eq.value, eq.purity_bound, eq.equality_guaranteed
    (0.8, 0.8, True)
    """
    check_one_of(ties, TIE_POLICIES, name="ties")
    check_one_of(isolated, ISOLATED_POLICIES, name="isolated")
    pt = check_labels(pt_labels, name="pt_labels")
    ft = check_labels(ft_labels, pt.shape[0], name="ft_labels")
    pt_classes, pcode = np.unique(pt, return_inverse=True)
    ft_classes, fcode = np.unique(ft, return_inverse=True)
    pcode, fcode = pcode.reshape(-1), fcode.reshape(-1)
    table = np.zeros((pt_classes.shape[0], ft_classes.shape[0]), dtype=np.int64)
    np.add.at(table, (pcode, fcode), 1)
    sizes = table.sum(axis=1)
    credit_sum, n_eval = 0.0, 0
    for counts in table:
        for c in np.flatnonzero(counts):
            votes = counts.copy()
            if self_exclusion:
                votes[c] -= 1
            if votes.sum() == 0:  # singleton clique, nothing to vote
                if isolated == "wrong":
                    n_eval += counts[c]
                continue
            top = votes.max()
            k = int((votes == top).sum())
            if votes[c] == top:
                credit = 1.0 if k == 1 else (1.0 / k if ties == "random" else 0.0)
            else:
                credit = 0.0
            credit_sum += credit * counts[c]
            n_eval += counts[c]
    value = credit_sum / n_eval if n_eval else float("nan")
    majority = ft_classes[np.argmax(table, axis=1)]
    purity = table.max(axis=1) / sizes
    top2 = -np.sort(-table, axis=1)[:, :2]
    leads = top2[:, 0] - (top2[:, 1] if table.shape[1] > 1 else 0)
    bound = float(table.max(axis=1).sum() / sizes.sum()) if sizes.size else float("nan")
    return CliquePurity(float(value), bool(self_exclusion), ties, isolated,
                        readonly(pt_classes), readonly(sizes), readonly(majority),
                        readonly(purity), bound, readonly(leads))


# ------------------------------------------------------------------------- Corollary 2
@dataclass(frozen=True)
class TubeEstimate(ToDictMixin):
    """The boundary-tube prediction of 1 - LC for an r-neighbour graph in the plane.

    Attributes
    ----------
    value : float
        Predicted 1 - LC = constant * r * boundary_length / area.
    local_consistency : float
        1 - value.
    constant : float
        c = 2 * integral_0^1 P(wrong | node at distance s r from the boundary) ds.
    tube_fraction : float
        2 r L / A, the area share of the width-r tube on both sides of the boundary.
    radius, boundary_length, area, mean_degree : float
    ties : str
    reference : str
    """

    value: float
    local_consistency: float
    constant: float
    tube_fraction: float
    radius: float
    boundary_length: float
    area: float
    mean_degree: float
    ties: str
    reference: str


def _other_side_share(s: np.ndarray) -> np.ndarray:
    """Share of a disc of radius 1 beyond a line at distance s in [0, 1] from its centre."""
    s = np.clip(s, 0.0, 1.0)
    return (np.arccos(s) - s * np.sqrt(1.0 - s * s)) / np.pi


def _p_wrong(s: np.ndarray, k: float, ties: str) -> np.ndarray:
    """P(wrong | distance s*r from a straight boundary, Poisson(k) neighbours, not isolated)."""
    from scipy.stats import skellam

    q = _other_side_share(s)
    mu_own, mu_other = k * (1.0 - q), k * q
    p_none = math.exp(-k)
    # own - other ~ Skellam(mu_own, mu_other) (independent Poisson thinning)
    p_le0 = skellam.cdf(0, mu_own, np.maximum(mu_other, 1e-300))
    p_eq0 = skellam.pmf(0, mu_own, np.maximum(mu_other, 1e-300))
    p_eq0_voting = p_eq0 - p_none  # a tie with at least one vote on each side
    if ties == "strict":
        wrong = p_le0 - p_none
    else:
        wrong = (p_le0 - p_eq0) + 0.5 * p_eq0_voting
    return np.clip(wrong / (1.0 - p_none), 0.0, 1.0)


def boundary_tube_estimate(
    radius: float,
    boundary_length: float,
    area: float,
    *,
    mean_degree: float,
    ties: str = "strict",
    n_quad: int = 64,
) -> TubeEstimate:
    """Corollary 2's rate: 1 - LC ~ c * r * (boundary length) / (area) for planar regions.

    Parameters
    ----------
    radius : float
        Neighbour radius r of the graph.
    boundary_length : float
        Total length L of the label boundaries inside the region (each counted once).
    area : float
        Area A of the region.
    mean_degree : float
        Expected number of neighbours of an interior node, N pi r^2 / A for N
        uniform points.
    ties : {"strict", "random"}, default "strict"
    n_quad : int, default 64
        Gauss-Legendre nodes for the integral over the tube's width.

    Returns
    -------
    TubeEstimate

    Notes
    -----
    Model: uniform points, a straight boundary locally, the node's neighbours a
    Poisson(k) sample of its disc. A node at distance s r from the boundary has
    a share q(s) = (arccos s - s sqrt(1 - s^2))/pi of its disc on the other side,
    so its own-side and other-side vote counts are independent Poisson(k(1-q))
    and Poisson(kq) and it is wrong when own <= other (Skellam tail; isolated
    nodes excluded). Integrating over both sides of the boundary gives
    1 - LC ~ (2 r L / A) * int_0^1 P_wrong(s) ds. Junctions of three or more
    cells add O(r^2) and the region's outer border (lower degree) is ignored.
    As k grows P_wrong concentrates near s = 0, so c shrinks like 1/sqrt(k): LC
    -> 1 as r -> 0 with k bounded below (McDermott et al. 2023, Corollary 2).

    Examples
    --------
    >>> est = boundary_tube_estimate(0.05, 2.0, 1.0, mean_degree=20)
    >>> 0 < est.value < est.tube_fraction
    True
    """
    check_one_of(ties, TIE_POLICIES, name="ties")
    n_quad = check_positive_int(n_quad, name="n_quad")
    for value, name in ((radius, "radius"), (boundary_length, "boundary_length"), (area, "area"),
                        (mean_degree, "mean_degree")):
        if not (isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value)
                and value >= 0):
            raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")
    if area <= 0 or mean_degree <= 0:
        raise ValueError("area and mean_degree must be positive")
    nodes, weights = np.polynomial.legendre.leggauss(n_quad)
    s = 0.5 * (nodes + 1.0)
    constant = float(2.0 * 0.5 * np.dot(weights, _p_wrong(s, float(mean_degree), ties)))
    tube = 2.0 * radius * boundary_length / area
    value = min(1.0, constant * radius * boundary_length / area)
    return TubeEstimate(value, 1.0 - value, constant, tube, float(radius), float(boundary_length),
                        float(area), float(mean_degree), ties,
                        "McDermott et al. 2023, Corollary 2 (rate: this library)")


def _clip_halfplane(poly: np.ndarray, normal: np.ndarray, offset: float) -> np.ndarray:
    """Keep the part of a convex polygon with normal . x <= offset (Sutherland-Hodgman)."""
    out = []
    n = poly.shape[0]
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        fa, fb = normal @ a - offset, normal @ b - offset
        if fa <= 0:
            out.append(a)
        if fa * fb < 0:
            t = fa / (fa - fb)
            out.append(a + t * (b - a))
    return np.array(out).reshape(-1, 2)


def voronoi_boundary_length(sites, *, box=((0.0, 1.0), (0.0, 1.0))) -> float:
    """Total length of the boundaries between the Voronoi cells of ``sites`` inside a box.

    Parameters
    ----------
    sites : array-like (k, 2)
        Distinct planar sites.
    box : ((xmin, xmax), (ymin, ymax))

    Returns
    -------
    float
        Each interior boundary segment counted once.

    Examples
    --------
    >>> voronoi_boundary_length([[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]])
    2.0
    """
    p = np.asarray(sites, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] < 1:
        raise ValueError(f"sites must have shape (k, 2), got {p.shape}")
    (x0, x1), (y0, y1) = box
    square = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
    total = 0.0
    for i in range(p.shape[0]):
        cell = square
        for j in range(p.shape[0]):
            if i == j:
                continue
            normal = p[j] - p[i]
            if not normal.any():
                raise ValueError("sites must be distinct")
            cell = _clip_halfplane(cell, normal, float(normal @ (p[i] + p[j]) / 2))
            if cell.shape[0] == 0:
                break
        if cell.shape[0]:
            total += float(np.linalg.norm(np.roll(cell, -1, axis=0) - cell, axis=1).sum())
    perimeter = 2.0 * ((x1 - x0) + (y1 - y0))
    return round((total - perimeter) / 2.0, 12)


def corollary2_table(n_points, radii, *, sites, seed, ties: str = "strict") -> list[dict]:
    """Measure LC of r-neighbour graphs of uniform points in the unit square with Voronoi labels.

    For each (N, r) pair: N uniform points in [0, 1]^2, labels = index of the
    nearest site, the graph links points closer than r; LC is measured and
    set beside :func:`boundary_tube_estimate` with k = (N - 1) pi r^2.

    Parameters
    ----------
    n_points : sequence of int
    radii : sequence of float
        Same length as ``n_points``.
    sites : array-like (k, 2)
    seed : int or numpy.random.Generator
    ties : {"strict", "random"}

    Returns
    -------
    list of dict
        Keys ``n_points, radius, mean_degree, lc, one_minus_lc, tube_estimate,
        tube_fraction, n_isolated``.

    Notes
    -----
    Neighbours are found with a k-d tree (scipy's ``cKDTree.query_pairs``,
    which uses d <= r; for points drawn from a density the two conventions
    differ with probability 0).

    Examples
    --------
    >>> rows = corollary2_table([400], [0.12], sites=[[0.3, 0.3], [0.7, 0.6]], seed=0)
    >>> 0.5 < rows[0]["lc"] <= 1.0
    True
    """
    from scipy.spatial import cKDTree

    from ..graphs import SampleGraph

    check_one_of(ties, TIE_POLICIES, name="ties")
    ns, rs = list(n_points), list(radii)
    if len(ns) != len(rs):
        raise ValueError(f"n_points and radii must have the same length, got {len(ns)}, {len(rs)}")
    rng = as_generator(seed)
    p = np.asarray(sites, dtype=np.float64)
    length = voronoi_boundary_length(p)
    rows = []
    for n, r in zip(ns, rs, strict=True):
        n = check_positive_int(n, name="n_points")
        x = rng.random((n, 2))
        labels = np.argmin(((x[:, None, :] - p[None, :, :]) ** 2).sum(-1), axis=1)
        pairs = cKDTree(x).query_pairs(r, output_type="ndarray")
        g = SampleGraph.from_edges(pairs.reshape(-1, 2), n_nodes=n)
        res = local_consistency(g, labels, ties=ties)
        k = (n - 1) * math.pi * r * r
        est = boundary_tube_estimate(r, length, 1.0, mean_degree=k, ties=ties)
        rows.append({
            "n_points": n,
            "radius": float(r),
            "mean_degree": float(2 * g.n_edges / n),
            "lc": res.value,
            "one_minus_lc": 1.0 - res.value,
            "tube_estimate": est.value,
            "tube_fraction": est.tube_fraction,
            "n_isolated": res.n_isolated,
        })
    return rows
