"""Seed intervals in the synthetic summary and the re-run check against stored results."""

import json
import math

import pytest
from scipy.stats import t

from sip_theory.experiments import (
    PAPER_MEAN_HIGH_LC_GAIN,
    RunSpec,
    compare_with_stored,
    comparison_md,
    summarize,
)
from sip_theory.experiments._reproduce_summary import _mean_of_means_ci95
from sip_theory.experiments._summary_tools import seed_stats

T2 = 4.302652729911275  # t_{0.975, 2}


# ----------------------------------------------------------------- fake run records
def write_fake(root, exp, values, *, tasks=("topic",), params=None, metric="knn3_pt_auroc"):
    """Write ``root/exp/{spec.json, runs/*.json}`` as the runner does.

    ``values`` maps arm -> {seed: value}; the value goes into every label set of
    ``tasks`` (``metric``) and into the run-level metrics.
    """
    params = {"p": 1} if params is None else params
    arms = {"lm": {"lambda_si": 0.0}, "sipt": {"lambda_si": 0.1}}
    seeds = sorted({s for v in values.values() for s in v})
    exp_dir = root / exp
    (exp_dir / "runs").mkdir(parents=True, exist_ok=True)
    (exp_dir / "spec.json").write_text(json.dumps(
        {"name": exp, "task": "synthetic", "params": params,
         "arms": {a: arms[a] for a in values}, "seeds": seeds}))
    for arm, by_seed in values.items():
        for seed, v in by_seed.items():
            run = RunSpec(exp, "synthetic", arm, seed, {**params, **arms[arm]})
            rec = {
                "run_id": run.run_id, "config": run.to_dict(), "status": "ok",
                "wall_time_s": 1.0,
                "dataset": {"task": tasks[0], "eval_tasks": list(tasks),
                            "graph_hash": f"g{seed}"},
                "metrics": {**{task: {metric: v, "lc": 0.9} for task in tasks},
                            "masked_token_accuracy": v / 10, "final_loss_si": 1.0,
                            "steps_per_second": 100.0},
            }
            (exp_dir / "runs" / f"{run.run_id}.json").write_text(json.dumps(rec))


# ----------------------------------------------------------------- seed_stats
def test_stats_of_one_value_has_no_interval():
    s = seed_stats([0.5])
    assert (s["mean"], s["std"], s["ci95"], s["n"]) == (0.5, 0.0, None, 1)


def test_stats_of_two_values_uses_t_with_one_degree_of_freedom():
    s = seed_stats([1.0, 3.0])
    # sample sd sqrt(2), standard error 1, t_{0.975, 1} = 12.706...
    assert (s["mean"], s["std"], s["n"]) == (2.0, 1.0, 2)
    assert s["ci95"] == pytest.approx(12.706204736174694)


def test_stats_of_three_values():
    s = seed_stats([1.0, 2.0, 3.0])
    assert s["ci95"] == pytest.approx(T2 / math.sqrt(3))  # sample sd 1
    assert s["std"] == pytest.approx(math.sqrt(2 / 3))  # population std kept


def test_stats_of_a_constant_column_is_exact():
    s = seed_stats([0.2, 0.2, 0.2])
    assert (s["mean"], s["std"], s["ci95"], s["n"]) == (0.2, 0.0, 0.0, 3)


def test_stats_leave_out_none_and_nan():
    s = seed_stats([None, 2.0, None, 4.0, float("nan")])
    assert (s["mean"], s["n"]) == (3.0, 2)
    assert s["values"] == [None, 2.0, None, 4.0, None]
    empty = seed_stats([None, None])
    assert (empty["mean"], empty["std"], empty["ci95"], empty["n"]) == (None, None, None, 0)


def test_mean_of_independent_row_means_uses_welch_satterthwaite():
    a, b = [1.0, 2.0, 3.0], [0.0, 0.0, 3.0]
    va, vb = 1.0 / 3, 3.0 / 3  # s^2 / n of each row
    se2 = (va + vb) / 4
    dof = se2**2 / ((va / 4) ** 2 / 2 + (vb / 4) ** 2 / 2)
    assert _mean_of_means_ci95([a, b]) == pytest.approx(t.ppf(0.975, dof) * math.sqrt(se2))
    assert _mean_of_means_ci95([a]) == pytest.approx(seed_stats(a)["ci95"])  # one row: plain t
    assert _mean_of_means_ci95([a, [1.0]]) is None
    assert _mean_of_means_ci95([[1.0, 1.0], [2.0, 2.0]]) == 0.0


# ----------------------------------------------------------------- summary tables
def test_summary_tables_show_intervals_and_seed_counts(tmp_path):
    lm = {0: 0.60, 1: 0.62, 2: 0.58}
    sipt = {0: 0.80, 1: 0.85, 2: 0.75}  # gains 0.20, 0.23, 0.17: sd 0.03
    write_fake(tmp_path, "cliques_p00", {"lm": lm, "sipt": sipt})
    write_fake(tmp_path, "mech_structural", {"lm": lm, "sipt": sipt},
               tasks=("structural", "motif", "neighborhood"))
    summary = summarize(tmp_path)

    gain = summary["experiments"]["cliques_p00"]["tasks"]["topic"]["knn3_pt_auroc"]["gain"]
    ci = T2 * 0.03 / math.sqrt(3)
    assert gain["mean"] == pytest.approx(0.2) and gain["ci95"] == pytest.approx(ci)
    assert gain["std"] == pytest.approx(math.sqrt(0.0018 / 3))  # population std still there
    row = {r["graph"]: r for r in summary["table"]}["CLIQUES"]
    assert row["n"] == 3 and row["gain_ci95"] == pytest.approx(ci) and "gain_std" in row

    table = (tmp_path / "table.md").read_text()
    assert "95% t-interval half-width over n paired seeds" in table
    assert "| G_PT | n |" in table
    assert "| CLIQUES | 3 |" in table and "+0.20 ± 0.07" in table and "0.60 ± 0.05" in table
    mech = (tmp_path / "mechanistic.md").read_text()
    assert "95% t-interval" in mech and "| structural | structural | 3 |" in mech
    assert "+0.200 ± 0.075" in mech
    text = (tmp_path / "summary.md").read_text()
    assert "| 0.00 | 3 |" in text  # noise curve
    assert "| cliques_p00 | 3 | 6 |" in text  # per experiment
    assert "bit-identical" in text and "identical to the committed" not in text
    assert text.count("±") > 10

    acc = summary["acceptance"]
    # the mean gain keeps its old key and comparison; the new line adds its interval
    assert acc["mean_high_lc_gain"] == pytest.approx(0.2)
    assert acc["mean_high_lc_gain_ge_0.15"] is True
    assert acc["mean_high_lc_gain_ci95"] == pytest.approx(ci)  # one high-LC row: plain t
    assert acc["paper_mean_high_lc_gain"] == pytest.approx(PAPER_MEAN_HIGH_LC_GAIN)
    assert PAPER_MEAN_HIGH_LC_GAIN == pytest.approx(1.87 / 7)
    assert acc["mean_high_lc_gain_ci_includes_paper"] is True  # |0.2 - 0.267| <= 0.075
    assert "includes the paper's +0.267: **True**" in text


def test_summary_with_one_seed_states_n_and_gives_no_interval(tmp_path):
    write_fake(tmp_path, "cliques_p00", {"lm": {0: 0.6}, "sipt": {0: 0.9}})
    summary = summarize(tmp_path)
    assert summary["acceptance"]["mean_high_lc_gain_ci95"] is None
    assert summary["acceptance"]["mean_high_lc_gain_ci_includes_paper"] is None
    table = (tmp_path / "table.md").read_text()
    assert "| CLIQUES | 1 |" in table and "| 0.60 | 0.90 | +0.30 |" in table


# ----------------------------------------------------------------- compare_with_stored
STORED = {0: 0.70, 1: 0.75, 2: 0.80}


def _shifted(values, by):
    return {s: v + d for (s, v), d in zip(values.items(), by, strict=True)}


def test_a_rerun_within_the_seed_noise_passes(tmp_path):
    write_fake(tmp_path / "stored", "plane", {"sipt": STORED}, tasks=("vertex",))
    write_fake(tmp_path / "rerun", "plane", {"sipt": _shifted(STORED, (0.01, -0.02, 0.012))},
               tasks=("vertex",))
    (row,) = compare_with_stored(tmp_path / "stored", tmp_path / "rerun")
    assert (row["experiment"], row["arm"], row["task"], row["n"]) == ("plane", "sipt", "vertex", 3)
    assert row["stored_mean"] == pytest.approx(0.75)
    assert row["stored_ci95"] == pytest.approx(T2 * 0.05 / math.sqrt(3))
    assert row["diff"] == pytest.approx(0.002 / 3)
    assert row["diff_ci95"] == pytest.approx(seed_stats([0.01, -0.02, 0.012])["ci95"])
    assert row["max_abs_diff"] == pytest.approx(0.02)
    assert row["bit_identical"] is False and row["consistent"] is True
    assert row["config_differences"] == []


def test_a_shifted_rerun_fails(tmp_path):
    write_fake(tmp_path / "stored", "plane", {"sipt": STORED}, tasks=("vertex",))
    write_fake(tmp_path / "rerun", "plane",
               {"sipt": _shifted(STORED, (0.051, 0.049, 0.05))}, tasks=("vertex",))
    (row,) = compare_with_stored(tmp_path / "stored", tmp_path / "rerun")
    assert row["diff"] == pytest.approx(0.05) and row["diff_ci95"] < 0.01
    assert row["consistent"] is False
    # the shift is smaller than the stored results' own interval: comparing the means
    # with the stored spread alone would have missed it; pairing by seed does not
    assert abs(row["diff"]) < row["stored_ci95"]
    assert "**no**" in comparison_md([row])


def test_a_bit_identical_rerun_passes_even_with_one_seed(tmp_path):
    write_fake(tmp_path / "stored", "plane", {"lm": {0: 0.6}, "sipt": {0: 0.9}})
    write_fake(tmp_path / "same", "plane", {"lm": {0: 0.6}, "sipt": {0: 0.9}})
    write_fake(tmp_path / "other", "plane", {"lm": {0: 0.6}, "sipt": {0: 0.93}})
    rows = compare_with_stored(tmp_path / "stored", tmp_path / "same")
    assert [(r["arm"], r["n"], r["diff"], r["bit_identical"], r["consistent"]) for r in rows] == [
        ("lm", 1, 0.0, True, True), ("sipt", 1, 0.0, True, True)]
    # one seed that differs: no interval, so no verdict
    lm, sipt = compare_with_stored(tmp_path / "stored", tmp_path / "other")
    assert lm["consistent"] is True
    assert sipt["diff"] == pytest.approx(0.03) and sipt["diff_ci95"] is None
    assert sipt["consistent"] is None and "n/a (n < 2)" in comparison_md([sipt])


def test_compare_pairs_common_seeds_and_reports_config_differences(tmp_path):
    write_fake(tmp_path / "stored", "plane", {"sipt": STORED})
    write_fake(tmp_path / "stored", "torus", {"sipt": STORED})
    write_fake(tmp_path / "rerun", "plane", {"sipt": {1: 0.75, 2: 0.80, 3: 0.1}},
               params={"p": 1, "code_version": 2})
    write_fake(tmp_path / "rerun", "torus", {"sipt": STORED})
    rows = compare_with_stored(tmp_path / "stored", tmp_path / "rerun", experiments="plane")
    (row,) = rows
    assert row["seeds"] == [1, 2] and row["seeds_only_stored"] == [0]
    assert row["seeds_only_rerun"] == [3]
    assert row["stored_mean"] == pytest.approx(0.775)  # over the common seeds only
    assert row["bit_identical"] is True and row["config_differences"] == ["params.code_version"]
    assert "params.code_version" in comparison_md(rows)
    assert len(compare_with_stored(tmp_path / "stored", tmp_path / "rerun")) == 2
    # a re-run whose seed generated other data breaks the pairing: flagged
    rec_path = next((tmp_path / "rerun" / "torus" / "runs").glob("*seed1*.json"))
    rec = json.loads(rec_path.read_text())
    rec["dataset"]["graph_hash"] = "other"
    rec_path.write_text(json.dumps(rec))
    (torus,) = compare_with_stored(tmp_path / "stored", tmp_path / "rerun", experiments=["torus"])
    assert torus["same_data"] is False and torus["bit_identical"] is True


def test_compare_reads_run_level_metrics_and_other_label_sets(tmp_path):
    tasks = ("structural", "motif")
    write_fake(tmp_path / "stored", "mech_structural", {"lm": STORED}, tasks=tasks)
    write_fake(tmp_path / "rerun", "mech_structural", {"lm": STORED}, tasks=tasks)
    (row,) = compare_with_stored(tmp_path / "stored", tmp_path / "rerun",
                                 metric="masked_token_accuracy")
    assert row["stored_mean"] == pytest.approx(0.075) and row["consistent"] is True
    assert row["task"] is None and "| masked_token_accuracy |" in comparison_md([row])
    (row,) = compare_with_stored(tmp_path / "stored", tmp_path / "rerun", task="motif")
    assert row["task"] == "motif" and row["n"] == 3
    (row,) = compare_with_stored(tmp_path / "stored", tmp_path / "rerun", metric="nope")
    assert row["n"] == 0 and row["consistent"] is None
