"""The graph-over-samples type, :class:`SampleGraph`, and the boundary converter.

A pre-training graph G_PT is undirected, has no self-loops, may carry
non-negative edge weights, and may contain auxiliary (non-sample) nodes such as
the label nodes of the multi-task construction. It is stored as a canonical
symmetric CSR matrix (sorted indices, no explicit zeros), so that equality and
the content hash do not depend on how the graph was built.
"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components as _cc

from .._validation import check_labels, check_one_of

__all__ = ["SampleGraph", "as_sample_graph"]

_SELF_LOOP_POLICIES = ("drop", "error")
_DUPLICATE_POLICIES = ("error", "merge", "sum")


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(arr)
    arr.setflags(write=False)
    return arr


def _check_weights_array(data: np.ndarray, name: str) -> np.ndarray:
    data = np.asarray(data)
    if data.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {data.dtype}")
    data = data.astype(np.float64)
    if np.isnan(data).any():
        raise ValueError(f"{name} contains NaN weights")
    if np.isinf(data).any():
        raise ValueError(f"{name} contains infinite weights")
    if (data < 0).any():
        raise ValueError(f"{name} contains negative weights; edge weights must be non-negative")
    return data


class SampleGraph:
    """An immutable undirected graph over samples (the pre-training graph G_PT).

    Build one with a constructor that names its input:
    :meth:`from_edges`, :meth:`from_scipy`, :meth:`from_dense`,
    :meth:`from_networkx`, :func:`~sip_theory.graphs.read_edgelist` (its
    counterpart :func:`~sip_theory.graphs.write_edgelist` writes one), or one of the family
    constructors in :mod:`sip_theory.graphs`. The ``SampleGraph(adjacency)``
    call itself accepts a scipy sparse matrix or a dense square array.

    Parameters
    ----------
    adjacency : scipy sparse matrix or array-like of shape (n, n)
        Adjacency matrix; non-zero entries are edges, their values weights.
    weighted : bool, optional
        Keep the entries as weights. Default: True iff some stored entry differs from 1.
    node_ids : sequence of length n, optional
        External identifiers (strings or ints) of the nodes, unique.
    auxiliary : array-like of bool, shape (n,), optional
        True for non-sample nodes (e.g. label nodes of the multi-task graph).
    symmetrize : bool, default False
        If False an asymmetric matrix raises ``ValueError``; if True the graph is
        the union of both directions, an edge's weight the larger of the two entries.
    self_loops : {"drop", "error"}, default "drop"
        Diagonal entries are dropped and counted in :attr:`n_self_loops_dropped`,
        or raise. A node is never its own neighbour.

    Raises
    ------
    ValueError
        Non-square or asymmetric adjacency (without ``symmetrize``), NaN,
        infinite or negative weights, node ids of the wrong length or repeated,
        an auxiliary mask of the wrong length, self-loops under ``self_loops="error"``.

    Examples
    --------
    >>> g = SampleGraph.from_edges([(0, 1), (1, 2)], n_nodes=4)
    >>> g.n_nodes, g.n_edges
    (4, 2)
    >>> g.degrees().tolist()
    [1, 2, 1, 0]
    >>> g.neighbors(1).tolist()
    [0, 2]
    """

    __slots__ = (
        "_indptr",
        "_indices",
        "_data",
        "_n",
        "_weighted",
        "_node_ids",
        "_auxiliary",
        "_n_self_loops_dropped",
        "_hash",
    )

    def __init__(
        self,
        adjacency,
        *,
        weighted: bool | None = None,
        node_ids: Sequence | None = None,
        auxiliary=None,
        symmetrize: bool = False,
        self_loops: str = "drop",
    ):
        check_one_of(self_loops, _SELF_LOOP_POLICIES, name="self_loops")
        if sp.issparse(adjacency):
            mat = sp.csr_matrix(adjacency, copy=True)
        else:
            dense = np.asarray(adjacency)
            if dense.ndim != 2:
                raise ValueError(
                    f"adjacency must be a square 2-D matrix, got shape {dense.shape}"
                )
            mat = sp.csr_matrix(dense)
        if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
            raise ValueError(f"adjacency must be square, got shape {mat.shape}")
        n = int(mat.shape[0])
        mat.sum_duplicates()
        data = _check_weights_array(mat.data, "adjacency")
        mat = sp.csr_matrix((data, mat.indices, mat.indptr), shape=(n, n))
        mat.eliminate_zeros()

        diag = mat.diagonal()
        n_loops = int(np.count_nonzero(diag))
        if n_loops:
            if self_loops == "error":
                raise ValueError(
                    f"adjacency has {n_loops} self-loop(s); pass self_loops='drop' to drop them"
                )
            mat.setdiag(0)
            mat.eliminate_zeros()

        diff = mat - mat.T
        if diff.nnz and np.abs(diff.data).max() > 0:
            if not symmetrize:
                raise ValueError(
                    "adjacency is not symmetric; an undirected graph needs A == A.T "
                    "(pass symmetrize=True to take the union of both directions)"
                )
            mat = mat.maximum(mat.T).tocsr()
        mat.sort_indices()

        if weighted is None:
            weighted = bool(mat.nnz) and not np.all(mat.data == 1.0)
        if not weighted:
            mat.data = np.ones_like(mat.data)

        init = {
            "_n": n,
            "_indptr": _readonly(mat.indptr.astype(np.int64)),
            "_indices": _readonly(mat.indices.astype(np.int64)),
            "_data": _readonly(mat.data.astype(np.float64)),
            "_weighted": bool(weighted),
            "_n_self_loops_dropped": n_loops,
            "_node_ids": self._check_node_ids(node_ids, n),
            "_auxiliary": self._check_auxiliary(auxiliary, n),
            "_hash": None,
        }
        for key, value in init.items():
            object.__setattr__(self, key, value)

    # ------------------------------------------------------------------ checks
    @staticmethod
    def _check_node_ids(node_ids, n):
        if node_ids is None:
            return None
        ids = np.asarray(node_ids)
        if ids.ndim != 1 or ids.shape[0] != n:
            raise ValueError(f"node_ids must have length n_nodes={n}, got shape {ids.shape}")
        if np.unique(ids).shape[0] != n:
            raise ValueError("node_ids must be unique")
        if ids.dtype.kind == "O":
            ids = ids.astype(str)
        return _readonly(ids)

    @staticmethod
    def _check_auxiliary(auxiliary, n):
        if auxiliary is None:
            return None
        aux = np.asarray(auxiliary)
        if aux.shape != (n,):
            raise ValueError(f"auxiliary must have shape ({n},), got {aux.shape}")
        if aux.dtype != bool:
            if aux.dtype.kind not in "biu" or not np.isin(aux, (0, 1)).all():
                raise ValueError("auxiliary must be a boolean mask")
            aux = aux.astype(bool)
        return _readonly(aux)

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_edges(
        cls,
        edges,
        n_nodes: int | None = None,
        *,
        weights=None,
        node_ids: Sequence | None = None,
        auxiliary=None,
        duplicates: str = "error",
        self_loops: str = "drop",
    ) -> SampleGraph:
        """Build a graph from an (m, 2) array of undirected integer edges.

        Parameters
        ----------
        edges : array-like of shape (m, 2)
            Node index pairs; (i, j) and (j, i) denote the same edge.
        n_nodes : int, optional
            Number of nodes; default ``max(edges) + 1`` (or ``len(node_ids)``).
        weights : array-like of shape (m,), optional
            Non-negative edge weights; default unweighted.
        duplicates : {"error", "merge", "sum"}, default "error"
            What to do when a pair occurs more than once (in either direction):
            raise, keep one copy (the largest weight), or sum the weights.
        self_loops : {"drop", "error"}, default "drop"

        Raises
        ------
        ValueError
            Wrong shape, indices out of range or negative, duplicate pairs under
            ``duplicates="error"``, NaN or negative weights.

        Examples
        --------
        >>> SampleGraph.from_edges([[0, 1], [1, 0]], duplicates="merge").n_edges
        1
        """
        check_one_of(duplicates, _DUPLICATE_POLICIES, name="duplicates")
        check_one_of(self_loops, _SELF_LOOP_POLICIES, name="self_loops")
        e = np.asarray(edges)
        if e.size == 0:
            e = e.reshape(0, 2)
        if e.ndim != 2 or e.shape[1] != 2:
            raise ValueError(f"edges must have shape (m, 2), got {e.shape}")
        if e.dtype.kind == "f":
            if not np.all(np.isfinite(e)) or not np.all(e == np.round(e)):
                raise ValueError("edges must hold integer node indices")
        elif e.dtype.kind not in "iu":
            raise TypeError(
                f"edges must hold integer node indices, got dtype {e.dtype}; "
                "use read_edgelist or node_ids mapping for string ids"
            )
        e = e.astype(np.int64)
        if n_nodes is None:
            if node_ids is not None:
                n_nodes = len(node_ids)
            else:
                n_nodes = int(e.max()) + 1 if e.shape[0] else 0
        if not isinstance(n_nodes, numbers.Integral) or n_nodes < 0:
            raise ValueError(f"n_nodes must be a non-negative integer, got {n_nodes!r}")
        n_nodes = int(n_nodes)
        if e.shape[0] and (e.min() < 0 or e.max() >= n_nodes):
            bad = e[(e < 0).any(axis=1) | (e >= n_nodes).any(axis=1)][0]
            raise ValueError(
                f"edges contains node index out of range [0, {n_nodes}): {tuple(bad.tolist())}"
            )
        if weights is None:
            w = np.ones(e.shape[0])
            weighted = False
        else:
            w = _check_weights_array(weights, "weights")
            if w.shape != (e.shape[0],):
                raise ValueError(f"weights must have shape ({e.shape[0]},), got {w.shape}")
            weighted = True

        loops = e[:, 0] == e[:, 1]
        n_loops = int(loops.sum())
        if n_loops and self_loops == "error":
            raise ValueError(f"edges has {n_loops} self-loop(s); pass self_loops='drop'")
        e, w = e[~loops], w[~loops]

        lo, hi = np.minimum(e[:, 0], e[:, 1]), np.maximum(e[:, 0], e[:, 1])
        key = lo * max(n_nodes, 1) + hi
        uniq, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        if uniq.shape[0] != key.shape[0]:
            if duplicates == "error":
                dup = uniq[counts > 1][0]
                pair = (int(dup // max(n_nodes, 1)), int(dup % max(n_nodes, 1)))
                raise ValueError(
                    f"edges contains {int((counts - 1).sum())} duplicate pair(s), e.g. {pair}; "
                    "pass duplicates='merge' or duplicates='sum'"
                )
            agg = np.zeros(uniq.shape[0])
            if duplicates == "sum":
                np.add.at(agg, inverse, w)
            else:
                np.maximum.at(agg, inverse, w)
            w = agg
            lo, hi = uniq // max(n_nodes, 1), uniq % max(n_nodes, 1)
        rows = np.concatenate([lo, hi])
        cols = np.concatenate([hi, lo])
        vals = np.concatenate([w, w])
        mat = sp.csr_matrix((vals, (rows, cols)), shape=(n_nodes, n_nodes))
        if not weighted:
            mat.data[:] = 1.0
        g = cls(mat, weighted=weighted, node_ids=node_ids, auxiliary=auxiliary)
        object.__setattr__(g, "_n_self_loops_dropped", n_loops)
        return g

    @classmethod
    def from_scipy(cls, matrix, **kwargs) -> SampleGraph:
        """Build a graph from a scipy sparse adjacency matrix.

        Keyword arguments are those of :class:`SampleGraph`.

        Examples
        --------
        >>> import scipy.sparse as sp
        >>> SampleGraph.from_scipy(sp.csr_matrix([[0, 1], [1, 0]])).n_edges
        1
        """
        if not sp.issparse(matrix):
            raise TypeError(f"matrix must be a scipy sparse matrix, got {type(matrix).__name__}")
        return cls(matrix, **kwargs)

    @classmethod
    def from_dense(cls, matrix, **kwargs) -> SampleGraph:
        """Build a graph from a dense square adjacency array.

        Examples
        --------
        >>> SampleGraph.from_dense([[0, 2.0], [2.0, 0]]).weighted
        True
        """
        arr = np.asarray(matrix)
        if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
            raise ValueError(f"matrix must be a square 2-D array, got shape {arr.shape}")
        return cls(arr, **kwargs)

    @classmethod
    def from_networkx(cls, nx_graph, *, weight: str | None = None, **kwargs) -> SampleGraph:
        """Build a graph from a networkx graph; its nodes become :attr:`node_ids`.

        Node order is the graph's node order. A directed graph raises unless
        ``symmetrize=True``. Node attribute ``auxiliary`` (bool) is honoured.

        Parameters
        ----------
        nx_graph : networkx.Graph
        weight : str, optional
            Edge attribute holding weights; default unweighted.

        Examples
        --------
        >>> import networkx as nx
        >>> SampleGraph.from_networkx(nx.path_graph(3)).edges().tolist()
        [[0, 1], [1, 2]]
        """
        import networkx as nx

        if not isinstance(nx_graph, nx.Graph):
            raise TypeError(f"nx_graph must be a networkx graph, got {type(nx_graph).__name__}")
        if nx_graph.is_multigraph():
            raise ValueError("nx_graph is a multigraph; collapse parallel edges first")
        nodes = list(nx_graph.nodes())
        if nodes:
            mat = nx.to_scipy_sparse_array(nx_graph, nodelist=nodes, weight=weight, format="csr")
            mat = sp.csr_matrix(mat)
        else:  # networkx refuses to convert a graph without nodes
            mat = sp.csr_matrix((0, 0))
        if weight is None:
            mat.data[:] = 1.0
        aux_values = [nx_graph.nodes[v].get("auxiliary", None) for v in nodes]
        if "auxiliary" not in kwargs and any(a is not None for a in aux_values):
            kwargs["auxiliary"] = [bool(a) for a in aux_values]
        kwargs.setdefault("weighted", weight is not None)
        if "node_ids" not in kwargs and nodes != list(range(len(nodes))):
            kwargs["node_ids"] = [str(v) if not isinstance(v, (int, np.integer)) else v
                                  for v in nodes]
        if nx_graph.is_directed() and not kwargs.get("symmetrize", False):
            diff = mat - mat.T
            if diff.nnz and np.abs(diff.data).max() > 0:
                raise ValueError(
                    "nx_graph is directed and not symmetric; pass symmetrize=True"
                )
        return cls(mat, **kwargs)

    # ----------------------------------------------------------------- exports
    def to_scipy(self, format: str = "csr") -> sp.spmatrix:
        """Return a copy of the symmetric adjacency matrix as a scipy sparse matrix.

        Examples
        --------
        >>> SampleGraph.from_edges([(0, 1)]).to_scipy().toarray().tolist()
        [[0.0, 1.0], [1.0, 0.0]]
        """
        mat = sp.csr_matrix(
            (self._data.copy(), self._indices.copy(), self._indptr.copy()),
            shape=(self._n, self._n),
        )
        return mat.asformat(format)

    def to_dense(self) -> np.ndarray:
        """Return the adjacency as a dense (n, n) float array (small graphs only).

        Examples
        --------
        >>> float(SampleGraph.from_edges([(0, 1)]).to_dense().sum())
        2.0
        """
        return self.to_scipy().toarray()

    def to_networkx(self):
        """Return a :class:`networkx.Graph` with nodes 0..n-1.

        Node attributes ``id`` (when node ids exist) and ``auxiliary`` (when a
        mask exists), and edge attribute ``weight`` (weighted graphs) are set.

        Examples
        --------
        >>> SampleGraph.from_edges([(0, 1), (1, 2)]).to_networkx().number_of_edges()
        2
        """
        import networkx as nx

        g = nx.Graph()
        for i in range(self._n):
            attrs = {}
            if self._node_ids is not None:
                attrs["id"] = self._node_ids[i].item()
            if self._auxiliary is not None:
                attrs["auxiliary"] = bool(self._auxiliary[i])
            g.add_node(i, **attrs)
        e = self.edges()
        if self._weighted:
            w = self.edge_weights()
            triples = zip(e[:, 0].tolist(), e[:, 1].tolist(), w.tolist(), strict=True)
            g.add_weighted_edges_from(triples)
        else:
            g.add_edges_from(map(tuple, e.tolist()))
        return g

    def edges(self) -> np.ndarray:
        """Return the (m, 2) int64 array of edges with i < j, in lexicographic order.

        Examples
        --------
        >>> SampleGraph.from_edges([(2, 1), (0, 2)]).edges().tolist()
        [[0, 2], [1, 2]]
        """
        rows = np.repeat(np.arange(self._n, dtype=np.int64), np.diff(self._indptr))
        keep = rows < self._indices
        return np.stack([rows[keep], self._indices[keep]], axis=1)

    def edge_weights(self) -> np.ndarray:
        """Return the weights aligned with :meth:`edges` (ones when unweighted).

        Examples
        --------
        >>> SampleGraph.from_edges([(0, 1)], weights=[2.5]).edge_weights().tolist()
        [2.5]
        """
        rows = np.repeat(np.arange(self._n, dtype=np.int64), np.diff(self._indptr))
        return self._data[rows < self._indices].copy()

    # -------------------------------------------------------------- properties
    @property
    def n_nodes(self) -> int:
        """Number of nodes (samples plus auxiliary nodes)."""
        return self._n

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return int(self._indices.shape[0] // 2)

    @property
    def weighted(self) -> bool:
        """Whether the edge values are weights (False: every edge has weight 1)."""
        return self._weighted

    @property
    def node_ids(self) -> np.ndarray | None:
        """External node identifiers (read-only array) or None."""
        return self._node_ids

    @property
    def auxiliary(self) -> np.ndarray:
        """Boolean mask of auxiliary (non-sample) nodes; all False when none were given."""
        if self._auxiliary is None:
            return _readonly(np.zeros(self._n, dtype=bool))
        return self._auxiliary

    @property
    def sample_nodes(self) -> np.ndarray:
        """Indices of the sample (non-auxiliary) nodes."""
        return np.flatnonzero(~self.auxiliary)

    @property
    def n_self_loops_dropped(self) -> int:
        """How many self-loops the constructor dropped."""
        return self._n_self_loops_dropped

    @property
    def indptr(self) -> np.ndarray:
        """CSR row pointer (read-only)."""
        return self._indptr

    @property
    def indices(self) -> np.ndarray:
        """CSR column indices, sorted within each row (read-only)."""
        return self._indices

    @property
    def data(self) -> np.ndarray:
        """CSR values: edge weights, ones when unweighted (read-only)."""
        return self._data

    # ----------------------------------------------------------------- queries
    def degrees(self, *, weighted: bool = False) -> np.ndarray:
        """Node degrees (int), or weighted degrees (float) with ``weighted=True``.

        Examples
        --------
        >>> SampleGraph.from_edges([(0, 1)], weights=[3.0]).degrees(weighted=True).tolist()
        [3.0, 3.0]
        """
        if weighted:
            return np.add.reduceat(
                np.concatenate([self._data, [0.0]]), self._indptr[:-1]
            ) * (np.diff(self._indptr) > 0)
        return np.diff(self._indptr)

    def neighbors(self, node: int) -> np.ndarray:
        """Sorted neighbour indices of ``node``.

        Examples
        --------
        >>> SampleGraph.from_edges([(0, 2), (0, 1)]).neighbors(0).tolist()
        [1, 2]
        """
        node = self._check_node(node)
        return self._indices[self._indptr[node] : self._indptr[node + 1]].copy()

    def has_edge(self, u: int, v: int) -> bool:
        """Whether ``u`` and ``v`` are linked.

        Examples
        --------
        >>> SampleGraph.from_edges([(0, 1)]).has_edge(1, 0)
        True
        """
        u, v = self._check_node(u, "u"), self._check_node(v, "v")
        row = self._indices[self._indptr[u] : self._indptr[u + 1]]
        pos = np.searchsorted(row, v)
        return bool(pos < row.shape[0] and row[pos] == v)

    def _check_node(self, node, name="node") -> int:
        if isinstance(node, (bool, np.bool_)) or not isinstance(node, numbers.Integral):
            raise TypeError(f"{name} must be an integer node index, got {type(node).__name__}")
        if not 0 <= node < self._n:
            raise ValueError(f"{name}={node} is out of range [0, {self._n})")
        return int(node)

    def subgraph(self, nodes) -> SampleGraph:
        """Induced subgraph on ``nodes`` (indices or a boolean mask), in the given order.

        Node ids and the auxiliary mask are carried over.

        Examples
        --------
        >>> g = SampleGraph.from_edges([(0, 1), (1, 2), (2, 3)])
        >>> g.subgraph([1, 2, 3]).edges().tolist()
        [[0, 1], [1, 2]]
        """
        idx = np.asarray(nodes)
        if idx.dtype == bool:
            if idx.shape != (self._n,):
                raise ValueError(f"nodes mask must have shape ({self._n},), got {idx.shape}")
            idx = np.flatnonzero(idx)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise ValueError("nodes must be a 1-D array of node indices or a boolean mask")
        idx = idx.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self._n):
            raise ValueError(f"nodes contains indices out of range [0, {self._n})")
        if np.unique(idx).shape[0] != idx.shape[0]:
            raise ValueError("nodes must not contain repeated indices")
        mat = self.to_scipy()[idx][:, idx]
        return SampleGraph(
            mat,
            weighted=self._weighted,
            node_ids=None if self._node_ids is None else self._node_ids[idx],
            auxiliary=None if self._auxiliary is None else self._auxiliary[idx],
        )

    def connected_components(self) -> tuple[int, np.ndarray]:
        """Return ``(n_components, component_label_per_node)``.

        Examples
        --------
        >>> SampleGraph.from_edges([(0, 1)], n_nodes=3).connected_components()[0]
        2
        """
        n, lab = _cc(self.to_scipy(), directed=False)
        return int(n), lab.astype(np.int64)

    def is_cluster_graph(self) -> bool:
        """Whether the graph is a disjoint union of cliques (isolated nodes count as 1-cliques).

        A component with s nodes is a clique iff each of its nodes has degree s - 1.

        Examples
        --------
        >>> SampleGraph.from_edges([(0, 1), (2, 3), (3, 4), (2, 4)]).is_cluster_graph()
        True
        >>> SampleGraph.from_edges([(0, 1), (1, 2)]).is_cluster_graph()
        False
        """
        _, lab = self.connected_components()
        sizes = np.bincount(lab)
        return bool(np.all(self.degrees() == sizes[lab] - 1))

    def content_hash(self) -> str:
        """A stable SHA-256 hex digest of the graph's content.

        Depends on n, the edges, the weights (when weighted), node ids and the
        auxiliary mask; not on how the graph was built or on the platform.

        Examples
        --------
        >>> a = SampleGraph.from_edges([(0, 1), (1, 2)])
        >>> b = SampleGraph.from_edges([(2, 1), (1, 0)])
        >>> a.content_hash() == b.content_hash()
        True
        """
        if self._hash is None:
            h = hashlib.sha256()
            h.update(b"SampleGraph/v1")
            h.update(np.int64(self._n).tobytes())
            h.update(self.edges().astype("<i8").tobytes())
            if self._weighted:
                h.update(b"w")
                h.update(self.edge_weights().astype("<f8").tobytes())
            if self._node_ids is not None:
                h.update(b"ids")
                for v in self._node_ids.tolist():
                    h.update(repr(v).encode())
                    h.update(b"\x00")
            if self._auxiliary is not None and self._auxiliary.any():
                h.update(b"aux")
                h.update(np.packbits(self._auxiliary).tobytes())
            self._hash = h.hexdigest()
        return self._hash

    def check_labels(self, labels, *, name: str = "labels") -> np.ndarray:
        """Validate a labelling of this graph's nodes (length ``n_nodes``).

        Examples
        --------
        >>> SampleGraph.from_edges([(0, 1)]).check_labels([1, 1]).tolist()
        [1, 1]
        """
        return check_labels(labels, self._n, name=name)

    # ----------------------------------------------------------------- dunder
    def __eq__(self, other) -> bool:
        if not isinstance(other, SampleGraph):
            return NotImplemented
        return self.content_hash() == other.content_hash()

    def __hash__(self) -> int:
        return hash(self.content_hash())

    def __setattr__(self, name, value):
        if name == "_hash":  # lazily cached digest
            object.__setattr__(self, name, value)
        else:
            raise AttributeError("SampleGraph is immutable")

    def __repr__(self) -> str:
        extra = []
        if self._weighted:
            extra.append("weighted")
        if self._auxiliary is not None and self._auxiliary.any():
            extra.append(f"n_auxiliary={int(self._auxiliary.sum())}")
        tail = (", " + ", ".join(extra)) if extra else ""
        return f"SampleGraph(n_nodes={self._n}, n_edges={self.n_edges}{tail})"


def as_sample_graph(graph, *, n_nodes: int | None = None, name: str = "graph") -> SampleGraph:
    """Convert any accepted graph argument to a :class:`SampleGraph` (the API boundary).

    Accepts a :class:`SampleGraph`, a scipy sparse adjacency, a networkx graph,
    or an (m, 2) integer edge array. A dense numpy array is always read as an
    edge array; build from a dense adjacency with :meth:`SampleGraph.from_dense`.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse matrix, networkx.Graph or array-like (m, 2)
    n_nodes : int, optional
        Expected number of nodes. For an edge array it sets the node count
        (isolated trailing nodes); for other inputs a mismatch raises.
    name : str
        Argument name used in error messages.

    Examples
    --------
    >>> as_sample_graph([[0, 1], [1, 2]], n_nodes=4)
    SampleGraph(n_nodes=4, n_edges=2)
    """
    if isinstance(graph, SampleGraph):
        g = graph
    elif sp.issparse(graph):
        g = SampleGraph(graph)
    elif type(graph).__module__.startswith("networkx"):
        g = SampleGraph.from_networkx(graph)
    else:
        try:
            arr = np.asarray(graph)
        except Exception as exc:  # pragma: no cover - exotic inputs
            raise TypeError(f"{name} is not a graph: {type(graph).__name__}") from exc
        if arr.dtype == object or arr.ndim != 2 or (arr.size and arr.shape[1] != 2):
            raise TypeError(
                f"{name} must be a SampleGraph, scipy sparse adjacency, networkx graph or "
                f"(m, 2) edge array; got {type(graph).__name__} with shape {arr.shape}"
            )
        try:
            g = SampleGraph.from_edges(arr, n_nodes=n_nodes, duplicates="merge")
        except ValueError as exc:  # name the argument, not from_edges' own
            raise ValueError(f"{name}: {exc}") from None
    if n_nodes is not None and g.n_nodes != n_nodes:
        raise ValueError(f"{name} has {g.n_nodes} nodes but {n_nodes} were expected")
    return g
