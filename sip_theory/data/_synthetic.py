"""The paper's synthetic datasets: the common container, validated generation, the registry.

A :class:`SyntheticDataset` holds a generated pre-training graph together with
everything an experiment needs to train and evaluate on it: which nodes are
pre-training (PT) and held-out fine-tuning (FT) nodes, the label sets, and each
node's topic mixture, from which the node text is sampled
(:func:`~sip_theory.data.make_topic_corpus`, :func:`~sip_theory.data.make_character_corpus`).

Generation is validated. A family builder that draws an invalid dataset (for
CLIQUES: a PT node without neighbours) redraws it from the next *attempt* seed,
``numpy.random.default_rng([seed, attempt])``, and records the attempt number
and the reasons of the rejected attempts in ``config``; when every attempt fails
it raises :class:`GenerationError`. A stale or invalid dataset is never returned.

Each family registers its builder by name (:func:`register_synthetic_dataset`)
from its own module; :func:`make_synthetic_dataset` generates any of them by name.
The graphs themselves come from :mod:`sip_theory.graphs`.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from .._serialization import ToDictMixin, to_jsonable
from .._validation import check_positive_int
from ..graphs import SampleGraph

__all__ = [
    "GenerationError",
    "SYNTHETIC_DATASETS",
    "SyntheticDataset",
    "make_synthetic_dataset",
    "register_synthetic_dataset",
]


class GenerationError(RuntimeError):
    """No valid dataset could be generated within the allowed number of attempts."""


class InvalidGeneration(Exception):
    """Raised by a family builder when one attempt drew an invalid dataset (internal)."""


def _readonly(arr) -> np.ndarray:
    arr = np.array(arr, copy=True)
    arr.setflags(write=False)
    return arr


def resolve_seed(seed) -> int:
    """An int seed to record: ints pass through; a Generator contributes one draw.

    Examples
    --------
    >>> resolve_seed(7)
    7
    >>> resolve_seed(np.random.default_rng(0)) == resolve_seed(np.random.default_rng(0))
    True
    """
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63 - 1))
    if seed is None:
        raise ValueError(
            "seed must be an int or numpy.random.Generator; None is not allowed because "
            "generated datasets must be reproducible"
        )
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int or numpy.random.Generator, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return int(seed)


def generate_with_retries(build: Callable, *, seed, max_attempts: int, name: str):
    """Call ``build(rng, config_extra)`` with attempt seeds until it returns a dataset.

    ``build`` raises :class:`InvalidGeneration` to reject an attempt. The
    returned dataset's config records ``seed``, ``attempt`` and ``rejected``.
    """
    base = resolve_seed(seed)
    max_attempts = check_positive_int(max_attempts, name="max_attempts")
    rejected = []
    for attempt in range(max_attempts):
        rng = np.random.default_rng([base, attempt])
        record = {"seed": base, "attempt": attempt, "rejected": list(rejected)}
        try:
            return build(rng, record)
        except InvalidGeneration as exc:
            rejected.append(f"attempt {attempt}: {exc}")
    raise GenerationError(
        f"{name}: no valid dataset from seed={base} in {max_attempts} attempt(s); "
        f"last rejections: {'; '.join(rejected[-3:])}"
    )


@dataclass(frozen=True)
class SyntheticDataset(ToDictMixin):
    """A generated dataset: graph, PT/FT split, label sets and node topic mixtures.

    Parameters
    ----------
    name : str
        Family name (``"cliques"``, ``"plane"``, ``"mobius"``, ``"sphere"``,
        ``"torus"``, ``"mechanistic"``).
    graph : SampleGraph
        The family's graph over *all* nodes (PT and FT). The pre-training graph
        G_PT is its subgraph induced on ``pt_nodes`` (:attr:`pt_graph`).
    pt_nodes, ft_nodes : ndarray of int64
        Disjoint node indices; ``ft_nodes`` are held out of pre-training and may be empty.
    labels : mapping str -> ndarray of int64, each of shape (n_nodes,)
        The fine-tuning label sets.
    task : str
        The label set the family treats as *the* FT task (a key of ``labels``).
    topic_mixtures : ndarray of shape (n_nodes, n_topics)
        Each node's distribution over the topics of its text (rows sum to 1).
    self_loops : bool
        Whether the original experiment counted each node as its own neighbour.
        :class:`SampleGraph` never stores self-loops; this flag tells consumers to
        add them (``sip_theory.theory.node_homophily(..., self_loops=True)``).
    config : mapping
        Generation parameters, including ``seed``, ``attempt`` and ``rejected``.
    extras : mapping str -> ndarray
        Family-specific arrays (e.g. triangles and barycentric coordinates).

    Raises
    ------
    ValueError
        Inconsistent parts: labels of the wrong length, overlapping or
        out-of-range PT/FT indices, a ``task`` that is not a label set, topic
        mixtures that are not distributions.
    """

    name: str
    graph: SampleGraph
    pt_nodes: np.ndarray
    ft_nodes: np.ndarray
    labels: Mapping[str, np.ndarray]
    task: str
    topic_mixtures: np.ndarray
    self_loops: bool = False
    config: Mapping = field(default_factory=dict)
    extras: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        n = self.graph.n_nodes
        pt = _readonly(np.asarray(self.pt_nodes, dtype=np.int64).reshape(-1))
        ft = _readonly(np.asarray(self.ft_nodes, dtype=np.int64).reshape(-1))
        both = np.concatenate([pt, ft])
        if both.size and (both.min() < 0 or both.max() >= n):
            raise ValueError(f"pt_nodes/ft_nodes must be node indices in [0, {n})")
        if np.unique(both).size != both.size:
            raise ValueError("pt_nodes and ft_nodes must be disjoint and without repeats")
        labels = {}
        for key, lab in self.labels.items():
            arr = np.asarray(lab)
            if arr.shape != (n,) or arr.dtype.kind not in "iu":
                raise ValueError(f"labels[{key!r}] must be an integer array of shape ({n},)")
            labels[str(key)] = _readonly(arr.astype(np.int64))
        if self.task not in labels:
            raise ValueError(f"task must be one of {tuple(labels)}, got {self.task!r}")
        mix = np.asarray(self.topic_mixtures, dtype=np.float64)
        if mix.ndim != 2 or mix.shape[0] != n:
            raise ValueError(f"topic_mixtures must have shape ({n}, n_topics), got {mix.shape}")
        if (mix < 0).any() or not np.allclose(mix.sum(1), 1.0, atol=1e-9):
            raise ValueError("topic_mixtures rows must be probability distributions")
        extras = {str(k): _readonly(v) for k, v in self.extras.items()}
        object.__setattr__(self, "pt_nodes", pt)
        object.__setattr__(self, "ft_nodes", ft)
        object.__setattr__(self, "labels", MappingProxyType(labels))
        object.__setattr__(self, "topic_mixtures", _readonly(mix))
        object.__setattr__(self, "self_loops", bool(self.self_loops))
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))
        object.__setattr__(self, "extras", MappingProxyType(extras))

    @property
    def n_nodes(self) -> int:
        """Number of nodes, PT and FT."""
        return self.graph.n_nodes

    @property
    def n_topics(self) -> int:
        """Number of topics the mixtures range over."""
        return int(self.topic_mixtures.shape[1])

    @property
    def pt_graph(self) -> SampleGraph:
        """G_PT: the graph induced on the PT nodes (node i of it is ``pt_nodes[i]``)."""
        return self.graph.subgraph(self.pt_nodes)

    _to_dict_exclude = ("graph",)

    def to_dict(self) -> dict:
        """A JSON-serializable description (edges, split, labels, mixtures, config, graph hash)."""
        return {"name": self.name, "n_nodes": self.n_nodes,
                "edges": to_jsonable(self.graph.edges()), "graph_hash": self.graph.content_hash(),
                **super().to_dict()}

    def __repr__(self) -> str:
        return (
            f"SyntheticDataset(name={self.name!r}, n_pt={self.pt_nodes.size}, "
            f"n_ft={self.ft_nodes.size}, n_edges={self.graph.n_edges}, task={self.task!r}, "
            f"seed={self.config.get('seed')}, attempt={self.config.get('attempt')})"
        )


_BUILDERS: dict[str, Callable[..., SyntheticDataset]] = {}


class _RegisteredNames(Sequence):
    """The registered family names, in registration order: a live, read-only tuple."""

    def __getitem__(self, index):
        return tuple(_BUILDERS)[index]

    def __len__(self) -> int:
        return len(_BUILDERS)

    def __eq__(self, other) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, _RegisteredNames) else other)

    __hash__ = None

    def __repr__(self) -> str:
        return repr(tuple(_BUILDERS))


#: Names accepted by :func:`make_synthetic_dataset`, in registration order:
#: ``("cliques", "plane", "mobius", "sphere", "torus", "mechanistic")``.
SYNTHETIC_DATASETS = _RegisteredNames()


def register_synthetic_dataset(name: str, builder: Callable[..., SyntheticDataset]) -> None:
    """Make ``builder(*, seed, **options) -> SyntheticDataset`` the family ``name``.

    Each family module registers its builders when :mod:`sip_theory.data` is
    imported; registering a name again replaces its builder.

    Examples
    --------
    The library's families, registered by their modules:

    >>> SYNTHETIC_DATASETS
    ('cliques', 'plane', 'mobius', 'sphere', 'torus', 'mechanistic')
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    if not callable(builder):
        raise TypeError(f"builder must be callable, got {type(builder).__name__}")
    _BUILDERS[name] = builder


def make_synthetic_dataset(name: str, *, seed, **options) -> SyntheticDataset:
    """Generate one of the paper's synthetic datasets by name, at the paper's sizes by default.

    Parameters
    ----------
    name : {"cliques", "plane", "mobius", "sphere", "torus", "mechanistic"}
        Any of :data:`SYNTHETIC_DATASETS`.
    seed : int or numpy.random.Generator
    **options
        Keyword options of :func:`~sip_theory.data.make_cliques_dataset`,
        :func:`~sip_theory.data.make_manifold_dataset` or
        :func:`~sip_theory.data.make_mechanistic_dataset`.

    Returns
    -------
    SyntheticDataset

    Examples
    --------
    >>> make_synthetic_dataset("plane", seed=0).pt_nodes.size
    100
    """
    builder = _BUILDERS.get(name) if isinstance(name, str) else None
    if builder is None:
        raise ValueError(f"name must be one of {SYNTHETIC_DATASETS!r}, got {name!r}")
    return builder(seed=seed, **options)
