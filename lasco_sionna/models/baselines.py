#
# SPDX-License-Identifier: Apache-2.0
#
"""Autoencoder baselines trained on target data alone: CsiNet- and CRNet-style"""

import keras
import tensorflow as tf

from lasco_sionna.models.encoder import CompressedImageLayer
from lasco_sionna.utils.validation import check_choice

ARCHITECTURES = ("csinet", "crnet")


def _conv(filters, kernel):
    return keras.layers.Conv2D(filters, kernel, padding="same")


@keras.saving.register_keras_serializable(package="lasco_sionna")
class RefineBlock(keras.layers.Layer):
    """CsiNet RefineNet block (NHWC): 8 -> 16 -> 2 filters, residual"""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.convs = [_conv(8, 3), _conv(16, 3), _conv(2, 3)]

    def build(self, input_shape):
        self.call(tf.zeros([1] + list(input_shape[1:])))
        super().build(input_shape)

    def call(self, x):
        h = x
        for i, conv in enumerate(self.convs):
            h = conv(h)
            if i < 2:
                h = tf.nn.leaky_relu(h, 0.3)
        return tf.nn.leaky_relu(h + x, 0.3)


@keras.saving.register_keras_serializable(package="lasco_sionna")
class CRBlock(keras.layers.Layer):
    """CRNet block (NHWC): two multi-resolution paths, concatenated, residual"""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.path1 = [_conv(7, 3), _conv(7, (1, 9)), _conv(7, (9, 1))]
        self.path2 = [_conv(7, (1, 5)), _conv(7, (5, 1))]
        self.fuse = _conv(2, 1)

    def build(self, input_shape):
        self.call(tf.zeros([1] + list(input_shape[1:])))
        super().build(input_shape)

    def call(self, x):
        a, b = x, x
        for conv in self.path1:
            a = tf.nn.leaky_relu(conv(a), 0.3)
        for conv in self.path2:
            b = tf.nn.leaky_relu(conv(b), 0.3)
        return tf.nn.leaky_relu(self.fuse(tf.concat([a, b], -1)) + x, 0.3)


@keras.saving.register_keras_serializable(package="lasco_sionna")
class ConvAutoencoder(CompressedImageLayer):
    # pylint: disable=line-too-long
    r"""CsiNet- or CRNet-style CSI autoencoder with a quantised bottleneck

    Both learn their own UE encoder (convolutions + a dense layer to
    ``M = 2 num_ant num_taps / compression`` values) and decoder (a dense
    layer back to the image, then refinement blocks: CsiNet's RefineNet or
    CRNet's multi-resolution blocks). The bottleneck is quantised with
    ``bits_per_measurement`` bits (straight-through), so at equal
    compression and bits the payload equals the LAM's. Outputs are linear
    (our images are zero-mean, unlike COST2100's [0, 1] images).

    Parameters
    ----------
    architecture : "csinet" (default) | "crnet"
        Model family

    num_ant : `int`, (default 32)
        Angle bins

    num_taps : `int`, (default 32)
        Delay taps

    compression : `int`, (default 16)
        Compression ratio ``1/compression``

    bits_per_measurement : `int`, (default 4)
        Quantiser bits

    clip : `float`, (default 3.0)
        Quantiser range

    Input
    -----
    x : [batch, 2, num_ant, num_taps], `tf.float32`
        Normalised real CSI images

    Output
    ------
    x_hat : [batch, 2, num_ant, num_taps], `tf.float32`
        Reconstructions through the quantised bottleneck
    """

    def __init__(self, architecture="csinet", num_ant=32, num_taps=32,
                 compression=16, bits_per_measurement=4, clip=3.0, **kwargs):
        check_choice("architecture", architecture, ARCHITECTURES)
        super().__init__(num_ant, num_taps, compression, bits_per_measurement,
                         clip, **kwargs)
        self.architecture = architecture
        if architecture == "csinet":
            self.enc_convs = [_conv(2, 3)]
            self.blocks = [RefineBlock(), RefineBlock()]
            self.head = None
        else:
            self.enc_convs = [_conv(2, 3), _conv(2, (1, 9)), _conv(2, (9, 1))]
            self.blocks = [CRBlock(), CRBlock()]
            self.head = _conv(2, 5)
        self.enc_dense = keras.layers.Dense(self.num_measurements)
        self.dec_dense = keras.layers.Dense(self.dim)

    def build(self, input_shape):
        # Build every sublayer with one forward pass on zeros
        self.call(tf.zeros([1, 2, self.num_ant, self.num_taps]))
        super().build(input_shape)

    def measure(self, x):
        """[batch, num_measurements] : Unquantised encoder output"""
        # [batch, num_ant, num_taps, 2]
        h = tf.transpose(tf.cast(x, tf.float32), [0, 2, 3, 1])
        for conv in self.enc_convs:
            h = tf.nn.leaky_relu(conv(h), 0.3)
        # [batch, dim]
        return self.enc_dense(tf.reshape(h, [-1, self.dim]))

    def reconstruct(self, z):
        """[batch, 2, num_ant, num_taps] : Decoder output for bottleneck ``z``"""
        # [batch, num_ant, num_taps, 2]
        h = tf.reshape(self.dec_dense(z), [-1, self.num_ant, self.num_taps,
                                           2])
        if self.head is not None:
            h = tf.nn.leaky_relu(self.head(h), 0.3)
        for block in self.blocks:
            h = block(h)
        # [batch, 2, num_ant, num_taps]
        return tf.transpose(h, [0, 3, 1, 2])

    def decode(self, bits):
        """[batch, num_measurements] : Dequantised bottleneck (BS side)"""
        return self.quantizer.from_bits(bits)

    def call(self, x):
        return self.reconstruct(self.quantizer(self.measure(x)))

    def get_config(self):
        return {**super().get_config(), "architecture": self.architecture,
                "num_ant": self.num_ant, "num_taps": self.num_taps,
                "compression": self.compression,
                "bits_per_measurement": self.quantizer.num_bits,
                "clip": self.quantizer.clip}
