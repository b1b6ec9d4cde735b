"""The small seeded k-means used for the mechanistic label sets."""

from __future__ import annotations

import numpy as np
import pytest

from sip_theory.graphs._kmeans import kmeans  # private: the mechanistic labels


def _blobs(seed):
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    truth = rng.integers(4, size=120)
    return centers[truth] + rng.normal(scale=0.5, size=(120, 2)), truth


def _same_partition(a, b):
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_kmeans_recovers_well_separated_blobs_like_sklearn():
    from sklearn.cluster import KMeans

    x, truth = _blobs(0)
    ours, inertia = kmeans(x, 4, seed=0)
    ref = KMeans(4, n_init=10, random_state=0).fit(x)
    assert _same_partition(ours, truth) and _same_partition(ours, ref.labels_)
    assert abs(inertia - ref.inertia_) <= 1e-6 * ref.inertia_


def test_kmeans_result_is_a_lloyd_fixed_point():
    x = np.random.default_rng(1).normal(size=(80, 5))
    labels, inertia = kmeans(x, 3, seed=2)
    centers = np.stack([x[labels == c].mean(0) for c in range(3)])
    d = ((x[:, None] - centers[None]) ** 2).sum(-1)
    assert np.array_equal(d.argmin(1), labels)
    assert np.isclose(d.min(1).sum(), inertia)


def test_kmeans_labels_numbered_by_first_appearance_and_seed_reproducible():
    x, _ = _blobs(2)
    a, _ = kmeans(x, 4, seed=5)
    assert a[0] == 0 and np.array_equal(np.unique(a, return_index=True)[1],
                                        np.sort(np.unique(a, return_index=True)[1]))
    assert np.array_equal(a, kmeans(x, 4, seed=5)[0])


def test_kmeans_too_few_distinct_rows_raises():
    with pytest.raises(ValueError, match="distinct"):
        kmeans([[0.0], [0.0], [1.0]], 3, seed=0)


def test_kmeans_is_private_to_the_library():
    import sip_theory.graphs

    assert not hasattr(sip_theory.graphs, "kmeans") and "kmeans" not in sip_theory.graphs.__all__
