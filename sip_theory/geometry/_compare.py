"""Several embeddings of the same samples, scored against one graph and one set of labels.

:func:`compare_embeddings` runs :func:`geometry_report` on each embedding with the
same options, and gathers the headline metrics into an :class:`EmbeddingComparison`:
one row per embedding, one column per metric, each column with its direction
("higher", "lower", or none where neither end is better). The table goes out as
plain text, CSV or Markdown without pandas; :func:`plot_embedding_comparison` draws it.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._serialization import ToDictMixin

__all__ = ["EmbeddingComparison", "compare_embeddings"]

GROUPS = ("graph", "labels", "spread")


def _columns(rep) -> list[tuple]:
    """``(key, label, group, better, value)`` for every metric ``rep`` computed."""
    out = []
    r, g = rep.retrieval, rep.recovery
    if r is not None and g is not None and g.n_edges:
        out += [("lrap", "LRAP", "graph", "higher", r.lrap),
                ("mrr", "MRR", "graph", "higher", r.mrr),
                ("ndcg", "nDCG", "graph", "higher", r.ndcg)]
        out += [(f"p_at_{k}", f"P@{k}", "graph", "higher", v)
                for k, v in sorted(r.precision_at.items())]
        out += [("edge_auroc", "edge AUROC", "graph", "higher", g.auroc),
                ("best_f1", "best F1", "graph", "higher", g.best_f1)]
    if rep.knn_probe is not None:
        p = rep.knn_probe
        out += [("knn_accuracy", f"{p.k}-NN acc.", "labels", "higher", p.accuracy),
                ("knn_macro_auroc", f"{p.k}-NN AUROC", "labels", "higher", p.macro_auroc)]
    if rep.linear_probe is not None:
        lp = rep.linear_probe
        out += [("linear_accuracy", "linear acc.", "labels", "higher", lp.accuracy),
                ("linear_accuracy_sd", "linear acc. sd", "labels", None, lp.accuracy_sd)]
    if rep.consistency is not None:
        c = rep.consistency
        out.append(("lc_knn", f"LC ({c.k}-NN graph)", "labels", "higher", c.lc_embedding))
    if rep.alignment is not None:
        out.append(("alignment", "alignment", "spread", "lower", rep.alignment))
    if rep.uniformity is not None:
        out.append(("uniformity", "uniformity", "spread", "lower", rep.uniformity))
    out.append(("rankme", "RankMe", "spread", "higher",
                rep.rankme.get("garrido2023", float("nan"))))
    if rep.nc1 is not None:
        out.append(("nc1", "NC1", "spread", None, rep.nc1))
    return out


#: the spread column shown next to the mean it belongs to (``mean ± sd``)
SPREAD_OF = {"linear_accuracy_sd": "linear_accuracy"}


@dataclass(frozen=True, eq=False)
class EmbeddingComparison(ToDictMixin):
    """The headline metrics of several embeddings, one row each (:func:`compare_embeddings`).

    Attributes
    ----------
    names : tuple of str
        The embeddings, in the order given.
    columns : tuple of str
        Metric keys (CSV headers): ``lrap``, ``mrr``, ``ndcg``, ``p_at_<k>``,
        ``edge_auroc``, ``best_f1`` (with a graph); ``knn_accuracy``,
        ``knn_macro_auroc``, ``linear_accuracy``, ``linear_accuracy_sd`` (the
        spread over folds), ``lc_knn`` (with labels); ``alignment``, ``uniformity``,
        ``rankme``, ``nc1``: every metric some report computed (NaN in the rows of
        the reports that lack it).
    labels : tuple of str
        Display names of the columns.
    groups : tuple of str
        ``"graph"``, ``"labels"`` or ``"spread"`` per column.
    better : tuple of str or None
        ``"higher"``, ``"lower"``, or None where neither end is better (NC1, a
        spread over folds).
    values : ndarray of shape (n_embeddings, n_columns)
        NaN where a metric is undefined.
    reference : dict
        What does not depend on the embedding: ``lc_graph`` (LC of the labels on G,
        the prediction the ``lc_knn`` column realises) and ``edge_homophily``, where
        defined.
    settings : dict
        The options of the reports (identical for all embeddings).
    reports : dict
        name -> :class:`GeometryReport`. Not in :meth:`to_dict`.
    """

    names: tuple
    columns: tuple
    labels: tuple
    groups: tuple
    better: tuple
    values: np.ndarray
    reference: dict
    settings: dict
    reports: dict = field(repr=False, default_factory=dict)

    _to_dict_exclude = ("reports",)

    def column(self, key: str) -> np.ndarray:
        """The values of one metric, one per embedding.

        Examples
        --------
        >>> cmp = _example()
        >>> cmp.column("knn_accuracy").round(4).tolist()
        [1.0, 0.3333]
        """
        if key not in self.columns:
            raise ValueError(f"key must be one of {', '.join(self.columns)}; got {key!r}")
        return self.values[:, self.columns.index(key)]

    def best(self) -> dict:
        """Column key -> name of the best embedding, for the columns with a direction.

        A column whose values are all NaN, or whose best value is shared, maps to None.

        Examples
        --------
        >>> _example().best()["knn_accuracy"]
        'clustered'
        """
        out = {}
        for j, (key, b) in enumerate(zip(self.columns, self.better, strict=True)):
            if b is None:
                continue
            v = self.values[:, j]
            ok = np.isfinite(v)
            if not ok.any():
                out[key] = None
                continue
            top = np.nanmax(v) if b == "higher" else np.nanmin(v)
            winners = np.flatnonzero(ok & (v == top))
            out[key] = self.names[winners[0]] if winners.shape[0] == 1 else None
        return out

    def rows(self) -> list[dict]:
        """One dict per embedding: ``{"embedding": name, column: value, ...}`` (NaN -> None).

        Examples
        --------
        >>> round(_example().rows()[1]["knn_accuracy"], 4)
        0.3333
        """
        return [{"embedding": name, **{c: (None if not math.isfinite(v) else float(v))
                                       for c, v in zip(self.columns, row, strict=True)}}
                for name, row in zip(self.names, self.values.tolist(), strict=True)]

    def to_csv(self, path=None) -> str:
        """The table as CSV (an empty cell for an undefined value); written to ``path``
        atomically when given.

        Examples
        --------
        >>> print(_example().to_csv().splitlines()[0])
        embedding,knn_accuracy,knn_macro_auroc,lc_knn,uniformity,rankme,nc1
        """
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["embedding", *self.columns])
        for row in self.rows():
            w.writerow(["" if v is None else repr(v) if isinstance(v, float) else v
                        for v in row.values()])
        text = buf.getvalue()
        if path is not None:
            from .._atomic import atomic_write_text

            atomic_write_text(path, text)
        return text

    def _cells(self, digits: int, mark_best: str) -> tuple[list, list]:
        """Display headers and text cells; spread columns merged as ``mean ± sd``."""
        best = self.best()
        shown = [j for j, c in enumerate(self.columns) if c not in SPREAD_OF]
        headers = [self.labels[j] + {"higher": " ↑", "lower": " ↓"}.get(self.better[j], "")
                   for j in shown]
        body = []
        for i, name in enumerate(self.names):
            cells = []
            for j in shown:
                v = self.values[i, j]
                text = "n/a" if not np.isfinite(v) else f"{v:.{digits}f}"
                sd = [c for c, of in SPREAD_OF.items()
                      if of == self.columns[j] and c in self.columns]
                if sd and np.isfinite(v):
                    s = self.values[i, self.columns.index(sd[0])]
                    if np.isfinite(s):
                        text += f" ± {s:.{digits}f}"
                if mark_best and best.get(self.columns[j]) == name:
                    text = mark_best + text + mark_best
                cells.append(text)
            body.append([name, *cells])
        return ["embedding", *headers], body

    def _reference_line(self) -> str:
        ref = self.reference
        if not ref:
            return ""
        parts = []
        if ref.get("lc_graph") is not None:
            parts.append(f"LC on G {ref['lc_graph']:.4f} (the prediction the LC column "
                         "realises)")
        if ref.get("edge_homophily") is not None:
            parts.append(f"edge homophily of G {ref['edge_homophily']:.4f}")
        return "; ".join(parts)

    def to_markdown(self, digits: int = 4) -> str:
        """A Markdown table; the best value of each column with a direction in bold.

        Arrows mark the direction (↑ higher is better, ↓ lower); a linear probe
        under cross-validation shows ``mean ± sd`` over its folds.

        Examples
        --------
        >>> print(_example().to_markdown(digits=2).splitlines()[2])
        | clustered | **1.00** | **1.00** | 0.67 | -0.51 | 1.50 | 0.00 |
        """
        headers, body = self._cells(digits, "**")
        lines = ["| " + " | ".join(headers) + " |",
                 "|" + "|".join([":---"] + ["---:"] * (len(headers) - 1)) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        ref = self._reference_line()
        return "\n".join(lines + ([f"\n{ref}."] if ref else []))

    def to_text(self, digits: int = 4) -> str:
        """The table in aligned plain text (for a terminal).

        Examples
        --------
        >>> print(_example().to_text(digits=2).splitlines()[0])
        embedding  3-NN acc. ↑  3-NN AUROC ↑  LC (3-NN graph) ↑  uniformity ↓  RankMe ↑   NC1
        """
        headers, body = self._cells(digits, "")
        rows = [headers, *body]
        width = [max(len(r[j]) for r in rows) for j in range(len(headers))]
        lines = ["  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                           for j, (c, w) in enumerate(zip(r, width, strict=True))).rstrip()
                 for r in rows]
        ref = self._reference_line()
        return "\n".join(lines + ([ref] if ref else []))

    def to_dict(self) -> dict:
        """JSON-friendly: the table as ``rows`` (NaN -> None) with the column metadata.

        Examples
        --------
        >>> d = _example().to_dict()
        >>> d["rows"][0]["embedding"], d["better"][-1]
        ('clustered', None)
        """
        out = super().to_dict()
        del out["values"]
        out["rows"] = self.rows()
        return out


def compare_embeddings(embeddings, graph=None, labels=None, **options) -> EmbeddingComparison:
    """Score several embeddings of the same samples against the same graph and labels.

    Parameters
    ----------
    embeddings : mapping of str to array-like, or a sequence of array-likes
        The embeddings, each of shape (n, d_i) with the same n (rows are the same
        samples in the same order); a sequence is named ``"0"``, ``"1"``, ...
    graph, labels : optional
        As in :func:`geometry_report`; converted once and shared.
    **options
        Every option of :func:`geometry_report` (``metric``, ``k``, ``ks``,
        ``probe_k``, ``lc_k``, ``lc_mode``, ``normalize_rows``, ``linear_options``,
        ``seed``, ``missing_label``, ``per_sample``, engine options ...), applied
        to every embedding alike (the same seed: the same linear-probe split).

    Returns
    -------
    EmbeddingComparison

    Raises
    ------
    ValueError
        No embedding, an embedding whose row count differs from the first (naming
        it), and every error of :func:`geometry_report` (prefixed by the name of
        the embedding that raised it).

    Notes
    -----
    Each embedding costs one :func:`geometry_report`: one exact sweep over its pairs.
    A metric one report lacks (e.g. uniformity, skipped for rows of zero norm) is
    NaN in that row.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 10)
    >>> X = {"clustered": rng.normal(size=(20, 3)) + 4.0 * y[:, None],
    ...      "noise": rng.normal(size=(20, 3))}
    >>> g = [(i, i + 1) for i in range(19) if y[i] == y[i + 1]]
    >>> cmp = compare_embeddings(X, g, y, linear=False, k=3)
    >>> cmp.names, cmp.best()["lrap"]
    (('clustered', 'noise'), 'clustered')
    """
    from ..graphs import as_sample_graph
    from ._arrays import as_tensor2d
    from ._report import geometry_report

    if isinstance(embeddings, Mapping):
        items = [(str(k), v) for k, v in embeddings.items()]
    else:
        items = [(str(i), v) for i, v in enumerate(embeddings)]
    if not items:
        raise ValueError("embeddings must hold at least one embedding")
    names = [k for k, _ in items]
    if len(set(names)) != len(names):
        raise ValueError(f"embeddings has repeated names: {names}")
    arrays = {}
    n = None
    for name, X in items:
        X = as_tensor2d(X, name=f"embeddings[{name!r}]")
        if n is None:
            n, first = int(X.shape[0]), name
        elif int(X.shape[0]) != n:
            raise ValueError(f"embeddings[{name!r}] has {int(X.shape[0])} rows but "
                             f"embeddings[{first!r}] has {n}; every embedding must hold "
                             "the same samples")
        arrays[name] = X
    g = None if graph is None else as_sample_graph(graph, n_nodes=n, name="graph")
    reports = {}
    for name, X in arrays.items():
        try:
            reports[name] = geometry_report(X, g, labels, **options)
        except ValueError as exc:
            raise ValueError(f"embeddings[{name!r}]: {exc}") from exc
    return comparison_from_reports(reports)


def comparison_from_reports(reports: Mapping) -> EmbeddingComparison:
    """Gather computed :class:`GeometryReport` objects (name -> report) into a table."""
    per = {name: {key: (label, group, better, value)
                  for key, label, group, better, value in _columns(rep)}
           for name, rep in reports.items()}
    keys = []
    for p in per.values():  # every metric some report has, in order of appearance
        keys += [key for key in p if key not in keys]
    meta = {key: next(p[key][:3] for p in per.values() if key in p) for key in keys}
    keys.sort(key=lambda key: GROUPS.index(meta[key][1]))  # stable within a group
    values = np.array([[float("nan") if per[name].get(key) is None or per[name][key][3] is None
                        else float(per[name][key][3]) for key in keys] for name in per],
                      dtype=np.float64).reshape(len(per), len(keys))
    rep0 = next(iter(reports.values()))
    ref = {}
    if rep0.consistency is not None and rep0.consistency.lc_graph is not None:
        ref["lc_graph"] = float(rep0.consistency.lc_graph)
    if rep0.homophily is not None:
        ref["edge_homophily"] = float(rep0.homophily["edge"])
    settings = {k: v for k, v in rep0.settings.items()
                if k not in ("chunk_size", "n_blocks", "notes")}
    return EmbeddingComparison(
        names=tuple(per), columns=tuple(keys), labels=tuple(meta[k][0] for k in keys),
        groups=tuple(meta[k][1] for k in keys), better=tuple(meta[k][2] for k in keys),
        values=values, reference=ref, settings=settings, reports=dict(reports),
    )


def _example() -> EmbeddingComparison:
    """A small comparison the docstrings use: two embeddings, labels only.

    The second is the first with its rows shuffled against the labels: every
    label-free metric agrees, the probes do not.
    """
    X = np.array([[1.0, 0.0], [1.1, 0.0], [1.0, 0.1], [3.0, 3.0], [3.1, 3.0], [3.0, 3.1]])
    y = [0, 0, 0, 1, 1, 1]
    mixed = X[[0, 3, 1, 4, 2, 5]]
    return compare_embeddings({"clustered": X, "noise": mixed}, None, y, linear=False)
