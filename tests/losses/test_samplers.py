"""Graph pair samplers: partners are neighbours / admissible non-neighbours, uniformly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.graphs import SampleGraph, cliques_from_labels
from sip_theory.losses import GraphPairSampler, batch_pairs, sample_pairs


@st.composite
def graphs(draw, max_n=14):
    n = draw(st.integers(1, max_n))
    p = draw(st.floats(0.0, 1.0))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    iu = np.triu_indices(n, 1)
    keep = rng.random(iu[0].size) < p
    return SampleGraph.from_edges(np.stack([iu[0][keep], iu[1][keep]], 1), n_nodes=n)


@settings(max_examples=60, deadline=None)
@given(graphs(), st.sampled_from(["global", "component"]), st.integers(0, 1000))
def test_positives_are_neighbours_and_negatives_admissible_non_neighbours(g, pool, seed):
    s = sample_pairs(g, np.tile(np.arange(g.n_nodes), 3), seed=seed, negatives=pool)
    _, comp = g.connected_components()
    deg = g.degrees()
    for a, p, n in zip(s.anchors, s.positives, s.negatives, strict=True):
        if p >= 0:
            assert g.has_edge(int(a), int(p))
        else:
            assert deg[a] == 0
        pool_size = g.n_nodes if pool == "global" else int((comp == comp[a]).sum())
        if n >= 0:
            assert n != a and not g.has_edge(int(a), int(n))
            if pool == "component":
                assert comp[n] == comp[a]
        else:
            assert pool_size - 1 - deg[a] == 0


def test_isolated_node_and_universal_node_get_minus_one():
    g = SampleGraph.from_edges([(0, 1), (0, 2), (1, 2)], n_nodes=4)
    s = sample_pairs(g, seed=0)
    assert s.positives[3] == -1 and s.n_without_positive == 1
    # component pool: nodes 0..2 form a clique, node 3 is alone -> nobody has a negative
    sc = sample_pairs(g, seed=0, negatives="component")
    assert sc.n_without_negative == 4


def _frequencies(sampler, anchor, draws, seed, which):
    s = sampler.sample(np.full(draws, anchor), seed=seed)
    vals = s.negatives if which == "neg" else s.positives
    return np.bincount(vals, minlength=sampler.n)


@pytest.mark.parametrize("pool", ["global", "component"])
def test_negatives_are_uniform_on_rejection_and_exact_paths(pool):
    # node 0 links to 1..7 of a 10-node component (exact path: 2 admissible of 10),
    # node 8 links only to 0 (rejection path); a second component 10..13
    edges = [(0, j) for j in range(1, 8)] + [(0, 8), (8, 9)] + [(10, 11), (11, 12), (12, 13)]
    g = SampleGraph.from_edges(edges, n_nodes=14)
    sampler = GraphPairSampler(g, negatives=pool)
    draws = 20_000
    for anchor in (0, 8):
        f = _frequencies(sampler, anchor, draws, seed=anchor, which="neg")
        excluded = set(g.neighbors(anchor).tolist()) | {anchor}
        pool_nodes = range(14) if pool == "global" else range(10)
        allowed = [v for v in pool_nodes if v not in excluded]
        assert set(np.flatnonzero(f).tolist()) == set(allowed)
        expected = draws / len(allowed)
        sigma = np.sqrt(expected)
        assert np.abs(f[allowed] - expected).max() < 5 * sigma


def test_exact_path_matches_rejection_distribution_on_dense_rows():
    rng = np.random.default_rng(0)
    n = 40
    a = (rng.random((n, n)) < 0.85).astype(int)
    g = SampleGraph.from_dense(np.triu(a, 1) + np.triu(a, 1).T)
    s = sample_pairs(g, np.repeat(np.arange(n), 50), seed=1)
    ok = s.negatives >= 0
    assert ok.any()
    assert not g.to_dense()[s.anchors[ok], s.negatives[ok]].any()
    assert not (s.anchors[ok] == s.negatives[ok]).any()


def test_positives_are_uniform_over_neighbours():
    g = SampleGraph.from_edges([(0, j) for j in range(1, 6)])
    f = _frequencies(GraphPairSampler(g), 0, 10_000, 3, "pos")
    assert np.abs(f[1:] - 2000).max() < 5 * np.sqrt(2000)


def test_weighted_positives_follow_edge_weights():
    g = SampleGraph.from_edges([(0, 1), (0, 2)], weights=[1.0, 3.0])
    f = _frequencies(GraphPairSampler(g, positives="weighted"), 0, 8000, 4, "pos")
    assert abs(f[2] - 6000) < 5 * np.sqrt(8000 * 0.25 * 0.75)


def test_same_seed_same_sample_and_generator_threads_state():
    g = cliques_from_labels(np.arange(30) % 3)
    a, b = sample_pairs(g, seed=5), sample_pairs(g, seed=5)
    assert np.array_equal(a.negatives, b.negatives) and np.array_equal(a.positives, b.positives)
    rng = np.random.default_rng(5)
    c, d = sample_pairs(g, seed=rng), sample_pairs(g, seed=rng)
    assert not np.array_equal(c.negatives, d.negatives)


def test_seed_none_is_refused():
    with pytest.raises(ValueError, match="seed"):
        sample_pairs(cliques_from_labels([0, 0]), seed=None)


def test_local_pairs_index_reference_rows():
    g = SampleGraph.from_edges([(0, 1), (2, 3)], n_nodes=5)
    s = sample_pairs(g, seed=0)
    refs, (a1, p, a2, n) = s.local_pairs()
    assert np.array_equal(refs[p], s.positives[a1])
    assert np.array_equal(refs[n], s.negatives[a2])
    assert 4 not in a1  # isolated node has no positive pair


@settings(max_examples=40, deadline=None)
@given(graphs(max_n=10), st.integers(0, 1000), st.sampled_from(["global", "component"]))
def test_batch_pairs_label_every_pair_by_the_induced_subgraph(g, seed, pool):
    rng = np.random.default_rng(seed)
    nodes = rng.integers(0, g.n_nodes, size=rng.integers(1, 12))
    a1, p, a2, n = batch_pairs(g, nodes, negatives=pool)
    _, comp = g.connected_components()
    b = nodes.size
    label = np.zeros((b, b), dtype=int)  # 1 positive, -1 negative
    label[a1, p] += 1
    label[a2, n] -= 1
    for i in range(b):
        for j in range(b):
            u, v = int(nodes[i]), int(nodes[j])
            if i == j:
                want = 0
            elif u == v or g.has_edge(u, v):
                want = 1  # copies of one node are positives, never negatives
            elif pool == "global" or comp[u] == comp[v]:
                want = -1
            else:
                want = 0
            assert label[i, j] == want


def test_batch_pairs_with_reference_rows_pairs_a_node_with_its_copy():
    g = SampleGraph.from_edges([(0, 1)], n_nodes=3)
    a1, p, a2, n = batch_pairs(g, [0, 2], ref_nodes=[0, 1, 2])
    assert sorted(zip(a1.tolist(), p.tolist(), strict=True)) == [(0, 0), (0, 1), (1, 2)]
    assert sorted(zip(a2.tolist(), n.tolist(), strict=True)) == [(0, 2), (1, 0), (1, 1)]


def test_anchors_out_of_range_are_refused():
    with pytest.raises(ValueError, match="anchors"):
        sample_pairs(cliques_from_labels([0, 0]), [5], seed=0)
