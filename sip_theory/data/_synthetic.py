"""Generated datasets of the paper's synthetic experiments: the common container and CLIQUES.

A :class:`SyntheticDataset` holds a generated pre-training graph together with
everything an experiment needs to train and evaluate on it: which nodes are
pre-training (PT) and held-out fine-tuning (FT) nodes, the label sets, and each
node's topic mixture, from which :mod:`sip_theory.data` samples the node text.

Generation is validated. A family builder that draws an invalid dataset (for
CLIQUES: a PT node without neighbours) redraws it from the next *attempt* seed,
``numpy.random.default_rng([seed, attempt])``, and records the attempt number
and the reasons of the rejected attempts in ``config``; when every attempt fails
it raises :class:`GenerationError`. A stale or invalid dataset is never returned.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from .._validation import check_positive_int, check_probability
from ._families import cliques_from_labels
from ._graph import SampleGraph
from ._noise import add_random_edges

__all__ = [
    "GenerationError",
    "SyntheticDataset",
    "make_cliques_dataset",
    "make_synthetic_dataset",
    "SYNTHETIC_DATASETS",
]


class GenerationError(RuntimeError):
    """No valid dataset could be generated within the allowed number of attempts."""


class InvalidGeneration(Exception):
    """Raised by a family builder when one attempt drew an invalid dataset (internal)."""


def _readonly(arr) -> np.ndarray:
    arr = np.array(arr, copy=True)
    arr.setflags(write=False)
    return arr


def _jsonable(value):
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


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
class SyntheticDataset:
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
        :class:`SampleGraph` never stores self-loops; this flag tells consumers
        (homophily, positive sampling) to add them.
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

    def homophily(self, task: str | None = None, *, self_loops: bool | None = None) -> float:
        """Node homophily of a label set on G_PT: mean fraction of same-label neighbours.

        Parameters
        ----------
        task : str, optional
            Label set; default :attr:`task`.
        self_loops : bool, optional
            Count each node as one of its own neighbours (the original
            experiments' convention), so that a node with s same-label neighbours
            out of d scores (s + 1)/(d + 1). Default: :attr:`self_loops`.

        Returns
        -------
        float
            Mean over PT nodes; without self-loops, nodes without neighbours are
            left out (NaN when every node is isolated).
        """
        task = self.task if task is None else task
        if task not in self.labels:
            raise ValueError(f"task must be one of {tuple(self.labels)}, got {task!r}")
        loops = self.self_loops if self_loops is None else bool(self_loops)
        g = self.pt_graph
        y = self.labels[task][self.pt_nodes]
        deg = g.degrees().astype(np.float64)
        rows = np.repeat(np.arange(g.n_nodes), np.diff(g.indptr))
        same = np.bincount(rows, weights=(y[rows] == y[g.indices]), minlength=g.n_nodes)
        if loops:
            return float(np.mean((same + 1.0) / (deg + 1.0)))
        has = deg > 0
        return float(np.mean(same[has] / deg[has])) if has.any() else float("nan")

    def to_dict(self) -> dict:
        """A JSON-serializable description (edges, split, labels, mixtures, config, graph hash)."""
        return {
            "name": self.name,
            "n_nodes": self.n_nodes,
            "edges": self.graph.edges().tolist(),
            "graph_hash": self.graph.content_hash(),
            "pt_nodes": self.pt_nodes.tolist(),
            "ft_nodes": self.ft_nodes.tolist(),
            "labels": {k: v.tolist() for k, v in self.labels.items()},
            "task": self.task,
            "topic_mixtures": self.topic_mixtures.tolist(),
            "self_loops": self.self_loops,
            "config": _jsonable(dict(self.config)),
            "extras": {k: v.tolist() for k, v in self.extras.items()},
        }

    def __repr__(self) -> str:
        return (
            f"SyntheticDataset(name={self.name!r}, n_pt={self.pt_nodes.size}, "
            f"n_ft={self.ft_nodes.size}, n_edges={self.graph.n_edges}, task={self.task!r}, "
            f"seed={self.config.get('seed')}, attempt={self.config.get('attempt')})"
        )


def make_cliques_dataset(
    *,
    seed,
    n_pt: int = 50,
    n_ft: int = 20,
    n_topics: int = 10,
    noise: float = 0.0,
    min_dominance: float = 0.9,
    max_attempts: int = 100,
) -> SyntheticDataset:
    """CLIQUES (+ noise): one clique per dominant topic, random non-edges added.

    Every node draws its dominant topic uniformly from ``n_topics``; nodes with
    the same dominant topic form a clique, nodes of different topics are not
    linked; then each non-edge is added independently with probability
    ``noise`` (the paper's "random_add"). The FT label is the dominant topic.

    Parameters
    ----------
    seed : int or numpy.random.Generator
        A Generator contributes one integer draw, which is recorded as ``config["seed"]``.
    n_pt, n_ft : int, default 50, 20
        PT nodes are 0..n_pt-1, FT nodes follow.
    n_topics : int, default 10
    noise : float in [0, 1], default 0
        Probability of adding each non-edge (the paper uses 0, .05, .10, .15, .50).
    min_dominance : float in (0.5, 1], default 0.9
        A node's dominant-topic weight is uniform on [min_dominance, 1]; the rest
        is spread over the other topics by a flat Dirichlet draw.
    max_attempts : int, default 100
        Attempts before :class:`GenerationError`.

    Returns
    -------
    SyntheticDataset
        ``labels = {"topic": dominant topic}``, ``task = "topic"``.

    Raises
    ------
    GenerationError
        Every attempt left a PT node without neighbours in G_PT (a topic with a
        single PT node and no noise edge to it).
    ValueError
        Bad sizes or probabilities.

    Notes
    -----
    Paper (McDermott et al. 2023, synthetic experiments): 50 PT + 20 FT nodes from
    10 topics, dominant-topic probability >= 0.9, full batch, tiny encoder. The
    noise is applied over all node pairs (PT and FT), so G_PT receives exactly
    the paper's random_add noise. The split of the non-dominant mass is ours.

    Examples
    --------
    >>> d = make_cliques_dataset(seed=0)
    >>> d.pt_nodes.size, d.ft_nodes.size, d.pt_graph.is_cluster_graph()
    (50, 20, True)
    >>> d.homophily()
    1.0
    """
    n_pt = check_positive_int(n_pt, name="n_pt", minimum=2)
    n_ft = check_positive_int(n_ft, name="n_ft", minimum=0)
    n_topics = check_positive_int(n_topics, name="n_topics", minimum=2)
    noise = check_probability(noise, name="noise")
    min_dominance = check_probability(min_dominance, name="min_dominance")
    if min_dominance <= 0.5:
        raise ValueError(f"min_dominance must be > 0.5 so the dominant topic is unique, "
                         f"got {min_dominance}")
    n = n_pt + n_ft
    params = {"n_pt": n_pt, "n_ft": n_ft, "n_topics": n_topics, "noise": noise,
              "min_dominance": min_dominance, "max_attempts": max_attempts}

    def build(rng, record):
        topic = rng.integers(n_topics, size=n)
        dominance = rng.uniform(min_dominance, 1.0, size=n)
        rest = rng.dirichlet(np.ones(n_topics - 1), size=n) * (1.0 - dominance)[:, None]
        mix = np.zeros((n, n_topics))
        others = (np.arange(n_topics)[None, :] != topic[:, None])
        mix[others] = rest.reshape(-1)
        mix[np.arange(n), topic] = dominance
        graph = cliques_from_labels(topic)
        if noise > 0:
            graph = add_random_edges(graph, noise, seed=rng)
        isolated = np.flatnonzero(graph.subgraph(np.arange(n_pt)).degrees() == 0)
        if isolated.size:
            raise InvalidGeneration(f"{isolated.size} isolated PT node(s), e.g. {isolated[0]}")
        return SyntheticDataset(
            name="cliques", graph=graph, pt_nodes=np.arange(n_pt),
            ft_nodes=np.arange(n_pt, n), labels={"topic": topic}, task="topic",
            topic_mixtures=mix, self_loops=False, config={**params, **record},
        )

    return generate_with_retries(build, seed=seed, max_attempts=max_attempts, name="cliques")


#: Names accepted by :func:`make_synthetic_dataset`.
SYNTHETIC_DATASETS = ("cliques", "plane", "mobius", "sphere", "torus", "mechanistic")


def make_synthetic_dataset(name: str, *, seed, **options) -> SyntheticDataset:
    """Generate one of the paper's synthetic datasets by name, at the paper's sizes by default.

    Parameters
    ----------
    name : {"cliques", "plane", "mobius", "sphere", "torus", "mechanistic"}
    seed : int or numpy.random.Generator
    **options
        Keyword options of :func:`make_cliques_dataset`,
        :func:`make_manifold_dataset` or :func:`make_mechanistic_dataset`.

    Returns
    -------
    SyntheticDataset

    Examples
    --------
    >>> make_synthetic_dataset("plane", seed=0).pt_nodes.size
    100
    """
    if name == "cliques":
        return make_cliques_dataset(seed=seed, **options)
    if name in ("plane", "mobius", "sphere", "torus"):
        from ._manifolds import make_manifold_dataset

        return make_manifold_dataset(name, seed=seed, **options)
    if name == "mechanistic":
        from ._mechanistic import make_mechanistic_dataset

        return make_mechanistic_dataset(seed=seed, **options)
    raise ValueError(f"name must be one of {SYNTHETIC_DATASETS!r}, got {name!r}")
