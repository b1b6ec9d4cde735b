"""Generic file loaders: formats (gzip and sparse too), id matching, missing labels, what graph
loading did, and errors that name the file and the row."""

import gzip
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.data import load_embeddings, load_graph, load_ids, load_labels
from sip_theory.graphs import SampleGraph
from sip_theory.graphs._io import edge_list_stats


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


# --- messy real-data files -----------------------------------------------------------------



def _gz(path, text):
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(text)


def test_gzip_text_files_read_like_plain_ones(tmp_path):
    _gz(tmp_path / "e.csv.gz", "id,x,y\na,0.5,1\nb,2,3\n")
    X, ids = load_embeddings(tmp_path / "e.csv.gz", return_ids=True)
    assert X.tolist() == [[0.5, 1.0], [2.0, 3.0]] and ids.tolist() == ["a", "b"]
    _gz(tmp_path / "ids.txt.gz", "a\nb\n")
    assert load_ids(tmp_path / "ids.txt.gz").tolist() == ["a", "b"]
    _gz(tmp_path / "y.tsv.gz", "b\t1\na\t0\n")
    assert load_labels(tmp_path / "y.tsv.gz", ids=["a", "b"]).tolist() == [0, 1]
    _gz(tmp_path / "g.tsv.gz", "a\tb\n")
    assert load_graph(tmp_path / "g.tsv.gz", ids=["a", "b"]).edges().tolist() == [[0, 1]]


def test_gzip_of_a_binary_format_is_refused(tmp_path):
    _gz(tmp_path / "e.npy.gz", "x")
    with pytest.raises(ValueError, match=r"e.npy.gz: gzip is read for text files .*'\.npy'"):
        load_embeddings(tmp_path / "e.npy.gz")


def test_sparse_npz_embeddings_are_densified_with_a_size_warning(tmp_path):
    X = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, 0.0]], dtype=np.float32)
    sp.save_npz(tmp_path / "s.npz", sp.csr_matrix(X))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = load_embeddings(tmp_path / "s.npz")
    np.testing.assert_array_equal(got, X)
    assert got.dtype == np.float32
    (msg,) = [str(w.message) for w in caught]
    assert msg == ("embeddings file s.npz holds a scipy sparse 2 x 3 matrix with 2 stored values "
                   "(33.33% dense); densified to 24 bytes (float32) for the exact distance sweep")


def test_labels_with_empty_cells_nan_and_a_marker_come_back_masked(tmp_path):
    (tmp_path / "y.csv").write_text("id,label\nb,cat\na,\nc,dog\n")
    y = load_labels(tmp_path / "y.csv", ids=["a", "b", "c"])
    assert isinstance(y, np.ma.MaskedArray) and y.mask.tolist() == [True, False, False]
    assert y.compressed().tolist() == ["cat", "dog"]
    (tmp_path / "r.txt").write_text("3\n-1\n4\n")
    y = load_labels(tmp_path / "r.txt", missing_label=-1)
    assert y.dtype == np.int64 and y.mask.tolist() == [False, True, False]
    assert load_labels(tmp_path / "r.txt").tolist() == [3, -1, 4]  # -1 is a class by default
    np.save(tmp_path / "f.npy", np.array([1.0, np.nan, 2.0]))
    y = load_labels(tmp_path / "f.npy")
    assert y.dtype == np.int64 and y.mask.tolist() == [False, True, False]
    np.save(tmp_path / "i.npy", np.array([1, -1, 2]))
    assert load_labels(tmp_path / "i.npy", missing_label=-1).mask.tolist() == [False, True,
                                                                               False]


def test_label_file_errors_name_the_file(tmp_path):
    (tmp_path / "none.csv").write_text("id,label\na,\nb,\n")
    with pytest.raises(ValueError, match="labels file none.csv: every label is missing"):
        load_labels(tmp_path / "none.csv", ids=["a", "b"])
    (tmp_path / "ws.txt").write_text("a 1\nb\n")
    with pytest.raises(ValueError, match="ws.txt has rows of different lengths.*comma- or tab"):
        load_labels(tmp_path / "ws.txt", ids=["a", "b"])
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    with pytest.raises(ValueError, match="missing_label=-1 cannot mark labels of dtype"):
        load_labels(tmp_path / "s.npy", missing_label=-1)


def test_graph_loading_counts_what_it_did(tmp_path):
    # a-b twice, b-a once, b-c one way, c-c a self-loop
    (tmp_path / "g.tsv").write_text("a\tb\na\tb\nb\ta\nb\tc\nc\tc\n")
    g, st_ = load_graph(tmp_path / "g.tsv", ids=["a", "b", "c"], return_stats=True)
    assert g.edges().tolist() == [[0, 1], [1, 2]]
    assert st_ == {"n_lines": 5, "self_loops_dropped": 1, "duplicate_lines_merged": 1,
                   "reverse_pairs_merged": 1, "one_direction_made_undirected": 1, "n_edges": 2}
    np.savez(tmp_path / "e.npz", edges=np.array([[0, 1], [1, 0], [2, 2], [1, 2]]))
    assert load_graph(tmp_path / "e.npz", return_stats=True)[1]["reverse_pairs_merged"] == 1
    # a directed sparse matrix is made undirected (it used to raise), counted
    A = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1], [0, 1, 0]], dtype=float))
    sp.save_npz(tmp_path / "a.npz", A)
    g, st_ = load_graph(tmp_path / "a.npz", return_stats=True)
    assert g.edges().tolist() == [[0, 1], [1, 2]]
    assert st_ == {"n_stored": 4, "self_loops_dropped": 1, "one_direction_made_undirected": 1,
                   "n_edges": 2}


def test_an_edgeless_graph_file_is_an_error(tmp_path):
    (tmp_path / "empty.tsv").write_text("# nothing here\n")
    with pytest.raises(ValueError, match="graph file empty.tsv has no edges$"):
        load_graph(tmp_path / "empty.tsv", n_nodes=3)
    (tmp_path / "loops.tsv").write_text("0\t0\n1\t1\n")
    with pytest.raises(ValueError, match=r"loops.tsv has no edges \(only 2 self-loop\(s\)"):
        load_graph(tmp_path / "loops.tsv", n_nodes=3)
    np.savez(tmp_path / "e.npz", edges=np.zeros((0, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="e.npz has no edges"):
        load_graph(tmp_path / "e.npz", n_nodes=3)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=25))
def test_edge_list_stats_account_for_every_line(lines):
    e = np.array(lines, dtype=np.int64).reshape(-1, 2)
    s = edge_list_stats(e)
    assert s["n_lines"] == (s["self_loops_dropped"] + s["duplicate_lines_merged"]
                            + 2 * s["reverse_pairs_merged"] + s["one_direction_made_undirected"])
    assert s["n_edges"] == s["reverse_pairs_merged"] + s["one_direction_made_undirected"]
    assert s["n_edges"] == SampleGraph.from_edges(e, n_nodes=6, duplicates="merge").n_edges
