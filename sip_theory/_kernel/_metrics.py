"""The metric vocabulary shared by graphs, theory and geometry."""

from __future__ import annotations

from .._validation import check_one_of

__all__ = ["METRICS", "check_metric", "from_dissimilarity", "to_dissimilarity"]

#: ``"euclidean"`` (unsquared), ``"sqeuclidean"``, ``"cosine"`` (1 - cosine
#: similarity) and ``"dot"`` (the inner product; as a dissimilarity, its negative).
METRICS = ("euclidean", "sqeuclidean", "cosine", "dot")


def check_metric(metric, *, name: str = "metric") -> str:
    """``metric`` if it is one of :data:`METRICS`, else a one-line ``ValueError``.

    Examples
    --------
    >>> check_metric("cosine")
    'cosine'
    """
    return check_one_of(metric, METRICS, name=name)


def to_dissimilarity(value: float, metric: str) -> float:
    """A user-facing radius or threshold as a dissimilarity (smaller = nearer).

    For ``"dot"`` the user gives a similarity threshold t (pairs with x.y > t are
    near); as a dissimilarity that is -t. The other metrics are unchanged.

    Examples
    --------
    >>> to_dissimilarity(0.5, "dot"), to_dissimilarity(0.5, "euclidean")
    (-0.5, 0.5)
    """
    return -value if metric == "dot" else value


def from_dissimilarity(value: float, metric: str) -> float:
    """The inverse of :func:`to_dissimilarity`.

    Examples
    --------
    >>> from_dissimilarity(-0.5, "dot")
    0.5
    """
    return -value if metric == "dot" else value
