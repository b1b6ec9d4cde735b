"""Built-in data and file loaders."""

from ._cora import CoraDataset, load_cora
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
    "CLS_ID",
    "CoraDataset",
    "MASK_ID",
    "PAD_ID",
    "SEP_ID",
    "SPECIAL_TOKENS",
    "TopicCorpus",
    "load_cora",
    "load_embeddings",
    "load_graph",
    "load_ids",
    "load_labels",
    "make_topic_corpus",
]
