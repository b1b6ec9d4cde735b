"""Two CPU processes on the gloo backend give the single-process results (torch.distributed)."""

import os

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from sip_theory.geometry import (
    compute_neighbors,
    link_retrieval,
    neighborhood_preservation,
    radius_neighbors,
)


def data():
    rng = np.random.default_rng(0)
    X = rng.integers(-3, 4, size=(45, 3)).astype(np.float64)  # exact distances, many ties
    E = np.array([(i, j) for i in range(45) for j in range(i + 1, 45) if rng.random() < 0.08])
    return X, E


def summarise(distributed):
    X, E = data()
    nb = compute_neighbors(X, k=4, graph=E, uniformity_t=(2.0,), histogram_bins=16,
                           chunk_size=4, distributed=distributed)
    r = link_retrieval(X, E, ks=(1, 4), neighbors=nb)
    ptr, ind, dist_ = radius_neighbors(X, 2.0, chunk_size=5, distributed=distributed)
    tc = neighborhood_preservation(X, X[:, :2], k=3, chunk_size=6, distributed=distributed)
    return {
        "indices": nb.indices, "distances": nb.distances, "rank_le": nb.edges.rank_le,
        "rank_lt": nb.edges.rank_lt, "min_nonedge": nb.edges.min_nonedge,
        "n_le": nb.pairs.n_le, "n_lt": nb.pairs.n_lt, "hist": nb.pairs.hist_le,
        "uniformity": np.array([nb.uniformity[(2.0, True)]]),
        "lrap": np.array([r.lrap, r.ndcg, r.ap_micro, r.mrr]),
        "radius": np.concatenate([ptr, ind]), "radius_d": dist_,
        "trust": np.array([tc.trustworthiness, tc.continuity]),
        "world": np.array([nb.world_size]),
    }


def _worker(rank, world, init_file, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=world)
    try:
        res = summarise("auto")
        np.savez(os.path.join(out_dir, f"rank{rank}.npz"), **res)
    finally:
        dist.destroy_process_group()


def test_two_gloo_ranks_equal_one_process(tmp_path):
    single = summarise(False)
    # fork: the workers inherit the imported modules (spawn would re-import torch twice)
    mp.start_processes(_worker, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2,
                       join=True, start_method="fork")
    for rank in (0, 1):
        with np.load(tmp_path / f"rank{rank}.npz") as z:
            assert int(z["world"][0]) == 2
            for key, value in single.items():
                if key == "world":
                    continue
                if key == "uniformity":
                    np.testing.assert_allclose(z[key], value, rtol=1e-14)
                else:
                    np.testing.assert_array_equal(z[key], value, err_msg=key)
