"""``sip-theory reproduce``: run the synthetic experiments of a profile and report them.

:func:`reproduce` runs the specifications of :func:`profile_specs` through the
resumable runner, then :func:`summarize` reads every stored run record and
writes, under the output folder:

* ``table.md`` / ``table.csv``: ours vs the paper (:data:`PAPER_FIG5A`), 3-NN
  macro AUROC of both arms with the LC of each graph (Theorem 1's prediction);
* ``mechanistic.md``: the 3x3 FT-task topology grid vs :data:`PAPER_MECHANISTIC`;
* ``noise_curve.png``, ``lc_vs_gain.png``, ``mobius_pca.png``;
* ``summary.json`` (every aggregate, per-seed raw values, acceptance checks,
  wall times) and ``summary.md``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from pathlib import Path

import numpy as np

from .._atomic import atomic_write_json, atomic_write_text
from ._profiles import EXPERIMENTS, NOISE_LEVELS, QUICK_SCHEDULE, profile_specs
from ._runner import library_versions, run_experiments
from ._summary_tools import cpu_seconds, lookup, savefig_atomic, seed_stats, t_half_width
from ._summary_tools import fmt_mean as _fmt

__all__ = [
    "PAPER_FIG5A",
    "PAPER_MECHANISTIC",
    "PAPER_NOISE_CURVE",
    "PAPER_SOURCE",
    "CI_NOTE",
    "PAPER_MEAN_HIGH_LC_GAIN",
    "add_parser",
    "compare_with_stored",
    "comparison_md",
    "load_records",
    "plot_rank_vs_auroc",
    "rank_vs_auroc_points",
    "reproduce",
    "summarize",
]

PAPER_SOURCE = (
    "McDermott, Yap, Szolovits, Zitnik, Structure-inducing pre-training, Nature Machine "
    "Intelligence 5 (2023), Fig. 5a and the official reproduction notebooks, as transcribed "
    "in shared/spec/experiments.md section 4 (noise curve read off the original plot)"
)

#: Paper Fig. 5a: 3-NN macro AUROC, LM-only PT -> SIPT (lambda = 0.1), and the LC class.
#: Row -> (experiment, evaluated label set, LC class, LM, SIPT).
PAPER_FIG5A = {
    "CLIQUES": ("cliques_p00", "topic", "high", 0.62, 0.94),
    "PLANE": ("plane", "vertex", "high", 0.51, 0.94),
    "MOBIUS": ("mobius", "vertex", "high", 0.55, 0.89),
    "SPHERE": ("sphere", "vertex", "high", 0.51, 0.86),
    "TORUS": ("torus", "vertex", "high", 0.54, 0.77),
    "NEIGHBORHOOD": ("mech_neighborhood", "neighborhood", "high", 0.94, 0.99),
    "MOTIF": ("mech_motif", "motif", "high", 0.73, 0.88),
    "STRUCTURAL": ("mech_structural", "structural", "low", 0.90, 0.79),
}

#: Paper: AUROC lambda=0 -> 0.1 with the text following one label set (key) and
#: each label set evaluated (inner key).
PAPER_MECHANISTIC = {
    "motif": {"motif": (0.725, 0.884), "structural": (0.662, 0.690),
              "neighborhood": (0.643, 0.760)},
    "structural": {"motif": (0.601, 0.741), "structural": (0.905, 0.790),
                   "neighborhood": (0.556, 0.643)},
    "neighborhood": {"motif": (0.632, 0.826), "structural": (0.465, 0.597),
                     "neighborhood": (0.937, 0.990)},
}

#: Paper: CLIQUES 3-NN AUROC per noise level (read off the original plot, 6 seeds).
PAPER_NOISE_CURVE = {
    "p": NOISE_LEVELS,
    "sipt": (0.94, 0.83, 0.82, 0.74, 0.65),
    "lm": (0.62, 0.63, 0.62, 0.61, 0.65),
}

_MAIN_METRICS = ("knn3_pt_auroc", "knn3_pt_accuracy", "knn3_ft_auroc", "knn3_ft_accuracy",
                 "linear_accuracy", "linear_auroc", "lc", "lc_ft", "rnn_accuracy",
                 "recovered", "recovery_margin", "best_f1")
_RUN_METRICS = ("masked_token_accuracy", "final_loss_m", "final_loss_si", "homophily",
                "steps_per_second")


# --------------------------------------------------------------------------- loading
def load_records(out_dir) -> dict:
    """Every successful run record under ``out_dir``: ``{experiment: [record, ...]}``.

    Only records whose configuration matches the experiment's current
    ``spec.json`` are kept (a stale record of an older configuration is ignored).
    """
    out = {}
    root = Path(os.fspath(out_dir))
    for spec_path in sorted(root.glob("*/spec.json")):
        spec = json.loads(spec_path.read_text())
        arms, seeds = spec["arms"], set(spec["seeds"])
        recs = []
        for path in sorted((spec_path.parent / "runs").glob("*.json")):
            if path.name.endswith(".failed.json"):
                continue
            rec = json.loads(path.read_text())
            cfg = rec.get("config", {})
            arm = cfg.get("arm")
            if rec.get("status") != "ok" or arm not in arms or cfg.get("seed") not in seeds:
                continue
            if cfg.get("params") != {**spec["params"], **arms[arm]}:
                continue
            recs.append(rec)
        if recs:
            out[spec["name"]] = recs
    return out


def _aggregate(records) -> dict:
    """Per label set and metric: both arms' stats and the paired (by seed) SIPT - LM gain."""
    by_arm = {}
    for rec in records:
        by_arm.setdefault(rec["config"]["arm"], {})[rec["config"]["seed"]] = rec
    paired = sorted(set(by_arm.get("lm", {})) & set(by_arm.get("sipt", {})))
    first = records[0]
    tasks = first["dataset"]["eval_tasks"]
    out = {"seeds": paired, "tasks": {}, "run": {}}
    for task in tasks:
        t_out = {}
        for metric in _MAIN_METRICS:
            row = {}
            for arm in ("lm", "sipt"):
                row[arm] = seed_stats([by_arm.get(arm, {}).get(s, {}).get("metrics", {})
                                       .get(task, {}).get(metric) for s in paired])
            lm, si = row["lm"]["values"], row["sipt"]["values"]
            diffs = [None if a is None or b is None else b - a
                     for a, b in zip(lm, si, strict=True)]
            row["gain"] = seed_stats(diffs)
            t_out[metric] = row
        out["tasks"][task] = t_out
    for metric in _RUN_METRICS:
        out["run"][metric] = {arm: seed_stats([by_arm.get(arm, {}).get(s, {})
                                               .get("metrics", {}).get(metric) for s in paired])
                              for arm in ("lm", "sipt")}
    geo = {}
    for key in (first["metrics"].get("geometry") or {}):
        geo[key] = {arm: seed_stats([by_arm[arm][s]["metrics"]["geometry"].get(key)
                                     for s in paired]) for arm in ("lm", "sipt") if arm in by_arm}
    out["geometry"] = geo
    out["graph_hashes"] = {str(s): by_arm["lm"][s]["dataset"]["graph_hash"]
                           for s in paired}
    out["paired_data_identical"] = all(
        by_arm["lm"][s]["dataset"]["graph_hash"] == by_arm["sipt"][s]["dataset"]["graph_hash"]
        for s in paired)
    out["wall_time_s"] = float(sum(r.get("wall_time_s", 0.0) for r in records))
    out["n_runs"] = len(records)
    return out


# --------------------------------------------------------------------------- re-run check
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

        |mean(d)| <= t_{0.975, n-1} * sd(d, ddof=1) / sqrt(n),

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


# --------------------------------------------------------------------------- summary
def _get(agg, exp, task, metric, arm, key="mean"):
    """One number of the aggregates (:func:`_aggregate` per experiment); None when absent."""
    return lookup(agg, (exp, "tasks", task, metric, arm, key), default=None)


#: What every ``±`` in the written tables means.
_CI_MEAN = ("mean ± 95% t-interval half-width over n paired seeds (t quantile with n − 1 "
            "degrees of freedom times the ddof = 1 standard error, none for n = 1)")
CI_NOTE = (f"{_CI_MEAN}; the gain is SIPT − LM paired by seed, with the interval of the "
           "per-seed differences")

#: The paper's mean SIPT gain over its seven high-LC rows of Fig. 5a.
PAPER_MEAN_HIGH_LC_GAIN = float(np.mean([si - lm for _e, _t, c, lm, si in PAPER_FIG5A.values()
                                         if c == "high"]))


def _mean_of_means_ci95(samples) -> float | None:
    """95% half-width for the mean of independent row means (Welch–Satterthwaite t).

    ``samples`` holds one list of per-seed values per row. The rows are
    independent experiments, so Var(mean of R row means) = sum(s_r^2 / n_r) / R^2;
    the t quantile uses the Welch–Satterthwaite degrees of freedom. None when a
    row has fewer than two values.
    """
    samples = [[x for x in v if x is not None and math.isfinite(x)] for v in samples]
    if not samples or any(len(v) < 2 for v in samples):
        return None
    r = len(samples)
    w = [float(np.var(v, ddof=1)) / len(v) / r**2 for v in samples]
    se2 = sum(w)
    if se2 == 0.0:
        return 0.0
    dof = se2**2 / sum(wi**2 / (len(v) - 1) for wi, v in zip(w, samples, strict=True))
    return t_half_width(math.sqrt(se2), 1, dof)


def _acceptance(agg) -> dict:
    high = [r for r, v in PAPER_FIG5A.items() if v[2] == "high"]
    gains, gains_ci, gain_values = {}, {}, {}
    for row, (exp, task, *_rest) in PAPER_FIG5A.items():
        g = _get(agg, exp, task, "knn3_pt_auroc", "gain")
        if g is not None:
            gains[row] = g
            gains_ci[row] = _get(agg, exp, task, "knn3_pt_auroc", "gain", "ci95")
            gain_values[row] = _get(agg, exp, task, "knn3_pt_auroc", "gain", "values")
    have_high = [r for r in high if r in gains]
    out = {"gains": gains, "gains_ci95": gains_ci}
    if have_high:
        out["high_lc_rows"] = have_high
        out["sipt_beats_lm_on_all_high_lc"] = all(gains[r] > 0 for r in have_high)
        out["high_lc_rows_with_gain"] = [r for r in have_high if gains[r] > 0]
        out["mean_high_lc_gain"] = float(np.mean([gains[r] for r in have_high]))
        out["mean_high_lc_gain_ge_0.15"] = out["mean_high_lc_gain"] >= 0.15
        ci = _mean_of_means_ci95([gain_values[r] for r in have_high])
        out["mean_high_lc_gain_ci95"] = ci
        out["paper_mean_high_lc_gain"] = PAPER_MEAN_HIGH_LC_GAIN
        out["mean_high_lc_gain_ci_includes_paper"] = (
            None if ci is None
            else abs(out["mean_high_lc_gain"] - PAPER_MEAN_HIGH_LC_GAIN) <= ci)
        out["all_seven_present"] = len(have_high) == 7
    if "STRUCTURAL" in gains:
        out["structural_gain"] = gains["STRUCTURAL"]
        out["structural_gain_ci95"] = gains_ci["STRUCTURAL"]
        out["sipt_loses_on_structural"] = gains["STRUCTURAL"] < 0
    ps, gs = [], []
    for p, exp in zip(NOISE_LEVELS, EXPERIMENTS[:5], strict=True):
        g = _get(agg, exp, "topic", "knn3_pt_auroc", "gain")
        if g is not None:
            ps.append(p)
            gs.append(g)
    if len(ps) >= 2:
        from scipy.stats import spearmanr

        rho = float(spearmanr(ps, gs).statistic) if len(set(gs)) > 1 else float("nan")
        out["noise_gain"] = dict(zip([str(p) for p in ps], gs, strict=True))
        out["noise_spearman"] = None if math.isnan(rho) else rho
        out["cliques_gain_shrinks_with_noise"] = bool(gs[-1] < gs[0] and rho < 0)
    return out


def _table_rows(agg):
    rows = []
    for row, (exp, task, lc_class, p_lm, p_si) in PAPER_FIG5A.items():
        if exp not in agg:
            continue

        def g(arm, key="mean", m="knn3_pt_auroc", e=exp, t=task):
            return _get(agg, e, t, m, arm, key)

        rows.append({
            "graph": row, "experiment": exp, "task": task, "paper_lc": lc_class,
            "lc": g("lm", m="lc"),
            "lm": g("lm"), "lm_std": g("lm", "std"),
            "sipt": g("sipt"), "sipt_std": g("sipt", "std"),
            "gain": g("gain"), "gain_std": g("gain", "std"),
            "paper_lm": p_lm, "paper_sipt": p_si, "paper_gain": round(p_si - p_lm, 2),
            "ft_lm": g("lm", m="knn3_ft_auroc"), "ft_sipt": g("sipt", m="knn3_ft_auroc"),
            "lin_lm": g("lm", m="linear_accuracy"), "lin_sipt": g("sipt", m="linear_accuracy"),
            "rnn_sipt": g("sipt", m="rnn_accuracy"),
            "recovered_sipt": g("sipt", m="recovered"),
            "n_seeds": len(agg[exp]["seeds"]),
            "lm_ci95": g("lm", "ci95"), "sipt_ci95": g("sipt", "ci95"),
            "gain_ci95": g("gain", "ci95"), "n": g("gain", "n"),
        })
    return rows


def _table_md(rows) -> str:
    head = ("| G_PT | n | LC (ours) | paper LC | LM (ours) | SIPT (ours) | gain (ours) | "
            "LM (paper) | SIPT (paper) | gain (paper) | FT-node AUROC LM → SIPT | "
            "linear acc. LM → SIPT | r*-NN acc. SIPT | recovered (SIPT) |")
    lines = [f"3-NN macro AUROC: {CI_NOTE}; the other columns are means.", "",
             head, "|" + "---|" * 14]
    for r in rows:
        lines.append(
            f"| {r['graph']} | {r.get('n', r['n_seeds'])} | {_fmt(r['lc'])} | {r['paper_lc']} | "
            f"{_fmt(r['lm'], r.get('lm_ci95'))} | {_fmt(r['sipt'], r.get('sipt_ci95'))} | "
            f"{_fmt(r['gain'], r.get('gain_ci95'), sign=True)} | {r['paper_lm']:.2f} | "
            f"{r['paper_sipt']:.2f} | {r['paper_gain']:+.2f} | "
            + (f"{_fmt(r['ft_lm'])} → {_fmt(r['ft_sipt'])}" if r["ft_lm"] is not None
               else "n/a")
            + f" | {_fmt(r['lin_lm'])} → {_fmt(r['lin_sipt'])} | {_fmt(r['rnn_sipt'])} | "
            f"{_fmt(r['recovered_sipt'])} |")
    return "\n".join(lines) + "\n"


def _mechanistic_md(agg) -> str:
    lines = [f"3-NN macro AUROC: {CI_NOTE}.", "",
             "| text follows | evaluated | n | LC | LM (ours) | SIPT (ours) | gain (ours) | "
             "LM → SIPT (paper) |", "|---|---|---|---|---|---|---|---|"]
    for text in ("motif", "structural", "neighborhood"):
        exp = f"mech_{text}"
        if exp not in agg:
            continue
        for task in ("motif", "structural", "neighborhood"):
            pl, ps = PAPER_MECHANISTIC[text][task]

            def g(arm, key="mean", e=exp, t=task):
                return _get(agg, e, t, "knn3_pt_auroc", arm, key)

            lines.append(
                f"| {text} | {task} | {g('gain', 'n')} | "
                f"{_fmt(_get(agg, exp, task, 'lc', 'lm'))} | "
                f"{_fmt(g('lm'), g('lm', 'ci95'), 3)} | {_fmt(g('sipt'), g('sipt', 'ci95'), 3)} | "
                f"{_fmt(g('gain'), g('gain', 'ci95'), 3, sign=True)} | {pl:.3f} → {ps:.3f} |")
    return "\n".join(lines) + "\n"


def _noise_md(agg) -> str:
    lines = [f"CLIQUES 3-NN macro AUROC: {CI_NOTE}.", "",
             "| p | n | LC | LM (ours) | SIPT (ours) | gain (ours) | LM (paper) | SIPT (paper) |",
             "|---|---|---|---|---|---|---|---|"]
    for i, (p, exp) in enumerate(zip(NOISE_LEVELS, EXPERIMENTS[:5], strict=True)):
        if exp not in agg:
            continue

        def g(arm, key="mean", m="knn3_pt_auroc", e=exp):
            return _get(agg, e, "topic", m, arm, key)

        lines.append(f"| {p:.2f} | {g('gain', 'n')} | {_fmt(g('lm', m='lc'))} | "
                     f"{_fmt(g('lm'), g('lm', 'ci95'))} | {_fmt(g('sipt'), g('sipt', 'ci95'))} | "
                     f"{_fmt(g('gain'), g('gain', 'ci95'), sign=True)} | "
                     f"{PAPER_NOISE_CURVE['lm'][i]:.2f} | {PAPER_NOISE_CURVE['sipt'][i]:.2f} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- plots
def plot_noise_curve(agg, path) -> bool:
    """CLIQUES 3-NN AUROC vs noise, both arms (mean ± std over seeds) beside the paper's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ps = [p for p, e in zip(NOISE_LEVELS, EXPERIMENTS[:5], strict=True) if e in agg]
    if not ps:
        return False
    exps = [e for e in EXPERIMENTS[:5] if e in agg]
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    for arm, color in (("lm", "tab:gray"), ("sipt", "tab:blue")):
        m = [_get(agg, e, "topic", "knn3_pt_auroc", arm) for e in exps]
        s = [_get(agg, e, "topic", "knn3_pt_auroc", arm, "std") for e in exps]
        ax.errorbar(ps, m, yerr=s, marker="o", color=color, capsize=3,
                    label=f"{'LM-only' if arm == 'lm' else 'SIPT'} (ours)")
        ax.plot(PAPER_NOISE_CURVE["p"], PAPER_NOISE_CURVE[arm], ls="--", marker="x",
                color=color, alpha=0.6, label=f"{'LM-only' if arm == 'lm' else 'SIPT'} (paper)")
    lc = [_get(agg, e, "topic", "lc", "lm") for e in exps]
    ax.plot(ps, lc, ls=":", color="tab:green", marker=".", label="LC of G_PT (ours)")
    ax.set_xlabel("random_add noise p")
    ax.set_ylabel("3-NN macro AUROC")
    ax.set_title("CLIQUES: SIPT gain vs graph noise")
    ax.legend(fontsize=7)
    savefig_atomic(fig, path)
    plt.close(fig)
    return True


def plot_lc_vs_gain(agg, path) -> bool:
    """Scatter of LC (Theorem 1's prediction) against the SIPT gain, one point per graph/task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = []
    for exp in EXPERIMENTS:
        if exp not in agg:
            continue
        for task in agg[exp]["tasks"]:
            lc = _get(agg, exp, task, "lc", "lm")
            g = _get(agg, exp, task, "knn3_pt_auroc", "gain")
            gs = _get(agg, exp, task, "knn3_pt_auroc", "gain", "std")
            if lc is not None and g is not None:
                fam = exp.split("_")[0]
                label = exp if fam != "mech" else f"{task} (text: {exp[5:]})"
                pts.append((lc, g, gs or 0.0, fam, label))
    if not pts:
        return False
    colors = {"cliques": "tab:blue", "mech": "tab:red"}
    fig, ax = plt.subplots(figsize=(5.6, 4.0))
    for lc, g, gs, fam, label in pts:
        ax.errorbar(lc, g, yerr=gs, fmt="o", color=colors.get(fam, "tab:green"), capsize=2,
                    ms=5)
        ax.annotate(label, (lc, g), fontsize=6, xytext=(3, 2), textcoords="offset points")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("local consistency of the FT labels on G_PT")
    ax.set_ylabel("SIPT - LM gain in 3-NN AUROC")
    ax.set_title("Theorem 1's prediction vs measured gain")
    savefig_atomic(fig, path)
    plt.close(fig)
    return True


def plot_mobius_pca(records, path) -> bool:
    """2-D PCA of the MOBIUS PT embeddings of the first seed, LM-only vs SIPT."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_arm = {}
    for rec in records or []:
        if "embeddings" in rec:
            by_arm.setdefault(rec["config"]["arm"], []).append(rec)
    if not {"lm", "sipt"} <= set(by_arm):
        return False
    seed = min(set(r["config"]["seed"] for r in by_arm["lm"])
               & set(r["config"]["seed"] for r in by_arm["sipt"]))
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.8))
    for ax, arm in zip(axes, ("lm", "sipt"), strict=True):
        rec = next(r for r in by_arm[arm] if r["config"]["seed"] == seed)
        xy = np.array(rec["embeddings"]["pca2"])
        frac = rec["embeddings"]["explained"]
        y = np.array(rec["embeddings"]["labels_pt"]["vertex"])
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=y, cmap="tab10", s=10, vmin=0, vmax=9)
        auroc = rec["metrics"]["vertex"]["knn3_pt_auroc"]
        ax.set_title(f"{'LM-only' if arm == 'lm' else 'SIPT'} (seed {seed}): "
                     f"3-NN AUROC {auroc:.2f}", fontsize=9)
        ax.set_xlabel(f"PC1 ({frac[0]:.0%})")
        ax.set_ylabel(f"PC2 ({frac[1]:.0%})" if len(frac) > 1 else "PC2")
    fig.colorbar(sc, ax=axes, label="vertex label")
    fig.suptitle("MOBIUS: PCA of the PT embeddings", fontsize=10)
    savefig_atomic(fig, path)
    plt.close(fig)
    return True


def rank_vs_auroc_points(records) -> list[dict]:
    """Per run: the effective rank (RankMe) of the PT embeddings and its main 3-NN AUROC.

    Parameters
    ----------
    records : mapping of str to list of dict
        Run records by experiment, as returned by :func:`load_records`.

    Returns
    -------
    list of dict
        One entry per run with ``experiment``, ``arm``, ``seed``, ``rankme``,
        ``mean_norm`` and ``auroc`` (3-NN macro AUROC of the run's main task).
        Runs without a geometry report or without that AUROC are skipped.

    Examples
    --------
    >>> rec = {"config": {"experiment": "cliques_p00", "arm": "sipt", "seed": 0},
    ...        "dataset": {"task": "topic"},
    ...        "metrics": {"topic": {"knn3_pt_auroc": 0.9},
    ...                    "geometry": {"rankme": 3.1, "mean_norm": 5.0}}}
    >>> rank_vs_auroc_points({"cliques_p00": [rec]})[0]["rankme"]
    3.1
    """
    pts = []
    for exp, recs in (records or {}).items():
        for rec in recs:
            m = rec.get("metrics", {})
            g = m.get("geometry") or {}
            task = rec.get("dataset", {}).get("task")
            auroc = (m.get(task) or {}).get("knn3_pt_auroc")
            if g.get("rankme") is None or auroc is None:
                continue
            cfg = rec["config"]
            pts.append({"experiment": exp, "arm": cfg["arm"], "seed": cfg["seed"],
                        "rankme": float(g["rankme"]), "mean_norm": g.get("mean_norm"),
                        "auroc": float(auroc)})
    return pts


def plot_rank_vs_auroc(records, path) -> bool:
    """Each run's effective embedding rank against its 3-NN AUROC (a collapse diagnostic).

    SIPT runs whose embeddings fall into two antipodal groups (RankMe near 1.5,
    norm near mu-/2) sit at the lower left; LM-only runs are drawn in grey.

    Parameters
    ----------
    records : mapping of str to list of dict
        Run records by experiment (:func:`load_records`).
    path : str or path-like
        PNG file to write (atomically).

    Returns
    -------
    bool
        Whether a figure was written (False when no run has the needed metrics).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> rec = {"config": {"experiment": "plane", "arm": "sipt", "seed": 0},
    ...        "dataset": {"task": "vertex"},
    ...        "metrics": {"vertex": {"knn3_pt_auroc": 0.9},
    ...                    "geometry": {"rankme": 9.0, "mean_norm": 7.0}}}
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "rank.png"
    >>> plot_rank_vs_auroc({"plane": [rec]}, out), out.stat().st_size > 0
    (True, True)
    >>> plot_rank_vs_auroc({}, out.with_name("none.png"))
    False
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = rank_vs_auroc_points(records)
    if not pts:
        return False
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    exps = [e for e in EXPERIMENTS if any(p["experiment"] == e for p in pts)]
    cmap = plt.get_cmap("tab20")
    for i, exp in enumerate(exps):
        for arm in ("lm", "sipt"):
            sel = [p for p in pts if p["experiment"] == exp and p["arm"] == arm]
            if not sel:
                continue
            ax.scatter([p["rankme"] for p in sel], [p["auroc"] for p in sel], s=18,
                       marker="o" if arm == "sipt" else "x",
                       color=cmap(i % 20) if arm == "sipt" else "tab:gray",
                       alpha=0.9 if arm == "sipt" else 0.5,
                       label=exp if arm == "sipt" else None)
    ax.set_xlabel("effective rank of the PT embeddings (RankMe)")
    ax.set_ylabel("3-NN macro AUROC (main label set)")
    ax.set_title("Per run: embedding rank vs fine-tuning AUROC (x: LM-only)", fontsize=9)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="SIPT runs",
              title_fontsize=7)
    savefig_atomic(fig, path)
    plt.close(fig)
    return True


# --------------------------------------------------------------------------- driver
def summarize(out_dir, *, profile: str | None = None, wall_time_s: float | None = None,
              command: str | None = None) -> dict:
    """Aggregate the stored runs under ``out_dir`` and write the tables, plots and summary.

    Parameters
    ----------
    out_dir : str or path-like
        A folder written by :func:`reproduce` (one sub-folder per experiment).
    profile : str, optional
        Recorded in the summary.
    wall_time_s : float, optional
        Wall time of the run that produced the records (recorded).
    command : str, optional
        The command line that produced them (recorded).

    Returns
    -------
    dict
        The content of ``summary.json``: per-experiment aggregates (means,
        population stds, per-seed values, paired gains), the table rows,
        acceptance checks, the paper's numbers and their source.
    """
    out = Path(os.fspath(out_dir))
    records = load_records(out)
    agg = {exp: _aggregate(recs) for exp, recs in records.items()}
    # experiments without a single seed run in both arms cannot be compared yet
    unpaired = sorted(exp for exp, a in agg.items() if not a["seeds"])
    agg = {exp: a for exp, a in agg.items() if a["seeds"]}
    rows = _table_rows(agg)
    acc = _acceptance(agg)
    summary = {
        "profile": profile,
        "command": command,
        "wall_time_s": wall_time_s,
        "experiments": agg,
        "experiments_without_paired_seeds": unpaired,
        "table": rows,
        "acceptance": acc,
        "paper": {"source": PAPER_SOURCE, "fig5a": {k: list(v) for k, v in PAPER_FIG5A.items()},
                  "mechanistic": PAPER_MECHANISTIC,
                  "noise_curve": {k: list(v) for k, v in PAPER_NOISE_CURVE.items()}},
        "quick_schedule": QUICK_SCHEDULE if profile == "quick" else None,
        "invocations": _read_json_list(out / "invocations.json"),
        "versions": library_versions(),
    }
    figures = {
        "noise_curve.png": plot_noise_curve(agg, out / "noise_curve.png"),
        "lc_vs_gain.png": plot_lc_vs_gain(agg, out / "lc_vs_gain.png"),
        "mobius_pca.png": plot_mobius_pca(records.get("mobius"), out / "mobius_pca.png"),
        "rank_vs_auroc.png": plot_rank_vs_auroc(records, out / "rank_vs_auroc.png"),
    }
    summary["figures"] = [k for k, v in figures.items() if v]
    atomic_write_json(out / "summary.json", summary)
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    atomic_write_text(out / "table.csv", buf.getvalue())
    atomic_write_text(out / "table.md", _table_md(rows))
    atomic_write_text(out / "mechanistic.md", _mechanistic_md(agg))
    atomic_write_text(out / "summary.md", _summary_md(summary, agg))
    return summary


def _read_json_list(path) -> list:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return []


#: Where ``sip-theory calibrate`` stores the calibration the summary embeds.
CALIBRATION_DIR = Path("experiments/results/calibration")


def _calibration_section() -> str:
    """The stored calibration table (quick word text vs the paper profile's characters)."""
    from ._calibration import calibration_markdown

    try:
        table = calibration_markdown(CALIBRATION_DIR)
    except FileNotFoundError:
        return ("No stored calibration under `experiments/results/calibration/` (run "
                "`sip-theory calibrate`).\n")
    body = table.split("\n", 1)[1] if table.startswith("#") else table
    return (f"Read from the stored `{CALIBRATION_DIR.as_posix()}/calibration.json` "
            "(`sip-theory calibrate`; not re-run by this command):\n" + body + "\n")


def _summary_md(summary, agg) -> str:
    acc = summary["acceptance"]
    lines = [f"# Synthetic experiments: profile `{summary['profile']}`", ""]
    if summary.get("command"):
        lines += [f"Command: `{summary['command']}`", ""]
    inv = summary.get("invocations") or []
    if inv:
        lines += ["Invocations that produced these results (resumed runs cost nothing):", "",
                  "| started | command | runs executed / total | wall (s) | CPU (s) | "
                  "load avg at start | cores |", "|---|---|---|---|---|---|---|"]
        for e in inv:
            lines.append(f"| {e['started']} | `{e['command']}` | {e['runs_executed']} / "
                         f"{e['runs_total']} | {e['wall_time_s']:.0f} | {e['cpu_time_s']:.0f} | "
                         f"{e['loadavg_start']} | {e['cpu_count']} |")
        lines.append("")
    lines += ["## 3-NN macro AUROC, ours vs the paper (Fig. 5a)", "",
              "Every ± in this report is a 95% t-interval half-width of a mean over seeds, "
              "as stated above each table; the population std over seeds (the paper's "
              "convention) is kept in summary.json and table.csv. "
              "LC = local consistency of the FT labels on G_PT (Theorem 1's prediction).", "",
              "Reproducibility: a run is bit-identical when repeated on the same machine with "
              "the same torch version, thread count, encoder kernel and stacking (each run "
              "record's `encoder_kernel`: the fused CPU kernels, or plain torch where they "
              "cannot run, and `stacked_runs`, how many seeds of its arm were trained with it "
              "as one computation, `--stack`); on another machine float32 training "
              "differs in the last bits and the runs drift apart, so only statistics over "
              "seeds are comparable (`compare_with_stored` checks a re-run against these "
              "results within the seed interval).", "",
              _table_md(summary["table"]), f"Paper numbers: {PAPER_SOURCE}.", "",
              "## Acceptance checks", ""]
    if "sipt_beats_lm_on_all_high_lc" in acc:
        lines.append(f"- SIPT beats LM on all high-LC graphs: "
                     f"**{acc['sipt_beats_lm_on_all_high_lc']}** "
                     f"({len(acc['high_lc_rows_with_gain'])}/{len(acc['high_lc_rows'])}: "
                     f"{', '.join(acc['high_lc_rows_with_gain']) or 'none'})")
        ci = acc.get("mean_high_lc_gain_ci95")
        lines.append(f"- mean high-LC gain {_fmt(acc['mean_high_lc_gain'], ci, 3, sign=True)} "
                     f"(target ≥ 0.15): **{acc['mean_high_lc_gain_ge_0.15']}**")
        lines.append(f"- its 95% interval (Welch–Satterthwaite t over the independent rows) "
                     f"includes the paper's {PAPER_MEAN_HIGH_LC_GAIN:+.3f}: "
                     f"**{acc.get('mean_high_lc_gain_ci_includes_paper')}**")
    if "sipt_loses_on_structural" in acc:
        lines.append(f"- SIPT loses on STRUCTURAL: **{acc['sipt_loses_on_structural']}** "
                     f"(gain {_fmt(acc['structural_gain'], acc.get('structural_gain_ci95'), 3, sign=True)})")  # noqa: E501
    if "cliques_gain_shrinks_with_noise" in acc:
        lines.append(f"- CLIQUES gain shrinks with noise: "
                     f"**{acc['cliques_gain_shrinks_with_noise']}** (Spearman ρ(p, gain) = "
                     f"{_fmt(acc['noise_spearman'])}; gains "
                     + ", ".join(f"p={p}: {g:+.3f}" for p, g in acc["noise_gain"].items())
                     + ")")
    lines += ["", "## CLIQUES noise curve", "", _noise_md(agg),
              "## Calibration of the quick profile's word text", "", _calibration_section(),
              "## Mechanistic graphs: FT-task topology", "", _mechanistic_md(agg),
              "## Per experiment", "",
              f"Cells: {_CI_MEAN}; run time is the total over all runs.", "",
              "| experiment | n | runs | run time (s) | steps/s LM | steps/s SIPT | "
              "masked-token acc. LM | SIPT | final L_SI (SIPT) | same data in both arms |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for exp in EXPERIMENTS:
        if exp not in agg:
            continue
        a = agg[exp]
        r = a["run"]

        def f(metric, arm, digits, r=r):
            return _fmt(r[metric][arm]["mean"], r[metric][arm].get("ci95"), digits)

        lines.append(
            f"| {exp} | {len(a['seeds'])} | {a['n_runs']} | {a['wall_time_s']:.0f} | "
            f"{f('steps_per_second', 'lm', 0)} | {f('steps_per_second', 'sipt', 0)} | "
            f"{f('masked_token_accuracy', 'lm', 3)} | {f('masked_token_accuracy', 'sipt', 3)} | "
            f"{f('final_loss_si', 'sipt', 2)} | {a['paired_data_identical']} |")
    lines += ["", "Figures: " + ", ".join(summary["figures"]), ""]
    return "\n".join(lines)


#: Runs of one arm trained as one stacked computation on CPU
#: (:func:`sip_theory.models.train_together`), decided from cost: the quick
#: profile's five seeds of an arm in one group. Same-run ratios of training CPU time,
#: alone / stacked, 400 steps, one thread (experiments/benchmarks/bench_stacked.py,
#: results/bench_stacked.json): 1.8 for CLIQUES LM-only, 1.2-1.6 for CLIQUES SIPT,
#: 1.1-1.2 for PLANE SIPT (the wider manifold encoder is arithmetic-bound), 1.4 for
#: the mechanistic SIPT, 1.6-1.7 for MOBIUS LM-only.
DEFAULT_STACK = 5


def reproduce(profile: str = "quick", *, out_dir=None, only=None, jobs: int = 1,
              device: str = "cpu", resume: bool = True, progress: bool = True,
              command: str | None = None, overrides=None, stack: int | None = None) -> dict:
    """Run (or resume) a profile's synthetic experiments and write the report.

    Parameters
    ----------
    profile : {"quick", "paper", "smoke"}, default "quick"
    out_dir : str or path-like, optional
        Default ``experiments/results/<profile>`` under the current directory.
    only : str or sequence of str, optional
        Experiment name patterns (see :func:`profile_specs`).
    jobs : int, default 1
        Worker processes.
    device : {"cpu", "cuda"}, default "cpu"
    resume : bool, default True
        Skip runs already stored with the same configuration.
    progress : bool, default True
    command : str, optional
        Recorded in the summary.
    overrides : mapping of str to value, optional
        Dotted-key parameter changes for an ablation (see :func:`profile_specs`);
        they need an explicit ``out_dir`` so that an ablation never rewrites a
        profile's own results folder.
    stack : int, optional
        Up to this many runs (seeds) of one arm are trained together as one
        stacked computation; 1 trains every run alone. Default
        :data:`DEFAULT_STACK` on CPU, 1 on CUDA. Each run follows its own
        trajectory up to float32 rounding either way, which training amplifies:
        results agree with the other setting within the seed intervals, not
        digit for digit (each record has ``encoder_kernel.stacked_runs``).

    Returns
    -------
    dict
        :func:`summarize`'s summary (also written to ``summary.json``).

    Raises
    ------
    RunFailedError
        A run failed (e.g. a dataset could not be generated); the runs that
        succeeded are stored and the report is still written from them.
    """
    from ._runner import RunFailedError

    if overrides and out_dir is None:
        raise ValueError("overrides need an explicit out_dir (an ablation must not write "
                         "into the profile's own results folder)")
    out = Path(out_dir) if out_dir is not None else Path("experiments/results") / profile
    if stack is None:
        stack = DEFAULT_STACK if device == "cpu" else 1
    if isinstance(stack, bool) or not isinstance(stack, int) or stack < 1:
        raise ValueError(f"stack must be a positive integer, got {stack!r}")
    specs = profile_specs(profile, only=only, overrides=overrides)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    load0 = _loadavg()
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    error = None
    records = None
    try:
        # one torch thread per worker on CPU: these models are tiny, and intra-op
        # threads on shared cores slow them down many times over
        records = run_experiments(specs, out, jobs=jobs, device=device, resume=resume,
                                  progress=progress, group_size=stack,
                                  torch_threads=1 if device == "cpu" else None)
    except RunFailedError as exc:
        error = exc
    wall = time.perf_counter() - t0
    n_total = sum(len(s.runs()) for s in specs)
    n_resumed = (sum(bool(r.get("resumed")) for recs in records.values() for r in recs)
                 if records is not None else None)
    entry = {
        "command": command, "profile": profile, "only": only, "jobs": jobs, "device": device,
        "stack": stack, "overrides": dict(overrides) if overrides else None,
        "started": started, "wall_time_s": wall,
        "cpu_time_s": None if cpu0 is None else cpu_seconds() - cpu0,
        "runs_total": n_total, "runs_resumed": n_resumed,
        "runs_executed": None if n_resumed is None else n_total - n_resumed,
        "failed": None if error is None else str(error),
        "loadavg_start": load0, "loadavg_end": _loadavg(), "cpu_count": os.cpu_count(),
    }
    log_path = out / "invocations.json"
    try:
        log = json.loads(log_path.read_text())
    except (OSError, ValueError):
        log = []
    log.append(entry)
    atomic_write_json(log_path, log)
    summary = summarize(out, profile=profile, wall_time_s=wall, command=command)
    if error is not None:
        raise error
    return summary


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # pragma: no cover - platforms without getloadavg
        return None


def add_parser(subparsers) -> None:
    """Register ``sip-theory reproduce``."""
    p = subparsers.add_parser(
        "reproduce",
        help="run the paper's synthetic experiments (ours vs the paper)",
        description="Run the paper's synthetic experiments from generated data and write "
                    "a table of ours vs the paper, plots and a summary. Completed runs are "
                    "skipped (resume).")
    p.add_argument("--profile", choices=("quick", "paper", "smoke"), default="quick",
                   help="quick: minutes on a CPU; paper: the paper's sizes and steps (GPU); "
                        "smoke: a few steps, pipeline check (default: quick)")
    p.add_argument("--only", default=None, metavar="NAME",
                   help="comma-separated experiment names or patterns, e.g. 'cliques*,plane'; "
                        f"names: {', '.join(EXPERIMENTS)}")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default experiments/results/<profile>)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--stack", type=int, default=None, metavar="N",
                   help="train up to N seeds of an arm as one stacked computation "
                        f"(default {DEFAULT_STACK} on cpu, 1 on cuda; 1: every run alone)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="ablation: change a parameter of every experiment, e.g. "
                        "encoder.attention_dropout=0 (VALUE is read as JSON, else as text; "
                        "repeatable; needs --out)")
    p.add_argument("--no-resume", action="store_true", help="rerun completed runs")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_main)


def _main(args) -> int:
    from ._runner import RunFailedError

    parts = ["sip-theory reproduce", f"--profile {args.profile}"]
    if args.only:
        parts.append(f"--only {args.only}")
    if args.out:
        parts.append(f"--out {args.out}")
    if args.jobs != 1:
        parts.append(f"--jobs {args.jobs}")
    if args.device != "cpu":
        parts.append(f"--device {args.device}")
    if args.stack is not None:
        parts.append(f"--stack {args.stack}")
    overrides = {}
    for item in args.overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            print(f"sip-theory reproduce: --set expects KEY=VALUE, got {item!r}")
            return 2
        try:
            overrides[key.strip()] = json.loads(raw)
        except ValueError:
            overrides[key.strip()] = raw
        parts.append(f"--set {item}")
    try:
        summary = reproduce(args.profile, out_dir=args.out, only=args.only, jobs=args.jobs,
                            device=args.device, resume=not args.no_resume,
                            progress=not args.quiet, command=" ".join(parts),
                            overrides=overrides or None, stack=args.stack)
    except RunFailedError as exc:
        print(f"sip-theory reproduce: {exc}")
        return 1
    except ValueError as exc:
        print(f"sip-theory reproduce: {exc}")
        return 2
    out = args.out or f"experiments/results/{args.profile}"
    print(_table_md(summary["table"]))
    acc = summary["acceptance"]
    for key in ("sipt_beats_lm_on_all_high_lc", "mean_high_lc_gain", "mean_high_lc_gain_ci95",
                "mean_high_lc_gain_ci_includes_paper", "sipt_loses_on_structural",
                "cliques_gain_shrinks_with_noise"):
        if key in acc:
            print(f"{key}: {acc[key]}")
    print(f"wall time {summary['wall_time_s']:.0f} s; report in {out}/summary.md")
    return 0
