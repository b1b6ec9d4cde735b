"""Geometry of an embedding: exact, chunked metrics against a graph and labels.

One neighbour engine (:func:`compute_neighbors`, :func:`knn`,
:func:`radius_neighbors`, :func:`iter_distance_blocks`) computes exact
distances block by block in torch, on CPU or GPU, optionally sharded with
torch.distributed; every metric accepts its precomputed :class:`Neighbors`.

Metrics: link retrieval (:func:`link_retrieval` and its scalar parts), graph
recovery (:func:`graph_recovery` ...), fine-tuning probes (:func:`knn_probe`,
:func:`linear_probe`), local consistency on the embedding's kNN graph
(:func:`knn_local_consistency`), spread and collapse (:func:`alignment`,
:func:`uniformity`, :func:`rankme`, :func:`nc1`, :func:`cdnv`),
neighbourhood preservation (:func:`trustworthiness`, :func:`continuity`), and
the one-pass :func:`geometry_report`, and :func:`compare_embeddings` for several
embeddings of the same samples side by side. Past about 10^5 samples,
:func:`estimated_geometry_report` estimates them with stated errors:
:func:`sampled_link_retrieval` (OGB's protocol, with confidence intervals) and
:func:`approximate_knn` (faiss HNSW or IVF, the ``faiss`` extra) with its recall
measured by :func:`measure_recall`. Engine options (``device``, ``chunk_size``,
``memory_budget`` ...) are keyword arguments of every metric, and
:func:`config_context` sets their defaults for a block of code.
"""

from ._common import config_context, get_config
from ._compare import EmbeddingComparison, compare_embeddings
from ._consistency import LCComparison, knn_graph_from_neighbors, knn_local_consistency
from ._engine import METRICS, chunk_size_for
from ._estimated import EstimatedGeometryReport, estimated_geometry_report
from ._faiss import ApproximateNeighbors, RecallEstimate, approximate_knn, measure_recall
from ._linear import LinearProbeResult, fit_logistic_regression, linear_probe
from ._neighbors import EdgeStats, Neighbors, PairStats, compute_neighbors
from ._plot import plot_embedding_comparison, plot_geometry_report
from ._probes import (
    KNNProbeResult,
    knn_accuracy,
    knn_macro_auroc,
    knn_probe,
    macro_ovr_auroc,
    vote_proportions,
)
from ._queries import iter_distance_blocks, knn, radius_neighbors
from ._recovery import (
    GraphRecoveryResult,
    best_f1_radius,
    edge_auroc,
    graph_recovery,
    knn_graph_precision_recall,
    recovery_margin,
)
from ._report import GeometryReport, geometry_report
from ._retrieval import (
    LinkRetrievalResult,
    link_average_precision,
    link_lrap,
    link_mrr,
    link_ndcg,
    link_precision_at_k,
    link_recall_at_k,
    link_retrieval,
)
from ._sampled import SampledRetrievalResult, sampled_link_retrieval
from ._spread import RANKME_VARIANTS, alignment, cdnv, nc1, rankme, rankme_all, uniformity
from ._trust import (
    NeighborhoodPreservation,
    continuity,
    neighborhood_preservation,
    trustworthiness,
)

__all__ = [
    "config_context",
    "get_config",
    "METRICS",
    "RANKME_VARIANTS",
    "ApproximateNeighbors",
    "EdgeStats",
    "EmbeddingComparison",
    "EstimatedGeometryReport",
    "GeometryReport",
    "GraphRecoveryResult",
    "KNNProbeResult",
    "LCComparison",
    "LinearProbeResult",
    "LinkRetrievalResult",
    "NeighborhoodPreservation",
    "Neighbors",
    "PairStats",
    "RecallEstimate",
    "SampledRetrievalResult",
    "alignment",
    "approximate_knn",
    "best_f1_radius",
    "cdnv",
    "chunk_size_for",
    "compare_embeddings",
    "compute_neighbors",
    "continuity",
    "edge_auroc",
    "estimated_geometry_report",
    "fit_logistic_regression",
    "geometry_report",
    "graph_recovery",
    "iter_distance_blocks",
    "knn",
    "knn_accuracy",
    "knn_graph_from_neighbors",
    "knn_graph_precision_recall",
    "knn_local_consistency",
    "knn_macro_auroc",
    "knn_probe",
    "linear_probe",
    "link_average_precision",
    "link_lrap",
    "link_mrr",
    "link_ndcg",
    "link_precision_at_k",
    "link_recall_at_k",
    "link_retrieval",
    "macro_ovr_auroc",
    "measure_recall",
    "nc1",
    "neighborhood_preservation",
    "plot_embedding_comparison",
    "plot_geometry_report",
    "radius_neighbors",
    "rankme",
    "rankme_all",
    "sampled_link_retrieval",
    "recovery_margin",
    "trustworthiness",
    "uniformity",
    "vote_proportions",
]
