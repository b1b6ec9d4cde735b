"""Fine-tuning probes without training: the paper's leave-one-out k-NN vote.

The paper's fine-tuning metric (experiments.md section 1): every node is
classified by a distance-weighted vote of its 3 nearest *other* nodes
(Euclidean), and scored by accuracy and by the macro one-vs-rest AUROC of the
vote proportions. The vote follows scikit-learn's
``KNeighborsClassifier(weights="distance")``: weights 1/d, except that when a
neighbour is at distance 0 only the zero-distance neighbours vote (equally).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata

from .._serialization import ToDictMixin
from .._validation import check_one_of, check_positive_int
from ._arrays import like_input
from ._common import engine_options, get_neighbors, known_codes, prepare

__all__ = ["KNNProbeResult", "knn_accuracy", "knn_macro_auroc", "knn_probe", "macro_ovr_auroc"]

WEIGHTS = ("distance", "uniform")



def _binary_auroc(positive: np.ndarray, score: np.ndarray) -> float:
    """AUROC by the Mann-Whitney statistic with mid-ranks (ties count one half)."""
    n_pos = int(positive.sum())
    n_neg = positive.shape[0] - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score, method="average")
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def macro_ovr_auroc(codes: np.ndarray, proba: np.ndarray) -> float:
    """Unweighted mean over classes of the AUROC of ``proba[:, c]`` for class c vs the rest.

    Classes with no positive or no negative sample are skipped; NaN if none is left.

    Examples
    --------
    >>> import numpy as np
    >>> macro_ovr_auroc(np.array([0, 1, 1]), np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]))
    1.0
    """
    codes = np.asarray(codes)
    vals = [_binary_auroc(codes == c, proba[:, c]) for c in range(proba.shape[1])]
    vals = [v for v in vals if not np.isnan(v)]
    return float(np.mean(vals)) if vals else float("nan")


@dataclass(frozen=True, eq=False)
class KNNProbeResult(ToDictMixin):
    """k-NN vote: leave-one-out over every sample, or of test samples among training ones.

    Attributes
    ----------
    accuracy : float
        Fraction of voted samples (all, or the test samples) whose label is the vote's
        argmax (ties -> the first class).
    macro_auroc : float
        Macro one-vs-rest AUROC of the vote proportions.
    k : int
    weights, metric : str
    classes : ndarray
        Sorted distinct labels; column c of ``proba`` is ``classes[c]``.
    proba : ndarray, shape (n_voted, n_classes)
        Vote proportions, one row per voted sample (in ``test_index`` order).
    predictions : ndarray
        Predicted label per voted sample.
    per_class_accuracy : ndarray
        Accuracy within each class among the voted samples (recall of the class; NaN
        for a class with no voted sample).
    protocol : {"leave-one-out", "given"}
        Every labelled sample voted by the other labelled ones, or ``test_index`` by
        ``train_index``.
    n_voted : int
    n_unlabeled : int
        Samples whose label is missing: neither voted on nor voting.
    """

    accuracy: float
    macro_auroc: float
    k: int
    weights: str
    metric: str
    classes: np.ndarray = field(repr=False)
    proba: np.ndarray = field(repr=False)
    predictions: np.ndarray = field(repr=False)
    per_class_accuracy: np.ndarray = field(repr=False)
    protocol: str = "leave-one-out"
    n_voted: int = 0
    n_unlabeled: int = 0

    _to_dict_exclude = ("proba", "predictions")


def vote_proportions(distances: np.ndarray, neighbor_codes: np.ndarray, n_classes: int,
                     weights: str = "distance") -> np.ndarray:
    """Class proportions of a (weighted) vote; rows are samples, columns neighbours.

    ``weights="distance"``: weight 1/d, or, in a row with a zero distance, weight
    1 for the zero-distance neighbours and 0 for the others (scikit-learn's rule).

    Examples
    --------
    >>> import numpy as np
    >>> vote_proportions(np.array([[1.0, 2.0, 0.0]]), np.array([[0, 1, 1]]), 2).tolist()
    [[0.0, 1.0]]
    >>> vote_proportions(np.array([[1.0, 2.0]]), np.array([[0, 1]]), 2).round(4).tolist()
    [[0.6667, 0.3333]]
    """
    d = np.asarray(distances, dtype=np.float64)
    if weights == "uniform":
        w = np.ones_like(d)
    else:
        zero = d == 0
        with np.errstate(divide="ignore"):
            w = 1.0 / d
        w = np.where(zero.any(axis=1, keepdims=True), zero.astype(np.float64), w)
    n = d.shape[0]
    proba = np.zeros((n, n_classes))
    rows = np.repeat(np.arange(n), d.shape[1])
    np.add.at(proba, (rows, neighbor_codes.reshape(-1)), w.reshape(-1))
    return proba / proba.sum(axis=1, keepdims=True)


def knn_probe(
    embeddings,
    labels,
    *,
    k: int = 3,
    weights: str = "distance",
    metric: str | None = None,
    train_index=None,
    test_index=None,
    neighbors=None,
    missing_label=None,
    **engine,
) -> KNNProbeResult:
    """The paper's fine-tuning probe: leave-one-out, distance-weighted k-NN vote (k = 3).

    Parameters
    ----------
    embeddings : array-like or torch.Tensor of shape (n, d)
    labels : array-like of shape (n,)
        Class labels (ints or strings). Labels may be missing (masked, NaN, None, or
        ``missing_label``; :func:`sip_theory._validation.known_labels`).
    k : int, default 3
    weights : {"distance", "uniform"}, default "distance"
        ``"distance"``: inverse-distance weights with scikit-learn's zero-distance rule.
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, optional
        Default that of ``neighbors``, else ``"euclidean"``. ``"dot"`` has negative
        "distances" and allows only ``weights="uniform"``.
    train_index, test_index : array-like of int, optional
        A given split, as in :func:`linear_probe`: each test sample is voted by its
        k nearest *training* samples only (the planetoid protocol), instead of
        leave-one-out over all samples. Disjoint, without repeats.
    neighbors : Neighbors, optional
        With ``k >= k`` (leave-one-out only).
    missing_label : int, float or str, optional
        A value that marks a missing label (e.g. ``-1``). A sample without a label
        is not voted on, and, having no label, it cannot vote: each labelled sample
        is voted by its k nearest other *labelled* samples, so the result equals
        the probe on the labelled rows alone (the classifier fitted on the labelled
        data). The unlabelled rows stay in the embedding for every label-free metric.
    **engine
        ``device``, ``dtype``, ``chunk_size``, ``memory_budget``, ``progress``, ``distributed``.

    Returns
    -------
    KNNProbeResult

    Raises
    ------
    ValueError
        Labels of the wrong length, k >= the labelled samples (or k > the training
        samples), split indices naming unlabelled samples,
        ``weights="distance"`` with ``metric="dot"``, only one of
        ``train_index``/``test_index``, indices out of range, repeated or shared by
        both, a split with ``neighbors``.

    Notes
    -----
    p_i(c) = sum_{j in kNN(i)} w_ij 1[y_j = c] / sum_j w_ij with w_ij = 1/d_ij, and
    w_ij = 1[d_ij = 0] when some d_ij = 0. Prediction argmax_c p_i(c) (the first
    class on ties); AUROC macro-averaged one-vs-rest over classes, from p_i(c).
    Equal to fitting scikit-learn's ``KNeighborsClassifier(k, weights="distance")``
    on all samples but i and predicting i, for every i (neighbour ties broken by
    index here). Invariant under sample permutation, rotation, translation and
    isotropic scaling of the embedding.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [0.3], [5.0], [5.1], [0.2]])
    >>> r = knn_probe(X, [0, 0, 0, 1, 1, 1], k=2)
    >>> round(r.accuracy, 4), r.predictions.tolist()
    (0.6667, [0, 0, 1, 1, 1, 0])

    Test samples 1 and 4 voted by the training samples alone:

    >>> r = knn_probe(X, [0, 0, 0, 1, 1, 1], k=1, train_index=[0, 2, 3, 5],
    ...               test_index=[1, 4])
    >>> r.protocol, r.predictions.tolist(), r.accuracy
    ('given', [0, 1], 1.0)

    Sample 5's label is missing: the others are voted without it.

    >>> r = knn_probe(X, [0, 0, 0, 1, 1, -1], k=1, missing_label=-1)
    >>> r.n_voted, r.n_unlabeled, r.predictions.tolist()
    (5, 1, [0, 0, 0, 1, 1])
    """
    engine = engine_options(engine)
    check_one_of(weights, WEIGHTS, name="weights")
    X = prepare(embeddings, device=engine.get("device"), dtype=engine.get("dtype"))
    n = int(X.shape[0])
    classes, codes = known_codes(labels, n, missing_label=missing_label, need=2)
    known = codes >= 0
    n_known = int(known.sum())
    k = check_positive_int(k, name="k")
    if k > n_known - 1:
        what = "n_samples" if n_known == n else "the labelled samples"
        raise ValueError(f"k must be <= {what} - 1 = {n_known - 1}, got {k}")
    if metric == "dot" and weights == "distance":
        raise ValueError("weights='distance' needs non-negative distances; metric='dot' "
                         "allows only weights='uniform'")
    split = _check_split(train_index, test_index, n, k, neighbors, known)
    if split is None and n_known == n:
        nb, metric = get_neighbors(X, neighbors=neighbors, metric=metric, k=k, engine=engine)
        dist, ref, voted, protocol = nb.distances[:, :k], nb.indices[:, :k], codes, \
            "leave-one-out"
    elif split is None:
        dist, ref, metric = _labelled_neighbors(X, known, k, neighbors, metric, engine)
        voted, protocol = codes[known], "leave-one-out"
    else:
        from ._queries import knn

        tr, te = split
        metric = "euclidean" if metric is None else metric
        # tr is sorted, so the reference order is the index order: ties break as in the
        # leave-one-out vote, by (distance, index)
        dist, pos = knn(X[te], k, reference=X[tr], metric=metric, exclude_self=False,
                        **engine)
        dist, ref = np.asarray(dist.cpu()), tr[np.asarray(pos.cpu())]
        voted, protocol = codes[te], "given"
    if metric == "dot" and weights == "distance":  # the metric of ``neighbors``
        raise ValueError("weights='distance' needs non-negative distances; metric='dot' "
                         "allows only weights='uniform'")
    proba = vote_proportions(dist, codes[ref], classes.shape[0], weights)
    pred_codes = np.argmax(proba, axis=1)
    correct = pred_codes == voted
    per_class = np.array([correct[voted == c].mean() if np.any(voted == c) else np.nan
                          for c in range(classes.shape[0])])
    return KNNProbeResult(
        accuracy=float(correct.mean()),
        macro_auroc=macro_ovr_auroc(voted, proba),
        k=k, weights=weights, metric=metric, classes=classes, proba=proba,
        predictions=classes[pred_codes], per_class_accuracy=per_class,
        protocol=protocol, n_voted=int(voted.shape[0]), n_unlabeled=n - n_known,
    )


def _labelled_neighbors(X, known, k, neighbors, metric, engine):
    """Distances and indices of the k nearest other labelled samples of each labelled one.

    Read off the given neighbour lists where each holds k labelled entries (a list is
    sorted by (distance, index), so its labelled entries in order are the labelled
    sample's own list); otherwise one sweep over the labelled rows alone.
    """
    rows = np.flatnonzero(known)
    if neighbors is not None:
        nb, metric = get_neighbors(X, neighbors=neighbors, metric=metric, k=k, engine=engine)
        ind = nb.indices[rows]
        ok = known[ind]
        take = ok & (np.cumsum(ok, axis=1) <= k)
        if (take.sum(axis=1) == k).all():
            return (nb.distances[rows][take].reshape(-1, k), ind[take].reshape(-1, k),
                    metric)
    nb, metric = get_neighbors(X[rows], neighbors=None, metric=metric, k=k, engine=engine)
    return nb.distances[:, :k], rows[nb.indices[:, :k]], metric


def _check_split(train_index, test_index, n: int, k: int, neighbors, known):
    """``(sorted train, test)`` index arrays, or None for leave-one-out."""
    if (train_index is None) != (test_index is None):
        raise ValueError("pass both train_index and test_index, or neither")
    if train_index is None:
        return None
    if neighbors is not None:
        raise ValueError("neighbors hold leave-one-out lists; a train_index/test_index split "
                         "computes its own (pass neighbors=None)")
    tr = np.asarray(train_index, dtype=np.int64).reshape(-1)
    te = np.asarray(test_index, dtype=np.int64).reshape(-1)
    for nm, ix in (("train_index", tr), ("test_index", te)):
        if ix.size == 0 or ix.min() < 0 or ix.max() >= n:
            raise ValueError(f"{nm} must hold indices in [0, {n})")
        if np.unique(ix).size != ix.size:
            raise ValueError(f"{nm} holds repeated indices")
        if not known[ix].all():
            raise ValueError(f"{nm} holds {int((~known[ix]).sum())} sample(s) whose label is "
                             f"missing, e.g. {int(ix[~known[ix]][0])}")
    if np.intersect1d(tr, te).size:
        raise ValueError("train_index and test_index share samples; a test sample would vote "
                         "for itself")
    if k > tr.size:
        raise ValueError(f"k must be <= len(train_index) = {tr.size}, got {k}")
    return np.sort(tr), te


def knn_accuracy(embeddings, labels, *, k: int = 3, weights: str = "distance", metric=None,
                 neighbors=None, missing_label=None, **engine):
    """Leave-one-out k-NN accuracy (the paper's 3-NN protocol); see :func:`knn_probe`.

    Examples
    --------
    >>> import numpy as np
    >>> float(knn_accuracy(np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]]),
    ...                    [0, 0, 0, 1, 1, 1], k=2))
    1.0
    """
    r = knn_probe(embeddings, labels, k=k, weights=weights, metric=metric,
                  neighbors=neighbors, missing_label=missing_label, **engine)
    return like_input(r.accuracy, embeddings)


def knn_macro_auroc(embeddings, labels, *, k: int = 3, weights: str = "distance", metric=None,
                    neighbors=None, missing_label=None, **engine):
    """Macro one-vs-rest AUROC of the leave-one-out k-NN vote; see :func:`knn_probe`.

    Examples
    --------
    >>> import numpy as np
    >>> float(knn_macro_auroc(np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]]),
    ...                       [0, 0, 0, 1, 1, 1], k=2))
    1.0
    """
    r = knn_probe(embeddings, labels, k=k, weights=weights, metric=metric,
                  neighbors=neighbors, missing_label=missing_label, **engine)
    return like_input(r.macro_auroc, embeddings)
