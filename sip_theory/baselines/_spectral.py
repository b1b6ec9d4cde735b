"""Laplacian eigenmaps of a graph, component by component (the graph-only reference)."""

from __future__ import annotations

import numpy as np

from .._validation import check_positive_int
from ..graphs import as_sample_graph

__all__ = ["spectral_embedding"]


def spectral_embedding(graph, dim: int, *, return_eigenvalues: bool = False):
    """Laplacian eigenmaps: the ``dim`` lowest non-trivial normalized-Laplacian eigenvectors.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
        Edge weights, if any, are used. Every sample must be a node (the
        embedding is transductive: a node outside the graph has no row).
    dim : int
        Embedding dimension.
    return_eigenvalues : bool, default False
        Also return the eigenvalue of each column.

    Returns
    -------
    embedding : ndarray of shape (n_nodes, dim)
    eigenvalues : ndarray of shape (dim,)
        Only with ``return_eigenvalues``; ascending, NaN for the zero columns.

    Raises
    ------
    ValueError
        ``dim`` not a positive int.

    Notes
    -----
    What is computed, with ``L = I - D^{-1/2} A D^{-1/2}`` and ``c`` the number
    of connected components:

    * each component C is solved on its own (the spectrum of L is the union of
      the components' spectra) and its trivial eigenvector ``D^{1/2} 1_C``
      (eigenvalue 0) is dropped: it says only which component a node is in,
      and on a graph with many small components (Cora's G_PT has about 80)
      the bottom of the spectrum would otherwise be all such indicators;
    * the remaining eigenpairs of all components are pooled and the ``dim``
      smallest eigenvalues taken (ties, equal after rounding to 10 decimals:
      lower component index first, by
      :meth:`~sip_theory.graphs.SampleGraph.connected_components`, then the
      solver's order); column j is ``D^{-1/2} u_j``, the generalized
      eigenvector ``(D - A) f = lambda D f`` with ``f^T D f = 1`` (Belkin and
      Niyogi's eigenmaps), zero outside its component;
    * a node none of whose component's eigenvectors is selected (always an
      isolated node, which has only the trivial one) gets a zero row; when
      there are fewer than ``dim`` non-trivial eigenvectors (``n - c < dim``)
      the last columns are zero;
    * each column's sign is fixed so that its entry of largest magnitude (first
      on ties) is positive. Within a repeated eigenvalue the basis is the
      solver's; distances are invariant to it when the whole eigenspace is
      selected, not when ``dim`` cuts through it.

    Components of up to 3,000 nodes use the dense symmetric solver, larger
    ones Lanczos (the solver of :func:`sip_theory.theory.spectral_embedding`,
    which, unlike this function, keeps the trivial eigenvectors: it is
    HaoChen et al.'s embedding for the spectral bound, not a baseline).

    Examples
    --------
    A 4-cycle 0-1-2-3 and an isolated node 4: the cycle's normalized Laplacian
    has eigenvalues 0, 1, 1, 2, so the two smallest non-trivial ones are the
    eigenvalue 1 pair.

    >>> from sip_theory.graphs import SampleGraph
    >>> g = SampleGraph.from_edges([(0, 1), (1, 2), (2, 3), (3, 0)], n_nodes=5)
    >>> emb, ev = spectral_embedding(g, 2, return_eigenvalues=True)
    >>> np.round(ev, 6).tolist(), emb[4].tolist()
    ([1.0, 1.0], [0.0, 0.0])
    >>> d = g.degrees()[:4]
    >>> np.round(emb[:4].T @ (d[:, None] * emb[:4]), 6).tolist()  # D-orthonormal
    [[1.0, 0.0], [0.0, 1.0]]
    """
    from ..theory._bounds import _component_eigs  # the one eigen-solver policy of the project

    g = as_sample_graph(graph)
    dim = check_positive_int(dim, name="dim")
    n = g.n_nodes
    n_comp, comp = g.connected_components()
    d = g.degrees(weighted=True).astype(np.float64)
    blocks, cands = [], []
    for c in range(n_comp):
        nodes = np.flatnonzero(comp == c)
        if nodes.size == 1:
            blocks.append((nodes, None))
            continue
        vals, vecs = _component_eigs(g.subgraph(nodes), min(dim + 1, nodes.size))
        # column 0 is the trivial pair of a connected component (eigenvalue 0, simple)
        blocks.append((nodes, vecs))
        cands += [(float(v), c, j) for j, v in enumerate(vals) if j >= 1]
    # eigenvalues equal after rounding to 10 decimals are ties (the triangles of a
    # graph compute 3/2 as 1.4999999999999998 or 1.5000000000000002)
    cands.sort(key=lambda t: (round(t[0], 10), t[1], t[2]))
    chosen = cands[:dim]
    emb = np.zeros((n, dim))
    eig = np.full(dim, np.nan)
    for col, (val, c, j) in enumerate(chosen):
        nodes, vecs = blocks[c]
        emb[nodes, col] = vecs[:, j] / np.sqrt(d[nodes])
        eig[col] = min(max(val, 0.0), 2.0)
    if chosen:
        k = len(chosen)
        pivot = np.abs(emb[:, :k]).argmax(axis=0)
        signs = np.sign(emb[pivot, np.arange(k)])
        signs[signs == 0] = 1.0
        emb[:, :k] *= signs[None, :]
    return (emb, eig) if return_eigenvalues else emb
