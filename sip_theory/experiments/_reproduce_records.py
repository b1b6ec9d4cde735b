"""The stored run records of the synthetic experiments and their aggregates over seeds.

:func:`load_records` reads every successful record whose configuration matches
its experiment's ``spec.json``; ``_aggregate`` pairs the two arms of an
experiment by seed (mean, std, 95% t-interval and per-seed values of each arm
and of the SIPT - LM gain), and ``_get`` reads one number of it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ._summary_tools import lookup, seed_stats

__all__ = ["load_records"]

_MAIN_METRICS = ("knn3_pt_auroc", "knn3_pt_accuracy", "knn3_ft_auroc", "knn3_ft_accuracy",
                 "linear_accuracy", "linear_auroc", "lc", "lc_ft", "rnn_accuracy",
                 "recovered", "recovery_margin", "best_f1")
_RUN_METRICS = ("masked_token_accuracy", "final_loss_m", "final_loss_si", "homophily",
                "steps_per_second")


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


def _get(agg, exp, task, metric, arm, key="mean"):
    """One number of the aggregates (:func:`_aggregate` per experiment); None when absent."""
    return lookup(agg, (exp, "tasks", task, metric, arm, key), default=None)
