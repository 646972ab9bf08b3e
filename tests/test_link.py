"""Link-level tests: theory, equivalence with a plain Sionna link, bad input"""

import numpy as np
import pytest
import tensorflow as tf
from scipy.special import comb
import sionna.phy
from sionna.phy import Block
from sionna.phy.channel import cir_to_ofdm_channel
from sionna.phy.channel.tr38901 import CDL

from lasco_sionna.channels.config import BSArray, Numerology
from lasco_sionna.channels.stochastic import CDLEnvironment, _panel_arrays
from lasco_sionna.link import LinkConfig, MUMIMOOFDMLink, evaluate_link
from lasco_sionna.link.reference import PlainSionnaRZFLink

SMALL = Numerology(fft_size=64)


class RayleighChannel(Block):
    """i.i.d. CN(0,1) per antenna and subcarrier, constant over the slot"""

    def __init__(self, num_users, num_bs_ant, fft_size, num_snapshots=1):
        super().__init__()
        self._shape = [num_users, 1, 1, num_bs_ant, num_snapshots, fft_size]

    def call(self, batch_size):
        shape = tf.concat([[batch_size], self._shape], 0)
        rng = sionna.phy.config.tf_rng
        re = rng.normal(shape, dtype=tf.float32)
        im = rng.normal(shape, dtype=tf.float32)
        return tf.complex(re, im) / tf.cast(np.sqrt(2.0), tf.complex64)


def zf_qpsk_rayleigh_ber(no, num_ant, num_users):
    """Closed-form BER of Gray QPSK after ZF over i.i.d. Rayleigh

    With unit-norm ZF columns, user k's gain is 1/[(H H^H)^-1]_kk ~
    Gamma(L, 1), L = num_ant - num_users + 1 (diversity order L). Each QPSK
    bit sees a BPSK-equivalent SNR gain/(2 no): Proakis (14.4-15).
    """
    L = num_ant - num_users + 1
    g = 1.0 / (2.0 * no)
    mu = np.sqrt(g / (1.0 + g))
    return ((1 - mu) / 2) ** L * sum(comb(L - 1 + l, l) * ((1 + mu) / 2) ** l
                                     for l in range(L))


def test_uncoded_qpsk_zf_matches_closed_form(seed):
    k, nt = 4, 8
    link = MUMIMOOFDMLink(RayleighChannel(k, nt, SMALL.fft_size), SMALL, nt,
                          LinkConfig(num_users=k, coded=False),
                          csi_feedback="perfect", precoder="zf")
    for ebno_db in (-4.0, 0.0):
        no = float(link.noise_variance(ebno_db))
        errors, bits = 0.0, 0
        run = tf.function(link.call)
        for _ in range(6):
            b, b_hat = run(64, tf.constant(ebno_db))
            errors += float(tf.reduce_sum(tf.abs(b - b_hat)))
            bits += int(tf.size(b))
        ber = errors / bits
        theory = zf_qpsk_rayleigh_ber(no, nt, k)
        # 6*64*64*4 independent channel draws; each 24 bits share one draw.
        # Conservative 4-sigma bound with an effective sample size of draws.
        n_eff = 6 * 64 * 64 * k * 2
        sigma = np.sqrt(theory * (1 - theory) / n_eff)
        assert abs(ber - theory) < 4 * sigma + 0.02 * theory, \
            (ebno_db, ber, theory)


def test_perfect_csi_link_matches_plain_sionna_rzf_link():
    nt, k, bs = 8, 4, 8
    env = CDLEnvironment(model="C", numerology=SMALL,
                         bs_array=BSArray(num_cols=nt))
    link = MUMIMOOFDMLink(env.channel_model(k), SMALL, nt,
                          LinkConfig(num_users=k), csi_feedback="perfect",
                          precoder="rzf")
    # The reference draws from a plain Sionna CDL of the same configuration
    bs_arr, ut_arr = _panel_arrays(BSArray(num_cols=nt),
                                   SMALL.carrier_frequency)
    cdl = CDL("C", 300e-9, SMALL.carrier_frequency, ut_arr, bs_arr,
              "downlink")
    freqs = tf.constant(SMALL.frequencies, tf.float32)

    def plain_channel(batch_size):
        a, tau = cdl(batch_size * k, 1, 1.0 / SMALL.slot_duration)
        h = cir_to_ofdm_channel(freqs, a, tau, normalize=False)
        h = tf.reshape(h, [batch_size, k] + h.shape[2:].as_list())
        # Per-UE unit mean energy, as env.channel_model normalises
        energy = tf.reduce_mean(tf.abs(h) ** 2, axis=[2, 3, 4, 5, 6],
                                keepdims=True)
        return h / tf.cast(tf.sqrt(energy), h.dtype)

    reference = PlainSionnaRZFLink(plain_channel, SMALL, k)
    bers = []
    for ebno_db in (-6.0, 0.0):
        sionna.phy.config.seed = 7
        b1, b1_hat = link(bs, ebno_db)
        sionna.phy.config.seed = 7
        b2, b2_hat = reference(bs, ebno_db)
        np.testing.assert_array_equal(b1.numpy(), b2.numpy())
        ber1 = float(tf.reduce_mean(tf.abs(b1 - b1_hat)))
        ber2 = float(tf.reduce_mean(tf.abs(b2 - b2_hat)))
        assert ber1 == pytest.approx(ber2, abs=1e-4), (ebno_db, ber1, ber2)
        bers.append(ber1)
    assert bers[0] > 0  # the low-SNR point exercises decoding errors too


@pytest.mark.slow
def test_evaluate_link_table_and_monotonic_ber(seed):
    k, nt = 2, 8
    env = CDLEnvironment(model="C", numerology=SMALL,
                         bs_array=BSArray(num_cols=nt))
    link = MUMIMOOFDMLink(env.channel_model(k), SMALL, nt,
                          LinkConfig(num_users=k, coded=False))
    df = evaluate_link(link, [-5.0, 5.0], batch_size=8, max_mc_iter=3,
                       rate_batches=2)
    assert list(df.ebno_db) == [-5.0, 5.0]
    assert df.ber.iloc[0] > df.ber.iloc[1]
    assert df.sum_rate.iloc[1] > df.sum_rate.iloc[0] > 0
    assert (df.feedback_bits_per_user == 64 * nt * SMALL.fft_size).all()


def test_feedback_delay_needs_snapshots():
    k, nt = 2, 8
    link = MUMIMOOFDMLink(RayleighChannel(k, nt, SMALL.fft_size), SMALL, nt,
                          LinkConfig(num_users=k, feedback_delay=2))
    with pytest.raises(ValueError, match="feedback_delay=2"):
        link(2, 0.0)


def test_bad_input():
    k, nt = 4, 8
    ch = RayleighChannel(k, nt, SMALL.fft_size)
    with pytest.raises(ValueError, match="num_users=9 > num_bs_ant=8"):
        MUMIMOOFDMLink(RayleighChannel(9, nt, 72), Numerology(fft_size=72),
                       nt, LinkConfig(num_users=9), precoder="zf")
    with pytest.raises(ValueError, match="fft_size=64 must be a multiple"):
        MUMIMOOFDMLink(RayleighChannel(3, nt, 64), SMALL, nt,
                       LinkConfig(num_users=3))
    with pytest.raises(ValueError, match="unknown precoder 'mrtt'"):
        MUMIMOOFDMLink(ch, SMALL, nt, LinkConfig(num_users=k), precoder="mrtt")
    with pytest.raises(ValueError, match="receiver_csi"):
        LinkConfig(receiver_csi="genie")
    with pytest.raises(ValueError, match="coderate"):
        LinkConfig(coderate=1.5)
    with pytest.raises(TypeError, match="unexpected keyword"):
        MUMIMOOFDMLink(ch, SMALL, nt, add_awgn=True)  # pylint: disable=unexpected-keyword-arg
    # Wrong number of antennas in the channel
    link = MUMIMOOFDMLink(RayleighChannel(k, 4, SMALL.fft_size), SMALL, nt,
                          LinkConfig(num_users=k))
    with pytest.raises(ValueError, match="must end in dimensions"):
        link(2, 0.0)
    # Real-valued channel
    link = MUMIMOOFDMLink(lambda b: tf.zeros([b, k, 1, 1, nt, 1, 64]), SMALL,
                          nt, LinkConfig(num_users=k))
    with pytest.raises(TypeError, match="complex"):
        link(2, 0.0)


def test_nonsense_run_arguments_and_nan_channels_are_refused():
    k, nt = 2, 4
    link = MUMIMOOFDMLink(RayleighChannel(k, nt, SMALL.fft_size), SMALL, nt,
                          LinkConfig(num_users=k, coded=False),
                          precoder="zf")
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match="`batch_size` must be"):
            link(bad, 0.0)
    with pytest.raises(ValueError, match="`batch_size` must be"):
        link(tf.constant(0), 0.0)
    for bad in (float("nan"), np.inf, tf.constant(np.nan)):
        with pytest.raises(ValueError, match="`ebno_db` contains 1 NaN/Inf"):
            link(2, bad)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="`ebno_db` contains NaN/Inf"):
        tf.function(link.call)(2, tf.constant(np.nan))
    # Not a BER of 0.5 / BLER of 1 stored as a result
    with pytest.raises(ValueError, match="`ebno_dbs` contains 1 NaN/Inf"):
        evaluate_link(link, [0.0, float("nan")], batch_size=2)

    def nan_channel(batch_size):
        h = RayleighChannel(k, nt, SMALL.fft_size)(batch_size)
        return tf.where(tf.range(SMALL.fft_size) == 5,
                        tf.constant(np.nan, tf.complex64), h)
    link = MUMIMOOFDMLink(nan_channel, SMALL, nt,
                          LinkConfig(num_users=k, coded=False), precoder="zf")
    with pytest.raises(ValueError, match="`channel output` contains"):
        link(2, 0.0)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="`channel output` contains NaN/Inf"):
        tf.function(link.call)(2, tf.constant(0.0))
