"""Reference embeddings without pre-training: what the features alone and the graph alone hold.

* :func:`tfidf_svd_embedding`: tf-idf weighting of a bag of words (or any
  count matrix) and its truncated SVD (latent semantic analysis), features only;
* :func:`spectral_embedding`: Laplacian eigenmaps of a graph, per connected
  component, graph only (transductive: every node must be in the graph).

numpy and scipy only.
"""

from ._spectral import spectral_embedding
from ._tfidf import tfidf_svd_embedding

__all__ = ["spectral_embedding", "tfidf_svd_embedding"]
