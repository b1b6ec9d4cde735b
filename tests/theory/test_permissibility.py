"""Permissibility lemmas: thresholds (symbolic vs numeric), recovery below ell*, mu+ = 0."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sip_theory.graphs import SampleGraph, cliques_from_labels, radius_graph
from sip_theory.testing import cluster_graphs, sample_graphs
from sip_theory.theory import (
    ContrastiveMarginSpec,
    MultiSimilaritySpec,
    contrastive_margin_derivation,
    contrastive_margin_objective,
    contrastive_margin_threshold,
    contrastive_zero_margin_lower_bound,
    is_permissible,
    multi_similarity_derivation,
    multi_similarity_objective,
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



def _same(a, b):
    return sp.simplify(a - b) == 0


def test_contrastive_derivation_derives_the_known_closed_forms():
    # ell* = (mu- - mu+) / (2M) and r = (mu+ + mu-)/2 (Hadsell et al.'s margins; the midpoint)
    d = contrastive_margin_derivation()
    s = d.symbols
    assert _same(d.results["loss_level"], (s["mu_neg"] - s["mu_pos"]) / (2 * s["M"]))
    assert _same(d.results["radius"], (s["mu_pos"] + s["mu_neg"]) / 2)
    # the solved linked / unlinked bounds meet at ell*: mu+ + M ell* = mu- - M ell* = r
    lo, hi = d.steps[2][1], d.steps[3][1]
    at = {s["ell"]: d.results["loss_level"]}
    assert _same(lo.rhs.subs(at), d.results["radius"]) and _same(hi.rhs.subs(at),
                                                                  d.results["radius"])


def test_ms_derivation_derives_the_known_closed_forms():
    # per-anchor levels log 2 / alpha, log 2 / beta; r = 1 - t; ell* = log 2 / (N max(alpha,beta))
    d = multi_similarity_derivation()
    s = d.symbols
    al, be, t, n = s["alpha"], s["beta"], s["t"], s["N"]
    assert _same(d.results["positive_level"], sp.log(2) / al)
    assert _same(d.results["negative_level"], sp.log(2) / be)
    assert _same(d.results["radius"], 1 - t)
    assert _same(d.results["log_positive_count_limit"], al * (1 - t))
    assert _same(d.results["log_negative_count_limit"], be * (1 + t))
    # Max does not simplify against Min symbolically: both orders of the scales, by value
    for a_val, b_val in ((2, 40), (40, 2), (3, 3)):
        got = d.results["mean_level"].subs({al: a_val, be: b_val, n: 7})
        assert _same(got, sp.log(2) / (7 * max(a_val, b_val)))
    # the positive level is the term's value at X = 1, the largest sum whose summands are < 1
    x = s["X"]
    assert _same((sp.log(1 + x) / al).subs(x, 1), d.results["positive_level"])


@settings(max_examples=30, deadline=None)
@given(st.floats(0.1, 50), st.floats(0.1, 50), st.floats(-0.9, 0.9), st.floats(1e-3, 0.05))
def test_ms_derived_levels_are_the_loss_at_the_boundary_similarity(alpha, beta, t, eps):
    # two points at cosine similarity exactly t: linked, anchor 0's positive term is
    # log(1 + 1)/alpha, the derived level; unlinked, its negative term is log 2 / beta. The
    # library's loss, not a formula, is evaluated on these points
    d = multi_similarity_derivation()
    sym = d.symbols
    subs = {sym["alpha"]: alpha, sym["beta"]: beta, sym["t"]: t}
    th = multi_similarity_threshold(alpha, beta, t, 2)
    theta = math.acos(t)
    pos_pair = [[1.0, 0.0], [math.cos(theta), math.sin(theta)]]
    at = multi_similarity_objective(pos_pair, [(0, 1)], alpha=alpha, beta=beta, threshold=t)
    assert at.positive[0] == pytest.approx(float(d.results["positive_level"].subs(subs)), rel=1e-9)
    assert at.positive[0] == pytest.approx(th.per_anchor["positive"], rel=1e-9)
    neg_pair = multi_similarity_objective(pos_pair, np.zeros((0, 2), dtype=int), alpha=alpha,
                                          beta=beta, threshold=t)
    assert neg_pair.negative[0] == pytest.approx(th.per_anchor["negative"], rel=1e-9)
    # just inside the boundary the term is below the level and the radius graph is recovered
    inside = [[1.0, 0.0], [math.cos(theta - eps), math.sin(theta - eps)]]
    terms = multi_similarity_objective(inside, [(0, 1)], alpha=alpha, beta=beta, threshold=t)
    assert terms.positive.max() < th.per_anchor["positive"]
    assert radius_graph(np.array(inside), th.radius, metric="cosine").n_edges == 1


def test_contrastive_level_is_tight_at_one_linked_pair():
    # M = 1 pair at distance r = (mu+ + mu-)/2: its term is r - mu+ = (mu- - mu+)/2 = M ell*, so
    # the loss equals ell* while the strict radius graph loses the edge; shorter recovers it
    mp, mn = 1.0, 3.0
    th = contrastive_margin_threshold(mp, mn, 1)
    at = contrastive_margin_objective([[0.0], [th.radius]], [(0, 1)], pos_margin=mp, neg_margin=mn)
    assert at == pytest.approx(th.loss_level) and th.loss_level == pytest.approx(1.0)
    assert radius_graph([[0.0], [th.radius]], th.radius).n_edges == 0
    x = [[0.0], [th.radius - 1e-6]]
    assert contrastive_margin_objective(x, [(0, 1)], pos_margin=mp, neg_margin=mn) < th.loss_level
    assert radius_graph(x, th.radius).n_edges == 1


def _radius_graph_equals(points, r, graph):
    return radius_graph(points, r) == SampleGraph.from_edges(graph.edges(), n_nodes=graph.n_nodes)


def test_contrastive_loss_below_level_implies_exact_recovery():
    # realized geometric graphs, margins around the realized gap, perturbed points: the lemma
    # "loss < ell* => the radius graph is G" is checked on every case, and the cases must include
    # many below the level and many that fail to recover (so neither side is vacuous)
    rng = np.random.default_rng(20240613)
    below = not_recovered = 0
    for _ in range(300):
        n = int(rng.integers(3, 9))
        pts = rng.uniform(size=(n, 2))
        d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)[np.triu_indices(n, 1)]
        order = np.sort(d)
        cut = int(rng.integers(1, len(order)))
        if order[cut] - order[cut - 1] < 1e-3:
            continue
        r0 = 0.5 * (order[cut - 1] + order[cut])
        graph = radius_graph(pts, r0)
        hi, lo = order[cut - 1], order[cut]
        mp = hi * (1 - 0.2 * rng.random())
        mn = max(lo * (1 + 0.2 * rng.random()), mp + 1e-6)
        th = contrastive_margin_threshold(mp, mn, n * (n - 1) // 2)
        # noise on the scale of ell*: some cases end below it, some above
        x = pts + th.loss_level * 10 ** rng.uniform(-1.5, 1.5) * rng.standard_normal(pts.shape)
        loss = contrastive_margin_objective(x, graph, pos_margin=mp, neg_margin=mn)
        recovered = _radius_graph_equals(x, th.radius, graph)
        assert recovered or loss >= th.loss_level
        below += loss < th.loss_level
        not_recovered += not recovered
    assert below >= 30 and not_recovered >= 30, (below, not_recovered)


@settings(max_examples=60, deadline=None)
@given(sample_graphs(min_nodes=3, max_nodes=8), st.integers(0, 2**16), st.floats(0.01, 5),
       st.floats(0.5, 10))
def test_zero_positive_margin_non_cluster_graph_never_below_twice_level(g, seed, scale, mn):
    assume(not g.is_cluster_graph())
    x = scale * np.random.default_rng(seed).standard_normal((g.n_nodes, 3))
    loss = contrastive_margin_objective(x, g, pos_margin=0.0, neg_margin=mn)
    bound = contrastive_zero_margin_lower_bound(g, neg_margin=mn)
    level = contrastive_margin_threshold(0.0, mn, g.n_nodes * (g.n_nodes - 1) // 2).loss_level
    assert bound >= 2 * level - 1e-12
    assert loss >= bound - 1e-12


def _is_cluster_graph_by_definition(g):
    """No induced path a - b - c (ab, bc edges, ac not), by enumerating every triple."""
    n = g.n_nodes
    return not any(g.has_edge(a, b) and g.has_edge(b, c) and not g.has_edge(a, c)
                   for b in range(n) for a in range(n) for c in range(a + 1, n)
                   if b not in (a, c))


@settings(max_examples=30, deadline=None)
@given(sample_graphs(min_nodes=3, max_nodes=7))
def test_zero_positive_margin_permissible_iff_cluster_graph(g):
    # the oracle is the definition, not SampleGraph.is_cluster_graph (which is_permissible uses)
    rep = is_permissible(ContrastiveMarginSpec(0.0, 4.0), g)
    if _is_cluster_graph_by_definition(g):
        assert rep.permissible is True and rep.verdict == "permissible"
    else:
        assert rep.permissible is None and rep.optimum_exists is False
        assert rep.verdict == "level_unreachable"


@settings(max_examples=20, deadline=None)
@given(cluster_graphs(min_nodes=2, max_nodes=8))
def test_cluster_graph_witness_reaches_zero_loss(g):
    rep = is_permissible({"loss": "contrastive_margin", "pos_margin": 0.0, "neg_margin": 3.0}, g)
    assert rep.permissible and rep.witness_loss == 0.0


def test_positive_margin_gram_witness_makes_a_path_permissible():
    rep = is_permissible(ContrastiveMarginSpec(1.0, 1.05), [(0, 1), (1, 2), (2, 3)])
    assert rep.permissible is True


def test_ms_per_anchor_levels_imply_exact_cosine_recovery():
    # Gram witnesses (linked cosine eps, unlinked 0) with t = eps / 2, then noise: every case checks
    # "all anchors below both levels => cosine radius graph is G", and enough cases meet the
    # levels, and enough miss them, that neither side is vacuous
    from sip_theory.theory._permissibility import _gram_witness

    rng = np.random.default_rng(7)
    met = missed = mean_below = 0
    for _ in range(200):
        n = int(rng.integers(3, 8))
        iu = np.triu_indices(n, 1)
        keep = rng.random(iu[0].size) < 0.5
        g = SampleGraph.from_edges(np.c_[iu][keep], n_nodes=n)
        w = _gram_witness(g)
        eps = float(np.max(w @ w.T - np.eye(n), initial=0.0)) or 0.25
        t, alpha, beta = eps / 2, float(rng.uniform(40, 120)), float(rng.uniform(40, 120))
        x = w + 10 ** rng.uniform(-4, -0.5) * rng.standard_normal(w.shape)
        terms = multi_similarity_objective(x, g, alpha=alpha, beta=beta, threshold=t)
        th = multi_similarity_threshold(alpha, beta, t, n)
        ok = bool(np.all(terms.positive < th.per_anchor["positive"])
                  and np.all(terms.negative < th.per_anchor["negative"]))
        recovered = radius_graph(x, th.radius, metric="cosine") == SampleGraph.from_edges(
            g.edges(), n_nodes=n)
        assert recovered or not ok
        assert ok or not terms.mean < th.loss_level
        met += ok
        missed += not ok
        mean_below += terms.mean < th.loss_level
    assert met >= 30 and missed >= 30 and mean_below >= 5, (met, missed, mean_below)


def test_ms_loss_matches_pytorch_metric_learning():
    losses = pytest.importorskip("pytorch_metric_learning.losses")
    import torch

    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3))
    y = np.array([0, 0, 1, 1, 1, 2, 2, 0])
    g = cliques_from_labels(y)
    ours = multi_similarity_objective(x, g, alpha=2.0, beta=40.0, threshold=0.3).mean
    theirs = losses.MultiSimilarityLoss(alpha=2.0, beta=40.0, base=0.3)(
        torch.tensor(x), torch.tensor(y)).item()
    assert ours == pytest.approx(theirs, rel=1e-6)


def test_ms_report_names_the_per_anchor_witness_even_when_ell_star_is_unreachable():
    rep = is_permissible(MultiSimilaritySpec(2.0, 40.0, 0.5), cliques_from_labels([0, 0, 1, 1]))
    assert rep.attainability["per_anchor_witness"] == "cliques at orthonormal vectors"
    assert rep.permissible is None


def test_bad_spec_raises():
    with pytest.raises(ValueError, match="pos_margin"):
        ContrastiveMarginSpec(2.0, 1.0)
    with pytest.raises(ValueError, match="loss"):
        is_permissible({"loss": "triplet"}, [(0, 1)])


# ------------------------------------------- issue 13: reachability of the lemma's own level
def _ms_anchor_floor(n_pos, n_neg, alpha, beta, t):
    """Smallest possible loss of one anchor: positives at s = 1, negatives at s = -1."""
    return (math.log1p(n_pos * math.exp(-alpha * (1 - t))) / alpha
            + math.log1p(n_neg * math.exp(-beta * (1 + t))) / beta)


def _ms_mean_loss_by_definition(theta, adj, alpha, beta, t):
    """Mean over anchors of the multi-similarity loss of unit vectors at angles theta, by loops."""
    n = len(theta)
    total = 0.0
    for i in range(n):
        pos = sum(math.exp(-alpha * (math.cos(theta[i] - theta[j]) - t))
                  for j in range(n) if j != i and adj[i, j])
        neg = sum(math.exp(beta * (math.cos(theta[i] - theta[j]) - t))
                  for j in range(n) if j != i and not adj[i, j])
        total += math.log1p(pos) / alpha + math.log1p(neg) / beta
    return total / n


def _ms_min_mean_loss_by_search(adj, alpha, beta, t, restarts=8):
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    best = math.inf
    for _ in range(restarts):
        res = minimize(_ms_mean_loss_by_definition, rng.uniform(-math.pi, math.pi, adj.shape[0]),
                       args=(adj, alpha, beta, t), method="Nelder-Mead",
                       options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 20000})
        best = min(best, res.fun)
    return best


def test_ms_level_unreachable_on_two_cliques_of_two():
    # issue 13's case: every anchor has 1 positive (s <= 1) and 2 negatives, so its loss is at
    # least (1/2) log(1 + e^{-1}) = 0.15663, while ell* = log 2 / (4 * 40) = 0.0043322
    g = cliques_from_labels([0, 0, 1, 1])
    rep = is_permissible(MultiSimilaritySpec(2.0, 40.0, 0.5), g)
    assert rep.threshold.loss_level == pytest.approx(math.log(2) / 160)
    # the smallest mean loss over embeddings, by minimizing the loss written from its definition
    # (cosine similarity only depends on directions: angles in the plane suffice here, since
    # the floor is attained with the cliques at +u and -u)
    floor = _ms_min_mean_loss_by_search(g.to_dense(), 2.0, 40.0, 0.5)
    assert floor == pytest.approx(0.5 * math.log1p(math.exp(-1.0)), rel=1e-7)
    assert floor > rep.threshold.loss_level
    assert rep.optimum_exists is False
    assert rep.permissible is None  # only this lemma's level is shown unreachable
    assert rep.verdict == "level_unreachable"
    assert rep.attainability["mean_loss_lower_bound"] == pytest.approx(floor, rel=1e-7)
    # the per-anchor levels themselves are attainable (1 positive < e, 2 negatives < e^60)
    assert rep.attainability["per_anchor_attainable"] is True
    # and the independent check: the simplex witness never goes below the floor
    terms = multi_similarity_objective(np.eye(2)[[0, 0, 1, 1]], g, alpha=2.0, beta=40.0,
                                       threshold=0.5)
    assert terms.total.min() >= floor - 1e-15


@settings(max_examples=40, deadline=None)
@given(sample_graphs(min_nodes=2, max_nodes=7), st.integers(0, 2**16), st.floats(0.5, 8),
       st.floats(0.5, 8), st.floats(-0.5, 0.9))
def test_ms_reported_mean_lower_bound_holds_for_every_embedding(g, seed, alpha, beta, t):
    rep = is_permissible(MultiSimilaritySpec(alpha, beta, t), g)
    deg = g.degrees()
    floor = np.mean([_ms_anchor_floor(int(p), g.n_nodes - 1 - int(p), alpha, beta, t)
                     for p in deg])
    assert rep.attainability["mean_loss_lower_bound"] == pytest.approx(floor, rel=1e-9)
    x = np.random.default_rng(seed).standard_normal((g.n_nodes, 3))
    terms = multi_similarity_objective(x, g, alpha=alpha, beta=beta, threshold=t)
    assert terms.mean >= floor - 1e-12
    if floor >= rep.threshold.loss_level:
        assert rep.optimum_exists is False and rep.verdict == "level_unreachable"


def test_ms_per_anchor_positive_count_limit_at_paper_defaults():
    # alpha = 2, t = 0.5: a positive term below log 2 / alpha needs |P_i| e^{-1} < 1, so at most
    # 2 positives (e = 2.718); beta = 50: |N_i| < e^{75}, no practical limit on negatives
    rep = is_permissible(MultiSimilaritySpec(2.0, 50.0, 0.5), cliques_from_labels([0] * 4 + [1]))
    assert rep.attainability["max_positives"] == 2
    assert rep.attainability["max_negatives"] > 10**30
    assert rep.attainability["per_anchor_attainable"] is False
    assert rep.verdict == "level_unreachable" and rep.permissible is None
    # the library's loss at the best possible embedding (clique at +e1, the other node at -e1):
    # 3 positives at s = 1 give the term log(1 + 3/e) / 2 = 0.3718 > log 2 / 2 = 0.3466
    best = np.array([[1.0, 0.0]] * 4 + [[-1.0, 0.0]])
    g4 = cliques_from_labels([0] * 4 + [1])
    terms = multi_similarity_objective(best, g4, alpha=2.0, beta=50.0, threshold=0.5)
    assert terms.positive[0] == pytest.approx(math.log1p(3 / math.e) / 2, rel=1e-12)
    assert terms.positive[0] > rep.threshold.per_anchor["positive"]
    # with 2 positives it is log(1 + 2/e) / 2 = 0.2744 < 0.3466: the limit is attainable
    g3 = cliques_from_labels([0] * 3 + [1])
    terms = multi_similarity_objective(best[1:], g3, alpha=2.0, beta=50.0, threshold=0.5)
    assert terms.positive[0] == pytest.approx(math.log1p(2 / math.e) / 2, rel=1e-12)
    assert terms.positive[0] < rep.threshold.per_anchor["positive"]
    rep3 = is_permissible(MultiSimilaritySpec(2.0, 50.0, 0.5), g3)
    assert rep3.attainability["per_anchor_attainable"] is True


def test_ms_per_anchor_negative_count_limit():
    # beta = 1, t = 0: |N_i| < e = 2.718; the empty graph on 4 nodes has 3 negatives per anchor,
    # whose term is at least log(1 + 3/e) = 0.7436 > log 2 for every embedding
    g = SampleGraph.from_edges(np.zeros((0, 2), dtype=int), n_nodes=4)
    rep = is_permissible(MultiSimilaritySpec(1.0, 1.0, 0.0), g)
    assert rep.attainability["max_negatives"] == 2
    assert rep.attainability["per_anchor_attainable"] is False
    assert rep.optimum_exists is False and rep.verdict == "level_unreachable"
    x = np.random.default_rng(0).standard_normal((4, 3))
    neg = multi_similarity_objective(x, g, alpha=1.0, beta=1.0, threshold=0.0).negative
    assert (neg >= math.log1p(3 / math.e) - 1e-12).all()


def test_ms_witness_below_mean_level_makes_cliques_permissible():
    # alpha = beta = 40, t = 0.5: the simplex witness (s = 1 inside, 0 across) has anchor loss
    # (1/40) log(1 + e^{-20}) + (1/40) log(1 + 2 e^{-20}) ~ 1.5e-10 < ell* = log 2 / 160
    rep = is_permissible(MultiSimilaritySpec(40.0, 40.0, 0.5), cliques_from_labels([0, 0, 1, 1]))
    assert rep.permissible is True and rep.verdict == "permissible"
    assert rep.witness_loss < rep.threshold.loss_level


def test_zero_positive_margin_verdict_says_only_the_level_is_unreachable():
    rep = is_permissible(ContrastiveMarginSpec(0.0, 10.0), [(0, 1), (1, 2)])
    assert rep.optimum_exists is False
    assert rep.permissible is None  # P1 with some other level is not decided
    assert rep.verdict == "level_unreachable"
    assert "ell*" in rep.reason and "not decided" in rep.reason


# ------------------------- issue 13 (beyond the paper): wide realizations as witnesses
def _loss_by_definition(x, edges, n, mp, mn):
    """All-pairs contrastive margin loss, by loops over pairs with math.dist."""
    linked = {tuple(sorted(e)) for e in edges}
    total = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            d = math.dist(x[i], x[j])
            total += max(d - mp, 0.0) if (i, j) in linked else max(mn - d, 0.0)
    return total / (n * (n - 1) / 2)


_P6 = [(i, i + 1) for i in range(5)]
_C12 = [(i, (i + 1) % 12) for i in range(12)]


@pytest.mark.parametrize("edges, n, mp, mn", [(_P6, 6, 1.0, 1.5), (_P6, 6, 1.0, 2.0),
                                              (_C12, 12, 1.0, 1.5)])
def test_issue13_cases_are_decided_with_a_verified_witness(edges, n, mp, mn):
    # these three came back "undecided" before the wide realizations (the Gram witness's ratio
    # sqrt 2 / sqrt(2 - 2 eps) is below mu_-/mu_+); the truth, by hand: P_6 at 0, 1, ..., 5 has
    # linked distance 1 and unlinked >= 2; the regular 12-gon with unit sides has unlinked
    # distances >= 1 / (2 sin(pi/12)) = 1.93 > 1.5; both have loss 0 after rescaling
    rep = is_permissible(ContrastiveMarginSpec(mp, mn), SampleGraph.from_edges(edges, n_nodes=n))
    assert rep.verdict == "permissible" and rep.permissible is True and rep.optimum_exists
    level = (mn - mp) / (2 * n * (n - 1) / 2)
    assert rep.threshold.loss_level == pytest.approx(level)
    x = rep.witness.tolist()
    loss = _loss_by_definition(x, edges, n, mp, mn)
    assert loss == pytest.approx(rep.witness_loss, abs=1e-12) and loss < level
    assert radius_graph(rep.witness, (mp + mn) / 2) == SampleGraph.from_edges(edges, n_nodes=n)
    assert rep.witness.shape[1] <= 2  # a low-dimensional witness, not the Gram one
    if n == 6:  # the exact line optimum: integer positions, loss exactly 0
        assert rep.witness_loss == 0.0 and rep.attainability["witnesses"] == {
            "widest line realization (exact ratio 2/1)": {"dim": 1, "ratio": 2.0, "loss": 0.0}}


def test_regular_12_gon_is_a_witness_by_hand():
    # the mathematical check of the C_12 verdict, independent of the library's optimizer
    k = np.arange(12)
    x = np.c_[np.cos(2 * np.pi * k / 12), np.sin(2 * np.pi * k / 12)] / (2 * math.sin(math.pi / 12))
    assert _loss_by_definition(x.tolist(), _C12, 12, 1.0 + 1e-12, 1.5) == 0.0
    second = math.dist(x[0], x[2])
    assert second == pytest.approx(2 * math.cos(math.pi / 12)) and second > 1.5


def test_one_ulp_above_the_line_ratio_is_still_below_the_level():
    # P_6's best line ratio is exactly 2: at mu_- one ulp above 2 * mu_+ the line witness has a
    # positive loss (two ulps per second-neighbour pair, over M = 15 pairs), far below ell*
    mn = math.nextafter(2.0, 3.0)
    rep = is_permissible(ContrastiveMarginSpec(1.0, mn), _P6)
    assert rep.verdict == "permissible"
    assert 0.0 < rep.witness_loss < 1e-15 < rep.threshold.loss_level


@pytest.mark.parametrize("edges, dim, low", [
    (_C12, 1, 2),  # a hole: not a unit interval graph
    ([(0, 1), (0, 2), (0, 3)], 1, 2),  # the claw
    ([(0, i) for i in range(1, 7)], 2, 3),  # K_{1,6}: six directions pairwise > 60 degrees
])
def test_dimension_below_the_sphericity_makes_the_level_unreachable(edges, dim, low):
    rep = is_permissible(ContrastiveMarginSpec(1.0, 1.2), edges, dim=dim)
    assert rep.verdict == "level_unreachable" and rep.optimum_exists is False
    assert rep.permissible is None and rep.attainability["sphericity_lower_bound"] == low
    # the same graph is permissible once the dimension allows a wide enough realization
    assert is_permissible(ContrastiveMarginSpec(1.0, 1.2), edges, dim=low).verdict == "permissible"


@settings(max_examples=25, deadline=None)
@given(sample_graphs(min_nodes=2, max_nodes=7), st.integers(0, 2**16), st.floats(0.1, 3),
       st.floats(1.0001, 4))
def test_best_rescaling_beats_every_scale_on_a_grid(g, seed, mp, ratio):
    # the reported loss of a given embedding is the minimum over its rescalings: never above
    # the loss at any scale of a fine grid (computed from the definition)
    mn = mp * ratio
    n = g.n_nodes
    x = np.random.default_rng(seed).standard_normal((n, 2))
    rep = is_permissible(ContrastiveMarginSpec(mp, mn), g, embeddings=x, dim=1)
    given = rep.attainability["witnesses"]["the given embeddings"]["loss"]
    # the loss at 2000 scales from the definition: distances once, each scale in one pass
    iu, ju = np.triu_indices(n, 1)
    d = np.sqrt(((x[iu] - x[ju]) ** 2).sum(1))
    linked = (g.to_dense() > 0)[iu, ju]
    s = np.geomspace(1e-3, 1e3, 2000)[:, None]
    grid = np.where(linked, np.maximum(s * d - mp, 0), np.maximum(mn - s * d, 0)).mean(1)
    assert given <= grid.min() + 1e-12
    if rep.verdict == "permissible":
        assert contrastive_margin_objective(rep.witness, g, pos_margin=mp, neg_margin=mn) < (
            rep.threshold.loss_level)
