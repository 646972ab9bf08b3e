"""Atomic writes and validation helpers"""

import os
import stat

import numpy as np
import pytest

from lasco_sionna.utils.io import atomic_path
from lasco_sionna.utils.validation import check_choice, check_finite, check_positive


def test_atomic_path_replaces_on_success_only(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write("half-written")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["table.csv"]           # no leftovers
    with atomic_path(target) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("new")
    assert target.read_text() == "new"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o666 & ~umask


def test_validation_messages():
    with pytest.raises(ValueError, match="`k` must be a finite integer > 0, got 0"):
        check_positive("k", 0, integer=True)
    with pytest.raises(ValueError, match="`k` must be an integer, got 2.5"):
        check_positive("k", 2.5, integer=True)
    with pytest.raises(ValueError, match="`x`='b' is not valid; allowed: 'a'"):
        check_choice("x", "b", ("a",))
    with pytest.raises(ValueError, match="1 NaN/Inf"):
        check_finite("h", np.array([1.0, np.inf]))


def test_forward_flops_match_closed_form():
    import keras  # noqa: PLC0415
    from lasco_sionna.utils.profiling import forward_flops  # noqa: PLC0415
    dense = keras.layers.Dense(7, use_bias=False)
    # [batch 3, 5] @ [5, 7]: 3 * 7 * (2 * 5) multiply-adds
    assert forward_flops(dense, (3, 5)) == 3 * 7 * 2 * 5
    # Matmuls of a 2-layer MLP on 4 inputs (biases add 4 * 16 + 4 * 2)
    mlp = keras.Sequential([keras.layers.Dense(16), keras.layers.Dense(2)])
    assert forward_flops(mlp, (4, 8)) == 4 * (2 * 8 * 16 + 16 + 2 * 16 * 2 + 2)
    with pytest.raises(ValueError, match="positive integers"):
        forward_flops(dense, (0, 5))
    with pytest.raises(TypeError, match="must be callable"):
        forward_flops(3, (1, 5))
