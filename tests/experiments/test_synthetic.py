"""The synthetic experiments: measurement on a hand-made case, end-to-end smoke run, resume,
failed generation, profile specifications and the CLI entry point."""

import json

import numpy as np
import pytest

from sip_theory.experiments import (
    ExperimentSpec,
    RunFailedError,
    measure_embeddings,
    profile_specs,
    reproduce,
    run_experiment,
)
from sip_theory.graphs import SampleGraph, cliques_from_labels


# ----------------------------------------------------------------- measurement
def _two_cliques_case():
    # PT nodes 0..5: two triangles-plus; FT nodes 6, 7 linked to one clique each.
    y_pt = np.array([0, 0, 0, 1, 1, 1])
    pt_graph = cliques_from_labels(y_pt)
    emb_pt = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1],
                       [5.0, 5.0], [5.1, 5.0], [5.0, 5.1]])
    return y_pt, pt_graph, emb_pt


def test_measurement_of_a_perfectly_separated_embedding():
    y_pt, pt_graph, emb_pt = _two_cliques_case()
    m = measure_embeddings(emb_pt, pt_graph, {"y": y_pt})["y"]
    assert m["knn3_pt_accuracy"] == 1.0 and m["knn3_pt_auroc"] == 1.0
    assert m["lc"] == 1.0 and m["recovered"] and m["identity_holds"]
    assert m["rnn_accuracy"] == m["lc"]
    assert m["recovery_margin"] > 0


def test_measurement_of_heldout_nodes_uses_their_pt_neighbours():
    y_pt, _, emb_pt = _two_cliques_case()
    # full graph: PT cliques + FT node 6 linked to PT 0,1 (label 0, agrees)
    # and FT node 7 linked to PT 0 (label 1, disagrees with its PT neighbour)
    edges = [(0, 1), (0, 2), (1, 2), (3, 4), (3, 5), (4, 5), (6, 0), (6, 1), (7, 0)]
    graph = SampleGraph.from_edges(np.array(edges), n_nodes=8)
    pt_graph = graph.subgraph(np.arange(6))
    emb_ft = np.array([[0.05, 0.05], [5.05, 5.05]])  # node 7 embedded with class 1
    y_ft = np.array([0, 1])
    m = measure_embeddings(emb_pt, pt_graph, {"y": y_pt}, emb_ft=emb_ft, labels_ft={"y": y_ft},
                           graph=graph, pt_nodes=np.arange(6), ft_nodes=np.array([6, 7]))["y"]
    assert m["knn3_ft_accuracy"] == 1.0 and m["knn3_ft_auroc"] == 1.0
    assert m["lc_ft"] == 0.5  # node 6 agrees with its PT neighbours, node 7 does not
    assert m["linear_accuracy"] == 1.0


def test_measurement_of_a_mixed_embedding_reports_failed_recovery():
    y_pt, pt_graph, emb_pt = _two_cliques_case()
    swapped = emb_pt[[0, 1, 3, 2, 4, 5]]  # nodes 2 and 3 trade places
    m = measure_embeddings(swapped, pt_graph, {"y": y_pt})["y"]
    assert not m["recovered"] and m["identity_holds"] is None
    assert m["knn3_pt_accuracy"] < 1.0 and m["lc"] == 1.0


def test_measurement_rejects_embeddings_of_the_wrong_shape():
    y_pt, pt_graph, emb_pt = _two_cliques_case()
    with pytest.raises(ValueError, match="emb_pt"):
        measure_embeddings(emb_pt[:4], pt_graph, {"y": y_pt})


# ----------------------------------------------------------------- profiles
def test_profiles_pair_the_two_arms_on_the_same_seeds():
    for profile in ("quick", "paper"):
        for spec in profile_specs(profile):
            assert {k: v["lambda_si"] for k, v in spec.arms.items()} == {"lm": 0.0, "sipt": 0.1}
            runs = spec.runs()
            assert sorted(r.seed for r in runs if r.arm == "lm") == \
                sorted(r.seed for r in runs if r.arm == "sipt")


def test_paper_profile_follows_the_paper_schedule():
    specs = {s.name: s for s in profile_specs("paper")}
    assert specs["cliques_p15"].params["train"]["max_steps"] == 8000
    assert len(specs["cliques_p15"].seeds) == 6
    assert specs["torus"].params["encoder"]["preset"] == "manifold"
    assert specs["torus"].params["train"]["epochs"] == 1500
    assert specs["torus"].params["train"]["batch_size"] == 16
    assert specs["mech_structural"].params["train"]["max_steps"] == 5000


def test_paper_profile_reads_characters_and_quick_words_with_five_seeds():
    from sip_theory.experiments import QUICK_SCHEDULE

    for spec in profile_specs("paper"):
        assert spec.params["text"] == {"kind": "characters"}
    for spec in profile_specs("quick"):
        assert "text" not in spec.params and spec.seeds == (0, 1, 2, 3, 4)
    for spec in profile_specs("smoke"):
        assert "text" not in spec.params and spec.seeds == (0,)
    why = QUICK_SCHEDULE["why"]
    assert "16 word tokens" in why and "calibration" in why and "5 seeds" in why


def test_only_selects_experiments_by_pattern():
    assert [s.name for s in profile_specs("quick", only="mech_*,plane")] == \
        ["plane", "mech_motif", "mech_neighborhood", "mech_structural"]
    with pytest.raises(ValueError, match="matches none"):
        profile_specs("quick", only="nothing")


# ----------------------------------------------------------------- end to end
def test_smoke_profile_writes_every_output_and_resume_skips(tmp_path):
    only = "cliques_p00,cliques_p50,mobius,mech_structural"
    summary = reproduce("smoke", out_dir=tmp_path, only=only, progress=False)
    for name in ("table.md", "table.csv", "summary.json", "summary.md", "mechanistic.md",
                 "noise_curve.png", "lc_vs_gain.png", "mobius_pca.png", "rank_vs_auroc.png",
                 "invocations.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    rows = {r["graph"]: r for r in summary["table"]}
    assert set(rows) == {"CLIQUES", "MOBIUS", "STRUCTURAL"}
    rec_path = next((tmp_path / "mobius" / "runs").glob("*.json"))
    rec = json.loads(rec_path.read_text())
    assert rec["dataset"]["graph_hash"] and rec["versions"]["torch"]
    assert {"knn3_pt_auroc", "lc", "rnn_accuracy"} <= set(rec["metrics"]["vertex"])
    mtime = rec_path.stat().st_mtime_ns
    again = reproduce("smoke", out_dir=tmp_path, only=only, progress=False)
    assert rec_path.stat().st_mtime_ns == mtime  # not rerun
    assert again["table"] == summary["table"]
    log = json.loads((tmp_path / "invocations.json").read_text())
    assert [e["runs_executed"] for e in log] == [8, 0]


def test_failed_generation_raises_and_trains_nothing(tmp_path):
    # 3 PT points on the sphere can never carry all 10 vertex labels: GenerationError
    spec = ExperimentSpec("bad", "synthetic", params={
        "family": "sphere", "dataset": {"n_pt": 3, "max_attempts": 2},
        "train": {"max_steps": 1}}, arms={"sipt": {"lambda_si": 0.1}}, seeds=[0])
    with pytest.raises(RunFailedError, match="GenerationError"):
        run_experiment(spec, tmp_path, progress=False)
    runs = tmp_path / "bad" / "runs"
    assert all(p.name.endswith(".failed.json") for p in runs.iterdir())  # no ok record
    failed = json.loads(next(runs.glob("*.failed.json")).read_text())
    assert "history" not in failed and "metrics" not in failed


def test_overrides_change_every_experiment_and_its_run_ids():
    base = profile_specs("quick", only="cliques_p00")[0]
    abl = profile_specs("quick", only="cliques_p00",
                        overrides={"encoder.attention_dropout": 0.0, "text.length": 8})[0]
    assert base.params["encoder"]["attention_dropout"] == 0.1  # the official code's
    assert abl.params["encoder"]["attention_dropout"] == 0.0
    assert abl.params["encoder"]["preset"] == "tiny" and abl.params["text"] == {"length": 8}
    assert {r.run_id for r in base.runs()}.isdisjoint(r.run_id for r in abl.runs())
    for bad in ({"lambda_si": 0.5}, {"encoder": 1}, {"train..lr": 1}, {"family.x": 1}):
        with pytest.raises(ValueError, match="overrides key"):
            profile_specs("quick", overrides=bad)


def test_an_ablation_needs_its_own_output_folder():
    with pytest.raises(ValueError, match="out_dir"):
        reproduce("smoke", only="plane", overrides={"train.lr": 1e-3}, progress=False)


def test_cli_set_runs_an_ablation_and_records_it(tmp_path, capsys):
    from sip_theory.cli import main

    code = main(["reproduce", "--profile", "smoke", "--only", "cliques_p50", "--quiet",
                 "--out", str(tmp_path), "--set", "encoder.attention_dropout=0",
                 "--set", "train.grad_clip=1.5"])
    assert code == 0
    rec = json.loads(next((tmp_path / "cliques_p50" / "runs").glob("*.json")).read_text())
    assert rec["encoder_config"]["attention_dropout"] == 0.0
    assert rec["trainer_config"]["grad_clip"] == 1.5
    log = json.loads((tmp_path / "invocations.json").read_text())
    assert log[-1]["overrides"] == {"encoder.attention_dropout": 0, "train.grad_clip": 1.5}
    assert main(["reproduce", "--profile", "smoke", "--set", "oops"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().out


def test_cli_registers_reproduce():
    from sip_theory.cli import build_parser

    args = build_parser().parse_args(["reproduce", "--profile", "smoke", "--only", "plane",
                                      "--jobs", "2"])
    assert args.profile == "smoke" and args.only == "plane" and args.jobs == 2


def test_summary_leaves_out_experiments_without_a_paired_seed(tmp_path):
    from sip_theory.experiments import summarize

    reproduce("smoke", out_dir=tmp_path, only="cliques_p50,plane", progress=False)
    next((tmp_path / "plane" / "runs").glob("*sipt*.json")).unlink()  # an interrupted arm
    summary = summarize(tmp_path)
    assert summary["experiments_without_paired_seeds"] == ["plane"]
    assert [r["graph"] for r in summary["table"]] == []  # CLIQUES row is p = 0 only
    assert "cliques_p50" in summary["experiments"]


def test_seeds_of_an_arm_train_stacked_and_agree_with_single_runs(tmp_path):
    from sip_theory.models._native import native_available

    spec = profile_specs("smoke", only="cliques_p00")[0]
    spec = ExperimentSpec(spec.name, spec.task, params={**spec.params, "n_curve": 2,
                                                        "train": {**spec.params["train"],
                                                                  "max_steps": 4}},
                          arms=spec.arms, seeds=[0, 1, 2])
    alone = run_experiment(spec, tmp_path / "alone", progress=False)
    stacked = run_experiment(spec, tmp_path / "stacked", progress=False, group_size=3)
    want = 3 if native_available() else 1
    for a, s in zip(alone, stacked, strict=True):
        assert a["run_id"] == s["run_id"]
        assert a["encoder_kernel"]["stacked_runs"] == 1
        assert s["encoder_kernel"]["stacked_runs"] == want and s["group"]["size"] == 3
        # 4 steps: the same trajectory up to float32 rounding (AdamW amplifies it later)
        assert s["metrics"]["final_loss"] == pytest.approx(a["metrics"]["final_loss"], rel=1e-3)
        assert len(s["curve"]) == len(a["curve"])
        assert s["metrics"]["steps"] == a["metrics"]["steps"] == 4


def test_reproduce_refuses_a_bad_stack():
    for bad in (0, -2, True):
        with pytest.raises(ValueError, match="stack"):
            reproduce("smoke", only="plane", stack=bad, progress=False)


def test_lm_arms_of_the_noise_sweep_train_once_and_are_measured_on_their_own_graphs(tmp_path):
    from sip_theory.experiments import run_experiments

    specs = [ExperimentSpec(s.name, s.task, params={**s.params, "n_curve": 2,
                                                     "train": {**s.params["train"],
                                                               "max_steps": 4}},
                            arms={"lm": s.arms["lm"]}, seeds=[0, 1])
             for s in profile_specs("smoke", only="cliques_p00,cliques_p50")]
    alone = run_experiments(specs, tmp_path / "alone", progress=False)
    shared = run_experiments(specs, tmp_path / "shared", progress=False, group_size=2)
    for name in ("cliques_p00", "cliques_p50"):
        for a, s in zip(alone[name], shared[name], strict=True):
            assert a["shared_training"] is None and s["group"]["size"] == 4
            # measured on its own graph: LC falls with noise, the embedding is the same
            assert s["metrics"]["topic"]["lc"] == a["metrics"]["topic"]["lc"]
            assert s["metrics"]["final_loss"] == pytest.approx(a["metrics"]["final_loss"],
                                                               rel=1e-3)
    for p00, p50 in zip(shared["cliques_p00"], shared["cliques_p50"], strict=True):
        if p00["dataset"]["corpus"] == p50["dataset"]["corpus"] and (
                p00["dataset"]["generation"]["attempt"] == p50["dataset"]["generation"]["attempt"]):
            assert p00["shared_training"] == p50["shared_training"] == [p00["run_id"],
                                                                        p50["run_id"]]
            assert p00["metrics"]["final_loss"] == p50["metrics"]["final_loss"]
            assert p00["curve"] == p50["curve"]
        else:  # a rejected generation at p = 0 gives other text: trained apart
            assert p00["shared_training"] is None
    assert alone["cliques_p00"][0]["metrics"]["topic"]["lc"] > (
        alone["cliques_p50"][0]["metrics"]["topic"]["lc"])
    assert any(r["shared_training"] for r in shared["cliques_p00"])
