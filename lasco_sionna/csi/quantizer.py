#
# SPDX-License-Identifier: Apache-2.0
#
"""Uniform scalar quantiser with a straight-through gradient (Keras layer)"""

import keras
import tensorflow as tf

from lasco_sionna.utils.validation import check_positive


@keras.saving.register_keras_serializable(package="lasco_sionna")
class UniformQuantizer(keras.layers.Layer):
    r"""Uniform mid-rise quantiser on ``[-clip, clip]`` with ``num_bits`` bits

    The forward pass returns the reconstruction levels; the backward pass
    is the identity inside the clipping range (straight-through estimator),
    so encoders train through the bit pipe. :meth:`to_bits` and
    :meth:`from_bits` give the exact payload (``num_bits`` per value, most
    significant bit first).

    Parameters
    ----------
    num_bits : `int`
        Bits per value (1..16)

    clip : `float`, (default 3.0)
        Clipping range

    Input
    -----
    x : [..., n], `tf.float`
        Values

    Output
    ------
    x_q : [..., n], `tf.float`
        Quantised values
    """

    def __init__(self, num_bits, clip=3.0, **kwargs):
        super().__init__(**kwargs)
        check_positive("num_bits", num_bits, integer=True)
        if num_bits > 16:
            raise ValueError(f"`num_bits`={num_bits} must be <= 16")
        self.num_bits = int(num_bits)
        self.clip = float(check_positive("clip", clip))

    @property
    def levels(self):
        """`int` : Number of quantisation levels"""
        return 2 ** self.num_bits

    def indices(self, x):
        """[..., n], `tf.int32` : Level index of each value"""
        step = 2.0 * self.clip / self.levels
        q = tf.math.floor((tf.cast(x, tf.float32) + self.clip) / step)
        return tf.cast(tf.clip_by_value(q, 0, self.levels - 1), tf.int32)

    def dequantize(self, indices):
        """[..., n], `tf.float32` : Reconstruction level of each index"""
        step = 2.0 * self.clip / self.levels
        return -self.clip + (tf.cast(indices, tf.float32) + 0.5) * step

    def to_bits(self, x):
        """[..., n * num_bits], `tf.float32` : Payload bits of ``x``"""
        q = self.indices(x)
        shifts = tf.range(self.num_bits - 1, -1, -1)
        bits = tf.bitwise.bitwise_and(tf.bitwise.right_shift(
            q[..., tf.newaxis], shifts), 1)
        # [..., n * num_bits]
        bits = tf.reshape(bits, tf.concat([tf.shape(q)[:-1], [-1]], 0))
        return tf.cast(bits, tf.float32)

    def from_bits(self, bits):
        """[..., n], `tf.float32` : Values from payload bits"""
        bits = tf.cast(bits, tf.int32)
        # [..., n, num_bits]
        bits = tf.reshape(bits, tf.concat([tf.shape(bits)[:-1],
                                           [-1, self.num_bits]], 0))
        shifts = tf.range(self.num_bits - 1, -1, -1)
        q = tf.reduce_sum(tf.bitwise.left_shift(bits, shifts), axis=-1)
        return self.dequantize(q)

    def call(self, x):
        x = tf.cast(x, tf.float32)
        x_q = self.dequantize(self.indices(x))
        inside = tf.cast(tf.abs(x) <= self.clip, x.dtype)
        # Straight-through: identity gradient inside the range, 0 outside
        return x * inside + tf.stop_gradient(x_q - x * inside)

    def get_config(self):
        return {**super().get_config(), "num_bits": self.num_bits,
                "clip": self.clip}
