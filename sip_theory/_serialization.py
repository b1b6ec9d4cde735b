"""One JSON convention for every result: :class:`ToDictMixin`, :func:`to_jsonable`.

The convention (the one the stored results under ``experiments/results/`` use):

* a NaN (an undefined value: no query, no pair, one class) becomes ``None``;
* ``+inf`` and ``-inf`` (a margin with no pair on one side, a vacuous bound) become the strings
  ``"inf"`` and ``"-inf"``, so that an infinite value stays apart from an undefined one;
* numpy scalars become Python ``bool``, ``int`` or ``float``; arrays and tuples become lists;
* mapping keys become strings as :func:`json.dumps` writes them (``1`` -> ``"1"``);
* a nested result is written by its own ``to_dict``; a path by its text.

Every output passes ``json.dumps(..., allow_nan=False)`` and equals its own JSON round trip.
Readers that need a number take it back with :func:`finite_or_none`, which reads ``None``,
``"inf"`` and ``"-inf"`` as missing.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from typing import ClassVar

import numpy as np

__all__ = ["ToDictMixin", "finite_or_none", "to_jsonable"]


def finite_or_none(x):
    """The value as a float, or None when it is missing or not finite.

    For numbers a report averages or prints: NaN, infinities (also their ``"inf"``
    strings from :func:`to_jsonable`) and None all read as missing.

    Examples
    --------
    >>> [finite_or_none(x) for x in (1, float("nan"), "-inf", None)]
    [1.0, None, None, None]
    """
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _float(x: float):
    if math.isfinite(x):
        return x
    if math.isnan(x):
        return None
    return "inf" if x > 0 else "-inf"


def _key(k) -> str:
    if isinstance(k, str):
        return k
    if isinstance(k, (bool, np.bool_)):
        return "true" if k else "false"
    if isinstance(k, (int, np.integer)):
        return str(int(k))
    if isinstance(k, (float, np.floating)) and math.isfinite(k):
        return repr(float(k))
    if k is None:
        return "null"
    raise TypeError(f"a mapping key must be a string or a finite number, got {k!r}")


def to_jsonable(value):
    """``value`` in plain, JSON-safe Python by the package's one convention.

    Parameters
    ----------
    value : object
        None, bool, str, a number, a numpy scalar or array, a mapping, a list or tuple,
        a path, an object with a ``to_dict`` method, or any nesting of these.

    Returns
    -------
    object
        NaN -> None, ±inf -> ``"inf"``/``"-inf"``, numpy -> Python, arrays and tuples ->
        lists, mapping keys -> strings, nested results -> their ``to_dict()``.

    Raises
    ------
    TypeError
        For anything else (a set, a complex number, an arbitrary object).

    Examples
    --------
    >>> import numpy as np
    >>> to_jsonable({1: np.nan, "b": (np.int64(2), -np.inf), "c": np.array([0.5, np.inf])})
    {'1': None, 'b': [2, '-inf'], 'c': [0.5, 'inf']}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _float(float(value))
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist()) if value.ndim else to_jsonable(value.item())
    if isinstance(value, Mapping):
        return {_key(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if callable(getattr(value, "to_dict", None)):
        return value.to_dict()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot write a {type(value).__name__} as JSON: {value!r:.80}")


class ToDictMixin:
    """``to_dict`` for a frozen dataclass: its fields by :func:`to_jsonable`'s convention.

    Two class attributes declare what differs from "every field, in order":

    ``_to_dict_exclude``
        field names left out (large arrays, per-node values, fitted objects);
    ``_to_dict_extra``
        attribute names (usually properties) added after the fields.

    A class that needs other derived keys extends ``super().to_dict()`` in a short override.

    Examples
    --------
    >>> import math, json
    >>> import numpy as np
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Margin(ToDictMixin):
    ...     margin: float
    ...     score: float
    ...     per_node: np.ndarray
    ...     classes: tuple
    ...     _to_dict_exclude = ("per_node",)
    ...     _to_dict_extra = ("exact",)
    ...
    ...     @property
    ...     def exact(self) -> bool:
    ...         return self.margin > 0
    >>> m = Margin(math.inf, float("nan"), np.zeros(1000), (np.int64(0), np.int64(1)))
    >>> m.to_dict()
    {'margin': 'inf', 'score': None, 'classes': [0, 1], 'exact': True}
    >>> json.loads(json.dumps(m.to_dict(), allow_nan=False)) == m.to_dict()
    True
    """

    _to_dict_exclude: ClassVar[tuple[str, ...]] = ()
    _to_dict_extra: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict:
        """The fields (less ``_to_dict_exclude``, plus ``_to_dict_extra``), JSON-safe."""
        names = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(self._to_dict_exclude) - set(names))
        if unknown:
            raise AttributeError(
                f"{type(self).__name__}._to_dict_exclude names no field: {unknown}")
        keep = [n for n in names if n not in self._to_dict_exclude] + list(self._to_dict_extra)
        return {name: to_jsonable(getattr(self, name)) for name in keep}
