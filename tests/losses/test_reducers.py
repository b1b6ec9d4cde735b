"""The reducers, each once: its value, its weights (the dense paths' form of it), empty parts."""

import pytest
import torch

from sip_theory.losses._reducers import (
    ACTIVE_MEAN,
    AVG_NONZERO,
    JOINT_MEAN,
    MEAN,
    NONE,
    SUM,
    Reducer,
    get_reducer,
)

POS = torch.tensor([1.0, 0.0, 3.0], dtype=torch.float64)
NEG = torch.tensor([0.0, 4.0], dtype=torch.float64)
ACTIVE = (torch.tensor([True, True, False]), torch.tensor([False, True]))


def _like():
    return (torch.zeros(2, 2, dtype=torch.float64, requires_grad=True),)


@pytest.mark.parametrize(
    ("reducer", "expected", "counts"),
    [
        (MEAN, 4 / 3 + 4 / 2, (3, 2)),  # mean of each part, summed
        (JOINT_MEAN, 8 / 5, (3, 2)),  # mean of all five terms
        (AVG_NONZERO, 4 / 2 + 4 / 1, (2, 1)),  # mean of each part's non-zero terms
        (ACTIVE_MEAN, 1 / 2 + 4 / 1, (2, 1)),  # mean of each part's active terms
        (SUM, 8.0, (3, 2)),
    ],
    ids=["mean", "joint_mean", "avg_nonzero", "active_mean", "sum"],
)
def test_reducer_value_equals_its_weights_times_the_part_sums(reducer, expected, counts):
    got = reducer((POS, NEG), like=_like(), active=ACTIVE).detach()
    assert float(got) == pytest.approx(expected, rel=1e-15)
    # the dense paths' form: the weight of each part's sum of selected terms
    if reducer is AVG_NONZERO:
        sums = (POS[POS > 0].sum(), NEG[NEG > 0].sum())
    elif reducer is ACTIVE_MEAN:
        sums = (POS[ACTIVE[0]].sum(), NEG[ACTIVE[1]].sum())
    else:
        sums = (POS.sum(), NEG.sum())
    weights = reducer.weights(counts)
    assert float(sum(w * s for w, s in zip(weights, sums, strict=True))) == pytest.approx(
        expected, rel=1e-15)


def test_active_mean_without_masks_is_the_mean_and_single_parts_are_tensors():
    like = (torch.zeros(1),)
    assert float(ACTIVE_MEAN(POS, like=like)) == float(MEAN(POS, like=like)) == 4 / 3
    assert float(ACTIVE_MEAN(POS, like=like, active=ACTIVE[0])) == 0.5


@pytest.mark.parametrize("reducer", [MEAN, JOINT_MEAN, AVG_NONZERO, ACTIVE_MEAN, SUM])
def test_empty_parts_reduce_to_a_connected_zero(reducer):
    like = _like()
    empty = torch.zeros(0, dtype=torch.float64)
    zeros = torch.zeros(2, dtype=torch.float64)
    active = (torch.zeros(0, dtype=torch.bool), torch.zeros(2, dtype=torch.bool))
    # no terms at all (or, for the non-zero and active selections, none selected)
    parts = (empty, zeros) if reducer in (AVG_NONZERO, ACTIVE_MEAN) else (empty, empty)
    out = reducer(parts, like=like, active=active)
    out.backward()
    assert float(out.detach()) == 0.0
    assert torch.equal(like[0].grad, torch.zeros(2, 2, dtype=torch.float64))
    assert reducer.weights((0, 0)) == ((1.0, 1.0) if reducer is SUM else (0.0, 0.0))


def test_none_returns_the_terms_and_has_no_weights():
    parts = (POS, NEG)
    assert NONE(parts, like=_like()) is parts
    assert NONE(POS, like=_like()) is POS
    with pytest.raises(ValueError, match="no weights"):
        NONE.weights((1,))


def test_reducer_options_and_lookup_are_checked():
    assert AVG_NONZERO.needs_nonzero and not MEAN.needs_nonzero
    assert ACTIVE_MEAN.needs_active and not SUM.needs_active
    with pytest.raises(ValueError, match="select"):
        Reducer("some", "mean")
    with pytest.raises(ValueError, match="scale"):
        Reducer("all", "median")
    table = {"mean": MEAN, "sum": SUM}
    assert get_reducer("sum", table) is SUM
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'sum'\), got 'x'"):
        get_reducer("x", table)
