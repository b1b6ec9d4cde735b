"""sip_theory: the theory of structure-inducing pre-training as code.

Subpackages
-----------
graphs    the graph over samples (G_PT) and its constructors
theory    local consistency, Theorem 1, corollaries, permissibility, global bounds
geometry  metrics that score an embedding matrix against a graph and labels
losses    structure-inducing losses and graph pair samplers (torch)
models    reference encoders, per-sample objectives and the SIPT trainer (torch)
data      built-in data (Cora) and file loaders
testing   public hypothesis strategies
"""

__version__ = "0.1.0"

from .graphs import SampleGraph, as_sample_graph  # noqa: E402

__all__ = ["SampleGraph", "as_sample_graph", "__version__"]
