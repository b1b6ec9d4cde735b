"""Bounds at their edges: an exact equality computed one ulp off, and the LP oracle near its
solver tolerance (issue 13: both read wrongly before)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.graphs import SampleGraph
from sip_theory.theory import Bound, linear_separability, spectral_probe_bound

K4 = SampleGraph.from_edges([(i, j) for i in range(4) for j in range(i + 1, 4)], n_nodes=4)


def test_spectral_bound_at_exactly_one_reads_as_equal_not_exceeded():
    # K_4, labels 0,0,1,1, k = 1: phi = 4/6 of the edge weight crosses, lambda_2 = 4/3, so
    # 2 phi / lambda_2 = 1 exactly, and the probe error is 1: equality. Computed, the bound
    # is 1 - 1.1e-16; before, it read as non-vacuous and exceeded by the measured error.
    b = spectral_probe_bound(K4, [0, 0, 1, 1], 1)
    assert b.value == pytest.approx(1.0, abs=1e-15) and b.details["probe_error"] == 1.0
    assert b.vacuous
    assert b.compare(b.details["probe_error"]) == "equal within rounding"
    assert 0 < b.rounding < 1e-12


def test_bound_compare_has_three_answers():
    b = Bound("b", 0.5, {}, False, "", rounding=1e-12)
    assert [b.compare(v) for v in (0.4, 0.5 + 1e-13, 0.6)] == [
        "holds", "equal within rounding", "exceeded"]


def _scores_separate(res, x, y):
    x = np.asarray(x, dtype=float)
    scores = x @ res.coef.T + res.intercept
    codes = np.unique(y, return_inverse=True)[1]
    own = scores[np.arange(len(y)), codes]
    scores[np.arange(len(y)), codes] = -np.inf
    return bool((own > scores.max(axis=1)).all())


@pytest.mark.parametrize("delta", [1e-3, 1e-9, 1e-12])
def test_tiny_units_and_tiny_margins_are_found_and_verified(delta):
    # two points delta apart: separable at any delta (before: "infeasible" from 1e-9 on)
    r = linear_separability([[0.0], [delta]], [0, 1])
    assert r.separable and r.certified and _scores_separate(r, [[0.0], [delta]], [0, 1])
    # (1, -delta) lies just below the chord of the triangle (0,0), (2,0), (0,1): separable
    # with a margin of order delta on features of order 1
    x = [[0, 0], [1, -delta], [2, 0], [0, 1]]
    r = linear_separability(x, [0, 1, 0, 0])
    assert r.separable and r.certified and _scores_separate(r, x, [0, 1, 0, 0])


@pytest.mark.parametrize("delta", [1e-3, 1e-9, 1e-12])
def test_inside_the_hull_is_never_certified_separable(delta):
    # (1, +delta) lies inside the triangle: not separable. Near the solver's tolerance the
    # oracle may not prove it, but it must then say so
    r = linear_separability([[0, 0], [1, delta], [2, 0], [0, 1]], [0, 1, 0, 0])
    assert not r.separable
    assert r.certified or "tolerance" in r.message
    assert r.margin_lower <= r.margin_upper


def test_xor_is_certified_not_separable():
    r = linear_separability([[0, 0], [1, 1], [1, 0], [0, 1]], [0, 0, 1, 1])
    assert not r.separable and r.certified and r.margin_upper < 1e-12


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(-4, 4), st.integers(0, 1)), min_size=2, max_size=9),
       st.integers(0, 12))
def test_one_dimensional_verdicts_equal_the_interval_rule(points, exponent):
    # in one dimension two classes are separable iff their ranges do not overlap (an
    # independent definition); units from 1 down to 1e-12
    x = np.array([[p[0] * 10.0**-exponent] for p in points])
    y = np.array([p[1] for p in points])
    r = linear_separability(x, y)
    if len(set(y)) < 2:
        assert r.separable
        return
    a, b = x[y == 0, 0], x[y == 1, 0]
    want = bool(a.max() < b.min() or b.max() < a.min())
    assert r.separable == want and r.certified
    if want:
        assert _scores_separate(r, x, y)
