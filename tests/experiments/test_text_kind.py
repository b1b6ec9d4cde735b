"""The node text kind of the synthetic runner: words (default) and faithful characters."""

import json

import pytest

from sip_theory.experiments import ExperimentSpec, RunFailedError, profile_specs, run_experiment


def _one_run(tmp_path, name, text, arm="sipt"):
    base = profile_specs("smoke", only=name)[0]
    params = {**base.params, "text": text}
    spec = ExperimentSpec(name, "synthetic", params=params, arms={arm: base.arms[arm]},
                          seeds=[0])
    return run_experiment(spec, tmp_path, progress=False)[0]


@pytest.mark.parametrize("name", ["cliques_p00", "plane"])
def test_a_character_run_records_its_text_and_sequence_widths(tmp_path, name):
    rec = _one_run(tmp_path, name, {"kind": "characters"})
    ds = rec["dataset"]
    assert ds["text"]["kind"] == "characters" and ds["text"]["max_chars"] == 349
    w = ds["sequence_width"]
    # [CLS] + characters of a ~120-character sentence; PT padded to the longest PT text + 1
    assert 40 < w["mean"] < 250 and w["max"] == w["padded_pt"] <= 350
    if name == "plane":  # FT nodes are tokenized on their own
        assert w["padded_ft"] == w["max_ft"] and w["mean_ft"] > 0
    assert w["widest"] == max(w["padded_pt"], w["padded_ft"] or 0)
    assert rec["encoder_config"]["vocab_size"] == 31
    assert rec["encoder_config"]["max_len"] >= w["widest"]
    assert 0.0 <= rec["metrics"]["masked_token_accuracy"] <= 1.0
    assert rec["metrics"][ds["task"]]["knn3_pt_auroc"] is not None


def test_word_text_is_the_default_and_records_its_kind(tmp_path):
    rec = _one_run(tmp_path, "cliques_p00", {}, arm="lm")
    ds = rec["dataset"]
    assert ds["text"] == {"kind": "words", "n_words": 100, "concentration": 1.0, "length": 16}
    assert ds["sequence_width"]["mean"] == ds["sequence_width"]["padded_pt"] == 18
    assert rec["encoder_config"]["max_len"] == 512  # the default: word numerics unchanged


def test_an_unknown_text_kind_is_a_one_line_error_naming_text_kind(tmp_path):
    with pytest.raises(RunFailedError) as err:
        _one_run(tmp_path, "cliques_p00", {"kind": "bytes"})
    failed = json.loads(next((tmp_path / "cliques_p00" / "runs").glob("*.failed.json"))
                        .read_text())
    assert failed["error"].startswith("ValueError: text.kind must be one of")
    assert "'bytes'" in failed["error"] and "\n" not in failed["error"]
    assert "text.kind" in str(err.value)
    assert "metrics" not in failed


def test_the_run_task_raises_the_value_error_directly():
    from sip_theory.experiments import RunSpec, run_synthetic

    run = RunSpec("x", "synthetic", "lm", 0, {"family": "cliques", "lambda_si": 0.0,
                                              "text": {"kind": "Words"}})
    with pytest.raises(ValueError, match=r"^text\.kind must be one of \('words', "
                                         r"'characters'\), got 'Words'$"):
        run_synthetic(run)


def test_an_encoder_max_len_below_the_widest_sequence_is_refused(tmp_path):
    base = profile_specs("smoke", only="cliques_p00")[0]
    params = {**base.params, "text": {"kind": "characters"},
              "encoder": {**base.params["encoder"], "max_len": 20}}
    spec = ExperimentSpec("short", "synthetic", params=params, arms={"lm": {"lambda_si": 0.0}})
    with pytest.raises(RunFailedError, match="encoder.max_len=20 is below the widest"):
        run_experiment(spec, tmp_path, progress=False)
