"""The core claim: the precoder comes from the fed-back CSI, the effective channel from the true one

``h_eff = H_true . g(H_hat)``, checked against an independent NumPy
computation, with the SINR and rate formulas; worse CSI gives a lower
sum-rate; and the link paths the sweeps rarely take (LS receiver CSI,
feedback delay on a time-varying channel, XLA, double precision).
"""

import numpy as np
import pytest
import tensorflow as tf
import sionna.phy
from sionna.phy import Block

from lasco_sionna.channels.config import BSArray, Numerology
from lasco_sionna.channels.stochastic import CDLEnvironment
from lasco_sionna.csi import get_csi_feedback
from lasco_sionna.link import LinkConfig, MUMIMOOFDMLink

SMALL = Numerology(fft_size=32)
K, NT, B = 2, 8, 3


class FixedChannel(Block):
    """The same channels at every call: ``[batch, K, 1, 1, NT, S, F]``"""

    def __init__(self, h, precision=None):
        super().__init__(precision=precision)
        self.h = h

    def call(self, batch_size):
        del batch_size
        return tf.constant(self.h, self.cdtype)


def spatially_correlated(rng, num_snapshots, fft_size=SMALL.fft_size):
    """A few-path channel per user, so a DFT codebook is a coarse fit:
    [B, K, 1, 1, NT, num_snapshots, fft_size], complex128"""
    n = np.arange(NT)[:, None]
    f = np.arange(fft_size)[None, :]
    h = np.zeros([B, K, 1, 1, NT, num_snapshots, fft_size], complex)
    for b in range(B):
        for k in range(K):
            for s in range(num_snapshots):
                for _ in range(3):
                    theta = rng.uniform(-1, 1)
                    tau = rng.uniform(0, 4) / fft_size
                    gain = (rng.standard_normal() + 1j
                            * rng.standard_normal()) / np.sqrt(6)
                    h[b, k, 0, 0, :, s] += gain * np.exp(
                        1j * np.pi * theta * n - 2j * np.pi * tau * f)
    return h


def rzf_numpy(h_hat, no):
    """Unit-norm-column RZF ``H^H (H H^H + no I)^-1`` per matrix:
    h_hat [..., K, NT] -> [..., NT, K]"""
    hh = np.conj(np.swapaxes(h_hat, -1, -2))
    g = hh @ np.linalg.inv(h_hat @ hh + no * np.eye(h_hat.shape[-2]))
    return g / np.linalg.norm(g, axis=-2, keepdims=True)


def link_of(h, csi, delay=0, precision=None, **config):
    return MUMIMOOFDMLink(FixedChannel(h, precision=precision), SMALL, NT,
                          LinkConfig(num_users=K, feedback_delay=delay,
                                     **config),
                          csi_feedback=csi, precoder="rzf",
                          precision=precision)


@pytest.mark.parametrize("delay", [0, 1])
def test_effective_channel_is_true_channel_times_precoder_of_fed_back_csi(
        delay):
    rng = np.random.default_rng(7)
    # Independent snapshots: with a delay, what is measured is not what the
    # signal goes through
    h = spatially_correlated(rng, num_snapshots=delay + 1)
    csi = get_csi_feedback({"name": "type1", "oversampling": 2,
                            "num_subbands": 4}, NT, SMALL.fft_size)
    link = link_of(h, csi, delay)
    no = 0.1
    h_true, g, h_eff = link.precoded_channel(B, tf.constant(no, tf.float32))

    # Independent computation: what the BS knows, per user
    # [B, K, NT, F]
    h_meas = h[:, :, 0, 0, :, 0, :]
    h_act = h[:, :, 0, 0, :, delay, :]
    h_hat = csi(tf.constant(h_meas, tf.complex64)).numpy()
    assert np.mean(np.abs(h_hat - h_meas) ** 2) > 0.01 * np.mean(
        np.abs(h_meas) ** 2)                    # the CSI is really imperfect
    # [B, F, K, NT]
    h_hat_f = np.transpose(h_hat, [0, 3, 1, 2])
    h_act_f = np.transpose(h_act, [0, 3, 1, 2])
    g_np = rzf_numpy(h_hat_f, no)               # [B, F, NT, K]
    h_eff_np = h_act_f @ g_np                   # [B, F, K(rx), K(stream)]

    np.testing.assert_allclose(h_true.numpy()[..., 0, :],
                               h[..., delay, :], rtol=1e-6, atol=1e-6)
    # g: [B, 1, 1, F, NT, K]
    np.testing.assert_allclose(g.numpy()[:, 0, 0], g_np, atol=2e-4)
    # h_eff: [B, K(rx), 1, 1, K(stream), 1, F_eff]
    sc = np.asarray(link.resource_grid.effective_subcarrier_ind)
    got = np.transpose(h_eff.numpy()[:, :, 0, 0, :, 0, :], [0, 3, 1, 2])
    np.testing.assert_allclose(got, h_eff_np[:, sc], atol=2e-4)
    # ... and not what precoding on the true channel would give
    h_eff_oracle = h_act_f @ rzf_numpy(h_act_f, no)
    assert np.max(np.abs(got - h_eff_oracle[:, sc])) > 0.05

    # SINR and rate of run() against the direct formulas
    ebno_db = 5.0
    no = float(link.noise_variance(ebno_db))
    _, _, stats = link.run(B, tf.constant(ebno_db, tf.float32))
    gain = np.abs(h_act_f @ rzf_numpy(h_hat_f, no)) ** 2   # [B, F, K, K]
    signal = np.diagonal(gain, axis1=-2, axis2=-1)
    sinr = signal / (gain.sum(-1) - signal + no)            # [B, F, K]
    sinr = sinr[:, sc]
    np.testing.assert_allclose(stats["sinr"].numpy(), sinr.mean(1),
                               rtol=2e-3)
    np.testing.assert_allclose(stats["rate"].numpy(),
                               np.log2(1 + sinr).mean(1), rtol=2e-3)


def _sum_rate(link, ebno_db, batches=2, batch_size=8):
    sionna.phy.config.seed = 5
    rates = [link.run(batch_size, tf.constant(ebno_db, tf.float32))[2]
             ["rate"].numpy() for _ in range(batches)]
    return float(np.concatenate(rates).sum(1).mean())


def test_worse_csi_lowers_the_sum_rate():
    nt, k = 16, 4
    env = CDLEnvironment(model="C", numerology=SMALL,
                         bs_array=BSArray(num_cols=nt))
    rates = {}
    for name, spec in (("perfect", "perfect"),
                       ("etype2", {"name": "etype2", "num_beams": 4,
                                   "num_subbands": 4}),
                       ("type1", {"name": "type1", "oversampling": 4,
                                  "num_subbands": 4})):
        link = MUMIMOOFDMLink(env.channel_model(k), SMALL, nt,
                              LinkConfig(num_users=k), csi_feedback=spec,
                              precoder="rzf")
        rates[name] = _sum_rate(link, 15.0)
    assert rates["perfect"] > rates["etype2"] + 0.2 > rates["type1"] + 0.4, \
        rates


class RayleighSnapshots(Block):
    """i.i.d. CN(0, 1), an independent draw per snapshot"""

    def __init__(self, num_snapshots):
        super().__init__()
        self._shape = [K, 1, 1, NT, num_snapshots, SMALL.fft_size]

    def call(self, batch_size):
        shape = tf.concat([[batch_size], self._shape], 0)
        rng = sionna.phy.config.tf_rng
        return tf.complex(rng.normal(shape), rng.normal(shape)) \
            / tf.cast(np.sqrt(2.0), tf.complex64)


def test_feedback_delay_on_a_time_varying_channel():
    """Outdated CSI (an independent later snapshot) ruins zero-forcing"""
    rates = {d: _sum_rate(MUMIMOOFDMLink(
        RayleighSnapshots(2), SMALL, NT, LinkConfig(num_users=K,
                                                    feedback_delay=d),
        precoder="rzf"), 15.0) for d in (0, 1)}
    # Fresh CSI: ~K log2(1 + SNR (NT-K+1)/K); outdated: interference-limited
    assert rates[0] > 2 * rates[1], rates


def _ber(link, ebno_db, batches=3, batch_size=16):
    sionna.phy.config.seed = 3
    errors = bits = 0
    for _ in range(batches):
        b, b_hat = link(batch_size, tf.constant(ebno_db, tf.float32))
        errors += float(tf.reduce_sum(tf.abs(b - b_hat)))
        bits += int(tf.size(b))
    return errors / bits


def test_ls_receiver_csi():
    """LS channel estimation from the precoded pilots: near the perfect
    receiver at high SNR, worse at low SNR"""
    def link(receiver_csi):
        return MUMIMOOFDMLink(RayleighSnapshots(1), SMALL, NT,
                              LinkConfig(num_users=K, coded=False,
                                         receiver_csi=receiver_csi),
                              precoder="rzf")
    perfect, ls = link("perfect"), link("ls")
    assert _ber(ls, 25.0) < 1e-3
    low_p, low_ls = _ber(perfect, -2.0), _ber(ls, -2.0)
    assert low_ls > 1.2 * low_p > 0, (low_ls, low_p)


def test_link_under_xla_and_in_double_precision():
    rng = np.random.default_rng(1)
    h = spatially_correlated(rng, num_snapshots=1)
    spec = {"name": "type1", "oversampling": 2, "num_subbands": 4}
    single = link_of(h, spec)
    double = link_of(h, spec, precision="double")
    assert double.csi_feedback.precision == "double"
    no = 0.05
    outs = [link.precoded_channel(B, tf.constant(no, link.rdtype))
            for link in (single, double)]
    assert outs[1][2].dtype == tf.complex128
    for a, b in zip(*outs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-4)
    # A whole batch under XLA, and in double precision
    xla = tf.function(single.run, jit_compile=True)
    sionna.phy.config.seed = 2
    b, b_hat, stats = xla(B, tf.constant(20.0))
    assert b.shape == b_hat.shape and np.isfinite(stats["rate"]).all()
    assert float(tf.reduce_mean(tf.abs(b - b_hat))) < 0.05
    b, b_hat, stats = double.run(B, tf.constant(20.0, tf.float64))
    assert b_hat.dtype == tf.float64 and stats["sinr"].dtype == tf.float64
    assert float(tf.reduce_mean(tf.abs(b - b_hat))) < 0.05
    # Same channel, same CSI, same formula: the same SINR in both precisions
    _, _, s1 = single.run(B, tf.constant(20.0))
    np.testing.assert_allclose(stats["sinr"].numpy(), s1["sinr"].numpy(),
                               rtol=1e-3)
