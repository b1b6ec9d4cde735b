"""The synthetic summary: ours vs the paper, acceptance checks, tables and ``summary.md``.

:func:`summarize` reads every stored run record under a results folder
(:func:`~._reproduce_records.load_records`) and writes there:

* ``table.md`` / ``table.csv``: ours vs the paper (:data:`PAPER_FIG5A`), 3-NN
  macro AUROC of both arms with the LC of each graph (Theorem 1's prediction);
* ``mechanistic.md``: the 3x3 FT-task topology grid vs :data:`PAPER_MECHANISTIC`;
* ``noise_curve.png``, ``lc_vs_gain.png``, ``mobius_pca.png``, ``rank_vs_auroc.png``
  (:mod:`._reproduce_figures`);
* ``summary.json`` (every aggregate, per-seed raw values, acceptance checks,
  wall times) and ``summary.md``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

import numpy as np

from .._atomic import atomic_write_json, atomic_write_text
from ._paper_numbers import (
    PAPER_FIG5A,
    PAPER_MEAN_HIGH_LC_GAIN,
    PAPER_MECHANISTIC,
    PAPER_NOISE_CURVE,
    PAPER_SOURCE,
)
from ._profiles import EXPERIMENTS, NOISE_LEVELS, QUICK_SCHEDULE
from ._reproduce_figures import (
    plot_lc_vs_gain,
    plot_mobius_pca,
    plot_noise_curve,
    plot_rank_vs_auroc,
)
from ._reproduce_records import _aggregate, _get, load_records
from ._runner import library_versions
from ._summary_tools import fmt_mean as _fmt
from ._summary_tools import t_half_width

__all__ = ["CI_NOTE", "summarize"]

#: What every ``±`` in the written tables means.
_CI_MEAN = ("mean ± 95% t-interval half-width over n paired seeds (t quantile with n − 1 "
            "degrees of freedom times the ddof = 1 standard error, none for n = 1)")
CI_NOTE = (f"{_CI_MEAN}; the gain is SIPT − LM paired by seed, with the interval of the "
           "per-seed differences")


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
