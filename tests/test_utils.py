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
