"""The re-run check: a re-run of the synthetic experiments against stored results, by seed.

:func:`compare_with_stored` pairs the runs of each experiment and arm by seed and
asks whether the 95% t-interval of the mean per-seed difference contains 0;
:func:`comparison_md` writes its rows as a Markdown table.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ._reproduce_records import load_records
from ._summary_tools import fmt_mean as _fmt
from ._summary_tools import seed_stats

__all__ = ["compare_with_stored", "comparison_md"]


def _metric_value(rec, metric, task):
    """``(value, label set)`` of ``metric`` in ``rec``: per label set ``task``, else run-level.

    The label set is None for a run-level metric; the value is None when absent.
    """
    m = rec.get("metrics", {})
    v = (m.get(task) or {}).get(metric) if task is not None else None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v), task
    v = m.get(metric)
    if isinstance(v, (int, float)):
        return float(v), None
    return None, task


def _dict_differences(a, b, prefix=""):
    """Dotted keys whose values differ between two nested mappings."""
    out = []
    for key in sorted(set(a) | set(b), key=str):
        x, y = a.get(key), b.get(key)
        name = f"{prefix}{key}"
        if isinstance(x, dict) and isinstance(y, dict):
            out += _dict_differences(x, y, f"{name}.")
        elif x != y:
            out.append(name)
    return out


def _read_spec(root, exp):
    try:
        return json.loads((Path(root) / exp / "spec.json").read_text())
    except (OSError, ValueError):
        return {}


def compare_with_stored(stored_dir, rerun_dir, *, metric: str = "knn3_pt_auroc",
                        experiments=None, task: str | None = None) -> list[dict]:
    """Compare re-run results with stored ones within the seed interval, not bitwise.

    float32 training is bit-identical only on the same machine, torch version
    and thread count; elsewhere the runs of one seed drift apart and only
    statistics over seeds are comparable. For every experiment and arm present
    in both folders this takes the seeds run in both and the per-seed
    differences ``d_s = rerun_s - stored_s`` of ``metric``, and asks whether
    the 95% t-interval of their mean contains 0:

        ``|mean(d)| <= t_{0.975, n-1} * sd(d, ddof=1) / sqrt(n)``,

    i.e. a two-sided paired t-test at the 5% level. Pairing by seed is right
    because a seed fixes the generated data in both folders, so ``d_s`` removes
    the between-data spread and keeps only the training noise that the
    re-run adds (their mean is 0 when both folders come from the same
    distribution). Passing means "no evidence of a difference", not "equal":
    with 3 seeds only shifts several times the per-seed noise are detected.
    When every ``d_s`` is exactly 0 the runs are bit-identical and the row is
    consistent at any ``n``; otherwise a single common seed gives no interval
    and ``consistent`` is None.

    Parameters
    ----------
    stored_dir, rerun_dir : str or path-like
        Folders written by :func:`reproduce` or the runner (``<experiment>/spec.json``
        and ``<experiment>/runs/*.json``); records are read with :func:`load_records`.
    metric : str, default "knn3_pt_auroc"
        A label-set metric (``metrics[task][metric]``) or a run-level scalar
        (``metrics[metric]``, e.g. ``"masked_token_accuracy"``).
    experiments : str or sequence of str, optional
        Experiment names to compare (default: every experiment in both folders).
    task : str, optional
        Label set; default each record's main one (``dataset["task"]``).

    Returns
    -------
    list of dict
        One row per experiment and arm: ``experiment``, ``arm``, ``task``
        (None for a run-level metric), ``metric``, ``seeds`` (common), ``n``, ``stored_mean``,
        ``stored_ci95`` (the stored results' own 95% t half-width over those
        seeds), ``rerun_mean``, ``rerun_ci95``, ``diff`` (rerun - stored),
        ``diff_ci95`` (the paired interval above), ``max_abs_diff``,
        ``bit_identical``, ``consistent`` (True, False or None), ``same_data``
        (whether every common seed generated the same graph in both folders, by
        its recorded hash: the pairing's premise; None without hashes),
        ``config_differences`` (dotted parameter keys whose values differ
        between the two ``spec.json``, e.g. a code version) and the seeds found
        in one folder only.

    Examples
    --------
    >>> import tempfile
    >>> from sip_theory.experiments import ExperimentSpec, register_task, run_experiment
    >>> @register_task("doc-compare")
    ... def _task(run, *, device="cpu"):
    ...     return {"metrics": {"x": 0.5 + 0.1 * run.seed}}
    >>> spec = ExperimentSpec("toy", "doc-compare", seeds=[0, 1, 2])
    >>> a, b = tempfile.mkdtemp(), tempfile.mkdtemp()
    >>> _ = run_experiment(spec, a, progress=False), run_experiment(spec, b, progress=False)
    >>> row = compare_with_stored(a, b, metric="x")[0]
    >>> row["n"], row["diff"], row["bit_identical"], row["consistent"]
    (3, 0.0, True, True)
    """
    stored, rerun = load_records(stored_dir), load_records(rerun_dir)
    names = sorted(set(stored) & set(rerun))
    if experiments is not None:
        wanted = [experiments] if isinstance(experiments, str) else list(experiments)
        names = [e for e in names if e in wanted]
    rows = []
    for exp in names:
        spec_s, spec_r = _read_spec(stored_dir, exp), _read_spec(rerun_dir, exp)
        by = {}
        for which, recs in (("stored", stored[exp]), ("rerun", rerun[exp])):
            for rec in recs:
                cfg = rec["config"]
                by.setdefault(cfg["arm"], {}).setdefault(which, {})[cfg["seed"]] = rec
        for arm in sorted(by):
            if set(by[arm]) != {"stored", "rerun"}:
                continue
            s_recs, r_recs = by[arm]["stored"], by[arm]["rerun"]
            seeds = sorted(set(s_recs) & set(r_recs))
            pairs = []
            for seed in seeds:
                main = task or s_recs[seed].get("dataset", {}).get("task")
                x, t = _metric_value(s_recs[seed], metric, main)
                y, _t = _metric_value(r_recs[seed], metric, main)
                if x is not None and y is not None and math.isfinite(x) and math.isfinite(y):
                    pairs.append((seed, t, x, y))
            st = seed_stats([x for *_u, x, _y in pairs])
            rr = seed_stats([y for *_u, y in pairs])
            d = seed_stats([y - x for *_u, x, y in pairs])
            identical = bool(pairs) and all(x == y for *_u, x, y in pairs)
            hashes = [(s_recs[sd].get("dataset", {}).get("graph_hash"),
                       r_recs[sd].get("dataset", {}).get("graph_hash")) for sd in seeds]
            same_data = (None if not hashes or any(h is None for pair in hashes for h in pair)
                         else all(a == b for a, b in hashes))
            if identical:
                consistent = True
            elif d["ci95"] is None:
                consistent = None
            else:
                consistent = bool(abs(d["mean"]) <= d["ci95"])
            cfg_diff = _dict_differences(
                {"params": spec_s.get("params", {}), "arm": spec_s.get("arms", {}).get(arm, {})},
                {"params": spec_r.get("params", {}), "arm": spec_r.get("arms", {}).get(arm, {})})
            rows.append({
                "experiment": exp, "arm": arm,
                "task": pairs[0][1] if pairs else task, "metric": metric,
                "seeds": [p[0] for p in pairs], "n": len(pairs),
                "stored_mean": st["mean"], "stored_ci95": st["ci95"],
                "rerun_mean": rr["mean"], "rerun_ci95": rr["ci95"],
                "diff": d["mean"], "diff_ci95": d["ci95"],
                "max_abs_diff": max((abs(y - x) for *_u, x, y in pairs), default=None),
                "bit_identical": identical, "consistent": consistent, "same_data": same_data,
                "config_differences": cfg_diff,
                "seeds_only_stored": sorted(set(s_recs) - set(r_recs)),
                "seeds_only_rerun": sorted(set(r_recs) - set(s_recs)),
            })
    return rows


def comparison_md(rows, digits: int = 3) -> str:
    """A Markdown table of :func:`compare_with_stored`'s rows, with the rule in its caption.

    Examples
    --------
    >>> print(comparison_md([]).splitlines()[-1])
    |---|---|---|---|---|---|---|---|---|---|---|
    """
    lines = ["Re-run vs stored, paired by seed: consistent when the 95% t-interval of the "
             "mean per-seed difference (re-run − stored, n − 1 degrees of freedom) contains "
             "0, or when every difference is exactly 0 (bit-identical); stored and re-run "
             "columns are mean ± 95% t-interval half-width over the n common seeds.", "",
             "| experiment | arm | metric | n | stored | re-run | difference | "
             "bit-identical | consistent | same data | config differences |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        verdict = {True: "yes", False: "**no**", None: "n/a (n < 2)"}[r["consistent"]]
        lines.append(
            f"| {r['experiment']} | {r['arm']} | "
            f"{r['metric'] if r['task'] is None else r['task'] + '/' + r['metric']} | {r['n']} | "
            f"{_fmt(r['stored_mean'], r['stored_ci95'], digits)} | "
            f"{_fmt(r['rerun_mean'], r['rerun_ci95'], digits)} | "
            f"{_fmt(r['diff'], r['diff_ci95'], digits, sign=True)} | "
            f"{'yes' if r['bit_identical'] else 'no'} | {verdict} | "
            f"{ {True: 'yes', False: '**no**', None: 'n/a'}[r.get('same_data')]} | "
            f"{', '.join(r['config_differences']) or 'none'} |")
    return "\n".join(lines) + "\n"
