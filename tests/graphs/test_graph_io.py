"""Tests of edge-list files: TSV/CSV, string ids, weights, headers, errors."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from sip_theory.graphs import SampleGraph, read_edgelist, write_edgelist
from sip_theory.testing import sample_graphs

FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(g=sample_graphs(min_nodes=1, max_nodes=8, weighted=True))
def test_tsv_round_trip_with_integer_ids(tmp_path, g):
    path = tmp_path / "g.tsv"
    write_edgelist(g, path)
    assert read_edgelist(path, n_nodes=g.n_nodes) == g


@FAST
@given(g=sample_graphs(min_nodes=1, max_nodes=8))
def test_csv_round_trip_with_string_ids(tmp_path, g):
    ids = [f"node-{i}" for i in range(g.n_nodes)]
    named = SampleGraph.from_edges(g.edges(), n_nodes=g.n_nodes, node_ids=ids)
    path = tmp_path / "g.csv"
    write_edgelist(named, path)
    assert read_edgelist(path, node_ids=ids) == named


def test_string_ids_numbered_in_order_of_first_appearance(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("source,target\nPaperB,PaperA\nPaperA,PaperC\n")
    g = read_edgelist(path)
    assert g.node_ids.tolist() == ["PaperB", "PaperA", "PaperC"]
    assert g.edges().tolist() == [[0, 1], [1, 2]]


def test_weight_column_and_comments_are_read(tmp_path):
    path = tmp_path / "g.tsv"
    path.write_text("# a comment\n0\t1\t0.5\n1\t2\t2\n")
    g = read_edgelist(path)
    assert g.weighted and g.edge_weights().tolist() == [0.5, 2.0]


def test_id_absent_from_node_ids_raises(tmp_path):
    path = tmp_path / "g.tsv"
    path.write_text("a\tb\nb\tz\n")
    with pytest.raises(ValueError, match="not found in node_ids"):
        read_edgelist(path, node_ids=["a", "b"])


def test_duplicate_lines_raise_under_default_policy(tmp_path):
    path = tmp_path / "g.tsv"
    path.write_text("a\tb\nb\ta\n")
    with pytest.raises(ValueError, match="duplicate pair"):
        read_edgelist(path)
    assert read_edgelist(path, duplicates="merge").n_edges == 1


def test_line_with_one_field_raises(tmp_path):
    path = tmp_path / "g.tsv"
    path.write_text("a\tb\nc\n")
    with pytest.raises(ValueError, match="fewer than two fields"):
        read_edgelist(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_edgelist(tmp_path / "nope.tsv")


def test_written_file_is_one_line_per_edge(tmp_path):
    g = SampleGraph.from_edges(np.array([[0, 1], [1, 2]]), n_nodes=4)
    path = tmp_path / "g.tsv"
    write_edgelist(g, path)
    assert path.read_text() == "0\t1\n1\t2\n"
