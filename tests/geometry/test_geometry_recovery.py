"""Graph recovery: exact over all pairs, parity with scikit-learn, recovery of realisations."""

import numpy as np
import pytest
from hypothesis import given, settings
from scipy.spatial.distance import cdist
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from sip_theory.geometry import (
    best_f1_radius,
    edge_auroc,
    graph_recovery,
    knn_graph_precision_recall,
    recovery_margin,
)
from sip_theory.graphs import SampleGraph, knn_graph
from sip_theory.testing import realizing_embeddings, sample_graphs


def case(seed, n=30, d=3, p=0.15, integer=False):
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, (n, d)).astype(float) if integer else rng.normal(size=(n, d))
    A = np.triu(rng.random((n, n)) < p, 1)
    return X, SampleGraph.from_dense((A | A.T).astype(float)), A | A.T


@pytest.mark.parametrize("integer", [False, True], ids=["continuous", "ties"])
def test_auroc_and_ap_equal_sklearn_over_all_pairs(integer):
    X, g, A = case(0, integer=integer)
    iu = np.triu_indices(X.shape[0], 1)
    y, s = A[iu].astype(int), -cdist(X, X)[iu]
    r = graph_recovery(X, g, chunk_size=4)
    assert abs(r.auroc - roc_auc_score(y, s)) < 1e-10
    assert abs(r.average_precision - average_precision_score(y, s)) < 1e-10
    assert abs(float(edge_auroc(X, g)) - roc_auc_score(y, s)) < 1e-10


@pytest.mark.parametrize("integer", [False, True], ids=["continuous", "ties"])
def test_best_f1_radius_is_the_best_over_every_threshold(integer):
    X, g, A = case(1, integer=integer)
    iu = np.triu_indices(X.shape[0], 1)
    y, d = A[iu].astype(int), cdist(X, X)[iu]
    radii = np.unique(d)
    pred = d[None, :] <= radii[:, None]
    tp = (pred & (y[None, :] == 1)).sum(1)
    f1s = 2 * tp / (pred.sum(1) + y.sum())
    best = f1s.max()
    got = best_f1_radius(X, g)
    assert abs(got["f1"] - best) < 1e-12
    assert abs(f1_score(y, d <= got["radius"]) - best) < 1e-12
    pred = d <= got["radius"]
    assert abs(got["precision"] - y[pred].mean()) < 1e-12
    assert abs(got["recall"] - pred[y == 1].mean()) < 1e-12


def test_margin_equals_bruteforce():
    X, g, A = case(2)
    D = cdist(X, X)
    np.fill_diagonal(D, np.inf)
    want = D[~A & np.isfinite(D)].min() - D[A].max()
    assert abs(float(recovery_margin(X, g, chunk_size=5)) - want) < 1e-12


@settings(max_examples=20, deadline=None)
@given(sample_graphs(min_nodes=3, max_nodes=9).flatmap(realizing_embeddings))
def test_realizing_embeddings_are_recovered_exactly(real):
    if real.points.shape[0] < 3:
        return
    g_true = SampleGraph.from_dense(
        (cdist(real.points, real.points) < real.radius).astype(float) * (1 - np.eye(
            real.points.shape[0])))
    r = graph_recovery(real.points, g_true)
    assert r.realized and r.margin > 0 and r.min_violations == 0
    if g_true.n_edges and g_true.n_edges < r.n_pairs:
        assert r.auroc == 1.0 and r.best_f1 == 1.0 and r.average_precision == 1.0
        # strict convention: a radius in the gap (max_linked, min_unlinked]
        assert r.max_linked < r.radius <= r.min_unlinked
        assert r.best_f1_radius == r.min_violations_radius == r.radius


def test_embedding_that_swaps_an_edge_is_not_exact():
    X = np.array([[0.0], [1.0], [5.0], [6.0]])
    r = graph_recovery(X, [(0, 2), (2, 3)])
    assert not r.realized and r.margin == 1.0 - 5.0
    # d(0,2) = 5 > d(2,3) = 1, d(0,1) = 1: r just above 1 keeps (0,1) wrongly and (2,3),
    # misses (0,2); any radius that takes (0,2) takes four more non-edges
    assert r.min_violations == 2


@pytest.mark.parametrize("mode", ["union", "mutual"])
def test_knn_graph_scores_agree_with_the_graphs_module(mode):
    X, g, A = case(3, n=25)
    h = knn_graph(X, 3, mutual=(mode == "mutual"))
    he = {tuple(e) for e in h.edges().tolist()}
    ge = {tuple(e) for e in g.edges().tolist()}
    got = knn_graph_precision_recall(X, g, k=3, mode=mode)
    assert abs(got["precision"] - len(he & ge) / len(he)) < 1e-12
    assert abs(got["recall"] - len(he & ge) / len(ge)) < 1e-12


def test_directed_knn_scores_count_ordered_pairs():
    X, g, A = case(4, n=20)
    D = cdist(X, X)
    np.fill_diagonal(D, np.inf)
    nn = np.argsort(D, axis=1, kind="stable")[:, :2]
    hit = A[np.arange(20)[:, None], nn]
    got = knn_graph_precision_recall(X, g, k=2, mode="directed")
    assert abs(got["precision"] - hit.mean()) < 1e-12
    assert abs(got["recall"] - hit.sum() / A.sum()) < 1e-12


def test_margin_scales_with_the_embedding_while_auroc_does_not():
    X, g, _ = case(5)
    a, b = graph_recovery(X, g), graph_recovery(2.5 * X, g)
    assert abs(b.margin - 2.5 * a.margin) < 1e-9 and abs(b.margin - a.margin) > 1e-3
    assert abs(b.best_f1_radius - 2.5 * a.best_f1_radius) < 1e-9
    assert (a.auroc, a.best_f1, a.average_precision) == pytest.approx(
        (b.auroc, b.best_f1, b.average_precision), abs=1e-12)


def test_graph_without_edges_has_undefined_scores_and_infinite_margin():
    r = graph_recovery(np.eye(4), SampleGraph.from_edges(np.zeros((0, 2), int), n_nodes=4))
    assert np.isnan(r.auroc) and r.margin == np.inf and r.realized
    assert r.radius == 0.0 and r.min_violations == 0  # nothing lies strictly within 0
    assert r.to_dict()["margin"] == "inf"  # JSON-safe, and apart from an undefined None
