"""Shared input validation: every public function checks its data here.

Errors name the offending argument and say what was expected, so that a user
reading a traceback knows which input to fix.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "as_generator",
    "check_embeddings",
    "check_labels",
    "check_one_of",
    "check_probability",
    "check_positive_int",
]


def as_generator(seed, *, name: str = "seed") -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` from ``seed``.

    ``seed`` may be an int, a ``SeedSequence`` or an existing ``Generator``
    (returned unchanged, so callers can thread one stream through several
    calls). ``None`` is refused: every random result must be reproducible.

    Examples
    --------
    >>> a, b = as_generator(3), as_generator(3)
    >>> a.integers(10, size=3).tolist() == b.integers(10, size=3).tolist()
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise ValueError(
            f"{name} must be an int or numpy.random.Generator; None is not allowed because "
            "results must be reproducible"
        )
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int or numpy.random.Generator, got bool")
    if isinstance(seed, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(seed, numbers.Integral) and int(seed) < 0:
            raise ValueError(f"{name} must be non-negative, got {seed}")
        return np.random.default_rng(seed)
    raise TypeError(
        f"{name} must be an int or numpy.random.Generator, got {type(seed).__name__}"
    )


def check_one_of(value, options, *, name: str):
    """Raise ``ValueError`` unless ``value`` is one of ``options``.

    Examples
    --------
    >>> check_one_of("strict", ("strict", "random"), name="ties")
    'strict'
    """
    if value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)!r}, got {value!r}")
    return value


def check_positive_int(value, *, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int, raising unless it is an integer ``>= minimum``.

    Examples
    --------
    >>> check_positive_int(3, name="k")
    3
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_probability(value, *, name: str) -> float:
    """Return ``value`` as a float in [0, 1], raising otherwise.

    Examples
    --------
    >>> check_probability(0.25, name="p")
    0.25
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in [0, 1], got {type(value).__name__}")
    value = float(value)
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


def check_labels(labels, n_samples: int | None = None, *, name: str = "labels") -> np.ndarray:
    """Validate a 1-D labelling and return it as a numpy array.

    Labels may be integers or strings (any hashable values numpy can hold in a
    1-D array); floats must be whole numbers and finite.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
    n_samples : int, optional
        Expected length; a mismatch raises ``ValueError`` naming ``name``.
    name : str
        Argument name used in error messages.

    Examples
    --------
    >>> check_labels([0, 1, 1], 3)
    array([0, 1, 1])
    """
    try:
        import torch

        if isinstance(labels, torch.Tensor):
            labels = labels.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if isinstance(labels, np.ma.MaskedArray) and np.ma.getmaskarray(labels).any():
        # np.asarray would drop the mask and score the fill values as labels
        raise ValueError(f"{name} has {int(np.ma.getmaskarray(labels).sum())} missing "
                         "(masked) label(s); this function needs a label for every sample")
    arr = _label_array(labels, n_samples, name)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite values")
        if not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold integer class labels, got non-integer floats")
        arr = arr.astype(np.int64)
    elif arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    return arr


def _label_array(labels, n_samples, name) -> np.ndarray:
    arr = np.ma.getdata(labels) if isinstance(labels, np.ma.MaskedArray) else np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    if n_samples is not None and arr.shape[0] != n_samples:
        raise ValueError(
            f"{name} has length {arr.shape[0]} but the graph/embedding has {n_samples} samples"
        )
    return arr


def known_labels(labels, n_samples: int | None = None, *, missing_label=None,
                 name: str = "labels") -> tuple[np.ndarray, np.ndarray]:
    """Split a labelling with missing entries into its known labels and their mask.

    The one convention of missing labels in the library. A label is missing when it is

    * a masked entry of a :class:`numpy.ma.MaskedArray` (what
      :func:`sip_theory.data.load_labels` returns for a file with missing labels, so
      integer and string labels keep their type);
    * NaN in a float array;
    * ``None`` (or a float NaN) in an object array, as in a pandas column;
    * equal to ``missing_label`` when it is given (e.g. ``-1``, the marker of the
      Planetoid CiteSeer files). By default no value is a marker: ``-1`` is a class.

    Functions that accept missing labels leave those samples out of every label
    metric: they are never scored and, having no label, never vote.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
    n_samples : int, optional
        Expected length.
    missing_label : int, float or str, optional
        A value that marks a missing label; it must be of the labels' kind (a number
        for numeric labels, a string for string labels).
    name : str
        Argument name used in error messages.

    Returns
    -------
    values : ndarray of shape (n_known,)
        The known labels in sample order, checked as :func:`check_labels` checks them.
    known : ndarray of bool, shape (n_samples,)
        Which samples have a label.

    Raises
    ------
    ValueError
        Not 1-D, the wrong length, infinite or fractional floats, a ``missing_label``
        of another kind than the labels.

    Examples
    --------
    >>> values, known = known_labels([0.0, float("nan"), 1.0])
    >>> values.tolist(), known.tolist()
    ([0, 1], [True, False, True])
    >>> known_labels([2, -1, 2], missing_label=-1)[1].tolist()
    [True, False, True]
    >>> known_labels(np.ma.masked_array(["a", "b"], mask=[True, False]))[0].tolist()
    ['b']
    """
    try:
        import torch

        if isinstance(labels, torch.Tensor):
            labels = labels.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    arr = _label_array(labels, n_samples, name)
    missing = np.zeros(arr.shape[0], dtype=bool)
    if isinstance(labels, np.ma.MaskedArray):
        missing |= np.ma.getmaskarray(labels)
    kind = arr.dtype.kind
    if kind == "f":
        missing |= np.isnan(arr)
    elif kind == "O":
        missing |= np.array([v is None or (isinstance(v, float) and v != v) for v in arr],
                            dtype=bool)
    if missing_label is not None:
        numeric = isinstance(missing_label, numbers.Real) and not isinstance(missing_label, bool)
        if kind in "biuf" and numeric:
            missing |= arr == missing_label
        elif kind in "US" and isinstance(missing_label, str):
            missing |= arr == missing_label
        elif kind == "O":
            missing |= np.array([v == missing_label for v in arr], dtype=bool)
        else:
            raise ValueError(f"missing_label={missing_label!r} cannot mark labels of dtype "
                             f"{arr.dtype} (use a number for numeric labels, a string for "
                             "string labels)")
    known = ~missing
    values = arr[known]
    if kind == "O" and values.size:
        values = np.array(values.tolist())  # object column without its None: a plain dtype
    return check_labels(values, name=name), known


def check_embeddings(embeddings, *, name: str = "embeddings", dtype=None) -> np.ndarray:
    """Validate a 2-D finite numpy embedding matrix.

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, n_features)
    name : str
        Argument name used in error messages.
    dtype : numpy dtype, optional
        Cast to this dtype; default keeps float32/float64 and casts the rest to float64.

    Examples
    --------
    >>> check_embeddings([[0, 1], [2, 3]]).dtype
    dtype('float64')
    """
    arr = np.asarray(embeddings)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (n_samples, n_features), got shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be non-empty, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        shown = ", ".join(map(str, rows[:5])) + (" ..." if rows.size > 5 else "")
        raise ValueError(f"{name} has {rows.size} row(s) with NaN or inf values (rows {shown})")
    return arr
