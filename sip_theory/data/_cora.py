"""The Cora citation graph, shipped with the package (see CORA_PROVENANCE.md)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import numpy as np
import scipy.sparse as sp

from ..graphs import SampleGraph

__all__ = ["CoraDataset", "load_cora"]

CORA_SHA256 = "e23489ec66081b9fc2b1a90c38aa96d847ce5e3d6058123d9f95da8d4e43a661"


@dataclass(frozen=True)
class CoraDataset:
    """The planetoid Cora dataset: samples, citation graph, topics and split.

    Attributes
    ----------
    features : scipy.sparse.csr_matrix of shape (2708, 1433)
        Binary bag of words of each paper (float32).
    graph : SampleGraph
        The undirected citation graph (5,278 edges).
    labels : numpy.ndarray of shape (2708,)
        Topic index 0..6.
    train_index, val_index, test_index : numpy.ndarray
        The standard planetoid split (140 / 500 / 1000 papers).
    """

    features: sp.csr_matrix
    graph: SampleGraph
    labels: np.ndarray
    train_index: np.ndarray
    val_index: np.ndarray
    test_index: np.ndarray

    @property
    def n_samples(self) -> int:
        """Number of papers."""
        return int(self.labels.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of topics."""
        return int(self.labels.max()) + 1


def load_cora(path=None) -> CoraDataset:
    """Load the Cora citation dataset.

    Parameters
    ----------
    path : str or path-like, optional
        An ``.npz`` file with the layout of the shipped copy; default: the copy
        shipped inside the package (checked against its SHA-256).

    Returns
    -------
    CoraDataset

    Raises
    ------
    ValueError
        The shipped file does not match its recorded checksum, or arrays are inconsistent.

    Examples
    --------
    >>> cora = load_cora()
    >>> cora.features.shape, cora.graph.n_edges, cora.n_classes
    ((2708, 1433), 5278, 7)
    """
    if path is None:
        ref = resources.files("sip_theory.data").joinpath("cora.npz")
        raw = ref.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        if digest != CORA_SHA256:
            raise ValueError(f"shipped cora.npz has SHA-256 {digest}, expected {CORA_SHA256}")
        import io

        source = io.BytesIO(raw)
    else:
        source = path
    with np.load(source, allow_pickle=False) as d:
        shape = tuple(int(v) for v in d["features_shape"])
        features = sp.csr_matrix(
            (d["features_data"], d["features_indices"], d["features_indptr"]), shape=shape
        )
        labels = d["labels"].astype(np.int64)
        edges = d["edges"].astype(np.int64)
        split = {k: d[k].astype(np.int64) for k in ("train_index", "val_index", "test_index")}
    if labels.shape[0] != shape[0]:
        raise ValueError(f"labels has {labels.shape[0]} rows but features has {shape[0]}")
    graph = SampleGraph.from_edges(edges, n_nodes=shape[0])
    return CoraDataset(features=features, graph=graph, labels=labels, **split)
