"""Approximate neighbours with measured recall, and the estimated report."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from sip_theory.geometry import (
    RecallEstimate,
    approximate_knn,
    estimated_geometry_report,
    knn,
    knn_probe,
    measure_recall,
    sampled_link_retrieval,
)
from sip_theory.graphs import SampleGraph
from sip_theory.theory import local_consistency


def _data(n=600, d=8, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    X = rng.normal(size=(4, d))[y] * 2 + rng.normal(size=(n, d))
    src = np.repeat(np.arange(n), 3)
    dst = np.array([rng.choice(np.flatnonzero(y == y[s])) for s in src])
    E = np.stack([src, dst], 1)
    return X, E[E[:, 0] != E[:, 1]], y


# ----------------------------------------------------------------- recall, without faiss
def test_recall_of_the_exact_lists_is_one_and_degraded_lists_lose_exactly():
    X, _, _ = _data()
    _, ind = knn(X, 5)
    r = measure_recall(X, ind, sample=len(X))
    assert r.recall == 1.0 and r.half_width == 0.0 and r.n_sampled == len(X)
    bad = ind.copy()
    bad[::2, 0] = -1  # every other row loses its nearest neighbour
    bad[1::4, 1] = bad[1::4, 0]  # and every fourth a repeat of its first
    r = measure_recall(X, bad, sample=len(X))
    lost = np.zeros(len(X))
    lost[::2] += 1
    lost[1::4] += 1
    assert r.recall == pytest.approx(1 - lost.mean() / 5, abs=1e-15)


def test_recall_counts_a_neighbour_tied_with_the_kth_as_found():
    X = np.array([[0.0], [1.0], [-1.0], [5.0]])  # row 0: 1 and 2 tie at distance 1
    ind = np.array([[2], [0], [0], [1]])  # exact search (by index) gives 1 for row 0
    assert measure_recall(X, ind, sample=4).recall == 1.0


def test_recall_sample_is_seeded_and_its_interval_covers_the_full_value():
    X, _, _ = _data(n=800)
    _, ind = knn(X, 5)
    bad = ind.copy()
    rng = np.random.default_rng(1)
    hit = rng.random(bad.shape) < 0.3
    bad[hit] = (np.arange(len(X))[:, None].repeat(5, 1)[hit] + 400) % len(X)
    full = measure_recall(X, bad, sample=len(X)).recall
    a = measure_recall(X, bad, sample=200, seed=3, confidence=0.99)
    assert a.to_dict() == measure_recall(X, bad, sample=200, seed=3, confidence=0.99).to_dict()
    assert abs(a.recall - full) <= a.half_width and a.n_sampled == 200


@pytest.mark.parametrize("bad, match", [(np.zeros((3, 2), dtype=int), "indices"),
                                        (np.zeros((4, 4), dtype=int), "k = 4")])
def test_recall_bad_lists_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        measure_recall(np.eye(4), bad)


def test_without_faiss_the_error_names_the_extra(monkeypatch):
    real = builtins.__import__

    def no_faiss(name, *a, **kw):
        if name == "faiss":
            raise ImportError("No module named 'faiss'")
        return real(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_faiss)
    with pytest.raises(ImportError, match=r"sip-theory\[faiss\]"):
        approximate_knn(np.eye(5), 2)
    with pytest.raises(ImportError, match=r"sip-theory\[faiss\]"):
        estimated_geometry_report(np.eye(5), approximate="hnsw", k=2, vote_k=2, spread_sample=0)


# ----------------------------------------------------------------- the report, exact route
def test_exact_report_matches_the_exact_metrics():
    X, E, y = _data()
    r = estimated_geometry_report(X, E, y, approximate=None, k=3, num_negatives=20,
                                  n_queries=None, spread_sample=0, seed=0)
    assert r.knn_accuracy == pytest.approx(knn_probe(X, y, k=3).accuracy, abs=1e-12)
    g = SampleGraph.from_edges(E, n_nodes=len(X), duplicates="merge")
    assert r.lc == local_consistency(g, y).value
    s = sampled_link_retrieval(X, E, num_negatives=20, n_queries=None,
                               seed=np.random.default_rng(0))
    assert r.retrieval.mrr == s.mrr and r.recall is None and r.neighbors == "exact"
    assert r.uniformity is None and r.spread_sample == 0
    r.to_dict()


def test_missing_labels_are_counted_and_never_vote():
    X, E, y = _data(n=300)
    lab = y.astype(float)
    lab[:30] = np.nan
    r = estimated_geometry_report(X, E, lab, approximate=None, k=6, spread_sample=50)
    ref = knn_probe(X, lab, k=3)
    assert r.n_unlabeled == 30 == ref.n_unlabeled
    # the report votes from the labelled entries of each 6-list: the probe's vote whenever
    # three labelled samples are among the 6 nearest, as here
    assert r.n_short_votes == 0
    assert r.knn_accuracy == pytest.approx(ref.accuracy, abs=1e-12)
    assert r.uniformity is not None and r.spread_sample == 50


def test_report_without_graph_or_labels_and_bad_options():
    X, _, _ = _data(n=100)
    r = estimated_geometry_report(X, approximate=None, k=3, spread_sample=20)
    assert r.retrieval is None and r.knn_accuracy is None and r.lc is None
    with pytest.raises(ValueError, match="vote_k"):
        estimated_geometry_report(X, approximate=None, k=2, vote_k=3)
    with pytest.raises(ValueError, match="approximate"):
        estimated_geometry_report(X, approximate="lsh", k=3)
    with pytest.raises(ValueError, match="k must be"):
        estimated_geometry_report(X, approximate=None, k=100)


# ----------------------------------------------------------------- faiss
@pytest.mark.parametrize("method", ["ivf", "hnsw"])
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_approximate_knn_recall_is_measured(method, metric):
    pytest.importorskip("faiss")
    X, E, y = _data(n=1500, d=16)
    a = approximate_knn(X, 5, method=method, metric=metric, recall_sample=1500, threads=1,
                        seed=0)
    assert isinstance(a.recall, RecallEstimate) and a.recall.n_sampled == 1500
    _, ind = knn(X, 5, metric=metric)
    same = np.mean([len(set(p) & set(q)) / 5 for p, q in zip(a.indices, ind, strict=True)])
    assert a.recall.recall == pytest.approx(same, abs=1e-12)  # no ties in random data
    assert (a.indices != np.arange(len(X))[:, None]).all()
    assert a.recall.recall > 0.5
    r = estimated_geometry_report(X, E, y, approximate=method, metric=metric, k=5,
                                  recall_sample=300, spread_sample=100, threads=1)
    assert r.recall.n_sampled == 300 and r.neighbors == method and r.index_params
    r.to_dict()
