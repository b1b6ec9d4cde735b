"""``sip-theory geometry`` on a small generated case, its error cases, and no partial output."""

import json

import numpy as np
import pytest
import torch

from sip_theory.cli import main


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    n = 40
    y = np.repeat([0, 1], n // 2)
    X = rng.normal(size=(n, 4)) + 3.0 * y[:, None]
    ids = [f"paper{i:02d}" for i in range(n)]
    E = [(i, i + 1) for i in range(n - 1) if y[i] == y[i + 1]] + [(0, 25)]
    paths = {
        "emb": tmp_path / "emb.npy", "ids": tmp_path / "ids.txt",
        "graph": tmp_path / "g.tsv", "labels": tmp_path / "y.csv",
    }
    np.save(paths["emb"], X)
    paths["ids"].write_text("\n".join(ids) + "\n")
    paths["graph"].write_text("".join(f"{ids[a]}\t{ids[b]}\n" for a, b in E))
    paths["labels"].write_text("id,label\n" + "".join(
        f"{ids[i]},{'ab'[y[i]]}\n" for i in rng.permutation(n)))
    return tmp_path, paths, X, y, E


def run(*argv):
    return main(["geometry", *map(str, argv)])


def test_cli_writes_report_and_figure(files, capsys):
    tmp, p, X, y, E = files
    rc = run(p["emb"], "--graph", p["graph"], "--labels", p["labels"], "--ids", p["ids"],
             "--out", tmp / "out" / "report.json", "--plots", tmp / "plots", "--no-progress")
    assert rc == 0
    report = json.loads((tmp / "out" / "report.json").read_text())
    assert report["n_samples"] == 40 and report["recovery"]["n_edges"] == len(E)
    assert report["knn_probe"]["classes"] == ["a", "b"]
    assert (tmp / "plots" / "geometry.png").stat().st_size > 1000
    assert "link retrieval: LRAP" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["npz", "pt", "csv"])
def test_cli_reads_every_embedding_format(files, fmt):
    tmp, p, X, y, E = files
    path = tmp / f"emb.{fmt}"
    if fmt == "npz":
        np.savez(path, embeddings=X, other=np.zeros(3))
    elif fmt == "pt":
        torch.save({"embeddings": torch.from_numpy(X)}, path)
    else:
        path.write_text("id,f0,f1,f2,f3\n" + "".join(
            f"paper{i:02d}," + ",".join(repr(float(v)) for v in X[i]) + "\n" for i in range(40)))
    rc = run(path, "--graph", p["graph"], "--labels", p["labels"],
             *([] if fmt == "csv" else ["--ids", p["ids"]]), "--out", tmp / f"{fmt}.json",
             "--no-linear")
    assert rc == 0
    assert json.loads((tmp / f"{fmt}.json").read_text())["n_features"] == 4


def test_integer_edge_lists_and_npz_graphs_need_no_ids(files):
    tmp, p, X, y, E = files
    (tmp / "g.csv").write_text("source,target\n" + "".join(f"{a},{b}\n" for a, b in E))
    np.savez(tmp / "g.npz", edges=np.array(E))
    np.save(tmp / "y.npy", y)
    for graph in ("g.csv", "g.npz"):
        assert run(p["emb"], "--graph", tmp / graph, "--labels", tmp / "y.npy", "--no-linear",
                   "--out", tmp / f"{graph}.json") == 0
    a, b = (json.loads((tmp / f"{g}.json").read_text()) for g in ("g.csv", "g.npz"))
    assert a["retrieval"] == b["retrieval"]


def _assert_fails_cleanly(capsys, tmp, argv, message):
    out = tmp / "never.json"
    rc = run(*argv, "--out", out, "--plots", tmp / "never")
    assert rc == 2
    assert message in capsys.readouterr().err
    assert not out.exists() and not (tmp / "never").exists()
    assert not list(tmp.glob(".never*"))  # no temporary file left behind


def test_nan_rows_fail_without_output(files, capsys):
    tmp, p, X, y, E = files
    X = X.copy()
    X[[3, 7]] = np.nan
    np.save(tmp / "bad.npy", X)
    _assert_fails_cleanly(capsys, tmp, [tmp / "bad.npy", "--graph", p["graph"], "--ids",
                                        p["ids"]], "2 row(s) with NaN or inf values (rows 3, 7)")


def test_unknown_ids_fail_without_output(files, capsys):
    tmp, p, X, y, E = files
    (tmp / "g2.tsv").write_text("paper01\tpaper99\n")
    _assert_fails_cleanly(capsys, tmp, [p["emb"], "--graph", tmp / "g2.tsv", "--ids", p["ids"]],
                          "not found in node_ids")


def test_string_ids_without_ids_file_fail(files, capsys):
    tmp, p, X, y, E = files
    _assert_fails_cleanly(capsys, tmp, [p["emb"], "--graph", p["graph"]], "pass the sample ids")


def test_shape_errors_fail_without_output(files, capsys):
    tmp, p, X, y, E = files
    np.save(tmp / "y_short.npy", y[:30])
    _assert_fails_cleanly(capsys, tmp, [p["emb"], "--labels", tmp / "y_short.npy"],
                          "has 30 labels but the embeddings have 40 rows")
    np.save(tmp / "flat.npy", X.ravel())
    _assert_fails_cleanly(capsys, tmp, [tmp / "flat.npy"], "expected 2-D")
    (tmp / "ids_short.txt").write_text("a\nb\n")
    _assert_fails_cleanly(capsys, tmp, [p["emb"], "--ids", tmp / "ids_short.txt"],
                          "ids file has 2 ids but the embeddings have 40 rows")


def test_missing_file_fails(files, capsys):
    tmp, p, X, y, E = files
    _assert_fails_cleanly(capsys, tmp, [tmp / "nope.npy"], "does not exist")
