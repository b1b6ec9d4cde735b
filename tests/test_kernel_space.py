"""The sweep kernel (PairSpace): both backends decide as a brute force over exact values.

Hard cases in every strategy: ties between pairs, duplicate rows, one-ulp margins,
translations by 1e8, a single point, and blocks split anywhere.
"""

import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory._kernel import METRICS, PairSpace, exact_dissimilarities

FAST = settings(max_examples=40, deadline=None)


@st.composite
def point_sets(draw, min_n=2):
    """Small point sets with ties and duplicates (integer grids), optionally translated by
    1e8, with a one-ulp nudge on one coordinate, in float32 or float64."""
    n = draw(st.integers(min_n, 14))
    d = draw(st.integers(1, 4))
    grid = draw(st.lists(st.lists(st.integers(-2, 2), min_size=d, max_size=d),
                         min_size=n, max_size=n))
    x = np.array(grid, dtype=np.float64)
    if draw(st.booleans()):
        x[draw(st.integers(0, n - 1))] = x[0]  # a duplicate row
    if draw(st.booleans()):
        x[0, 0] = np.nextafter(x[0, 0], np.inf)  # one-ulp margins against the grid ties
    if draw(st.booleans()):
        x = x + 1e8
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return x.astype(dtype)


def _exact_matrix(x, metric):
    n = x.shape[0]
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return exact_dissimilarities(x, i.ravel(), j.ravel(), metric).reshape(n, n)


def _backends(x, metric, centre):
    yield PairSpace(x, None, metric, centre=centre)
    yield PairSpace(torch.from_numpy(x.copy()), None, metric, centre=centre)


def _np(a):
    return a.cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def _usable(x, metric):
    return metric != "cosine" or bool((np.abs(x).sum(1) > 0).all())


@FAST
@given(point_sets(), st.sampled_from(METRICS), st.booleans(), st.integers(1, 5))
def test_k_nearest_is_the_exact_brute_force(x, metric, centre, chunk):
    if not _usable(x, metric):
        return
    n = x.shape[0]
    k = min(3, n - 1)
    ex = _exact_matrix(x, metric)
    np.fill_diagonal(ex, np.inf)
    want = np.array([np.lexsort((np.arange(n), row))[:k] for row in ex])
    for space in _backends(x, metric, centre):
        got = []
        for r0 in range(0, n, chunk):
            r1 = min(r0 + chunk, n)
            idx, dist = space.k_nearest(space.fast_block(r0, r1, exclude_self=True), r0, k)
            got.append(_np(idx))
            np.testing.assert_array_equal(_np(dist), np.take_along_axis(ex[r0:r1], _np(idx), 1))
        np.testing.assert_array_equal(np.concatenate(got), want)


@FAST
@given(point_sets(), st.sampled_from(METRICS), st.booleans(), st.booleans(),
       st.integers(1, 5), st.data())
def test_within_is_the_exact_brute_force_on_any_tile(x, metric, centre, strict, chunk, data):
    if not _usable(x, metric):
        return
    n = x.shape[0]
    ex = _exact_matrix(x, metric)
    # a threshold on a pair's exact value: the hardest case (ties at the threshold)
    t = float(ex[data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))])
    want = ex < t if strict else ex <= t
    for space in _backends(x, metric, centre):
        got = np.zeros((n, n), dtype=bool)
        for r0 in range(0, n, chunk):
            for c0 in range(0, n, chunk):
                r1, c1 = min(r0 + chunk, n), min(c0 + chunk, n)
                d = space.fast_block(r0, r1, c0, c1, exclude_self=False)
                rows, cols, vals = space.within(d, r0, t, strict=strict, c0=c0)
                rows, cols = _np(rows) + r0, _np(cols)
                np.testing.assert_array_equal(_np(vals), ex[rows, cols])
                got[rows, cols] = True
        np.testing.assert_array_equal(got, want)


@FAST
@given(point_sets(), st.sampled_from(METRICS), st.data())
def test_exactify_and_row_min_decide_on_exact_values(x, metric, data):
    if not _usable(x, metric):
        return
    n = x.shape[0]
    ex = _exact_matrix(x, metric)
    thresholds = np.unique(ex.ravel()[data.draw(st.lists(st.integers(0, n * n - 1),
                                                          min_size=1, max_size=4))])
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n * n, max_size=n * n)))
    mask = mask.reshape(n, n)
    want_min = np.where(mask, ex, np.inf).min(1)
    for space in _backends(x, metric, True):
        d = space.fast_block(0, n, exclude_self=False)
        t = thresholds if isinstance(d, np.ndarray) else torch.from_numpy(thresholds)
        fixed = _np(space.exactify(d, 0, t))
        for th in thresholds:  # every comparison with a threshold is the exact one
            np.testing.assert_array_equal(fixed < th, ex < th)
            np.testing.assert_array_equal(fixed <= th, ex <= th)
        m = mask if isinstance(d, np.ndarray) else torch.from_numpy(mask)
        np.testing.assert_array_equal(_np(space.row_min(d, 0, m)), want_min)


def test_translation_by_1e8_keeps_a_one_ulp_margin_decidable():
    # two pairs whose distances differ by a hair, far from the origin: centring makes the
    # band small, the exact values decide either way
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, np.nextafter(1.0, 2.0)]]) + 1e8
    for space in _backends(x, "euclidean", True):
        idx, dist = space.k_nearest(space.fast_block(0, 3, exclude_self=True), 0, 1)
        assert _np(idx).ravel().tolist()[0] == 1
        assert _np(dist)[0, 0] == exact_dissimilarities(x, [0], [1], "euclidean")[0]


def test_duplicates_are_at_exactly_zero_under_every_distance():
    x = np.array([[0.3, 0.7, 0.1], [0.3, 0.7, 0.1], [1.0, 2.0, 3.0]], dtype=np.float32)
    for metric in ("euclidean", "sqeuclidean", "cosine"):
        for space in _backends(x, metric, False):
            idx, dist = space.k_nearest(space.fast_block(0, 3, exclude_self=True), 0, 1)
            assert _np(idx)[:2, 0].tolist() == [1, 0]
            assert _np(dist)[:2, 0].tolist() == [0.0, 0.0]


def test_a_single_point_and_an_empty_tile():
    x = np.array([[1.0, 2.0]])
    space = PairSpace(x, None, "euclidean", centre=True)
    d = space.fast_block(0, 1, exclude_self=True)
    rows, cols, vals = space.within(d, 0, 10.0, strict=True)
    assert rows.size == cols.size == vals.size == 0
    empty = space.fast_block(0, 1, 1, 1, exclude_self=False)
    assert empty.shape == (1, 0) and space.within(empty, 0, 1.0, strict=False)[0].size == 0


def test_zero_rows_are_named_for_cosine():
    with pytest.raises(ValueError, match=r"points has 1 zero row\(s\) \(zero norm, rows 1\)"):
        PairSpace(np.array([[1.0], [0.0]]), None, "cosine", name="points")


def test_excluded_pairs_are_never_seen():
    x = np.array([[0.0], [1.0], [2.0]])
    # exclude 0-1 and 1-0: row 0's nearest becomes 2, row 1's becomes 2
    space = PairSpace(torch.from_numpy(x), None, "euclidean",
                      exclude=(np.array([0, 1, 2, 2]), np.array([1, 0])))
    idx, dist = space.k_nearest(space.fast_block(0, 3, exclude_self=True), 0, 1)
    assert idx.ravel().tolist() == [2, 2, 1]
    assert space.exact(torch.tensor([0]), torch.tensor([1])).tolist() == [float("inf")]


def test_numpy_users_of_the_kernel_never_import_torch():
    code = ("import sys, numpy as np, sip_theory.graphs as g\n"
            "x = np.random.default_rng(0).standard_normal((30, 3))\n"
            "g.radius_graph(x, 1.0); g.knn_graph(x, 3, metric='cosine')\n"
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@FAST
@given(point_sets(), st.sampled_from(["euclidean", "sqeuclidean"]), st.booleans(),
       st.integers(1, 5), st.data())
def test_native_squared_blocks_select_alike(x, metric, strict, chunk, data):
    # the numpy fast path: selection on squared values, exact distances decide (ties in
    # distance that differ in squared distance by an ulp included)
    n = x.shape[0]
    k = min(3, n - 1)
    ex = _exact_matrix(x, metric)
    t = float(ex[data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))])
    np.fill_diagonal(ex, np.inf)
    want = np.array([np.lexsort((np.arange(n), row))[:k] for row in ex])
    space = PairSpace(x, None, metric, centre=True)
    for r0 in range(0, n, chunk):
        r1 = min(r0 + chunk, n)
        d = space.fast_block(r0, r1, exclude_self=True, native=True)
        idx, _ = space.k_nearest(d, r0, k, native=True)
        np.testing.assert_array_equal(idx, want[r0:r1])
        rows, cols, _ = space.within(d, r0, t, strict=strict, native=True)
        got = np.zeros((r1 - r0, n), dtype=bool)
        got[rows, cols] = True
        np.testing.assert_array_equal(got, ex[r0:r1] < t if strict else ex[r0:r1] <= t)


@st.composite
def grouped_point_sets(draw):
    """A few hundred points on a small integer grid (heavy ties, duplicates), so that
    k_nearest splits its columns into groups of several members; optionally translated
    by 1e8 with a one-ulp nudge, in float32 or float64."""
    n = draw(st.integers(60, 260))
    d = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    x = np.random.default_rng(seed).integers(-3, 4, size=(n, d)).astype(np.float64)
    if draw(st.booleans()):
        x[0, 0] = np.nextafter(x[0, 0], np.inf)
    if draw(st.booleans()):
        x = x + 1e8
    return x.astype(draw(st.sampled_from([np.float32, np.float64])))


@settings(max_examples=25, deadline=None)
@given(grouped_point_sets(), st.sampled_from(METRICS), st.integers(1, 6), st.data())
def test_k_nearest_in_groups_is_the_exact_brute_force(x, metric, k, data):
    # every input form: finished blocks (both backends), numpy's native squared blocks and
    # torch's expanded blocks |r|^2 - 2 q.r, shifted back by |q|^2 inside the selector
    if not _usable(x, metric):
        return
    n = x.shape[0]
    ex = _exact_matrix(x, metric)
    np.fill_diagonal(ex, np.inf)
    want = np.array([np.lexsort((np.arange(n), row))[:k] for row in ex])
    chunk = data.draw(st.integers(1, n))
    euclid = metric in ("euclidean", "sqeuclidean")
    forms = [("numpy", {}), ("torch", {})]
    if euclid:
        forms += [("numpy", {"native": True}), ("torch", {"expanded": True})]
    for backend, form in forms:
        pts = x if backend == "numpy" else torch.from_numpy(x.copy())
        space = PairSpace(pts, None, metric, centre=True)
        for r0 in range(0, n, chunk):
            r1 = min(r0 + chunk, n)
            if form.get("expanded"):
                block = space.expanded(r0, r1)
                space.mask_pairs(block, r0, r1, exclude_self=True)
            else:
                block = space.fast_block(r0, r1, exclude_self=True, **form)
            idx, dist = space.k_nearest(block, r0, k, **form)
            np.testing.assert_array_equal(_np(idx), want[r0:r1], err_msg=f"{backend} {form}")
            np.testing.assert_array_equal(_np(dist), np.take_along_axis(ex[r0:r1], want[r0:r1], 1))


def test_k_nearest_marks_missing_neighbours_when_pairs_are_masked():
    # 3 points, every pair of point 0 excluded: its 2 nearest do not exist (-1, +inf)
    x = np.array([[0.0], [1.0], [3.0]])
    indptr, indices = np.array([0, 2, 3, 4]), np.array([1, 2, 0, 0])
    for pts in (x, torch.from_numpy(x)):
        space = PairSpace(pts, None, "euclidean", exclude=(indptr, indices))
        idx, dist = space.k_nearest(space.fast_block(0, 3, exclude_self=True), 0, 2)
        assert _np(idx).tolist() == [[-1, -1], [2, -1], [1, -1]]
        assert _np(dist).tolist() == [[np.inf, np.inf], [2.0, np.inf], [2.0, np.inf]]
