#
# SPDX-License-Identifier: Apache-2.0
#
"""sims/bench_lasco.py on tiny synthetic data: the lookup row, norm bits, truncation floor, adapted state"""

import numpy as np
import pandas as pd
import pytest

#: Its module fixture runs the benchmark once (over 30 s)
pytestmark = pytest.mark.slow

ANT, F, N_MAX, N_VAL, N_TEST = 32, 64, 50, 40, 60


def channels(n, seed):
    """Spatial-frequency channels with power decaying over all F delay taps
    (some of it beyond the 32 kept), independent NumPy transforms"""
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal([n, ANT, F]) + 1j * rng.standard_normal(
        [n, ANT, F])) * np.exp(-np.arange(F) / 12.0)
    h = np.fft.fftshift(np.fft.fft(np.fft.ifft(a, axis=-2, norm="ortho"),
                                   axis=-1, norm="ortho"), axes=-1)
    h *= np.sqrt(ANT * F) / np.linalg.norm(h, axis=(1, 2))[:, None, None]
    return (h * rng.uniform(0.5, 2.0, [n, 1, 1])).astype(np.complex64)


def _dataset():
    """A ChannelDataset of the three splits, in order"""
    from lasco_sionna.channels import ChannelDataset  # noqa: PLC0415
    h = np.concatenate([_DATA[s] for s in ("train", "validation", "test")])
    bounds = np.cumsum([0, N_MAX, N_VAL, N_TEST])
    splits = {s: np.arange(bounds[i], bounds[i + 1])
              for i, s in enumerate(("train", "validation", "test"))}
    return ChannelDataset(h[:, None, None, None, :, None], np.zeros(len(h)),
                          {}, {}, splits, split_rule={"rule": "sample"})


_DATA = {"train": channels(N_MAX, 1), "validation": channels(N_VAL, 2),
         "test": channels(N_TEST, 3)}


@pytest.fixture(name="run", scope="module")
def fixture_run(tmp_path_factory):
    # pylint: disable=import-outside-toplevel
    import importlib.util
    import os
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    spec = importlib.util.spec_from_file_location(
        "bench_lasco", os.path.join(root, "sims", "bench_lasco.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    src = np.random.default_rng(0).standard_normal([64, 2, ANT, 32])
    src = (src / np.linalg.norm(src.reshape(64, -1), axis=1)[:, None, None,
                                                             None])
    bench.load_source_images = lambda cfg: {"src": (src[:48].astype(np.float32),
                                             src[48:].astype(np.float32))}
    bench.get_environment = lambda *a, **k: None
    bench.build_dataset = lambda *a, **k: _dataset()
    # One candidate shrinkage weight (+ 1.0 in adapt_linear): each LMMSE
    # decoder redraws the encoder's projection, which takes a while
    bench.SHRINKAGE_GRID = (0.5,)
    out = tmp_path_factory.mktemp("bench")
    argv = sys.argv
    sys.argv = ["bench_lasco", "--lam", "lam-tiny", "--sam", "sam-tiny",
                "--targets", "toy", "--samples", "20", "50", "--max-samples",
                str(N_MAX), "--fft-size", str(F), "--steps", "1",
                "--num-source-val", "8", "--num-test", str(N_TEST),
                "--num-val", str(N_VAL),
                "--out", str(out),
                # lookup runs whatever --methods says
                "--methods", "lam_zero_shot", "lmmse_target", "lasco_linear"]
    try:
        bench.main()
    finally:
        sys.argv = argv
    return bench, pd.read_csv(out / "results.csv").set_index(
        ["samples", "method"])


def test_lookup_row_for_every_sample_count(run):
    bench, table = run
    from lasco_sionna.models import load_pretrained  # noqa: PLC0415
    from lasco_sionna.csi import csi_image  # noqa: PLC0415
    encoder, _, _ = load_pretrained("lam-tiny")
    d = 2 * ANT * 32
    h = _DATA
    x_tr = csi_image(h["train"], 32)[0].numpy()
    x_te, norm = (v.numpy() for v in csi_image(h["test"], 32))
    k_tr = encoder(x_tr).numpy().reshape(N_MAX, -1)
    k_te = encoder(x_te).numpy().reshape(N_TEST, -1)
    # 8-bit norm on [-20, 60] dB, as the link's LearnedCSIFeedback
    step = 80.0 / 256
    idx = np.clip(np.floor((20 * np.log10(norm) + 20) / step), 0, 255)
    norm_q = 10 ** ((-20 + (idx + 0.5) * step) / 20)
    for n in (20, 50):
        row = table.loc[(n, "lookup")]
        assert row.payload_bits == encoder.payload_bits + 8
        assert row.norm_bits == 8
        assert row.trainable == 0 and row.adapted_state == 2 * d * n
        # Independent: brute-force nearest report, its image, the fed-back
        # norm, NumPy back to the subcarriers
        dist = ((k_te[:, None] - k_tr[None, :n]) ** 2).sum(-1)
        y = x_tr[np.argmin(dist, axis=1)]
        a = np.zeros([N_TEST, ANT, F], np.complex128)
        a[..., :32] = (y[:, 0] + 1j * y[:, 1]) * norm_q[:, None, None]
        h_hat = np.fft.fftshift(np.fft.fft(np.fft.ifft(a, axis=-2,
                                                       norm="ortho"),
                                           axis=-1, norm="ortho"), axes=-1)
        e = np.sum(np.abs(h["test"] - h_hat) ** 2, axis=(1, 2)) \
            / np.sum(np.abs(h["test"]) ** 2, axis=(1, 2))
        assert row.nmse_db == pytest.approx(10 * np.log10(e.mean()),
                                            abs=0.02)
        img = np.sum((y - x_te) ** 2, axis=(1, 2, 3))
        assert row.image_nmse_db == pytest.approx(10 * np.log10(img.mean()),
                                                  abs=1e-3)
        assert row.gap_to_rd_db == pytest.approx(row.image_nmse_db
                                                 - row.rd_nmse_db)


def test_truncation_floor_and_references(run):
    _, table = run
    h = _DATA["test"]
    a = np.fft.ifft(np.fft.ifftshift(h, axes=-1), axis=-1)
    e = np.abs(a) ** 2
    floor = np.mean(e[..., 32:].sum((1, 2)) / e.sum((1, 2)))
    for key, row in table.iterrows():
        assert row.trunc_floor_db == pytest.approx(10 * np.log10(floor),
                                                   abs=1e-3), key
        rd = 10 ** (row.rd_nmse_db / 10)
        assert row.rd_sf_nmse_db == pytest.approx(
            10 * np.log10(rd * (1 - floor) + floor), abs=1e-3)
    # The SF-domain NMSE can never beat the floor
    assert (table.nmse_db > 10 * np.log10(floor)).all()


def test_adapted_state_of_linear_proxies(run):
    bench, table = run
    d, m = 2 * ANT * 32, 2 * ANT * 32 // 16
    for n in (20, 50):
        lin = table.loc[(n, "lmmse_target")]
        assert lin.shrinkage == 0.5 and lin.adapted_state == d * m
        las = table.loc[(n, "lasco_linear")]
        assert las.trainable == 0
        assert las.adapted_state == (0 if las.shrinkage == 1.0 else d * m)
    assert table.loc[(0, "lam_zero_shot")].adapted_state == 0
    assert set(bench.ALWAYS) == {"lookup"}
