"""Progress bars: ``tqdm.auto``, without its notice about a missing ``ipywidgets``."""

from __future__ import annotations

import warnings

__all__ = ["auto_tqdm"]


def auto_tqdm():
    """The ``tqdm.auto.tqdm`` class.

    In a Jupyter kernel without ``ipywidgets``, ``tqdm.auto`` falls back to text bars and
    warns once ("IProgress not found"). The notice is about the environment, not the
    computation, and would land in the output of whichever notebook cell first shows a
    bar (every page of the book that trains), so it is silenced here and nowhere else.

    Examples
    --------
    >>> from tqdm import tqdm
    >>> issubclass(auto_tqdm(), tqdm)
    True
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        from tqdm.auto import tqdm
    return tqdm
