"""Concentration of LC: named-graph constants, exact bounded differences, exact and simulated tails.

The bound P(|LC - E LC| >= t) <= tail(t) is checked three ways: the constants c_i against the
largest change of LC when one label changes, by enumerating every labelling of tiny graphs; the
tail against the exact law of LC (enumeration of independent binary labels); and the tail against
simulations on a planted-partition graph (setting A) and a random bounded-degree graph with
random labels (setting B). The simulations use a stated binomial tolerance, and the same check
rejects a deliberately too-small constant (c_i = 1/n on a star), so it has power.
"""

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sip_theory.graphs import SampleGraph, empty_graph
from sip_theory.testing import sample_graphs
from sip_theory.theory import (
    lc_concentration,
    lc_concentration_generative,
    local_consistency,
)

STAR = SampleGraph.from_edges([(0, 1), (0, 2), (0, 3)], n_nodes=4)
PATH = SampleGraph.from_edges([(0, 1), (1, 2)], n_nodes=3)
TRIANGLE = SampleGraph.from_edges([(0, 1), (1, 2), (0, 2)], n_nodes=3)
K4 = SampleGraph.from_edges(list(itertools.combinations(range(4), 2)), n_nodes=4)
PATH_PLUS_ISOLATED = SampleGraph.from_edges([(0, 1), (1, 2)], n_nodes=4)


def lc_table(graph, k, **kw):
    """LC for every labelling in {0..k-1}^n, as an array of shape (k,)*n."""
    n = graph.n_nodes
    values = [local_consistency(graph, np.array(y), **kw).value
              for y in itertools.product(range(k), repeat=n)]
    return np.array(values).reshape((k,) * n)


def exact_differences(graph, k, **kw):
    """sup |LC(y) - LC(y')| over labellings differing at node i only, per node i."""
    table = lc_table(graph, k, **kw)
    return np.array([(table.max(axis=i) - table.min(axis=i)).max() for i in range(graph.n_nodes)])


# ------------------------------------------------------------------ named graphs, exact constants

@pytest.mark.parametrize(("graph", "kw", "expected", "delta_max"), [
    (STAR, {}, [1, 1 / 2, 1 / 2, 1 / 2], 3),                      # centre: (1+3)/4, leaf: (1+1)/4
    (PATH, {}, [2 / 3, 1, 2 / 3], 2),
    (PATH, {"ties": "random"}, [1 / 2, 1, 1 / 2], 2),             # middle credit moves by 1/2
    (TRIANGLE, {}, [1, 1, 1], 2),
    (TRIANGLE, {"ties": "random"}, [2 / 3, 2 / 3, 2 / 3], 2),     # (1 + 1/2 + 1/2)/3
    (K4, {"ties": "random"}, [1, 1, 1, 1], 3),                    # three votes: no 1/2
    (PATH_PLUS_ISOLATED, {}, [2 / 3, 1, 2 / 3, 0], 2),            # isolated node excluded
    (PATH_PLUS_ISOLATED, {"isolated": "wrong"}, [1 / 2, 3 / 4, 1 / 2, 0], 2),
    (STAR, {"weights": [2, 1, 1, 1]}, [1, 3 / 5, 3 / 5, 3 / 5], 3),  # S = 5; leaf: (1 + 2)/5
])
def test_constants_of_named_graphs(graph, kw, expected, delta_max):
    r = lc_concentration(graph, **kw)
    np.testing.assert_allclose(r.constants, expected, rtol=0, atol=1e-15)
    assert r.max_degree == delta_max
    assert math.isclose(r.sum_sq, sum(c * c for c in expected), rel_tol=1e-14)
    assert math.isclose(r.half_width, math.sqrt(r.sum_sq * math.log(2 / 0.05) / 2), rel_tol=1e-14)


def test_star_crude_form_and_tail():
    r = lc_concentration(STAR, delta=0.1)
    assert r.crude_sum_sq == (3 + 1) ** 2 / 4
    assert math.isclose(r.crude_half_width, math.sqrt(4 * math.log(20) / 2), rel_tol=1e-14)
    assert r.tail(0.0) == 1.0
    assert math.isclose(r.tail(1.0), 2 * math.exp(-2 / 1.75), rel_tol=1e-14)
    # tail and half-width are inverse: the bound at the half-width is delta
    assert math.isclose(r.tail(r.half_width), 0.1, rel_tol=1e-12)


def test_weighted_votes_random_ties():
    """Two votes of unequal weight never tie, so no 1/2; of equal weight they do."""
    unequal = SampleGraph.from_edges([(0, 1), (1, 2), (0, 2)], n_nodes=3, weights=[1.0, 2.0, 3.0])
    equal = SampleGraph.from_edges([(0, 1), (1, 2), (0, 2)], n_nodes=3, weights=[2.0, 2.0, 2.0])
    kw = {"ties": "random", "vote": "weight"}
    assert lc_concentration(unequal, **kw).constants.tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_allclose(lc_concentration(equal, **kw).constants, [2 / 3] * 3)
    np.testing.assert_allclose(exact_differences(equal, 3, **kw), [2 / 3] * 3, atol=1e-12)
    assert (exact_differences(unequal, 3, **kw) <= 1 + 1e-12).all()


def test_auxiliary_voters():
    """A voting auxiliary node is a coordinate (its label votes) but is never evaluated."""
    g = SampleGraph.from_edges([(0, 1), (1, 2), (2, 3)], n_nodes=4,
                               auxiliary=[False, False, False, True])
    excl = lc_concentration(g)          # samples 0-1-2 form a path, node 3 plays no part
    np.testing.assert_allclose(excl.constants, [2 / 3, 1, 2 / 3, 0])
    vote = lc_concentration(g, auxiliary="vote")
    # node 2 votes at 1 only: its neighbour 3 is not evaluated
    np.testing.assert_allclose(vote.constants, [2 / 3, 1, 2 / 3, 1 / 3])
    np.testing.assert_allclose(exact_differences(g, 3, auxiliary="vote"), vote.constants,
                               atol=1e-12)


def test_empty_graph():
    assert lc_concentration(empty_graph(5), isolated="wrong").tail(1e-9) == 0.0
    assert lc_concentration(empty_graph(5), isolated="wrong").sum_sq == 0.0  # LC = 0 surely
    assert lc_concentration(empty_graph(5), isolated="wrong").half_width == 0.0
    with pytest.raises(ValueError, match="no evaluated node"):
        lc_concentration(empty_graph(5))


@pytest.mark.parametrize(("graph", "kw"), [
    (STAR, {}), (STAR, {"ties": "random"}), (PATH, {}), (PATH, {"ties": "random"}),
    (PATH_PLUS_ISOLATED, {"isolated": "wrong"}),
])
def test_constants_attained_on_trees(graph, kw):
    np.testing.assert_allclose(exact_differences(graph, 3, **kw),
                               lc_concentration(graph, **kw).constants, atol=1e-12)


def test_enumeration_rejects_a_too_small_constant():
    """The exact check has power: c_i = s_i / S (own credit only) fails on the star's centre."""
    own_only = np.full(4, 1 / 4)
    assert exact_differences(STAR, 2)[0] == 1.0 > own_only[0]


@settings(max_examples=40, deadline=None)
@given(graph=sample_graphs(min_nodes=1, max_nodes=5, weighted=True, auxiliary=True),
       ties=st.sampled_from(["strict", "random"]), isolated=st.sampled_from(["exclude", "wrong"]),
       vote=st.sampled_from(["count", "weight"]), auxiliary=st.sampled_from(["exclude", "vote"]),
       data=st.data())
def test_constants_bound_every_single_label_change(graph, ties, isolated, vote, auxiliary, data):
    n = graph.n_nodes
    weights = data.draw(st.none() | st.lists(st.integers(0, 3), min_size=n, max_size=n))
    kw = dict(ties=ties, isolated=isolated, vote=vote, auxiliary=auxiliary, weights=weights)
    try:
        r = lc_concentration(graph, **kw)
    except ValueError:
        # undefined LC: every labelling must give NaN
        assert np.isnan(local_consistency(graph, np.zeros(n, int), **kw).value)
        return
    assert (exact_differences(graph, 3, **kw) <= r.constants + 1e-12).all()
    assert r.sum_sq <= r.crude_sum_sq * (1 + 1e-12)
    assert r.half_width <= r.crude_half_width * (1 + 1e-12)


# ------------------------------------------------------------------ exact law of LC, binary labels

def exact_tail_violations(graph, q, tail, ts, **kw):
    """t in ts where P(|LC - E LC| >= t) exceeds tail(t); labels independent, P(y_i = 1) = q_i."""
    n = graph.n_nodes
    table = lc_table(graph, 2, **kw).reshape(-1)
    ys = np.array(list(itertools.product((0, 1), repeat=n)))
    prob = np.prod(np.where(ys == 1, q, 1 - q), axis=1)
    mean = float(prob @ table)
    return [t for t in ts if prob[np.abs(table - mean) >= t - 1e-12].sum() > tail(t) + 1e-12]


TS = np.linspace(0.02, 1.0, 50)


@settings(max_examples=25, deadline=None)
@given(graph=sample_graphs(min_nodes=1, max_nodes=7),
       ties=st.sampled_from(["strict", "random"]), isolated=st.sampled_from(["exclude", "wrong"]),
       data=st.data())
def test_tail_bounds_the_exact_law(graph, ties, isolated, data):
    # point masses (0, 1: a single class when all are equal) and skewed and fair coins
    q = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.05, 0.5, 0.9, 1.0]),
                                    min_size=graph.n_nodes, max_size=graph.n_nodes)))
    try:
        r = lc_concentration(graph, ties=ties, isolated=isolated)
    except ValueError:
        assume(False)
    assert exact_tail_violations(graph, q, r.tail, TS, ties=ties, isolated=isolated) == []


def test_exact_law_rejects_a_too_small_constant():
    """Star K_{1,5}, fair centre, leaves 1 w.p. 0.9: LC is ~0.9 or ~0.1, and c_i = 1/n fails."""
    star = SampleGraph.from_edges([(0, j) for j in range(1, 6)], n_nodes=6)
    q = np.array([0.5] + [0.9] * 5)
    r = lc_concentration(star)
    assert exact_tail_violations(star, q, r.tail, TS) == []
    wrong = lambda t: min(1.0, 2 * math.exp(-2 * t * t / (6 * (1 / 6) ** 2)))  # noqa: E731
    assert len(exact_tail_violations(star, q, wrong, TS)) > 5


# ------------------------------------------------------------------ simulations

def simulated_violations(draw_lc, tail, ts, *, n_mean=2000, n_tail=2000, seed=0):
    """t in ts where the simulated frequency of |LC - E LC| >= t exceeds tail(t) + tolerance.

    E LC is estimated from ``n_mean`` separate draws, with error at most eps = 5 sd / sqrt(n_mean)
    (a 5-sigma bound). The event |LC - mean| >= t + eps implies |LC - E LC| >= t, so its frequency
    over ``n_tail`` draws estimates a probability at most tail(t); it may exceed tail(t) by at most
    5 binomial standard deviations plus 1/n_tail, sqrt(b (1 - b) / n_tail) with b = min(tail, 1/2).
    """
    rng = np.random.default_rng(seed)
    first = np.array([draw_lc(rng) for _ in range(n_mean)])
    mean, eps = first.mean(), 5 * first.std() / math.sqrt(n_mean)
    dev = np.abs(np.array([draw_lc(rng) for _ in range(n_tail)]) - mean)
    out = []
    for t in ts:
        b = tail(t)
        tol = 5 * math.sqrt(min(b, 0.5) * (1 - min(b, 0.5)) / n_tail) + 1 / n_tail
        if (dev >= t + eps).mean() > b + tol:
            out.append(t)
    return out


def planted_partition(n, p_in, p_out, rng):
    block = np.repeat([0, 1], n // 2)
    i, j = np.triu_indices(n, 1)
    keep = rng.random(i.shape[0]) < np.where(block[i] == block[j], p_in, p_out)
    return SampleGraph.from_edges(np.stack([i[keep], j[keep]], 1), n_nodes=n), block


def test_planted_partition_simulation():
    """Setting A: a fixed planted-partition graph, each planted label flipped w.p. 0.15."""
    g, block = planted_partition(300, 0.04, 0.004, np.random.default_rng(7))
    r = lc_concentration(g)

    def draw(rng):
        return local_consistency(g, block ^ (rng.random(300) < 0.15)).value

    ts = np.linspace(0.005, 0.4, 40)
    assert simulated_violations(draw, r.tail, ts, n_mean=1500, n_tail=1500) == []
    # the bound is far from tight here: it is vacuous until t ~ sqrt(sum_sq / 2)
    assert r.half_width > 0.1


def test_simulation_rejects_a_too_small_constant():
    """Star K_{1,50}, fair centre, leaves 1 w.p. 0.9: c_i = 1/n is violated, the true c_i not."""
    n = 51
    star = SampleGraph.from_edges([(0, j) for j in range(1, n)], n_nodes=n)
    r = lc_concentration(star)

    def draw(rng):
        y = (rng.random(n) < 0.9).astype(int)
        y[0] = rng.random() < 0.5
        return local_consistency(star, y).value

    ts = np.linspace(0.05, 0.5, 10)
    assert simulated_violations(draw, r.tail, ts, n_mean=800, n_tail=800) == []
    wrong = lambda t: min(1.0, 2 * math.exp(-2 * t * t * n))  # noqa: E731  (sum of (1/n)^2 = 1/n)
    assert len(simulated_violations(draw, wrong, ts, n_mean=800, n_tail=800)) >= 5


def test_generative_bounded_degree_simulation():
    """Setting B with p = 0: each node i keeps its edges to i-1, i-2 (on a cycle) by its own coins.

    W_i = (y_i, coin to i-1, coin to i-2), independent over i; every degree is at most 4 surely,
    and with isolated="wrong" every node is evaluated (m = n). Labels: 1 w.p. 0.3 on the first
    half of the cycle, 0.7 on the second.
    """
    n = 2000
    r = lc_concentration_generative(n, 4, isolated="wrong")
    assert r.constants[0] == 9 / n
    base = np.arange(n)

    def draw(rng):
        keep = rng.random((n, 2)) < 0.6
        src = np.concatenate([base[keep[:, 0]], base[keep[:, 1]]])
        dst = np.concatenate([(base[keep[:, 0]] - 1) % n, (base[keep[:, 1]] - 2) % n])
        g = SampleGraph.from_edges(np.stack([src, dst], 1), n_nodes=n)
        assert g.degrees().max() <= 4
        y = (rng.random(n) < np.where(base < n // 2, 0.3, 0.7)).astype(int)
        return local_consistency(g, y, isolated="wrong").value

    ts = np.linspace(0.01, 0.4, 40)
    assert simulated_violations(draw, r.tail, ts, n_mean=300, n_tail=300) == []


def test_generative_with_exceed_prob():
    r = lc_concentration_generative(10_000, 8, exceed_prob=0.01, min_evaluated=9_000)
    c = 17 / 9_000
    assert math.isclose(r.sum_sq, 10_000 * c * c, rel_tol=1e-14)
    assert math.isclose(r.half_width, math.sqrt(r.sum_sq * math.log(2 / 0.04) / 2) + 0.01,
                        rel_tol=1e-14)
    assert r.tail(0.01) == 1.0
    assert math.isclose(r.tail(r.half_width), 0.05, rel_tol=1e-12)
    # a cap so large that one node could move everything: c is capped at 1
    assert lc_concentration_generative(10, 50).constants.tolist() == [1.0] * 10


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize(("kw", "match"), [
    ({"delta": 0.0}, "delta"), ({"delta": 1.0}, "delta"), ({"delta": 1.5}, "delta"),
    ({"delta": float("nan")}, "delta"), ({"ties": "coin"}, "ties"),
    ({"isolated": "drop"}, "isolated"), ({"vote": "sum"}, "vote"),
    ({"auxiliary": "skip"}, "auxiliary"), ({"weights": [1, 2]}, "weights"),
    ({"weights": [1, -1, 1, 1]}, "weights"), ({"n_nodes": 7}, "n_nodes"),
])
def test_bad_input_fixed_graph(kw, match):
    with pytest.raises(ValueError, match=match):
        lc_concentration(STAR, **kw)


@pytest.mark.parametrize(("args", "kw", "match"), [
    ((0, 3), {}, "n_nodes"), ((10, -1), {}, "max_degree"),
    ((10, 3), {"exceed_prob": 0.05}, "delta"), ((10, 3), {"exceed_prob": 1.5}, "exceed_prob"),
    ((10, 3), {"min_evaluated": 11}, "min_evaluated"),
    ((10, 3), {"min_evaluated": 5, "isolated": "wrong"}, "min_evaluated"),
    ((10, 3), {"isolated": "drop"}, "isolated"),
])
def test_bad_input_generative(args, kw, match):
    with pytest.raises(ValueError, match=match):
        lc_concentration_generative(*args, **kw)


def test_bad_t_and_delta_on_result():
    r = lc_concentration(STAR)
    with pytest.raises(ValueError, match="t must"):
        r.tail(float("nan"))
    with pytest.raises(ValueError, match="delta"):
        r.half_width_at(0.0)
