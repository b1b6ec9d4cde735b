"""Properties of the structure-inducing losses: closed forms, empty sets, dtypes, identities."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.graphs import SampleGraph, cliques_from_labels
from sip_theory.losses import (
    ContrastiveMarginLoss,
    InfoNCELoss,
    MultiSimilarityLoss,
    SpectralContrastiveLoss,
    TripletMarginLoss,
    as_triplets,
    batch_pairs,
    contrastive_margin_loss,
    get_loss,
    info_nce_loss,
    multi_similarity_loss,
    sample_pairs,
    spectral_contrastive_graph_loss,
    spectral_contrastive_loss,
    triplet_margin_loss,
)

LOSS_FNS = {
    "contrastive": contrastive_margin_loss,
    "multi_similarity": multi_similarity_loss,
    "triplet": triplet_margin_loss,
    "infonce": info_nce_loss,
    "spectral": spectral_contrastive_loss,
}
EMPTY = ([], [], [], [])


def _emb(n=6, d=3, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=dtype).requires_grad_(True)


@pytest.mark.parametrize("name", sorted(LOSS_FNS))
def test_empty_pairs_give_zero_and_finite_gradient(name):
    z = _emb()
    # the spectral loss's default repulsion runs over all rows, not over the tuple
    kwargs = {"uniform": "pairs"} if name == "spectral" else {}
    loss = LOSS_FNS[name](z, EMPTY, **kwargs)
    loss.backward()
    assert float(loss.detach()) == 0.0
    assert torch.isfinite(z.grad).all()


@pytest.mark.parametrize("name", ["contrastive", "multi_similarity", "infonce"])
def test_only_negatives_is_finite_and_counts_empty_positive_set(name):
    z = _emb()
    loss, stats = LOSS_FNS[name](z, ([], [], [0, 1], [2, 3]), return_stats=True)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()
    assert stats.empty_pos and not stats.empty_neg
    assert stats.n_anchors_without_pos == 6 and stats.n_anchors_without_neg == 4


def test_modules_count_empty_sets_across_calls():
    for cls in (ContrastiveMarginLoss, MultiSimilarityLoss, InfoNCELoss, SpectralContrastiveLoss):
        fn = cls()
        z = _emb()
        fn(z, EMPTY)
        fn(z, ([0], [1], [], []))
        assert (fn.n_calls, fn.n_empty_pos, fn.n_empty_neg) == (2, 1, 2)
    t = TripletMarginLoss()
    t(_emb(), ([], [], []))
    assert t.n_empty_pos == 1


@pytest.mark.parametrize("name", sorted(LOSS_FNS))
def test_float16_inputs_are_computed_in_float32(name):
    z16 = _emb(dtype=torch.float32).detach().half()
    tup = ([0, 1], [1, 2], [0, 3], [4, 5])
    out = LOSS_FNS[name](z16, tup)
    ref = LOSS_FNS[name](z16.float(), tup)
    assert out.dtype == torch.float32
    assert float(out) == float(ref)


def test_contrastive_closed_form_on_a_line():
    z = torch.tensor([[0.0], [2.0], [3.0], [10.0]], dtype=torch.float64)
    tup = ([0, 1], [1, 2], [0, 0], [2, 3])  # pos d = 2, 1 ; neg d = 3, 10
    # paper: mean([2-0.5, 1-0.5]) + mean([5-3, 0]) = 1 + 1
    assert float(contrastive_margin_loss(z, tup, pos_margin=0.5, neg_margin=5.0)) == 2.0
    # half: mean of the 4 terms
    half = contrastive_margin_loss(z, tup, pos_margin=0.5, neg_margin=5.0, reduction="half")
    assert float(half) == 1.0


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 8), st.integers(0, 10_000))
def test_half_normalization_is_half_the_paper_value_with_one_pair_of_each(b, seed):
    z = _emb(n=2 * b + 1, seed=seed).detach()
    a = list(range(b))
    tup = (a, [b + i for i in a], a, [2 * b - i for i in a])
    paper = contrastive_margin_loss(z, tup, pos_margin=0.3, neg_margin=2.0)
    half = contrastive_margin_loss(z, tup, pos_margin=0.3, neg_margin=2.0, reduction="half")
    assert math.isclose(float(half), float(paper) / 2, rel_tol=1e-12, abs_tol=1e-15)


def test_contrastive_euclidean_gradient_at_zero_distance_is_zero_not_nan():
    z = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    contrastive_margin_loss(z, ([0], [1], [], []), pos_margin=0.0, neg_margin=1.0).backward()
    assert torch.equal(z.grad, torch.zeros_like(z))


def test_contrastive_rejects_pos_margin_not_below_neg_margin():
    with pytest.raises(ValueError, match="pos_margin"):
        contrastive_margin_loss(_emb(), EMPTY, pos_margin=2.0, neg_margin=1.0)


def test_indices_out_of_range_name_the_argument():
    with pytest.raises(ValueError, match="positives"):
        contrastive_margin_loss(_emb(n=3), ([0], [3], [], []))


def test_multi_similarity_closed_form_two_points():
    z = torch.tensor([[1.0, 0.0], [0.6, 0.8]], dtype=torch.float64)  # cos = 0.6
    val = multi_similarity_loss(z, ([0], [1], [], []), alpha=2.0, base=0.5, reduction="sum")
    assert math.isclose(float(val), 0.5 * math.log1p(math.exp(-2.0 * 0.1)), rel_tol=1e-12)


def test_multi_similarity_global_form_is_single_log_over_all_pairs():
    z = _emb(seed=3).detach()
    tup = ([0, 1, 2], [1, 2, 3], [0, 4], [5, 3])
    zn = torch.nn.functional.normalize(z, dim=1)
    s = lambda i, j: float(zn[i] @ zn[j])  # noqa: E731
    pos = sum(math.exp(-2.0 * (s(i, j) - 0.5)) for i, j in [(0, 1), (1, 2), (2, 3)])
    neg = sum(math.exp(50.0 * (s(i, j) - 0.5)) for i, j in [(0, 5), (4, 3)])
    expected = math.log1p(pos) / 2.0 + math.log1p(neg) / 50.0
    got = multi_similarity_loss(z, tup, form="global")
    assert math.isclose(float(got), expected, rel_tol=1e-10)


def test_multi_similarity_is_stable_for_huge_scales():
    z = _emb(seed=1)
    loss = multi_similarity_loss(z, ([0, 1], [1, 2], [0, 2], [3, 4]), alpha=1e4, beta=1e4)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()


def test_multi_similarity_mining_keeps_hard_pairs_only():
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.9, 0.43589]],
                     dtype=torch.float64)
    # anchor 0: positives 1 (s=1), 2 (s=0.8); negatives 3 (s=0), 4 (s=0.9)
    tup = ([0, 0], [1, 2], [0, 0], [3, 4])
    _, stats = multi_similarity_loss(z, tup, mining=True, epsilon=0.1, return_stats=True)
    # positive 2 is kept (0.8 - 0.1 < 0.9), positive 1 not (0.9 < 0.9 false);
    # negative 4 kept (0.9 + 0.1 > 0.8), negative 3 not
    assert (stats.n_pos_pairs, stats.n_neg_pairs) == (1, 1)


def test_triplet_pairs_expand_to_every_positive_negative_combination():
    a, p, n = as_triplets(([0, 0, 1], [1, 2, 0], [0, 1, 0], [3, 3, 4]), 5, 5)
    got = sorted(zip(a.tolist(), p.tolist(), n.tolist(), strict=True))
    assert got == [(0, 1, 3), (0, 1, 4), (0, 2, 3), (0, 2, 4), (1, 0, 3)]


def test_info_nce_variants_coincide_with_a_single_positive():
    z = _emb(seed=5).detach()
    tup = ([0, 1], [1, 2], [0, 0, 1], [3, 4, 5])
    vals = [float(info_nce_loss(z, tup, variant=v, temperature=0.5))
            for v in ("supcon_out", "supcon_in", "ntxent")]
    assert np.allclose(vals, vals[0], rtol=1e-12)


def test_info_nce_supcon_in_is_at_most_supcon_out():
    # Jensen: -log(mean(p)) <= mean(-log p)
    z = _emb(n=8, seed=6).detach()
    tup = batch_pairs(cliques_from_labels([0, 0, 0, 1, 1, 1, 2, 2]), np.arange(8))
    out = info_nce_loss(z, tup, variant="supcon_out", reduction="none")
    inn = info_nce_loss(z, tup, variant="supcon_in", reduction="none")
    assert bool((inn <= out + 1e-12).all())


def test_spectral_all_pairs_repulsion_matches_explicit_sum():
    z, r = _emb(n=4, seed=7).detach(), _emb(n=5, seed=8).detach()
    loss = spectral_contrastive_loss(z, ([0], [1], [], []), r)
    explicit = -2 * float(z[0] @ r[1]) + float(((z @ r.T) ** 2).mean())
    assert math.isclose(float(loss), explicit, rel_tol=1e-12)
    same = spectral_contrastive_loss(z, ([0], [1], [], []))
    m = (z @ z.T) ** 2
    explicit_same = -2 * float(z[0] @ z[1]) + float((m.sum() - m.diagonal().sum()) / 12)
    assert math.isclose(float(same), explicit_same, rel_tol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_spectral_graph_loss_satisfies_haochen_lemma_3_2(seed):
    rng = np.random.default_rng(seed)
    n = 7
    w = np.triu(rng.random((n, n)) * (rng.random((n, n)) < 0.6), 1)
    w[0, 1] = max(w[0, 1], 0.5)
    g = SampleGraph.from_dense(w + w.T)
    f = torch.as_tensor(rng.normal(size=(n, 3)))
    a = g.to_dense()
    vol = a.sum()
    wi = a.sum(1) / vol
    abar = np.zeros_like(a)
    nz = wi > 0
    abar[np.ix_(nz, nz)] = (a / vol)[np.ix_(nz, nz)] / np.sqrt(np.outer(wi[nz], wi[nz]))
    u = np.sqrt(wi)[:, None] * f.numpy()
    lhs = np.linalg.norm(abar - u @ u.T) ** 2
    rhs = np.linalg.norm(abar) ** 2 + float(spectral_contrastive_graph_loss(f, g))
    assert math.isclose(lhs, rhs, rel_tol=1e-9, abs_tol=1e-12)


def test_get_loss_rejects_unknown_name():
    with pytest.raises(ValueError, match="name"):
        get_loss("hinge")


def test_losses_accept_sampler_output_directly():
    g = cliques_from_labels([0, 0, 1, 1, 2, 2])
    tup = sample_pairs(g, seed=0).global_pairs()
    z = _emb()
    for name, fn in LOSS_FNS.items():
        assert torch.isfinite(fn(z, tup)), name


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["euclidean", "sqeuclidean", "cosine"]),
       st.sampled_from(["paper", "half", "avg_nonzero", "sum"]))
def test_contrastive_dense_matrix_form_equals_pair_list_form(seed, metric, reduction):
    # the dense form (used when a tuple lists most pairs) must give the same value and
    # gradient as the pair-list form, duplicates and coincident points included
    import sip_theory.losses._common as common

    rng = np.random.default_rng(seed)
    n_rows, n_refs = 5, 6
    z = torch.as_tensor(rng.normal(size=(n_rows, 3)))
    r = torch.as_tensor(rng.normal(size=(n_refs, 3)))
    r[0] = z[0]  # a zero distance
    tup = tuple(rng.integers(0, m, size=k) for m, k in
                ((n_rows, 9), (n_refs, 9), (n_rows, 12), (n_refs, 12)))
    out = []
    for frac in (2.0, 0.0):  # never dense, always dense
        old = common.DENSE_FRACTION
        common.DENSE_FRACTION = frac
        try:
            x, y = z.clone().requires_grad_(True), r.clone().requires_grad_(True)
            val = contrastive_margin_loss(x, tup, y, pos_margin=0.3, neg_margin=1.7,
                                          metric=metric, reduction=reduction)
            out.append((val.detach(), *torch.autograd.grad(val, (x, y))))
        finally:
            common.DENSE_FRACTION = old
    for a, b in zip(out[0], out[1], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


def test_functional_loss_builds_a_module_form_from_a_function():
    # the module forms are FunctionalLoss subclasses naming their function: options, repr,
    # eager checks, counters and forward all come from the function
    from sip_theory.losses import LossStats
    from sip_theory.losses._common import FunctionalLoss

    def scaled_sum_loss(embeddings, indices_tuple, ref_embeddings=None, *, scale: float = 1.0,
                        reduction: str = "sum", return_stats: bool = False):
        if scale <= 0:
            raise ValueError("scale must be > 0")
        out = scale * embeddings.sum()
        stats = LossStats(embeddings.shape[0], 0, 0, embeddings.shape[0], embeddings.shape[0])
        return (out, stats) if return_stats else out

    class ScaledSumLoss(FunctionalLoss, loss_fn=scaled_sum_loss,
                        reductions=("sum", "mean", "none")):
        """A test loss."""

    import inspect

    sig = "(*, scale: float = 1.0, reduction: str = 'sum')"
    assert str(inspect.signature(ScaledSumLoss)) == sig
    fn = ScaledSumLoss(scale=2.0)
    assert repr(fn) == "ScaledSumLoss(scale=2.0, reduction='sum')"
    assert float(fn(torch.ones(2, 3), EMPTY)) == 12.0
    assert fn.counters()["n_calls"] == 1 and fn.last_stats.empty_pos
    with pytest.raises(ValueError, match="scale"):
        ScaledSumLoss(scale=-1.0)
    with pytest.raises(ValueError, match="reduction must be one of"):
        ScaledSumLoss(reduction="none")
