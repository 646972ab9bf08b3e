#
# SPDX-License-Identifier: Apache-2.0
#
"""UE-side CSI encoder: a fixed random linear projection shared by all decoders, with BS-side coarse inversion"""

import keras
import numpy as np
import tensorflow as tf

from lasco_sionna.csi.quantizer import UniformQuantizer
from lasco_sionna.utils.validation import check_positive


class CompressedImageLayer(keras.layers.Layer):
    # pylint: disable=line-too-long
    r"""Base class of CSI image compressors with a uniformly quantised bottleneck

    Holds what every compressor of a ``2 x num_ant x num_taps`` CSI image to
    ``M = 2 num_ant num_taps / compression`` measurements shares: the sizes,
    the quantiser of the measurements, the payload and the UE-side
    :meth:`encode`. Subclasses implement :meth:`measure`.

    Parameters
    ----------
    num_ant : `int`
        BS antennas (angle bins)

    num_taps : `int`
        Delay taps

    compression : `int`
        Compression ratio ``1/compression``; must divide the image size
        ``2 num_ant num_taps``

    bits_per_measurement : `int`
        Quantiser bits per measurement

    clip : `float`
        Quantiser range

    kwargs :
        Keras layer arguments (``name``, ``dtype``); others raise `TypeError`
    """

    def __init__(self, num_ant, num_taps, compression, bits_per_measurement,
                 clip, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("num_ant", num_ant), ("num_taps", num_taps),
                            ("compression", compression)):
            check_positive(name, value, integer=True)
        self.num_ant, self.num_taps = int(num_ant), int(num_taps)
        self.dim = 2 * self.num_ant * self.num_taps
        if self.dim % compression:
            raise ValueError(f"`compression`={compression} must divide the "
                             f"image size {self.dim}")
        self.compression = int(compression)
        self.num_measurements = self.dim // self.compression
        self.quantizer = UniformQuantizer(bits_per_measurement, clip)

    @property
    def payload_bits(self):
        """`int` : Feedback bits per report"""
        return self.num_measurements * self.quantizer.num_bits

    def measure(self, x):
        """[batch, num_measurements] : Unquantised measurements of the images ``x``"""
        raise NotImplementedError

    def encode(self, x):
        """[batch, payload_bits] : UE side, payload bits"""
        return self.quantizer.to_bits(self.measure(x))


@keras.saving.register_keras_serializable(package="lasco_sionna")
class LinearProjectionEncoder(CompressedImageLayer):
    # pylint: disable=line-too-long
    r"""Compress a normalised angular-delay CSI image with a fixed projection

    The UE maps its real CSI image ``x`` (``2 x num_ant x num_taps``, unit
    Frobenius norm) to ``M = 2 num_ant num_taps / compression`` measurements
    ``s = sqrt(D) A vec(x)`` with a fixed random ``A`` (``M x D``,
    orthonormal rows, drawn from ``seed``; ``D = 2 num_ant num_taps``) and
    quantises them with ``bits_per_measurement`` bits (straight-through).
    The BS's coarse inversion is ``x_0 = A^T s / sqrt(D)`` (``A^+ = A^T``),
    the common input of every decoder (LAM and SAMs). The projection is not
    trainable, so all decoders share one UE encoder (**reconstructed** from a
    summary of the LASCO paper).

    Parameters
    ----------
    num_ant : `int`, (default 32)
        BS antennas (angle bins)

    num_taps : `int`, (default 32)
        Delay taps

    compression : `int`, (default 16)
        Compression ratio ``1/compression`` (4 ... 64)

    bits_per_measurement : `int`, (default 4)
        Quantiser bits per measurement

    clip : `float`, (default 3.0)
        Quantiser range in standard deviations of a measurement

    seed : `int`, (default 0)
        Seed of ``A``

    Input
    -----
    x : [batch, 2, num_ant, num_taps], `tf.float32`
        Normalised real CSI images

    Output
    ------
    x0 : [batch, 2, num_ant, num_taps], `tf.float32`
        BS-side coarse reconstruction from the quantised measurements
    """

    def __init__(self, num_ant=32, num_taps=32, compression=16,
                 bits_per_measurement=4, clip=3.0, seed=0, **kwargs):
        super().__init__(num_ant, num_taps, compression, bits_per_measurement,
                         clip, **kwargs)
        self.seed = int(seed)
        rng = np.random.default_rng(self.seed)
        # Orthonormal rows: [num_measurements, dim]
        q, _ = np.linalg.qr(rng.standard_normal([self.dim,
                                                 self.num_measurements]))
        self._a = tf.constant(q.T, tf.float32)

    @property
    def projection(self):
        """[num_measurements, dim], `np.float32` : The projection ``A``"""
        return self._a.numpy()

    def measure(self, x):
        """[batch, num_measurements] : Unquantised measurements ``s``"""
        # [batch, dim]
        v = tf.reshape(tf.cast(x, tf.float32), [-1, self.dim])
        return tf.matmul(v, self._a, transpose_b=True) * np.sqrt(self.dim)

    def invert(self, s):
        """[batch, 2, num_ant, num_taps] : Coarse inversion ``A^T s / sqrt(D)``"""
        v = tf.matmul(s, self._a) / np.sqrt(self.dim)
        # [batch, 2, num_ant, num_taps]
        return tf.reshape(v, [-1, 2, self.num_ant, self.num_taps])

    def decode(self, bits):
        """[batch, 2, num_ant, num_taps] : BS side, coarse inversion from bits"""
        return self.invert(self.quantizer.from_bits(bits))

    def call(self, x):
        return self.invert(self.quantizer(self.measure(x)))

    def get_config(self):
        return {**super().get_config(), "num_ant": self.num_ant,
                "num_taps": self.num_taps, "compression": self.compression,
                "bits_per_measurement": self.quantizer.num_bits,
                "clip": self.quantizer.clip, "seed": self.seed}
