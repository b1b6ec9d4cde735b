"""Constructors for the pre-training graphs of existing methods (theory.md section 2).

Each function builds the graph G_PT that a published per-sample objective
implicitly uses, so that the methods can be compared as graphs:

* :func:`empty_graph` -- no per-sample objective (lambda_SI = 0);
* :func:`cliques_from_labels` -- single-task classification;
* :func:`cartesian_product_cliques` and :func:`multitask_label_graph` --
  multi-task classification, without and with auxiliary label nodes;
* :func:`augmentation_stars` -- augmentation-based contrastive learning;
* :func:`kpartite_matching` -- multi-modal / multilingual alignment;
* :func:`sentence_sticks` -- next-sentence and sentence-order prediction.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validation import check_labels, check_one_of, check_positive_int
from ._graph import SampleGraph

__all__ = [
    "AugmentationStars",
    "KPartiteMatching",
    "SentenceSticks",
    "augmentation_stars",
    "cartesian_product_cliques",
    "cliques_from_labels",
    "empty_graph",
    "kpartite_matching",
    "multitask_label_graph",
    "sentence_sticks",
]


def _clique_edges(groups: list[np.ndarray]) -> np.ndarray:
    """All pairs (i < j) inside each group of node indices (groups are disjoint)."""
    parts = []
    for members in groups:
        s = members.shape[0]
        if s < 2:
            continue
        a, b = np.triu_indices(s, k=1)
        parts.append(np.stack([members[a], members[b]], axis=1))
    if not parts:
        return np.zeros((0, 2), dtype=np.int64)
    return np.concatenate(parts).astype(np.int64)


def _codes(labels, *, name: str, missing=None, n: int | None = None) -> np.ndarray:
    """Integer codes 0..C-1 of a labelling; ``-1`` where the label equals ``missing``."""
    arr = check_labels(labels, n, name=name)
    present = np.ones(arr.shape[0], dtype=bool)
    if missing is not None:
        present = arr != missing
    codes = np.full(arr.shape[0], -1, dtype=np.int64)
    if present.any():
        _, inv = np.unique(arr[present], return_inverse=True)
        codes[present] = inv.reshape(-1)
    return codes


def _groups(codes: np.ndarray) -> list[np.ndarray]:
    """Node indices of each code >= 0, in increasing code order."""
    nodes = np.flatnonzero(codes >= 0)
    if nodes.size == 0:
        return []
    order = np.argsort(codes[nodes], kind="stable")
    sorted_nodes = nodes[order]
    cuts = np.flatnonzero(np.diff(codes[sorted_nodes])) + 1
    return np.split(sorted_nodes, cuts)


def empty_graph(n_samples: int) -> SampleGraph:
    """The graph of a method with no per-sample objective (lambda_SI = 0): no edges.

    Models pre-training with a per-token objective only (GPT, RoBERTa, T5,
    ESM, ...): the structure-inducing loss is switched off, so no pair of
    samples is constrained.

    Parameters
    ----------
    n_samples : int
        Number of samples (>= 0).

    Returns
    -------
    SampleGraph
        ``n_samples`` isolated nodes.

    Examples
    --------
    >>> empty_graph(3)
    SampleGraph(n_nodes=3, n_edges=0)
    """
    n = check_positive_int(n_samples, name="n_samples", minimum=0)
    return SampleGraph.from_edges(np.zeros((0, 2), dtype=np.int64), n_nodes=n)


def cliques_from_labels(labels, *, missing=None) -> SampleGraph:
    """Single-task classification as a graph: one clique per class.

    E = {(i, j) : i != j, y_i = y_j}. This is the graph a supervised
    pre-training classification objective induces (theory.md section 2,
    family 2), and the graph of Corollary 1 (shallow graphs).

    Parameters
    ----------
    labels : array-like of shape (n,)
        Class label of each sample (ints or strings).
    missing : scalar, optional
        A label value meaning "unlabelled": such samples stay isolated.

    Returns
    -------
    SampleGraph
        A cluster graph (disjoint union of cliques) on n nodes. A class of
        size s contributes s(s-1)/2 edges, so large classes give dense graphs.

    Raises
    ------
    ValueError
        ``labels`` not 1-D, or non-integer floats / NaN.

    Examples
    --------
    >>> g = cliques_from_labels([0, 1, 0, 0, 1])
    >>> g.n_edges, g.is_cluster_graph()
    (4, True)
    >>> cliques_from_labels(["a", "b", "a", "?"], missing="?").edges().tolist()
    [[0, 2]]
    """
    codes = _codes(labels, name="labels", missing=missing)
    edges = _clique_edges(_groups(codes))
    return SampleGraph.from_edges(edges, n_nodes=codes.shape[0])


def _task_matrix(label_sets, *, name: str) -> list[np.ndarray]:
    """Split the ``label_sets`` argument into one 1-D label array per task."""
    if isinstance(label_sets, np.ndarray):
        if label_sets.ndim != 2:
            raise ValueError(
                f"{name} must be an (n_samples, n_tasks) array or a sequence of label arrays, "
                f"got shape {label_sets.shape}"
            )
        tasks = [label_sets[:, t] for t in range(label_sets.shape[1])]
    else:
        tasks = list(label_sets)
    if not tasks:
        raise ValueError(f"{name} must hold at least one task")
    n = len(tasks[0])
    out = []
    for t, lab in enumerate(tasks):
        out.append(check_labels(lab, n, name=f"{name}[{t}]"))
    return out


def cartesian_product_cliques(label_sets, *, missing=None) -> SampleGraph:
    """Multi-task classification as cliques over the Cartesian product of labels.

    Two samples are linked iff they agree on every task:
    E = {(i, j) : y_t(i) = y_t(j) for all t} (theory.md section 2, family 3a).
    Equivalently, :func:`cliques_from_labels` of the label tuple.

    Parameters
    ----------
    label_sets : sequence of k array-likes of length n, or array of shape (n, k)
        The labels of each task.
    missing : scalar, optional
        A label value meaning "unlabelled"; a sample missing any task's label
        stays isolated.

    Returns
    -------
    SampleGraph
        A cluster graph on n nodes.

    Raises
    ------
    ValueError
        No task, or tasks of different lengths (naming ``label_sets[t]``).

    Examples
    --------
    >>> g = cartesian_product_cliques([[0, 0, 1, 1], ["a", "b", "a", "a"]])
    >>> g.edges().tolist()
    [[2, 3]]
    """
    tasks = _task_matrix(label_sets, name="label_sets")
    codes = np.stack(
        [_codes(lab, name=f"label_sets[{t}]", missing=missing) for t, lab in enumerate(tasks)],
        axis=1,
    )
    n = codes.shape[0]
    complete = (codes >= 0).all(axis=1)
    joint = np.full(n, -1, dtype=np.int64)
    if complete.any():
        _, inv = np.unique(codes[complete], axis=0, return_inverse=True)
        joint[complete] = inv.reshape(-1)
    return SampleGraph.from_edges(_clique_edges(_groups(joint)), n_nodes=n)


def multitask_label_graph(label_sets, *, task_names=None, sample_ids=None,
                          missing=None) -> SampleGraph:
    """Multi-task classification as a graph with auxiliary label nodes.

    The node set is V = X u Y_1 u ... u Y_k: the n samples first, then one
    auxiliary node per (task, label value). Each sample is linked to the
    label node of its label in every task (theory.md section 2, family 3b).
    Samples are never linked to each other directly; two samples sharing a
    label are at graph distance 2.

    Parameters
    ----------
    label_sets : sequence of k array-likes of length n, or array of shape (n, k)
        The labels of each task.
    task_names : sequence of k str, optional
        Names used in the label nodes' ids; default ``"task0"``, ``"task1"``, ...
    sample_ids : sequence of n, optional
        Ids of the sample nodes (converted to str); default ``"0"`` .. ``"n-1"``.
    missing : scalar, optional
        A label value meaning "unlabelled for this task": no link for that task.

    Returns
    -------
    SampleGraph
        ``n + sum_t |Y_t|`` nodes; :attr:`~SampleGraph.auxiliary` marks the label
        nodes, whose :attr:`~SampleGraph.node_ids` read ``"<task>=<label>"``
        (label nodes of a task in sorted label order).

    Raises
    ------
    ValueError
        Tasks of different lengths, ``task_names``/``sample_ids`` of the wrong
        length, or node ids that collide.

    Examples
    --------
    >>> g = multitask_label_graph([[0, 1, 0], ["a", "a", "b"]])
    >>> g.n_nodes, g.n_edges
    (7, 6)
    >>> g.node_ids.tolist()[3:]
    ['task0=0', 'task0=1', 'task1=a', 'task1=b']
    >>> g.auxiliary.tolist()
    [False, False, False, True, True, True, True]
    """
    tasks = _task_matrix(label_sets, name="label_sets")
    n = tasks[0].shape[0]
    k = len(tasks)
    if task_names is None:
        task_names = [f"task{t}" for t in range(k)]
    task_names = [str(v) for v in task_names]
    if len(task_names) != k:
        raise ValueError(f"task_names must have length {k} (one per task), got {len(task_names)}")
    if sample_ids is None:
        ids = [str(i) for i in range(n)]
    else:
        ids = [str(v) for v in sample_ids]
        if len(ids) != n:
            raise ValueError(f"sample_ids must have length n_samples={n}, got {len(ids)}")
    rows, cols = [], []
    offset = n
    for t, lab in enumerate(tasks):
        present = np.ones(n, dtype=bool) if missing is None else lab != missing
        values, inv = np.unique(lab[present], return_inverse=True)
        ids.extend(f"{task_names[t]}={v}" for v in values.tolist())
        rows.append(np.flatnonzero(present))
        cols.append(offset + inv.reshape(-1))
        offset += values.shape[0]
    edges = np.stack([np.concatenate(rows), np.concatenate(cols)], axis=1).astype(np.int64)
    if len(set(ids)) != len(ids):
        raise ValueError(
            "node ids collide: make task_names and sample_ids distinct from '<task>=<label>'"
        )
    aux = np.zeros(offset, dtype=bool)
    aux[n:] = True
    return SampleGraph.from_edges(edges, n_nodes=offset, node_ids=ids, auxiliary=aux)


class AugmentationStars(NamedTuple):
    """Result of :func:`augmentation_stars`: the graph and each node's original sample."""

    graph: SampleGraph
    origin: np.ndarray


def augmentation_stars(n_samples: int, n_aug: int, *, link_views: bool = False
                       ) -> AugmentationStars:
    """Augmentation-based contrastive learning as disjoint stars.

    Each sample x is linked to its ``n_aug`` augmentations h_1(x), ..., h_a(x)
    (theory.md section 2, family 4: GraphCL, DeCLUTR, CLEAR, SimCLR-style
    methods). Nodes ``0..n-1`` are the original samples; node
    ``n + i * n_aug + a`` is the a-th augmentation of sample ``i``.

    Parameters
    ----------
    n_samples : int
        Number of original samples n (>= 0).
    n_aug : int
        Augmentations per sample (>= 1).
    link_views : bool, default False
        Also link the augmentations of one sample with each other, so that each
        sample with its views forms a clique of size ``n_aug + 1`` (methods whose
        positive pairs are two views of one sample).

    Returns
    -------
    AugmentationStars
        ``graph`` with n (1 + n_aug) nodes and n * n_aug edges (stars) or
        n * (n_aug + 1) * n_aug / 2 edges (``link_views``); ``origin``, an int
        array of length n (1 + n_aug) giving for every node the index of the
        sample it came from (``origin[i] == i`` for originals), so sample labels
        extend to all nodes as ``labels[origin]``.

    Examples
    --------
    >>> g, origin = augmentation_stars(2, 3)
    >>> g.n_nodes, g.n_edges
    (8, 6)
    >>> origin.tolist()
    [0, 1, 0, 0, 0, 1, 1, 1]
    """
    n = check_positive_int(n_samples, name="n_samples", minimum=0)
    a = check_positive_int(n_aug, name="n_aug", minimum=1)
    origin = np.concatenate([np.arange(n), np.repeat(np.arange(n), a)]).astype(np.int64)
    if link_views:
        groups = [np.concatenate([[i], n + i * a + np.arange(a)]) for i in range(n)]
        edges = _clique_edges(groups)
    else:
        aug = n + np.arange(n * a)
        edges = np.stack([origin[n:], aug], axis=1)
    graph = SampleGraph.from_edges(edges.astype(np.int64), n_nodes=n * (1 + a))
    origin.setflags(write=False)
    return AugmentationStars(graph, origin)


class KPartiteMatching(NamedTuple):
    """Result of :func:`kpartite_matching`: the graph, each node's modality and sample."""

    graph: SampleGraph
    modality: np.ndarray
    sample: np.ndarray


def kpartite_matching(n_samples: int, n_modalities: int = 2, *, links: str = "all",
                      anchor: int = 0) -> KPartiteMatching:
    """Multi-modal / multilingual alignment as a k-partite matching.

    There are k modalities (languages, views) of n aligned samples; node
    ``m * n + i`` is sample i in modality m. The views of one sample are
    matched 1:1 across modalities (theory.md section 2, family 5: CLIP-style
    and translation-pair objectives, XLM-K). For k = 2 this is a perfect
    bipartite matching, i.e. n disjoint 2-cliques.

    Parameters
    ----------
    n_samples : int
        Number of aligned samples n (>= 0).
    n_modalities : int, default 2
        Number of modalities k (>= 2).
    links : {"all", "anchor"}, default "all"
        ``"all"``: every pair of views of a sample is linked, giving n disjoint
        k-cliques (n k (k-1)/2 edges). ``"anchor"``: only pairs involving the
        ``anchor`` modality are linked (methods that align every modality to a
        pivot one, e.g. images), giving n disjoint stars (n (k-1) edges).
    anchor : int, default 0
        The pivot modality for ``links="anchor"``.

    Returns
    -------
    KPartiteMatching
        ``graph`` on n k nodes, ``modality`` and ``sample`` (int arrays of
        length n k) giving each node's modality and aligned sample.

    Examples
    --------
    >>> g, modality, sample = kpartite_matching(2, 3)
    >>> g.n_edges, g.is_cluster_graph()
    (6, True)
    >>> modality.tolist(), sample.tolist()
    ([0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 0, 1])
    >>> kpartite_matching(2, 3, links="anchor").graph.n_edges
    4
    """
    n = check_positive_int(n_samples, name="n_samples", minimum=0)
    k = check_positive_int(n_modalities, name="n_modalities", minimum=2)
    check_one_of(links, ("all", "anchor"), name="links")
    anchor = check_positive_int(anchor, name="anchor", minimum=0)
    if anchor >= k:
        raise ValueError(f"anchor must be a modality index in [0, {k}), got {anchor}")
    modality = np.repeat(np.arange(k), n).astype(np.int64)
    sample = np.tile(np.arange(n), k).astype(np.int64)
    if links == "all":
        pairs = [(a, b) for a in range(k) for b in range(a + 1, k)]
    else:
        pairs = [(anchor, b) for b in range(k) if b != anchor]
    idx = np.arange(n)
    edges = [np.stack([a * n + idx, b * n + idx], axis=1) for a, b in pairs]
    edges_arr = np.concatenate(edges).astype(np.int64) if edges else np.zeros((0, 2), np.int64)
    graph = SampleGraph.from_edges(edges_arr, n_nodes=n * k)
    modality.setflags(write=False)
    sample.setflags(write=False)
    return KPartiteMatching(graph, modality, sample)


class SentenceSticks(NamedTuple):
    """Result of :func:`sentence_sticks`.

    ``order`` holds one row ``(earlier, later)`` per edge, aligned with
    ``graph.edges()``: the sentence-order direction that SOP predicts.
    """

    graph: SampleGraph
    document: np.ndarray
    position: np.ndarray
    order: np.ndarray


def sentence_sticks(doc_lengths, *, pairing: str = "chain") -> SentenceSticks:
    """Next-sentence / sentence-order prediction as sticks of consecutive sentences.

    Sentences (the samples) of each document are numbered in reading order,
    documents one after the other. Consecutive sentences of a document are
    linked (theory.md section 2, family 6: BERT's NSP, ALBERT's SOP). SOP
    additionally asks for the direction of each link, returned as ``order``.

    Parameters
    ----------
    doc_lengths : array-like of int, shape (n_docs,)
        Number of sentences in each document (>= 0 each).
    pairing : {"chain", "disjoint"}, default "chain"
        ``"chain"`` links every consecutive pair, so each document is a path
        (sum_d (len_d - 1) edges). ``"disjoint"`` splits each document into
        segment pairs (s0, s1), (s2, s3), ..., giving disjoint sticks (K2's;
        a trailing odd sentence stays isolated), like the (A, B) segment pairs
        that NSP is trained on.

    Returns
    -------
    SentenceSticks
        ``graph`` on sum(doc_lengths) nodes; ``document`` and ``position``
        (document index and position within it, per node); ``order``, an
        (m, 2) array of (earlier, later) sentence indices aligned with
        ``graph.edges()``.

    Raises
    ------
    ValueError
        ``doc_lengths`` not 1-D or with negative / non-integer entries.

    Examples
    --------
    >>> s = sentence_sticks([3, 2])
    >>> s.graph.edges().tolist()
    [[0, 1], [1, 2], [3, 4]]
    >>> s.document.tolist(), s.position.tolist()
    ([0, 0, 0, 1, 1], [0, 1, 2, 0, 1])
    >>> sentence_sticks([5], pairing="disjoint").graph.edges().tolist()
    [[0, 1], [2, 3]]
    """
    check_one_of(pairing, ("chain", "disjoint"), name="pairing")
    lengths = np.asarray(doc_lengths)
    if lengths.ndim != 1:
        raise ValueError(f"doc_lengths must be 1-D, got shape {lengths.shape}")
    if lengths.size and (lengths.dtype.kind not in "iu" or lengths.min() < 0):
        if lengths.dtype.kind == "f" and np.all(lengths == np.round(lengths)) and (
            lengths.min() >= 0
        ):
            lengths = lengths.astype(np.int64)
        else:
            raise ValueError("doc_lengths must hold non-negative integers")
    lengths = lengths.astype(np.int64)
    n = int(lengths.sum())
    document = np.repeat(np.arange(lengths.shape[0]), lengths).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    position = np.arange(n, dtype=np.int64) - starts[document] if n else np.zeros(0, np.int64)
    first = np.arange(max(n - 1, 0))
    keep = document[first] == document[first + 1] if n > 1 else np.zeros(0, bool)
    if pairing == "disjoint":
        keep &= position[first] % 2 == 0
    first = first[keep]
    order = np.stack([first, first + 1], axis=1).astype(np.int64)
    graph = SampleGraph.from_edges(order, n_nodes=n)
    for arr in (document, position, order):
        arr.setflags(write=False)
    return SentenceSticks(graph, document, position, order)
