"""Atomic writes and validation helpers"""

import os
import stat

import numpy as np
import pytest

from lasco_sionna.utils.io import atomic_path
from lasco_sionna.utils.validation import (check_choice, check_finite,
                                           check_instance, check_positive)


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
    with pytest.raises(TypeError, match="^`n` must be an int, got str$"):
        check_instance("n", "3", int)
    with pytest.raises(TypeError, match="^`s` must be a str, got int$"):
        check_instance("s", 3, str)
    assert check_instance("n", 3, int) == 3


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


# Seeds computed by the code before derive_seed existed (sweep point seeds
# and dataset chunk seeds decide shipped results and cached datasets: they
# must never change)
POINT_SEEDS = [(0, "0123456789ab", 610621054), (0, "deadbeef0000", 1734936007),
               (1, "0123456789ab", 737871287), (7, "ffffffffffff", 1188029912),
               (123456, "deadbeef0000", 1179195942),
               (2 ** 31 - 2, "ffffffffffff", 1985146297)]
CHUNK_SEEDS = [(0, 0, 821328063), (0, 1, 1817441349), (0, 57, 701092034),
               (1, 2, 1596810411), (101, 0, 1989827640), (101, 1, 114807835),
               (2 ** 31 - 2, 57, 626882879)]


def test_derive_seed_is_the_documented_hash():
    import hashlib  # noqa: PLC0415
    from lasco_sionna.utils.seeds import derive_seed  # noqa: PLC0415
    for seed, keys in ((0, ()), (5, ("noise",)), (2 ** 32 - 1, ("chunk", 3)),
                       (17, (0, "validation", 12))):
        text = ":".join(str(v) for v in (seed,) + keys)
        expected = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) \
            % (2 ** 31 - 1)
        assert derive_seed(seed, *keys) == expected
    assert derive_seed(0, 1) == derive_seed(0, "1") == \
        derive_seed(0, np.int64(1))
    values = {derive_seed(3, "rep", i) for i in range(2000)}
    assert len(values) == 2000                    # no collisions here
    assert all(0 <= v <= 2 ** 31 - 2 for v in values)
    # Neighbouring parent seeds do not share streams (seed + i would)
    assert not {derive_seed(0, i) for i in range(1, 50)} & \
        {derive_seed(1, i) for i in range(50)}


def test_derive_seed_refuses_ambiguous_keys():
    from lasco_sionna.utils.seeds import derive_seed  # noqa: PLC0415
    with pytest.raises(ValueError, match="must not contain ':'"):
        derive_seed(0, "a:b")
    with pytest.raises(TypeError, match=r"`keys\[0\]` must be an integer or"):
        derive_seed(0, 1.5)
    with pytest.raises(TypeError, match="`seed` must be an integer"):
        derive_seed("0", 1)
    with pytest.raises(TypeError, match="`seed` must be an integer"):
        derive_seed(True)
    with pytest.raises(ValueError, match="`seed` must be >= 0"):
        derive_seed(-1)


def test_point_and_chunk_seeds_are_unchanged():
    from lasco_sionna.channels.dataset import _chunk_seed  # noqa: PLC0415
    from lasco_sionna.sweep.config import point_seed  # noqa: PLC0415
    from lasco_sionna.utils.seeds import derive_seed  # noqa: PLC0415
    for sweep_seed, pid, value in POINT_SEEDS:
        assert point_seed(sweep_seed, pid) == value
        assert derive_seed(sweep_seed, pid) == value
    for seed, index, value in CHUNK_SEEDS:
        assert _chunk_seed(seed, index) == value
