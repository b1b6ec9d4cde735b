"""Shared plumbing of the metric functions: one way to obtain a :class:`Neighbors`."""

from __future__ import annotations

import numpy as np

from .._serialization import finite_or_none  # re-exported: the one JSON-safe float
from .._validation import check_labels, check_one_of
from ._arrays import DEFAULT_MEMORY_BUDGET, as_tensor2d
from ._neighbors import Neighbors, compute_neighbors

__all__ = ["ENGINE_DEFAULTS", "ISOLATED_POLICIES", "finite_or_none", "get_neighbors",
           "label_codes", "prepare"]

#: keyword options every metric forwards to the engine
ENGINE_DEFAULTS = {
    "device": None,
    "dtype": None,
    "chunk_size": None,
    "memory_budget": DEFAULT_MEMORY_BUDGET,
    "progress": False,
    "distributed": "auto",
}

ISOLATED_POLICIES = ("exclude", "zero", "one")


def prepare(embeddings, *, device=None, dtype=None, name="embeddings"):
    """Validated torch view of ``embeddings`` on the compute device."""
    return as_tensor2d(embeddings, name=name, device=device, dtype=dtype)


def get_neighbors(X, *, neighbors, metric, k=1, graph=None, need_edges=False,
                  need_pairs=False, exclude=None, engine=None) -> tuple[Neighbors, str]:
    """Return a :class:`Neighbors` for ``X`` (checked if given, else computed) and the metric.

    ``metric=None`` means "the one of ``neighbors``, else euclidean"; an explicit
    metric that differs from the precomputed one raises. ``exclude`` (a SampleGraph
    or None) must be the one ``neighbors`` were computed with.
    """
    engine = {**ENGINE_DEFAULTS, **(engine or {})}
    if neighbors is not None:
        if not isinstance(neighbors, Neighbors):
            raise TypeError(
                f"neighbors must be a Neighbors object from compute_neighbors, "
                f"got {type(neighbors).__name__}"
            )
        if metric is not None and metric != neighbors.metric:
            raise ValueError(
                f"metric={metric!r} but neighbors were computed with metric={neighbors.metric!r}"
            )
        neighbors.check_embeddings(X)
        if neighbors.k < k:
            raise ValueError(f"neighbors hold k={neighbors.k} neighbours but {k} are needed")
        if need_edges:
            neighbors.check_graph(graph)
        if need_pairs and neighbors.pairs is None:
            raise ValueError(
                "neighbors were computed without pair counts; pass pairs=True to "
                "compute_neighbors"
            )
        neighbors.check_exclude(exclude)
        return neighbors, neighbors.metric
    metric = "euclidean" if metric is None else metric
    nb = compute_neighbors(
        X, k=k, graph=graph if (need_edges or need_pairs) else None, exclude=exclude,
        metric=metric, pairs=bool(need_pairs), **engine,
    )
    return nb, metric


def label_codes(labels, n: int, *, name: str = "labels") -> tuple[np.ndarray, np.ndarray]:
    """``(classes, codes)``: sorted distinct labels and each sample's index into them."""
    y = check_labels(labels, n, name=name)
    classes, codes = np.unique(y, return_inverse=True)
    return classes, codes.reshape(-1).astype(np.int64)


def check_isolated(isolated: str) -> str:
    return check_one_of(isolated, ISOLATED_POLICIES, name="isolated")
