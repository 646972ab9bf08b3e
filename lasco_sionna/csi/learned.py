#
# SPDX-License-Identifier: Apache-2.0
#
"""Learned CSI feedback: a UE encoder and any BS-side decoder (LAM, SAM, LASCO) as a CSI path of the link"""

import tensorflow as tf

from lasco_sionna.csi.feedback import CSIFeedback
from lasco_sionna.csi.quantizer import NormQuantizer
from lasco_sionna.csi.representation import csi_from_image, csi_image


class LearnedCSIFeedback(CSIFeedback):
    # pylint: disable=line-too-long
    r"""CSI path of a learned encoder/decoder pair

    UE side: the channel goes to its normalised angular-delay image
    (:func:`~lasco_sionna.csi.csi_image`, ``num_taps`` taps), the encoder
    produces ``encoder.payload_bits`` bits, and the image norm is sent with
    ``norm_bits`` bits (:class:`~lasco_sionna.csi.NormQuantizer` on
    ``norm_range_db``).
    BS side: ``encoder.decode`` gives the coarse inversion ``x0``, the
    decoder (any callable: the LAM, a SAM, a LASCO/E-LASCO combination)
    refines it, and the image goes back to the subcarriers.

    **Precision.** The encoder and the decoder are Keras models in single
    precision: the image, the payload bits and the decoder run in
    `tf.float32` whatever ``precision``; the channels are cast at the
    block's boundary (``h`` in, ``h_hat`` out, and the bits returned by
    :meth:`encode`) to ``precision``.

    Parameters
    ----------
    encoder : :class:`~lasco_sionna.models.LinearProjectionEncoder`
        UE encoder (``encode``/``decode``/``payload_bits``)

    decoder : `callable`
        ``[batch, 2, num_ant, num_taps] -> [batch, 2, num_ant, num_taps]``

    num_bs_ant : `int`
        BS antennas (must equal ``encoder.num_ant``)

    fft_size : `int`
        Subcarriers

    norm_bits : `int`, (default 8)
        Bits of the image norm

    norm_range_db : `tuple`, (default (-20.0, 60.0))
        Range of the norm quantiser [dB]

    precision : `None` (default) | "single" | "double"
        Precision of the outputs

    Input
    -----
    h : [..., num_bs_ant, fft_size], `tf.complex`
        Measured channels

    Output
    ------
    h_hat : [..., num_bs_ant, fft_size], `tf.complex`
        Reconstructed channels
    """

    def __init__(self, encoder, decoder, num_bs_ant, fft_size, norm_bits=8,
                 norm_range_db=(-20.0, 60.0), precision=None):
        super().__init__(num_bs_ant, fft_size, precision=precision)
        if encoder.num_ant != num_bs_ant:
            raise ValueError(f"encoder is built for {encoder.num_ant} "
                             f"antennas, the link has num_bs_ant={num_bs_ant}")
        if encoder.num_taps > fft_size:
            raise ValueError(f"encoder keeps {encoder.num_taps} taps > "
                             f"fft_size={fft_size}")
        if not callable(decoder):
            raise TypeError(f"`decoder` must be callable, got {decoder!r}")
        self.encoder, self.decoder = encoder, decoder
        self.norm_quantizer = NormQuantizer(norm_bits, norm_range_db)
        self.norm_bits = self.norm_quantizer.num_bits

    @property
    def payload_bits(self):
        return self.encoder.payload_bits + self.norm_bits

    def _flat(self, h):
        h = self._prepare(h)
        batch_shape = tf.shape(h)[:-2]
        # [batch, num_bs_ant, fft_size]
        return tf.reshape(h, [-1, self.num_bs_ant, self.fft_size]), \
            batch_shape

    def encode(self, h):
        h, batch_shape = self._flat(h)
        x, norm = csi_image(h, self.encoder.num_taps, precision="single")
        # [batch, payload_bits]
        bits = tf.concat([self.norm_quantizer.to_bits(norm),
                          self.encoder.encode(x)], axis=-1)
        # [..., payload_bits]
        bits = tf.reshape(bits, tf.concat([batch_shape, [-1]], 0))
        return tf.cast(bits, self.rdtype)

    def _decode_flat(self, bits):
        norm = self.norm_quantizer.from_bits(bits[:, :self.norm_bits])
        x0 = self.encoder.decode(bits[:, self.norm_bits:])
        x_hat = tf.convert_to_tensor(self.decoder(x0), tf.float32)
        return csi_from_image(x_hat, norm, self.fft_size,
                              precision=self.precision)

    def decode(self, bits):
        bits = tf.cast(bits, tf.float32)
        batch_shape = tf.shape(bits)[:-1]
        # [batch, payload_bits]
        flat = tf.reshape(bits, [-1, self.payload_bits])
        h = self._decode_flat(flat)
        # [..., num_bs_ant, fft_size]
        return tf.reshape(h, tf.concat([batch_shape, [self.num_bs_ant,
                                                      self.fft_size]], 0))

