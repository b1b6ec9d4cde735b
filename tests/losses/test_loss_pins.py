"""Pinned values and gradients of every loss x reduction on one fixed input.

The numbers in ``data/pinned_losses.json`` (values; per gradient its norm and two
projections) were computed by the losses as they
were before the reductions and module wrappers were factored out (commit
796e723), on the pair-list path and, for the contrastive loss, on the dense
path too. They guard refactors: values, gradients and statistics must stay the
same. The tolerance (1e-12, float64) leaves room for another machine's BLAS,
not for a changed formula. Regenerate only on purpose, with a reason in the
commit: ``python tests/losses/test_loss_pins.py``.
"""

from __future__ import annotations

import itertools
import json
import pathlib

import numpy as np
import pytest
import torch

import sip_theory.losses._common as common
from sip_theory.losses import (
    contrastive_margin_loss,
    info_nce_loss,
    multi_similarity_loss,
    spectral_contrastive_loss,
    triplet_margin_loss,
)

PINS = pathlib.Path(__file__).with_name("data") / "pinned_losses.json"
TOL = dict(rtol=1e-12, atol=1e-12)

# one positive pair listed twice, a pair of a row with itself, anchor 4 without positives,
# anchor 3 without negatives, anchor 5 without any pair
PAIRS = ([0, 0, 1, 2, 2, 3, 0], [1, 0, 2, 3, 3, 4, 1],
         [0, 1, 1, 2, 4, 4, 0, 1], [2, 3, 4, 5, 0, 1, 2, 0])
TRIPLETS = ([0, 1, 1, 2, 3], [1, 2, 2, 3, 4], [3, 4, 0, 5, 0])
ONLY_NEG = ([], [], [0, 1, 2], [3, 4, 5])
EMPTY = ([], [], [], [])


def _inputs():
    rng = np.random.default_rng(20240612)
    z = rng.normal(size=(6, 3))
    r = rng.normal(size=(6, 3))
    z[1] = z[0]  # a zero distance between rows (ref_embeddings=None)
    r[0] = z[0]  # ... and between a row and a ref
    return torch.as_tensor(z), torch.as_tensor(r)


def _cases():
    """(case id, function, indices tuple, options, dense) for every combination pinned.

    The full product of options on the main tuple; on the degenerate tuples (only
    negatives, empty) every reduction with default options.
    """
    degenerate = {"only_neg": ONLY_NEG, "empty": EMPTY}
    cm = dict(pos_margin=0.3, neg_margin=1.7)
    contrastive = [dict(cm, metric=m) for m in ("euclidean", "sqeuclidean", "cosine")]
    contrastive += [dict(cm, pos_margin=0.0), dict(cm, normalize=True)]  # mu+ = 0: its own branch
    for (tname, tup, variants), red, dense in itertools.product(
            [("pairs", PAIRS, contrastive)] + [(k, t, [cm]) for k, t in degenerate.items()],
            ("paper", "half", "avg_nonzero", "sum", "none"), (False, True)):
        for opts in variants:
            if not (dense and red == "none"):
                opts = dict(opts, reduction=red)
                yield f"contrastive/{tname}/{_label(opts)}/dense={dense}", \
                    contrastive_margin_loss, tup, opts, dense
    ms = dict(alpha=2.0, beta=10.0, base=0.3, epsilon=0.1)
    ms_forms = [dict(form="per_anchor", reduction=r)
                for r in ("mean", "anchor_mean", "sum", "none")]
    ms_forms.append(dict(form="global"))
    for (tname, tup), metric, form, mining in itertools.product(
            [("pairs", PAIRS)] + list(degenerate.items()), ("cosine", "dot"), ms_forms,
            (False, True)):
        if tname == "pairs" or (metric == "cosine" and not mining):
            opts = dict(ms, metric=metric, mining=mining, **form)
            yield f"multi_similarity/{tname}/{_label(opts)}", multi_similarity_loss, tup, opts, \
                False
    tm = dict(margin=0.5)
    triplet = [dict(tm, metric=m) for m in ("euclidean", "sqeuclidean", "cosine")]
    triplet += [dict(tm, smooth=True), dict(tm, normalize=True)]
    for (tname, tup, variants), red in itertools.product(
            [("pairs", PAIRS, triplet), ("triplets", TRIPLETS, triplet),
             ("empty", ([], [], []), [tm])], ("mean", "avg_nonzero", "sum", "none")):
        for opts in variants:
            opts = dict(opts, reduction=red)
            yield f"triplet/{tname}/{_label(opts)}", triplet_margin_loss, tup, opts, False
    for (tname, tup), metric, variant, red in itertools.product(
            [("pairs", PAIRS)] + list(degenerate.items()), ("cosine", "dot"),
            ("supcon_out", "supcon_in", "ntxent"), ("mean", "sum", "none")):
        if tname == "pairs" or metric == "cosine":
            opts = dict(temperature=0.5, metric=metric, variant=variant, reduction=red)
            yield f"infonce/{tname}/{_label(opts)}", info_nce_loss, tup, opts, False
    for (tname, tup), uniform in itertools.product(
            [("pairs", PAIRS)] + list(degenerate.items()), ("all", "pairs")):
        yield f"spectral/{tname}/uniform={uniform}", spectral_contrastive_loss, tup, \
            dict(uniform=uniform), False


def _label(opts):
    return ",".join(f"{k}={v}" for k, v in sorted(opts.items()))


#: fixed directions the gradients are pinned along (with their norms), to keep the pins small
_DIRECTIONS = torch.as_tensor(np.random.default_rng(7).normal(size=(2, 18)))


def _grad_summary(g):
    if g is None:  # an input the loss does not reach: the same answer as a zero gradient
        return [0.0, 0.0, 0.0]
    g = g.reshape(-1)
    return [float(torch.linalg.vector_norm(g))] + (_DIRECTIONS @ g).tolist()


def _evaluate(fn, tup, opts, dense, with_ref):
    """Value(s), gradients and stats of one case."""
    z, r = _inputs()
    x = z.clone().requires_grad_(True)
    y = r.clone().requires_grad_(True) if with_ref else None
    old = common.DENSE_FRACTION
    common.DENSE_FRACTION = 0.0 if dense else 2.0  # always / never the dense form
    try:
        out, stats = fn(x, tup, y, return_stats=True, **opts)
    finally:
        common.DENSE_FRACTION = old
    parts = out if isinstance(out, tuple) else (out,)
    total = sum(p.sum() for p in parts)
    inputs = (x, y) if with_ref else (x,)
    grads = torch.autograd.grad(total, inputs, allow_unused=True) if total.requires_grad \
        else (None,) * len(inputs)
    return {
        "value": [p.detach().reshape(-1).tolist() for p in parts],
        "grads": [_grad_summary(g) for g in grads],
        "stats": [stats.n_anchors, stats.n_pos_pairs, stats.n_neg_pairs,
                  stats.n_anchors_without_pos, stats.n_anchors_without_neg],
    }


def _all_results():
    out = {}
    for cid, fn, tup, opts, dense in _cases():
        for with_ref in (False, True):
            out[f"{cid}/ref={with_ref}"] = _evaluate(fn, tup, opts, dense, with_ref)
    return out


def _load():
    return json.loads(PINS.read_text())


def test_every_case_is_pinned():
    assert sorted(_load()) == sorted(
        f"{c[0]}/ref={w}" for c in _cases() for w in (False, True))


@pytest.mark.parametrize("family", ["contrastive", "multi_similarity", "triplet", "infonce",
                                    "spectral"])
def test_values_gradients_and_stats_match_the_pins(family):
    pins = _load()
    for cid, fn, tup, opts, dense in _cases():
        if not cid.startswith(family + "/"):
            continue
        for with_ref in (False, True):
            key = f"{cid}/ref={with_ref}"
            got, want = _evaluate(fn, tup, opts, dense, with_ref), pins[key]
            assert got["stats"] == want["stats"], key
            assert len(got["value"]) == len(want["value"]), key
            for g, w in zip(got["value"], want["value"], strict=True):
                torch.testing.assert_close(torch.tensor(g, dtype=torch.float64),
                                           torch.tensor(w, dtype=torch.float64), **TOL,
                                           msg=lambda m, k=key: f"{k}: value: {m}")
            for g, w in zip(got["grads"], want["grads"], strict=True):
                torch.testing.assert_close(torch.tensor(g, dtype=torch.float64),
                                           torch.tensor(w, dtype=torch.float64), **TOL,
                                           msg=lambda m, k=key: f"{k}: gradient: {m}")


if __name__ == "__main__":
    PINS.parent.mkdir(exist_ok=True)
    PINS.write_text(json.dumps(_all_results(), indent=None, sort_keys=True) + "\n")
    print(f"wrote {PINS}")


# ------------------------------------------------------------------- the module forms
_MODULES = {
    "ContrastiveMarginLoss": (
        "(*, pos_margin: 'float' = 0.0, neg_margin: 'float' = 10.0, metric: 'str' = 'euclidean',"
        " normalize: 'bool' = False, reduction: 'str' = 'paper')",
        "ContrastiveMarginLoss(pos_margin=0.0, neg_margin=10.0, metric='euclidean',"
        " normalize=False, reduction='paper')"),
    "MultiSimilarityLoss": (
        "(*, alpha: 'float' = 2.0, beta: 'float' = 50.0, base: 'float' = 0.5,"
        " metric: 'str' = 'cosine', form: 'str' = 'per_anchor', mining: 'bool' = False,"
        " epsilon: 'float' = 0.1, reduction: 'str' = 'mean')",
        "MultiSimilarityLoss(alpha=2.0, beta=50.0, base=0.5, metric='cosine', form='per_anchor',"
        " mining=False, epsilon=0.1, reduction='mean')"),
    "TripletMarginLoss": (
        "(*, margin: 'float' = 1.0, metric: 'str' = 'euclidean', normalize: 'bool' = False,"
        " smooth: 'bool' = False, reduction: 'str' = 'mean')",
        "TripletMarginLoss(margin=1.0, metric='euclidean', normalize=False, smooth=False,"
        " reduction='mean')"),
    "InfoNCELoss": (
        "(*, temperature: 'float' = 0.1, metric: 'str' = 'cosine', variant: 'str' = 'supcon_out',"
        " reduction: 'str' = 'mean')",
        "InfoNCELoss(temperature=0.1, metric='cosine', variant='supcon_out', reduction='mean')"),
    "SpectralContrastiveLoss": ("(*, uniform: 'str' = 'all')",
                                "SpectralContrastiveLoss(uniform='all')"),
}


@pytest.mark.parametrize("name", sorted(_MODULES))
def test_module_signature_repr_and_tuple_kind_are_unchanged(name):
    import inspect

    import sip_theory.losses as L

    cls = getattr(L, name)
    sig, rep = _MODULES[name]
    assert str(inspect.signature(cls)) == sig
    assert repr(cls()) == rep
    assert cls.tuple_kind == ("triplets" if name == "TripletMarginLoss" else "pairs")
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        cls(foo=1)
    with pytest.raises(TypeError, match="positional argument"):
        cls(1.0)


def test_module_options_are_stored_as_given_and_validated_eagerly():
    from sip_theory.losses import ContrastiveMarginLoss, MultiSimilarityLoss, get_loss

    loss = get_loss("contrastive", neg_margin=3, reduction="half")
    assert repr(loss) == ("ContrastiveMarginLoss(pos_margin=0.0, neg_margin=3, metric='euclidean',"
                          " normalize=False, reduction='half')")
    assert loss.kwargs == dict(pos_margin=0.0, neg_margin=3, metric="euclidean", normalize=False,
                               reduction="half")
    with pytest.raises(ValueError, match=r"reduction must be one of \('paper', 'half', "
                                         r"'avg_nonzero', 'sum'\), got 'none'"):
        ContrastiveMarginLoss(reduction="none")
    with pytest.raises(ValueError, match="alpha must be finite and > 0"):
        MultiSimilarityLoss(alpha=-1)
