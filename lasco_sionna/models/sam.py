#
# SPDX-License-Identifier: Apache-2.0
#
"""Small adaptation modules (SAMs): light MLP-mixer CSI decoders"""

import keras
import tensorflow as tf

from lasco_sionna.utils.validation import check_positive


@keras.saving.register_keras_serializable(package="lasco_sionna")
class MixerSAM(keras.layers.Layer):
    # pylint: disable=line-too-long
    r"""A small MLP-mixer refining the coarse inversion (10k-200k parameters)

    Tokens are delay taps as in :class:`~lasco_sionna.models.TransformerLAM`;
    each of the ``num_layers`` blocks mixes across tokens, then across
    features (pre-norm, GELU, residual). The output head starts at zero, so
    an untrained SAM returns its input.

    Parameters
    ----------
    num_ant : `int`, (default 32)
        Angle bins

    num_taps : `int`, (default 32)
        Delay taps

    token_dim : `int`, (default 64)
        Hidden width of the token-mixing MLP

    channel_dim : `int`, (default 128)
        Hidden width of the feature-mixing MLP

    num_layers : `int`, (default 2)
        Mixer blocks

    Input
    -----
    x0 : [batch, 2, num_ant, num_taps], `tf.float32`
        Coarse CSI image

    Output
    ------
    x_hat : [batch, 2, num_ant, num_taps], `tf.float32`
        Reconstructed CSI image
    """

    def __init__(self, num_ant=32, num_taps=32, token_dim=64, channel_dim=128,
                 num_layers=2, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("num_ant", num_ant), ("num_taps", num_taps),
                            ("token_dim", token_dim),
                            ("channel_dim", channel_dim),
                            ("num_layers", num_layers)):
            check_positive(name, value, integer=True)
        self.num_ant, self.num_taps = num_ant, num_taps
        self.token_dim, self.channel_dim = token_dim, channel_dim
        self.num_layers = num_layers
        f = 2 * num_ant
        self.norms = [(keras.layers.LayerNormalization(epsilon=1e-6),
                       keras.layers.LayerNormalization(epsilon=1e-6))
                      for _ in range(num_layers)]
        self.token_mlps = [(keras.layers.Dense(token_dim, activation="gelu"),
                            keras.layers.Dense(num_taps))
                           for _ in range(num_layers)]
        self.channel_mlps = [(keras.layers.Dense(channel_dim,
                                                 activation="gelu"),
                              keras.layers.Dense(f))
                             for _ in range(num_layers)]
        self.head = keras.layers.Dense(f, kernel_initializer="zeros")
        self._f = f

    def build(self, input_shape):
        f, t = self._f, self.num_taps
        for (n1, n2), (t1, t2), (c1, c2) in zip(self.norms, self.token_mlps,
                                                self.channel_mlps):
            n1.build((None, t, f))
            n2.build((None, t, f))
            t1.build((None, f, t))
            t2.build((None, f, self.token_dim))
            c1.build((None, t, f))
            c2.build((None, t, self.channel_dim))
        self.head.build((None, t, f))
        super().build(input_shape)

    def call(self, x0):
        x0 = tf.cast(x0, tf.float32)
        # [batch, num_taps, 2, num_ant]
        h = tf.transpose(x0, [0, 3, 1, 2])
        # [batch, num_taps, 2 * num_ant]
        h = tf.reshape(h, [-1, self.num_taps, self._f])
        for (n1, n2), (t1, t2), (c1, c2) in zip(self.norms, self.token_mlps,
                                                self.channel_mlps):
            # Token mixing on [batch, 2 * num_ant, num_taps]
            u = tf.transpose(n1(h), [0, 2, 1])
            h = h + tf.transpose(t2(t1(u)), [0, 2, 1])
            h = h + c2(c1(n2(h)))
        # [batch, num_taps, 2, num_ant]
        d = tf.reshape(self.head(h), [-1, self.num_taps, 2, self.num_ant])
        # [batch, 2, num_ant, num_taps]
        return x0 + tf.transpose(d, [0, 2, 3, 1])

    def get_config(self):
        return {**super().get_config(), "num_ant": self.num_ant,
                "num_taps": self.num_taps, "token_dim": self.token_dim,
                "channel_dim": self.channel_dim,
                "num_layers": self.num_layers}
