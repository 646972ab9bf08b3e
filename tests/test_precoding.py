"""Precoders: what each one optimises, the power constraint, bad input, the link"""

import numpy as np
import pytest
import tensorflow as tf
from sionna.phy.mimo import StreamManagement
from sionna.phy.ofdm import LMMSEPostEqualizationSINR, ResourceGrid

from lasco_sionna.precoding import (downlink_sinr, get_precoder,
                                    maxmin_precoding_matrix,
                                    wmmse_precoding_matrix)

NAMES = ["mrt", "zf", "rzf", "wmmse", "maxmin"]


def rayleigh(shape, seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape)
            + 1j * rng.standard_normal(shape)) / np.sqrt(2)


def grid(k, fft_size=8):
    rg = ResourceGrid(num_ofdm_symbols=1, fft_size=fft_size,
                      subcarrier_spacing=30e3, num_tx=1, num_streams_per_tx=k,
                      precision="double")
    return rg, StreamManagement(np.ones([k, 1], int), k)


def sionna_channel(h):
    """[batch, fft, K, Nt] -> [batch, K, 1, 1, Nt, 1, fft] (Sionna layout)"""
    # [batch, K, Nt, fft]
    h = np.transpose(h, [0, 2, 3, 1])
    return tf.constant(h[:, :, None, None, :, None, :])


def precoder_matrices(name, h, no):
    """Precoding matrices [batch, fft, Nt, K] of a registry precoder"""
    rg, sm = grid(h.shape[2], h.shape[1])
    spec = {"name": name, "num_iterations": 30} if name == "wmmse" else name
    pc = get_precoder(spec, rg, sm, precision="double")
    g = pc.compute_precoding_matrix(sionna_channel(h), no=no)
    return g.numpy()[:, 0, 0]


def sum_and_min_rate(h, g, no):
    rate = np.log2(1 + downlink_sinr(tf.constant(h), tf.constant(g), no).numpy())
    return rate.sum(-1), rate.min(-1)


@pytest.mark.parametrize("name", NAMES)
def test_total_power_is_the_number_of_streams_exactly(name):
    h = rayleigh([3, 8, 4, 8], 0)
    g = precoder_matrices(name, h, 0.3)
    np.testing.assert_allclose(np.sum(np.abs(g) ** 2, axis=(-2, -1)), 4.0,
                               rtol=1e-12)
    if name in ("mrt", "zf", "rzf"):
        np.testing.assert_allclose(np.linalg.norm(g, axis=-2), 1.0,
                                   rtol=1e-12)


def test_zf_nulls_interference_and_mrt_maximises_own_gain():
    h = rayleigh([4, 8, 3, 6], 1)
    g = precoder_matrices("zf", h, 0.1)
    hg = np.abs(h @ g)
    off = hg * (1 - np.eye(3))
    assert off.max() < 1e-12 * hg.max()
    g_mrt = precoder_matrices("mrt", h, 0.1)
    own = np.abs(np.einsum("bfkn,bfnk->bfk", h, g_mrt)) ** 2
    np.testing.assert_allclose(own, np.sum(np.abs(h) ** 2, -1), rtol=1e-12)
    # No unit vector does better: not ZF's, not random ones
    own_zf = np.abs(np.einsum("bfkn,bfnk->bfk", h, g)) ** 2
    assert (own >= own_zf - 1e-12).all()
    v = rayleigh([1000, 6], 2)
    v /= np.linalg.norm(v, axis=-1, keepdims=True)
    assert (np.abs(v @ h[0, 0, 0]) ** 2 <= own[0, 0, 0] + 1e-12).all()


@pytest.mark.parametrize("subband_size,weights", [(1, None),
                                                  (4, [1.0, 2.0, 0.5, 1.0])])
def test_wmmse_never_decreases_and_beats_zf_rzf(subband_size, weights):
    h = rayleigh([6, 8, 4, 6], 3)
    # flat within each subband, so per-subcarrier ZF/RZF are fair references
    h = np.repeat(h[:, ::subband_size], subband_size, axis=1)
    no = 0.2
    g, hist = wmmse_precoding_matrix(h, no, 4.0, weights=weights,
                                     subband_size=subband_size,
                                     num_iterations=40, tol=0.0,
                                     return_history=True, precision="double")
    hist = hist.numpy()
    assert hist.shape[0] == 41
    assert (np.diff(hist, axis=0) >= -1e-9 * np.abs(hist[1:])).all()
    assert (hist[-1] > hist[0]).any()
    a = np.ones(4) if weights is None else np.asarray(weights)
    rate_w = np.log2(1 + downlink_sinr(tf.constant(h), g, no).numpy()) @ a
    for name in ("zf", "rzf"):
        g_ref = precoder_matrices(name, h, no)
        rate_ref = np.log2(1 + downlink_sinr(tf.constant(h), g_ref,
                                             no).numpy()) @ a
        assert (rate_w >= rate_ref - 1e-9).all(), name   # RZF is a start


def test_wmmse_sum_rate_beats_zf_and_rzf_at_every_snr():
    # 10 channels at each of 3 noise variances, in one batch
    h = np.tile(rayleigh([10, 1, 4, 8], 4), [3, 1, 1, 1])
    no = np.repeat([3.0, 0.3, 0.01], 10)
    g = precoder_matrices("wmmse", h, no)
    s_w, _ = sum_and_min_rate(h, g, no[:, None])
    for name in ("zf", "rzf", "mrt"):
        s_ref, _ = sum_and_min_rate(h, precoder_matrices(name, h, no),
                                    no[:, None])
        assert (s_w >= s_ref - 1e-9).all(), name


def brute_force_maxmin(h, no, power, n_theta=24, n_phi=48):
    """Max-min SINR of 2 users, 2 antennas: grid over both beam directions,
    balancing power split per pair (bisection), best pair refined locally"""
    th = np.linspace(0, np.pi / 2, n_theta)
    ph = np.linspace(0, 2 * np.pi, n_phi, endpoint=False)
    th, ph = (x.ravel() for x in np.meshgrid(th, ph))

    def beams(th, ph):
        return np.stack([np.cos(th) + 0j, np.sin(th) * np.exp(1j * ph)], -1)

    def balanced(t1, t2):
        v1, v2 = beams(*t1), beams(*t2)
        a = [[np.abs(v @ h[r]) ** 2 for v in (v1, v2)] for r in (0, 1)]
        lo, hi = np.zeros_like(a[0][0]), np.full_like(a[0][0], power)
        for _ in range(50):
            p1 = (lo + hi) / 2
            s1 = p1 * a[0][0] / (no + (power - p1) * a[0][1])
            s2 = (power - p1) * a[1][1] / (no + p1 * a[1][0])
            lo, hi = np.where(s1 < s2, p1, lo), np.where(s1 < s2, hi, p1)
        return np.minimum(s1, s2)

    i1, i2 = np.meshgrid(np.arange(th.size), np.arange(th.size))
    val = balanced((th[i1.ravel()], ph[i1.ravel()]),
                   (th[i2.ravel()], ph[i2.ravel()]))
    best = np.argmax(val)
    x = np.array([th[i1.ravel()[best]], ph[i1.ravel()[best]],
                  th[i2.ravel()[best]], ph[i2.ravel()[best]]])
    step = np.array([np.pi / 2 / n_theta, 2 * np.pi / n_phi] * 2)
    f = float(val[best])
    for _ in range(60):        # coordinate search with a shrinking step
        moved = False
        for d in range(4):
            for sgn in (1, -1):
                y = x.copy()
                y[d] += sgn * step[d]
                fy = float(balanced(y[:2], y[2:]))
                if fy > f:
                    x, f, moved = y, fy, True
        if not moved:
            step /= 2
    return f


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_maxmin_equal_sinrs_matching_brute_force_on_2_users(seed):
    h = rayleigh([2, 2], seed)
    no, power = 0.5, 2.0
    g = maxmin_precoding_matrix(h, no, power, tol=1e-10, num_iterations=2000,
                                precision="double")
    sinr = downlink_sinr(tf.constant(h), g, no).numpy()
    np.testing.assert_allclose(sinr[0], sinr[1], rtol=1e-6)
    brute = brute_force_maxmin(h, no, power)
    assert brute <= sinr.min() * (1 + 1e-6)        # nothing beats the optimum
    assert brute >= sinr.min() * (1 - 2e-3)        # and the search finds it


def test_maxmin_matches_the_per_matrix_numpy_reference(sims_script):
    # The batched fixed point (Hermitian form, one uplink per iteration)
    # gives the per-matrix NumPy implementation's precoders to rounding,
    # after any number of iterations, whatever the batch shapes seen before
    ref = sims_script("bench_precoders").numpy_maxmin
    h = rayleigh([6, 4, 8], 13)
    for it in (1, 7, 30):
        for batch in (1, 6, 3):
            g = maxmin_precoding_matrix(h[:batch], 0.4, 4.0,
                                        num_iterations=it, tol=0.0,
                                        precision="double").numpy()
            g_ref = np.stack([ref(x, 0.4, 4.0, it) for x in h[:batch]])
            np.testing.assert_allclose(g, g_ref, atol=1e-10)

    h = rayleigh([2, 2, 4, 8], 14)
    maxmin_precoding_matrix(h[:1], 0.4, 4.0)
    maxmin_precoding_matrix(h[:, :1], 0.4, 4.0)     # a relaxed-shape trace

    @tf.function
    def static(x):
        g = maxmin_precoding_matrix(x, 0.4, 4.0)
        assert g.shape == (2, 1, 8, 4)     # static shape, as Sionna needs
        return g
    static(tf.constant(h[:, :1]))


def test_maxmin_equalises_and_lifts_the_worst_user():
    h = rayleigh([10, 1, 4, 8], 8)
    no = 0.1
    g = precoder_matrices("maxmin", h, no)
    # [batch, 1, K]
    sinr = downlink_sinr(tf.constant(h), g, no).numpy()
    np.testing.assert_allclose(sinr.max(-1) / sinr.min(-1), 1.0, atol=1e-4)
    for name in NAMES[:4]:
        _, m_ref = sum_and_min_rate(h, precoder_matrices(name, h, no), no)
        assert (np.log2(1 + sinr.min(-1)) >= m_ref - 1e-6).all(), name


def test_sinr_matches_sionna_post_equalisation_sinr():
    k = 3
    h = rayleigh([2, 8, k, 6], 9)
    rg, sm = grid(k)
    pc = get_precoder({"name": "wmmse", "num_iterations": 10}, rg, sm,
                      precision="double")
    h_s = sionna_channel(h)
    h_eff = pc(h_s, no=0.2)
    # Sionna 1.2.2's default interference whitening counts the interference
    # twice; without it the SINR is the exact single-antenna one
    ref = LMMSEPostEqualizationSINR(rg, sm, precision="double")(
        h_eff, tf.constant(0.2, tf.float64), interference_whitening=False)
    # [batch, fft, K]
    ref = ref.numpy()[:, 0, :, :, 0]
    g = pc.compute_precoding_matrix(h_s, no=0.2).numpy()[:, 0, 0]
    np.testing.assert_allclose(downlink_sinr(tf.constant(h), g, 0.2).numpy(),
                               ref, rtol=1e-6)


def test_bad_input_names_the_value():
    rg, sm = grid(4)
    h = sionna_channel(rayleigh([1, 8, 4, 3], 10))
    with pytest.raises(ValueError, match="ZF needs num_users <= num_bs_ant"):
        get_precoder("zf", rg, sm).compute_precoding_matrix(h)
    for name in ("rzf", "wmmse", "maxmin"):
        pc = get_precoder(name, rg, sm)
        with pytest.raises(ValueError, match=r"`no` must be finite and > 0, "
                                             r"got -0.1"):
            pc.compute_precoding_matrix(h, no=-0.1)
        with pytest.raises(ValueError, match="needs the noise variance"):
            pc.compute_precoding_matrix(h)
    pc = get_precoder("mrt", rg, sm)
    with pytest.raises(ValueError, match="`tx_power` must be finite and > 0, "
                                         "got 0.0"):
        pc.compute_precoding_matrix(h, tx_power=tf.zeros([1]))
    bad = h.numpy().copy()
    bad[0, 1, 0, 0, 2, 0, 5] = np.nan
    with pytest.raises(ValueError, match=r"`h_hat` contains 1 NaN/Inf"):
        pc.compute_precoding_matrix(tf.constant(bad))
    with pytest.raises(ValueError, match=r"`h` contains 1 NaN/Inf"):
        pc(tf.constant(bad), h_hat=h)
    with pytest.raises(ValueError, match="must have the same receivers"):
        pc(h, h_hat=h[:, :3])
    h2 = rayleigh([2, 8, 4, 6], 11)
    with pytest.raises(ValueError, match=r"`power` must be a finite number "
                                         r"> 0, got 0"):
        wmmse_precoding_matrix(h2, 0.1, 0)
    with pytest.raises(ValueError, match=r"`power` must be a finite number "
                                         r"> 0, got -1.0"):
        maxmin_precoding_matrix(h2, 0.1, -1.0)
    with pytest.raises(ValueError, match=r"`no` of shape \(3,\) does not "
                                         r"broadcast"):
        maxmin_precoding_matrix(h2, tf.ones([3]), 4.0)
    with pytest.raises(ValueError, match=r"`weights` must have one entry per "
                                         r"user \(4\), got 3"):
        wmmse_precoding_matrix(h2, 0.1, 4.0, weights=[1, 1, 1])
    with pytest.raises(ValueError, match=r"`weights\[1\]` must be a finite "
                                         r"number > 0, got -1"):
        get_precoder({"name": "wmmse", "weights": [1, -1, 1, 1]}, rg, sm)
    with pytest.raises(ValueError, match="subband_size=3 must divide "
                                         "fft_size=8"):
        get_precoder({"name": "wmmse", "subband_size": 3}, rg, sm)
    with pytest.raises(TypeError, match="invalid parameters .* 'maxmin'"):
        get_precoder({"name": "maxmin", "colour": 1}, rg, sm)
    h2[0, 0, 0, 0] = np.inf
    with pytest.raises(ValueError, match=r"`h` contains 1 NaN/Inf"):
        wmmse_precoding_matrix(h2, 0.1, 4.0)


def test_graph_mode_matches_eager():
    h = tf.constant(rayleigh([2, 4, 3, 6], 12), tf.complex64)
    for fn in (lambda h: wmmse_precoding_matrix(h, 0.1, 3.0,
                                                num_iterations=20),
               lambda h: maxmin_precoding_matrix(h, 0.1, 3.0)):
        np.testing.assert_allclose(tf.function(fn)(h).numpy(), fn(h).numpy(),
                                   atol=1e-4)


@pytest.mark.parametrize("precoder", ["mrt", "maxmin",
                                      {"name": "wmmse", "subband_size": 4,
                                       "num_iterations": 10}])
def test_new_precoders_run_in_sweep_points(precoder):
    from lasco_sionna.link.point import evaluate_point  # noqa: PLC0415
    m = evaluate_point({"num_users": 2, "numerology": {"fft_size": 32},
                        "bs_array": {"num_cols": 4}, "dataset_size": 12,
                        "batch_size": 2, "max_mc_iter": 1, "rate_batches": 1,
                        "ebno_db": 10.0, "seed": 1, "environment": "cdl-e",
                        "precoder": precoder})
    assert 0 <= m["ber"] <= 1 and np.isfinite(m["sum_rate"])
    assert m["sum_rate"] > 0 and m["min_rate"] > 0


def test_precoder_grid_key_in_a_sweep_maxmin_has_the_highest_min_rate(
        tmp_path):
    # A link sweep with `precoder` as a grid key (paired: same channels,
    # bits and noise): every precoder runs, and max-min, which maximises
    # the weakest user's SINR on every RE, gives the highest min-rate;
    # WMMSE the highest sum-rate among RZF / WMMSE
    from lasco_sionna.sweep import parse_config, run_sweep  # noqa: PLC0415
    cfg = parse_config({
        "name": "precoder_grid", "output": str(tmp_path / "out"), "seed": 7,
        "evaluator": "lasco_sionna.link.point:evaluate_point",
        "fixed": {"environment": "cdl-e", "num_users": 4,
                  "numerology": {"fft_size": 32},
                  "bs_array": {"num_cols": 8}, "dataset_size": 24,
                  "batch_size": 4, "max_mc_iter": 1, "rate_batches": 2,
                  "ebno_db": 5.0},
        "grid": {"precoder": ["rzf", "wmmse", "maxmin"]},
        "paired": ["precoder"]})
    table = run_sweep(cfg, plots=False, progress=False)
    table = table.set_index("precoder")
    assert sorted(table.index) == ["maxmin", "rzf", "wmmse"]
    assert table.seed.nunique() == 1
    assert table.min_rate.idxmax() == "maxmin", table.min_rate
    assert table.min_rate["maxmin"] > 1.05 * table.min_rate["rzf"]
    assert table.sum_rate["wmmse"] >= table.sum_rate["rzf"], table.sum_rate


def test_bench_precoders_draws_every_k_from_one_dataset(sims_script):
    bench = sims_script("bench_precoders")
    # [drops, subcarriers, K, Nt]: the first drops * K UEs of one dataset
    h2 = bench.channels("cdl-e", 2, 3, 4, 0, num_ues=8)
    h4 = bench.channels("cdl-e", 4, 2, 4, 0, num_ues=8)
    assert h2.shape == (3, 4, 2, 32) and h4.shape == (2, 4, 4, 32)
    # UEs 0, 1 are drop 0 of both
    np.testing.assert_array_equal(h2[0], h4[0, :, :2])
    with pytest.raises(ValueError, match="3 drops of 4 UEs need 12 UEs"):
        bench.channels("cdl-e", 4, 3, 4, 0, num_ues=8)


@pytest.mark.parametrize("precision", ["single", "double"])
def test_zf_stays_finite_on_rank_deficient_csi(precision):
    # Two users with the same (e.g. quantised) CSI: the Gram matrix is
    # singular and a plain Cholesky solve gives NaN precoders; ZF must stay
    # finite with unit-norm columns, and exact on the full-rank subcarriers
    h = rayleigh([2, 4, 3, 8], 3)
    h[:, :2, 1] = h[:, :2, 0]
    rg, sm = grid(3, 4)
    pc = get_precoder("zf", rg, sm, precision=precision)
    g = pc.compute_precoding_matrix(sionna_channel(h), no=0.1).numpy()[:, 0, 0]
    assert np.isfinite(g).all()
    np.testing.assert_allclose(np.linalg.norm(g, axis=-2), 1.0, rtol=1e-4)
    hg = np.abs(h[:, 2:] @ g[:, 2:])
    assert (hg * (1 - np.eye(3))).max() < 1e-4 * hg.max()
    sinr = downlink_sinr(tf.constant(h), tf.constant(g.astype(h.dtype)), 0.1)
    assert np.isfinite(sinr.numpy()).all()
