"""Tests of the random graph perturbations: add, remove, flip."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.graphs import (
    SampleGraph,
    add_random_edges,
    cliques_from_labels,
    empty_graph,
    flip_pairs,
    multitask_label_graph,
    remove_random_edges,
)
from sip_theory.graphs._noise import _decode_pairs, _encode_pairs
from sip_theory.testing import sample_graphs

FAST = settings(max_examples=30, deadline=None)
probs = st.floats(0.0, 1.0)
seeds = st.integers(0, 2**32 - 1)


def edge_set(g):
    return set(map(tuple, g.edges().tolist()))


# ---------------------------------------------------------------- properties
@FAST
@given(sample_graphs(max_nodes=12), probs, seeds)
def test_add_random_edges_keeps_every_original_edge(g, p, seed):
    assert edge_set(g) <= edge_set(add_random_edges(g, p, seed=seed))


@FAST
@given(sample_graphs(max_nodes=12, weighted=True), probs, seeds)
def test_add_random_edges_keeps_original_weights_and_gives_new_ones_weight(g, p, seed):
    noisy = add_random_edges(g, p, seed=seed, weight=0.25)
    old = dict(zip(map(tuple, g.edges().tolist()), g.edge_weights().tolist(), strict=True))
    for e, w in zip(map(tuple, noisy.edges().tolist()), noisy.edge_weights().tolist(),
                    strict=True):
        assert w == old.get(e, 0.25)


@FAST
@given(sample_graphs(max_nodes=12), probs, seeds)
def test_remove_random_edges_gives_a_subgraph(g, p, seed):
    assert edge_set(remove_random_edges(g, p, seed=seed)) <= edge_set(g)


@FAST
@given(sample_graphs(max_nodes=12), probs, seeds)
def test_flip_pairs_changes_only_the_hit_pairs_consistently(g, p, seed):
    # flipping twice with the same seed restores the graph: the hit pairs do not depend on it
    once = flip_pairs(g, p, seed=seed)
    assert flip_pairs(once, p, seed=seed) == g


@FAST
@given(sample_graphs(max_nodes=12), seeds)
def test_probability_extremes(g, seed):
    n = g.n_nodes
    assert add_random_edges(g, 0.0, seed=seed) == g
    assert add_random_edges(g, 1.0, seed=seed).n_edges == n * (n - 1) // 2
    assert remove_random_edges(g, 1.0, seed=seed).n_edges == 0
    assert flip_pairs(g, 0.0, seed=seed) == g
    assert flip_pairs(g, 1.0, seed=seed).n_edges == n * (n - 1) // 2 - g.n_edges


@FAST
@given(sample_graphs(max_nodes=10, auxiliary=True), probs, seeds)
def test_noise_preserves_nodes_and_auxiliary_mask(g, p, seed):
    for noisy in (add_random_edges(g, p, seed=seed), flip_pairs(g, p, seed=seed)):
        assert noisy.n_nodes == g.n_nodes
        assert noisy.auxiliary.tolist() == g.auxiliary.tolist()


def test_nodes_argument_restricts_noise_to_sample_nodes():
    g = multitask_label_graph([[0, 1, 0, 1, 2]], sample_ids=list("abcde"))
    noisy = flip_pairs(g, 1.0, seed=0, nodes=g.sample_nodes)
    e = noisy.edges()
    samples = set(g.sample_nodes.tolist())
    new = edge_set(noisy) - edge_set(g)
    assert new and all(i in samples and j in samples for i, j in new)
    assert noisy.node_ids.tolist() == g.node_ids.tolist()
    assert edge_set(g) <= set(map(tuple, e.tolist()))  # sample-label links untouched


def test_same_seed_gives_same_graph_and_generator_is_accepted():
    g = cliques_from_labels([0, 0, 1, 1, 2, 2, 2])
    assert add_random_edges(g, 0.3, seed=7) == add_random_edges(g, 0.3, seed=7)
    rng = np.random.default_rng(7)
    assert add_random_edges(g, 0.3, seed=rng) == add_random_edges(g, 0.3, seed=7)


@given(st.integers(1, 10**7), st.data())
@FAST
def test_pair_codes_round_trip_for_large_indices(hi, data):
    lo = data.draw(st.integers(0, hi - 1))
    got_lo, got_hi = _decode_pairs(_encode_pairs(np.array([lo]), np.array([hi])))
    assert (int(got_lo[0]), int(got_hi[0])) == (lo, hi)


# ---------------------------------------------------------------- statistics
# Under a correct implementation a count of Binomial(N, p) trials lies within 5 standard
# deviations of N p except with probability < 6e-7 (normal approximation, N p (1 - p) >> 1),
# so a failure at these fixed seeds signals a real bias, not bad luck.
def within_5_sd(count, trials, p):
    return abs(count - trials * p) <= 5 * math.sqrt(trials * p * (1 - p))


def test_flip_noise_flips_edges_and_non_edges_each_with_probability_p():
    g = cliques_from_labels(np.arange(400) % 4)  # 4 cliques of 100: 19800 edges
    n_pairs = 400 * 399 // 2
    n_edges = g.n_edges
    p = 0.1
    noisy = flip_pairs(g, p, seed=2024)
    removed = len(edge_set(g) - edge_set(noisy))
    added = len(edge_set(noisy) - edge_set(g))
    assert within_5_sd(removed, n_edges, p)
    assert within_5_sd(added, n_pairs - n_edges, p)


def test_flip_noise_hits_each_individual_pair_with_probability_p():
    g = SampleGraph.from_edges([[0, 1], [2, 3]], n_nodes=5)  # 10 pairs
    p, reps = 0.3, 1000
    counts = np.zeros((5, 5))
    for seed in range(reps):
        diff = flip_pairs(g, p, seed=seed).to_dense() != g.to_dense()
        counts += diff
    iu = np.triu_indices(5, 1)
    for c in counts[iu]:
        assert within_5_sd(c, reps, p)


def test_add_random_edges_adds_each_non_edge_with_probability_p():
    g = cliques_from_labels(np.arange(300) % 3)
    non_edges = 300 * 299 // 2 - g.n_edges
    p = 0.05
    added = add_random_edges(g, p, seed=11).n_edges - g.n_edges
    assert within_5_sd(added, non_edges, p)


def test_add_random_edges_is_sparse_friendly_for_a_million_nodes():
    g = add_random_edges(empty_graph(1_000_000), 1e-7, seed=3)
    assert within_5_sd(g.n_edges, 10**6 * (10**6 - 1) // 2, 1e-7)


# -------------------------------------------------------------------- errors
def test_probability_out_of_range_raises_naming_p():
    with pytest.raises(ValueError, match="p must be in"):
        add_random_edges(empty_graph(3), 1.5, seed=0)


def test_missing_seed_raises_naming_seed():
    with pytest.raises(ValueError, match="seed must be an int"):
        flip_pairs(empty_graph(3), 0.5, seed=None)


def test_non_positive_weight_raises_naming_weight():
    with pytest.raises(ValueError, match="weight must be positive"):
        add_random_edges(empty_graph(3), 0.5, seed=0, weight=0.0)


def test_nodes_out_of_range_raise_naming_nodes():
    with pytest.raises(ValueError, match="nodes contains indices out of range"):
        flip_pairs(empty_graph(3), 0.5, seed=0, nodes=[0, 5])
