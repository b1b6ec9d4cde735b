"""Helpers the experiment tasks and summaries share: JSON-safe numbers, seed statistics, formatting.

One copy each of what the synthetic reproduction (:mod:`._reproduce` and its summary
modules) and the Cora case study (:mod:`._cora` and its summary modules) used to
define twice:

* :func:`finite`: a JSON-safe float (NaN and inf become None) for run records
  (:func:`sip_theory._serialization.finite_or_none` under its old name);
* :func:`lookup`: a value deep in nested mappings;
* two statistics over seeds, kept apart because the stored summaries depend on
  each exactly: :func:`mean_std` (mean, population std, n; the Cora tables) and
  :func:`seed_stats` (with the 95% t-interval half-width and the per-seed values;
  the synthetic tables and the re-run check), with :func:`t_half_width`;
* :func:`fmt_mean`: ``mean ± half-width`` as text;
* :func:`savefig_atomic`: a figure written as PNG atomically;
* :func:`cpu_seconds`: CPU time of this process and its finished children.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .._atomic import atomic_path
from .._serialization import finite_or_none

__all__ = [
    "cpu_seconds",
    "finite",
    "fmt_mean",
    "lookup",
    "mean_std",
    "savefig_atomic",
    "seed_stats",
    "t_half_width",
]

_RAISE = object()


#: A JSON-safe float for run records: NaN and infinities become None
#: (:func:`sip_theory._serialization.finite_or_none`, the package's one copy).
finite = finite_or_none


def lookup(node, keys, default=_RAISE):
    """``node[k0][k1]...`` for ``keys``; a missing key raises KeyError unless ``default`` is given.

    Examples
    --------
    >>> lookup({"a": {"b": 1}}, ("a", "b")), lookup({"a": {}}, ("a", "b"), default=None)
    (1, None)
    """
    try:
        for key in keys:
            node = node[key]
    except KeyError:
        if default is _RAISE:
            raise
        return default
    return node


def mean_std(values) -> dict:
    """Mean, population standard deviation (ddof = 0) and count of ``values``, None left out.

    Examples
    --------
    >>> mean_std([1.0, 3.0, None])
    {'mean': 2.0, 'std': 1.0, 'n': 2}
    >>> mean_std([None])
    {'mean': None, 'std': None, 'n': 0}
    """
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    if v.size == 0:
        return {"mean": None, "std": None, "n": 0}
    return {"mean": float(v.mean()), "std": float(v.std(ddof=0)), "n": int(v.size)}


def t_half_width(sd: float, n: float, dof: float) -> float:
    """Half-width of the two-sided 95% t-interval: t_{0.975, dof} * sd / sqrt(n)."""
    from scipy.stats import t

    return float(t.ppf(0.975, dof) * sd / math.sqrt(n))


def seed_stats(values) -> dict:
    """Mean, population std, 95% t-interval half-width of the mean and n of ``values``.

    ``None`` and non-finite values are left out. ``std`` is the population
    standard deviation (ddof = 0, the paper's convention); ``ci95`` is
    ``t_{0.975, n-1} * s / sqrt(n)`` with the sample standard deviation
    ``s`` (ddof = 1), or None for fewer than two values.

    Examples
    --------
    >>> s = seed_stats([1.0, 3.0, None])
    >>> s["mean"], s["std"], s["n"], round(s["ci95"], 4)
    (2.0, 1.0, 2, 12.7062)
    >>> seed_stats([0.5])["ci95"] is None
    True
    """
    v = np.array([np.nan if x is None else float(x) for x in values], dtype=np.float64)
    ok = v[np.isfinite(v)]
    n = int(ok.size)
    if n and np.all(ok == ok[0]):  # a constant column: exact mean, zero spread (no rounding)
        mean, std, sd = float(ok[0]), 0.0, 0.0
    elif n:
        mean, std, sd = float(ok.mean()), float(ok.std()), float(ok.std(ddof=1) if n > 1 else 0)
    else:
        mean = std = None
    ci95 = t_half_width(sd, n, n - 1) if n >= 2 else None
    return {"mean": mean,
            "std": std,  # population std (ddof = 0)
            "ci95": ci95,  # 95% t-interval half-width of the mean (ddof = 1 standard error)
            "n": n, "values": [finite_or_none(x) for x in v]}


def fmt_mean(mean, ci=None, digits=2, sign=False):
    """``mean ± ci`` (``ci`` is an interval half-width; left out when None).

    Examples
    --------
    >>> fmt_mean(0.5), fmt_mean(0.5, 0.25, 3, sign=True), fmt_mean(None)
    ('0.50', '+0.500 ± 0.250', 'n/a')
    """
    if mean is None:
        return "n/a"
    s = f"{mean:+.{digits}f}" if sign else f"{mean:.{digits}f}"
    if ci is not None:
        s += f" ± {ci:.{digits}f}"
    return s


def savefig_atomic(fig, path) -> None:
    """Write ``fig`` to ``path`` as PNG (110 dpi, tight bounding box), atomically."""
    with atomic_path(os.fspath(path)) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")


def cpu_seconds():
    """User + system CPU seconds of this process and its finished children (None off Unix).

    The finished children are the worker processes of a pool that has been shut down.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
