"""``sip-theory geometry A B C``: several embeddings side by side, the per-sample CSV, the
options that reach the API, and every bad-input case: one line naming the argument, no
computation started, no file left behind."""

import csv
import json

import numpy as np
import pytest

import sip_theory
import sip_theory.geometry._report as report_module
from sip_theory.cli import main
from sip_theory.geometry import compare_embeddings, geometry_report, linear_probe

N = 36


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], N // 3)
    ids = [f"p{i:02d}" for i in range(N)]
    good = rng.normal(size=(3, 4))[y] * 4.0 + rng.normal(size=(N, 4))
    X = {"good": good, "proj": good @ rng.normal(size=(4, 2)), "noise": rng.normal(size=(N, 5))}
    for name, Z in X.items():
        np.save(tmp_path / f"{name}.npy", Z)
    E = [(i, i + 1) for i in range(N - 1) if y[i] == y[i + 1]]
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    (tmp_path / "g.tsv").write_text("".join(f"{ids[a]}\t{ids[b]}\n" for a, b in E))
    np.save(tmp_path / "y.npy", y)
    return tmp_path, X, y, E, ids


def run(*argv):
    return main(["geometry", *map(str, argv)])


def base(tmp, *names):
    return [*(tmp / f"{n}.npy" for n in names), "--graph", tmp / "g.tsv", "--ids",
            tmp / "ids.txt", "--labels", tmp / "y.npy", "--no-progress"]


def test_three_embeddings_give_one_table_one_figure_and_one_json(files, capsys):
    tmp, X, y, E, ids = files
    rc = run(*base(tmp, "good", "proj", "noise"), "--k", 5, "--folds", 3,
             "--out", tmp / "o" / "cmp.json", "--table", tmp / "t.csv", "--table", tmp / "t.md",
             "--plots", tmp / "plots")
    assert rc == 0
    out = capsys.readouterr().out
    want = compare_embeddings(X, E, y, k=5, linear_options={"cv": 3})
    rows = list(csv.DictReader((tmp / "t.csv").open()))
    assert [r["embedding"] for r in rows] == ["good", "proj", "noise"]
    for r, w in zip(rows, want.rows(), strict=True):
        assert {k: (float(v) if v else None) for k, v in r.items() if k != "embedding"} == \
            {k: v for k, v in w.items() if k != "embedding"}
    assert (tmp / "t.md").read_text().strip() == want.to_markdown()
    assert (tmp / "plots" / "comparison.png").stat().st_size > 1000
    assert not (tmp / "plots" / "geometry.png").exists()
    d = json.loads((tmp / "o" / "cmp.json").read_text())
    assert d["schema_version"] == report_module.REPORT_SCHEMA_VERSION
    assert d["package_version"] == sip_theory.__version__
    assert d["options"]["folds"] == 3 and d["options"]["k"] == 5
    assert d["comparison"]["rows"] == want.rows()
    assert set(d["reports"]) == {"good", "proj", "noise"}
    assert d["reports"]["good"]["linear_probe"]["protocol"] == "cv"
    assert "3 embeddings of 36 samples" in out and "LRAP" in out and "good" in out


def test_one_embedding_keeps_the_report_json_and_adds_version_and_options(files):
    tmp, X, y, E, ids = files
    assert run(*base(tmp, "good"), "--no-linear", "--out", tmp / "r.json",
               "--table", tmp / "one.md", "--plots", tmp / "plots") == 0
    d = json.loads((tmp / "r.json").read_text())
    rep = geometry_report(X["good"], E, y, linear=False)
    for key in rep.to_dict():
        assert key in d
    assert d["retrieval"]["lrap"] == rep.retrieval.lrap
    assert d["inputs"]["embeddings"] == str(tmp / "good.npy") and "options" in d
    assert (tmp / "plots" / "geometry.png").exists()
    assert (tmp / "one.md").read_text().count("\n| good") == 1


def test_per_sample_csv(files):
    tmp, X, y, E, ids = files
    assert run(*base(tmp, "good", "noise"), "--no-linear", "--k", 4,
               "--per-sample", tmp / "ps.csv") == 0
    rows = list(csv.DictReader((tmp / "ps.csv").open()))
    assert len(rows) == 2 * N
    assert list(rows[0]) == ["embedding", "row", "id", *report_module.PER_SAMPLE_COLUMNS]
    ps = geometry_report(X["noise"], E, y, k=4, linear=False, per_sample=True).per_sample
    noise = [r for r in rows if r["embedding"] == "noise"]
    assert [r["id"] for r in noise] == ids
    for i, r in enumerate(noise):
        assert float(r["knn_vote"]) == ps["knn_vote"][i]
        assert int(r["first_neighbor_rank"]) == ps["first_neighbor_rank"][i]
        assert r["knn_correct"] == ("1" if ps["knn_correct"][i] else "0")
        assert r["lc_graph"] == ("" if np.isnan(ps["lc_graph"][i]) else
                                 str(int(ps["lc_graph"][i])))


def test_options_reach_the_report(files):
    tmp, X, y, E, ids = files
    assert run(*base(tmp, "noise"), "--ks", "1,3", "--lc-k", 2, "--lc-mode", "mutual",
               "--normalize", "l2", "--no-spread-normalize", "--C", 0.5, "--folds", 4,
               "--seed", 2, "--out", tmp / "r.json") == 0
    d = json.loads((tmp / "r.json").read_text())
    s = d["settings"]
    assert s["ks"] == [1, 3] and set(d["retrieval"]["precision_at"]) == {"1", "3"}
    assert d["consistency"]["k"] == 2 and d["consistency"]["mode"] == "mutual"
    assert s["normalize_rows"] is True and s["normalize"] is False
    Z = X["noise"] / np.linalg.norm(X["noise"], axis=1, keepdims=True)
    lp = linear_probe(Z, y, C=0.5, cv=4, seed=2)
    assert d["linear_probe"]["fold_accuracies"] == list(lp.fold_accuracies)
    assert d["linear_probe"]["accuracy_sd"] == lp.accuracy_sd and lp.C == 0.5


@pytest.mark.parametrize("form", ["indices", "ids", "mask", "npy"])
def test_a_given_split_in_every_form(files, form):
    tmp, X, y, E, ids = files
    train = np.arange(0, N, 2)
    test = np.arange(1, N, 2)
    path = tmp / f"train.{'npy' if form == 'npy' else 'txt'}"
    if form == "indices":
        path.write_text("\n".join(map(str, train)) + "\n")
    elif form == "ids":
        path.write_text("\n".join(ids[i] for i in train) + "\n")
    elif form == "mask":
        path.write_text("\n".join("1" if i % 2 == 0 else "0" for i in range(N)) + "\n")
    else:
        np.save(path, train)
    assert run(*base(tmp, "good"), "--train-index", path, "--out", tmp / "r.json") == 0
    d = json.loads((tmp / "r.json").read_text())
    lp = linear_probe(X["good"], y, train_index=train, test_index=test)
    assert d["linear_probe"]["protocol"] == "given"
    assert d["linear_probe"]["accuracy"] == lp.accuracy
    assert d["linear_probe"]["n_train"] == train.size and d["settings"]["linear_options"][
        "split"] == "given"


# ---------------------------------------------------------------------- bad input
def _fails(capsys, monkeypatch, tmp, argv, message):
    """rc 2, one line naming the problem, nothing computed, no output file."""
    def never(*a, **k):
        raise AssertionError("computed before the inputs were checked")

    monkeypatch.setattr(report_module, "geometry_report", never)
    before = set(tmp.rglob("*"))
    rc = run(*argv)
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert set(tmp.rglob("*")) == before  # nothing written, no temporary file


OUTS = ["--out", "r.json", "--plots", "plots", "--table", "t.csv", "--per-sample", "ps.csv"]


@pytest.mark.parametrize("extra, message", [
    (["--names", "a,b"], "--names must give 3 non-empty comma-separated name(s)"),
    (["--names", "a,a,b"], "--names holds a name twice"),
    (["--ks", "1,x"], "--ks must be comma-separated positive integers, got '1,x'"),
    (["--ks", "0"], "--ks must be comma-separated positive integers"),
    (["--lc-k", "0"], "--lc-k must be >= 1, got 0"),
    (["--folds", "1"], "--folds must be >= 2, got 1"),
    (["--C", "0"], "--C must be a positive number, got 0.0"),
    (["--C", "nan"], "--C must be a positive number"),
    (["--test-size", "1.5"], "--test-size must be in (0, 1), got 1.5"),
    (["--test-index", "ids.txt"], "--test-index needs --train-index"),
    (["--train-index", "ids.txt", "--folds", "3"], "pass it or --folds, not both"),
    (["--folds", "3", "--no-linear"], "--folds is an option of the linear probe"),
])
def test_bad_options_fail_before_anything(files, capsys, monkeypatch, extra, message):
    tmp, X, y, E, ids = files
    argv = [*base(tmp, "good", "proj", "noise"), *extra]
    argv += [tmp / v if i % 2 else v for i, v in enumerate(OUTS)]
    _fails(capsys, monkeypatch, tmp, argv, message)


def test_option_errors_without_graph_or_labels(files, capsys, monkeypatch):
    tmp, X, y, E, ids = files
    _fails(capsys, monkeypatch, tmp, [tmp / "good.npy", "--per-sample", tmp / "ps.csv"],
           "--per-sample needs --graph or --labels")
    _fails(capsys, monkeypatch, tmp, [tmp / "good.npy", "--folds", "3"],
           "--folds is an option of the linear probe: it needs --labels")
    _fails(capsys, monkeypatch, tmp, [tmp / "good.npy", tmp / "good.npy"],
           "embeddings: a file is given twice")


def test_bad_output_paths_fail_before_anything(files, capsys, monkeypatch):
    tmp, X, y, E, ids = files
    (tmp / "afile").write_text("x")
    (tmp / "adir").mkdir()
    b = base(tmp, "good", "noise")
    for extra, message in (
            (["--table", tmp / "t.txt"], "--table '" + str(tmp / "t.txt") + "' must end in "
                                         ".csv or .md"),
            (["--table", tmp / "adir"], "must end in .csv or .md"),
            (["--table", tmp / "afile" / "t.csv"], "afile' is a file, not a folder"),
            (["--per-sample", tmp / "adir"], "--per-sample '" + str(tmp / "adir")
             + "' is a folder"),
            (["--per-sample", tmp / "afile" / "p.csv"], "--per-sample"),
            (["--out", tmp / "x.csv", "--table", tmp / "x.csv"],
             "--table '" + str(tmp / "x.csv") + "' is also the file of --out"),
            (["--table", tmp / "x.csv", "--per-sample", tmp / "x.csv"],
             "is also the file of --table"),
            (["--plots", tmp / "afile"], "--plots"),
    ):
        _fails(capsys, monkeypatch, tmp, [*b, *extra], message)


def test_bad_embedding_files_name_the_file(files, capsys, monkeypatch):
    tmp, X, y, E, ids = files
    np.save(tmp / "short.npy", X["good"][:30])
    _fails(capsys, monkeypatch, tmp, [*base(tmp, "good", "short"), "--out", tmp / "r.json"],
           "embeddings file short.npy has 30 rows but good.npy has 36")
    (tmp / "a.csv").write_text("id,f\n" + "".join(f"{i},{j}.0\n" for j, i in enumerate(ids)))
    (tmp / "b.csv").write_text("id,f\n" + "".join(f"{i}x,{j}.0\n" for j, i in enumerate(ids)))
    _fails(capsys, monkeypatch, tmp, [tmp / "a.csv", tmp / "b.csv", "--out", tmp / "r.json"],
           "the ids in embeddings file b.csv differ from those of embeddings file a.csv")
    _fails(capsys, monkeypatch, tmp, [tmp / "good.npy", tmp / "nope.npy"], "does not exist")


def test_bad_split_files_name_the_option(files, capsys, monkeypatch):
    tmp, X, y, E, ids = files
    (tmp / "s1.txt").write_text("p01\npzz\n")
    (tmp / "s2.txt").write_text("0\n99\n")
    (tmp / "s3.txt").write_text("a\nb\n")
    b = base(tmp, "good")
    _fails(capsys, monkeypatch, tmp, [*b, "--train-index", tmp / "s1.txt"],
           "--train-index file s1.txt: 1 id(s) not among the sample ids, e.g. 'pzz'")
    _fails(capsys, monkeypatch, tmp, [*b, "--train-index", tmp / "s2.txt"],
           "--train-index: the split must name samples among the 36 rows")
    nolabel = [tmp / "good.npy", "--labels", tmp / "y.npy", "--train-index", tmp / "s3.txt"]
    _fails(capsys, monkeypatch, tmp, nolabel, "--train-index file s3.txt holds non-integer "
           "entries (e.g. 'a'); pass --ids")
    (tmp / "s5.txt").write_text("3\n3\n")
    _fails(capsys, monkeypatch, tmp, [*b, "--train-index", tmp / "s5.txt"],
           "--train-index file s5.txt names a sample twice")
    (tmp / "s6.txt").write_text("\n")
    _fails(capsys, monkeypatch, tmp, [*b, "--train-index", tmp / "s6.txt"],
           "--train-index file s6.txt is empty")
    _fails(capsys, monkeypatch, tmp, [*b, "--train-index", tmp / "none.txt"],
           "--train-index file")
    (tmp / "s4.txt").write_text("0\n1\n")
    _fails(capsys, monkeypatch, tmp, [*b, "--train-index", tmp / "s4.txt", "--test-index",
                                      tmp / "s4.txt"], "--train-index and --test-index share")


def test_a_failure_in_the_second_embedding_names_it_and_writes_nothing(files, capsys):
    tmp, X, y, E, ids = files
    Z = X["noise"].copy()
    Z[3] = 0.0
    np.save(tmp / "zero.npy", Z)
    before = set(tmp.rglob("*"))
    rc = run(*base(tmp, "good", "zero"), "--normalize", "l2", "--no-linear",
             "--out", tmp / "r.json", "--table", tmp / "t.md", "--plots", tmp / "plots")
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert "embeddings file zero: normalize_rows: 1 row(s) of zero norm" in err
    assert set(tmp.rglob("*")) == before


def test_a_failed_write_removes_the_outputs_already_written(files, capsys, monkeypatch):
    import sip_theory._atomic as atomic

    tmp, X, y, E, ids = files

    def full_disk(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "atomic_write_bytes", full_disk)
    before = set(tmp.rglob("*"))
    rc = run(*base(tmp, "good", "noise"), "--no-linear", "--out", tmp / "r.json",
             "--table", tmp / "t.csv", "--plots", tmp / "plots")
    err = capsys.readouterr().err
    assert rc == 2 and "could not write the output" in err
    assert not (tmp / "r.json").exists() and not (tmp / "t.csv").exists()
    assert {p for p in tmp.rglob("*") if p.is_file()} == {p for p in before if p.is_file()}
