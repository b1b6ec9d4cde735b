"""The trainer's pair-sampling strategies (issue 15): two-hop and k-NN-band partners by config."""

import numpy as np
import pytest
import torch

from sip_theory.graphs import SampleGraph
from sip_theory.losses import two_hop_graph
from sip_theory.models import MaskedFeatureReconstruction, MLPEncoder, SIPTTrainer, TrainerConfig

# a 12-cycle: node i's two-hop nodes are i +- 2; its neighbours i +- 1
N = 12
CYCLE = SampleGraph.from_edges([(i, (i + 1) % N) for i in range(N)])


def _features(n=N, d=6, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).random((n, d)).astype(np.float32))


def _trainer(x=None, **kw):
    x = _features() if x is None else x
    enc = MLPEncoder(x.shape[1], hidden_sizes=[8], out_features=4, seed=0)
    obj = MaskedFeatureReconstruction(4, x.shape[1], seed=0, loss="mse")
    opts = dict(lambda_si=0.5, epochs=2, batch_size=5, seed=1)
    return SIPTTrainer(enc, CYCLE, x, objective=obj, **{**opts, **kw})


def test_two_hop_negatives_are_at_graph_distance_two():
    tr = _trainer(negatives="two_hop")
    tr._plan = tr._new_plan()
    a, neg = tr._plan["anchors"], tr._plan["negatives"]
    hop = two_hop_graph(CYCLE).to_dense()
    assert hop[a, neg].all() and not CYCLE.to_dense()[a, neg].any()
    assert len(tr.fit()) == 2


def test_knn_band_ranks_in_the_raw_features_by_default():
    # features on a line: the k_pos=(0, 1) positive is the nearest other row
    x = torch.tensor([[float(i) ** 1.5] for i in range(N)])
    tr = _trainer(x, positives="knn_band", negatives="knn_band", k_pos=(0, 1), k_neg=(3, 5))
    np.testing.assert_array_equal(tr.band_embedding, x.double().numpy())
    tr._plan = tr._new_plan()
    a, pos, neg = tr._plan["anchors"], tr._plan["positives"], tr._plan["negatives"]
    d = np.abs(x.numpy()[:, 0][:, None] - x.numpy()[:, 0][None, :])
    np.fill_diagonal(d, np.inf)
    assert (pos == d[a].argmin(1)).all()
    ranks = np.argsort(np.argsort(d[a], axis=1, kind="stable"), axis=1, kind="stable")
    assert ((ranks[np.arange(a.size), neg] >= 3) & (ranks[np.arange(a.size), neg] < 5)).all()
    assert not CYCLE.to_dense()[a, neg].any()
    tr.fit()
    assert tr.config.to_dict()["k_pos"] in ([0, 1], (0, 1))


def test_fingerprint_names_the_strategy_and_band_space():
    base = _trainer().fingerprint()
    assert _trainer(negatives="two_hop").fingerprint() != base
    band = dict(positives="knn_band", negatives="knn_band", k_pos=(0, 2), k_neg=(3, 5))
    f1 = _trainer(**band).fingerprint()
    f2 = _trainer(**band, band_embedding=np.arange(2 * N).reshape(N, 2)[::-1]).fingerprint()
    assert f1 != f2 and f1 != base
    assert _trainer(**band).fingerprint() == f1
    # lambda_si = 0 never samples pairs: no two-hop table is built (the config, and
    # so the fingerprint, still names the strategy)
    tr0 = _trainer(lambda_si=0.0, negatives="two_hop")
    assert tr0.sampler.negatives == "global"  # no two-hop table built


def test_strategy_options_are_validated():
    with pytest.raises(ValueError, match="k_pos is required"):
        TrainerConfig(positives="knn_band")
    with pytest.raises(ValueError, match="k_neg is required"):
        TrainerConfig(k_neg=(1, 2))
    with pytest.raises(ValueError, match="all_pairs"):
        TrainerConfig(sampler="all_pairs", negatives="two_hop")
    with pytest.raises(ValueError, match="negatives"):
        TrainerConfig(negatives="hard")
    with pytest.raises(ValueError, match="band_embedding is required"):
        from sip_theory.models import LookupEncoder

        SIPTTrainer(LookupEncoder(N, 2), CYCLE, torch.arange(N), lambda_si=1.0,
                    negatives="knn_band", k_neg=(2, 4))
    with pytest.raises(ValueError, match="used only"):
        _trainer(band_embedding=np.zeros((N, 2)))


def test_checkpoint_without_the_new_fields_still_loads(tmp_path):
    tr = _trainer()
    tr.fit(epochs=1)
    state = tr.state_dict()
    for k in ("positives", "k_pos", "k_neg", "band_metric"):
        state["config"].pop(k)
    fresh = _trainer()
    fresh.load_state_dict(state)
    assert fresh.step == tr.step
    other = _trainer(negatives="two_hop")
    with pytest.raises(ValueError, match="negatives"):
        other.load_state_dict(tr.state_dict())
