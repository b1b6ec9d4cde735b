"""``sip-theory pretrain`` end to end on tiny generated data: outputs, resume, bad inputs."""

import json

import numpy as np
import pytest
import scipy.sparse as sp

from sip_theory.cli import main

N = 45


def _graph_edges(y, rng, m=110):
    edges = set()
    while len(edges) < m:
        i, j = (int(v) for v in rng.integers(0, len(y), 2))
        if i != j and (y[i] == y[j] or rng.random() < 0.2):
            edges.add((min(i, j), max(i, j)))
    return sorted(edges)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Bag-of-words features (.npy and sparse .npz) of 3 topics, a topic graph, labels, ids."""
    d = tmp_path_factory.mktemp("pretrain-data")
    rng = np.random.default_rng(0)
    y = np.arange(N) % 3
    x = (rng.random((N, 24)) < 0.1).astype(np.float32)
    for i in range(N):
        x[i, 8 * y[i] + rng.integers(0, 8, 3)] = 1.0
    edges = _graph_edges(y, rng)
    np.save(d / "x.npy", x)
    sp.save_npz(d / "x.npz", sp.csr_matrix(x))
    np.save(d / "y.npy", y)
    (d / "g.tsv").write_text("".join(f"{i}\t{j}\n" for i, j in edges))
    ids = [f"p{i}" for i in range(N)]
    (d / "ids.txt").write_text("\n".join(ids) + "\n")
    (d / "g_ids.tsv").write_text("".join(f"p{i}\tp{j}\n" for i, j in edges))
    (d / "y_ids.csv").write_text("id,label\n" + "".join(f"p{i},{y[i]}\n" for i in range(N)))
    return d


def _run(args, capsys):
    rc = main(["pretrain", *map(str, args), "--quiet"])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_features_end_to_end_then_resume_trains_nothing(files, tmp_path, capsys):
    out = tmp_path / "run"
    args = [files / "x.npy", "--graph", files / "g.tsv", "--labels", files / "y.npy",
            "--lambdas", "0,0.5", "--seeds", "2", "--epochs", "2", "--out", out]
    rc, text, err = _run(args, capsys)
    assert rc == 0, err
    assert "Label-free pick" in text and "2 unit(s)" not in text.split("trained")[0][-3:]
    rep = json.loads((out / "report.json").read_text())
    assert rep["run"]["n_trained"] == 4 and rep["run"]["n_resumed"] == 0
    sel = rep["selection"]
    assert sel["chosen_lambda"] in (0.0, 0.5) and set(sel["per_seed"]) == {"0", "1"}
    # the pick is the larger mean validation LRAP, recomputed from the per-seed raw values
    means = {lam: np.mean([rep["arms"][f"lambda{lam:g}"]["per_seed"][s]["metrics"]["val_edges"]
                           ["lrap"] for s in ("0", "1")]) for lam in (0.0, 0.5)}
    assert sel["chosen_lambda"] == max(means, key=lambda lam: (means[lam], -lam))
    for arm in ("raw", "lambda0", "lambda0.5"):
        s = rep["arms"][arm]["summary"]
        assert s["val_lrap"]["n"] == 2 and len(s["test_lrap"]["values"]) == 2
        assert 0.0 <= s["knn3_loo_accuracy"]["mean"] <= 1.0 and "rnn_accuracy" in s
        lab = rep["arms"][arm]["per_seed"]["0"]["labels"]
        assert isinstance(lab["theorem1_realized"], bool) and lab["lc_pt"] is not None
    assert rep["config"]["sampler"] == "uniform" and rep["versions"]["torch"]
    emb = np.load(out / "embeddings.npy")
    chosen = f"lambda{sel['chosen_lambda']:g}"
    assert emb.shape == (N, 64)
    np.testing.assert_array_equal(emb, np.load(out / "embeddings" / f"{chosen}_seed0.npy"))
    for arm in ("lambda0", "lambda0.5"):
        for s in (0, 1):
            assert (out / "embeddings" / f"{arm}_seed{s}.npy").exists()
    assert (out / "summary.md").read_text().startswith("# sip-theory pretrain")
    assert (out / "retrieval.png").read_bytes()[:4] == b"\x89PNG"
    # the same data as sparse .npz, without labels: every unit is resumed, nothing trained
    before = (out / "embeddings" / "lambda0.5_seed1.npy").read_bytes()
    rc, text, err = _run([files / "x.npz", *args[1:3], *args[5:]], capsys)
    assert rc == 0, err
    rep2 = json.loads((out / "report.json").read_text())
    assert rep2["run"]["n_trained"] == 0 and rep2["run"]["n_resumed"] == 6
    assert (out / "embeddings" / "lambda0.5_seed1.npy").read_bytes() == before
    assert "knn3_loo_accuracy" not in rep2["arms"]["lambda0"]["summary"]
    # a corrupted embedding file is retrained, alone
    (out / "embeddings" / "lambda0_seed0.npy").write_bytes(b"broken")
    rc, _, err = _run(args, capsys)
    rep3 = json.loads((out / "report.json").read_text())
    assert rc == 0 and rep3["run"]["n_trained"] == 1


def test_string_ids_and_hard_negative_samplers(files, tmp_path, capsys):
    for sampler in ("two-hop", "knn-band"):
        out = tmp_path / sampler
        rc, _, err = _run([files / "x.npz", "--graph", files / "g_ids.tsv", "--ids",
                           files / "ids.txt", "--labels", files / "y_ids.csv", "--lambdas", "0.5",
                           "--epochs", "1", "--sampler", sampler, "--no-raw", "--out", out],
                          capsys)
        assert rc == 0, err
        rep = json.loads((out / "report.json").read_text())
        strategy = rep["arms"]["lambda0.5"]["per_seed"]["0"]
        assert rep["config"]["sampler"] == sampler and "raw" not in rep["arms"]
        assert strategy["steps"] > 0
        tc = json.loads((out / "runs" / "lambda0.5_seed0.json").read_text())["trainer_config"]
        assert tc["negatives"] == {"two-hop": "two_hop", "knn-band": "knn_band"}[sampler]
        # the split kept every linked node linked in G_PT
        assert rep["splits"]["0"]["keep_every_node"] is True


@pytest.mark.slow
def test_text_corpora_train_the_transformer(tmp_path, capsys):
    from sip_theory.data import make_character_corpus, make_topic_corpus

    n = 30
    y = np.arange(n) % 2
    rng = np.random.default_rng(1)
    words = make_topic_corpus(2, n_words=20, seed=0)
    tok = words.sample_tokens(np.eye(2)[y], length=8, seed=1, special=False)
    vocab = words.vocabulary()
    (tmp_path / "w.txt").write_text("".join(" ".join(vocab[t] for t in r) + "\n" for r in tok))
    chars = make_character_corpus(2, seed=0).sample_text(np.eye(2)[y], seed=2)
    (tmp_path / "c.txt").write_text("".join(t[:40] + "\n" for t in chars))
    (tmp_path / "g.tsv").write_text("".join(f"{i}\t{j}\n" for i, j in _graph_edges(y, rng, 70)))
    np.save(tmp_path / "y.npy", y)
    for name, mode in (("w.txt", "word"), ("c.txt", "char")):
        out = tmp_path / f"out-{mode}"
        rc, _, err = _run([tmp_path / name, "--tokens", mode, "--graph", tmp_path / "g.tsv",
                           "--labels", tmp_path / "y.npy", "--lambdas", "0,0.5", "--epochs", "1",
                           "--out", out], capsys)
        assert rc == 0, err
        rep = json.loads((out / "report.json").read_text())
        assert rep["config"]["encoder"] == "transformer" and rep["data"]["kind"] == "text"
        assert rep["config"]["objective"]["name"] == "mlm"
        assert np.load(out / "embeddings.npy").shape == (n, 64)


def _bad_cases(files, tmp):
    """(name, argv, the argument the error must name)."""
    zero = np.load(files / "x.npy")
    zero[7] = 0.0
    np.save(tmp / "zero.npy", zero)
    (tmp / "short_ids.txt").write_text("\n".join(f"p{i}" for i in range(N - 1)) + "\n")
    (tmp / "other_ids.txt").write_text("\n".join(f"q{i}" for i in range(N)) + "\n")
    (tmp / "matching.tsv").write_text("".join(f"{2 * i}\t{2 * i + 1}\n" for i in range(N // 2)))
    (tmp / "empty_line.txt").write_text("ab c\nb a\n\nc c\n")
    (tmp / "afile").write_text("x")
    base = ["--graph", files / "g.tsv", "--epochs", "1", "--lambdas", "0.5"]
    return [
        ("ids count", [files / "x.npy", *base, "--ids", tmp / "short_ids.txt"], "--ids"),
        ("ids unknown", [files / "x.npy", "--graph", files / "g_ids.tsv", "--ids",
                         tmp / "other_ids.txt"], "--graph"),
        ("no links left", [files / "x.npy", "--graph", tmp / "matching.tsv"], "--graph"),
        ("all-zero row", [tmp / "zero.npy", *base], "FEATURES"),
        ("lambda", [files / "x.npy", "--graph", files / "g.tsv", "--lambdas", "0,1.2"],
         "--lambdas"),
        ("empty text line", [tmp / "empty_line.txt", "--tokens", "word", *base], "FEATURES"),
        ("missing file", [tmp / "nope.npy", *base], "FEATURES"),
        ("out is a file", [files / "x.npy", *base], "--out"),
        ("encoder", [files / "x.npy", *base, "--encoder", "transformer"], "--encoder"),
    ]


def test_bad_inputs_fail_in_one_line_naming_the_argument_and_write_nothing(files, tmp_path,
                                                                           capsys):
    for name, argv, arg in _bad_cases(files, tmp_path):
        out = tmp_path / "afile" if name == "out is a file" else tmp_path / f"out-{name}"
        rc, _, err = _run([*argv, "--out", out], capsys)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert rc == 2 and len(lines) == 1, (name, err)
        assert arg in lines[0], (name, lines[0])
        if name != "out is a file":
            assert not out.exists(), name
