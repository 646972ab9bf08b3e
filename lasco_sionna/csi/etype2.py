#
# SPDX-License-Identifier: Apache-2.0
#
"""Simplified enhanced Type II codebook: L orthogonal DFT beams, per-subband amplitude/phase"""

import math

import numpy as np
import tensorflow as tf
from sionna.phy.fec.utils import bin2int_tf, int2bin_tf
from sionna.phy.utils import (db_to_lin, flatten_dims, flatten_last_dims,
                              lin_to_db, log10, split_dim)

from lasco_sionna.csi.codebook import oversampled_dft_beams
from lasco_sionna.csi.feedback import CSIFeedback, register_csi_feedback
from lasco_sionna.utils.validation import check_positive


class ETypeIICodebookCSI(CSIFeedback):
    # pylint: disable=line-too-long
    r"""Simplified eType II feedback: beam selection + amplitude/phase quantisation

    A reduced form of the TS 38.214 (enhanced) Type II codebook for a
    single-polarised ULA and one layer (**simplified**: no frequency-domain
    DFT compression, no strongest-coefficient indicator):

    * wideband: ``num_beams`` orthogonal DFT beams
      :math:`\mathbf{u}_{q + O k}` of one oversampling group ``q`` (the
      ``num_beams`` strongest beams of the group whose ``num_beams``
      strongest beams carry the most power: the ``num_beams`` orthogonal
      beams that capture most of the channel's power);
      ``log2(O) + L ceil(log2(Nt))`` bits (explicit indices rather than
      the combinatorial code of TS 38.214);
    * per subband: the dominant eigenvector :math:`\mathbf{c}_s` of the
      beam-domain covariance :math:`\sum_{f\in s}\mathbf{b}_f
      \mathbf{b}_f^{\mathsf H}`, :math:`b_{f,l} = \mathbf{h}_f^{\mathsf T}
      \mathbf{u}_l`, scaled by the RMS beam-domain gain, phase-referenced to
      its strongest entry; each entry's amplitude (relative to the largest,
      ``amplitude_bits`` on a 3 dB grid, the lowest level meaning 0) and
      phase (``phase_bits`` uniform) are reported, plus a 4-bit subband
      gain in 1.5 dB steps.

    The BS reconstructs :math:`\hat{\mathbf{h}}_f = \sum_l c_{s,l}
    \mathbf{u}_l^*` on every subcarrier of subband :math:`s`.

    Parameters
    ----------
    num_bs_ant : `int`
        BS antennas

    fft_size : `int`
        Subcarriers

    num_beams : `int`, (default 4)
        Beams ``L`` (<= num_bs_ant)

    oversampling : `int`, (default 4)
        DFT oversampling ``O`` (a power of two)

    num_subbands : `int`, (default 8)
        Equal subbands (must divide ``fft_size``)

    amplitude_bits : `int`, (default 3)
        Bits per relative amplitude

    phase_bits : `int`, (default 4)
        Bits per phase

    precision : `None` (default) | "single" | "double"
        Precision of internal computations and outputs

    Input
    -----
    h : [..., num_bs_ant, fft_size], `tf.complex`
        Measured channels

    Output
    ------
    h_hat : [..., num_bs_ant, fft_size], `tf.complex`
        Channels reconstructed at the BS
    """

    _GAIN_BITS = 4

    def __init__(self, num_bs_ant, fft_size, num_beams=4, oversampling=4,
                 num_subbands=8, amplitude_bits=3, phase_bits=4,
                 precision=None):
        super().__init__(num_bs_ant, fft_size, precision=precision)
        for name, v in (("num_beams", num_beams),
                        ("oversampling", oversampling),
                        ("num_subbands", num_subbands),
                        ("amplitude_bits", amplitude_bits),
                        ("phase_bits", phase_bits)):
            check_positive(name, v, integer=True)
        if num_beams > num_bs_ant:
            raise ValueError(f"`num_beams`={num_beams} must be <= "
                             f"num_bs_ant={num_bs_ant}")
        if oversampling & (oversampling - 1):
            raise ValueError(f"`oversampling`={oversampling} must be a "
                             "power of two")
        if fft_size % num_subbands:
            raise ValueError(f"`num_subbands`={num_subbands} must divide "
                             f"fft_size={fft_size}")
        self.num_beams, self.oversampling = int(num_beams), int(oversampling)
        self.num_subbands = int(num_subbands)
        self.amplitude_bits, self.phase_bits = int(amplitude_bits), \
            int(phase_bits)
        # [num_bs_ant, num_bs_ant * oversampling]
        self._beams = tf.cast(
            oversampled_dft_beams(num_bs_ant, oversampling), self.cdtype)

    @property
    def _group_bits(self):
        return max(1, int(math.log2(self.oversampling)))

    @property
    def _index_bits(self):
        return max(1, math.ceil(math.log2(self.num_bs_ant)))

    @property
    def payload_bits(self):
        wideband = self._group_bits + self.num_beams * self._index_bits
        per_sb = self._GAIN_BITS + self.num_beams * (self.amplitude_bits
                                                     + self.phase_bits)
        return wideband + self.num_subbands * per_sb

    def _selection(self, h):
        o, nt = self.oversampling, self.num_bs_ant
        # [..., fft_size, nt * o]
        c = tf.matmul(h, self._beams, transpose_a=True)
        # [..., nt * o]
        power = tf.reduce_mean(tf.abs(c) ** 2, axis=-2)
        # Beam m = q + o k: [..., nt, o]
        grid = split_dim(power, [nt, o], len(power.shape) - 1)
        # The num_beams strongest beams of every group: [..., o, num_beams]
        # (the power of all nt orthogonal beams of a group is ||h||^2 for
        # every group and cannot pick one)
        strongest = tf.math.top_k(tf.linalg.matrix_transpose(grid),
                                  self.num_beams)
        # The group whose num_beams strongest beams carry the most power
        q = tf.argmax(tf.reduce_sum(strongest.values, axis=-1), axis=-1,
                      output_type=tf.int32)
        # [..., num_beams]
        k = tf.gather(strongest.indices, q, batch_dims=len(q.shape))
        return q, k

    def _beam_matrix(self, q, k):
        idx = q[..., tf.newaxis] + self.oversampling * k
        # [..., num_beams, num_bs_ant]
        return tf.gather(tf.transpose(self._beams), idx)

    def encode(self, h):
        h = self._prepare(h)
        q, k = self._selection(h)
        u = self._beam_matrix(q, k)
        # Beam-domain channels b_f = U^T h_f: [..., fft_size, num_beams]
        b = tf.matmul(h, u, transpose_a=True, transpose_b=True)
        sc = self.fft_size // self.num_subbands
        # [..., num_subbands, sc, num_beams]
        b = split_dim(b, [self.num_subbands, sc], len(b.shape) - 2)
        r = tf.matmul(b, b, adjoint_a=True)
        # [..., num_subbands, num_beams, num_beams]
        e, v = tf.linalg.eigh(tf.math.conj(r))
        e = tf.math.real(e)
        c = v[..., -1]
        # Strongest entry real positive
        amp = tf.abs(c)
        ref = tf.argmax(amp, axis=-1, output_type=tf.int32)
        ph_ref = tf.gather(tf.math.angle(c), ref, batch_dims=len(c.shape) - 1)
        phase = tf.math.angle(c) - ph_ref[..., tf.newaxis]
        rel_db = 20.0 * log10(amp / tf.reduce_max(amp, -1, keepdims=True)
                              + 1e-30)
        na = 2 ** self.amplitude_bits
        # level j <-> -3 (na - 1 - j) dB; level 0 <-> 0 amplitude
        qa = tf.clip_by_value(tf.round(rel_db / 3.0) + (na - 1), 0, na - 1)
        npb = 2 ** self.phase_bits
        qp = tf.math.floormod(tf.round(phase / (2 * np.pi) * npb), npb)
        gain_db = lin_to_db(e[..., -1] / sc / self.num_bs_ant + 1e-30,
                            precision=self.precision)
        qg = tf.clip_by_value(tf.round(gain_db / 1.5) + 8, 0, 15)
        # [..., num_subbands, gain + num_beams * (amplitude + phase) bits]
        per_sb = tf.concat([
            int2bin_tf(tf.cast(qg, tf.int32), self._GAIN_BITS),
            flatten_last_dims(int2bin_tf(tf.cast(qa, tf.int32),
                                         self.amplitude_bits), 2),
            flatten_last_dims(int2bin_tf(tf.cast(qp, tf.int32),
                                         self.phase_bits), 2)], axis=-1)
        # [..., num_beams * index_bits]
        k_bits = flatten_last_dims(int2bin_tf(k, self._index_bits), 2)
        # [..., payload_bits]
        bits = tf.concat([int2bin_tf(q, self._group_bits), k_bits,
                          flatten_last_dims(per_sb, 2)], axis=-1)
        return tf.cast(bits, self.rdtype)

    def decode(self, bits):
        bits = tf.cast(bits, tf.int32)
        last = len(bits.shape) - 1
        gb, nw = self._group_bits, self._group_bits + \
            self.num_beams * self._index_bits
        q = bin2int_tf(bits[..., :gb])
        # [..., num_beams, index_bits]
        k = split_dim(bits[..., gb:nw], [self.num_beams, self._index_bits],
                      last)
        # [..., num_beams]
        k = bin2int_tf(k)
        u = self._beam_matrix(q, k)
        # [..., num_subbands, gain + num_beams * (amplitude + phase) bits]
        per = split_dim(bits[..., nw:], [self.num_subbands, -1], last)
        g = self._GAIN_BITS
        na_bits = self.num_beams * self.amplitude_bits
        qg = tf.cast(bin2int_tf(per[..., :g]), self.rdtype)
        # [..., num_subbands, num_beams, amplitude_bits]
        qa = split_dim(per[..., g:g + na_bits],
                       [self.num_beams, self.amplitude_bits], last + 1)
        # [..., num_subbands, num_beams]
        qa = tf.cast(bin2int_tf(qa), self.rdtype)
        # [..., num_subbands, num_beams, phase_bits]
        qp = split_dim(per[..., g + na_bits:],
                       [self.num_beams, self.phase_bits], last + 1)
        # [..., num_subbands, num_beams]
        qp = tf.cast(bin2int_tf(qp), self.rdtype)
        na = 2 ** self.amplitude_bits
        amp = tf.where(qa > 0, 10.0 ** (-3.0 * (na - 1 - qa) / 20.0), 0.0)
        amp = amp / tf.norm(amp, axis=-1, keepdims=True)
        gain = tf.sqrt(self.num_bs_ant
                       * db_to_lin((qg - 8) * 1.5, precision=self.precision))
        phase = qp / 2 ** self.phase_bits * 2 * np.pi
        # [..., num_subbands, num_beams]
        c = tf.complex(amp * tf.cos(phase), amp * tf.sin(phase)) * \
            tf.cast(gain[..., tf.newaxis], self.cdtype)
        # [..., num_subbands, num_bs_ant]
        v = tf.matmul(c, tf.math.conj(u))
        sc = self.fft_size // self.num_subbands
        v = tf.repeat(v[..., tf.newaxis, :], sc, axis=-2)
        # [..., fft_size, num_bs_ant]
        v = flatten_dims(v, 2, len(v.shape) - 3)
        # [..., num_bs_ant, fft_size]
        return tf.linalg.matrix_transpose(v)


register_csi_feedback("etype2", ETypeIICodebookCSI)
