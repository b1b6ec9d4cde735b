"""Structure-inducing losses driven by graph edges, and the graph pair samplers.

A structure-inducing loss L_SI pulls the embeddings of linked samples together
and pushes unlinked ones apart. Here the pairs come from a graph over samples,
not from class labels: a sampler turns a :class:`~sip_theory.graphs.SampleGraph`
into an *indices tuple* (by default the paper's uniform neighbour and
non-neighbour; two-hop hard negatives, k-NN rank bands over a given embedding
and weight-proportional positives are strategies of
:class:`GraphPairSampler`), and every loss takes ``(embeddings, indices_tuple,
ref_embeddings=None)``.

Indices tuples use the layout of pytorch-metric-learning, so the same tuple can
be fed to either library: pairs ``(a1, p, a2, n)`` (``(a1[k], p[k])`` linked,
``(a2[k], n[k])`` unlinked) or triplets ``(a, p, n)``. Anchor indices address
rows of ``embeddings``; ``p`` and ``n`` address rows of ``ref_embeddings``
(default: ``embeddings``), which lets a masked copy of an anchor be paired with
unmasked context, as in the SIPT protocol.

Conventions shared by every loss: float16/bfloat16 inputs are computed in
float32; an empty positive or negative set contributes 0 (never NaN) and is
counted (``return_stats=True`` or the running counters of the module forms);
every distance is named. The ``reduction`` options name reducers
(``_reducers``), shared by a loss's pair-list and dense paths, and each module
form is a ``FunctionalLoss`` around its function (same options, ``repr`` and
checks).
"""

from ._common import CountingLoss, LossStats, as_pairs, as_triplets
from ._contrastive import ContrastiveMarginLoss, contrastive_margin_loss
from ._hard_partners import knn_rank_band, two_hop_graph
from ._infonce import InfoNCELoss, info_nce_loss
from ._multisim import MultiSimilarityLoss, mine_multi_similarity_pairs, multi_similarity_loss
from ._samplers import GraphPairSampler, PairSample, batch_pairs, sample_pairs
from ._spectral import (
    SpectralContrastiveLoss,
    spectral_contrastive_graph_loss,
    spectral_contrastive_loss,
)
from ._triplet import TripletMarginLoss, triplet_margin_loss

__all__ = [
    "ContrastiveMarginLoss",
    "CountingLoss",
    "GraphPairSampler",
    "InfoNCELoss",
    "LossStats",
    "MultiSimilarityLoss",
    "PairSample",
    "SpectralContrastiveLoss",
    "TripletMarginLoss",
    "as_pairs",
    "as_triplets",
    "batch_pairs",
    "contrastive_margin_loss",
    "get_loss",
    "info_nce_loss",
    "knn_rank_band",
    "mine_multi_similarity_pairs",
    "multi_similarity_loss",
    "sample_pairs",
    "spectral_contrastive_graph_loss",
    "spectral_contrastive_loss",
    "triplet_margin_loss",
    "two_hop_graph",
]

_LOSSES = {
    "contrastive": ContrastiveMarginLoss,
    "multi_similarity": MultiSimilarityLoss,
    "triplet": TripletMarginLoss,
    "infonce": InfoNCELoss,
    "spectral": SpectralContrastiveLoss,
}


def get_loss(name: str, **kwargs) -> CountingLoss:
    """Build a loss module by name.

    Parameters
    ----------
    name : {"contrastive", "multi_similarity", "triplet", "infonce", "spectral"}
    **kwargs
        Options of the loss (see the function forms).

    Examples
    --------
    >>> get_loss("contrastive", pos_margin=0.0, neg_margin=10.0).kwargs["neg_margin"]
    10.0
    """
    if name not in _LOSSES:
        raise ValueError(f"name must be one of {tuple(_LOSSES)!r}, got {name!r}")
    return _LOSSES[name](**kwargs)
