"""The landing page's dashboard is read from the stored summaries, and says "not run" for
what is not stored."""

import json
import shutil
from pathlib import Path

from sip_theory.experiments import dashboard_markdown, results_dashboard

STORED = Path(__file__).resolve().parents[2] / "experiments" / "results"


def test_rows_carry_the_stored_numbers():
    quick = json.loads((STORED / "quick" / "summary.json").read_text())["acceptance"]
    rows = {r.claim: r for r in results_dashboard(STORED)}
    gain = rows["mean 3-NN AUROC gain of SIPT over LM on the high-LC graphs (Fig. 5a)"]
    assert gain.quick.startswith(f"{quick['mean_high_lc_gain']:+.3f} ± ")
    assert gain.paper == f"{quick['paper_mean_high_lc_gain']:+.3f}"
    assert gain.reproduced.startswith("yes" if quick["mean_high_lc_gain_ci_includes_paper"]
                                      else "no")
    cora = json.loads((STORED / "cora" / "summary.json").read_text())
    raw = cora["arms"]["raw"]["metrics"]["test_edges.lrap"]["mean"]
    lrap = rows["SIPT improves held-out link retrieval over the raw features (LRAP)"]
    assert f"raw {raw:.3f}" in lrap.real_data


def test_a_missing_profile_reads_not_run_and_appears_once_stored(tmp_path):
    shutil.copytree(STORED / "quick", tmp_path / "quick", ignore=shutil.ignore_patterns("*_*"))
    rows = results_dashboard(tmp_path)
    assert rows[0].paper_profile == "not run" and rows[0].quick != "not run"
    (tmp_path / "paper-gpu").mkdir()
    shutil.copy(tmp_path / "quick" / "summary.json", tmp_path / "paper-gpu" / "summary.json")
    assert results_dashboard(tmp_path)[0].paper_profile == rows[0].quick
    text = dashboard_markdown(tmp_path)
    assert "- Cora case study: not run" in text and "(synthetic_experiments.md)" in text
