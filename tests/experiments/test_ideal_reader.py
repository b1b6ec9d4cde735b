"""The ideal-reader table: one family, one seed, both text kinds, written atomically."""

import json

import pytest

from sip_theory.experiments._ideal_reader import ideal_reader_seed, main, write_ideal_reader


def test_one_family_one_seed_writes_json_and_markdown(tmp_path):
    rec = write_ideal_reader(tmp_path, families=["cliques"], seeds=[0])
    stored = json.loads((tmp_path / "ideal_reader.json").read_text())
    assert stored["config"]["seeds"] == [0] and "numpy" in stored["versions"]
    res = stored["results"]["cliques"]
    assert res == json.loads(json.dumps(rec["results"]["cliques"]))
    word, char = res["per_seed"][0]["word"], res["per_seed"][0]["char"]
    assert word["padded_length"] == 18 and word["text_tokens"] == 18.0  # [CLS] 16 words [SEP]
    assert 100 < char["padded_length"] <= 350 and char["padded_length_pt"] <= char["padded_length"]
    assert 0.8 < word["accuracy"] <= 1.0 and 0.8 < char["accuracy"] <= 1.0
    assert res["char"]["accuracy_per_seed"] == [char["accuracy"]]
    md = (tmp_path / "ideal_reader.md").read_text()
    assert "| cliques | topic | 1 |" in md
    assert not list(tmp_path.glob(".*"))  # no temporary files left


def test_same_seed_same_numbers_and_cli_usage(capsys):
    assert ideal_reader_seed("cliques", 1) == ideal_reader_seed("cliques", 1)
    assert main([]) == 2 and "usage" in capsys.readouterr().err


def test_mechanistic_classes_map_to_their_topics():
    r = ideal_reader_seed("mechanistic", 0)
    assert r["task"] == "motif" and r["char"]["accuracy"] > 0.9


@pytest.mark.parametrize("family", ["nope"])
def test_unknown_family_raises(family):
    with pytest.raises(ValueError, match="name"):
        ideal_reader_seed(family, 0)
