"""The mechanistic datasets: MOTIF / NEIGHBORHOOD / STRUCTURAL labels on cycle + graphlets."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from sip_theory.data import GenerationError, make_mechanistic_dataset
from sip_theory.graphs import graphlet_degree_vectors
from sip_theory.theory import node_homophily


@pytest.fixture(scope="module")
def paper():
    return make_mechanistic_dataset(seed=0)


def test_paper_sizes_give_ten_motif_classes_and_about_87_nodes():
    sizes = [make_mechanistic_dataset(seed=s).n_nodes for s in range(5)]
    d = make_mechanistic_dataset(seed=0)
    assert len(np.unique(d.labels["motif"])) == 10
    assert all(36 + 9 * 2 <= n <= 36 + 9 * 6 for n in sizes) and 75 < np.mean(sizes) < 95


def _is_lloyd_fixed_point(x, labels):
    centers = np.stack([x[labels == c].mean(0) for c in np.unique(labels)])
    d = ((x[:, None, :] - centers[None]) ** 2).sum(-1)
    own = d[np.arange(len(labels)), labels]
    return bool((own <= d.min(1) + 1e-9).all())


def test_neighborhood_labels_are_kmeans_of_the_four_hop_indicator(paper):
    g = paper.graph.to_networkx()
    n = paper.n_nodes
    within = np.zeros((n, n))
    for v, lengths in nx.all_pairs_shortest_path_length(g, cutoff=4):
        within[v, list(lengths)] = 1.0
    lab = paper.labels["neighborhood"]
    assert len(np.unique(lab)) == 4 and _is_lloyd_fixed_point(within, lab)


def test_structural_labels_are_kmeans_of_graphlet_degree_vectors(paper):
    gdv = graphlet_degree_vectors(paper.graph)
    assert np.array_equal(paper.extras["gdv"], gdv) and gdv.shape[1] == 73
    lab = paper.labels["structural"]
    assert len(np.unique(lab)) == 3 and _is_lloyd_fixed_point(gdv.astype(float), lab)


@pytest.mark.parametrize("text", ["motif", "neighborhood", "structural"])
def test_text_topics_one_per_class_of_the_aligned_labels_without_replacement(text):
    d = make_mechanistic_dataset(seed=2, text_labels=text)
    topic = d.topic_mixtures.argmax(1)
    assert (d.topic_mixtures.max(1) == 1.0).all() and d.task == text
    classes = d.labels[text]
    per_class = {c: set(topic[classes == c].tolist()) for c in np.unique(classes)}
    assert all(len(s) == 1 for s in per_class.values())
    assert len(set().union(*per_class.values())) == len(per_class)


def test_text_alignment_does_not_change_graph_or_labels():
    a = make_mechanistic_dataset(seed=4, text_labels="motif")
    b = make_mechanistic_dataset(seed=4, text_labels="structural")
    assert a.graph == b.graph
    assert all(np.array_equal(a.labels[k], b.labels[k]) for k in a.labels)


def test_same_seed_reproduces_and_other_seed_differs():
    a, b = make_mechanistic_dataset(seed=5), make_mechanistic_dataset(seed=5)
    assert a.graph == b.graph and np.array_equal(a.topic_mixtures, b.topic_mixtures)
    assert a.graph != make_mechanistic_dataset(seed=6).graph


def test_structural_labels_are_less_local_than_motif(paper):
    def homophily(task):
        return node_homophily(paper.pt_graph, paper.labels[task][paper.pt_nodes])

    assert homophily("structural") < homophily("motif") - 0.2


def test_unsatisfiable_kmeans_raises_generation_error():
    with pytest.raises(GenerationError, match="structural"):
        make_mechanistic_dataset(seed=0, n_structural=90, max_attempts=2)


def test_too_few_topics_for_the_text_classes_raises():
    with pytest.raises(ValueError, match="n_topics"):
        make_mechanistic_dataset(seed=0, n_topics=5)
