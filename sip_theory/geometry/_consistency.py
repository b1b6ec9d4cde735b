"""Local consistency of the labels on the embedding's own kNN graph, next to LC on G.

Theorem 1 of the paper predicts a nearest-neighbour accuracy from LC_G(y), the
local consistency of the fine-tuning labels on the pre-training graph G. Once
an embedding exists, the same quantity can be *measured* on the graph the
embedding realises, its symmetrised kNN graph: LC on G is the prediction,
LC on the kNN graph the realisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._serialization import ToDictMixin
from .._validation import check_one_of, check_positive_int
from ._common import engine_options, get_neighbors, prepare

__all__ = ["LCComparison", "knn_graph_from_neighbors", "knn_local_consistency"]

MODES = ("union", "mutual")


def knn_graph_from_neighbors(indices: np.ndarray, k: int, *, mode: str = "union"):
    """Undirected kNN graph from (n, >=k) neighbour lists.

    ``"union"``: i ~ j if j is among i's k nearest or i among j's; ``"mutual"``: both.

    Examples
    --------
    >>> import numpy as np
    >>> g = knn_graph_from_neighbors(np.array([[1], [0], [1]]), 1)
    >>> g.edges().tolist()
    [[0, 1], [1, 2]]
    """
    from ..graphs import SampleGraph

    check_one_of(mode, MODES, name="mode")
    ind = np.asarray(indices)[:, :k]
    n = ind.shape[0]
    src = np.repeat(np.arange(n, dtype=np.int64), k)
    dst = ind.reshape(-1).astype(np.int64)
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    key = lo * n + hi
    uniq, counts = np.unique(key, return_counts=True)
    if mode == "mutual":
        uniq = uniq[counts == 2]
    edges = np.stack([uniq // n, uniq % n], axis=1) if uniq.size else np.zeros((0, 2), int)
    return SampleGraph.from_edges(edges, n_nodes=n)


@dataclass(frozen=True, eq=False)
class LCComparison(ToDictMixin):
    """LC of the labels on the embedding's kNN graph (realised) and on G (predicted).

    Attributes
    ----------
    lc_embedding : float
        LC on the symmetrised kNN graph of the embedding.
    lc_graph : float or None
        LC on G (None without a graph).
    edge_homophily_embedding, edge_homophily_graph : float or None
        Fraction of edges whose endpoints share a label, on each graph.
    k : int
    mode, ties, isolated : str
    per_class_lc_graph, per_class_lc_embedding : ndarray
        Mean LC credit over the evaluated nodes of each class.
    classes : ndarray
    n_unlabeled : int
        Samples whose label is missing: nodes of both graphs, never evaluated, never
        voting.
    credit_embedding, credit_graph : ndarray
        Per-node LC credit on each graph (1: the label is the unique majority of the
        node's neighbours; NaN: not evaluated), as
        :attr:`sip_theory.theory.LocalConsistencyResult.credit`; ``credit_graph`` is
        None without a graph. Not in :meth:`to_dict`.
    """

    lc_embedding: float
    lc_graph: float | None
    edge_homophily_embedding: float
    edge_homophily_graph: float | None
    k: int
    mode: str
    ties: str
    isolated: str
    classes: np.ndarray = field(repr=False, default=None)
    per_class_lc_embedding: np.ndarray = field(repr=False, default=None)
    per_class_lc_graph: np.ndarray = field(repr=False, default=None)
    n_unlabeled: int = 0
    credit_embedding: np.ndarray = field(repr=False, default=None)
    credit_graph: np.ndarray = field(repr=False, default=None)

    _to_dict_exclude = ("credit_embedding", "credit_graph")

    @property
    def gap(self) -> float | None:
        """lc_embedding - lc_graph (None without a graph)."""
        return None if self.lc_graph is None else self.lc_embedding - self.lc_graph

    _to_dict_extra = ("gap",)

    def to_dict(self) -> dict:
        """JSON-friendly summary; the per-class lists only where they were computed.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
        >>> knn_local_consistency(X, [0, 0, 1, 1], [(0, 1), (2, 3)], k=1).to_dict()["lc_graph"]
        1.0
        """
        out = super().to_dict()
        for key in ("classes", "per_class_lc_embedding", "per_class_lc_graph"):
            if out[key] is None:
                del out[key]
        return out


def _per_class(credit: np.ndarray, evaluated: np.ndarray, codes: np.ndarray, n_classes: int):
    out = np.full(n_classes, np.nan)
    for c in range(n_classes):
        sel = evaluated & (codes == c)
        if sel.any():
            out[c] = float(np.mean(credit[sel]))
    return out


def knn_local_consistency(
    embeddings,
    labels,
    graph=None,
    *,
    k: int = 3,
    mode: str = "union",
    ties: str = "strict",
    isolated: str = "exclude",
    metric: str | None = None,
    neighbors=None,
    missing_label=None,
    **engine,
) -> LCComparison:
    """LC of ``labels`` on the embedding's kNN graph, and on ``graph`` when given.

    Parameters
    ----------
    embeddings : array-like or torch.Tensor of shape (n, d)
    labels : array-like of shape (n,)
    graph : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array, optional
        The pre-training graph G.
    k : int, default 3
        Neighbours per node in the kNN graph (the paper's probe uses 3).
    mode : {"union", "mutual"}, default "union"
        Symmetrisation of the kNN relation.
    ties, isolated : str
        Passed to :func:`sip_theory.theory.local_consistency`.
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, optional
    neighbors : Neighbors, optional
    missing_label : int, float or str, optional
        A value that marks a missing label (masked entries, NaN and None always do;
        :func:`sip_theory._validation.known_labels`). An unlabelled sample stays a
        node of G and of the kNN graph (it takes its place among its neighbours' k
        nearest), but it is never evaluated and, having no label, never votes.
    **engine
        ``device``, ``dtype``, ``chunk_size``, ``memory_budget``, ``progress``, ``distributed``.

    Returns
    -------
    LCComparison

    Notes
    -----
    LC_H(y) = P_x[y(x) is the unique majority label among x's neighbours in H]
    (McDermott et al. 2023, Theorem 1), evaluated on H = G and on H = the
    kNN graph of the embedding. Invariances: those of the kNN lists (sample
    permutation, rotation, translation, isotropic scaling for ``"euclidean"``).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> r = knn_local_consistency(X, [0, 0, 0, 1, 1, 1], [(0, 3), (1, 4), (2, 5)], k=2)
    >>> r.lc_embedding, r.lc_graph
    (1.0, 0.0)
    """
    from ..graphs import as_sample_graph
    from ..theory import edge_homophily, local_consistency

    engine = engine_options(engine)
    X = prepare(embeddings, device=engine.get("device"), dtype=engine.get("dtype"))
    n = int(X.shape[0])
    k = check_positive_int(k, name="k")
    if k > n - 1:
        raise ValueError(f"k must be <= n_samples - 1 = {n - 1}, got {k}")
    check_one_of(mode, MODES, name="mode")
    from ._common import known_codes

    classes, codes = known_codes(labels, n, missing_label=missing_label)
    g = None if graph is None else as_sample_graph(graph, n_nodes=n, name="graph")
    nb, _ = get_neighbors(X, neighbors=neighbors, metric=metric, k=k, engine=engine)
    h = knn_graph_from_neighbors(nb.indices, k, mode=mode)
    # code -1: a missing label (the one marker from here on)
    r_emb = local_consistency(h, codes, ties=ties, isolated=isolated, missing_label=-1)
    hom_emb = _edge_homophily(edge_homophily, h, codes)
    lc_g = hom_g = per_g = credit_g = None
    if g is not None:
        r_g = local_consistency(g, codes, ties=ties, isolated=isolated, missing_label=-1)
        lc_g = float(r_g.value)
        credit_g = r_g.credit
        hom_g = _edge_homophily(edge_homophily, g, codes)
        per_g = _per_class(np.nan_to_num(r_g.credit), r_g.evaluated, codes, classes.shape[0])
    return LCComparison(
        lc_embedding=float(r_emb.value), lc_graph=lc_g,
        edge_homophily_embedding=hom_emb, edge_homophily_graph=hom_g,
        k=k, mode=mode, ties=ties, isolated=isolated, classes=classes,
        per_class_lc_embedding=_per_class(np.nan_to_num(r_emb.credit), r_emb.evaluated, codes,
                                          classes.shape[0]),
        per_class_lc_graph=per_g, n_unlabeled=int((codes < 0).sum()),
        credit_embedding=r_emb.credit, credit_graph=credit_g,
    )


def _edge_homophily(edge_homophily, graph, codes) -> float:
    return float(edge_homophily(graph, codes, missing_label=-1)) if graph.n_edges else \
        float("nan")
