"""Theory as code: local consistency, the homophily family, Theorem 1, bounds.

Definitions follow McDermott et al., "Structure-inducing pre-training"
(Nature Machine Intelligence, 2023) with every case the paper leaves open
(ties, isolated nodes, weights, auxiliary nodes) made an explicit option.
"""

from ._homophily import (
    adjusted_homophily,
    class_insensitive_homophily,
    dirichlet_energy,
    edge_homophily,
    label_informativeness,
    node_homophily,
)
from ._local_consistency import LocalConsistencyResult, local_consistency
from ._theorem1 import (
    RadiusMajorityVote,
    RadiusVoteScore,
    RecoveryReport,
    Theorem1Check,
    check_theorem1,
    recovery_margin,
)

__all__ = [
    "LocalConsistencyResult",
    "RadiusMajorityVote",
    "RadiusVoteScore",
    "RecoveryReport",
    "Theorem1Check",
    "check_theorem1",
    "recovery_margin",
    "adjusted_homophily",
    "class_insensitive_homophily",
    "dirichlet_energy",
    "edge_homophily",
    "label_informativeness",
    "local_consistency",
    "node_homophily",
]
