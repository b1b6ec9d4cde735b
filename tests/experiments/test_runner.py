"""The experiment runner: pairing, resume, staleness, failure handling, atomic output."""

import json

import pytest

from sip_theory.experiments import (
    ExperimentSpec,
    RunFailedError,
    load_results,
    register_task,
    run_experiment,
    run_experiments,
)

CALLS = []


@register_task("test-count-calls")
def _counting_task(run, *, device="cpu"):
    CALLS.append((run.arm, run.seed))
    return {"metrics": {"score": run.seed + run.params["offset"], "nested": {"a": 1.5}},
            "extra": [1, 2]}


@register_task("test-fail-on-seed-1")
def _failing_task(run, *, device="cpu"):
    if run.seed == 1:
        raise RuntimeError("generation invalid")
    return {"metrics": {"ok": 1}}


@register_task("test-bad-return")
def _bad_return(run, *, device="cpu"):
    return {"no_metrics": 1}


def _spec(**kw):
    base = dict(name="exp", task="test-count-calls", params={"offset": 0},
                arms={"lm": {"offset": 0}, "sipt": {"offset": 10}}, seeds=[0, 1])
    base.update(kw)
    return ExperimentSpec(**base)


def test_arms_are_paired_by_seed():
    runs = _spec().runs()
    assert sorted((r.seed, r.arm) for r in runs) == [(0, "lm"), (0, "sipt"), (1, "lm"),
                                                    (1, "sipt")]


def test_resume_skips_completed_runs(tmp_path):
    CALLS.clear()
    run_experiment(_spec(), tmp_path, progress=False)
    assert len(CALLS) == 4
    CALLS.clear()
    records = run_experiment(_spec(), tmp_path, progress=False)
    assert CALLS == []
    assert all(r.get("resumed") for r in records)


def test_changed_parameters_are_not_resumed(tmp_path):
    run_experiment(_spec(), tmp_path, progress=False)
    CALLS.clear()
    run_experiment(_spec(params={"offset": 0, "steps": 5}), tmp_path, progress=False)
    assert len(CALLS) == 4


def test_no_resume_reruns_everything(tmp_path):
    run_experiment(_spec(), tmp_path, progress=False)
    CALLS.clear()
    run_experiment(_spec(), tmp_path, progress=False, resume=False)
    assert len(CALLS) == 4


def test_tidy_csv_has_one_row_per_run_and_metric(tmp_path):
    run_experiment(_spec(), tmp_path, progress=False)
    rows = load_results(tmp_path, "exp")
    assert len(rows) == 4 * 2
    scores = {(r["arm"], r["seed"]): r["value"] for r in rows if r["metric"] == "score"}
    assert scores == {("lm", 0): 0.0, ("sipt", 0): 10.0, ("lm", 1): 1.0, ("sipt", 1): 11.0}


def test_record_stores_config_versions_and_wall_time(tmp_path):
    records = run_experiment(_spec(seeds=[0]), tmp_path, progress=False)
    rec = json.loads(next((tmp_path / "exp" / "runs").glob("*.json")).read_text())
    assert rec["config"]["params"]["offset"] in (0, 10)
    assert {"torch", "numpy", "python"} <= set(rec["versions"])
    assert rec["wall_time_s"] >= 0 and records[0]["status"] == "ok"


def test_failed_run_raises_and_keeps_the_others(tmp_path):
    spec = _spec(task="test-fail-on-seed-1")
    with pytest.raises(RunFailedError, match="generation invalid"):
        run_experiment(spec, tmp_path, progress=False)
    runs_dir = tmp_path / "exp" / "runs"
    assert len(list(runs_dir.glob("*.failed.json"))) == 2
    ok = [p for p in runs_dir.glob("*.json") if not p.name.endswith(".failed.json")]
    assert len(ok) == 2


def test_task_without_metrics_is_a_failure(tmp_path):
    with pytest.raises(RunFailedError, match="metrics"):
        run_experiment(_spec(task="test-bad-return", seeds=[0]), tmp_path, progress=False)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"name": "bad name"}, "name"), ({"seeds": [0, 0]}, "seeds"), ({"arms": {}}, "arms"),
     ({"params": {"x": float("nan")}}, "NaN|JSON|Out of range")],
)
def test_invalid_specs_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _spec(**kwargs)


def test_unknown_task_and_device_are_refused(tmp_path):
    with pytest.raises(ValueError, match="task must be one of"):
        run_experiment(_spec(task="nope"), tmp_path, progress=False)
    with pytest.raises(ValueError, match="device"):
        run_experiment(_spec(), tmp_path, device="tpu", progress=False)


GROUP_CALLS = []


def _group_task(runs, *, device="cpu"):
    GROUP_CALLS.append([(r.arm, r.seed) for r in runs])
    return [RuntimeError("bad seed") if r.seed == 2 else {"metrics": {"score": r.seed}}
            for r in runs]


@register_task("test-grouped", group=_group_task)
def _grouped_single(run, *, device="cpu"):
    GROUP_CALLS.append([("single", run.seed)])
    return {"metrics": {"score": run.seed}}


def test_group_size_sends_one_arms_pending_runs_together_and_stores_each(tmp_path):
    GROUP_CALLS.clear()
    spec = ExperimentSpec("grp", "test-grouped", arms={"a": {}, "b": {}}, seeds=[0, 1, 2, 3])
    with pytest.raises(RunFailedError, match="bad seed"):
        run_experiment(spec, tmp_path, group_size=3, progress=False)
    # chunks of at most 3 runs, never mixing arms; a chunk of one runs the single task
    assert GROUP_CALLS == [[("a", 0), ("a", 1), ("a", 2)], [("single", 3)],
                           [("b", 0), ("b", 1), ("b", 2)], [("single", 3)]]
    runs_dir = tmp_path / "grp" / "runs"
    ok = sorted(p.name for p in runs_dir.glob("*.json") if not p.name.endswith(".failed.json"))
    failed = sorted(p.name for p in runs_dir.glob("*.failed.json"))
    assert len(ok) == 6 and len(failed) == 2  # seed 2 of each arm failed alone
    rec = json.loads(next(runs_dir.glob("grp__a__seed0__*.json")).read_text())
    assert rec["group"]["size"] == 3 and len(rec["group"]["run_ids"]) == 3
    assert rec["wall_time_s"] == pytest.approx(rec["group"]["wall_time_s"] / 3)
    # resume: only the failed runs are pending (one per arm, so each runs the single task)
    GROUP_CALLS.clear()
    recs = run_experiment(spec, tmp_path, group_size=3, progress=False)
    assert GROUP_CALLS == [[("single", 2)], [("single", 2)]]
    assert sorted(r["metrics"]["score"] for r in recs) == [0, 0, 1, 1, 2, 2, 3, 3]


def test_group_size_one_runs_units_alone_and_bad_group_size_is_refused(tmp_path):
    GROUP_CALLS.clear()
    spec = ExperimentSpec("solo", "test-grouped", seeds=[0, 1])
    run_experiment(spec, tmp_path, progress=False)
    assert GROUP_CALLS == [[("single", 0)], [("single", 1)]]
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="group_size"):
            run_experiment(spec, tmp_path, group_size=bad, progress=False)


KEYED_CALLS = []


def _keyed_group(runs, *, device="cpu"):
    KEYED_CALLS.append(sorted((r.experiment, r.seed) for r in runs))
    return [{"metrics": {"score": r.seed}} for r in runs]


@register_task("test-keyed", group=_keyed_group, group_key=lambda run: run.arm)
def _keyed_single(run, *, device="cpu"):
    KEYED_CALLS.append([("single", run.seed)])
    return {"metrics": {"score": run.seed}}


def test_group_key_spanning_experiments_groups_whole_seeds(tmp_path):
    KEYED_CALLS.clear()
    specs = [ExperimentSpec(name, "test-keyed", seeds=[0, 1, 2]) for name in ("e1", "e2")]
    recs = run_experiments(specs, tmp_path, group_size=2, progress=False)
    # at most 2 seeds per group, each with its units of both experiments
    assert KEYED_CALLS == [[("e1", 0), ("e1", 1), ("e2", 0), ("e2", 1)],
                           [("e1", 2), ("e2", 2)]]
    assert {name: [r["metrics"]["score"] for r in rs] for name, rs in recs.items()} == {
        "e1": [0, 1, 2], "e2": [0, 1, 2]}
    rec = json.loads(next((tmp_path / "e2" / "runs").glob("e2__*seed2__*.json")).read_text())
    assert rec["group"]["size"] == 2


def test_a_group_key_without_a_group_function_is_ignored(tmp_path):
    register_task("test-keyless", group_key=lambda run: 0)(_keyed_single)
    KEYED_CALLS.clear()
    run_experiment(ExperimentSpec("k", "test-keyless", seeds=[0, 1]), tmp_path, group_size=2,
                   progress=False)
    assert KEYED_CALLS == [[("single", 0)], [("single", 1)]]
