"""Built-in data and file loaders."""

from ._cora import CoraDataset, load_cora

__all__ = ["CoraDataset", "load_cora"]
