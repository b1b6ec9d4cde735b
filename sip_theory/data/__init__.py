"""Built-in data: the paper's synthetic datasets, generated node text, Cora and file loaders.

* the paper's synthetic datasets (:class:`SyntheticDataset`), on graphs of
  :mod:`sip_theory.graphs`: :func:`make_cliques_dataset`,
  :func:`make_manifold_dataset` (triangulated surfaces, exact short geodesics),
  :func:`make_mechanistic_dataset` (cycle + graphlets, exact graphlet orbits), and
  any registered family by name with :func:`make_synthetic_dataset`;
* node text generated from topic mixtures: :func:`make_topic_corpus` (words),
  :func:`make_character_corpus` (the official pipeline's characters), and the
  ideal reader that knows the topics;
* the shipped Cora graph (:func:`load_cora`) and file loaders.
"""

from ._char_corpus import CHARACTER_TEXT_SETTINGS, CharacterTopicCorpus, make_character_corpus
from ._cliques_dataset import make_cliques_dataset
from ._cora import CoraDataset, load_cora
from ._ideal_reader import ideal_reader_accuracy, topic_log_likelihoods
from ._loaders import load_embeddings, load_graph, load_ids, load_labels
from ._manifold_datasets import MANIFOLD_SETTINGS, make_manifold_dataset
from ._mechanistic_datasets import MECHANISTIC_TASKS, make_mechanistic_dataset
from ._synthetic import (
    SYNTHETIC_DATASETS,
    GenerationError,
    SyntheticDataset,
    make_synthetic_dataset,
    register_synthetic_dataset,
)
from ._topic_corpus import (
    CLS_ID,
    MASK_ID,
    PAD_ID,
    SEP_ID,
    SPECIAL_TOKENS,
    TopicCorpus,
    make_topic_corpus,
)

__all__ = [
    "CHARACTER_TEXT_SETTINGS",
    "CLS_ID",
    "CharacterTopicCorpus",
    "CoraDataset",
    "GenerationError",
    "MANIFOLD_SETTINGS",
    "MASK_ID",
    "MECHANISTIC_TASKS",
    "PAD_ID",
    "SEP_ID",
    "SPECIAL_TOKENS",
    "SYNTHETIC_DATASETS",
    "SyntheticDataset",
    "TopicCorpus",
    "ideal_reader_accuracy",
    "load_cora",
    "load_embeddings",
    "load_graph",
    "load_ids",
    "load_labels",
    "make_character_corpus",
    "make_cliques_dataset",
    "make_manifold_dataset",
    "make_mechanistic_dataset",
    "make_synthetic_dataset",
    "make_topic_corpus",
    "register_synthetic_dataset",
    "topic_log_likelihoods",
]
