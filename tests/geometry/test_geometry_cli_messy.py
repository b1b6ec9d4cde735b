"""``sip-theory geometry`` on files as a user has them: string ids, empty label cells, gzip,
sparse .npz, a CiteSeer-style -1 marker; and its bad-input cases, each one line, no output."""

import gzip
import json

import numpy as np
import pytest
import scipy.sparse as sp

import sip_theory.geometry._report as report_module
from sip_theory.cli import main
from sip_theory.geometry import knn_probe

N = 40


@pytest.fixture
def messy(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], N // 2)
    X = rng.normal(size=(N, 4)) + 3.0 * y[:, None]
    X[[5, 6]] = 0.0  # all-zero rows (the unlabelled ones, as in CiteSeer)
    X[8] = X[7]  # a duplicate row
    ids = [f"paper{i:02d}" for i in range(N)]
    E = [(i, i + 1) for i in range(N - 1) if y[i] == y[i + 1] and i not in (30, 31)]
    p = {"emb": tmp_path / "emb.npz", "ids": tmp_path / "ids.txt.gz",
         "graph": tmp_path / "g.tsv.gz", "labels": tmp_path / "y.csv"}
    sp.save_npz(p["emb"], sp.csr_matrix(X))
    with gzip.open(p["ids"], "wt") as fh:
        fh.write("id\n" + "\n".join(ids) + "\n")
    with gzip.open(p["graph"], "wt") as fh:
        fh.write("".join(f"{ids[a]}\t{ids[b]}\n" for a, b in E))
        fh.write(f"{ids[1]}\t{ids[0]}\n{ids[2]}\t{ids[3]}\n{ids[4]}\t{ids[4]}\n")
    p["labels"].write_text("id,label\n" + "".join(
        f"{ids[i]},{'' if i in (5, 6) else 'ab'[y[i]]}\n" for i in rng.permutation(N)))
    return tmp_path, p, X, y, E


def run(*argv):
    return main(["geometry", *map(str, argv)])


def test_messy_files_run_and_say_what_they_hold(messy, capsys):
    tmp, p, X, y, E = messy
    rc = run(p["emb"], "--graph", p["graph"], "--labels", p["labels"], "--ids", p["ids"],
             "--out", tmp / "r.json", "--no-linear", "--no-progress")
    assert rc == 0
    out, err = capsys.readouterr()
    rep = json.loads((tmp / "r.json").read_text())
    assert rep["data"]["n_unlabeled"] == 2 and rep["data"]["n_zero_rows"] == 2
    assert rep["data"]["n_duplicate_rows"] == 2  # row 6 = row 5 (both zero), row 8 = row 7
    assert rep["data"]["n_isolated_nodes"] == 1  # node 31 (edges 30-31 and 31-32 left out)
    assert rep["data"]["loading"]["graph"] == {
        "n_lines": len(E) + 3, "self_loops_dropped": 1, "duplicate_lines_merged": 1,
        "reverse_pairs_merged": 1, "one_direction_made_undirected": len(E) - 1,
        "n_edges": len(E)}
    assert rep["knn_probe"]["n_unlabeled"] == 2 and rep["knn_probe"]["n_voted"] == N - 2
    keep = np.setdiff1d(np.arange(N), [5, 6])
    want = knn_probe(X[keep], np.array(list("ab"))[y[keep]], k=3)
    assert rep["knn_probe"]["accuracy"] == want.accuracy
    assert rep["theorem1"] is None
    assert (f"graph file g.tsv.gz: {len(E) + 3} lines -> {len(E)} edges (1 self-loop(s) "
            "dropped, 1 repeated line(s) merged, 1 pair(s) listed in both directions merged, "
            f"{len(E) - 1} edge(s) listed in one direction made undirected)") in out
    assert "labels: 2 of 40 missing" in out
    for line in ("warning: embeddings file emb.npz holds a scipy sparse 40 x 4 matrix",
                 "warning: 2 sample(s) without a label", "warning: 2 all-zero row(s)",
                 "warning: 2 duplicate row(s)", "warning: 1 isolated node(s)",
                 "note: Theorem 1 check skipped: 2 label(s) missing"):
        assert line in err


def test_citeseer_style_marker(messy, capsys):
    tmp, p, X, y, E = messy
    y_marked = y.copy()
    y_marked[[5, 6]] = -1
    np.save(tmp / "y.npy", y_marked)
    base = [p["emb"], "--graph", p["graph"], "--ids", p["ids"], "--labels", tmp / "y.npy",
            "--no-linear"]
    assert run(*base, "--out", tmp / "as_class.json") == 0
    assert run(*base, "--missing-label", "-1", "--out", tmp / "missing.json") == 0
    as_class, missing = (json.loads((tmp / f).read_text()) for f in ("as_class.json",
                                                                       "missing.json"))
    assert as_class["knn_probe"]["classes"] == [-1, 0, 1]
    assert missing["knn_probe"]["classes"] == [0, 1] and missing["data"]["n_unlabeled"] == 2
    assert missing["inputs"]["missing_label"] == "-1"


def _fails(capsys, tmp, argv, message, monkeypatch=None):
    """rc 2, one line naming the problem, no output, and (with monkeypatch) no computation."""
    if monkeypatch is not None:
        def never(*a, **k):
            raise AssertionError("computed before checking the output paths")
        monkeypatch.setattr(report_module, "geometry_report", never)
    rc = run(*argv)
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp.rglob("*.json")) and not list(tmp.rglob("geometry.png"))
    assert not list(tmp.rglob(".*.json*"))  # no temporary file


def test_output_path_errors_come_before_the_computation(messy, capsys, monkeypatch):
    tmp, p, X, y, E = messy
    (tmp / "afile").write_text("x")
    (tmp / "afolder").mkdir()
    emb = [p["emb"], "--no-linear"]
    _fails(capsys, tmp, [*emb, "--out", tmp / "afile" / "r.json"],
           "is a file, not a folder", monkeypatch)
    _fails(capsys, tmp, [*emb, "--out", tmp / "afile" / "deeper" / "r.json"],
           "afile' is a file, not a folder", monkeypatch)
    _fails(capsys, tmp, [*emb, "--out", tmp / "afolder"], "is a folder; give a file name",
           monkeypatch)
    _fails(capsys, tmp, [*emb, "--plots", tmp / "afile"],
           "is a file; it names the folder that gets geometry.png", monkeypatch)
    _fails(capsys, tmp, [*emb, "--plots", tmp / "afile" / "sub"], "--plots", monkeypatch)


def test_explicit_k_beyond_the_data_is_an_error_default_is_lowered(messy, capsys):
    tmp, p, X, y, E = messy
    _fails(capsys, tmp, [p["emb"], "--k", "40", "--out", tmp / "r.json"],
           "error: k must be <= 39")
    _fails(capsys, tmp, [p["emb"], "--labels", p["labels"], "--ids", p["ids"], "--probe-k",
                         "38", "--out", tmp / "r.json"], "error: probe_k must be <= 37")
    np.save(tmp / "small.npy", X[:6])
    assert run(tmp / "small.npy", "--no-linear") == 0
    assert "note: k lowered from its default 10 to 5" in capsys.readouterr().err


def test_empty_and_bad_inputs_fail_with_one_line(messy, capsys):
    tmp, p, X, y, E = messy
    out = ["--out", tmp / "r.json", "--plots", tmp / "plots"]
    (tmp / "empty.tsv").write_text("")
    _fails(capsys, tmp, [p["emb"], "--graph", tmp / "empty.tsv", *out],
           "error: graph file empty.tsv has no edges")
    (tmp / "blank.csv").write_text("id,label\n" + "".join(f"paper{i:02d},\n"
                                                          for i in range(N)))
    _fails(capsys, tmp, [p["emb"], "--labels", tmp / "blank.csv", "--ids", p["ids"], *out],
           "error: labels file blank.csv: every label is missing")
    _fails(capsys, tmp, [p["emb"], "--missing-label", "-1", *out],
           "error: --missing-label needs --labels")
    with gzip.open(tmp / "e.npy.gz", "wb") as fh:
        fh.write(b"x")
    _fails(capsys, tmp, [tmp / "e.npy.gz", *out], "gzip is read for text files")
