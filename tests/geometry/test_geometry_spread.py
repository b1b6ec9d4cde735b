"""Spread and collapse metrics: closed forms, definitions, declared invariances both ways."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import hyp0f1

from sip_theory.geometry import (
    RANKME_VARIANTS,
    alignment,
    cdnv,
    nc1,
    rankme,
    rankme_all,
    uniformity,
)


def closed_form(d, t=2.0):
    return -2 * t + math.log(hyp0f1(d / 2, t * t))


def test_closed_form_reproduces_the_anchor_values():
    assert [round(closed_form(d), 4) for d in (2, 16, 128)] == [-1.5750, -3.5130, -3.9375]


@pytest.mark.parametrize("d, n", [(2, 1500), (16, 1500), (128, 1500)])
def test_uniformity_of_uniform_points_on_the_sphere_matches_the_closed_form(d, n):
    x = np.random.default_rng(d).normal(size=(n, d))
    got = float(uniformity(x, t=2.0))
    assert abs(got - closed_form(d)) < 0.02


def test_uniformity_is_finite_where_the_naive_mean_underflows():
    X = np.array([[0.0, 0.0], [30.0, 0.0], [0.0, 40.0]])
    sq = np.array([900.0, 1600.0, 2500.0])
    with np.errstate(divide="ignore"):
        assert np.log(np.mean(np.exp(-2.0 * sq))) == -np.inf
    want = -1800.0 + math.log(np.mean(np.exp(-2.0 * sq + 1800.0)))
    assert abs(float(uniformity(X, normalize=False)) - want) < 1e-9


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12), st.booleans())
def test_uniformity_chunked_equals_dense_formula(seed, chunk, normalize):
    X = np.random.default_rng(seed).normal(size=(12, 3))
    Z = X / np.linalg.norm(X, axis=1, keepdims=True) if normalize else X
    iu = np.triu_indices(12, 1)
    sq = ((Z[:, None] - Z[None]) ** 2).sum(-1)[iu]
    want = math.log(np.mean(np.exp(-2.0 * sq)))
    got = float(uniformity(X, normalize=normalize, chunk_size=chunk))
    assert abs(got - want) < 1e-12


def test_alignment_is_the_mean_over_edges():
    X = np.random.default_rng(0).normal(size=(8, 3))
    edges = [(0, 1), (2, 5), (3, 7)]
    Z = X / np.linalg.norm(X, axis=1, keepdims=True)
    want = np.mean([np.sum((Z[a] - Z[b]) ** 2) for a, b in edges])
    assert abs(float(alignment(X, edges)) - want) < 1e-12
    raw = np.mean([np.sum((X[a] - X[b]) ** 2) ** 0.5 for a, b in edges])
    assert abs(float(alignment(X, edges, alpha=1, normalize=False)) - raw) < 1e-12


def _rigid(X, seed=0):
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(X.shape[1],) * 2))
    return X @ Q


def test_alignment_uniformity_invariances_depend_on_normalisation():
    X = np.random.default_rng(1).normal(size=(20, 4)) + 0.5
    edges = [(i, i + 1) for i in range(19)]
    for normalize, invariant, not_invariant in ((True, 3.0 * X, X + 2.0),
                                                (False, X + 2.0, 3.0 * X)):
        a = float(alignment(X, edges, normalize=normalize))
        u = float(uniformity(X, normalize=normalize))
        for Z in (_rigid(X), invariant):
            assert abs(float(alignment(Z, edges, normalize=normalize)) - a) < 1e-9
            assert abs(float(uniformity(Z, normalize=normalize)) - u) < 1e-9
        assert abs(float(alignment(not_invariant, edges, normalize=normalize)) - a) > 1e-3
        assert abs(float(uniformity(not_invariant, normalize=normalize)) - u) > 1e-3


def test_rankme_follows_the_garrido_definition():
    X = np.random.default_rng(2).normal(size=(30, 6)) + 1.0
    s = np.linalg.svd(X, compute_uv=False)
    p = s / s.sum() + 1e-7
    assert abs(float(rankme(X)) - math.exp(-(p * np.log(p)).sum())) < 1e-10
    p0 = s / s.sum()
    assert abs(float(rankme(X, variant="roy_vetterli2007"))
               - math.exp(-(p0 * np.log(p0)).sum())) < 1e-10
    s2 = np.linalg.svd(X - X.mean(0), compute_uv=False)
    p2 = s2 / s2.sum() + 1e-7
    assert abs(float(rankme(X, variant="centered")) - math.exp(-(p2 * np.log(p2)).sum())) < 1e-10
    q = s ** 2 / (s ** 2).sum() + 1e-7
    assert abs(float(rankme(X, variant="squared")) - math.exp(-(q * np.log(q)).sum())) < 1e-10


@pytest.mark.parametrize("shape", [(50, 7), (7, 50)])
def test_gram_route_for_large_matrices_agrees_with_the_svd(monkeypatch, shape):
    import sip_theory.geometry._spread as spread

    X = np.random.default_rng(8).normal(size=shape) + 0.5
    exact = {v: float(rankme(X, variant=v)) for v in RANKME_VARIANTS}
    monkeypatch.setattr(spread, "_SVD_LIMIT", 0)
    together = rankme_all(X)
    for v in RANKME_VARIANTS:
        assert abs(float(rankme(X, variant=v)) - exact[v]) < 1e-8
        assert abs(together[v] - exact[v]) < 1e-8


def test_rankme_of_a_rank_two_matrix_is_at_most_two():
    X = np.random.default_rng(3).normal(size=(40, 2)) @ np.random.default_rng(4).normal(
        size=(2, 8))
    for v in RANKME_VARIANTS:
        assert 1.0 <= float(rankme(X, variant=v)) <= 2.0 + 1e-5


def test_rankme_invariances():
    X = np.random.default_rng(5).normal(size=(25, 5)) + 2.0
    base = {v: float(rankme(X, variant=v)) for v in RANKME_VARIANTS}
    perm = np.random.default_rng(6).permutation(25)
    for Z in (_rigid(X), 7.0 * X, X[perm]):
        for v in RANKME_VARIANTS:
            assert abs(float(rankme(Z, variant=v)) - base[v]) < 1e-9
    shifted = X + 3.0
    assert abs(float(rankme(shifted, variant="centered")) - base["centered"]) < 1e-9
    assert abs(float(rankme(shifted)) - base["garrido2023"]) > 1e-3


def reference_nc1(X, y):
    C = np.unique(y)
    mu = np.array([X[y == c].mean(0) for c in C])
    centred = X - mu[np.searchsorted(C, y)]
    sw = centred.T @ centred / len(y)
    dev = mu - X.mean(0)
    sb = dev.T @ dev / len(C)
    return np.trace(sw @ np.linalg.pinv(sb)) / len(C)


def test_nc1_and_cdnv_equal_their_definitions_and_invariances():
    rng = np.random.default_rng(7)
    y = np.repeat(np.arange(3), [5, 8, 7])
    X = rng.normal(size=(20, 4)) + 3 * y[:, None]
    assert abs(float(nc1(X, y)) - reference_nc1(X, y)) < 1e-10
    mu = [X[y == c].mean(0) for c in range(3)]
    var = [((X[y == c] - mu[c]) ** 2).sum(1).mean() for c in range(3)]
    pairs = [(var[a] + var[b]) / (2 * ((mu[a] - mu[b]) ** 2).sum())
             for a, b in ((0, 1), (0, 2), (1, 2))]
    assert abs(float(cdnv(X, y)) - np.mean(pairs)) < 1e-12
    M = cdnv(X, y, return_matrix=True)
    assert M.shape == (3, 3) and abs(M[0, 2] - pairs[1]) < 1e-12
    for Z in (_rigid(X), 4.0 * X - 1.0):
        assert abs(float(nc1(Z, y)) - float(nc1(X, y))) < 1e-8
        assert abs(float(cdnv(Z, y)) - float(cdnv(X, y))) < 1e-10
    stretched = X * np.array([10.0, 1, 1, 1])
    assert abs(float(cdnv(stretched, y)) - float(cdnv(X, y))) > 1e-3


def test_collapsed_classes_have_zero_nc1_and_cdnv():
    X = np.repeat(np.eye(3), 4, axis=0)
    y = np.repeat(np.arange(3), 4)
    assert float(nc1(X, y)) == 0.0 and float(cdnv(X, y)) == 0.0


def test_spread_metrics_follow_the_input_type():
    X = torch.randn(10, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y = torch.arange(10) % 2
    for v in (rankme(X), nc1(X, y), cdnv(X, y), uniformity(X), alignment(X, [(0, 1)])):
        assert isinstance(v, torch.Tensor)
    with pytest.raises(ValueError, match="variant must be one of"):
        rankme(X, variant="erank")
