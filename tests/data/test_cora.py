"""The shipped Cora copy matches the facts its README states."""

import numpy as np
import pytest

from sip_theory.data import load_cora


@pytest.fixture(scope="module")
def cora():
    return load_cora()


def test_cora_sizes(cora):
    assert cora.features.shape == (2708, 1433)
    assert cora.graph.n_nodes == 2708 and cora.graph.n_edges == 5278


def test_cora_has_no_isolated_node(cora):
    assert cora.graph.degrees().min() >= 1


def test_cora_class_sizes(cora):
    assert np.bincount(cora.labels).tolist() == [351, 217, 418, 818, 426, 298, 180]


def test_cora_split_sizes_and_disjointness(cora):
    sizes = [cora.train_index.size, cora.val_index.size, cora.test_index.size]
    assert sizes == [140, 500, 1000]
    allidx = np.concatenate([cora.train_index, cora.val_index, cora.test_index])
    assert np.unique(allidx).size == allidx.size


def test_cora_features_are_binary(cora):
    assert set(np.unique(cora.features.data).tolist()) == {1.0}


def test_load_cora_from_explicit_path_equals_shipped(cora):
    from importlib import resources

    path = resources.files("sip_theory.data").joinpath("cora.npz")
    other = load_cora(path)
    assert other.graph == cora.graph
    assert np.array_equal(other.labels, cora.labels)
