"""Atomic output: a failure leaves neither a partial file nor a stray temporary."""

import json
import math

import pytest

from sip_theory._atomic import atomic_path, atomic_write_json


def test_failure_inside_block_leaves_target_untouched(tmp_path):
    target = tmp_path / "result.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_json_refuses_nan_without_writing(tmp_path):
    target = tmp_path / "r.json"
    with pytest.raises(ValueError):
        atomic_write_json(target, {"x": math.nan})
    assert not target.exists()


def test_json_serializes_numpy_values(tmp_path):
    import numpy as np

    target = tmp_path / "sub" / "r.json"
    atomic_write_json(target, {"a": np.float64(0.5), "b": np.arange(3)})
    assert json.loads(target.read_text()) == {"a": 0.5, "b": [0, 1, 2]}


def test_written_file_follows_the_umask(tmp_path):
    import os
    import stat

    from sip_theory._atomic import atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
