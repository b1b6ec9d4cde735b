"""The calibration of the quick profile's word text against the character text (smoke sizes)."""

import json

import pytest

from sip_theory.experiments import (
    calibrate,
    calibration_markdown,
    calibration_specs,
    profile_specs,
)


def test_specs_are_the_quick_experiments_with_each_text_kind():
    specs = {s.name: s for s in calibration_specs()}
    assert list(specs) == ["cliques_p00__words", "cliques_p00__characters", "plane__words",
                           "plane__characters"]
    quick = {s.name: s for s in profile_specs("quick", only="cliques_p00,plane")}
    for name, spec in specs.items():
        exp, kind = name.split("__")
        assert spec.params["text"] == {"kind": kind}
        assert {k: v for k, v in spec.params.items() if k != "text"} == quick[exp].params
        assert spec.arms == quick[exp].arms and spec.seeds == (0, 1, 2)
    # the two texts of a graph never share a run id
    ids = [r.run_id for s in specs.values() for r in s.runs()]
    assert len(set(ids)) == len(ids) == 4 * 2 * 3
    assert calibration_specs(seeds=1, smoke=True)[0].params["train"]["max_steps"] == 3
    with pytest.raises(ValueError, match="seeds"):
        calibration_specs(seeds=0)


def test_smoke_calibration_writes_both_files_and_resumes(tmp_path):
    from sip_theory.cli import main

    assert main(["calibrate", "--smoke", "--seeds", "2", "--jobs", "1", "--quiet",
                 "--out", str(tmp_path)]) == 0
    rec = json.loads((tmp_path / "calibration.json").read_text())
    assert rec["config"]["seeds"] == [0, 1] and rec["config"]["profile"] == "smoke"
    assert {"numpy", "scipy", "torch", "sip_theory"} <= set(rec["versions"])
    assert len(rec["per_run"]) == 4 * 2 * 2
    assert rec["invocations"][-1]["runs_executed"] == 16
    rows = {(r["experiment"], r["text_kind"]): r for r in rec["summary"]}
    assert list(rows) == [("cliques_p00", "words"), ("cliques_p00", "characters"),
                          ("plane", "words"), ("plane", "characters")]
    for (_, kind), r in rows.items():
        assert r["gain"]["n"] == 2 and r["gain"]["half_width"] is not None
        lm, sipt = r["lm"]["knn3_pt_auroc"], r["sipt"]["knn3_pt_auroc"]
        assert r["gain"]["mean"] == pytest.approx(sipt["mean"] - lm["mean"])
        width = r["mean_sequence_width"]["mean"]
        assert width == 18 if kind == "words" else width > 40
        assert r["lm"]["masked_token_accuracy"]["mean"] is not None
    md = (tmp_path / "calibration.md").read_text()
    assert md == calibration_markdown(tmp_path)
    assert md.count("| CLIQUES (p = 0) |") == 4 and "(n = 2)" in md  # summary + per seed
    run_file = next((tmp_path / "plane__characters" / "runs").glob("*.json"))
    mtime = run_file.stat().st_mtime_ns
    again = calibrate(tmp_path, jobs=1, seeds=2, smoke=True, progress=False)
    assert run_file.stat().st_mtime_ns == mtime  # nothing rerun
    assert [i["runs_executed"] for i in again["invocations"]] == [16, 0]
    assert again["summary"] == rec["summary"]


def test_one_seed_has_no_interval(tmp_path):
    rec = calibrate(tmp_path, jobs=1, seeds=1, smoke=True, progress=False)
    assert all(r["gain"]["n"] == 1 and r["gain"]["half_width"] is None for r in rec["summary"])
    assert "± n/a (n = 1)" in calibration_markdown(tmp_path)


def test_t_interval_half_width():
    from sip_theory.experiments._calibration import _mean_ci

    s = _mean_ci([1.0, 2.0, 3.0])
    # sd 1, n 3: t(0.975, 2) = 4.303 -> 4.303 / sqrt(3)
    assert s["mean"] == 2.0 and s["n"] == 3
    assert s["half_width"] == pytest.approx(2.4841, abs=1e-4)
    assert _mean_ci([None, 0.5]) == {"mean": 0.5, "half_width": None, "n": 1}


def test_markdown_without_a_calibration_names_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="sip-theory calibrate"):
        calibration_markdown(tmp_path)


def test_cli_registers_calibrate():
    from sip_theory.cli import build_parser

    args = build_parser().parse_args(["calibrate"])
    assert (args.out, args.jobs, args.seeds, args.smoke) == \
        ("experiments/results/calibration", 2, 3, False)
