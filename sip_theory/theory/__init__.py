"""Theory as code: local consistency, Theorem 1 and its corollaries, permissibility, bounds.

Definitions follow McDermott et al., "Structure-inducing pre-training"
(Nature Machine Intelligence, 2023), with every case the paper leaves open
(ties, isolated nodes, weights, auxiliary nodes) an explicit option.

* Graph-label alignment: :func:`local_consistency` (LC, the quantity of
  Theorem 1), :func:`edge_homophily`, :func:`node_homophily`,
  :func:`class_insensitive_homophily`, :func:`adjusted_homophily`,
  :func:`label_informativeness`, :func:`dirichlet_energy`.
* Concentration of empirical LC (McDiarmid): :func:`lc_concentration` (fixed
  graph, independent labels), :func:`lc_concentration_generative` (independent
  node variables, a degree cap), both giving :class:`LCConcentration`.
* Theorem 1: :func:`recovery_margin`, :class:`RadiusMajorityVote`,
  :func:`check_theorem1`; off its premise, :func:`robust_theorem1` (the
  radius vote within proved bounds of LC when G_PT is almost realized).
* Beyond Theorem 1: :func:`knn_vs_lc` (when the k-NN vote provably equals the LC
  vote node by node, and the range of the k-NN accuracy this proves).
* Corollaries: :func:`clique_purity` (1), :func:`boundary_tube_estimate`,
  :func:`voronoi_boundary_length`, :func:`corollary2_table` (2).
* Permissibility: :func:`is_permissible`, thresholds of the contrastive margin
  and multi-similarity losses (derived with sympy by :func:`contrastive_margin_derivation` and
  :func:`multi_similarity_derivation`) and the exact objectives of a fixed embedding they
  bound, :func:`contrastive_margin_objective` and :func:`multi_similarity_objective`.
* Depth: :func:`estimate_sphericity`; sphericity 1 decided exactly by
  :func:`unit_interval_recognition`, with the widest line realization
  :func:`max_margin_line`; wide realizations in higher dimension,
  :func:`max_margin_realization`.
* Global bounds: :func:`spectral_probe_bound`, :func:`haochen_identity` (on
  :func:`spectral_contrastive_objective`),
  :func:`cheeger_easy_side`, :func:`mean_classifier_bound`,
  :func:`ncm_cantelli_bound`, :func:`linear_separability`.
"""

from ._bounds import (
    Bound,
    IdentityCheck,
    Separability,
    SpectralEmbedding,
    cheeger_easy_side,
    haochen_identity,
    linear_separability,
    mean_classifier_bound,
    ncm_cantelli_bound,
    normalized_laplacian_spectrum,
    sparsest_k_partition,
    spectral_contrastive_objective,
    spectral_embedding,
    spectral_probe_bound,
    spectral_probe_error,
)
from ._concentration import LCConcentration, lc_concentration, lc_concentration_generative
from ._corollaries import (
    CliquePurity,
    TubeEstimate,
    boundary_tube_estimate,
    clique_purity,
    corollary2_table,
    voronoi_boundary_length,
)
from ._derivations import Derivation, contrastive_margin_derivation, multi_similarity_derivation
from ._homophily import (
    adjusted_homophily,
    class_insensitive_homophily,
    dirichlet_energy,
    edge_homophily,
    label_informativeness,
    node_homophily,
)
from ._knn_conditions import KNNvsLC, knn_vs_lc
from ._local_consistency import LocalConsistencyResult, local_consistency
from ._max_margin import MarginRealization, max_margin_realization
from ._permissibility import (
    ContrastiveMarginSpec,
    MultiSimilarityPerAnchor,
    MultiSimilaritySpec,
    PermissibilityReport,
    Threshold,
    contrastive_margin_objective,
    contrastive_margin_threshold,
    contrastive_zero_margin_lower_bound,
    is_permissible,
    multi_similarity_objective,
    multi_similarity_threshold,
)
from ._robust import RobustTheorem1, robust_theorem1
from ._sphericity import SphericityEstimate, estimate_sphericity
from ._theorem1 import (
    RadiusMajorityVote,
    RadiusVoteScore,
    RecoveryReport,
    recovery_margin,
)
from ._theorem1_check import Theorem1Check, check_theorem1
from ._unit_interval import (
    LineRealization,
    UnitIntervalResult,
    max_margin_line,
    unit_interval_recognition,
)

__all__ = [
    "RobustTheorem1",
    "robust_theorem1",
    "Bound",
    "CliquePurity",
    "ContrastiveMarginSpec",
    "Derivation",
    "LineRealization",
    "MarginRealization",
    "IdentityCheck",
    "KNNvsLC",
    "LCConcentration",
    "LocalConsistencyResult",
    "MultiSimilarityPerAnchor",
    "MultiSimilaritySpec",
    "PermissibilityReport",
    "RadiusMajorityVote",
    "RadiusVoteScore",
    "RecoveryReport",
    "Separability",
    "SpectralEmbedding",
    "SphericityEstimate",
    "Theorem1Check",
    "Threshold",
    "TubeEstimate",
    "UnitIntervalResult",
    "adjusted_homophily",
    "boundary_tube_estimate",
    "check_theorem1",
    "cheeger_easy_side",
    "class_insensitive_homophily",
    "clique_purity",
    "contrastive_margin_derivation",
    "contrastive_margin_objective",
    "contrastive_margin_threshold",
    "contrastive_zero_margin_lower_bound",
    "corollary2_table",
    "dirichlet_energy",
    "edge_homophily",
    "estimate_sphericity",
    "haochen_identity",
    "is_permissible",
    "knn_vs_lc",
    "label_informativeness",
    "lc_concentration",
    "lc_concentration_generative",
    "linear_separability",
    "local_consistency",
    "max_margin_line",
    "max_margin_realization",
    "mean_classifier_bound",
    "multi_similarity_derivation",
    "multi_similarity_objective",
    "multi_similarity_threshold",
    "ncm_cantelli_bound",
    "node_homophily",
    "normalized_laplacian_spectrum",
    "recovery_margin",
    "sparsest_k_partition",
    "spectral_contrastive_objective",
    "spectral_embedding",
    "spectral_probe_bound",
    "spectral_probe_error",
    "unit_interval_recognition",
    "voronoi_boundary_length",
]
