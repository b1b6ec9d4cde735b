"""The theorem-in-action experiment: pipeline (smoke), checks of the theorem, resumption."""

import json

import numpy as np

from sip_theory.experiments._theorem import (
    THEOREM_LAMBDAS,
    premise_and_conclusion,
    theorem_specs,
)
from sip_theory.experiments._theorem_command import run_theorem_experiment
from sip_theory.graphs import cliques_from_labels


def test_grid_has_every_lambda_dropout_graph_and_ten_seeds():
    specs = theorem_specs()
    assert len(specs) == 6 and all(len(s.seeds) == 10 for s in specs)
    assert sorted(a["lambda_si"] for a in specs[0].arms.values()) == sorted(THEOREM_LAMBDAS)
    assert {s.params["attention_dropout"] for s in specs} == {0.0, 0.1}


def test_premise_and_conclusion_on_a_realization_and_off_it():
    y = np.repeat([0, 1, 2], 3)
    g = cliques_from_labels(y)
    emb = np.repeat(np.eye(3) * 5, 3, axis=0) + np.arange(9)[:, None] * 1e-3
    out = premise_and_conclusion(emb, g, {"y": y})
    assert out["realized"] and out["n_violating_pairs"] == 0 and out["tasks"]["y"]["gap"] == 0.0
    rng = np.random.default_rng(0)
    off = premise_and_conclusion(rng.normal(size=(9, 3)), g, {"y": y})
    t = off["tasks"]["y"]
    assert not off["realized"] and t["lower"] <= t["gap"] <= t["upper"]
    assert abs(t["gap"]) <= t["touched_fraction"]


def test_smoke_run_writes_summary_figures_and_resumes(tmp_path):
    s = run_theorem_experiment(tmp_path, seeds=1, graphs=["cliques"], smoke=True,
                               progress=False)
    assert s["n_runs"] == 10  # 5 lambdas x 2 dropouts x 1 seed
    assert s["checks"]["n_outside_proved_range"] == 0
    assert s["checks"]["n_realized_with_nonzero_gap"] == 0
    for f in s["figures"] + ["summary.md", "summary.json"]:
        assert (tmp_path / f).stat().st_size > 0
    rec = json.loads(next((tmp_path / "cliques__attn0p1" / "runs").glob("*.json")).read_text())
    assert [c["step"] for c in rec["checkpoints"]][0] == 0 and rec["final"]["step"] == 4
    before = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/runs/*.json")}
    run_theorem_experiment(tmp_path, seeds=1, graphs=["cliques"], smoke=True, progress=False)
    assert before == {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/runs/*.json")}


def test_worker_processes_know_the_task(tmp_path):
    # spawned workers import sip_theory.experiments, which must register "theorem"
    s = run_theorem_experiment(tmp_path, seeds=1, graphs=["cliques"], smoke=True, jobs=2,
                               progress=False)
    assert s["n_runs"] == 10 and not list(tmp_path.glob("*/runs/*.failed.json"))
