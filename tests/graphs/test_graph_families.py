"""Tests of the method-family constructors (theory.md section 2)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.graphs import (
    augmentation_stars,
    cartesian_product_cliques,
    cliques_from_labels,
    empty_graph,
    kpartite_matching,
    multitask_label_graph,
    sentence_sticks,
)
from sip_theory.testing import labelings

FAST = settings(max_examples=30, deadline=None)
sizes = st.integers(0, 12)


def _partition(labels):
    """The label classes as a set of frozensets of node indices."""
    classes = {}
    for i, y in enumerate(np.asarray(labels).tolist()):
        classes.setdefault(y, set()).add(i)
    return {frozenset(c) for c in classes.values()}


def _components(g):
    _, lab = g.connected_components()
    return _partition(lab)


# --------------------------------------------------------------------- cliques
@FAST
@given(sizes.flatmap(lambda n: labelings(n, max_classes=5)))
def test_cliques_from_labels_is_cluster_graph_with_label_classes_as_components(y):
    g = cliques_from_labels(y)
    assert g.is_cluster_graph()
    assert _components(g) == _partition(y)


@FAST
@given(sizes.flatmap(lambda n: labelings(n, max_classes=5)))
def test_cliques_from_labels_links_exactly_same_label_pairs(y):
    g = cliques_from_labels(y)
    expected = [[i, j] for i, j in itertools.combinations(range(len(y)), 2) if y[i] == y[j]]
    assert g.edges().tolist() == expected


def test_cliques_from_labels_leaves_missing_labels_isolated():
    g = cliques_from_labels([-1, 0, -1, 0], missing=-1)
    assert g.edges().tolist() == [[1, 3]]


def test_cliques_from_labels_accepts_string_labels():
    assert cliques_from_labels(["x", "y", "x"]).edges().tolist() == [[0, 2]]


def test_cliques_from_labels_rejects_2d_labels_naming_labels():
    with pytest.raises(ValueError, match="labels must be 1-dimensional"):
        cliques_from_labels([[0, 1]])


def test_empty_graph_has_no_edges():
    g = empty_graph(4)
    assert (g.n_nodes, g.n_edges) == (4, 0)


# ---------------------------------------------------------------- multi-task
@FAST
@given(st.integers(0, 10).flatmap(lambda n: st.tuples(labelings(n), labelings(n))))
def test_cartesian_product_cliques_equal_cliques_of_label_tuples(pair):
    a, b = pair
    joint = [f"{u}|{v}" for u, v in zip(a.tolist(), b.tolist(), strict=True)]
    assert cartesian_product_cliques([a, b]) == cliques_from_labels(np.array(joint, dtype=str))


@FAST
@given(st.integers(0, 10).flatmap(lambda n: st.tuples(labelings(n), labelings(n))))
def test_cartesian_product_cliques_is_intersection_of_task_cliques(pair):
    a, b = pair
    ea = set(map(tuple, cliques_from_labels(a).edges().tolist()))
    eb = set(map(tuple, cliques_from_labels(b).edges().tolist()))
    got = set(map(tuple, cartesian_product_cliques(np.stack([a, b], axis=1)).edges().tolist()))
    assert got == ea & eb


def test_cartesian_product_cliques_rejects_tasks_of_different_lengths():
    with pytest.raises(ValueError, match=r"label_sets\[1\] has length 2"):
        cartesian_product_cliques([[0, 1, 1], [0, 1]])


@FAST
@given(st.integers(1, 10).flatmap(lambda n: st.tuples(labelings(n), labelings(n))))
def test_multitask_label_graph_links_each_sample_to_one_label_node_per_task(pair):
    a, b = pair
    n = a.shape[0]
    g = multitask_label_graph([a, b])
    n_labels = len(set(a.tolist())) + len(set(b.tolist()))
    assert g.n_nodes == n + n_labels
    assert g.auxiliary.tolist() == [False] * n + [True] * n_labels
    assert g.degrees()[:n].tolist() == [2] * n
    e = g.edges()
    assert (e[:, 0] < n).all() and (e[:, 1] >= n).all()  # bipartite samples <-> labels


@FAST
@given(st.integers(1, 10).flatmap(lambda n: st.tuples(labelings(n), labelings(n))))
def test_multitask_samples_share_a_label_node_iff_they_share_that_label(pair):
    a, b = pair
    n = a.shape[0]
    g = multitask_label_graph([a, b], task_names=["A", "B"])
    ids = g.node_ids.tolist()
    for i in range(n):
        names = sorted(ids[j] for j in g.neighbors(i).tolist())
        assert names == [f"A={a[i]}", f"B={b[i]}"]


def test_multitask_label_graph_skips_missing_labels():
    g = multitask_label_graph([[0, 1, -1]], missing=-1)
    assert g.degrees().tolist() == [1, 1, 0, 1, 1]


def test_multitask_label_graph_rejects_wrong_task_names_length():
    with pytest.raises(ValueError, match="task_names must have length 2"):
        multitask_label_graph([[0], [1]], task_names=["only"])


# ---------------------------------------------------------------- augmentation
@FAST
@given(st.integers(0, 12), st.integers(1, 5))
def test_augmentation_stars_have_n_aug_times_n_edges(n, a):
    g, origin = augmentation_stars(n, a)
    assert g.n_nodes == n * (1 + a)
    assert g.n_edges == n * a


@FAST
@given(st.integers(1, 10), st.integers(1, 5))
def test_augmentation_stars_components_are_one_star_per_sample(n, a):
    g, origin = augmentation_stars(n, a)
    assert _components(g) == _partition(origin)
    assert g.degrees()[:n].tolist() == [a] * n
    assert g.degrees()[n:].tolist() == [1] * (n * a)


@FAST
@given(st.integers(0, 8), st.integers(1, 4))
def test_augmentation_views_linked_form_cliques(n, a):
    g, origin = augmentation_stars(n, a, link_views=True)
    assert g.is_cluster_graph()
    assert g.n_edges == n * (a + 1) * a // 2
    assert _components(g) == _partition(origin)


def test_augmentation_stars_reject_zero_augmentations_naming_n_aug():
    with pytest.raises(ValueError, match="n_aug must be >= 1"):
        augmentation_stars(3, 0)


# ------------------------------------------------------------------- k-partite
@FAST
@given(st.integers(0, 10), st.integers(2, 5))
def test_kpartite_matching_is_disjoint_k_cliques_one_per_sample(n, k):
    g, modality, sample = kpartite_matching(n, k)
    assert g.is_cluster_graph()
    assert g.n_edges == n * k * (k - 1) // 2
    assert _components(g) == _partition(sample)
    e = g.edges()
    assert (modality[e[:, 0]] != modality[e[:, 1]]).all()  # k-partite


@FAST
@given(st.integers(1, 10), st.integers(2, 5), st.data())
def test_kpartite_anchor_links_only_to_the_anchor_modality(n, k, data):
    anchor = data.draw(st.integers(0, k - 1))
    g, modality, sample = kpartite_matching(n, k, links="anchor", anchor=anchor)
    e = g.edges()
    assert g.n_edges == n * (k - 1)
    assert ((modality[e[:, 0]] == anchor) | (modality[e[:, 1]] == anchor)).all()
    assert (sample[e[:, 0]] == sample[e[:, 1]]).all()


def test_kpartite_rejects_anchor_out_of_range_naming_anchor():
    with pytest.raises(ValueError, match="anchor must be a modality index"):
        kpartite_matching(3, 2, links="anchor", anchor=2)


# ---------------------------------------------------------------------- sticks
@FAST
@given(st.lists(st.integers(0, 6), max_size=6))
def test_sentence_sticks_chain_each_document_into_a_path(lengths):
    s = sentence_sticks(lengths)
    assert s.graph.n_nodes == sum(lengths)
    assert s.graph.n_edges == sum(max(n - 1, 0) for n in lengths)
    e = s.graph.edges()
    assert (s.document[e[:, 0]] == s.document[e[:, 1]]).all()
    assert (s.position[e[:, 1]] == s.position[e[:, 0]] + 1).all()


@FAST
@given(st.lists(st.integers(0, 6), max_size=6))
def test_sentence_sticks_disjoint_pairing_is_a_matching(lengths):
    s = sentence_sticks(lengths, pairing="disjoint")
    assert s.graph.degrees().max(initial=0) <= 1
    assert s.graph.n_edges == sum(n // 2 for n in lengths)


@FAST
@given(st.lists(st.integers(0, 6), max_size=6))
def test_sentence_order_rows_point_from_earlier_to_later(lengths):
    s = sentence_sticks(lengths)
    assert s.order.tolist() == s.graph.edges().tolist()
    assert (s.position[s.order[:, 0]] < s.position[s.order[:, 1]]).all()


def test_sentence_sticks_reject_negative_lengths_naming_doc_lengths():
    with pytest.raises(ValueError, match="doc_lengths must hold non-negative integers"):
        sentence_sticks([3, -1])
