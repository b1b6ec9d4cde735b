"""The one-GPU command (`make paper-gpu`: concurrent worker processes on one device), smoke-tested.

On CPU the same code path runs with the smoke profile and two worker processes;
with a CUDA device the test also runs it on the device.
"""

import re
from pathlib import Path

import pytest
import torch

from sip_theory.experiments import reproduce


def test_makefile_target_is_the_paper_profile_on_cuda_with_concurrent_workers():
    text = (Path(__file__).parents[2] / "Makefile").read_text()
    body = text.split("paper-gpu: setup", 1)[1].split("\n\n", 1)[0]
    assert "--profile paper" in body and "--device cuda" in body
    assert re.search(r"--jobs \$\(GPU_JOBS\)", body)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_concurrent_workers_share_one_device(tmp_path, device):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    reproduce("smoke", out_dir=tmp_path, only="cliques_p00", jobs=2, device=device,
              progress=False)
    runs = list(tmp_path.glob("*/runs/*.json"))
    assert len(runs) == 2 and not list(tmp_path.glob("*/runs/*.failed.json"))
    assert (tmp_path / "summary.md").exists()
