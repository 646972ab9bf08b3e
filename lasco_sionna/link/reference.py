#
# SPDX-License-Identifier: Apache-2.0
#
"""A plain Sionna RZF MU-MIMO OFDM link, written from Sionna blocks only

It is the yardstick of :class:`~lasco_sionna.link.MUMIMOOFDMLink`: with
perfect CSI and the same channel, both must give the same bits (tests) and
similar throughput (``sims/bench_link_throughput.py``). It follows the
usual Sionna tutorial structure: the channel is tiled over the slot and
Sionna's :class:`~sionna.phy.ofdm.RZFPrecoder` computes the precoder and the
effective channel from the same (perfectly known) channel.
"""

import numpy as np
import tensorflow as tf
from sionna.phy import Block
from sionna.phy.channel import ApplyOFDMChannel
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
from sionna.phy.mapping import BinarySource, Demapper, Mapper
from sionna.phy.mimo import StreamManagement
from sionna.phy.ofdm import (LMMSEEqualizer, RZFPrecoder, ResourceGrid,
                             ResourceGridMapper)
from sionna.phy.utils import ebnodb2no


class PlainSionnaRZFLink(Block):
    # pylint: disable=line-too-long
    r"""Reference downlink MU-MIMO OFDM link with RZF precoding and perfect CSI

    Parameters
    ----------
    channel : `callable`
        ``channel(batch_size)`` -> ``[batch_size, num_users, 1, 1, num_bs_ant, 1, fft_size]``, `tf.complex`

    numerology : :class:`~lasco_sionna.channels.Numerology`
        OFDM numerology

    num_users : `int`
        Number of single-antenna users

    num_bits_per_symbol : `int`, (default 2)
        QAM order

    coderate : `float`, (default 0.5)
        LDPC code rate

    pilot_ofdm_symbol_indices : `list`, (default [2, 11])
        Pilot OFDM symbols (Kronecker pattern)

    precision : `None` (default) | "single" | "double"
        Precision

    Input
    -----
    batch_size : `int`
        Batch size

    ebno_db : `float`
        Eb/N0 [dB]; RZF regularisation ``alpha = no``

    Output
    ------
    b, b_hat : [batch_size, 1, num_users, num_info_bits], `tf.float`
        Transmitted and decoded bits
    """

    def __init__(self, channel, numerology, num_users, num_bits_per_symbol=2,
                 coderate=0.5, pilot_ofdm_symbol_indices=(2, 11),
                 precision=None):
        super().__init__(precision=precision)
        n = numerology
        self._channel = channel
        self._k = num_users
        self._m = num_bits_per_symbol
        self._r = coderate
        self._num_ofdm_symbols = n.num_ofdm_symbols
        self._rg = ResourceGrid(
            num_ofdm_symbols=n.num_ofdm_symbols, fft_size=n.fft_size,
            subcarrier_spacing=n.subcarrier_spacing, num_tx=1,
            num_streams_per_tx=num_users,
            cyclic_prefix_length=n.cyclic_prefix_length,
            pilot_pattern="kronecker",
            pilot_ofdm_symbol_indices=list(pilot_ofdm_symbol_indices),
            precision=precision)
        sm = StreamManagement(np.ones([num_users, 1], int), num_users)
        n_bits = int(self._rg.num_data_symbols * num_bits_per_symbol)
        self.num_info_bits = int(n_bits * coderate)
        self._encoder = LDPC5GEncoder(self.num_info_bits, n_bits,
                                      precision=precision)
        self._decoder = LDPC5GDecoder(self._encoder, hard_out=True,
                                      precision=precision)
        self._source = BinarySource(precision=precision)
        self._mapper = Mapper("qam", num_bits_per_symbol, precision=precision)
        self._rg_mapper = ResourceGridMapper(self._rg, precision=precision)
        self._precoder = RZFPrecoder(self._rg, sm,
                                     return_effective_channel=True,
                                     precision=precision)
        self._apply = ApplyOFDMChannel(precision=precision)
        self._equalizer = LMMSEEqualizer(self._rg, sm, precision=precision)
        self._demapper = Demapper("app", "qam", num_bits_per_symbol,
                                  precision=precision)

    def call(self, batch_size, ebno_db):
        no = ebnodb2no(ebno_db, self._m, self._r, self._rg,
                       precision=self.precision)
        b = self._source([batch_size, 1, self._k, self.num_info_bits])
        x = self._rg_mapper(self._mapper(self._encoder(b)))
        h = tf.cast(self._channel(batch_size), self.cdtype)
        # [batch_size, num_users, 1, 1, num_bs_ant, num_ofdm_symbols, fft_size]
        h = tf.tile(h, [1, 1, 1, 1, 1, self._num_ofdm_symbols, 1])
        x_pc, h_eff = self._precoder(x, h, alpha=no)
        y = self._apply(x_pc, h, no)
        x_hat, no_eff = self._equalizer(y, h_eff, tf.zeros([], self.rdtype),
                                        no)
        llr = self._demapper(x_hat, no_eff)
        return b, self._decoder(llr)
