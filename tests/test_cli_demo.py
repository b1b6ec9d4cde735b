"""`sip-theory demo` runs end to end on built-in data and writes its outputs."""

import json

from sip_theory.cli import main


def test_demo_writes_table_and_plot(tmp_path, capsys):
    rc = main(["demo", "--out", str(tmp_path), "--n-seeds", "1", "--no-progress"])
    assert rc == 0
    result = json.loads((tmp_path / "demo.json").read_text())
    assert abs(result["cora"]["edge_homophily"] - 0.810) < 5e-4
    assert result["cliques"][0]["p"] == 0.0 and result["cliques"][0]["lc_strict"]["mean"] == 1.0
    assert (tmp_path / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Cora" in capsys.readouterr().out


def test_demo_noise_lowers_local_consistency(tmp_path):
    main(["demo", "--out", str(tmp_path), "--n-seeds", "2", "--no-progress"])
    rows = json.loads((tmp_path / "demo.json").read_text())["cliques"]
    assert rows[-1]["lc_strict"]["mean"] < rows[0]["lc_strict"]["mean"]


def test_demo_rejects_bad_seed_count_without_writing(tmp_path, capsys):
    rc = main(["demo", "--out", str(tmp_path / "o"), "--n-seeds", "0"])
    assert rc == 2
    assert "--n-seeds" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_without_command_prints_help(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out
