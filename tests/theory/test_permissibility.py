"""Permissibility lemmas: thresholds (symbolic vs numeric), recovery below ell*, mu+ = 0."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sip_theory.graphs import SampleGraph, cliques_from_labels, radius_graph
from sip_theory.testing import cluster_graphs, geometric_graphs, sample_graphs
from sip_theory.theory import (
    ContrastiveMarginSpec,
    MultiSimilaritySpec,
    contrastive_margin_derivation,
    contrastive_margin_loss,
    contrastive_margin_threshold,
    contrastive_zero_margin_lower_bound,
    is_permissible,
    multi_similarity_derivation,
    multi_similarity_loss,
    multi_similarity_threshold,
)


@settings(max_examples=30, deadline=None)
@given(st.floats(0, 5), st.floats(0.1, 5), st.integers(1, 500))
def test_symbolic_contrastive_threshold_matches_closed_form(mp, gap, m):
    d = contrastive_margin_derivation()
    s = d.symbols
    subs = {s["mu_pos"]: mp, s["mu_neg"]: mp + gap, s["M"]: m}
    assert float(d.results["loss_level"].subs(subs)) == pytest.approx(gap / (2 * m))
    assert float(d.results["radius"].subs(subs)) == pytest.approx(mp + gap / 2)
    th = contrastive_margin_threshold(mp, mp + gap, m)
    assert th.loss_level == pytest.approx(gap / (2 * m))
    assert th.radius == pytest.approx(mp + gap / 2)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.1, 50), st.floats(-1, 1), st.floats(0, 3), st.integers(1, 10))
def test_symbolic_ms_sum_condition_matches_numeric_instances(alpha, t, x_sum, n_pos):
    d = multi_similarity_derivation()
    below = math.log1p(x_sum) / alpha < math.log(2) / alpha
    assert below == (x_sum < 1)
    assert d.results["radius"].subs(d.symbols["t"], t) == pytest.approx(1 - t)
    th = multi_similarity_threshold(alpha, 2.0, t, 7)
    assert th.per_anchor["positive"] == pytest.approx(math.log(2) / alpha)
    assert th.loss_level == pytest.approx(math.log(2) / (7 * max(alpha, 2.0)))
    assert sp.simplify(d.results["mean_level"] - sp.log(2) / (d.symbols["N"] * sp.Max(
        d.symbols["alpha"], d.symbols["beta"]))) == 0


def _radius_graph_equals(points, r, graph):
    return radius_graph(points, r) == SampleGraph.from_edges(graph.edges(), n_nodes=graph.n_nodes)


@settings(max_examples=60, deadline=None)
@given(geometric_graphs(min_nodes=3, max_nodes=8, max_dim=2), st.floats(0.0, 1.0),
       st.floats(0.0, 1.0), st.floats(0.0, 0.3), st.integers(0, 2**16))
def test_contrastive_loss_below_level_implies_exact_recovery(case, a, b, noise, seed):
    graph, points, _ = case
    # margins around the realized gap, then perturb the points: loss may or may not be below ell*
    rng = np.random.default_rng(seed)
    x = points + noise * rng.standard_normal(points.shape)
    d = np.linalg.norm(points[:, None] - points[None], axis=-1)
    e = graph.edges()
    off = ~np.eye(len(points), dtype=bool)
    linked = d[e[:, 0], e[:, 1]] if len(e) else np.array([0.0])
    adj = graph.to_dense() > 0
    unl = d[~adj & off]
    hi = float(linked.max())
    lo = float(unl.min()) if unl.size else hi + 1.0
    assume(lo > hi)
    mp = hi * (1 - 0.2 * a)
    mn = max(lo * (1 + 0.2 * b), mp + 1e-6)
    th = contrastive_margin_threshold(mp, mn, len(points) * (len(points) - 1) // 2)
    loss = contrastive_margin_loss(x, graph, pos_margin=mp, neg_margin=mn)
    if loss < th.loss_level:
        assert _radius_graph_equals(x, th.radius, graph)
    elif not _radius_graph_equals(x, th.radius, graph):
        assert loss >= th.loss_level  # contrapositive, always checked


@settings(max_examples=60, deadline=None)
@given(sample_graphs(min_nodes=3, max_nodes=8), st.integers(0, 2**16), st.floats(0.01, 5),
       st.floats(0.5, 10))
def test_zero_positive_margin_non_cluster_graph_never_below_twice_level(g, seed, scale, mn):
    assume(not g.is_cluster_graph())
    x = scale * np.random.default_rng(seed).standard_normal((g.n_nodes, 3))
    loss = contrastive_margin_loss(x, g, pos_margin=0.0, neg_margin=mn)
    bound = contrastive_zero_margin_lower_bound(g, neg_margin=mn)
    level = contrastive_margin_threshold(0.0, mn, g.n_nodes * (g.n_nodes - 1) // 2).loss_level
    assert bound >= 2 * level - 1e-12
    assert loss >= bound - 1e-12


@settings(max_examples=30, deadline=None)
@given(sample_graphs(min_nodes=3, max_nodes=7))
def test_zero_positive_margin_permissible_iff_cluster_graph(g):
    rep = is_permissible(ContrastiveMarginSpec(0.0, 4.0), g)
    assert rep.permissible is g.is_cluster_graph()


@settings(max_examples=20, deadline=None)
@given(cluster_graphs(min_nodes=2, max_nodes=8))
def test_cluster_graph_witness_reaches_zero_loss(g):
    rep = is_permissible({"loss": "contrastive_margin", "pos_margin": 0.0, "neg_margin": 3.0}, g)
    assert rep.permissible and rep.witness_loss == 0.0


def test_positive_margin_gram_witness_makes_a_path_permissible():
    rep = is_permissible(ContrastiveMarginSpec(1.0, 1.05), [(0, 1), (1, 2), (2, 3)])
    assert rep.permissible is True


@settings(max_examples=40, deadline=None)
@given(sample_graphs(min_nodes=3, max_nodes=7), st.integers(0, 2**16), st.floats(1, 20),
       st.floats(1, 60), st.floats(-0.5, 0.9))
def test_ms_per_anchor_levels_imply_exact_cosine_recovery(g, seed, alpha, beta, t):
    x = np.random.default_rng(seed).standard_normal((g.n_nodes, 4))
    terms = multi_similarity_loss(x, g, alpha=alpha, beta=beta, threshold=t)
    th = multi_similarity_threshold(alpha, beta, t, g.n_nodes)
    ok = np.all(terms.positive < th.per_anchor["positive"]) and np.all(
        terms.negative < th.per_anchor["negative"])
    recovered = radius_graph(x, th.radius, metric="cosine") == SampleGraph.from_edges(
        g.edges(), n_nodes=g.n_nodes)
    if ok:
        assert recovered
    if terms.mean < th.loss_level:
        assert ok


def test_ms_loss_matches_pytorch_metric_learning():
    losses = pytest.importorskip("pytorch_metric_learning.losses")
    import torch

    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3))
    y = np.array([0, 0, 1, 1, 1, 2, 2, 0])
    g = cliques_from_labels(y)
    ours = multi_similarity_loss(x, g, alpha=2.0, beta=40.0, threshold=0.3).mean
    theirs = losses.MultiSimilarityLoss(alpha=2.0, beta=40.0, base=0.3)(
        torch.tensor(x), torch.tensor(y)).item()
    assert ours == pytest.approx(theirs, rel=1e-6)


def test_ms_report_uses_simplex_witness_for_cliques():
    rep = is_permissible(MultiSimilaritySpec(2.0, 40.0, 0.5), cliques_from_labels([0, 0, 1, 1]))
    assert rep.permissible is True


def test_bad_spec_raises():
    with pytest.raises(ValueError, match="pos_margin"):
        ContrastiveMarginSpec(2.0, 1.0)
    with pytest.raises(ValueError, match="loss"):
        is_permissible({"loss": "triplet"}, [(0, 1)])
