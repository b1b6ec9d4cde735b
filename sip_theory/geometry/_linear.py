"""Linear probe: multinomial logistic regression in torch, held out or cross-validated."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .._serialization import ToDictMixin
from .._validation import as_generator, check_positive_int
from ._arrays import as_tensor2d, like_input, single_thread_if_small
from ._common import label_codes
from ._probes import macro_ovr_auroc

__all__ = ["LinearProbeResult", "fit_logistic_regression", "linear_probe"]


def fit_logistic_regression(X: torch.Tensor, codes: torch.Tensor, n_classes: int, *,
                            C: float = 1.0, max_iter: int = 500, tol: float = 1e-10):
    """Multinomial logistic regression with an L2 penalty, fitted by L-BFGS.

    Minimises C * sum_i CE(W x_i + b, y_i) + ||W||^2 / 2 (the intercept b is
    not penalised), the objective of scikit-learn's ``LogisticRegression(C=C)``
    with the lbfgs solver; the optimum is unique.

    Returns
    -------
    W : tensor (d, n_classes), b : tensor (n_classes,)

    Examples
    --------
    >>> X = torch.tensor([[0.0], [1.0], [3.0], [4.0]], dtype=torch.float64)
    >>> W, b = fit_logistic_regression(X, torch.tensor([0, 0, 1, 1]), 2)
    >>> (X @ W + b).argmax(1).tolist()
    [0, 0, 1, 1]
    """
    n, d = X.shape
    W = torch.zeros(d, n_classes, dtype=X.dtype, device=X.device, requires_grad=True)
    b = torch.zeros(n_classes, dtype=X.dtype, device=X.device, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], lr=1.0, max_iter=max_iter, tolerance_grad=tol,
                            tolerance_change=tol * 1e-3, history_size=20,
                            line_search_fn="strong_wolfe")
    scale = 1.0 / (C * n)  # objective divided by C * n for conditioning

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(X @ W + b, codes, reduction="mean")
        loss = loss + 0.5 * scale * (W * W).sum()
        loss.backward()
        return loss

    # one product X W costs n d C: below SMALL_WORK, extra threads only add synchronisation
    with torch.enable_grad(), single_thread_if_small(float(n) * d * n_classes, X.device):
        opt.step(closure)
    return W.detach(), b.detach()


def _stratified_split(codes: np.ndarray, test_size: float, rng) -> tuple:
    train, test = [], []
    for c in np.unique(codes):
        idx = rng.permutation(np.flatnonzero(codes == c))
        n_test = int(round(test_size * idx.shape[0]))
        if idx.shape[0] >= 2:
            n_test = min(max(n_test, 1), idx.shape[0] - 1)
        else:
            n_test = 0
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _stratified_folds(codes: np.ndarray, cv: int, rng) -> list:
    fold = np.empty(codes.shape[0], dtype=np.int64)
    offset = 0
    for c in np.unique(codes):
        idx = rng.permutation(np.flatnonzero(codes == c))
        fold[idx] = (np.arange(idx.shape[0]) + offset) % cv
        offset += idx.shape[0]
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(cv)]


@dataclass(frozen=True, eq=False)
class LinearProbeResult(ToDictMixin):
    """Accuracy of a multinomial logistic-regression probe on held-out samples.

    Attributes
    ----------
    accuracy : float
        Held-out accuracy (mean over folds under cross-validation).
    macro_auroc : float
        Macro one-vs-rest AUROC of the held-out class probabilities (mean over folds).
    fold_accuracies : tuple of float
        One accuracy per fold (one entry for a single split); their spread is the
        property ``accuracy_sd``.
    protocol : str
        ``"holdout"``, ``"cv"`` or ``"given"`` (explicit train/test indices).
    n_train, n_test : int
        Sizes of the (first) split.
    C : float
    standardize : bool
    """

    accuracy: float
    macro_auroc: float
    fold_accuracies: tuple
    protocol: str
    n_train: int
    n_test: int
    C: float
    standardize: bool
    test_predictions: np.ndarray = field(repr=False, default=None)

    _to_dict_exclude = ("test_predictions",)
    _to_dict_extra = ("accuracy_sd",)

    @property
    def accuracy_sd(self) -> float:
        """Sample standard deviation (ddof 1) of the fold accuracies: the spread over
        folds under cross-validation; NaN for a single split.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X = np.r_[rng.normal(0, 1, (30, 2)), rng.normal(1.5, 1, (30, 2))]
        >>> r = linear_probe(X, [0] * 30 + [1] * 30, cv=3)
        >>> bool(np.isclose(r.accuracy_sd, np.std(r.fold_accuracies, ddof=1)))
        True
        """
        acc = np.asarray(self.fold_accuracies, dtype=np.float64)
        return float(acc.std(ddof=1)) if acc.shape[0] > 1 else float("nan")


def linear_probe(
    embeddings,
    labels,
    *,
    C: float = 1.0,
    test_size: float = 0.25,
    cv: int | None = None,
    train_index=None,
    test_index=None,
    standardize: bool = True,
    max_iter: int = 500,
    seed=0,
    device=None,
    missing_label=None,
) -> LinearProbeResult:
    """Fit a multinomial logistic regression on some samples, score it on the others.

    Parameters
    ----------
    embeddings : array-like or torch.Tensor of shape (n, d)
    labels : array-like of shape (n,)
    C : float, default 1.0
        Inverse L2 strength, as in scikit-learn's ``LogisticRegression``.
    test_size : float, default 0.25
        Fraction held out per class (stratified, at least one sample of each
        class with two or more samples) when neither ``cv`` nor indices are given.
    cv : int, optional
        Stratified ``cv``-fold cross-validation instead of one split.
    train_index, test_index : array-like of int, optional
        An explicit split (e.g. the planetoid split of Cora).
    standardize : bool, default True
        z-score the features with the training mean and standard deviation.
    max_iter : int, default 500
        L-BFGS iterations.
    seed : int or numpy.random.Generator, default 0
        Drives the split; the fit itself is deterministic.
    device : str or torch.device, optional
    missing_label : int, float or str, optional
        A value that marks a missing label (masked entries, NaN and None always do;
        :func:`sip_theory._validation.known_labels`). The probe is then fitted and
        scored on the labelled rows only; a given split may not name unlabelled rows.

    Returns
    -------
    LinearProbeResult

    Raises
    ------
    ValueError
        Labels of the wrong length, an out-of-range ``test_size``, ``cv < 2``,
        only one of ``train_index``/``test_index``, a training split with one class,
        split indices naming unlabelled samples.

    Notes
    -----
    Computed in float64. The fit minimises C * sum CE + ||W||^2 / 2, the
    objective of scikit-learn's ``LogisticRegression`` (lbfgs), so both reach
    the same unique optimum. Invariant under sample permutation (given the
    seed's split), rotation and translation; with ``standardize=True`` also
    under any per-feature scaling, but not under rotation after standardisation.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (40, 3)), rng.normal(4, 1, (40, 3))]
    >>> y = [0] * 40 + [1] * 40
    >>> r = linear_probe(X, y, cv=4, seed=0)
    >>> r.protocol, r.accuracy
    ('cv', 1.0)
    """
    X = as_tensor2d(embeddings, name="embeddings", device=device, dtype="float64")
    n = int(X.shape[0])
    classes, codes = label_codes(labels, n, missing_label=missing_label)
    lab = np.flatnonzero(codes >= 0)  # the rows a split draws from
    if classes.shape[0] < 2:
        raise ValueError("labels must contain at least two classes for a linear probe")
    if not (isinstance(C, (int, float)) and C > 0):
        raise ValueError(f"C must be a positive number, got {C!r}")
    max_iter = check_positive_int(max_iter, name="max_iter")
    rng = as_generator(seed)
    if (train_index is None) != (test_index is None):
        raise ValueError("pass both train_index and test_index, or neither")
    if train_index is not None:
        tr = np.asarray(train_index, dtype=np.int64).reshape(-1)
        te = np.asarray(test_index, dtype=np.int64).reshape(-1)
        for nm, ix in (("train_index", tr), ("test_index", te)):
            if ix.size == 0 or ix.min() < 0 or ix.max() >= n:
                raise ValueError(f"{nm} must hold indices in [0, {n})")
            if (codes[ix] < 0).any():
                raise ValueError(f"{nm} holds {int((codes[ix] < 0).sum())} sample(s) whose "
                                 f"label is missing, e.g. {int(ix[codes[ix] < 0][0])}")
        splits, protocol = [(tr, te)], "given"
    elif cv is not None:
        cv = check_positive_int(cv, name="cv", minimum=2)
        splits, protocol = _stratified_folds(codes[lab], cv, rng), "cv"
    else:
        if not 0.0 < float(test_size) < 1.0:
            raise ValueError(f"test_size must be in (0, 1), got {test_size}")
        splits = [_stratified_split(codes[lab], float(test_size), rng)]
        protocol = "holdout"
    if protocol != "given":  # split positions among the labelled rows -> row indices
        splits = [(lab[a], lab[b]) for a, b in splits]

    y = torch.as_tensor(codes, device=X.device)
    accs, aurocs, preds = [], [], []
    for tr, te in splits:
        if np.unique(codes[tr]).shape[0] < 2:
            raise ValueError("a training split holds a single class; use more samples or cv")
        Xtr, Xte = X[tr], X[te]
        if standardize:
            mu = Xtr.mean(0)
            sd = Xtr.std(0, unbiased=False)
            sd = torch.where(sd > 0, sd, torch.ones_like(sd))
            Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
        W, b = fit_logistic_regression(Xtr, y[tr], classes.shape[0], C=float(C),
                                       max_iter=max_iter)
        proba = torch.softmax(Xte @ W + b, dim=1).cpu().numpy()
        pred = proba.argmax(1)
        accs.append(float((pred == codes[te]).mean()))
        aurocs.append(macro_ovr_auroc(codes[te], proba))
        preds.append(classes[pred])
    return LinearProbeResult(
        accuracy=float(np.mean(accs)),
        macro_auroc=float(np.nanmean(aurocs)) if not np.all(np.isnan(aurocs)) else float("nan"),
        fold_accuracies=tuple(accs),
        protocol=protocol,
        n_train=int(splits[0][0].shape[0]),
        n_test=int(splits[0][1].shape[0]),
        C=float(C),
        standardize=bool(standardize),
        test_predictions=preds[0] if protocol != "cv" else None,
    )


def linear_probe_accuracy(embeddings, labels, **kwargs):
    """Held-out accuracy of :func:`linear_probe` as the input's array type."""
    return like_input(linear_probe(embeddings, labels, **kwargs).accuracy, embeddings)
