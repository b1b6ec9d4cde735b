"""Shared plumbing of the metric functions: engine options, and one way to get a Neighbors.

Every metric takes the engine's options as keyword arguments (``device``,
``dtype``, ``chunk_size``, ``memory_budget``, ``progress``, ``distributed``).
:func:`engine_options` is their one validator; :func:`config_context` sets
their defaults for a block of code (scikit-learn's ``config_context`` style),
so a pipeline of metrics need not repeat them.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import numpy as np

from .._serialization import finite_or_none  # re-exported: the one JSON-safe float
from .._validation import check_one_of, known_labels
from ._arrays import DEFAULT_MEMORY_BUDGET, as_tensor2d, parse_memory
from ._neighbors import Neighbors, compute_neighbors

__all__ = ["ENGINE_DEFAULTS", "ISOLATED_POLICIES", "config_context", "engine_options",
           "finite_or_none", "get_config", "get_neighbors", "known_codes", "label_codes",
           "prepare"]

#: keyword options every metric forwards to the engine, with their built-in defaults
ENGINE_DEFAULTS = {
    "device": None,
    "dtype": None,
    "chunk_size": None,
    "memory_budget": DEFAULT_MEMORY_BUDGET,
    "progress": False,
    "distributed": "auto",
}

_CONFIG: contextvars.ContextVar[dict] = contextvars.ContextVar("sip_theory_geometry_config",
                                                                default=ENGINE_DEFAULTS)


def _check_option_values(options: dict) -> None:
    """Early, one-line errors for the options whose misuse would surface deep in a sweep
    (device, dtype and distributed are checked where they are resolved)."""
    if options.get("chunk_size") is not None:
        c = options["chunk_size"]
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {c!r}")
    if "memory_budget" in options:
        parse_memory(options["memory_budget"])


def engine_options(engine: dict) -> dict:
    """The full engine options of one call: ``engine`` over the configured defaults.

    Unknown keys raise ``TypeError`` naming them (as Python does for a bad keyword),
    bad values ``ValueError`` naming the option.

    Examples
    --------
    >>> engine_options({"chunk_size": 64})["chunk_size"]
    64
    >>> engine_options({"chunksize": 64})
    Traceback (most recent call last):
    ...
    TypeError: unexpected keyword argument(s): chunksize
    """
    unknown = set(engine) - set(ENGINE_DEFAULTS)
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    _check_option_values(engine)
    return {**_CONFIG.get(), **engine}


def get_config() -> dict:
    """The engine defaults in force here (see :func:`config_context`).

    Examples
    --------
    >>> get_config()["memory_budget"]
    536870912
    """
    return dict(_CONFIG.get())


@contextlib.contextmanager
def config_context(**options) -> Iterator[dict]:
    """Set engine defaults for every geometry metric called inside the block.

    Options given to a call still win. Nested blocks stack; the previous defaults
    return on exit, also on an exception. Thread- and asyncio-safe (a context
    variable).

    Parameters
    ----------
    **options
        Any of ``device``, ``dtype``, ``chunk_size``, ``memory_budget``,
        ``progress``, ``distributed``.

    Examples
    --------
    >>> import numpy as np
    >>> from sip_theory.geometry import knn_probe
    >>> with config_context(memory_budget="64MiB", chunk_size=2):
    ...     get_config()["chunk_size"], knn_probe(np.eye(4), [0, 0, 1, 1], k=1).k
    (2, 1)
    >>> get_config()["chunk_size"] is None
    True
    """
    token = _CONFIG.set({**_CONFIG.get(), **engine_options(options)})
    try:
        yield get_config()
    finally:
        _CONFIG.reset(token)


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
    engine = engine_options(engine or {})
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


def label_codes(labels, n: int, *, name: str = "labels",
                missing_label=None) -> tuple[np.ndarray, np.ndarray]:
    """``(classes, codes)``: sorted distinct known labels and each sample's index into them.

    A missing label (:func:`sip_theory._validation.known_labels`: masked, NaN, None, or
    ``missing_label``) gets code -1. Every label metric reads its labels here.

    Examples
    --------
    >>> classes, codes = label_codes([3.0, float("nan"), 1.0], 3)
    >>> classes.tolist(), codes.tolist()
    ([1, 3], [1, -1, 0])
    """
    values, known = known_labels(labels, n, missing_label=missing_label, name=name)
    classes, sub = np.unique(values, return_inverse=True)
    codes = np.full(n, -1, dtype=np.int64)
    codes[known] = sub.reshape(-1)
    return classes, codes


def known_codes(labels, n: int, *, missing_label=None, need: int = 1,
                name: str = "labels") -> tuple[np.ndarray, np.ndarray]:
    """:func:`label_codes`, raising unless at least ``need`` samples have a label."""
    classes, codes = label_codes(labels, n, name=name, missing_label=missing_label)
    n_known = int((codes >= 0).sum())
    if n_known < need:
        raise ValueError(f"{name} has {n_known} known label(s) of {n} ({n - n_known} "
                         f"missing); at least {need} needed")
    return classes, codes


def check_isolated(isolated: str) -> str:
    return check_one_of(isolated, ISOLATED_POLICIES, name="isolated")
