"""Symbolic derivations (sympy) of the permissibility thresholds.

Each derivation returns a :class:`Derivation`: the ordered steps (a sentence
and a sympy object each) and the results the numeric code evaluates. The book
renders the steps; the tests compare the results with random numeric instances.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

__all__ = ["Derivation", "contrastive_margin_derivation", "multi_similarity_derivation"]


@dataclass(frozen=True)
class Derivation:
    """A symbolic derivation: ``steps`` (text, sympy object) and named ``results``."""

    name: str
    symbols: dict
    steps: tuple
    results: dict

    def latex(self) -> str:
        """The steps as one Markdown string with inline ``$...$`` math (for notebooks).

        Inline math, not ``$$...$$``: a display delimiter inside a list item is not
        parsed as math by MyST's dollarmath, so it would reach the page as raw TeX.

        Examples
        --------
        >>> print(contrastive_margin_derivation().latex().splitlines()[2])
        - positive-pair term: $\\max\\left(0, d - \\mu_{+}\\right)$
        """
        lines = [f"**{self.name}**", ""]
        for text, expr in self.steps:
            lines.append(f"- {text}: ${sp.latex(expr)}$")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:  # pragma: no cover - notebook display
        return self.latex()


def _bound_on(solved, var, relation):
    """The other side of ``var < b`` or ``var > b`` as returned by ``sympy.solve``."""
    if isinstance(solved, relation) and solved.lhs == var:
        return solved.rhs
    flipped = {sp.StrictLessThan: sp.StrictGreaterThan,
               sp.StrictGreaterThan: sp.StrictLessThan}[relation]
    if isinstance(solved, flipped) and solved.rhs == var:
        return solved.lhs
    raise ValueError(f"expected {var} {relation.rel_op} b, got {solved}")  # pragma: no cover


@cache
def contrastive_margin_derivation() -> Derivation:
    """Loss level and radius for the contrastive margin loss (Hadsell, Chopra, LeCun 2006).

    L = (1/M) [ sum_pos (d - mu_p)_+ + sum_neg (mu_n - d)_+ ] over all M pairs.
    If L < ell then every single term is < M ell, which bounds every linked
    distance above and every unlinked one below; the two bounds separate iff
    ell <= (mu_n - mu_p) / (2 M), and the radius between them is (mu_p + mu_n)/2.

    Examples
    --------
    >>> d = contrastive_margin_derivation()
    >>> d.results["loss_level"]
    (-mu_+ + mu_-)/(2*M)
    >>> d.results["radius"]
    mu_+/2 + mu_-/2
    """
    mu_p = sp.Symbol("mu_+", nonnegative=True)
    mu_n = sp.Symbol("mu_-", positive=True)
    M = sp.Symbol("M", positive=True, integer=True)
    ell = sp.Symbol("ell", positive=True)
    d = sp.Symbol("d", nonnegative=True)
    pos_term = sp.Max(d - mu_p, 0)
    neg_term = sp.Max(mu_n - d, 0)
    # a non-negative term of a mean below ell is below M*ell
    pos_bound = sp.solve(sp.Lt(d - mu_p, M * ell), d)
    neg_bound = sp.solve(sp.Lt(mu_n - d, M * ell), d)
    # the two bounds on d, read off the solved inequalities (d < upper, d > lower)
    upper_linked = _bound_on(pos_bound, d, sp.StrictLessThan)
    lower_unlinked = _bound_on(neg_bound, d, sp.StrictGreaterThan)
    ell_star = sp.solve(sp.Eq(upper_linked, lower_unlinked), ell)[0]
    radius = sp.simplify(upper_linked.subs(ell, ell_star))
    steps = (
        ("positive-pair term", pos_term),
        ("negative-pair term", neg_term),
        ("L < ell and every term >= 0 give, for a linked pair", pos_bound),
        ("and for an unlinked pair", neg_bound),
        ("the intervals separate when mu_+ + M ell <= mu_- - M ell, i.e. ell* =",
         sp.Eq(sp.Symbol("ell^*"), ell_star)),
        ("recovering radius (linked d < r < unlinked d)", sp.Eq(sp.Symbol("r"), radius)),
    )
    return Derivation(
        "Contrastive margin loss",
        {"mu_pos": mu_p, "mu_neg": mu_n, "M": M, "ell": ell, "d": d},
        steps,
        {"loss_level": ell_star, "radius": radius},
    )


@cache
def multi_similarity_derivation() -> Derivation:
    """Per-anchor thresholds for the multi-similarity loss (Wang et al., CVPR 2019).

    Anchor terms: (1/alpha) log(1 + sum_pos exp(-alpha (s - t))) and
    (1/beta) log(1 + sum_neg exp(beta (s - t))). A positive term below
    log(2)/alpha forces the sum below 1, hence each summand below 1, hence
    s > t for every positive; symmetrically s < t for every negative. The
    cosine-distance radius is r = 1 - t.

    Attainability: similarities are at most 1 and at least -1, so an anchor
    with P positives and Q negatives has positive sum at least P e^{-alpha (1 - t)}
    and negative sum at least Q e^{-beta (1 + t)}; its two levels can be met
    only if P < e^{alpha (1 - t)} and Q < e^{beta (1 + t)} (results
    ``log_positive_count_limit``, ``log_negative_count_limit``), and its loss is
    never below ``anchor_floor``.

    Examples
    --------
    >>> d = multi_similarity_derivation()
    >>> d.results["positive_level"], d.results["radius"]
    (log(2)/alpha, 1 - t)
    """
    alpha = sp.Symbol("alpha", positive=True)
    beta = sp.Symbol("beta", positive=True)
    t = sp.Symbol("t", real=True)
    s = sp.Symbol("s", real=True)
    X = sp.Symbol("X", nonnegative=True)  # the sum of exponentials
    # a term (1/a) log(1 + X) of scale a is below ell iff X < exp(a ell) - 1; every summand of
    # X is below 1 for all X allowed iff that bound is at most 1: the level is where it is 1
    a = sp.Symbol("a", positive=True)
    ell = sp.Symbol("ell", positive=True)
    x_at_ell = sp.solve(sp.Eq(sp.log(1 + X) / a, ell), X)[0]
    level = sp.solve(sp.Eq(x_at_ell, 1), ell)[0]
    level_pos = level.subs(a, alpha)
    level_neg = level.subs(a, beta)
    # (1/alpha) log(1 + X) < log(2)/alpha: multiply by alpha > 0, then exponentiate
    scaled = sp.Lt(sp.expand(alpha * sp.log(1 + X) / alpha), sp.expand(alpha * level_pos))
    sum_condition = sp.solve(sp.Lt(sp.exp(scaled.lhs), sp.exp(scaled.rhs)), X)
    # a summand exp(u) is below 1 iff its exponent u is negative
    pos_condition = sp.solve(sp.Lt(-alpha * (s - t), 0), s)
    neg_condition = sp.solve(sp.Lt(beta * (s - t), 0), s)
    # the boundary similarity is where a summand's exponent vanishes; cosine distance 1 - s
    boundary = sp.solve(sp.Eq(-alpha * (s - t), 0), s)[0]
    radius = (1 - s).subs(s, boundary)
    # a mean of N non-negative anchor losses below ell puts each anchor below N ell, which
    # must not exceed the smaller level; the level decreases in its scale, so that is the
    # level of the larger scale
    N = sp.Symbol("N", positive=True, integer=True)
    if not sp.diff(level, a).is_negative:  # pragma: no cover - a property of log(2)/a
        raise AssertionError("the per-anchor level must decrease in its scale")
    mean_level = sp.solve(sp.Eq(N * ell, level.subs(a, sp.Max(alpha, beta))), ell)[0]
    # attainability: cosine similarities lie in [-1, 1], so a positive summand is at least
    # exp(-alpha (1 - t)) (s = 1) and a negative one at least exp(-beta (1 + t)) (s = -1)
    P = sp.Symbol("P", nonnegative=True, integer=True)  # |P_i|, positives of an anchor
    Q = sp.Symbol("Q", nonnegative=True, integer=True)  # |N_i|, negatives of an anchor
    best_pos_sum = P * sp.exp(-alpha * (1 - t))
    best_neg_sum = Q * sp.exp(-beta * (1 + t))
    pos_count = sp.solve(sp.Lt(best_pos_sum, 1), P)
    neg_count = sp.solve(sp.Lt(best_neg_sum, 1), Q)
    pos_count_limit = sp.solve(sp.Eq(best_pos_sum, 1), P)[0]
    neg_count_limit = sp.solve(sp.Eq(best_neg_sum, 1), Q)[0]
    anchor_floor = sp.log(1 + best_pos_sum) / alpha + sp.log(1 + best_neg_sum) / beta
    steps = (
        ("positive term below log(2)/alpha", sp.Lt(sp.log(1 + X) / alpha, level_pos)),
        ("multiply by alpha > 0", scaled),
        ("exponentiate: the sum of exponentials X satisfies", sum_condition),
        ("each summand then below 1, i.e. for every positive similarity", pos_condition),
        ("negative term below log(2)/beta gives for every negative", neg_condition),
        ("cosine-distance radius", sp.Eq(sp.Symbol("r"), radius)),
        ("sufficient mean-loss level over N anchors", sp.Eq(sp.Symbol("ell^*"), mean_level)),
        ("attainable only if the best case (every positive at s = 1) has X < 1, i.e. |P_i| = P",
         pos_count),
        ("and (every negative at s = -1) for |N_i| = Q", neg_count),
        ("no anchor's loss is below (so no mean below the mean of these floors)",
         sp.Eq(sp.Symbol("L_i^min"), anchor_floor)),
    )
    return Derivation(
        "Multi-similarity loss",
        {"alpha": alpha, "beta": beta, "t": t, "s": s, "X": X, "N": N, "P": P, "Q": Q},
        steps,
        {"positive_level": level_pos, "negative_level": level_neg, "radius": radius,
         "mean_level": mean_level,
         "log_positive_count_limit": sp.log(pos_count_limit),
         "log_negative_count_limit": sp.log(neg_count_limit),
         "positive_summand_floor": best_pos_sum / P, "negative_summand_floor": best_neg_sum / Q,
         "anchor_floor": anchor_floor},
    )
