"""The paper's leave-one-out k-NN probe and the linear probe against scikit-learn."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier

from sip_theory.geometry import (
    knn_accuracy,
    knn_macro_auroc,
    knn_probe,
    linear_probe,
    vote_proportions,
)
from sip_theory.geometry._linear import fit_logistic_regression


def sklearn_leave_one_out(X, y, k, weights="distance"):
    proba, pred = [], []
    for i in range(X.shape[0]):
        keep = np.arange(X.shape[0]) != i
        clf = KNeighborsClassifier(n_neighbors=k, weights=weights).fit(X[keep], y[keep])
        proba.append(clf.predict_proba(X[i:i + 1])[0])
        pred.append(clf.predict(X[i:i + 1])[0])
    return np.array(proba), np.array(pred)


def blobs(seed, n_per=15, d=4, classes=3, spread=1.5):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(c * spread, 1.0, size=(n_per, d)) for c in range(classes)])
    y = np.repeat(np.arange(classes), n_per)
    return X, y


@pytest.mark.parametrize("weights", ["distance", "uniform"])
def test_loo_knn_equals_sklearn_fit_without_each_sample(weights):
    X, y = blobs(0)
    proba, pred = sklearn_leave_one_out(X, y, 3, weights)
    r = knn_probe(X, y, k=3, weights=weights, chunk_size=7)
    np.testing.assert_allclose(r.proba, proba, atol=1e-12)
    assert (r.predictions == pred).all()
    assert abs(r.accuracy - (pred == y).mean()) < 1e-12
    want = roc_auc_score(y, proba, multi_class="ovr", average="macro")
    assert abs(r.macro_auroc - want) < 1e-10


def test_zero_distance_neighbours_vote_alone_as_in_sklearn():
    X, y = blobs(1, n_per=10)
    X = np.round(X)  # integer coordinates: duplicates at distance exactly 0
    X[3] = X[25]
    y = y.copy()
    proba, pred = sklearn_leave_one_out(X, y, 3)
    r = knn_probe(X, y, k=3)
    assert r.proba[3, y[25]] == 1.0 and r.proba[25, y[3]] == 1.0
    np.testing.assert_allclose(r.proba[[3, 25]], proba[[3, 25]], atol=1e-12)


def test_vote_proportions_zero_rule_and_inverse_distance():
    d = np.array([[0.0, 0.0, 1.0], [1.0, 2.0, 4.0]])
    c = np.array([[0, 1, 1], [0, 1, 1]])
    np.testing.assert_allclose(vote_proportions(d, c, 2), [[0.5, 0.5], [4 / 7, 3 / 7]])


def test_string_labels_and_torch_inputs():
    X, y = blobs(2)
    names = np.array(["a", "b", "c"])[y]
    r = knn_probe(X, names)
    assert set(r.predictions) <= {"a", "b", "c"} and list(r.classes) == ["a", "b", "c"]
    acc_t = knn_accuracy(torch.from_numpy(X), torch.from_numpy(y))
    assert isinstance(acc_t, torch.Tensor) and abs(float(acc_t) - r.accuracy) < 1e-15
    assert isinstance(knn_macro_auroc(X, y), np.float64)


def test_knn_probe_invariant_to_rigid_motions_and_scale_but_not_stretching():
    X, y = blobs(3, spread=1.0)
    base = knn_probe(X, y)
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(4, 4)))
    perm = np.random.default_rng(1).permutation(X.shape[0])
    for Z, yy in ((X @ Q + 3.0, y), (0.2 * X, y), (X[perm], y[perm])):
        r = knn_probe(Z, yy)
        assert abs(r.accuracy - base.accuracy) < 1e-12
        assert abs(r.macro_auroc - base.macro_auroc) < 1e-12
    stretched = knn_probe(X * np.array([25.0, 1, 1, 1]), y)
    assert abs(stretched.macro_auroc - base.macro_auroc) > 1e-3


def test_probe_errors():
    X, y = blobs(4)
    with pytest.raises(ValueError, match="labels has length 10"):
        knn_probe(X, y[:10])
    with pytest.raises(ValueError, match="metric='dot' allows only"):
        knn_probe(X, y, metric="dot")
    with pytest.raises(ValueError, match="weights must be one of"):
        knn_probe(X, y, weights="gaussian")


def test_logistic_regression_reaches_sklearn_optimum():
    X, y = blobs(5, n_per=20, classes=3, spread=1.0)
    W, b = fit_logistic_regression(torch.from_numpy(X), torch.from_numpy(y), 3, C=0.5)
    ours = torch.softmax(torch.from_numpy(X) @ W + b, 1).numpy()
    ref = LogisticRegression(C=0.5, tol=1e-12, max_iter=5000).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_linear_probe_given_split_matches_sklearn_predictions():
    X, y = blobs(6, n_per=20, spread=1.2)
    rng = np.random.default_rng(0)
    te = rng.choice(60, 15, replace=False)
    tr = np.setdiff1d(np.arange(60), te)
    r = linear_probe(X, y, train_index=tr, test_index=te, standardize=False)
    ref = LogisticRegression(C=1.0, tol=1e-12, max_iter=5000).fit(X[tr], y[tr])
    assert (r.test_predictions == ref.predict(X[te])).all()
    assert abs(r.accuracy - ref.score(X[te], y[te])) < 1e-12


def test_linear_probe_splits_are_seeded_and_stratified():
    X, y = blobs(7, n_per=12, spread=0.8)
    a, b = linear_probe(X, y, seed=3), linear_probe(X, y, seed=3)
    assert a.accuracy == b.accuracy and a.n_test == 9 and a.n_train == 27
    cv = linear_probe(X, y, cv=3, seed=0)
    assert cv.protocol == "cv" and len(cv.fold_accuracies) == 3
    assert abs(cv.accuracy - np.mean(cv.fold_accuracies)) < 1e-15


def test_linear_probe_errors():
    X, y = blobs(8)
    with pytest.raises(ValueError, match="at least two classes"):
        linear_probe(X, np.zeros(len(y), int))
    with pytest.raises(ValueError, match="both train_index and test_index"):
        linear_probe(X, y, train_index=[0, 1])
    with pytest.raises(ValueError, match="test_size"):
        linear_probe(X, y, test_size=1.5)
