"""Concentration of empirical local consistency: McDiarmid half-widths for LC around its mean.

Write LC = sum_{j in V_e} s_j c_j / S (S = sum_{j in V_e} s_j) as in
:func:`~sip_theory.theory.local_consistency`: c_j in [0, 1] is node j's credit,
a function of its own label and of the labels of its voters (its neighbours
that vote); V_e is the set of evaluated nodes and s the sample weights.

Setting A: fixed graph, independent labels
------------------------------------------
G, the policies and s are fixed; the labels y_v of the nodes that carry one
(sample nodes; auxiliary nodes too under ``auxiliary="vote"``) are independent,
each with any law on any label set (a point mass is allowed). Then V_e and S
depend on G only, under both isolated policies. For j in V_e let d_j be its
number of voting arcs (positive weight under ``vote="weight"``) and rho_j the
largest change of c_j when one vote changes: rho_j = 1/2 if ``ties="random"``,
d_j = 2 and the two votes weigh the same, else rho_j = 1. With

    c_i = ( s_i 1{i in V_e, d_i >= 1} + sum_{j in V_e, i votes at j} s_j rho_j ) / S,

    P(``|LC - E LC|`` >= t) <= 2 exp(-2 t^2 / sum_i c_i^2)   (E over the labels, G fixed),

so LC lies within sqrt(sum_i c_i^2 log(2/delta) / 2) of E LC with probability at least 1 - delta.
With Delta the most voting arcs into or out of one node and s_max = max_{V_e} s,
sum_i c_i^2 <= (Delta + 1)^2 s_max / S, which is (Delta + 1)^2 / n_e for uniform weights.

Proof. Changing y_i alone changes c_j only for j = i (own label) and for the
nodes i votes at; an isolated node's credit is 0 whatever the labels. Each
credit lies in [0, 1], so it moves by at most 1; a node with two equal votes
under random ties has credit 1 (votes a, a), 1/2 (a, b) or 0 (b, b or b, c)
for own label a, and one vote changes it by at most 1/2. Summing over the
affected nodes with their weights gives ``|LC(y) - LC(y')|`` <= c_i, and McDiarmid's
inequality gives the tail. For the crude form, c_i <= (1 + Delta) s_max / S and
sum_i c_i <= sum_{j in V_e} s_j (1 + d_j) / S <= 1 + Delta, and
sum c_i^2 <= max_i c_i sum_i c_i. The constants add the individual ranges: on
stars and paths they are attained (tests enumerate), with triangles they can be loose.

Setting B: a generative graph with node variables
-------------------------------------------------
Node i draws W_i, independent over i (not necessarily identically), carrying
its label y_i; the edge {i, j} is phi_ij(W_i, W_j) for fixed symmetric
functions. A random geometric graph has W_i = (x_i, y_i); a stochastic block
model with independent edge coins u_ij fits by vertex exposure, W_i = (block_i,
y_i, (u_ij)_{j<i}): then an edge is a function of its two end variables and the
W_i are independent. Weights are uniform (no sample weights), no auxiliary nodes.
Let Y be the event "every degree <= Delta and at least m nodes are evaluated"
(m = n under ``isolated="wrong"``), p >= P(not Y), and give LC the value 0
when no node is evaluated. With c = min(1, (2 Delta + 1) / m),

    P(``|LC - E LC|`` >= t + p) <= p + 2 exp(-2 t^2 / (n c^2)),

E over the whole model (graph and labels). Proof. Take z, z' in Y differing on
a set D of nodes. Edges between two nodes outside D are equal, so the nodes
whose credit or evaluated status can differ lie in K = D with its neighbours in
z and in z', ``|K| <= |D| (2 Delta + 1)``. Split both averages into the common part
over V_e minus K (mean r) and the part on K (b of B >= m evaluated nodes in z,
mean a in [0, 1]; b', B', a' in z'): LC(z) - LC(z') = (b/B)(a - r) - (b'/B')(a' - r)
has modulus at most max(b/B, b'/B') <= ``|K|/m``. So ``|LC(z) - LC(z')|`` <= c #{i : z_i != z'_i}
on Y. The extension g(z) = min(1, inf_{y in Y} LC(y) + c #{i : z_i != y_i})
agrees with LC on Y and has bounded differences c everywhere; McDiarmid bounds
g, and ``|E LC - E g| <= p`` because both lie in [0, 1] and differ only off Y.
(For W_i in a standard Borel space and Borel phi_ij, g is universally measurable.)

Obstacle: the argument needs one variable per node. With the edge coins as separate
coordinates each has constant 2/m and there are n(n-1)/2 of them: sum c^2 stays of order one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._serialization import ToDictMixin
from .._validation import check_one_of, check_positive_int, check_probability
from ._common import prepare_labels, readonly, to_graph
from ._local_consistency import ISOLATED_POLICIES, TIE_POLICIES, VOTE_POLICIES, _sample_weights

__all__ = ["LCConcentration", "lc_concentration", "lc_concentration_generative"]


def _check_delta(delta, exceed_prob: float = 0.0) -> float:
    delta = check_probability(delta, name="delta")
    if not exceed_prob < delta < 1.0:
        raise ValueError(f"delta must be in ({exceed_prob}, 1) (above exceed_prob), got {delta}")
    return delta


@dataclass(frozen=True)
class LCConcentration(ToDictMixin):
    """A McDiarmid confidence half-width for empirical local consistency.

    Attributes
    ----------
    setting : {"fixed_graph", "generative"}
        Setting A (:func:`lc_concentration`) or B (:func:`lc_concentration_generative`).
    delta : float
        ``LC`` lies in ``E LC +- half_width`` with probability at least 1 - delta.
    half_width, crude_half_width : float
        From ``sum_sq`` and from ``crude_sum_sq`` (equal in the generative setting).
    sum_sq, crude_sum_sq : float
        Sum of the squared bounded-difference constants, and its (Delta + 1)^2 s_max / S
        upper bound (generative: n c^2 for both).
    exceed_prob : float
        p, a bound on the probability that the degree cap fails (0 for a fixed graph).
    max_degree : int
        Delta: most voting arcs at one node (fixed graph) or the assumed cap (generative).
    n_evaluated : int
        Nodes LC averages over (fixed graph) or the assumed minimum m (generative).
    constants : ndarray of float
        c_i per node (0 for nodes whose label is not used).
    """

    setting: str
    delta: float
    half_width: float
    crude_half_width: float
    sum_sq: float
    crude_sum_sq: float
    exceed_prob: float
    max_degree: int
    n_evaluated: int
    constants: np.ndarray = field(repr=False)

    _to_dict_exclude = ("constants",)

    def tail(self, t: float) -> float:
        """The bound on P(``|LC - E LC|`` >= t): min(1, p + 2 exp(-2 (t - p)^2 / sum_sq)).

        Examples
        --------
        >>> r = lc_concentration([(0, 1)])
        >>> r.sum_sq, round(r.tail(0.9), 4)
        (2.0, 0.8897)
        """
        t = float(t)
        if math.isnan(t):
            raise ValueError("t must be a number, got nan")
        s = t - self.exceed_prob
        if s <= 0:
            return 1.0
        if self.sum_sq == 0:  # LC is constant (no label moves any credit)
            return self.exceed_prob
        return min(1.0, self.exceed_prob + 2.0 * math.exp(-2.0 * s * s / self.sum_sq))

    def half_width_at(self, delta: float) -> float:
        """The half-width at another confidence 1 - delta.

        Examples
        --------
        >>> r = lc_concentration([(0, 1), (1, 2), (2, 3)])
        >>> r.half_width_at(0.5) < r.half_width
        True
        """
        delta = _check_delta(delta, self.exceed_prob)
        return _half_width(self.sum_sq, delta, self.exceed_prob)


def _half_width(sum_sq: float, delta: float, p: float) -> float:
    return math.sqrt(sum_sq * math.log(2.0 / (delta - p)) / 2.0) + p


def lc_concentration(graph, *, delta: float = 0.05, n_nodes: int | None = None,
                     ties: str = "strict", isolated: str = "exclude", weights=None,
                     vote: str = "count", auxiliary: str = "exclude") -> LCConcentration:
    """McDiarmid half-width of LC on a fixed graph with independent random labels (setting A).

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
    delta : float in (0, 1), default 0.05
        One minus the confidence.
    n_nodes : int, optional
        Node count of an edge array (default: largest index + 1).
    ties, isolated, weights, vote, auxiliary
        As in :func:`~sip_theory.theory.local_consistency`; ``weights`` are the
        sample weights, which the constants carry exactly.

    Returns
    -------
    LCConcentration
        ``constants[i]`` = c_i below; ``half_width`` = sqrt(sum c_i^2 log(2/delta) / 2).

    Raises
    ------
    ValueError
        Bad policy names, delta outside (0, 1), weights of the wrong shape, or no
        evaluated node (LC undefined).

    Notes
    -----
    The labels are independent (any laws, point masses allowed); G, the policies and the
    weights are fixed. With d_j the votes node j receives, rho_j = 1/2 if ties are random and
    j has two votes of equal weight (else 1), and S the evaluated weight,
    c_i = (s_i 1{i evaluated, d_i >= 1} + sum_{evaluated j, i votes at j} s_j rho_j) / S
    bounds the change of LC when y_i alone changes, and McDiarmid's inequality gives
    P(``|LC - E LC|`` >= t) <= 2 exp(-2 t^2 / sum c_i^2). Proof: the book's theory chapter
    (theorem "concentration of LC") and this module's docstring.

    Examples
    --------
    The star K_{1,3}: the centre's label moves every credit, a leaf's two of them.

    >>> r = lc_concentration([(0, 1), (0, 2), (0, 3)])
    >>> r.constants.tolist(), r.sum_sq, r.max_degree
    ([1.0, 0.5, 0.5, 0.5], 1.75, 3)
    >>> round(r.half_width, 4), round(r.crude_half_width, 4)
    (1.7966, 2.7162)
    """
    check_one_of(ties, TIE_POLICIES, name="ties")
    check_one_of(isolated, ISOLATED_POLICIES, name="isolated")
    check_one_of(vote, VOTE_POLICIES, name="vote")
    delta = _check_delta(delta)
    if n_nodes is not None:
        n_nodes = check_positive_int(n_nodes, name="n_nodes", minimum=0)
    g = to_graph(graph, n_nodes, sized_by="n_nodes")
    if n_nodes is not None and g.n_nodes != n_nodes:
        raise ValueError(f"n_nodes is {n_nodes} but the graph has {g.n_nodes} nodes")
    # labels do not enter the constants; a constant labelling gives the graph's structure
    lg = prepare_labels(g, np.zeros(g.n_nodes, dtype=np.int64), auxiliary=auxiliary)
    n = g.n_nodes
    s = _sample_weights(weights, lg)
    target, source, w = lg.arcs(voters=auxiliary, weighted=(vote == "weight"))
    keep = w > 0  # a zero-weight vote changes no sum, as in local_consistency
    target, source, w = target[keep], source[keep], w[keep]
    d_in = np.bincount(target, minlength=n)
    d_out = np.bincount(source, minlength=n)
    evaluated = lg.sample & ((d_in > 0) if isolated == "exclude" else True)
    total = float(s[evaluated].sum())
    if not total > 0:
        raise ValueError("graph has no evaluated node with positive weight: LC is undefined")
    rho = np.ones(n)
    if ties == "random":
        wmin = np.full(n, np.inf)
        wmax = np.zeros(n)
        np.minimum.at(wmin, target, w)
        np.maximum.at(wmax, target, w)
        rho[(d_in == 2) & (wmin == wmax)] = 0.5
    own = np.where(evaluated & (d_in > 0), s, 0.0)
    at_target = np.where(evaluated, s * rho, 0.0)[target]
    c = (own + np.bincount(source, weights=at_target, minlength=n)) / total
    max_degree = int(max(d_in.max(initial=0), d_out.max(initial=0)))
    sum_sq = float(np.dot(c, c))
    crude = (max_degree + 1) ** 2 * float(s[evaluated].max()) / total
    return LCConcentration(
        setting="fixed_graph", delta=delta, half_width=_half_width(sum_sq, delta, 0.0),
        crude_half_width=_half_width(crude, delta, 0.0), sum_sq=sum_sq, crude_sum_sq=crude,
        exceed_prob=0.0, max_degree=max_degree, n_evaluated=int(evaluated.sum()),
        constants=readonly(c),
    )


def lc_concentration_generative(n_nodes: int, max_degree: int, *, delta: float = 0.05,
                                exceed_prob: float = 0.0, min_evaluated: int | None = None,
                                isolated: str = "exclude") -> LCConcentration:
    """Half-width of LC on a generative graph with independent node variables (setting B).

    Parameters
    ----------
    n_nodes : int
        n, the number of nodes (each with its independent variable W_i).
    max_degree : int
        Delta, the degree cap of the event Y.
    delta : float, default 0.05
        One minus the confidence; must exceed ``exceed_prob``.
    exceed_prob : float in [0, 1), default 0
        p >= P(not Y): some degree above Delta, or fewer than m evaluated nodes.
        The caller proves it (e.g. a Chernoff bound on each degree and a union bound).
    min_evaluated : int, optional
        m, the evaluated-node count guaranteed on Y; default n (no isolated node
        on Y). Must be n under ``isolated="wrong"``, where every node is evaluated.
    isolated : {"exclude", "wrong"}, default "exclude"

    Returns
    -------
    LCConcentration
        ``constants`` = n copies of c = min(1, (2 Delta + 1) / m); ``half_width`` =
        sqrt(n c^2 log(2/(delta - p)) / 2) + p. The bound holds for either tie policy.

    Raises
    ------
    ValueError
        Bad counts, probabilities, ``delta <= exceed_prob``, or ``min_evaluated`` out of range.

    Notes
    -----
    Node i draws W_i (its label included), independent over i; the edge {i, j} is a fixed
    function of (W_i, W_j) (a block model's edge coins go into W_i by vertex exposure). On the
    event Y "every degree <= Delta, at least m nodes evaluated", P(not Y) <= p, LC is
    c-Lipschitz in each W_i; its extension off Y gives
    P(``|LC - E LC|`` >= t + p) <= p + 2 exp(-2 t^2 / (n c^2)), E over graph and labels.

    Examples
    --------
    >>> r = lc_concentration_generative(10_000, 8)
    >>> bool(r.constants[0] == 17 / 10_000), round(r.half_width, 4)
    (True, 0.2309)
    """
    n = check_positive_int(n_nodes, name="n_nodes")
    cap = check_positive_int(max_degree, name="max_degree", minimum=0)
    check_one_of(isolated, ISOLATED_POLICIES, name="isolated")
    p = check_probability(exceed_prob, name="exceed_prob")
    delta = _check_delta(delta, p)
    m = n if min_evaluated is None else check_positive_int(min_evaluated, name="min_evaluated")
    if m > n or (isolated == "wrong" and m != n):
        raise ValueError(
            f"min_evaluated must be in [1, {n}] (= {n} under isolated='wrong'), got {m}")
    c = min(1.0, (2 * cap + 1) / m)
    sum_sq = n * c * c
    half = _half_width(sum_sq, delta, p)
    return LCConcentration(
        setting="generative", delta=delta, half_width=half, crude_half_width=half,
        sum_sq=sum_sq, crude_sum_sq=sum_sq, exceed_prob=p, max_degree=cap, n_evaluated=m,
        constants=readonly(np.full(n, c)),
    )
