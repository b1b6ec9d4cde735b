"""Parity with pytorch-metric-learning (PML) on graph-derived index tuples, float64.

PML's own conventions are set explicitly on its side: unnormalized Lp distance
(``LpDistance(normalize_embeddings=False)``) where our default is unnormalized,
and the reducer matching the reduction under test.
"""

import numpy as np
import pytest
import torch

pml = pytest.importorskip("pytorch_metric_learning")
from pytorch_metric_learning import distances, losses, miners, reducers  # noqa: E402

from sip_theory.graphs import SampleGraph, add_random_edges, cliques_from_labels  # noqa: E402
from sip_theory.losses import (  # noqa: E402
    batch_pairs,
    contrastive_margin_loss,
    info_nce_loss,
    multi_similarity_loss,
    sample_pairs,
    triplet_margin_loss,
)

TOL = dict(rtol=1e-6, atol=1e-6)


def _graph(n=24, seed=0):
    labels = np.arange(n) % 4
    g = cliques_from_labels(labels)
    return add_random_edges(g, 0.1, seed=seed), labels


def _emb(n=24, d=5, seed=0, scale=1.0):
    gen = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(n, d, generator=gen, dtype=torch.float64)).requires_grad_(True)


def _tuples(kind, g, seed=0):
    if kind == "sampled":
        return tuple(torch.as_tensor(x) for x in sample_pairs(g, seed=seed).global_pairs())
    return tuple(torch.as_tensor(x) for x in batch_pairs(g, np.arange(g.n_nodes)))


def _value_and_grad(fn, emb):
    x = emb.detach().clone().requires_grad_(True)
    val = fn(x)
    (g,) = torch.autograd.grad(val, x)
    return val.detach(), g


def _assert_same(ours, theirs, emb):
    v1, g1 = _value_and_grad(ours, emb)
    v2, g2 = _value_and_grad(theirs, emb)
    torch.testing.assert_close(v1, v2, **TOL)
    torch.testing.assert_close(g1, g2, **TOL)


@pytest.mark.parametrize("kind", ["sampled", "all_pairs"])
@pytest.mark.parametrize(
    ("ours_red", "pml_reducer"),
    [("paper", reducers.MeanReducer), ("avg_nonzero", reducers.AvgNonZeroReducer)],
)
def test_contrastive_matches_pml_contrastive_loss(kind, ours_red, pml_reducer):
    g, _ = _graph()
    emb = _emb(scale=1.5)
    tup = _tuples(kind, g)
    pml_loss = losses.ContrastiveLoss(
        pos_margin=0.5, neg_margin=3.0,
        distance=distances.LpDistance(normalize_embeddings=False, p=2, power=1),
        reducer=pml_reducer(),
    )
    _assert_same(
        lambda x: contrastive_margin_loss(x, tup, pos_margin=0.5, neg_margin=3.0,
                                          reduction=ours_red),
        lambda x: pml_loss(x, indices_tuple=tup),
        emb,
    )


def test_contrastive_normalized_matches_pml_default_distance():
    g, _ = _graph()
    emb = _emb()
    tup = _tuples("sampled", g, seed=3)
    pml_loss = losses.ContrastiveLoss(pos_margin=0.1, neg_margin=1.0)
    _assert_same(
        lambda x: contrastive_margin_loss(x, tup, pos_margin=0.1, neg_margin=1.0,
                                          normalize=True, reduction="avg_nonzero"),
        lambda x: pml_loss(x, indices_tuple=tup),
        emb,
    )


@pytest.mark.parametrize("kind", ["sampled", "all_pairs"])
def test_multi_similarity_matches_pml_multi_similarity_loss(kind):
    g, _ = _graph()
    emb = _emb()
    tup = _tuples(kind, g, seed=1)
    pml_loss = losses.MultiSimilarityLoss(alpha=2, beta=50, base=0.5)
    _assert_same(
        lambda x: multi_similarity_loss(x, tup, alpha=2.0, beta=50.0, base=0.5),
        lambda x: pml_loss(x, indices_tuple=tup),
        emb,
    )


def test_multi_similarity_with_ref_embeddings_matches_pml():
    g, _ = _graph()
    emb, ref = _emb(seed=4), _emb(seed=5)
    tup = _tuples("all_pairs", g)
    pml_loss = losses.MultiSimilarityLoss(alpha=3, beta=20, base=0.2)
    ours = multi_similarity_loss(emb, tup, ref, alpha=3.0, beta=20.0, base=0.2)
    theirs = pml_loss(emb, indices_tuple=tup, ref_emb=ref)
    torch.testing.assert_close(ours, theirs, **TOL)
    g1 = torch.autograd.grad(ours, (emb, ref))
    g2 = torch.autograd.grad(theirs, (emb, ref))
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(a, b, **TOL)


def test_multi_similarity_mining_matches_pml_miner_on_clique_graph():
    # on a clique graph, graph pairs are exactly PML's same-label pairs
    labels = np.repeat(np.arange(4), 6)
    g = cliques_from_labels(labels)
    emb = _emb(seed=7)
    miner = miners.MultiSimilarityMiner(epsilon=0.1)
    pml_loss = losses.MultiSimilarityLoss()
    lab = torch.as_tensor(labels)

    def theirs(x):
        return pml_loss(x, indices_tuple=miner(x, lab))

    tup = _tuples("all_pairs", g)
    _assert_same(lambda x: multi_similarity_loss(x, tup, mining=True, epsilon=0.1), theirs, emb)


@pytest.mark.parametrize("tuple_form", ["triplets", "pairs"])
def test_triplet_matches_pml_triplet_margin_loss(tuple_form):
    g, _ = _graph()
    emb = _emb()
    s = sample_pairs(g, seed=2)
    if tuple_form == "triplets":
        ok = (s.positives >= 0) & (s.negatives >= 0)
        tup = tuple(torch.as_tensor(x[ok]) for x in (s.anchors, s.positives, s.negatives))
    else:
        tup = _tuples("all_pairs", g)
    pml_loss = losses.TripletMarginLoss(
        margin=0.7, distance=distances.LpDistance(normalize_embeddings=False),
        reducer=reducers.MeanReducer(),
    )
    _assert_same(
        lambda x: triplet_margin_loss(x, tup, margin=0.7),
        lambda x: pml_loss(x, indices_tuple=tup),
        emb,
    )


def test_triplet_avg_nonzero_normalized_matches_pml_defaults():
    g, _ = _graph()
    emb = _emb(seed=9)
    tup = _tuples("sampled", g, seed=9)
    a1, p, a2, n = tup
    pml_loss = losses.TripletMarginLoss(margin=0.05)
    _assert_same(
        lambda x: triplet_margin_loss(x, tup, margin=0.05, normalize=True,
                                      reduction="avg_nonzero"),
        lambda x: pml_loss(x, indices_tuple=tup),
        emb,
    )


def test_info_nce_supcon_out_matches_pml_supcon_per_anchor():
    g, _ = _graph()
    emb = _emb(seed=11)
    tup = _tuples("all_pairs", g)
    pml_loss = losses.SupConLoss(temperature=0.3, reducer=reducers.DoNothingReducer())
    ours = info_nce_loss(emb, tup, temperature=0.3, reduction="none")
    theirs = pml_loss(emb, indices_tuple=tup)["loss"]["losses"]
    torch.testing.assert_close(ours, theirs, **TOL)


def test_info_nce_ntxent_matches_pml_ntxent():
    g, _ = _graph()
    emb = _emb(seed=12)
    tup = _tuples("all_pairs", g)
    pml_loss = losses.NTXentLoss(temperature=0.5, reducer=reducers.MeanReducer())
    _assert_same(
        lambda x: info_nce_loss(x, tup, temperature=0.5, variant="ntxent"),
        lambda x: pml_loss(x, indices_tuple=tup),
        emb,
    )


def test_parity_tuples_come_from_graph_edges():
    # guard: the tuples used above really are graph pairs (positives linked, negatives not)
    g = SampleGraph.from_edges([(0, 1), (1, 2)], n_nodes=4)
    a1, p, a2, n = _tuples("all_pairs", g)
    assert all(g.has_edge(int(i), int(j)) for i, j in zip(a1, p, strict=True))
    assert not any(g.has_edge(int(i), int(j)) for i, j in zip(a2, n, strict=True))
