"""Generic file loaders: formats, id matching, and errors that name the file and the row."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sip_theory.data import load_embeddings, load_graph, load_ids, load_labels


def test_embeddings_from_every_format_agree(tmp_path):
    X = np.arange(12, dtype=np.float64).reshape(4, 3) / 7
    np.save(tmp_path / "a.npy", X)
    np.savez(tmp_path / "b.npz", X)
    torch.save(torch.from_numpy(X), tmp_path / "c.pt")
    (tmp_path / "d.tsv").write_text("".join("\t".join(map(repr, r)) + "\n" for r in X.tolist()))
    for name in ("a.npy", "b.npz", "c.pt", "d.tsv"):
        np.testing.assert_array_equal(load_embeddings(tmp_path / name), X)


def test_ambiguous_containers_need_a_key(tmp_path):
    np.savez(tmp_path / "m.npz", u=np.ones((2, 2)), v=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="several arrays"):
        load_embeddings(tmp_path / "m.npz")
    assert load_embeddings(tmp_path / "m.npz", key="v").sum() == 0
    torch.save({"u": torch.ones(2, 2), "v": torch.zeros(2, 2)}, tmp_path / "m.pt")
    with pytest.raises(ValueError, match="name one with key"):
        load_embeddings(tmp_path / "m.pt")


def test_embedding_errors_name_file_and_rows(tmp_path):
    (tmp_path / "e.csv").write_text("1,2\n3,nan\n4,5\n")
    with pytest.raises(ValueError, match=r"e.csv has 1 row\(s\) with NaN.*rows 1"):
        load_embeddings(tmp_path / "e.csv")
    (tmp_path / "r.csv").write_text("1,2\n3\n")
    with pytest.raises(ValueError, match="rows of different lengths"):
        load_embeddings(tmp_path / "r.csv")
    (tmp_path / "x.parquet").write_text("")
    with pytest.raises(ValueError, match="unknown format"):
        load_embeddings(tmp_path / "x.parquet")


def test_labels_by_row_and_by_id(tmp_path):
    (tmp_path / "rows.txt").write_text("label\ncat\ndog\ncat\n")
    assert load_labels(tmp_path / "rows.txt").tolist() == ["cat", "dog", "cat"]
    (tmp_path / "ids.tsv").write_text("c\t2\na\t0\nb\t1\n")
    assert load_labels(tmp_path / "ids.tsv", ids=["a", "b", "c"]).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="no line for 1 sample id"):
        load_labels(tmp_path / "ids.tsv", ids=["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="1 id\\(s\\) that are not samples"):
        load_labels(tmp_path / "ids.tsv", ids=["a", "b"])
    with pytest.raises(ValueError, match="pass the sample ids"):
        load_labels(tmp_path / "ids.tsv")
    with pytest.raises(ValueError, match="has 3 labels but the embeddings have 4"):
        load_labels(tmp_path / "rows.txt", n_samples=4)


def test_ids_must_be_unique(tmp_path):
    (tmp_path / "i.txt").write_text("a\nb\na\n")
    with pytest.raises(ValueError, match="repeats ids, e.g. 'a'"):
        load_ids(tmp_path / "i.txt")


def test_graphs_from_edge_lists_and_npz(tmp_path):
    (tmp_path / "g.tsv").write_text("0\t1\n1\t2\n")
    assert load_graph(tmp_path / "g.tsv", n_nodes=4).n_nodes == 4
    with pytest.raises(ValueError, match="out of range"):
        load_graph(tmp_path / "g.tsv", n_nodes=2)
    A = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float))
    sp.save_npz(tmp_path / "a.npz", A)
    assert load_graph(tmp_path / "a.npz", n_nodes=3).edges().tolist() == [[0, 1], [1, 2]]
    with pytest.raises(ValueError, match="has 3 nodes but the embeddings have 5"):
        load_graph(tmp_path / "a.npz", n_nodes=5)
    np.savez(tmp_path / "bad.npz", x=np.ones(3))
    with pytest.raises(ValueError, match="expected an 'edges'"):
        load_graph(tmp_path / "bad.npz")
