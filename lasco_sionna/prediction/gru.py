#
# SPDX-License-Identifier: Apache-2.0
#
"""GRU predictor: one small recurrent network shared by every antenna-subcarrier entry"""

import keras
import tensorflow as tf

from lasco_sionna.prediction.base import check_history
from lasco_sionna.utils.validation import check_positive


class GRUPredictor(keras.Model):
    # pylint: disable=line-too-long
    r"""GRU channel predictor (a Keras model, usable as a layer), trained per environment

    Every antenna-subcarrier entry's history is one sequence of the same
    GRU (weights shared by all entries, so any array and bandwidth fit),
    scaled to unit RMS; a dense head predicts the change from the last
    report for each of the ``horizon`` steps (sample-and-hold at zero
    output). Train with :func:`~lasco_sionna.prediction.train_predictor`.

    Parameters
    ----------
    horizon : `int`, (default 1)
        Predicted reports, :math:`H`

    units : `int`, (default 32)
        GRU state size

    num_layers : `int`, (default 1)
        Stacked GRU layers

    kwargs :
        Keras layer arguments (``name``, ``dtype``); others raise `TypeError`

    Input
    -----
    history : [..., history_length, num_bs_ant, fft_size], `tf.complex64`
        Past reports, oldest first

    Output
    ------
    prediction : [..., horizon, num_bs_ant, fft_size], `tf.complex64`
        Predicted reports
    """

    def __init__(self, horizon=1, units=32, num_layers=1, **kwargs):
        super().__init__(**kwargs)
        check_positive("horizon", horizon, integer=True)
        check_positive("units", units, integer=True)
        check_positive("num_layers", num_layers, integer=True)
        self.horizon = int(horizon)
        self.units = int(units)
        self.num_layers = int(num_layers)
        self._grus = [keras.layers.GRU(units, return_sequences=i < num_layers - 1)
                      for i in range(num_layers)]
        self._head = keras.layers.Dense(2 * horizon, kernel_initializer="zeros")

    @property
    def min_history(self):
        """`int` : Fewest past reports needed"""
        return 1

    def get_config(self):
        return {**super().get_config(), "horizon": self.horizon,
                "units": self.units, "num_layers": self.num_layers}

    def build(self, input_shape):
        feat = (None, input_shape[-3], 2)
        for gru in self._grus:
            gru.build(feat)
            feat = (None, input_shape[-3], self.units)
        self._head.build((None, self.units))

    def call(self, history):
        history = check_history(history, self.min_history)
        shape = tf.shape(history)
        L, nt, nc = history.shape[-3:]
        # [B, L, num_bs_ant, fft_size]
        x = tf.reshape(history, [-1, L, nt, nc])
        # [B, num_bs_ant, fft_size, L]
        x = tf.transpose(x, [0, 2, 3, 1])
        # One sequence per entry: [B * num_bs_ant * fft_size, L]
        x = tf.reshape(x, [-1, L])
        # [num_seq, 1]
        scale = tf.sqrt(tf.reduce_mean(tf.abs(x) ** 2, axis=-1,
                                       keepdims=True)) + 1e-12
        xn = x / tf.cast(scale, x.dtype)
        # [num_seq, L, 2]
        feat = tf.stack([tf.math.real(xn), tf.math.imag(xn)], axis=-1)
        for gru in self._grus:
            feat = gru(feat)
        # [num_seq, horizon, 2]
        delta = tf.reshape(self._head(feat), [-1, self.horizon, 2])
        y = xn[:, -1:] + tf.complex(delta[..., 0], delta[..., 1])
        y = y * tf.cast(scale, y.dtype)
        # [B, num_bs_ant, fft_size, horizon]
        y = tf.reshape(y, [-1, nt, nc, self.horizon])
        # [B, horizon, num_bs_ant, fft_size]
        y = tf.transpose(y, [0, 3, 1, 2])
        # [..., horizon, num_bs_ant, fft_size]
        return tf.reshape(y, tf.concat([shape[:-3], [self.horizon, nt, nc]],
                                       0))
