#
# SPDX-License-Identifier: Apache-2.0
#
"""Downlink MU-MIMO OFDM link with a pluggable CSI feedback path and precoder"""

from dataclasses import asdict, dataclass

import numpy as np
import tensorflow as tf
from sionna.phy import Block
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
from sionna.phy.mapping import BinarySource, Demapper, Mapper
from sionna.phy.channel import ApplyOFDMChannel
from sionna.phy.mimo import StreamManagement
from sionna.phy.ofdm import (LMMSEEqualizer, LMMSEPostEqualizationSINR,
                             LSChannelEstimator, ResourceGrid,
                             ResourceGridMapper)
from sionna.phy.utils import ebnodb2no, log2

from lasco_sionna.channels.config import Numerology
from lasco_sionna.csi.feedback import CSIFeedback, get_csi_feedback
from lasco_sionna.precoding import LinearPrecodedChannel, get_precoder
from lasco_sionna.utils.validation import (check_channel_tensor, check_choice,
                                           check_finite, check_instance,
                                           check_positive)


@dataclass(frozen=True)
class LinkConfig:
    r"""Configuration of :class:`MUMIMOOFDMLink`

    Parameters
    ----------
    num_users : `int`, (default 4)
        Single-antenna UEs served together (one stream each)

    num_bits_per_symbol : `int`, (default 2)
        QAM order in bits (2 = QPSK)

    coderate : `float`, (default 0.5)
        5G LDPC code rate; ``coded=False`` sends uncoded bits

    coded : `bool`, (default `True`)
        Use 5G LDPC coding

    pilot_ofdm_symbol_indices : `tuple`, (default (2, 11))
        OFDM symbols carrying (Kronecker, orthogonal) pilots

    receiver_csi : "perfect" (default) | "ls"
        UEs know their effective (precoded) channel perfectly, or estimate
        it from the precoded pilots (LS + linear interpolation)

    feedback_delay : `int`, (default 0)
        Slots between the (last) CSI measurement and the precoded
        transmission; the channel provides one snapshot per slot, at least
        ``history_length + feedback_delay`` of them (``history_length`` of
        the CSI path, 1 unless it predicts)
    """

    num_users: int = 4
    num_bits_per_symbol: int = 2
    coderate: float = 0.5
    coded: bool = True
    pilot_ofdm_symbol_indices: tuple = (2, 11)
    receiver_csi: str = "perfect"
    feedback_delay: int = 0

    def __post_init__(self):
        check_positive("num_users", self.num_users, integer=True)
        check_positive("num_bits_per_symbol", self.num_bits_per_symbol,
                       integer=True)
        if self.num_bits_per_symbol % 2:
            raise ValueError("`num_bits_per_symbol` must be even (QAM), got "
                             f"{self.num_bits_per_symbol}")
        check_positive("coderate", self.coderate)
        if self.coderate > 1:
            raise ValueError(f"`coderate` must be in (0, 1], got "
                             f"{self.coderate}")
        check_choice("receiver_csi", self.receiver_csi, ("perfect", "ls"))
        check_positive("feedback_delay", self.feedback_delay, integer=True,
                       allow_zero=True)

    def to_dict(self):
        """`dict` : JSON-serialisable representation"""
        d = asdict(self)
        d["pilot_ofdm_symbol_indices"] = list(self.pilot_ofdm_symbol_indices)
        return d


class MUMIMOOFDMLink(Block):
    # pylint: disable=line-too-long
    r"""Downlink multi-user MIMO OFDM link judged end to end

    One BS with ``num_bs_ant`` antennas serves ``num_users`` single-antenna
    UEs, one stream each, over a slot of ``num_ofdm_symbols`` OFDM symbols.
    Per batch example:

    1. every UE measures its channel ``H_k in C^{num_bs_ant x fft_size}``
       (snapshot 0 of the channel; snapshots ``0 .. L-1``, one per slot, for
       a CSI path with ``history_length`` ``L > 1``, e.g. the
       ``"predicted"`` path) and feeds it back through the CSI path
       (``csi_feedback``: UE encoder -> payload of ``payload_bits`` bits ->
       BS reconstruction);
    2. the BS computes the precoder from the reconstructed channels and
       precodes data and pilots (5G LDPC, QAM, Kronecker pilots);
    3. the signal goes through the *actual* channel (snapshot
       ``L - 1 + feedback_delay``), block-fading over the slot, plus AWGN;
    4. each UE equalises with LMMSE using its perfect or LS-estimated
       effective channel, demaps and decodes.

    **SNR convention.** ``ebno_db`` is converted with Sionna's
    ``ebnodb2no(ebno_db, num_bits_per_symbol, coderate, resource_grid)``:
    each stream is sent with unit power through unit-norm precoding vectors
    (total transmit power ``num_users`` per resource element; WMMSE and
    max-min keep that total and split it across users), channels have
    unit mean gain per antenna (environments normalise per UE), and
    ``no = overhead / (num_users * ebno * coderate * num_bits_per_symbol)``
    with ``overhead`` = (CP + pilot) resource-element overhead. The
    per-RE SNR before beamforming gain is thus ``num_users / no``.

    Parameters
    ----------
    channel : `callable`
        ``channel(batch_size)`` returns the actual downlink channels
        ``[batch_size, num_users, 1, 1, num_bs_ant, num_snapshots, fft_size]``
        (Sionna layout, one snapshot per slot; ``num_snapshots >=
        history_length + feedback_delay``), e.g. a
        :class:`~lasco_sionna.channels.DatasetChannel` or
        ``env.channel_model(num_users)`` of a stochastic environment
        (both normalised per UE, so that ``ebno_db`` is the per-UE SNR)

    numerology : :class:`~lasco_sionna.channels.Numerology`
        OFDM numerology (must match the channel's subcarriers)

    num_bs_ant : `int`
        BS antennas

    config : :class:`LinkConfig`, (default `LinkConfig()`)
        Link configuration

    csi_feedback : `str` | `dict` | :class:`~lasco_sionna.csi.CSIFeedback`, (default "perfect")
        CSI path (see :func:`~lasco_sionna.csi.get_csi_feedback`)

    precoder : `str` | `dict` | :class:`~lasco_sionna.precoding.LinearPrecodedChannel`, (default "rzf")
        Precoder (see :func:`~lasco_sionna.precoding.get_precoder`)

    precision : `None` (default) | "single" | "double"
        Precision of internal computations and outputs

    Input
    -----
    batch_size : `int`
        Batch size

    ebno_db : `float` | `tf.float`
        Eb/N0 [dB] (see the SNR convention above)

    Output
    ------
    b : [batch_size, 1, num_users, num_info_bits], `tf.float`
        Transmitted information bits

    b_hat : [batch_size, 1, num_users, num_info_bits], `tf.float`
        Decoded bits
    """

    def __init__(self, channel, numerology, num_bs_ant, config=LinkConfig(),
                 csi_feedback="perfect", precoder="rzf", precision=None):
        super().__init__(precision=precision)
        if not callable(channel):
            raise TypeError(f"`channel` must be callable, got {channel!r}")
        check_instance("numerology", numerology, Numerology)
        check_instance("config", config, LinkConfig)
        num_bs_ant = check_positive("num_bs_ant", num_bs_ant, integer=True)
        self.channel = channel
        self.numerology = numerology
        self.num_bs_ant = int(num_bs_ant)
        self.config = config
        k = config.num_users
        n = numerology
        if n.fft_size % k:
            raise ValueError(f"fft_size={n.fft_size} must be a multiple of "
                             f"num_users={k} (orthogonal Kronecker pilots)")

        self.resource_grid = ResourceGrid(
            num_ofdm_symbols=n.num_ofdm_symbols, fft_size=n.fft_size,
            subcarrier_spacing=n.subcarrier_spacing, num_tx=1,
            num_streams_per_tx=k, cyclic_prefix_length=n.cyclic_prefix_length,
            pilot_pattern="kronecker",
            pilot_ofdm_symbol_indices=list(config.pilot_ofdm_symbol_indices),
            precision=precision)
        self.stream_management = StreamManagement(np.ones([k, 1], int), k)

        rg = self.resource_grid
        self.num_coded_bits = int(rg.num_data_symbols
                                  * config.num_bits_per_symbol)
        if config.coded:
            self.num_info_bits = int(self.num_coded_bits * config.coderate)
            self._encoder = LDPC5GEncoder(self.num_info_bits,
                                          self.num_coded_bits,
                                          precision=precision)
            self._decoder = LDPC5GDecoder(self._encoder, hard_out=True,
                                          precision=precision)
            self._coderate = config.coderate
        else:
            self.num_info_bits = self.num_coded_bits
            self._coderate = 1.0

        if isinstance(csi_feedback, CSIFeedback):
            self.csi_feedback = csi_feedback
        else:
            self.csi_feedback = get_csi_feedback(csi_feedback, self.num_bs_ant,
                                                 n.fft_size,
                                                 precision=precision)
        self.precoder = get_precoder(precoder, rg, self.stream_management,
                                     precision=precision)
        if not isinstance(self.precoder, LinearPrecodedChannel):
            raise TypeError("`precoder` must be a LinearPrecodedChannel")
        if k > self.num_bs_ant and getattr(self.precoder, "alpha", None) == 0:
            raise ValueError(f"ZF needs num_users <= num_bs_ant, got "
                             f"num_users={k} > num_bs_ant={self.num_bs_ant}")

        self._source = BinarySource(precision=precision)
        self._mapper = Mapper("qam", config.num_bits_per_symbol,
                              precision=precision)
        self._rg_mapper = ResourceGridMapper(rg, precision=precision)
        self._apply_channel = ApplyOFDMChannel(precision=precision)
        self._estimator = LSChannelEstimator(rg, interpolation_type="lin",
                                             precision=precision)
        self._equalizer = LMMSEEqualizer(rg, self.stream_management,
                                         precision=precision)
        self._demapper = Demapper("app", "qam", config.num_bits_per_symbol,
                                  precision=precision)
        self._sinr = LMMSEPostEqualizationSINR(rg, self.stream_management,
                                               precision=precision)

    @property
    def feedback_bits_per_user(self):
        """`int` : CSI payload per user per report [bit]"""
        return int(self.csi_feedback.payload_bits)

    def noise_variance(self, ebno_db):
        """`tf.float` : Noise variance for ``ebno_db`` (see SNR convention)"""
        return ebnodb2no(ebno_db, self.config.num_bits_per_symbol,
                         self._coderate, self.resource_grid,
                         precision=self.precision)

    def _check_channel(self, h, batch_size):
        h = check_channel_tensor(
            "channel output", h, rank=7,
            last_dims=(self.config.num_users, 1, 1, self.num_bs_ant, None,
                       self.numerology.fft_size))
        need = self.csi_feedback.history_length + self.config.feedback_delay
        if h.shape[5] is not None and h.shape[5] < need:
            raise ValueError(f"feedback_delay={self.config.feedback_delay} "
                             "with a CSI path of history_length="
                             f"{self.csi_feedback.history_length} needs "
                             f"{need} channel snapshots, the channel "
                             f"provides {h.shape[5]}")
        del batch_size
        return h

    def precoded_channel(self, batch_size, no, return_csi=False):
        # pylint: disable=line-too-long
        r"""Draw channels, run the CSI path and compute the precoder

        Input
        -----
        batch_size : `int`
            Batch size

        no : `tf.float`
            Noise variance (used by noise-aware precoders)

        return_csi : `bool`, (default `False`)
            Also return what the BS knows

        Output
        ------
        h : [batch_size, num_users, 1, 1, num_bs_ant, 1, fft_size], `tf.complex`
            Actual channel during the transmission (block fading)

        g : [batch_size, 1, 1, fft_size, num_bs_ant, num_users], `tf.complex`
            Precoding matrix computed from the fed-back CSI

        h_eff : [batch_size, num_users, 1, 1, num_users, 1, num_effective_subcarriers], `tf.complex`
            Actual effective channel after precoding

        h_bs : [batch_size, num_users, 1, 1, num_bs_ant, 1, fft_size], `tf.complex`
            Only with ``return_csi``: the channel the BS knows
        """
        h_all = self._check_channel(self.channel(batch_size), batch_size)
        h_all = tf.cast(h_all, self.cdtype)
        num_reports = self.csi_feedback.history_length
        t = num_reports - 1 + self.config.feedback_delay
        # [batch_size, num_users, 1, 1, num_bs_ant, num_reports, fft_size]
        h_meas = h_all[..., :num_reports, :]
        # [batch_size, num_users, 1, 1, num_bs_ant, 1, fft_size]
        h = h_all[..., t:t + 1, :]

        # UE side -> payload -> BS reconstruction, per user
        # [batch_size, num_users, num_bs_ant, num_reports, fft_size]
        h_ue = tf.squeeze(h_meas, axis=[2, 3])
        if num_reports == 1:
            # [batch_size, num_users, num_bs_ant, fft_size]
            h_ue = tf.squeeze(h_ue, axis=3)
        else:
            # [batch_size, num_users, num_reports, num_bs_ant, fft_size]
            h_ue = tf.transpose(h_ue, [0, 1, 3, 2, 4])
        h_bs = tf.cast(self.csi_feedback(h_ue), self.cdtype)
        # [batch_size, num_users, 1, 1, num_bs_ant, 1, fft_size]
        h_bs = h_bs[:, :, tf.newaxis, tf.newaxis, :, tf.newaxis, :]

        g = self.precoder.compute_precoding_matrix(h_bs, no=no)
        h_eff = self.precoder.compute_effective_channel(h, g)
        if return_csi:
            return h, g, h_eff, h_bs
        return h, g, h_eff

    def call(self, batch_size, ebno_db):
        b, b_hat, _ = self.run(batch_size, ebno_db)
        return b, b_hat

    def run(self, batch_size, ebno_db):
        # pylint: disable=line-too-long
        r"""One batch through the link, with the post-equalisation SINR

        Input
        -----
        batch_size : `int`
            Batch size

        ebno_db : `float` | `tf.float`
            Eb/N0 [dB]

        Output
        ------
        b, b_hat : [batch_size, 1, num_users, num_info_bits], `tf.float`
            Transmitted and decoded information bits

        stats : `dict`
            ``"sinr"``: [batch_size, num_users], `tf.float`, LMMSE
            post-equalisation SINR of each user (linear, mean over
            subcarriers) with the actual effective channel and perfect
            receiver CSI; ``"rate"``: [batch_size, num_users], `tf.float`,
            achievable rate ``mean_f log2(1 + sinr_f)`` [bit/s/Hz];
            ``"csi_error"``, ``"csi_power"``: [batch_size, num_users],
            `tf.float`, squared error of the BS's channel knowledge against
            the actual channel during the transmission, and that channel's
            squared norm (their sums' ratio is the CSI NMSE)
        """
        k = self.config.num_users
        if not tf.is_tensor(batch_size) or tf.executing_eagerly():
            check_positive("batch_size", batch_size.numpy().item()
                           if tf.is_tensor(batch_size) else batch_size,
                           integer=True)
        no = self.noise_variance(check_finite("ebno_db", ebno_db))

        b = self._source([batch_size, 1, k, self.num_info_bits])
        c = self._encoder(b) if self.config.coded else b
        x = self._mapper(c)
        # [batch_size, 1, num_users, num_ofdm_symbols, fft_size]
        x_rg = self._rg_mapper(x)

        h, g, h_eff, h_bs = self.precoded_channel(batch_size, no,
                                                  return_csi=True)

        # [batch_size, 1, num_bs_ant, num_ofdm_symbols, fft_size]
        x_pc = self.precoder.precode(x_rg, g)
        # [batch_size, num_users, 1, num_ofdm_symbols, fft_size]
        y = self._apply_channel(x_pc, h, no)

        if self.config.receiver_csi == "perfect":
            # [batch_size, num_users, 1, 1, num_users, num_ofdm_symbols, num_eff_sc]
            h_hat = tf.tile(h_eff, [1, 1, 1, 1, 1,
                                    self.numerology.num_ofdm_symbols, 1])
            err_var = tf.zeros([], self.rdtype)
        else:
            h_hat, err_var = self._estimator(y, no)
        x_hat, no_eff = self._equalizer(y, h_hat, err_var, no)
        llr = self._demapper(x_hat, no_eff)
        b_hat = self._decoder(llr) if self.config.coded else \
            tf.cast(llr > 0, self.rdtype)

        # [batch_size, 1, num_eff_sc, num_users, 1]
        # Sionna 1.2.2 counts the interference twice with interference
        # whitening (whitened noise already holds it); for single-antenna
        # UEs the plain LMMSE SINR is exact: |h_k g_k|^2 / (sum_j!=k + no)
        sinr = self._sinr(h_eff, no, interference_whitening=False)
        # [batch_size, num_eff_sc, num_users]
        sinr = sinr[:, 0, :, :, 0]
        # [batch_size, num_users]
        csi_error = tf.reduce_sum(tf.abs(h_bs - h) ** 2, axis=[2, 3, 4, 5, 6])
        csi_power = tf.reduce_sum(tf.abs(h) ** 2, axis=[2, 3, 4, 5, 6])
        stats = {"sinr": tf.reduce_mean(sinr, axis=1),
                 "rate": tf.reduce_mean(log2(1.0 + sinr), axis=1),
                 "csi_error": csi_error, "csi_power": csi_power}
        return b, b_hat, stats
