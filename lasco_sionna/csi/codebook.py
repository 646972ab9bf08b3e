#
# SPDX-License-Identifier: Apache-2.0
#
"""Type I single-panel DFT codebook (PMI) feedback for one layer"""

import math

import tensorflow as tf
from sionna.phy.fec.utils import bin2int_tf, int2bin_tf
from sionna.phy.mimo import grid_of_beams_dft_ula
from sionna.phy.utils import (db_to_lin, flatten_dims, flatten_last_dims,
                              lin_to_db, split_dim)

from lasco_sionna.csi.feedback import CSIFeedback, register_csi_feedback
from lasco_sionna.utils.validation import check_choice, check_positive


def oversampled_dft_beams(num_ant, oversampling):
    r"""Oversampled DFT beams of a ULA, as columns

    Sionna's :func:`~sionna.phy.mimo.grid_of_beams_dft_ula` (beams as rows),
    computed in double precision and transposed.

    Input
    -----
    num_ant : `int`
        Antennas ``Nt``

    oversampling : `int`
        Oversampling factor ``O``

    Output
    ------
    beams : [num_ant, num_ant * oversampling], `tf.complex128`
        :math:`u_m[n] = e^{j 2\pi n m / (N_t O)} / \sqrt{N_t}`
    """
    # [num_ant * oversampling, num_ant]
    gob = grid_of_beams_dft_ula(num_ant, oversampling, precision="double")
    # [num_ant, num_ant * oversampling]
    return tf.transpose(gob)


class TypeICodebookCSI(CSIFeedback):
    # pylint: disable=line-too-long
    r"""Type I DFT codebook feedback: one oversampled DFT beam per subband

    A simplified 3GPP TS 38.214 Type I single-panel codebook for a
    single-polarised uniform linear array and one layer. The codebook has
    ``num_bs_ant * oversampling`` beams

    .. math::
        \mathbf{u}_m[n] = \frac{1}{\sqrt{N_t}}
        \exp\left(j 2\pi \frac{n m}{N_t O}\right),\quad
        m = 0, \dots, N_t O - 1.

    For each of ``num_subbands`` equal subbands the UE reports the beam
    index (PMI) maximising the received power
    :math:`\sum_{f\in s}|\mathbf{h}_f^{\mathsf{T}}\mathbf{u}_m|^2`
    (``ceil(log2(Nt * O))`` bits) and, if ``amplitude_bits > 0``, a
    CQI-like subband gain: the RMS of :math:`|\mathbf{h}_f^{\mathsf{T}}
    \mathbf{u}_m|` over the subband, in dB relative to
    :math:`\sqrt{N_t}`, uniformly quantised on ``amplitude_range_db``. The
    BS reconstructs :math:`\hat{\mathbf{h}}_f = a_s\,\mathbf{u}_{m_s}^*`
    for every subcarrier of subband :math:`s` (no phase is reported, which
    is harmless for linear multi-user precoding: a per-user phase only
    rotates that user's stream). Without amplitude bits, :math:`a_s =
    \sqrt{N_t}` (unit gain per antenna, the environments' normalisation).

    Parameters
    ----------
    num_bs_ant : `int`
        BS antennas of the uniform linear array

    fft_size : `int`
        Subcarriers

    oversampling : `int`, (default 4)
        DFT oversampling factor ``O``

    num_subbands : `int`, (default 8)
        Number of equal subbands (must divide ``fft_size``)

    amplitude_bits : `int`, (default 4)
        Bits of the subband gain; 0 reports beams only

    amplitude_range_db : `tuple`, (default (-30.0, 10.0))
        Range of the subband gain quantiser [dB relative to sqrt(Nt)]

    polarization : "single" (default) | "dual" | "V" | "H" | "cross" | "VH"
        Polarisation of the BS array (names of
        :class:`~lasco_sionna.channels.BSArray`, Sionna's ``PanelArray``
        and Sionna RT's ``PlanarArray``). This codebook assumes a
        single-polarised array whose ports are one ULA: a dual-polarised
        array (its ports are two co-located arrays, not one array of
        ``num_bs_ant`` elements) raises `ValueError`

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

    def __init__(self, num_bs_ant, fft_size, oversampling=4, num_subbands=8,
                 amplitude_bits=4, amplitude_range_db=(-30.0, 10.0),
                 polarization="single", precision=None):
        super().__init__(num_bs_ant, fft_size, precision=precision)
        check_choice("polarization", polarization,
                     ("single", "dual", "V", "H", "cross", "VH"))
        if polarization in ("dual", "cross", "VH"):
            raise ValueError(
                f"`polarization`={polarization!r}: the Type I codebook here "
                "assumes a single-polarised ULA (one DFT beam over all "
                f"{self.num_bs_ant} ports); a dual-polarised array needs the "
                "two-polarisation codebook of TS 38.214 (co-phasing), which "
                "is not implemented. Use 'quantized' or a learned CSI path")
        check_positive("oversampling", oversampling, integer=True)
        check_positive("num_subbands", num_subbands, integer=True)
        check_positive("amplitude_bits", amplitude_bits, integer=True,
                       allow_zero=True)
        if fft_size % num_subbands:
            raise ValueError(f"`num_subbands`={num_subbands} must divide "
                             f"fft_size={fft_size}")
        lo, hi = (float(v) for v in amplitude_range_db)
        if not lo < hi:
            raise ValueError("`amplitude_range_db` must be (low, high) with "
                             f"low < high, got {amplitude_range_db!r}")
        self.oversampling = int(oversampling)
        self.num_subbands = int(num_subbands)
        self.amplitude_bits = int(amplitude_bits)
        self.amplitude_range_db = (lo, hi)
        self.num_beams = self.num_bs_ant * self.oversampling
        self.pmi_bits = max(1, math.ceil(math.log2(self.num_beams)))
        # Beams as columns: [num_bs_ant, num_beams]
        self._beams = tf.cast(
            oversampled_dft_beams(self.num_bs_ant, self.oversampling),
            self.cdtype)

    @property
    def payload_bits(self):
        return self.num_subbands * (self.pmi_bits + self.amplitude_bits)

    @property
    def beams(self):
        """[num_bs_ant, num_beams], `tf.complex` : The DFT codebook"""
        return self._beams

    def encode(self, h):
        h = self._prepare(h)
        # Beam responses h_f^T u_m: [..., fft_size, num_beams]
        c = tf.matmul(h, self._beams, transpose_a=True)
        # [..., num_subbands, sc_per_subband, num_beams]
        c = split_dim(c, [self.num_subbands, -1], len(c.shape) - 2)
        # Mean received power per beam: [..., num_subbands, num_beams]
        power = tf.reduce_mean(tf.abs(c) ** 2, axis=-2)
        # [..., num_subbands]
        pmi = tf.argmax(power, axis=-1, output_type=tf.int32)
        # [..., num_subbands, pmi_bits]
        fields = [int2bin_tf(pmi, self.pmi_bits)]
        if self.amplitude_bits:
            best = tf.reduce_max(power, axis=-1)
            ref = tf.cast(self.num_bs_ant, self.rdtype)
            gain_db = lin_to_db(best / ref + 1e-30, precision=self.precision)
            lo, hi = self.amplitude_range_db
            levels = 2 ** self.amplitude_bits
            q = tf.round((gain_db - lo) / (hi - lo) * (levels - 1))
            q = tf.cast(tf.clip_by_value(q, 0, levels - 1), tf.int32)
            # [..., num_subbands, amplitude_bits]
            fields.append(int2bin_tf(q, self.amplitude_bits))
        # [..., num_subbands, pmi_bits + amplitude_bits]
        bits = tf.concat(fields, axis=-1)
        # [..., payload_bits]
        bits = flatten_last_dims(bits, 2)
        return tf.cast(bits, self.rdtype)

    def decode(self, bits):
        bits = tf.cast(bits, tf.int32)
        # [..., num_subbands, pmi_bits + amplitude_bits]
        bits = split_dim(bits, [self.num_subbands, -1], len(bits.shape) - 1)
        pmi = bin2int_tf(bits[..., :self.pmi_bits])
        # Wrap indices beyond the codebook (only for corrupted payloads)
        pmi = tf.math.floormod(pmi, self.num_beams)
        # [..., num_subbands, num_bs_ant]
        beams = tf.gather(tf.transpose(self._beams), pmi)
        if self.amplitude_bits:
            q = tf.cast(bin2int_tf(bits[..., self.pmi_bits:]), self.rdtype)
            lo, hi = self.amplitude_range_db
            gain_db = lo + q / (2 ** self.amplitude_bits - 1) * (hi - lo)
            amp = tf.sqrt(self.num_bs_ant
                          * db_to_lin(gain_db, precision=self.precision))
        else:
            amp = tf.fill(tf.shape(pmi), tf.sqrt(tf.cast(self.num_bs_ant,
                                                         self.rdtype)))
        # [..., num_subbands, num_bs_ant]
        v = tf.math.conj(beams) * tf.cast(amp, self.cdtype)[..., tf.newaxis]
        sc = self.fft_size // self.num_subbands
        # [..., num_subbands, sc_per_subband, num_bs_ant]
        v = tf.repeat(v[..., tf.newaxis, :], sc, axis=-2)
        # [..., fft_size, num_bs_ant]
        v = flatten_dims(v, 2, len(v.shape) - 3)
        # [..., num_bs_ant, fft_size]
        return tf.linalg.matrix_transpose(v)


def _type1_in_context(num_bs_ant, fft_size, precision=None, context=None,
                      **params):
    """Type I path whose ``polarization`` defaults to the link's BS array"""
    if "polarization" not in params and context is not None \
            and context.bs_array:
        params["polarization"] = context.bs_array.get("polarization",
                                                      "single")
    return TypeICodebookCSI(num_bs_ant, fft_size, precision=precision,
                            **params)


register_csi_feedback("type1", _type1_in_context, uses_context=True)
