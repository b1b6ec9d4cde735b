"""Corollary 1 (clique purity) and Corollary 2 (boundary tube) checks."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.graphs import cliques_from_labels
from sip_theory.theory import (
    boundary_tube_estimate,
    clique_purity,
    corollary2_table,
    local_consistency,
    voronoi_boundary_length,
)

label_pairs = st.integers(2, 14).flatmap(
    lambda n: st.tuples(st.lists(st.integers(0, 3), min_size=n, max_size=n),
                        st.lists(st.integers(0, 2), min_size=n, max_size=n)))


@settings(max_examples=60, deadline=None)
@given(label_pairs, st.sampled_from(["strict", "random"]), st.sampled_from(["exclude", "wrong"]))
def test_corollary1_self_excluded_formula_equals_lc_of_clique_graph(pair, ties, isolated):
    pt, ft = map(np.array, pair)
    formula = clique_purity(pt, ft, ties=ties, isolated=isolated).value
    lc = local_consistency(cliques_from_labels(pt), ft, ties=ties, isolated=isolated).value
    assert (math.isnan(formula) and math.isnan(lc)) or formula == pytest.approx(lc)


@settings(max_examples=60, deadline=None)
@given(label_pairs)
def test_corollary1_without_self_exclusion_random_ties_is_purity(pair):
    # the oracle is purity by its definition (each clique's most frequent fine-tuning label,
    # counted by loops), not the result's own purity and sizes fields
    pt, ft = map(np.array, pair)
    res = clique_purity(pt, ft, self_exclusion=False, ties="random")
    top = 0
    for c in set(pt.tolist()):
        members = [ft[i] for i in range(len(pt)) if pt[i] == c]
        top += max(members.count(v) for v in set(members))
    assert res.value == pytest.approx(top / len(pt))


def test_corollary1_without_self_exclusion_named_cliques():
    # one clique with labels 0 0 1 1, the vote over the whole clique: a 2-2 tie at every node,
    # credit 1/2 under random ties, 0 under strict ties; purity 2/4
    assert clique_purity([0] * 4, [0, 0, 1, 1], self_exclusion=False, ties="random").value == 0.5
    assert clique_purity([0] * 4, [0, 0, 1, 1], self_exclusion=False).value == 0.0
    # cliques {0,1,2} labels 0 0 1 and {3,4} labels 2 2: 2 + 2 of 5 nodes right, purity 4/5
    res = clique_purity([0, 0, 0, 1, 1], [0, 0, 1, 2, 2], self_exclusion=False, ties="random")
    assert res.value == pytest.approx(0.8)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(3, 8), st.integers(0, 3)), min_size=1, max_size=4),
       st.integers(0, 2**16))
def test_corollary1_forms_agree_when_every_majority_leads_by_two(cliques, seed):
    rng = np.random.default_rng(seed)
    pt, ft = [], []
    for c, (size, minority) in enumerate(cliques):
        minority = min(minority, (size - 2) // 2)  # lead of the majority >= 2
        labels = [0] * (size - minority) + [int(rng.integers(1, 3)) for _ in range(minority)]
        pt += [c] * size
        ft += labels
    a = clique_purity(pt, ft).value
    b = clique_purity(pt, ft, self_exclusion=False).value
    assert a == pytest.approx(b)


def test_corollary1_reference_margin_one_breaks_self_excluded_majority():
    res = clique_purity([0] * 5, [0, 0, 0, 1, 1])
    assert res.value == 0.0  # majority members see a 2-2 tie, minority members see 3-1
    assert clique_purity([0] * 5, [0, 0, 0, 1, 1], self_exclusion=False).value == 0.6


def test_voronoi_boundary_length_symmetric_sites_and_two_sites():
    assert voronoi_boundary_length([[0.25, 0.5], [0.75, 0.5]]) == 1.0
    # the bisector of (0.2, 0.2) and (0.8, 0.8) is the anti-diagonal: length sqrt 2
    assert voronoi_boundary_length([[0.2, 0.2], [0.8, 0.8]]) == pytest.approx(math.sqrt(2))


def test_tube_constant_decreases_with_degree():
    cs = [boundary_tube_estimate(0.05, 1.0, 1.0, mean_degree=k).constant for k in (5, 20, 80)]
    assert cs[0] > cs[1] > cs[2] > 0


def test_tube_estimate_matches_measured_rate_on_half_plane_labels():
    # two sites: a straight boundary of length 1, no junctions: the model's exact setting
    rows = corollary2_table([6000], [0.04], sites=[[0.25, 0.5], [0.75, 0.5]], seed=3)
    row = rows[0]
    assert row["one_minus_lc"] == pytest.approx(row["tube_estimate"], rel=0.35)


def test_corollary2_lc_rises_toward_one():
    ns = [500, 4000]
    rs = [math.sqrt(12 / (math.pi * n)) for n in ns]
    rows = corollary2_table(ns, rs, sites=[[0.2, 0.3], [0.75, 0.2], [0.35, 0.8], [0.8, 0.7]],
                            seed=0)
    assert rows[0]["lc"] < rows[1]["lc"] < 1.0


def test_tube_estimate_rejects_bad_input():
    with pytest.raises(ValueError, match="area"):
        boundary_tube_estimate(0.1, 1.0, 0.0, mean_degree=5)


# ------------------------------------------- issue 13: Corollary 1 is an inequality, LC <= purity
def test_corollary1_strict_on_a_triangle_whose_majority_leads_by_one():
    # one clique {0, 1, 2} with fine-tuning labels [0, 0, 1]: each 0-node sees one 0 and one 1
    # (a tie: wrong), the 1-node sees two 0s (wrong), so LC = 0 < purity 2/3
    pt, ft = [0, 0, 0], [0, 0, 1]
    res = clique_purity(pt, ft)
    assert local_consistency(cliques_from_labels(pt), ft).value == 0.0 == res.value
    assert res.purity_bound == pytest.approx(2 / 3)
    assert res.leads.tolist() == [1]
    assert res.value < res.purity_bound


def test_corollary1_strict_on_two_cliques_and_equal_when_every_lead_is_two():
    # clique A = {0..3} with labels [0,0,0,1] (lead 2), clique B = {4,5,6} with [1,1,0] (lead 1):
    # LC = 3/7 (A's three 0-nodes), purity = (3 + 2)/7
    res = clique_purity([0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1, 0])
    assert res.value == pytest.approx(3 / 7) and res.purity_bound == pytest.approx(5 / 7)
    assert res.leads.tolist() == [2, 1]
    # five nodes [0,0,0,0,1]: lead 3, every 0-node right, so LC = 4/5 = purity
    eq = clique_purity([0] * 5, [0, 0, 0, 0, 1])
    assert eq.leads.tolist() == [3]
    assert eq.value == pytest.approx(0.8) == pytest.approx(eq.purity_bound)


@settings(max_examples=80, deadline=None)
@given(label_pairs, st.sampled_from(["strict", "random"]), st.sampled_from(["exclude", "wrong"]),
       st.booleans())
def test_corollary1_lc_at_most_purity_with_equality_when_leads_are_two(pair, ties, isolated,
                                                                       self_exclusion):
    pt, ft = map(np.array, pair)
    res = clique_purity(pt, ft, ties=ties, isolated=isolated, self_exclusion=self_exclusion)
    # purity by its definition: the share of each clique's most frequent fine-tuning label
    purity = sum(max(np.sum(ft[pt == c] == v) for v in np.unique(ft)) for c in np.unique(pt))
    assert res.purity_bound == pytest.approx(purity / len(pt))
    lc = local_consistency(cliques_from_labels(pt), ft, ties=ties, isolated=isolated).value
    if not math.isnan(lc):
        assert lc <= res.purity_bound + 1e-12
    if self_exclusion and not math.isnan(res.value):
        if res.leads.min() >= 2:
            assert res.value == pytest.approx(res.purity_bound)
        if ((res.leads <= 1) & (res.sizes >= 2)).any():
            assert res.value < res.purity_bound - 1e-12
