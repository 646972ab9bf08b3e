"""The link on every kind of environment, through its sweep evaluator (lasco_sionna.link.point)"""

import numpy as np
import pytest

from lasco_sionna.link.point import evaluate_point

TINY = {"num_users": 2, "numerology": {"fft_size": 32},
        "bs_array": {"num_cols": 4}, "dataset_size": 12, "batch_size": 2,
        "max_mc_iter": 1, "rate_batches": 1, "ebno_db": 10.0, "seed": 1}


@pytest.mark.parametrize("environment", [
    "cdl-e", "umi-nlos",
    {"name": "rt-simple_street_canyon", "samples_per_src": 20000,
     "max_depth": 2}])
@pytest.mark.parametrize("csi", ["perfect", {"name": "type1",
                                             "oversampling": 2,
                                             "num_subbands": 4}])
def test_link_runs_on_every_environment_kind(environment, csi):
    m = evaluate_point({**TINY, "environment": environment, "csi": csi})
    assert 0 <= m["ber"] <= 1 and 0 <= m["bler"] <= 1
    assert np.isfinite(m["sum_rate"]) and m["sum_rate"] > 0
    # type1: 4 subbands x (log2(4 antennas x 2 oversampling) + 4 amplitude bits)
    want_bits = 64 * 4 * 32 if csi == "perfect" else 4 * (3 + 4)
    assert m["feedback_bits_per_user"] == want_bits


def test_bad_points():
    with pytest.raises(ValueError, match=r"unknown point keys \['colour'\]"):
        evaluate_point({**TINY, "environment": "cdl-a", "colour": 1})
    with pytest.raises(ValueError, match="needs `environment`"):
        evaluate_point(TINY)
    with pytest.raises(ValueError, match="unknown environment 'cdl-q'"):
        evaluate_point({**TINY, "environment": "cdl-q"})


ADAPTED_LINK = {"num_users": 2, "numerology": {"fft_size": 64},
                "bs_array": {"num_cols": 32}, "dataset_size": 8,
                "batch_size": 2, "max_mc_iter": 1, "rate_batches": 1,
                "ebno_db": 10.0, "seed": 1, "environment": "cdl-e"}


@pytest.mark.slow
@pytest.mark.parametrize("method", ["elasco_linear", "elasco_tap"])
def test_adapted_csi_path_adapts_to_the_points_environment(method):
    from lasco_sionna.csi import get_csi_feedback
    from lasco_sionna.models import load_pretrained
    spec = {"name": "adapted", "model": "lam-tiny", "reference": "sam-tiny",
            "method": method, "num_samples": 40, "num_val": 20, "steps": 20}
    csi = get_csi_feedback({**spec, "environment": "cdl-e",
                            "numerology": {"fft_size": 64},
                            "bs_array": {"num_cols": 32}}, 32, 64)
    encoder = load_pretrained("lam-tiny")[0]
    assert csi.payload_bits == encoder.payload_bits + 8
    assert csi.adaptation.zero_shot_val_nmse_db is not None
    m = evaluate_point({**ADAPTED_LINK, "csi": spec})
    assert m["feedback_bits_per_user"] == csi.payload_bits
    assert np.isfinite(m["sum_rate"]) and m["sum_rate"] > 0


def test_adapted_csi_path_bad_input():
    from lasco_sionna.csi import get_csi_feedback
    with pytest.raises(ValueError, match="needs the target `environment`"):
        get_csi_feedback({"name": "adapted", "model": "lam-tiny"}, 32, 64)
    with pytest.raises(ValueError, match="'elasco_magic' is not valid"):
        get_csi_feedback({"name": "adapted", "environment": "cdl-e",
                          "method": "elasco_magic"}, 32, 64)
    with pytest.raises(ValueError, match="different encoders"):
        get_csi_feedback({"name": "adapted", "environment": "cdl-e",
                          "model": "lam-cr16", "reference": "sam-ref-cr32",
                          "numerology": {"fft_size": 64},
                          "bs_array": {"num_cols": 32}}, 32, 64)
