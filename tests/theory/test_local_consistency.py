"""Local consistency: reference values, policies, and agreement with a brute-force definition."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.graphs import SampleGraph
from sip_theory.theory import local_consistency


@st.composite
def small_labelled_graphs(draw, max_nodes=9, max_classes=3):
    n = draw(st.integers(1, max_nodes))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    mask = draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    edges = np.array([p for p, keep in zip(pairs, mask, strict=True) if keep], dtype=np.int64)
    graph = SampleGraph.from_edges(edges.reshape(-1, 2), n_nodes=n)
    labels = np.array(draw(st.lists(st.integers(0, max_classes - 1), min_size=n, max_size=n)))
    return graph, labels


def brute_force_lc(graph, labels, ties, isolated):
    """The definition, node by node, with Python loops."""
    credits = []
    for v in range(graph.n_nodes):
        nbrs = graph.neighbors(v).tolist()
        if not nbrs:
            if isolated == "wrong":
                credits.append(0.0)
            continue
        counts = {}
        for u in nbrs:
            counts[labels[u]] = counts.get(labels[u], 0) + 1
        top = max(counts.values())
        winners = [c for c, k in counts.items() if k == top]
        if labels[v] not in winners:
            credits.append(0.0)
        elif len(winners) == 1:
            credits.append(1.0)
        else:
            credits.append(0.0 if ties == "strict" else 1.0 / len(winners))
    return float(np.mean(credits)) if credits else float("nan")


@settings(max_examples=60, deadline=None)
@given(small_labelled_graphs(), st.sampled_from(["strict", "random"]),
       st.sampled_from(["exclude", "wrong"]))
def test_lc_equals_brute_force_definition(gl, ties, isolated):
    graph, labels = gl
    got = local_consistency(graph, labels, ties=ties, isolated=isolated).value
    want = brute_force_lc(graph, labels, ties, isolated)
    assert (np.isnan(got) and np.isnan(want)) or got == pytest.approx(want, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(small_labelled_graphs())
def test_random_ties_never_below_strict(gl):
    graph, labels = gl
    strict = local_consistency(graph, labels, ties="strict").credit
    rand = local_consistency(graph, labels, ties="random").credit
    ok = ~np.isnan(strict)
    assert np.all(rand[ok] >= strict[ok])


@settings(max_examples=40, deadline=None)
@given(small_labelled_graphs(), st.permutations(list(range(9))))
def test_lc_invariant_to_relabelling_classes(gl, perm):
    graph, labels = gl
    relabelled = np.array([f"c{perm[c]}" for c in labels])
    a = local_consistency(graph, labels, ties="random").value
    b = local_consistency(graph, relabelled, ties="random").value
    assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b)


def test_counts_add_up_to_sample_nodes():
    g = SampleGraph.from_edges([(0, 1), (0, 2), (3, 4)], n_nodes=6)
    r = local_consistency(g, [0, 0, 1, 1, 0, 2])
    assert r.n_isolated == 1
    assert r.n_unique + r.n_tied + r.n_wrong + r.n_isolated == 6
    assert (r.n_unique, r.n_tied, r.n_wrong) == (1, 1, 3)


def test_isolated_policy_exclude_vs_wrong_reference():
    g = SampleGraph.from_edges([(0, 1)], n_nodes=4)
    assert local_consistency(g, [0, 0, 1, 1]).value == 1.0
    assert local_consistency(g, [0, 0, 1, 1], isolated="wrong").value == 0.5


def test_all_isolated_gives_nan_value():
    r = local_consistency(SampleGraph.from_edges([], n_nodes=3), [0, 1, 2])
    assert np.isnan(r.value) and r.n_evaluated == 0 and r.to_dict()["value"] is None


def test_strict_tie_counts_wrong_random_tie_counts_half():
    star = [(0, 1), (0, 2)]
    assert local_consistency(star, [0, 0, 1]).credit[0] == 0.0
    assert local_consistency(star, [0, 0, 1], ties="random").credit[0] == 0.5


def test_majority_beats_fraction_difference_from_node_homophily():
    # node 0 has 2 of 3 neighbours in its class: LC credit 1, node-homophily fraction 2/3
    r = local_consistency([(0, 1), (0, 2), (0, 3)], [0, 0, 0, 1])
    assert r.credit[0] == 1.0


def test_sample_weights_reweight_the_distribution():
    edges = [(0, 1), (1, 2)]
    labels = [0, 0, 1]  # credits: node0 1, node1 tie -> 0 (strict), node2 0
    r = local_consistency(edges, labels, weights=[3.0, 1.0, 0.0])
    assert r.value == pytest.approx(0.75)


def test_weights_do_not_change_votes():
    edges = [(0, 1), (1, 2)]
    a = local_consistency(edges, [0, 0, 1], weights=[1, 5, 1]).credit
    b = local_consistency(edges, [0, 0, 1]).credit
    np.testing.assert_array_equal(a, b)


def test_weighted_vote_uses_edge_weights_count_vote_ignores_them():
    g = SampleGraph.from_edges([(0, 1), (0, 2), (0, 3)], weights=[5.0, 1.0, 1.0])
    labels = [0, 0, 1, 1]  # node 0: one class-0 neighbour (w 5), two class-1 (w 1 each)
    assert local_consistency(g, labels, vote="count").credit[0] == 0.0
    assert local_consistency(g, labels, vote="weight").credit[0] == 1.0


def test_self_loops_never_vote():
    import scipy.sparse as sp

    adj = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0]]))
    g = SampleGraph(adj)  # the diagonal entry is dropped
    assert local_consistency(g, [1, 0, 0]).credit[0] == 0.0


def test_auxiliary_nodes_exclude_neither_evaluated_nor_voting():
    # samples 0..2 (path 0-1-2), auxiliary node 3 linked to all samples
    g = SampleGraph.from_edges(
        [(0, 1), (1, 2), (0, 3), (1, 3), (2, 3)], auxiliary=[False, False, False, True]
    )
    r = local_consistency(g, [0, 0, 1])  # one label per sample node
    assert r.n_evaluated == 3 and np.isnan(r.credit[3])
    assert r.value == pytest.approx(local_consistency([(0, 1), (1, 2)], [0, 0, 1]).value)


def test_auxiliary_vote_policy_lets_labelled_auxiliary_nodes_vote():
    g = SampleGraph.from_edges([(0, 1), (0, 2)], auxiliary=[False, False, True])
    labels = [0, 1, 0]
    assert local_consistency(g, labels).credit[0] == 0.0  # only node 1 (label 1) votes
    assert local_consistency(g, labels, auxiliary="vote", ties="random").credit[0] == 0.5


def test_auxiliary_vote_needs_labels_for_auxiliary_nodes():
    g = SampleGraph.from_edges([(0, 1), (0, 2)], auxiliary=[False, False, True])
    with pytest.raises(ValueError, match="labels"):
        local_consistency(g, [0, 1], auxiliary="vote")


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"ties": "first"}, "ties"), ({"isolated": "drop"}, "isolated"), ({"vote": "x"}, "vote"),
     ({"weights": [1, -1, 1]}, "weights"), ({"weights": [1, 1]}, "weights")],
)
def test_bad_options_raise_naming_the_argument(kwargs, word):
    with pytest.raises(ValueError, match=word):
        local_consistency([(0, 1), (1, 2)], [0, 0, 1], **kwargs)


def test_wrong_label_length_raises():
    with pytest.raises(ValueError, match="labels"):
        local_consistency([(0, 1), (1, 2)], [0, 1])


def test_per_node_credit_is_readonly_and_serialisable():
    r = local_consistency([(0, 1), (1, 2)], [0, 0, 1])
    with pytest.raises(ValueError):
        r.credit[0] = 0.5
    d = r.to_dict(per_node=True)
    assert d["credit"] == [1.0, 0.0, 0.0]
