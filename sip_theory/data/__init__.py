"""Built-in data and file loaders."""

from ._char_corpus import CHARACTER_TEXT_SETTINGS, CharacterTopicCorpus, make_character_corpus
from ._cora import CoraDataset, load_cora
from ._ideal_reader import ideal_reader_accuracy, topic_log_likelihoods
from ._loaders import load_embeddings, load_graph, load_ids, load_labels
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
    "MASK_ID",
    "PAD_ID",
    "SEP_ID",
    "SPECIAL_TOKENS",
    "TopicCorpus",
    "ideal_reader_accuracy",
    "load_cora",
    "load_embeddings",
    "load_graph",
    "load_ids",
    "load_labels",
    "make_character_corpus",
    "make_topic_corpus",
    "topic_log_likelihoods",
]
